/* POSIX timers survive a checkpoint with their ids (created after others were
 * deleted, so the ids are not just 0, 1):
 *  A: CLOCK_REALTIME, SIGEV_SIGNAL SIGRTMIN+1, sival_int 4242, 30 ms period;
 *  B: CLOCK_MONOTONIC, SIGEV_THREAD_ID (main thread) SIGRTMIN+4,
 *     sival_ptr 0x5eed0000beef, 40 ms period;
 *  N: CLOCK_MONOTONIC, SIGEV_NONE, one-shot 1000 s;
 *  P: CLOCK_PROCESS_CPUTIME_ID, SIGEV_NONE, 500 s of CPU time, 3 s period;
 *  C: CLOCK_MONOTONIC, SIGEV_SIGNAL SIGRTMIN+6 (blocked), one-shot 1 ms that
 *     already fired: its SI_TIMER signal is pending at the dump.
 * The check: timer_gettime on the old ids gives the same intervals and sane
 * remaining times; A and B keep firing at their rate (measured against
 * CLOCK_MONOTONIC over ~600 ms) with si_code SI_TIMER, the right si_timerid
 * and si_value; C's pending signal is there with its value (consumed with
 * sigtimedwait, then C is fired again so the next check finds it again). */
// crest-test: mode=cr
#include "t.h"

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#define A_NS 30000000LL
#define B_NS 40000000LL
#define B_PTR 0x5eed0000beefULL

static int id_a, id_b, id_n, id_c, id_p;
static int sig_a, sig_b, sig_c;
static volatile unsigned long cnt_a, cnt_b, bad_n;
static volatile int bad_sig, bad_code, bad_id;
static volatile long bad_val;

static void on_timer(int sig, siginfo_t *si, void *uc)
{
	int want_id = sig == sig_a ? id_a : id_b;
	long want_val = sig == sig_a ? 4242 : (long)B_PTR;
	long val = sig == sig_a ? si->si_value.sival_int : (long)si->si_value.sival_ptr;
	if (si->si_code != SI_TIMER || si->si_timerid != want_id || val != want_val) {
		if (!bad_n) {
			bad_sig = sig;
			bad_code = si->si_code;
			bad_id = si->si_timerid;
			bad_val = val;
		}
		bad_n++;
	}
	if (sig == sig_a)
		cnt_a++;
	else
		cnt_b++;
}

static int mk(clockid_t clk, int notify, int sig, uint64_t val)
{
	struct sigevent ev;
	int id = -1;
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = notify;
	ev.sigev_signo = sig;
	ev.sigev_value.sival_ptr = (void *)(uintptr_t)val;
	if (notify & SIGEV_THREAD_ID)
		ev._sigev_un._tid = gettid();
	if (syscall(SYS_timer_create, clk, &ev, &id))
		t_die("timer_create: %m");
	return id;
}

static int try_arm(int id, int64_t value_ns, int64_t interval_ns)
{
	struct itimerspec s = {
		.it_interval = { interval_ns / 1000000000, interval_ns % 1000000000 },
		.it_value = { value_ns / 1000000000, value_ns % 1000000000 },
	};
	return (int)syscall(SYS_timer_settime, id, 0, &s, NULL);
}

static void arm(int id, int64_t value_ns, int64_t interval_ns)
{
	if (try_arm(id, value_ns, interval_ns))
		t_die("timer_settime(%d): %m", id);
}

static int gettime(int id, struct itimerspec *s)
{
	if (syscall(SYS_timer_gettime, id, s)) {
		t_fail("timer_gettime(%d): %m", id);
		return -1;
	}
	return 0;
}

static int64_t ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

static int fire_c(void)
{
	if (try_arm(id_c, 1000000, 0))
		return -1;
	sigset_t p;
	int64_t t0 = t_now_ns(CLOCK_MONOTONIC);
	do {
		usleep(1000);
		sigpending(&p);
	} while (!sigismember(&p, sig_c) && t_now_ns(CLOCK_MONOTONIC) - t0 < 1000000000LL);
	return sigismember(&p, sig_c) ? 0 : -1;
}

static int check(void *arg)
{
	struct itimerspec s;
	int bad = 0;
	struct {
		int id;
		int64_t iv;
		const char *name;
	} per[] = { { id_a, A_NS, "A" }, { id_b, B_NS, "B" } };
	for (int i = 0; i < 2; i++) {
		if (gettime(per[i].id, &s)) {
			bad = 1;
			continue;
		}
		if (ns(&s.it_interval) != per[i].iv || ns(&s.it_value) <= 0 || ns(&s.it_value) > per[i].iv) {
			t_fail("timer %s (id %d): interval %ld ns value %ld ns, expected interval %ld", per[i].name,
			       per[i].id, (long)ns(&s.it_interval), (long)ns(&s.it_value), (long)per[i].iv);
			bad = 1;
		}
	}
	if (!gettime(id_n, &s)) {
		if (ns(&s.it_interval) != 0 || ns(&s.it_value) <= 0 || ns(&s.it_value) > 1000000000000LL) {
			t_fail("timer N (id %d): interval %ld ns value %ld ns, expected a one-shot under 1000 s",
			       id_n, (long)ns(&s.it_interval), (long)ns(&s.it_value));
			bad = 1;
		}
	} else {
		bad = 1;
	}

	if (!gettime(id_p, &s)) {
		if (ns(&s.it_interval) != 3000000000LL || ns(&s.it_value) <= 0 ||
		    ns(&s.it_value) > 500000000000LL) {
			t_fail("timer P (id %d): interval %ld ns value %ld ns, expected 3 s and under 500 s",
			       id_p, (long)ns(&s.it_interval), (long)ns(&s.it_value));
			bad = 1;
		}
	} else {
		bad = 1;
	}

	/* C: its pending SI_TIMER signal */
	siginfo_t si;
	sigset_t cs;
	sigemptyset(&cs);
	sigaddset(&cs, sig_c);
	int r = sigtimedwait(&cs, &si, &(struct timespec){ 0, 0 });
	if (r != sig_c) {
		t_fail("timer C (id %d): its signal %d is not pending any more", id_c, sig_c);
		bad = 1;
	} else if (si.si_code != SI_TIMER || si.si_value.sival_int != 777 || si.si_timerid != id_c) {
		t_fail("timer C: pending signal has si_code %d value %d timerid %d, expected %d 777 %d",
		       si.si_code, si.si_value.sival_int, si.si_timerid, SI_TIMER, id_c);
		bad = 1;
	}
	if (sigtimedwait(&cs, &si, &(struct timespec){ 0, 0 }) == sig_c) {
		t_fail("timer C: its signal was pending twice");
		bad = 1;
	}

	/* Rates over ~600 ms */
	unsigned long a0 = cnt_a, b0 = cnt_b, e0 = bad_n;
	int64_t t0 = t_now_ns(CLOCK_MONOTONIC), el;
	while ((el = t_now_ns(CLOCK_MONOTONIC) - t0) < 600000000LL)
		usleep(5000);
	unsigned long na = cnt_a - a0, nb = cnt_b - b0;
	double wa = (double)el / A_NS, wb = (double)el / B_NS;
	if (na < wa * 0.7 || na > wa * 1.3 + 1) {
		t_fail("timer A fired %lu times in %.0f ms, expected about %.1f", na, el / 1e6, wa);
		bad = 1;
	}
	if (nb < wb * 0.7 || nb > wb * 1.3 + 1) {
		t_fail("timer B fired %lu times in %.0f ms, expected about %.1f", nb, el / 1e6, wb);
		bad = 1;
	}
	if (bad_n != e0 || bad_n) {
		t_fail("%lu timer signals with wrong siginfo; first: signal %d si_code %d timerid %d value %#lx",
		       bad_n, bad_sig, bad_code, bad_id, bad_val);
		bad = 1;
	}
	if (fire_c()) {
		t_fail("timer C: fired again, but its signal does not become pending");
		bad = 1;
	}
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	t_init(argc, argv);
	sig_a = SIGRTMIN + 1;
	sig_b = SIGRTMIN + 4;
	sig_c = SIGRTMIN + 6;

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_timer;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig_a, &sa, NULL) || sigaction(sig_b, &sa, NULL))
		t_die("sigaction: %m");
	sigset_t cs;
	sigemptyset(&cs);
	sigaddset(&cs, sig_c);
	sigprocmask(SIG_BLOCK, &cs, NULL);

	/* Holes in the id space: keep every other one of the first five. */
	int tmp[5];
	for (int i = 0; i < 5; i++)
		tmp[i] = mk(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0);
	id_n = tmp[3];
	for (int i = 0; i < 5; i++)
		if (i != 3)
			syscall(SYS_timer_delete, tmp[i]);
	id_a = mk(CLOCK_REALTIME, SIGEV_SIGNAL, sig_a, 4242);
	id_c = mk(CLOCK_MONOTONIC, SIGEV_SIGNAL, sig_c, 777);
	id_b = mk(CLOCK_MONOTONIC, SIGEV_THREAD_ID | SIGEV_SIGNAL, sig_b, B_PTR);
	if (!id_a || !id_b)
		t_die("timer ids %d %d: expected non-zero ids", id_a, id_b);
	id_p = mk(CLOCK_PROCESS_CPUTIME_ID, SIGEV_NONE, 0, 0);
	t_log("timer ids: A %d B %d C %d N %d P %d", id_a, id_b, id_c, id_n, id_p);
	arm(id_n, 1000000000000LL, 0);
	arm(id_p, 500000000000LL, 3000000000LL);
	arm(id_a, A_NS, A_NS);
	arm(id_b, B_NS, B_NS);
	if (fire_c())
		t_die("timer C did not fire");
	t_run(check, NULL);
}
