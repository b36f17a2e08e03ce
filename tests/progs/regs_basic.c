/* General registers survive a checkpoint: an asm spin loop keeps known values
 * in rbx, rsi, rdi, rdx, r8..r15 and compares them against
 * immediates on every iteration; most of the time is spent inside the loop,
 * so the checkpoint nearly always interrupts it.  Also checks rflags.DF = 0
 * is kept and that the spin loop did run across the dump (a loop run that
 * took much longer than calibrated). */
// crest-test: mode=cr
#include "t.h"

#include <stdint.h>
#include <stdio.h>

struct st {
	uint64_t iters;     /* calibrated: ~30 ms of spinning */
	uint64_t runs, bad_runs;
	uint64_t bad_mask;  /* which register mismatched (first bad run) */
	int64_t max_run_ns, calib_ns;
};

/* Returns 0 or a bit mask of the registers that lost their value. */
static uint64_t spin(uint64_t iters)
{
	uint64_t mask = 0, cnt = iters;

	__asm__ volatile(
		"movabs $0x1111111111111111, %%rbx\n\t"
		"movabs $0x2222222222222202, %%rsi\n\t"
		"movabs $0x3333333333333303, %%rdi\n\t"
		"movabs $0x4444444444444404, %%rdx\n\t"
		"movabs $0x8888888888888808, %%r8\n\t"
		"movabs $0x9999999999999909, %%r9\n\t"
		"movabs $0xaaaaaaaaaaaaaa0a, %%r10\n\t"
		"movabs $0xbbbbbbbbbbbbbb0b, %%r11\n\t"
		"movabs $0xcccccccccccccc0c, %%r12\n\t"
		"movabs $0xdddddddddddddd0d, %%r13\n\t"
		"movabs $0xeeeeeeeeeeeeee0e, %%r14\n\t"
		"movabs $0x0f0f0f0f0f0f0f0f, %%r15\n\t"
		"xorl %%eax, %%eax\n\t"
		"1:\n\t"
#define CHK(reg, imm, bit)                                  \
		"movabs $" imm ", %%rax\n\t"                \
		"cmpq %%rax, %%" reg "\n\t"                 \
		"je 2f\n\t"                                 \
		"btsq $" bit ", %[mask]\n\t"                \
		"2:\n\t"
		CHK("rbx", "0x1111111111111111", "0")
		CHK("rsi", "0x2222222222222202", "1")
		CHK("rdi", "0x3333333333333303", "2")
		CHK("rdx", "0x4444444444444404", "3")
		CHK("r8", "0x8888888888888808", "8")
		CHK("r9", "0x9999999999999909", "9")
		CHK("r10", "0xaaaaaaaaaaaaaa0a", "10")
		CHK("r11", "0xbbbbbbbbbbbbbb0b", "11")
		CHK("r12", "0xcccccccccccccc0c", "12")
		CHK("r13", "0xdddddddddddddd0d", "13")
		CHK("r14", "0xeeeeeeeeeeeeee0e", "14")
		CHK("r15", "0x0f0f0f0f0f0f0f0f", "15")
#undef CHK
		/* direction flag must stay clear */
		"leaq -128(%%rsp), %%rsp\n\t" /* skip the red zone */
		"pushfq\n\t"
		"popq %%rax\n\t"
		"leaq 128(%%rsp), %%rsp\n\t"
		"btq $10, %%rax\n\t"
		"jnc 3f\n\t"
		"btsq $20, %[mask]\n\t"
		"3:\n\t"
		"decq %[cnt]\n\t"
		"jnz 1b\n\t"
		: [mask] "+m"(mask), [cnt] "+c"(cnt)
		:
		: "rax", "rbx", "rsi", "rdi", "rdx", "r8", "r9", "r10", "r11", "r12", "r13",
		  "r14", "r15", "cc", "memory");
	return mask;
}

static void work(void *arg)
{
	struct st *s = arg;
	int64_t t0 = t_now_ns(CLOCK_MONOTONIC), dt;
	uint64_t m = spin(s->iters);

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

static int check(void *arg)
{
	struct st *s = arg;

	if (s->bad_runs)
		t_fail("%llu of %llu spin runs saw a register change (mask 0x%llx: bit n = "
		       "r<n>, 0 rbx 1 rsi 2 rdi 3 rdx, 20 DF)",
		       (unsigned long long)s->bad_runs, (unsigned long long)s->runs,
		       (unsigned long long)s->bad_mask);
	t_log("runs %llu, longest %lld ms (calibrated %lld ms)%s", (unsigned long long)s->runs,
	      (long long)s->max_run_ns / 1000000, (long long)s->calib_ns / 1000000,
	      s->max_run_ns > 10 * s->calib_ns + 200000000 ? ": a checkpoint hit the asm loop" : "");
	return s->bad_runs ? -1 : 0;
}

int main(int argc, char **argv)
{
	static struct st s;
	int64_t t0, dt;

	t_init(argc, argv);
	/* calibrate: ~30 ms per run */
	t0 = t_now_ns(CLOCK_MONOTONIC);
	if (spin(1000000))
		t_die("register mismatch before any checkpoint: the test is broken");
	dt = t_now_ns(CLOCK_MONOTONIC) - t0;
	if (dt <= 0)
		dt = 1;
	s.iters = (uint64_t)(1000000.0 * 30e6 / (double)dt);
	if (s.iters < 1000)
		s.iters = 1000;
	s.calib_ns = 30000000;
	t_set_work(work, &s);
	t_run(check, &s);
}
