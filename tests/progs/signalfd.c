/* signalfds come back with their masks and flags:
 *  S1 (fd 30): SIGUSR1 + SIGRTMIN+3, SFD_NONBLOCK;
 *  S2 (fd 31): SIGUSR2, blocking.
 * All three signals are blocked.  Between checks one SIGRTMIN+3 (value 77,
 * sigqueue) is pending: it is read first from S1 after the restore.  Then
 * the check sends SIGUSR1 and SIGUSR2 to itself: S1 reads SIGUSR1 only,
 * S2 reads SIGUSR2, and nothing else is left. */
// crest-test: mode=cr
#include "t.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define S1 30
#define S2 31
#define RT_VAL 77

static int rt;

static int place(int fd, int at)
{
	if (fd < 0 || dup2(fd, at) != at)
		t_die("signalfd at %d: %m", at);
	close(fd);
	return at;
}

/* One siginfo from fd (waits up to 1 s for the blocking one). */
static int rd(int fd, struct signalfd_siginfo *si)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 1000) != 1)
		return -1;
	return read(fd, si, sizeof(*si)) == sizeof(*si) ? 0 : -1;
}

static int empty(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) == 0;
}

static int check(void *arg)
{
	struct signalfd_siginfo si;
	int bad = 0, fl;

	if ((fl = fcntl(S1, F_GETFL)) < 0 || !(fl & O_NONBLOCK)) {
		t_fail("S1: flags 0%o, expected O_NONBLOCK", fl);
		bad = -1;
	}
	if ((fl = fcntl(S2, F_GETFL)) < 0 || (fl & O_NONBLOCK)) {
		t_fail("S2: flags 0%o, expected blocking", fl);
		bad = -1;
	}
	/* the signal pending since before the dump */
	memset(&si, 0, sizeof(si));
	if (rd(S1, &si) || si.ssi_signo != (unsigned)rt || si.ssi_code != SI_QUEUE ||
	    si.ssi_int != RT_VAL || si.ssi_pid != (unsigned)getpid()) {
		t_fail("S1: first read gave signal %u code %d value %d pid %u, expected %d SI_QUEUE %d %d",
		       si.ssi_signo, si.ssi_code, si.ssi_int, si.ssi_pid, rt, RT_VAL, getpid());
		bad = -1;
	}
	if (!empty(S1) || !empty(S2)) {
		t_fail("a signalfd has more to read than the one pending signal");
		bad = -1;
		while (read(S1, &si, sizeof(si)) > 0)
			;
	}
	/* new signals, each read from the signalfd whose mask has it */
	kill(getpid(), SIGUSR2);
	kill(getpid(), SIGUSR1);
	memset(&si, 0, sizeof(si));
	if (rd(S1, &si) || si.ssi_signo != SIGUSR1 || si.ssi_code != SI_USER) {
		t_fail("S1: read signal %u code %d, expected SIGUSR1 SI_USER", si.ssi_signo, si.ssi_code);
		bad = -1;
	}
	if (!empty(S1)) {
		t_fail("S1 reports SIGUSR2, which is not in its mask");
		bad = -1;
	}
	memset(&si, 0, sizeof(si));
	if (rd(S2, &si) || si.ssi_signo != SIGUSR2) {
		t_fail("S2: read signal %u, expected SIGUSR2", si.ssi_signo);
		bad = -1;
	}
	if (!empty(S1) || !empty(S2)) {
		t_fail("signals left after reading both");
		bad = -1;
	}
	/* pending again for the next check */
	if (sigqueue(getpid(), rt, (union sigval){ .sival_int = RT_VAL }))
		t_die("sigqueue: %m");
	return bad;
}

int main(int argc, char **argv)
{
	sigset_t m1, m2, all;

	t_init(argc, argv);
	rt = SIGRTMIN + 3;
	sigemptyset(&m1);
	sigaddset(&m1, SIGUSR1);
	sigaddset(&m1, rt);
	sigemptyset(&m2);
	sigaddset(&m2, SIGUSR2);
	sigemptyset(&all);
	sigaddset(&all, SIGUSR1);
	sigaddset(&all, SIGUSR2);
	sigaddset(&all, rt);
	if (sigprocmask(SIG_BLOCK, &all, NULL))
		t_die("sigprocmask: %m");
	place(signalfd(-1, &m1, SFD_NONBLOCK | SFD_CLOEXEC), S1);
	place(signalfd(-1, &m2, 0), S2);
	if (sigqueue(getpid(), rt, (union sigval){ .sival_int = RT_VAL }))
		t_die("sigqueue: %m");
	t_run(check, NULL);
}
