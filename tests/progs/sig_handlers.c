/* Signal state survives a checkpoint: dispositions (handler, SA_* flags, mask,
 * restorer) of every signal as the kernel reports them (raw rt_sigaction),
 * incl. SA_SIGINFO/SA_RESTART/SA_ONSTACK/SA_NODEFER/SA_RESETHAND handlers, a
 * realtime handler, SIG_IGN, SIG_DFL with flags; the blocked mask; pending
 * signals: a blocked SIGUSR1 raised (private queue, SI_TKILL), a SIGURG from
 * kill() (shared queue, SI_USER: si_code >= 0), two realtime
 * signals with data from sigqueue (shared queue) and one from pthread_sigqueue
 * (private queue).  The check compares, then unblocks and verifies that every
 * pending signal is delivered once, in the kernel's order, with its si_code
 * and si_value; then it blocks and queues them again, so it can run again. */
// crest-test: mode=cr
#include "t.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

struct ksa {
	uint64_t handler, flags, restorer, mask;
};

#define MAXLOG 16
static volatile int nlog;
static volatile struct {
	int sig, code, val, pid;
} logv[MAXLOG];

static struct ksa before[65];
static sigset_t blocked_before;
static int rt2;

static void on_info(int sig, siginfo_t *si, void *uc)
{
	int i = nlog;
	if (i < MAXLOG) {
		logv[i].sig = sig;
		logv[i].code = si->si_code;
		logv[i].val = si->si_value.sival_int;
		logv[i].pid = si->si_pid;
	}
	nlog = i + 1;
}

static void on_plain(int sig)
{
}

static int get_ksa(int sig, struct ksa *k)
{
	memset(k, 0, sizeof(*k));
	return (int)syscall(SYS_rt_sigaction, sig, NULL, k, 8);
}

static void set(int sig, void *h, int flags, const int *maskv)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	if (flags & SA_SIGINFO)
		sa.sa_sigaction = h;
	else
		sa.sa_handler = h;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	for (; maskv && *maskv; maskv++)
		sigaddset(&sa.sa_mask, *maskv);
	if (sigaction(sig, &sa, NULL))
		t_die("sigaction(%d): %m", sig);
}

static void make_pending(void)
{
	raise(SIGUSR1);
	kill(getpid(), SIGURG);
	if (sigqueue(getpid(), rt2, (union sigval){ .sival_int = 111 }) ||
	    sigqueue(getpid(), rt2, (union sigval){ .sival_int = 222 }) ||
	    pthread_sigqueue(pthread_self(), rt2, (union sigval){ .sival_int = 333 }))
		t_die("sigqueue: %m");
}

static int check(void *arg)
{
	int bad = 0;
	for (int sig = 1; sig <= 64; sig++) {
		struct ksa k;
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (get_ksa(sig, &k)) {
			t_fail("rt_sigaction(%d) read failed", sig);
			bad = 1;
			continue;
		}
		if (memcmp(&k, &before[sig], sizeof(k))) {
			t_fail("signal %d: handler %#lx flags %#lx restorer %#lx mask %#lx, expected "
			       "%#lx %#lx %#lx %#lx", sig, (long)k.handler, (long)k.flags, (long)k.restorer,
			       (long)k.mask, (long)before[sig].handler, (long)before[sig].flags,
			       (long)before[sig].restorer, (long)before[sig].mask);
			bad = 1;
		}
	}
	sigset_t cur, pend;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	for (int sig = 1; sig <= 64; sig++)
		if (sigismember(&cur, sig) != sigismember(&blocked_before, sig)) {
			t_fail("signal %d: blocked is %d, expected %d", sig, sigismember(&cur, sig),
			       sigismember(&blocked_before, sig));
			bad = 1;
		}
	sigpending(&pend);
	for (int sig = 1; sig <= 64; sig++) {
		int want = sig == SIGUSR1 || sig == SIGURG || sig == rt2;
		if (sigismember(&pend, sig) != want) {
			t_fail("signal %d: pending is %d, expected %d", sig, sigismember(&pend, sig), want);
			bad = 1;
		}
	}
	if (bad)
		return -1;

	/* Deliver.  Across signals the order depends on the handler masks (the
	 * kernel stacks frames), so check it per signal: once each for SIGUSR1
	 * (SI_TKILL) and SIGURG (SI_USER); rt2 from the private queue first
	 * (333), then the shared one (111, 222). */
	nlog = 0;
	sigset_t un;
	sigemptyset(&un);
	sigaddset(&un, SIGUSR1);
	sigaddset(&un, SIGURG);
	sigaddset(&un, rt2);
	sigprocmask(SIG_UNBLOCK, &un, NULL);
	int64_t t0 = t_now_ns(CLOCK_MONOTONIC);
	while (nlog < 5 && t_now_ns(CLOCK_MONOTONIC) - t0 < 1000000000LL)
		usleep(1000);
	sigprocmask(SIG_BLOCK, &un, NULL);
	if (nlog != 5) {
		t_fail("%d signals delivered after unblocking, expected 5", nlog);
		bad = 1;
	}
	static const int rt_vals[3] = { 333, 111, 222 };
	int n_usr1 = 0, n_urg = 0, n_rt = 0;
	for (int i = 0; i < nlog && i < MAXLOG; i++) {
		int sig = logv[i].sig, code = logv[i].code, val = logv[i].val, ok = logv[i].pid == getpid();
		if (sig == SIGUSR1)
			ok = ok && code == SI_TKILL && !n_usr1++;
		else if (sig == SIGURG)
			ok = ok && code == SI_USER && !n_urg++;
		else if (sig == rt2)
			ok = ok && code == SI_QUEUE && n_rt < 3 && val == rt_vals[n_rt++];
		else
			ok = 0;
		if (!ok) {
			t_fail("delivery %d: signal %d si_code %d si_pid %d value %d: unexpected (pid %d)", i,
			       sig, code, logv[i].pid, val, getpid());
			bad = 1;
		}
	}
	/* Same state again, for the next check. */
	make_pending();
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	t_init(argc, argv);
	rt2 = SIGRTMIN + 2;

	set(SIGUSR1, on_info, SA_SIGINFO | SA_RESTART, (int[]){ SIGUSR2, SIGRTMIN + 2, 0 });
	set(SIGUSR2, on_plain, SA_ONSTACK | SA_NODEFER, (int[]){ SIGINT, SIGQUIT, 0 });
	set(rt2, on_info, SA_SIGINFO, (int[]){ SIGQUIT, SIGRTMIN + 7, 0 });
	set(SIGRTMIN + 5, on_info, SA_SIGINFO | SA_RESETHAND | SA_RESTART, (int[]){ SIGCHLD, 0 });
	set(SIGURG, on_info, SA_SIGINFO, NULL);
	set(SIGWINCH, SIG_DFL, SA_RESTART, (int[]){ SIGUSR1, 0 });
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);

	sigset_t b;
	sigemptyset(&b);
	sigaddset(&b, SIGUSR1);
	sigaddset(&b, rt2);
	sigaddset(&b, SIGURG);
	sigaddset(&b, SIGTERM);
	sigaddset(&b, SIGRTMAX);
	sigprocmask(SIG_SETMASK, &b, NULL);
	make_pending();

	for (int sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && get_ksa(sig, &before[sig]))
			t_die("rt_sigaction(%d): %m", sig);
	sigprocmask(SIG_BLOCK, NULL, &blocked_before);
	t_run(check, NULL);
}
