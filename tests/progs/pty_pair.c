/* pty pairs held by the process come back at the same /dev/pts index with
 * their state and the bytes nobody has read yet:
 *  A: canonical with echo, a changed VERASE and VEOL ('@'), 9600 baud,
 *     window 40x100, packet mode on the master; the master wrote
 *     "hello\nworld@par" (two lines and one being typed, echoed back) and
 *     the slave wrote "out1\nout2" (ONLCR: "out1\r\nout2");
 *  B: raw, non-blocking master, a locked pty with an exclusive slave, 3000
 *     bytes queued for the slave and 1000 for the master;
 *  C: a master whose slave was never opened;
 *  D: a master whose slave was opened and closed again (POLLHUP).
 * Before the dump the check only counts (FIONREAD, canonical: whole lines);
 * after a restore it reads every queue and compares byte for byte. */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define AM 20
#define AS 21
#define BM 22
#define BS 23
#define CM 24
#define DM 25

static int idx[4];
static struct termios ta, tb;
static int checks;
static const char a_echo_out[] = "hello\r\nworld@par" "out1\r\nout2";
static char b_in[3000], b_out[1000];

static int place(int fd, int at)
{
	if (fd < 0 || dup2(fd, at) != at)
		t_die("pty fd at %d: %m", at);
	close(fd);
	return at;
}

static int open_master(int at, int flags, int *index)
{
	int m = place(posix_openpt(O_RDWR | O_NOCTTY | flags), at);
	if (unlockpt(m) < 0 || ioctl(m, TIOCGPTN, index) < 0)
		t_die("unlockpt: %m");
	return m;
}

static int open_slave(int m, int at, int flags)
{
	return place(ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | flags), at);
}

static int same_termios(const struct termios *a, const struct termios *b)
{
	return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag && a->c_cflag == b->c_cflag &&
	       a->c_lflag == b->c_lflag && !memcmp(a->c_cc, b->c_cc, NCCS) &&
	       cfgetospeed(a) == cfgetospeed(b) && cfgetispeed(a) == cfgetispeed(b);
}

static int expect_int(const char *what, int got, int want)
{
	if (got == want)
		return 0;
	t_fail("%s: %d, expected %d", what, got, want);
	return -1;
}

static int inq(int fd)
{
	int n = -1;
	ioctl(fd, FIONREAD, &n);
	return n;
}

static int read_nb(int fd, char *buf, size_t len)
{
	size_t got = 0;
	for (int i = 0; i < 200 && got < len; i++) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n > 0)
			got += (size_t)n;
		else if (n < 0 && errno == EAGAIN)
			usleep(1000);
		else
			break;
	}
	return (int)got;
}

static int check_a(void)
{
	struct termios t;
	struct winsize ws;
	char buf[256];
	int bad = 0, v = -1;
	ssize_t n;

	if (tcgetattr(AS, &t) < 0 || !same_termios(&t, &ta)) {
		t_fail("A: termios differ (lflag 0%o, expected 0%o; VEOL %d)", t.c_lflag, ta.c_lflag,
		       t.c_cc[VEOL]);
		bad = -1;
	}
	if (ioctl(AM, TIOCGWINSZ, &ws) < 0 || ws.ws_row != 40 || ws.ws_col != 100) {
		t_fail("A: window %ux%u, expected 100x40", ws.ws_col, ws.ws_row);
		bad = -1;
	}
	ioctl(AM, TIOCGPKT, &v);
	bad |= expect_int("A: packet mode", v, 1);
	if (checks == 1) {
		/* before the dump: count only */
		bad |= expect_int("A: bytes of whole lines for the slave", inq(AS), 12);
		bad |= expect_int("A: bytes for the master", inq(AM), (int)strlen(a_echo_out));
		return bad;
	}
	n = read(AS, buf, sizeof(buf));
	if (n != 6 || memcmp(buf, "hello\n", 6)) {
		t_fail("A: first line %zd bytes '%.*s', expected 'hello\\n'", n, (int)(n > 0 ? n : 0), buf);
		bad = -1;
	}
	n = read(AS, buf, sizeof(buf));
	if (n != 6 || memcmp(buf, "world@", 6)) {
		t_fail("A: second line %zd bytes '%.*s', expected 'world@'", n, (int)(n > 0 ? n : 0), buf);
		bad = -1;
	}
	n = read(AS, buf, sizeof(buf));
	if (n != -1 || errno != EAGAIN) {
		t_fail("A: a third line (%zd bytes) where only 'par' is being typed", n);
		bad = -1;
	}
	/* the line being typed: completed with a newline */
	if (write(AM, "\n", 1) != 1)
		t_fail("A: write: %m");
	usleep(20000);
	n = read(AS, buf, sizeof(buf));
	if (n != 4 || memcmp(buf, "par\n", 4)) {
		t_fail("A: typed line %zd bytes '%.*s', expected 'par\\n'", n, (int)(n > 0 ? n : 0), buf);
		bad = -1;
	}
	n = read(AM, buf, sizeof(buf));
	if (n < 1 || buf[0] != TIOCPKT_DATA || (size_t)(n - 1) < strlen(a_echo_out) ||
	    memcmp(buf + 1, a_echo_out, strlen(a_echo_out))) {
		t_fail("A: master read %zd bytes: status %d '%.*s', expected status 0 '%s' + echo", n,
		       n > 0 ? buf[0] : -1, (int)(n > 1 ? n - 1 : 0), buf + 1, a_echo_out);
		bad = -1;
	}
	return bad;
}

static int check_b(void)
{
	struct termios t;
	static char buf[4096];
	int bad = 0, v = -1, n;

	if (tcgetattr(BS, &t) < 0 || !same_termios(&t, &tb)) {
		t_fail("B: termios differ (lflag 0%o, expected 0%o)", t.c_lflag, tb.c_lflag);
		bad = -1;
	}
	ioctl(BM, TIOCGPTLCK, &v);
	bad |= expect_int("B: locked", v, 1);
	v = -1;
	ioctl(BS, TIOCGEXCL, &v);
	bad |= expect_int("B: slave exclusive", v, 1);
	bad |= expect_int("B: master O_NONBLOCK", !!(fcntl(BM, F_GETFL) & O_NONBLOCK), 1);
	bad |= expect_int("B: slave O_NONBLOCK", !!(fcntl(BS, F_GETFL) & O_NONBLOCK), 1);
	if (checks == 1) {
		bad |= expect_int("B: bytes for the slave", inq(BS), (int)sizeof(b_in));
		bad |= expect_int("B: bytes for the master", inq(BM), (int)sizeof(b_out));
		return bad;
	}
	n = read_nb(BS, buf, sizeof(buf));
	if (n != (int)sizeof(b_in) || memcmp(buf, b_in, sizeof(b_in))) {
		t_fail("B: the slave read %d bytes, expected the %zu queued", n, sizeof(b_in));
		bad = -1;
	}
	n = read_nb(BM, buf, sizeof(buf));
	if (n != (int)sizeof(b_out) || memcmp(buf, b_out, sizeof(b_out))) {
		t_fail("B: the master read %d bytes, expected the %zu queued", n, sizeof(b_out));
		bad = -1;
	}
	return bad;
}

static int check(void *arg)
{
	int fds[4] = { AM, BM, CM, DM }, bad = 0;
	char want[32], what[32];

	checks++;
	for (int i = 0; i < 4; i++) {
		int v = -1;
		snprintf(what, sizeof(what), "pty %c: index", 'A' + i);
		ioctl(fds[i], TIOCGPTN, &v);
		bad |= expect_int(what, v, idx[i]);
	}
	snprintf(want, sizeof(want), "/dev/pts/%d", idx[0]);
	bad |= tp_expect_fd_link(getpid(), AS, want, "A's slave");
	snprintf(want, sizeof(want), "/dev/pts/%d", idx[1]);
	bad |= tp_expect_fd_link(getpid(), BS, want, "B's slave");
	struct pollfd p[2] = { { .fd = CM, .events = POLLIN }, { .fd = DM, .events = POLLIN } };
	poll(p, 2, 0);
	bad |= expect_int("C: POLLHUP (its slave was never opened)", !!(p[0].revents & POLLHUP), 0);
	bad |= expect_int("D: POLLHUP (its slave was closed)", !!(p[1].revents & POLLHUP), 1);
	bad |= check_a();
	bad |= check_b();
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct winsize ws = { .ws_row = 40, .ws_col = 100 };

	t_init(argc, argv);
	/* A */
	open_master(AM, 0, &idx[0]);
	open_slave(AM, AS, O_NONBLOCK);
	tcgetattr(AS, &ta);
	ta.c_cc[VERASE] = 0x08;
	ta.c_cc[VEOL] = '@';
	cfsetispeed(&ta, B9600);
	cfsetospeed(&ta, B9600);
	if (tcsetattr(AS, TCSANOW, &ta) < 0 || tcgetattr(AS, &ta) < 0 || ioctl(AM, TIOCSWINSZ, &ws) < 0)
		t_die("A: termios: %m");
	if (write(AM, "hello\nworld@par", 15) != 15)
		t_die("A: write: %m");
	usleep(50000);
	if (write(AS, "out1\nout2", 9) != 9)
		t_die("A: write: %m");
	if (ioctl(AM, TIOCPKT, &(int){ 1 }) < 0)
		t_die("A: TIOCPKT: %m");
	/* B */
	open_master(BM, O_NONBLOCK, &idx[1]);
	open_slave(BM, BS, O_NONBLOCK);
	tcgetattr(BS, &tb);
	cfmakeraw(&tb);
	if (tcsetattr(BS, TCSANOW, &tb) < 0 || tcgetattr(BS, &tb) < 0)
		t_die("B: termios: %m");
	t_fill(b_in, sizeof(b_in), 7);
	t_fill(b_out, sizeof(b_out), 8);
	if (write(BM, b_in, sizeof(b_in)) != sizeof(b_in) || write(BS, b_out, sizeof(b_out)) != sizeof(b_out))
		t_die("B: write: %m");
	if (ioctl(BS, TIOCEXCL) < 0 || ioctl(BM, TIOCSPTLCK, &(int){ 1 }) < 0)
		t_die("B: TIOCEXCL/TIOCSPTLCK: %m");
	/* C, D */
	open_master(CM, 0, &idx[2]);
	open_master(DM, 0, &idx[3]);
	close(open_slave(DM, 30, 0));
	usleep(50000);
	t_run(check, NULL);
}
