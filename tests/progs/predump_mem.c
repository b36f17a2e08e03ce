/* Memory that keeps changing, for pre-dump chains: every loop iteration
 * rewrites random pages of a 16 MiB region (each page's content follows
 * from a seed the program keeps), now and then drops one (MADV_DONTNEED:
 * it must read zero), writes or drops copied-on-write pages of a private
 * file mapping (a dropped one reads the file again), replaces one of eight
 * small mappings by a new one at the same address (munmap + mmap) and
 * grows one mapping with mremap (it may move).  The check verifies every
 * page against the seeds.  A round of the chain that misses a write, or a
 * page written between rounds, shows as a page that differs.
 * The argument "slow" lowers the write rate (for the benchmark-like runs).
 */
// crest-test: mode=case
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define A_PAGES 4096
#define F_PAGES 64
#define S_MAPS 8
#define S_PAGES 4
#define G_MAX 256

struct st {
	size_t ps;
	unsigned char *a;
	uint64_t a_seed[A_PAGES];          /* 0: dropped, reads zero */
	unsigned char *f;                  /* private mapping of file "pmfile" */
	uint64_t f_seed[F_PAGES];          /* 0: the file's own page */
	unsigned char *s[S_MAPS];
	uint64_t s_seed[S_MAPS];
	unsigned char *g;                  /* grows with mremap */
	size_t g_pages;
	uint64_t g_seed;
	uint64_t rng;
	unsigned long iter;
	int per_iter;
};

static uint64_t file_seed(size_t i)
{
	return 0x66696c65ULL + i;
}

static void fill_pages(unsigned char *p, size_t n, size_t ps, uint64_t seed)
{
	for (size_t i = 0; i < n; i++)
		t_fill(p + i * ps, ps, seed + i);
}

static void work(void *arg)
{
	struct st *s = arg;
	size_t ps = s->ps;

	s->iter++;
	for (int k = 0; k < s->per_iter; k++) {
		size_t i = t_rand(&s->rng) % A_PAGES;
		s->a_seed[i] = t_rand(&s->rng) | 1;
		t_fill(s->a + i * ps, ps, s->a_seed[i]);
	}
	if (s->iter % 3 == 0) {
		size_t i = t_rand(&s->rng) % A_PAGES;
		madvise(s->a + i * ps, ps, MADV_DONTNEED);
		s->a_seed[i] = 0;
	}
	if (s->iter % 2 == 0) {
		size_t i = t_rand(&s->rng) % F_PAGES;
		if (s->f_seed[i] && t_rand(&s->rng) % 2) {
			madvise(s->f + i * ps, ps, MADV_DONTNEED);
			s->f_seed[i] = 0;
		} else {
			s->f_seed[i] = t_rand(&s->rng) | 1;
			t_fill(s->f + i * ps, ps, s->f_seed[i]);
		}
	}
	if (s->iter % 5 == 0) {
		size_t i = t_rand(&s->rng) % S_MAPS;
		munmap(s->s[i], S_PAGES * ps);
		if (mmap(s->s[i], S_PAGES * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
			 0) != s->s[i])
			t_die("mmap again: %s", strerror(errno));
		s->s_seed[i] = t_rand(&s->rng);
		fill_pages(s->s[i], S_PAGES, ps, s->s_seed[i]);
	}
	if (s->iter % 7 == 0 && s->g_pages < G_MAX) {
		unsigned char *n = mremap(s->g, s->g_pages * ps, (s->g_pages + 4) * ps, MREMAP_MAYMOVE);
		if (n == MAP_FAILED)
			t_die("mremap: %s", strerror(errno));
		s->g = n;
		fill_pages(s->g + s->g_pages * ps, 4, ps, s->g_seed + s->g_pages);
		s->g_pages += 4;
	}
}

static int check(void *arg)
{
	struct st *s = arg;
	size_t ps = s->ps, bad = 0;
	static unsigned char zero[65536];

	for (size_t i = 0; i < A_PAGES; i++) {
		unsigned char *p = s->a + i * ps;
		if (s->a_seed[i] ? t_verify_fill(p, ps, s->a_seed[i]) >= 0 : memcmp(p, zero, ps) != 0) {
			if (bad++ < 5)
				t_fail("region A page %zu differs (seed %#llx)", i, (unsigned long long)s->a_seed[i]);
		}
	}
	for (size_t i = 0; i < F_PAGES; i++) {
		uint64_t seed = s->f_seed[i] ? s->f_seed[i] : file_seed(i);
		if (t_verify_fill(s->f + i * ps, ps, seed) >= 0 && bad++ < 10)
			t_fail("file mapping page %zu differs (%s)", i, s->f_seed[i] ? "written" : "the file's");
	}
	for (size_t i = 0; i < S_MAPS; i++)
		for (size_t j = 0; j < S_PAGES; j++)
			if (t_verify_fill(s->s[i] + j * ps, ps, s->s_seed[i] + j) >= 0 && bad++ < 15)
				t_fail("small mapping %zu page %zu differs", i, j);
	for (size_t j = 0; j < s->g_pages; j++)
		if (t_verify_fill(s->g + j * ps, ps, s->g_seed + j) >= 0 && bad++ < 20)
			t_fail("grown mapping page %zu of %zu differs", j, s->g_pages);
	if (bad)
		t_fail("%zu pages differ", bad);
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	static struct st s;
	size_t ps;
	int fd;

	t_init(argc, argv);
	s.ps = ps = t_page_size();
	s.rng = 0x7072656475ULL;
	s.per_iter = argc > 1 && !strcmp(argv[1], "slow") ? 4 : 64;
	s.a = mmap(NULL, A_PAGES * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s.a == MAP_FAILED)
		t_die("mmap: %s", strerror(errno));
	for (size_t i = 0; i < A_PAGES; i++) {
		s.a_seed[i] = t_rand(&s.rng) | 1;
		t_fill(s.a + i * ps, ps, s.a_seed[i]);
	}
	/* the file: each page from file_seed(i) */
	unsigned char *buf = malloc(ps);
	fd = open("pmfile", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !buf)
		t_die("pmfile: %s", strerror(errno));
	for (size_t i = 0; i < F_PAGES; i++) {
		t_fill(buf, ps, file_seed(i));
		if (write(fd, buf, ps) != (ssize_t)ps)
			t_die("write pmfile: %s", strerror(errno));
	}
	free(buf);
	s.f = mmap(NULL, F_PAGES * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (s.f == MAP_FAILED)
		t_die("mmap pmfile: %s", strerror(errno));
	for (size_t i = 0; i < S_MAPS; i++) {
		/* apart from each other: a guard page between */
		s.s[i] = mmap(NULL, (S_PAGES + 1) * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (s.s[i] == MAP_FAILED)
			t_die("mmap: %s", strerror(errno));
		munmap(s.s[i] + S_PAGES * ps, ps);
		s.s_seed[i] = t_rand(&s.rng);
		fill_pages(s.s[i], S_PAGES, ps, s.s_seed[i]);
	}
	s.g_pages = 4;
	s.g_seed = 0x67726f77ULL << 16;
	s.g = mmap(NULL, s.g_pages * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s.g == MAP_FAILED)
		t_die("mmap: %s", strerror(errno));
	fill_pages(s.g, s.g_pages, ps, s.g_seed);
	t_set_work(work, &s);
	t_run(check, &s);
}
