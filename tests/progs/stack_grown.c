/* The main stack grown by ~2 MiB through recursion; the test loop runs at the
 * bottom of the recursion, so every frame (with its data) is live across the
 * checkpoint.  After restore: the frames hold their data, the [stack] VMA is
 * still VM_GROWSDOWN ("gd" in smaps) and can grow further. */
// crest-test: mode=cr
#include "t.h"

#include <stdio.h>
#include <string.h>

#define FRAME (64 * 1024)
#define DEPTH 32 /* 2 MiB */

struct st {
	unsigned char *frames[DEPTH];
	uint64_t sums[DEPTH];
};
static struct st S;

/* VmFlags of the mapping that contains addr; "" if not found */
static int vma_of(unsigned long addr, unsigned long *lo, char *flags, size_t fsz)
{
	char line[512];
	FILE *f = fopen("/proc/self/smaps", "re");
	int in = 0, ret = -1;

	flags[0] = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		char perm[8];

		if (sscanf(line, "%lx-%lx %7s", &s, &e, perm) == 3 && strlen(perm) == 4) {
			in = addr >= s && addr < e;
			if (in)
				*lo = s;
			continue;
		}
		if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(flags, fsz, "%s", line + 8);
			flags[strcspn(flags, "\n")] = 0;
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* Recurse n more frames of 16 KiB below the current point, touching them. */
static __attribute__((noinline)) int grow_more(int n)
{
	volatile unsigned char buf[16384];

	buf[0] = (unsigned char)n;
	buf[sizeof(buf) - 1] = (unsigned char)n;
	if (n > 0)
		return grow_more(n - 1) + buf[0];
	return buf[sizeof(buf) - 1];
}

static int check(void *arg)
{
	char flags[512];
	unsigned long lo = 0;

	for (int i = 0; i < DEPTH; i++) {
		long bad = t_verify_fill(S.frames[i], FRAME, 0x57ac ^ (uint64_t)i);

		if (bad >= 0 || t_hash(S.frames[i], FRAME) != S.sums[i])
			t_fail("stack frame %d at %p: byte %ld differs", i, (void *)S.frames[i], bad);
	}
	if (vma_of((unsigned long)S.frames[DEPTH - 1], &lo, flags, sizeof(flags))) {
		t_fail("no mapping in smaps for the deepest frame %p", (void *)S.frames[DEPTH - 1]);
		return -1;
	}
	if (!strstr(flags, " gd")) {
		t_fail("the stack VMA at 0x%lx is no longer growsdown (VmFlags:%s)", lo, flags);
		return -1;
	}
	/* grow further than the VMA currently reaches: 512 KiB more */
	if (grow_more(32) < 0)
		t_fail("impossible");
	return 0;
}

static __attribute__((noinline)) void recurse(int d)
{
	unsigned char buf[FRAME];

	t_fill(buf, FRAME, 0x57ac ^ (uint64_t)d);
	S.frames[d] = buf;
	S.sums[d] = t_hash(buf, FRAME);
	if (d + 1 < DEPTH) {
		recurse(d + 1);
	} else {
		/* through a pointer: gcc would call the recursion infinite */
		void (*volatile run)(t_check_fn, void *) = t_run;

		run(check, NULL);
	}
	__asm__ volatile("" ::"r"(buf) : "memory");
}

int main(int argc, char **argv)
{
	t_init(argc, argv);
	recurse(0);
	return 1;
}
