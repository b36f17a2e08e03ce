/* timerfds come back armed as they were:
 *  P (fd 40): CLOCK_MONOTONIC, relative, 25 ms period: keeps ticking at its
 *    rate (counted against CLOCK_MONOTONIC over ~500 ms);
 *  R (fd 41): CLOCK_REALTIME, TFD_TIMER_ABSTIME, 100 ms period on a grid
 *    starting at a whole second T0: after the restore its expiries are still
 *    on that grid (a timer re-armed with its remaining time would be shifted
 *    by the time the process was away), and it fires at those times;
 *  H (fd 42): CLOCK_REALTIME, ABSTIME | TFD_TIMER_CANCEL_ON_SET, one-shot at
 *    T0 + 1 h: remaining time = T1 - now;
 *  U (fd 43): CLOCK_MONOTONIC one-shot 1 ms that expired and was never read:
 *    its one expiration is still there to read;
 *  M (fd 44): CLOCK_REALTIME ABSTIME, 1 h period, first expiry 5.5 h in the
 *    past: exactly 6 expirations unread;
 *  B (fd 45): CLOCK_BOOTTIME, relative one-shot 1000 s.
 * Clock ids and settime flags are also compared in /proc/self/fdinfo. */
// crest-test: mode=cr
#include "t.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define MS 1000000LL
#define SEC 1000000000LL
#define P_IV (25 * MS)
#define R_IV (100 * MS)
#define M_IV (3600 * SEC)

enum { P = 40, R, H, U, M, B };

static int64_t t0, t1;          /* CLOCK_REALTIME ns: R's grid origin, H's expiry */

static struct timespec ts(int64_t ns)
{
	return (struct timespec){ ns / SEC, ns % SEC };
}

static int64_t ns(const struct timespec *t)
{
	return t->tv_sec * SEC + t->tv_nsec;
}

static void mk(int at, int clk, int cflags, int sflags, int64_t value, int64_t iv)
{
	struct itimerspec its = { .it_value = ts(value), .it_interval = ts(iv) };
	int fd = timerfd_create(clk, cflags);

	if (fd < 0 || dup2(fd, at) != at)
		t_die("timerfd at %d: %m", at);
	close(fd);
	if (timerfd_settime(at, sflags, &its, NULL))
		t_die("timerfd_settime %d: %m", at);
}

static int readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, ms) == 1;
}

static uint64_t rd(int fd)
{
	uint64_t v = 0;
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static void arm_u(void)
{
	struct itimerspec its = { .it_value = ts(MS) };
	if (timerfd_settime(U, 0, &its, NULL) || !readable(U, 1000))
		t_die("U: cannot make it expire: %m");
}

static void arm_m(void)
{
	struct itimerspec its = { .it_value = ts(t_now_ns(CLOCK_REALTIME) - 5 * M_IV - M_IV / 2),
				  .it_interval = ts(M_IV) };
	if (timerfd_settime(M, TFD_TIMER_ABSTIME, &its, NULL) || !readable(M, 1000))
		t_die("M: cannot make it expire: %m");
}

/* clockid and settime flags as /proc/self/fdinfo shows them */
static int fdinfo(int fd, int *clk, unsigned *flags)
{
	char path[64], buf[1024];
	const char *p;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (t_read_file(path, buf, sizeof(buf)) <= 0 || !(p = strstr(buf, "clockid:")) ||
	    sscanf(p, "clockid: %d", clk) != 1 || !(p = strstr(buf, "settime flags:")) ||
	    sscanf(p, "settime flags: %o", flags) != 1)
		return -1;
	return 0;
}

static int gettime(int fd, int64_t *value, int64_t *iv)
{
	struct itimerspec cur;
	if (timerfd_gettime(fd, &cur))
		return -1;
	*value = ns(&cur.it_value);
	*iv = ns(&cur.it_interval);
	return 0;
}

static int check(void *arg)
{
	static const struct { int fd, clk; unsigned flags; const char *name; } want[] = {
		{ P, CLOCK_MONOTONIC, 0, "P" },
		{ R, CLOCK_REALTIME, TFD_TIMER_ABSTIME, "R" },
		{ H, CLOCK_REALTIME, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, "H" },
		{ U, CLOCK_MONOTONIC, 0, "U" },
		{ M, CLOCK_REALTIME, TFD_TIMER_ABSTIME, "M" },
		{ B, CLOCK_BOOTTIME, 0, "B" },
	};
	int64_t v, iv, now, e;
	uint64_t n;
	int bad = 0, clk;
	unsigned fl;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (fdinfo(want[i].fd, &clk, &fl) || clk != want[i].clk || fl != want[i].flags) {
			t_fail("%s: fdinfo clockid %d settime flags 0%o, expected %d 0%o", want[i].name, clk,
			       fl, want[i].clk, want[i].flags);
			bad = -1;
		}

	/* U: its unread expiration */
	if ((n = rd(U)) != 1) {
		t_fail("U: read %llu expirations, expected 1 (not read before the dump)",
		       (unsigned long long)n);
		bad = -1;
	}
	if (readable(U, 0)) {
		t_fail("U: still readable after reading it");
		bad = -1;
	}
	arm_u();

	/* M: exactly 6 */
	if ((n = rd(M)) != 6) {
		t_fail("M: read %llu expirations, expected 6", (unsigned long long)n);
		bad = -1;
	}
	if (gettime(M, &v, &iv) || iv != M_IV || v <= 0 || v > M_IV / 2 + SEC) {
		t_fail("M: remaining %lld ns interval %lld ns, expected about 30 min and 1 h",
		       (long long)v, (long long)iv);
		bad = -1;
	}
	arm_m();

	/* H: absolute expiry kept */
	now = t_now_ns(CLOCK_REALTIME);
	if (gettime(H, &v, &iv) || iv != 0 || llabs(now + v - t1) > 5 * MS) {
		t_fail("H: remaining %lld ns, expected %lld (its absolute expiry moved by %lld ms)",
		       (long long)v, (long long)(t1 - now), (long long)((now + v - t1) / MS));
		bad = -1;
	}

	/* B */
	if (gettime(B, &v, &iv) || iv != 0 || v <= 0 || v > 1000 * SEC) {
		t_fail("B: remaining %lld ns interval %lld, expected a one-shot under 1000 s", (long long)v,
		       (long long)iv);
		bad = -1;
	}

	/* R: still on its grid, and fires on it */
	now = t_now_ns(CLOCK_REALTIME);
	if (gettime(R, &v, &iv) || iv != R_IV) {
		t_fail("R: interval %lld, expected %lld", (long long)iv, R_IV);
		bad = -1;
	} else {
		e = (now + v - t0) % R_IV;
		e = e > R_IV / 2 ? R_IV - e : e;
		if (e > 2 * MS) {
			t_fail("R: next expiry %lld ms off its grid (T0 + k * 100 ms)", (long long)(e / MS));
			bad = -1;
		}
	}
	for (int k = 0, ok = 0; k < 5 && !ok; k++) {
		rd(R);
		if (!readable(R, 300)) {
			t_fail("R: did not fire within 300 ms");
			bad = -1;
			break;
		}
		e = (t_now_ns(CLOCK_REALTIME) - t0) % R_IV;
		ok = e < 20 * MS;
		if (k == 4 && !ok) {
			t_fail("R: fired %lld ms after its grid time, 5 times in a row", (long long)(e / MS));
			bad = -1;
		}
	}

	/* P: its rate over ~500 ms */
	if (gettime(P, &v, &iv) || iv != P_IV || v <= 0 || v > P_IV) {
		t_fail("P: remaining %lld interval %lld, expected <= 25 ms and 25 ms", (long long)v,
		       (long long)iv);
		bad = -1;
	}
	rd(P);
	int64_t start = t_now_ns(CLOCK_MONOTONIC), el;
	n = 0;
	while ((el = t_now_ns(CLOCK_MONOTONIC) - start) < 500 * MS)
		if (readable(P, 200))
			n += rd(P);
	el = t_now_ns(CLOCK_MONOTONIC) - start;
	double w = (double)el / P_IV;
	if (n < w * 0.7 || n > w * 1.3 + 1) {
		t_fail("P: %llu expirations in %lld ms, expected about %.1f", (unsigned long long)n,
		       (long long)(el / MS), w);
		bad = -1;
	}
	return bad;
}

int main(int argc, char **argv)
{
	int64_t now;

	t_init(argc, argv);
	now = t_now_ns(CLOCK_REALTIME);
	t0 = now / SEC * SEC;   /* in the past: on its grid from now on */
	t1 = t0 + 3600 * SEC;
	mk(P, CLOCK_MONOTONIC, 0, 0, P_IV, P_IV);
	mk(R, CLOCK_REALTIME, TFD_NONBLOCK, TFD_TIMER_ABSTIME, t0, R_IV);
	mk(H, CLOCK_REALTIME, 0, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, t1, 0);
	mk(U, CLOCK_MONOTONIC, TFD_NONBLOCK, 0, 0, 0);
	mk(M, CLOCK_REALTIME, TFD_NONBLOCK, 0, 0, 0);
	mk(B, CLOCK_BOOTTIME, 0, 0, 1000 * SEC, 0);
	arm_u();
	arm_m();
	t_run(check, NULL);
}
