/* The heap grown with sbrk by 4 MiB, filled with data: after restore the
 * data is there, sbrk(0) and start_brk are unchanged, brk can still move,
 * and malloc still works. */
// crest-test: mode=cr
#include "t.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GROW (4UL << 20)
#define SEED 0xb7c0ffeeULL

struct st {
	unsigned char *base;
	void *brk_end;          /* sbrk(0) at the end of the last check */
	unsigned long start_brk;
	uint64_t sum;
};

/* field 47 of /proc/self/stat: start_brk */
static unsigned long start_brk(void)
{
	char buf[2048], *p;
	long n = t_read_file("/proc/self/stat", buf, sizeof(buf));
	unsigned long v = 0;

	(void)n;
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	p += 2; /* field 3 */
	for (int f = 3; f < 47 && p; f++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (p)
		v = strtoul(p, NULL, 10);
	return v;
}

static int check(void *arg)
{
	struct st *s = arg;
	void *cur = sbrk(0), *moved;
	unsigned long sb = start_brk();
	char *m;

	if (cur != s->brk_end)
		t_fail("sbrk(0) is %p, want %p", cur, s->brk_end);
	if (sb != s->start_brk)
		t_fail("start_brk is 0x%lx, want 0x%lx", sb, s->start_brk);
	if (t_verify_fill(s->base, GROW, SEED) >= 0 || t_hash(s->base, GROW) != s->sum)
		t_fail("heap data differs");
	/* the break can still move */
	if (sbrk(65536) == (void *)-1) {
		t_fail("sbrk(+64K): %s", strerror(errno));
	} else {
		moved = sbrk(0);
		if ((char *)moved != (char *)cur + 65536)
			t_fail("sbrk(+64K) moved the break to %p, want %p", moved, (char *)cur + 65536);
		else
			memset(cur, 0x5c, 65536);
		if (sbrk(-65536) == (void *)-1)
			t_fail("sbrk(-64K): %s", strerror(errno));
	}
	/* malloc: small and large blocks */
	for (int i = 0; i < 64; i++) {
		size_t sz = i % 8 == 7 ? (size_t)1 << 20 : (size_t)(i * 37 + 16);

		m = malloc(sz);
		if (!m) {
			t_fail("malloc(%zu) failed", sz);
			break;
		}
		memset(m, i, sz);
		free(m);
	}
	s->brk_end = sbrk(0);
	return 0;
}

int main(int argc, char **argv)
{
	static struct st s;
	void *p;

	t_init(argc, argv);
	free(malloc(100)); /* the malloc arena exists before our part */
	p = sbrk((intptr_t)GROW);
	if (p == (void *)-1)
		t_die("sbrk: %s", strerror(errno));
	s.base = p;
	t_fill(s.base, GROW, SEED);
	s.sum = t_hash(s.base, GROW);
	s.start_brk = start_brk();
	if (!s.start_brk)
		t_die("cannot read start_brk from /proc/self/stat");
	s.brk_end = sbrk(0);
	t_run(check, &s);
}
