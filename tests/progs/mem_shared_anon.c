/* MAP_SHARED|MAP_ANONYMOUS memory with data: content survives and the
 * mapping is still shared memory (rw-s; MADV_DONTNEED keeps the data, which
 * it would not for a private mapping). */
// crest-test: mode=cr
#include "t.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define NP 32
#define SEED 0x5a5a11ULL

struct st {
	size_t ps;
	unsigned char *p;
	uint64_t sum;
};

static int check(void *arg)
{
	struct st *s = arg;
	size_t len = NP * s->ps;
	char line[600];
	int seen = 0;
	FILE *f = fopen("/proc/self/maps", "re");

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		char perm[8];

		if (sscanf(line, "%lx-%lx %7s", &a, &b, perm) == 3 && a <= (unsigned long)s->p &&
		    (unsigned long)s->p < b) {
			seen = 1;
			line[strcspn(line, "\n")] = 0;
			if (strcmp(perm, "rw-s"))
				t_fail("mapping is now '%s', want rw-s", line);
			if (b - a < len || a != (unsigned long)s->p)
				t_fail("mapping is now '%s', want %p + %zu", line, (void *)s->p, len);
		}
	}
	if (f)
		fclose(f);
	if (!seen)
		t_fail("the shared mapping at %p is gone", (void *)s->p);
	if (t_verify_fill(s->p, len, SEED) >= 0 || t_hash(s->p, len) != s->sum) {
		t_fail("content differs");
		return -1;
	}
	/* shared memory keeps its pages across MADV_DONTNEED */
	if (madvise(s->p, s->ps, MADV_DONTNEED))
		t_fail("madvise: %s", strerror(errno));
	else if (t_verify_fill(s->p, s->ps, SEED) >= 0)
		t_fail("page 0 lost its data after MADV_DONTNEED: not shared memory any more");
	return 0;
}

int main(int argc, char **argv)
{
	static struct st s;

	t_init(argc, argv);
	s.ps = t_page_size();
	s.p = mmap(NULL, NP * s.ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s.p == MAP_FAILED)
		t_die("mmap: %s", strerror(errno));
	t_fill(s.p, NP * s.ps, SEED);
	s.sum = t_hash(s.p, NP * s.ps);
	t_run(check, &s);
}
