/* The alternate signal stack survives a checkpoint: sigaltstack() reports the
 * same sp/size/flags, and a SA_ONSTACK handler still runs on it.
 * With ON_STACK defined (sigaltstack_on.c) the whole program runs inside a
 * signal handler on the alternate stack, so the dump sees SS_ONSTACK. */
// crest-test: mode=cr
#include "t.h"

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define ALT_SIZE (1024 * 1024)

static stack_t before;
static volatile uintptr_t handler_sp;
static volatile int handler_runs;

static void on_usr2(int sig)
{
	volatile char here;
	handler_sp = (uintptr_t)&here;
	handler_runs++;
}

static int check(void *arg)
{
	stack_t cur;
	int bad = 0;
	if (sigaltstack(NULL, &cur)) {
		t_fail("sigaltstack: %m");
		return -1;
	}
	if (cur.ss_sp != before.ss_sp || cur.ss_size != before.ss_size ||
	    cur.ss_flags != before.ss_flags) {
		t_fail("sigaltstack sp %p size %zu flags %#x, expected sp %p size %zu flags %#x", cur.ss_sp,
		       cur.ss_size, cur.ss_flags, before.ss_sp, before.ss_size, before.ss_flags);
		bad = 1;
	}
	int runs = handler_runs;
	raise(SIGUSR2);
	uintptr_t lo = (uintptr_t)before.ss_sp, hi = lo + before.ss_size;
	if (handler_runs != runs + 1) {
		t_fail("SIGUSR2 handler did not run");
		bad = 1;
	} else if (handler_sp < lo || handler_sp >= hi) {
		t_fail("SIGUSR2 handler ran at sp %#lx, outside the alternate stack %#lx-%#lx",
		       (unsigned long)handler_sp, (unsigned long)lo, (unsigned long)hi);
		bad = 1;
	}
#ifdef ON_STACK
	volatile char here;
	if ((uintptr_t)&here < lo || (uintptr_t)&here >= hi) {
		t_fail("the main loop no longer runs on the alternate stack (sp %p)", (void *)&here);
		bad = 1;
	} else if (handler_sp >= (uintptr_t)&here) {
		t_fail("nested handler frame %#lx is not below the current one %p",
		       (unsigned long)handler_sp, (void *)&here);
		bad = 1;
	}
#endif
	return bad ? -1 : 0;
}

#ifdef ON_STACK
static void on_usr1(int sig)
{
	if (sigaltstack(NULL, &before))
		t_die("sigaltstack: %m");
	if (!(before.ss_flags & SS_ONSTACK))
		t_die("not on the alternate stack in the SIGUSR1 handler");
	t_run(check, NULL);
}
#endif

int main(int argc, char **argv)
{
	t_init(argc, argv);
	void *mem = mmap(NULL, ALT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		t_die("mmap: %m");
	stack_t ss = { .ss_sp = mem, .ss_size = ALT_SIZE, .ss_flags = 0 };
	if (sigaltstack(&ss, NULL))
		t_die("sigaltstack: %m");

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sa.sa_flags = SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR2, &sa, NULL))
		t_die("sigaction: %m");
#ifdef ON_STACK
	sa.sa_handler = on_usr1;
	if (sigaction(SIGUSR1, &sa, NULL))
		t_die("sigaction: %m");
	raise(SIGUSR1);
	t_die("SIGUSR1 handler returned");
#else
	if (sigaltstack(NULL, &before))
		t_die("sigaltstack: %m");
	t_run(check, NULL);
#endif
}
