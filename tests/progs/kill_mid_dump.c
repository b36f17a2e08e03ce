/* A small tree that checks, all the time, that nothing of it changes while
 * crest dumps it and is killed half-way (case kill_mid_dump.sh):
 *  - main thread: 4 MiB of patterned memory, a blocked mask with SIGUSR2
 *    and a queued SIGRTMIN+2 pending (checked with sigpending), the t.h
 *    loop (progress, check-N);
 *  - thread "regs": an asm loop holding values in rbx, r12..r15 and xmm8,
 *    compared every iteration (a register put back wrong is latched);
 *  - thread "sleeper": 1 ms nanosleep()s (a syscall interrupted by the
 *    dump must go on), its own blocked mask, checked every round;
 *  - a child process: its own pattern, mask and pending SIGUSR2, the same
 *    loops; it reports through a shared page (counter, latched errors).
 * The check also wants every counter to have moved since the last check.
 * The child's pid is written to the file "child"; it dies with its parent. */
// crest-test: mode=case
#include "t.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define MEM (4u << 20)

struct shared {                  /* MAP_SHARED between parent and child */
	_Atomic unsigned long child_loops;
	_Atomic int child_bad;
	char child_why[256];
};

struct proc {                    /* one per process (after fork: a copy) */
	unsigned char *mem;
	uint64_t seed;
	sigset_t main_mask, sleeper_mask;
	_Atomic unsigned long regs_loops, sleeper_loops;
	_Atomic int bad;
	char why[200];
};

static struct proc P;
static struct shared *S;
static pid_t child;

static void latch(const char *why)
{
	if (!atomic_exchange(&P.bad, 1))
		snprintf(P.why, sizeof(P.why), "%s", why);
}

/* rbx, r12..r15, xmm8 keep their values across iterations; 0 or a mask */
static uint64_t spin(uint64_t iters)
{
	uint64_t mask = 0, cnt = iters;

	__asm__ volatile(
		"movabs $0x1111111111111111, %%rbx\n\t"
		"movabs $0xcccccccccccccc0c, %%r12\n\t"
		"movabs $0xdddddddddddddd0d, %%r13\n\t"
		"movabs $0xeeeeeeeeeeeeee0e, %%r14\n\t"
		"movabs $0x0f0f0f0f0f0f0f0f, %%r15\n\t"
		"movq %%r14, %%xmm8\n\t"
		"movq %%r15, %%xmm9\n\t"
		"punpcklqdq %%xmm9, %%xmm8\n\t"
		"1:\n\t"
#define CHK(reg, imm, bit)                                  \
		"movabs $" imm ", %%rax\n\t"                \
		"cmpq %%rax, %%" reg "\n\t"                 \
		"je 2f\n\t"                                 \
		"btsq $" bit ", %[mask]\n\t"                \
		"2:\n\t"
		CHK("rbx", "0x1111111111111111", "0")
		CHK("r12", "0xcccccccccccccc0c", "1")
		CHK("r13", "0xdddddddddddddd0d", "2")
		CHK("r14", "0xeeeeeeeeeeeeee0e", "3")
		CHK("r15", "0x0f0f0f0f0f0f0f0f", "4")
		"movq %%xmm8, %%rax\n\t"
		"cmpq %%rax, %%r14\n\t"
		"je 2f\n\t"
		"btsq $5, %[mask]\n\t"
		"2:\n\t"
		"pshufd $0x4e, %%xmm8, %%xmm9\n\t"
		"movq %%xmm9, %%rax\n\t"
		"cmpq %%rax, %%r15\n\t"
		"je 2f\n\t"
		"btsq $6, %[mask]\n\t"
		"2:\n\t"
#undef CHK
		"decq %[cnt]\n\t"
		"jnz 1b\n\t"
		: [mask] "+m"(mask), [cnt] "+c"(cnt)
		:
		: "rax", "rbx", "r12", "r13", "r14", "r15", "xmm8", "xmm9", "cc", "memory");
	return mask;
}

static void *regs_thread(void *arg)
{
	prctl(PR_SET_NAME, "regs");
	for (;;) {
		uint64_t m = spin(200000);
		if (m) {
			char why[64];
			snprintf(why, sizeof(why), "registers lost their values (mask %#lx)", (unsigned long)m);
			latch(why);
		}
		P.regs_loops++;
	}
	return arg;
}

static void *sleeper_thread(void *arg)
{
	sigset_t now;

	prctl(PR_SET_NAME, "sleeper");
	pthread_sigmask(SIG_SETMASK, &P.sleeper_mask, NULL);
	for (;;) {
		struct timespec ts = { 0, 1000000 };
		if (nanosleep(&ts, NULL) < 0 && errno != EINTR)
			latch("nanosleep failed");
		pthread_sigmask(SIG_SETMASK, NULL, &now);
		if (memcmp(&now, &P.sleeper_mask, 8))
			latch("the sleeper thread's blocked mask changed");
		P.sleeper_loops++;
	}
	return arg;
}

/* mask, pending signals and memory of this process ("" when all is well) */
static void check_self(char *why, size_t n)
{
	sigset_t now, pend;
	long bad;

	why[0] = 0;
	pthread_sigmask(SIG_SETMASK, NULL, &now);
	sigpending(&pend);
	if (memcmp(&now, &P.main_mask, 8))
		snprintf(why, n, "blocked mask changed");
	else if (!sigismember(&pend, SIGUSR2) || !sigismember(&pend, SIGRTMIN + 2))
		snprintf(why, n, "pending SIGUSR2/SIGRTMIN+2 lost");
	else if ((bad = t_verify_fill(P.mem, MEM, P.seed)) >= 0)
		snprintf(why, n, "memory differs at offset %ld", bad);
	else if (P.bad)
		snprintf(why, n, "%s", P.why);
}

static void setup_process(uint64_t seed)
{
	pthread_t a, b;
	union sigval v = { .sival_int = 0x1234 };

	P.seed = seed;
	P.mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (P.mem == MAP_FAILED)
		t_die("mmap: %s", strerror(errno));
	t_fill(P.mem, MEM, seed);
	sigemptyset(&P.main_mask);
	sigaddset(&P.main_mask, SIGUSR2);
	sigaddset(&P.main_mask, SIGRTMIN + 2);
	sigaddset(&P.main_mask, SIGWINCH);
	pthread_sigmask(SIG_SETMASK, &P.main_mask, NULL);
	P.sleeper_mask = P.main_mask;
	sigaddset(&P.sleeper_mask, SIGUSR1);
	raise(SIGUSR2);
	if (sigqueue(getpid(), SIGRTMIN + 2, v) < 0)
		t_die("sigqueue: %s", strerror(errno));
	if (pthread_create(&a, NULL, regs_thread, NULL) || pthread_create(&b, NULL, sleeper_thread, NULL))
		t_die("pthread_create failed");
}

static void child_main(void)
{
	char why[200];

	setup_process(77);
	for (;;) {
		check_self(why, sizeof(why));
		if (why[0] && !atomic_exchange(&S->child_bad, 1))
			snprintf(S->child_why, sizeof(S->child_why), "child: %s", why);
		S->child_loops++;
		usleep(2000);
	}
}

static int check(void *arg)
{
	static unsigned long seen[3];
	unsigned long now[3] = { P.regs_loops, P.sleeper_loops, S->child_loops };
	static const char *const names[3] = { "regs thread", "sleeper thread", "child" };
	char why[200];
	int ret = 0;

	check_self(why, sizeof(why));
	if (why[0]) {
		t_fail("%s", why);
		ret = -1;
	}
	if (S->child_bad) {
		t_fail("%s", S->child_why);
		ret = -1;
	}
	if (kill(child, 0) < 0) {
		t_fail("child %d is gone", child);
		ret = -1;
	}
	for (int i = 0; i < 3; i++) {
		/* every counter moves (waiting up to 2 s for it) */
		for (int k = 0; k < 400 && now[i] == seen[i]; k++) {
			usleep(5000);
			now[0] = P.regs_loops;
			now[1] = P.sleeper_loops;
			now[2] = S->child_loops;
		}
		if (now[i] == seen[i]) {
			t_fail("the %s does not move on (%lu)", names[i], now[i]);
			ret = -1;
		}
		seen[i] = now[i];
	}
	return ret;
}

/* Grow the main stack once, so that /proc/PID/maps stays the same while
 * the program runs (compared after each killed dump). */
static void __attribute__((noinline)) grow_stack(void)
{
	volatile char big[512 * 1024];

	for (size_t i = 0; i < sizeof(big); i += 4096)
		big[i] = 1;
}

int main(int argc, char **argv)
{
	char buf[32];
	int n;

	grow_stack();
	t_init(argc, argv);
	S = mmap(NULL, sizeof(*S), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (S == MAP_FAILED)
		t_die("mmap shared: %s", strerror(errno));
	child = fork();
	if (child < 0)
		t_die("fork: %s", strerror(errno));
	if (child == 0) {
		prctl(PR_SET_NAME, "kmd-child");
		prctl(PR_SET_PDEATHSIG, SIGKILL);   /* goes with its parent */
		child_main();
	}
	n = snprintf(buf, sizeof(buf), "%d\n", child);
	if (t_write_file("child", buf, (size_t)n) < 0)
		t_die("cannot write the child file");
	setup_process(42);
	t_run(check, NULL);
}
