/* Interval timers survive a checkpoint: ITIMER_REAL with a 50 ms period keeps
 * ticking at that rate (SIGALRM handler count measured against
 * CLOCK_MONOTONIC over ~500 ms) and reports the same interval; an
 * ITIMER_VIRTUAL with a long value keeps its interval and a value no larger
 * than at setup; ITIMER_PROF stays disarmed. */
// crest-test: mode=cr
#include "t.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/time.h>

#define PERIOD_US 50000
#define VIRT_VALUE_S 1000
#define VIRT_INTERVAL_S 7

static volatile unsigned long ticks;

static void on_alrm(int sig)
{
	ticks++;
}

static int check(void *arg)
{
	struct itimerval r, v, p;
	int bad = 0;
	getitimer(ITIMER_REAL, &r);
	getitimer(ITIMER_VIRTUAL, &v);
	getitimer(ITIMER_PROF, &p);
	if (r.it_interval.tv_sec != 0 || r.it_interval.tv_usec != PERIOD_US) {
		t_fail("ITIMER_REAL interval %ld.%06ld s, expected 0.%06d", (long)r.it_interval.tv_sec,
		       (long)r.it_interval.tv_usec, PERIOD_US);
		bad = 1;
	}
	if (r.it_value.tv_sec != 0 || r.it_value.tv_usec <= 0 || r.it_value.tv_usec > PERIOD_US) {
		t_fail("ITIMER_REAL value %ld.%06ld s, expected within one period",
		       (long)r.it_value.tv_sec, (long)r.it_value.tv_usec);
		bad = 1;
	}
	if (v.it_interval.tv_sec != VIRT_INTERVAL_S || v.it_interval.tv_usec != 0) {
		t_fail("ITIMER_VIRTUAL interval %ld.%06ld s, expected %d s", (long)v.it_interval.tv_sec,
		       (long)v.it_interval.tv_usec, VIRT_INTERVAL_S);
		bad = 1;
	}
	/* (the kernel rounds CPU timers up to a tick: a bit over is fine) */
	if (v.it_value.tv_sec > VIRT_VALUE_S || v.it_value.tv_sec < VIRT_VALUE_S - 10) {
		t_fail("ITIMER_VIRTUAL value %ld.%06ld s, expected about %d s",
		       (long)v.it_value.tv_sec, (long)v.it_value.tv_usec, VIRT_VALUE_S);
		bad = 1;
	}
	if (p.it_value.tv_sec || p.it_value.tv_usec || p.it_interval.tv_sec || p.it_interval.tv_usec) {
		t_fail("ITIMER_PROF is armed (value %ld.%06ld s)", (long)p.it_value.tv_sec,
		       (long)p.it_value.tv_usec);
		bad = 1;
	}

	if (t_check_rate(&ticks, PERIOD_US, "ITIMER_REAL"))
		bad = 1;
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	t_init(argc, argv);
	t_on_signal(SIGALRM, on_alrm, SA_RESTART);
	t_on_signal(SIGVTALRM, on_alrm, SA_RESTART);
	struct itimerval r = { { 0, PERIOD_US }, { 0, PERIOD_US } };
	struct itimerval v = { { VIRT_INTERVAL_S, 0 }, { VIRT_VALUE_S, 0 } };
	if (setitimer(ITIMER_REAL, &r, NULL) || setitimer(ITIMER_VIRTUAL, &v, NULL))
		t_die("setitimer: %m");
	t_run(check, NULL);
}
