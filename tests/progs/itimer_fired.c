/* A periodic ITIMER_REAL checkpointed between its expiry and the delivery of
 * its SIGALRM.  The kernel re-arms such a timer only when the SIGALRM is
 * dequeued, so getitimer() reads value 0 while the signal is pending.  Here
 * SIGALRM is blocked, the timer fires once and waits; after restore the
 * SIGALRM must still be pending and the interval kept, and once SIGALRM is
 * unblocked the timer must tick every 50 ms again.  (A dump that took the
 * timer for disarmed lost it: no tick after the pending one.) */
// crest-test: mode=cr
#include "t.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/time.h>

#define PERIOD_US 50000

static volatile unsigned long ticks;
static int calls;

static void on_alrm(int sig)
{
	(void)sig;
	ticks++;
}

static int alrm_blocked(void)
{
	sigset_t cur;
	sigprocmask(SIG_SETMASK, NULL, &cur);
	return sigismember(&cur, SIGALRM);
}

/* The fired state: SIGALRM pending, interval kept, no time left. */
static int check_fired(int bad)
{
	struct itimerval r;
	sigset_t pend;
	getitimer(ITIMER_REAL, &r);
	sigpending(&pend);
	if (!sigismember(&pend, SIGALRM)) {
		t_fail("SIGALRM is not pending");
		bad = 1;
	}
	if (r.it_interval.tv_sec != 0 || r.it_interval.tv_usec != PERIOD_US) {
		t_fail("ITIMER_REAL interval %ld.%06ld s, expected 0.%06d (the timer was lost)",
		       (long)r.it_interval.tv_sec, (long)r.it_interval.tv_usec, PERIOD_US);
		bad = 1;
	}
	if (r.it_value.tv_sec != 0 || r.it_value.tv_usec > 1000) {
		t_fail("ITIMER_REAL value %ld.%06ld s, expected 0 (fired, waiting for its SIGALRM)",
		       (long)r.it_value.tv_sec, (long)r.it_value.tv_usec);
		bad = 1;
	}
	return bad;
}

static int check(void *arg)
{
	(void)arg;
	int bad = 0;
	if (calls++ == 0)   /* the pre-check: state only, keep it for the dump */
		return check_fired(0) ? -1 : 0;
	if (alrm_blocked()) {
		bad = check_fired(bad);
		unsigned long before = ticks;
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGALRM);
		sigprocmask(SIG_UNBLOCK, &s, NULL);
		if (ticks != before + 1) {
			t_fail("unblocking SIGALRM ran the handler %lu times, expected once",
			       ticks - before);
			bad = 1;
		}
	}
	if (t_check_rate(&ticks, PERIOD_US, "ITIMER_REAL"))
		bad = 1;
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	t_init(argc, argv);
	t_on_signal(SIGALRM, on_alrm, SA_RESTART);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	sigprocmask(SIG_BLOCK, &s, NULL);
	struct itimerval r = { { 0, PERIOD_US }, { 0, 10000 } };
	if (setitimer(ITIMER_REAL, &r, NULL))
		t_die("setitimer: %m");
	usleep(100000);
	t_run(check, NULL);
}
