/* Receives a stream of signals while it is dumped (case sig_stream.sh): a
 * sender outside the tree queues SIGRTMIN+1 with values 1, 2, 3... and
 * SIGUSR1 with values 1, 2, 3... (the next one only once "usr1-ack" shows
 * the previous one arrived: standard signals do not queue).  The handlers
 * check that each value is the one after the last (none lost, none twice,
 * in order); the counts go to "got" ("RT USR1"), "usr1-ack" is rewritten
 * as SIGUSR1s arrive.  The check fails on any gap or repeat. */
// crest-test: mode=case
#include "t.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t rt_last, usr1_last, bad;
static volatile long bad_got, bad_want;
static long acked = -1, written = -1;

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_value.sival_int != rt_last + 1 && !bad) {
		bad = 1;
		bad_got = si->si_value.sival_int;
		bad_want = rt_last + 1;
	}
	rt_last = si->si_value.sival_int;
}

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_value.sival_int != usr1_last + 1 && !bad) {
		bad = 2;
		bad_got = si->si_value.sival_int;
		bad_want = usr1_last + 1;
	}
	usr1_last = si->si_value.sival_int;
}

static void work(void *arg)
{
	char buf[64];
	int n;

	(void)arg;
	if (usr1_last != acked) {
		acked = usr1_last;
		n = snprintf(buf, sizeof(buf), "%ld\n", acked);
		t_write_file("usr1-ack", buf, (size_t)n);
	}
	if (rt_last != written) {
		written = rt_last;
		n = snprintf(buf, sizeof(buf), "%ld %ld\n", (long)rt_last, (long)usr1_last);
		t_write_file("got", buf, (size_t)n);
	}
}

static int check(void *arg)
{
	(void)arg;
	if (bad) {
		t_fail("%s: got value %ld, expected %ld", bad == 1 ? "SIGRTMIN+1" : "SIGUSR1", bad_got, bad_want);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa;

	t_init(argc, argv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sa.sa_sigaction = on_rt;
	sigaction(SIGRTMIN + 1, &sa, NULL);
	sa.sa_sigaction = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	work(NULL);
	t_set_work(work, NULL);
	t_run(check, NULL);
}
