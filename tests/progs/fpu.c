/* FPU/SIMD state survives a checkpoint: an asm spin loop keeps distinctive
 * values in ymm0..ymm15 (full 256 bits) and in 7 x87 stack registers and
 * compares them with the reference every iteration; most of the time is spent
 * inside the loop, so the checkpoint nearly always interrupts it.  Plus the
 * x87 control word and MXCSR set to non-default values (checked inside the
 * loop and from C). */
// crest-test: mode=cr
#include "t.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FCW 0x0f7f   /* all exceptions masked, 64-bit precision, round toward zero */
#define MXCSR 0x7f80 /* all exceptions masked, round toward zero (FZ/DAZ off) */

struct ref {
	unsigned char ymm[16][32];
	long double x87[7];      /* 80-bit values in 16-byte slots */
	uint64_t scratch[4];
	uint32_t fcw, mxcsr;     /* expected */
	uint32_t fcw_now, mxcsr_now;
} __attribute__((aligned(64)));

struct st {
	struct ref *r;
	uint64_t iters, runs, bad_runs, bad_mask;
	int64_t max_run_ns;
};

/* offsets in struct ref, checked by _Static_assert below */
#define O_X87 512
#define O_SCR 624
#define O_FCW 656
#define O_MXCSR 660
#define O_FCW_NOW 664
#define O_MXCSR_NOW 668

/* compare ymm<i> with ref->ymm[i]: set bit i of mask on mismatch */
#define S_(x) #x
#define S(x) S_(x)
#define YCHK(i)                                               \
	"vmovdqu %%ymm" S(i) ", " S(O_SCR) "(%[r])\n\t"      \
	"movq " S(O_SCR) "(%[r]), %%rax\n\t"                 \
	"xorq " S(i) "*32+0(%[r]), %%rax\n\t"                \
	"movq " S(O_SCR) "+8(%[r]), %%r8\n\t"                \
	"xorq " S(i) "*32+8(%[r]), %%r8\n\t"                 \
	"orq %%r8, %%rax\n\t"                                \
	"movq " S(O_SCR) "+16(%[r]), %%r8\n\t"               \
	"xorq " S(i) "*32+16(%[r]), %%r8\n\t"                \
	"orq %%r8, %%rax\n\t"                                \
	"movq " S(O_SCR) "+24(%[r]), %%r8\n\t"               \
	"xorq " S(i) "*32+24(%[r]), %%r8\n\t"                \
	"orq %%r8, %%rax\n\t"                                \
	"jz 2f\n\t"                                          \
	"btsq $" S(i) ", %[mask]\n\t"                        \
	"2:\n\t"
/* compare st(i) (all 80 bits) with ref->x87[6 - i]: bit 32 + i */
#define XCHK(i)                                               \
	"fld %%st(" S(i) ")\n\t"                             \
	"fstpt " S(O_SCR) "(%[r])\n\t"                       \
	"movq " S(O_SCR) "(%[r]), %%rax\n\t"                 \
	"xorq " S(O_X87) "+16*(6-" S(i) ")(%[r]), %%rax\n\t" \
	"movzwl " S(O_SCR) "+8(%[r]), %%r8d\n\t"             \
	"xorw " S(O_X87) "+16*(6-" S(i) ")+8(%[r]), %%r8w\n\t" \
	"orq %%r8, %%rax\n\t"                                \
	"jz 2f\n\t"                                          \
	"btsq $32+" S(i) ", %[mask]\n\t"                     \
	"2:\n\t"

static uint64_t spin(struct ref *r, uint64_t iters)
{
	uint64_t mask = 0, cnt = iters;

	_Static_assert(__builtin_offsetof(struct ref, x87) == O_X87, "layout");
	_Static_assert(__builtin_offsetof(struct ref, scratch) == O_SCR, "layout");
	_Static_assert(__builtin_offsetof(struct ref, fcw) == O_FCW, "layout");
	_Static_assert(__builtin_offsetof(struct ref, mxcsr) == O_MXCSR, "layout");
	_Static_assert(__builtin_offsetof(struct ref, fcw_now) == O_FCW_NOW, "layout");
	_Static_assert(__builtin_offsetof(struct ref, mxcsr_now) == O_MXCSR_NOW, "layout");
	__asm__ volatile(
		"vmovdqu 0*32(%[r]), %%ymm0\n\t"
		"vmovdqu 1*32(%[r]), %%ymm1\n\t"
		"vmovdqu 2*32(%[r]), %%ymm2\n\t"
		"vmovdqu 3*32(%[r]), %%ymm3\n\t"
		"vmovdqu 4*32(%[r]), %%ymm4\n\t"
		"vmovdqu 5*32(%[r]), %%ymm5\n\t"
		"vmovdqu 6*32(%[r]), %%ymm6\n\t"
		"vmovdqu 7*32(%[r]), %%ymm7\n\t"
		"vmovdqu 8*32(%[r]), %%ymm8\n\t"
		"vmovdqu 9*32(%[r]), %%ymm9\n\t"
		"vmovdqu 10*32(%[r]), %%ymm10\n\t"
		"vmovdqu 11*32(%[r]), %%ymm11\n\t"
		"vmovdqu 12*32(%[r]), %%ymm12\n\t"
		"vmovdqu 13*32(%[r]), %%ymm13\n\t"
		"vmovdqu 14*32(%[r]), %%ymm14\n\t"
		"vmovdqu 15*32(%[r]), %%ymm15\n\t"
		"fldt " S(O_X87) "+0*16(%[r])\n\t"
		"fldt " S(O_X87) "+1*16(%[r])\n\t"
		"fldt " S(O_X87) "+2*16(%[r])\n\t"
		"fldt " S(O_X87) "+3*16(%[r])\n\t"
		"fldt " S(O_X87) "+4*16(%[r])\n\t"
		"fldt " S(O_X87) "+5*16(%[r])\n\t"
		"fldt " S(O_X87) "+6*16(%[r])\n\t"
		"1:\n\t"
		YCHK(0) YCHK(1) YCHK(2) YCHK(3) YCHK(4) YCHK(5) YCHK(6) YCHK(7)
		YCHK(8) YCHK(9) YCHK(10) YCHK(11) YCHK(12) YCHK(13) YCHK(14) YCHK(15)
		XCHK(0) XCHK(1) XCHK(2) XCHK(3) XCHK(4) XCHK(5) XCHK(6)
		"fnstcw " S(O_FCW_NOW) "(%[r])\n\t"
		"movzwl " S(O_FCW_NOW) "(%[r]), %%eax\n\t"
		"cmpl " S(O_FCW) "(%[r]), %%eax\n\t"
		"je 2f\n\t"
		"btsq $48, %[mask]\n\t"
		"2:\n\t"
		"stmxcsr " S(O_MXCSR_NOW) "(%[r])\n\t"
		"movl " S(O_MXCSR_NOW) "(%[r]), %%eax\n\t"
		"andl $0xffc0, %%eax\n\t" /* ignore the sticky exception flags */
		"cmpl " S(O_MXCSR) "(%[r]), %%eax\n\t"
		"je 2f\n\t"
		"btsq $49, %[mask]\n\t"
		"2:\n\t"
		"decq %[cnt]\n\t"
		"jnz 1b\n\t"
		"fstp %%st(0)\n\tfstp %%st(0)\n\tfstp %%st(0)\n\tfstp %%st(0)\n\t"
		"fstp %%st(0)\n\tfstp %%st(0)\n\tfstp %%st(0)\n\t"
		"vzeroupper\n\t"
		: [mask] "+m"(mask), [cnt] "+c"(cnt)
		: [r] "r"(r)
		: "rax", "r8", "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",
		  "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
		  "xmm15");
	return mask;
}

static void work(void *arg)
{
	struct st *s = arg;
	int64_t t0 = t_now_ns(CLOCK_MONOTONIC), dt;
	uint64_t m = spin(s->r, s->iters);

	dt = t_now_ns(CLOCK_MONOTONIC) - t0;
	if (dt > s->max_run_ns)
		s->max_run_ns = dt;
	s->runs++;
	if (m) {
		if (!s->bad_runs)
			s->bad_mask = m;
		s->bad_runs++;
	}
}

static void get_ctl(uint16_t *fcw, uint32_t *mxcsr)
{
	__asm__ volatile("fnstcw %0" : "=m"(*fcw));
	__asm__ volatile("stmxcsr %0" : "=m"(*mxcsr));
}

static int check(void *arg)
{
	struct st *s = arg;
	uint16_t fcw;
	uint32_t mxcsr;

	get_ctl(&fcw, &mxcsr);
	if (fcw != FCW)
		t_fail("x87 control word 0x%04x, want 0x%04x", fcw, FCW);
	if ((mxcsr & 0xffc0) != MXCSR)
		t_fail("MXCSR 0x%08x, want 0x%08x", mxcsr, MXCSR);
	if (s->bad_runs)
		t_fail("%llu of %llu spin runs saw a register change (mask 0x%llx: bits 0-15 "
		       "ymm0-15, 32-38 st(0)-st(6), 48 FCW, 49 MXCSR)",
		       (unsigned long long)s->bad_runs, (unsigned long long)s->runs,
		       (unsigned long long)s->bad_mask);
	t_log("runs %llu, longest %lld ms%s", (unsigned long long)s->runs,
	      (long long)(s->max_run_ns / 1000000),
	      s->max_run_ns > 200000000 ? ": a checkpoint hit the asm loop" : "");
	return 0;
}

int main(int argc, char **argv)
{
	static struct ref r;
	static struct st s;
	uint64_t seed = 0xf9f9;
	int64_t t0, dt;
	uint16_t fcw = FCW;
	uint32_t mxcsr = MXCSR;

	t_init(argc, argv);
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx"))
		t_die("this CPU has no AVX: the test needs ymm registers");
	for (int i = 0; i < 16; i++)
		for (int k = 0; k < 32; k += 8) {
			uint64_t v = t_rand(&seed);

			memcpy(&r.ymm[i][k], &v, 8);
		}
	for (int i = 0; i < 7; i++)
		r.x87[i] = 1.0L / (i + 3) + 1000.0L * i; /* all 64 mantissa bits used */
	r.fcw = FCW;
	r.mxcsr = MXCSR;
	__asm__ volatile("fldcw %0" ::"m"(fcw));
	__asm__ volatile("ldmxcsr %0" ::"m"(mxcsr));
	s.r = &r;

	t0 = t_now_ns(CLOCK_MONOTONIC);
	if (spin(&r, 100000))
		t_die("register mismatch before any checkpoint (mask 0x%llx): the test is broken",
		      (unsigned long long)spin(&r, 1));
	dt = t_now_ns(CLOCK_MONOTONIC) - t0;
	s.iters = (uint64_t)(100000 * (30000000 / (dt > 0 ? dt : 1)));
	if (s.iters < 1000)
		s.iters = 1000;
	t_set_work(work, &s);
	t_run(check, &s);
}
