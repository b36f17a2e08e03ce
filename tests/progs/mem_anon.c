/* Anonymous private memory: two RW regions with PROT_NONE guard pages around
 * them (one reservation, mprotect()ed in parts), every other page written
 * with a distinctive pattern and the others never touched (they must still
 * be absent after restore: pagemap "present" and "swapped" bits clear), and,
 * if the kernel has it, a MADV_GUARD_INSTALL guard range inside a third RW
 * region (accesses to it must still fail after restore). */
// crest-test: mode=cr
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define NPAGES 64 /* per RW region */

struct st {
	size_t ps;
	unsigned char *base;    /* [guard][A: NPAGES][guard][B: NPAGES][guard] */
	unsigned char *a, *b;
	unsigned char *g;       /* [C: 16 pages], pages 4..7 MADV_GUARD_INSTALL */
	int have_guard_madv;
	uint64_t sum_a, sum_b, sum_c;
};

static uint64_t seed_of(int region, size_t page)
{
	return 0x6d656d616e6f6eULL ^ ((uint64_t)region << 40) ^ page;
}

/* 1 if the byte at p can be read (no fault), 0 if EFAULT. */
static int readable(const void *p)
{
	char c;
	struct iovec l = { &c, 1 }, r = { (void *)p, 1 };
	ssize_t n = process_vm_readv(getpid(), &l, 1, &r, 1, 0);

	return n == 1;
}

/* pagemap entry for the page at p, or ~0 on error */
static uint64_t pagemap(const void *p, size_t ps)
{
	uint64_t e;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ~0ULL;
	if (pread(fd, &e, 8, (off_t)((uintptr_t)p / ps * 8)) != 8)
		e = ~0ULL;
	close(fd);
	return e;
}

/* "rw-p" etc. of the mapping that contains p, from /proc/self/maps */
static int perms_at(const void *p, char out[5])
{
	static char buf[1 << 16];
	long n = 0;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	out[0] = 0;
	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - (size_t)n);

		if (r <= 0)
			break;
		n += r;
	}
	close(fd);
	buf[n] = 0;
	for (char *l = buf; l && *l;) {
		unsigned long s, e;
		char perm[5];

		if (sscanf(l, "%lx-%lx %4s", &s, &e, perm) == 3 && (uintptr_t)p >= s &&
		    (uintptr_t)p < e) {
			memcpy(out, perm, 5);
			return 0;
		}
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	return -1;
}

static void check_region(struct st *s, const char *name, int region, unsigned char *r,
			 uint64_t want_sum)
{
	uint64_t sum = 0;
	char perm[5];

	if (perms_at(r, perm) || strcmp(perm, "rw-p"))
		t_fail("region %s at %p: maps perms '%s', want rw-p", name, (void *)r, perm);
	for (size_t i = 0; i < NPAGES; i++) {
		unsigned char *pg = r + i * s->ps;

		if (i % 2 == 0) {
			long bad = t_verify_fill(pg, s->ps, seed_of(region, i));

			if (bad >= 0)
				t_fail("region %s page %zu: byte %ld differs (0x%02x)", name, i, bad,
				       pg[bad]);
			sum ^= t_hash(pg, s->ps) + i;
		} else {
			/* never touched: must not have been populated (do not read it) */
			uint64_t e = pagemap(pg, s->ps);

			if (e == ~0ULL)
				t_fail("region %s page %zu: cannot read pagemap", name, i);
			else if (e & (3ULL << 62))
				t_fail("region %s page %zu was never touched but is %s "
				       "(pagemap 0x%016" PRIx64 ")",
				       name, i, (e >> 63) ? "present" : "swapped", e);
		}
	}
	if (sum != want_sum)
		t_fail("region %s: checksum 0x%" PRIx64 ", want 0x%" PRIx64, name, sum, want_sum);
}

static void check_guard_page(struct st *s, unsigned char *p, const char *what)
{
	char perm[5];

	if (perms_at(p, perm) || strcmp(perm, "---p"))
		t_fail("%s guard page at %p: maps perms '%s', want ---p", what, (void *)p, perm);
	if (readable(p))
		t_fail("%s guard page at %p is readable", what, (void *)p);
}

static int check(void *arg)
{
	struct st *s = arg;
	size_t ps = s->ps;

	check_guard_page(s, s->base, "leading");
	check_guard_page(s, s->a + NPAGES * ps, "middle");
	check_guard_page(s, s->b + NPAGES * ps, "trailing");
	check_region(s, "A", 1, s->a, s->sum_a);
	check_region(s, "B", 2, s->b, s->sum_b);

	/* region C: 16 pages all written, pages 4..7 guard-installed */
	uint64_t sum = 0;

	for (size_t i = 0; i < 16; i++) {
		unsigned char *pg = s->g + i * ps;

		if (s->have_guard_madv && i >= 4 && i < 8) {
			if (readable(pg))
				t_fail("region C page %zu: MADV_GUARD_INSTALL guard lost (readable)", i);
			continue;
		}
		if (t_verify_fill(pg, ps, seed_of(3, i)) >= 0)
			t_fail("region C page %zu: content differs", i);
		sum ^= t_hash(pg, ps) + i;
	}
	if (sum != s->sum_c)
		t_fail("region C: checksum differs");
	return 0;
}

int main(int argc, char **argv)
{
	static struct st s;
	size_t ps, total;

	t_init(argc, argv);
	s.ps = ps = t_page_size();
	total = (3 + 2 * NPAGES) * ps;
	s.base = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s.base == MAP_FAILED)
		t_die("mmap: %s", strerror(errno));
	s.a = s.base + ps;
	s.b = s.a + (NPAGES + 1) * ps;
	if (mprotect(s.a, NPAGES * ps, PROT_READ | PROT_WRITE) ||
	    mprotect(s.b, NPAGES * ps, PROT_READ | PROT_WRITE))
		t_die("mprotect: %s", strerror(errno));
	for (size_t i = 0; i < NPAGES; i += 2) {
		t_fill(s.a + i * ps, ps, seed_of(1, i));
		t_fill(s.b + i * ps, ps, seed_of(2, i));
		s.sum_a ^= t_hash(s.a + i * ps, ps) + i;
		s.sum_b ^= t_hash(s.b + i * ps, ps) + i;
	}

	s.g = mmap(NULL, 16 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s.g == MAP_FAILED)
		t_die("mmap: %s", strerror(errno));
	for (size_t i = 0; i < 16; i++)
		t_fill(s.g + i * ps, ps, seed_of(3, i));
	if (madvise(s.g + 4 * ps, 4 * ps, MADV_GUARD_INSTALL) == 0) {
		s.have_guard_madv = 1;
	} else {
		t_log("MADV_GUARD_INSTALL not supported (%s): skipping that part", strerror(errno));
	}
	for (size_t i = 0; i < 16; i++)
		if (!(s.have_guard_madv && i >= 4 && i < 8))
			s.sum_c ^= t_hash(s.g + i * ps, ps) + i;
	t_run(check, &s);
}
