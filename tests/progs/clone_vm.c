/* Processes sharing ONE address space, fd table and fs info without being
 * threads, as LinuxThreads made them: child B with clone(CLONE_VM|CLONE_FS|
 * CLONE_FILES|CLONE_SIGHAND|SIGCHLD), child C the same without
 * CLONE_SIGHAND, each on a stack of its own.  After restore kcmp says all
 * is still shared (C: not the handlers); a write to memory by one is seen
 * by the other (both ways); a sigaction by B or the parent is the other's
 * (both ways), and B's handler, installed before the dump, runs in B on a
 * signal; C's own SIGUSR1 handler stays C's only; they stay three
 * processes (own pids).  The children only act on commands written into
 * the shared memory and answer there. */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { OP_INC = 1, OP_DOUBLE, OP_SET_USR2, OP_HAS_URG, OP_GETPID, OP_SET_USR1, OP_HAS_USR1 };

#define STACK_SIZE (256 * 1024)

/* shared by the three processes: one address space */
static struct chan {
	volatile int cmd, arg, res;
	volatile int seq, ack;
} ch[2];                        /* B's, C's */
static struct {
	volatile long counter;
	volatile int usr2_hits;
} sh;

struct st {
	int child, child_c;
	long counter;
	int hits;
	uint64_t rnd;
};

/* raw syscall: the child shares the parent's TLS (errno...), so it calls
 * nothing of libc that keeps state there, except sigaction */
static long rsys(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

static void on_usr2(int sig)
{
	(void)sig;
	sh.usr2_hits++;
}

static void on_urg(int sig)
{
	(void)sig;
}

static void on_usr1(int sig)
{
	(void)sig;
}

static int child_main(void *arg)
{
	struct chan *c = arg;
	struct timespec nap = { 0, 1000000 };
	struct sigaction sa, old;

	rsys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0);
	for (;;) {
		int seq = c->seq;
		if (seq != c->ack) {
			switch (c->cmd) {
			case OP_INC:
				c->res = (int)++sh.counter;
				break;
			case OP_DOUBLE:
				c->res = c->arg * 2;
				break;
			case OP_SET_USR2:
			case OP_SET_USR1:
				memset(&sa, 0, sizeof(sa));
				sa.sa_handler = c->cmd == OP_SET_USR1 ? on_usr1 : on_usr2;
				c->res = sigaction(c->cmd == OP_SET_USR1 ? SIGUSR1 : SIGUSR2, &sa, NULL) == 0;
				break;
			case OP_HAS_URG:
				c->res = sigaction(SIGURG, NULL, &old) == 0 && old.sa_handler == on_urg;
				break;
			case OP_HAS_USR1:
				c->res = sigaction(SIGUSR1, NULL, &old) == 0 && old.sa_handler == on_usr1;
				break;
			case OP_GETPID:
				c->res = (int)rsys(SYS_getpid, 0, 0, 0);
				break;
			default:
				c->res = -1;
			}
			__atomic_store_n(&c->ack, seq, __ATOMIC_SEQ_CST);
		}
		rsys(SYS_nanosleep, (long)&nap, 0, 0);
	}
	return 0;
}

/* Run a command in child k (0: B, 1: C); its answer (-0x7fffffff: none). */
static int callk(int k, int op, int arg)
{
	struct chan *c = &ch[k];

	c->cmd = op;
	c->arg = arg;
	__atomic_store_n(&c->seq, c->seq + 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 2000; i++) {
		if (__atomic_load_n(&c->ack, __ATOMIC_SEQ_CST) == c->seq)
			return c->res;
		tp_sleep_ms(1);
	}
	t_fail("child %c does not answer (op %d)", "BC"[k], op);
	return -0x7fffffff;
}

static int call(int op, int arg)
{
	return callk(0, op, arg);
}

static long kcmp(int p1, int p2, int type)
{
	return syscall(SYS_kcmp, p1, p2, type, 0, 0);
}

static int check(void *arg)
{
	struct st *s = arg;
	static const struct { int type; const char *what; } kinds[] = {
		{ KCMP_VM, "address space" }, { KCMP_SIGHAND, "signal handlers" },
		{ KCMP_FILES, "fd table" }, { KCMP_FS, "fs info" },
	};
	struct sigaction sa, old;
	int me = getpid(), r, v;

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (kcmp(me, s->child, kinds[k].type) != 0) {
			t_fail("parent %d and child %d do not share their %s (kcmp: %ld)", me, s->child,
			       kinds[k].what, kcmp(me, s->child, kinds[k].type));
			return -1;
		}
	if ((r = call(OP_GETPID, 0)) != s->child || (r = callk(1, OP_GETPID, 0)) != s->child_c) {
		t_fail("a child says its pid is %d, not %d / %d", r, s->child, s->child_c);
		return -1;
	}
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if ((kcmp(me, s->child_c, kinds[k].type) == 0) != (kinds[k].type != KCMP_SIGHAND)) {
			t_fail("parent %d and child C %d: %s %sshared (kcmp: %ld)", me, s->child_c,
			       kinds[k].what, kinds[k].type == KCMP_SIGHAND ? "" : "not ",
			       kcmp(me, s->child_c, kinds[k].type));
			return -1;
		}
	/* C's own handler table: its SIGUSR1 handler is its own only */
	if (callk(1, OP_HAS_USR1, 0) != 1 || call(OP_HAS_USR1, 0) != 0 ||
	    sigaction(SIGUSR1, NULL, &old) < 0 || old.sa_handler == on_usr1) {
		t_fail("C's SIGUSR1 handler (set before the dump) is not C's only");
		return -1;
	}
	/* C writes, the parent and B read */
	if ((r = callk(1, OP_INC, 0)) != s->counter + 1 || sh.counter != s->counter + 1) {
		t_fail("counter %ld after C incremented it (it answered %d), want %ld", sh.counter, r,
		       s->counter + 1);
		return -1;
	}
	s->counter++;
	/* the child writes, the parent reads */
	if (sh.counter != s->counter || (r = call(OP_INC, 0)) != s->counter + 1 ||
	    sh.counter != s->counter + 1) {
		t_fail("counter %ld after the child incremented it (it answered %d), want %ld", sh.counter,
		       r, s->counter + 1);
		return -1;
	}
	s->counter++;
	/* the parent writes, the child reads */
	v = (int)(t_rand(&s->rnd) & 0xfffff);
	if ((r = call(OP_DOUBLE, v)) != 2 * v) {
		t_fail("the parent wrote %d, the child read it as %d", v, r / 2);
		return -1;
	}
	/* the child's sigaction is the parent's */
	if (sigaction(SIGUSR2, NULL, &old) < 0 || old.sa_handler != on_usr2) {
		t_fail("the child's SIGUSR2 handler (installed before the dump) is not the parent's");
		return -1;
	}
	if (call(OP_SET_USR2, 0) != 1 || sigaction(SIGUSR2, NULL, &old) < 0 || old.sa_handler != on_usr2) {
		t_fail("the child set a SIGUSR2 handler; the parent's is another");
		return -1;
	}
	/* the parent's sigaction is the child's */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_urg;
	if (sigaction(SIGURG, &sa, NULL) < 0 || call(OP_HAS_URG, 0) != 1) {
		t_fail("the parent set a SIGURG handler; the child's is another");
		return -1;
	}
	sa.sa_handler = SIG_DFL;
	sigaction(SIGURG, &sa, NULL);
	if (call(OP_HAS_URG, 0) != 0) {
		t_fail("the parent reset SIGURG; the child still has the handler");
		return -1;
	}
	/* the handler runs in the child, and the parent sees what it wrote */
	kill(s->child, SIGUSR2);
	for (int i = 0; i < 1000 && sh.usr2_hits == s->hits; i++)
		tp_sleep_ms(1);
	if (sh.usr2_hits != s->hits + 1) {
		t_fail("SIGUSR2 to the child: its handler ran %d times, want 1", sh.usr2_hits - s->hits);
		return -1;
	}
	s->hits++;
	return 0;
}

int main(int argc, char **argv)
{
	static struct st s;
	char *stack;

	t_init(argc, argv);
	s.rnd = (uint64_t)getpid();
	stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
		     -1, 0);
	if (stack == MAP_FAILED)
		t_die("mmap: %m");
	s.child = clone(child_main, stack + STACK_SIZE / 2,
			CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | SIGCHLD, &ch[0]);
	if (s.child < 0)
		t_die("clone(CLONE_VM...): %m");
	s.child_c = clone(child_main, stack + STACK_SIZE, CLONE_VM | CLONE_FS | CLONE_FILES | SIGCHLD,
			  &ch[1]);
	if (s.child_c < 0)
		t_die("clone(CLONE_VM...): %m");
	/* before the dump: B installs its handler (the parent's too), C its own
	 * one; both count once */
	if (call(OP_SET_USR2, 0) != 1 || call(OP_INC, 0) != 1 || callk(1, OP_SET_USR1, 0) != 1 ||
	    callk(1, OP_INC, 0) != 2)
		t_die("the children do not answer");
	s.counter = 2;
	t_run(check, &s);
}
