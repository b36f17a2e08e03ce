/* Unix socketpairs (stream, dgram, seqpacket) with data queued in both
 * directions:
 *  - in one process: both ends here; datagrams and records keep their
 *    boundaries (an empty datagram and one of 100 KB among them);
 *  - across a fork: the parent holds one end, the child the other; the
 *    child checks its side on request (SIGUSR1, answer in "child-ack");
 *  - a stream pair whose one end did shutdown(SHUT_WR) after sending: the
 *    other end still has the bytes then end-of-stream, writing gives EPIPE,
 *    the reverse direction works;
 *  - a stream pair whose ends parent and child both hold (inherited, not
 *    closed): still one socket each (kcmp), bytes queued in it;
 *  - SO_SNDBUF set on one end;
 *  - a stream end whose peer sent "bye" and was closed: the bytes, then
 *    end-of-stream; a datagram socket connected to a peer since closed,
 *    a datagram from it still queued (getpeername still answers).
 * Every check takes the queues out, compares them, and puts them back. */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"
#include "tunix.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

static const int types[3] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
static const char *tname[3] = { "stream", "dgram", "seqpacket" };

static char big[100000];
static struct tu_msg ab[3][4], ba[3][2];
static size_t nab[3], nba[3];

struct st {
	int child;
	int a[3], b[3];         /* same process */
	int x[3];               /* parent's ends; the child's are y[] */
	int y[3];
	int c, d;               /* c shut its writing side after "last words" */
	int s1, s2;             /* held by both processes */
	int e;                  /* stream: peer sent "bye" and was closed */
	int g;                  /* dgram: connected to a closed peer */
	int req;
};

static void init_msgs(void)
{
	t_fill(big, sizeof(big), 77);
	for (int i = 0; i < 3; i++) {
		ab[i][0] = (struct tu_msg){ "alpha", 5 };
		ab[i][1] = (struct tu_msg){ "beta-beta", 9 };
		nab[i] = 2;
		if (types[i] == SOCK_DGRAM)
			ab[i][nab[i]++] = (struct tu_msg){ "", 0 };
		ab[i][nab[i]++] = (struct tu_msg){ big, sizeof(big) };
		ba[i][0] = (struct tu_msg){ "reply one", 9 };
		ba[i][1] = (struct tu_msg){ "2", 1 };
		nba[i] = 2;
	}
}

/* the child, on request: y[i] holds what the parent sent (ab); send ba
 * back to refill x[i] */
static int child_step(void *arg)
{
	struct st *s = arg;

	for (int i = 0; i < 3; i++) {
		char what[64];
		snprintf(what, sizeof(what), "child %s end", tname[i]);
		if (tu_expect(s->y[i], ab[i], nab[i], what) || tu_send(s->y[i], ba[i], nba[i], NULL, 0))
			return -1;
	}
	return 0;
}

static int check_shut(struct st *s)
{
	char buf[32];
	struct pollfd p = { .fd = s->d, .events = POLLIN | POLLRDHUP };
	int avail = -1;
	ssize_t r;

	if (ioctl(s->d, FIONREAD, &avail) < 0 || avail != 10 ||
	    recv(s->d, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT) != 10 || memcmp(buf, "last words", 10)) {
		t_fail("shut pair: 'last words' is not queued (%d bytes)", avail);
		return -1;
	}
	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLRDHUP)) {
		t_fail("shut pair: no end-of-stream after the data (revents 0x%x)", p.revents);
		return -1;
	}
	r = send(s->c, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (r != -1 || errno != EPIPE) {
		t_fail("shut pair: sending on the shut end gave %zd (%s), expected EPIPE", r, strerror(errno));
		return -1;
	}
	if (send(s->d, "back", 4, MSG_DONTWAIT) != 4 || recv(s->c, buf, sizeof(buf), MSG_DONTWAIT) != 4 ||
	    memcmp(buf, "back", 4)) {
		t_fail("shut pair: the other direction does not work");
		return -1;
	}
	return 0;
}

static int check(void *arg)
{
	struct st *s = arg;
	char what[64], buf[16];
	int me = getpid(), v = 0;
	socklen_t l = sizeof(v);

	for (int i = 0; i < 3; i++) {
		if (tu_type(s->a[i]) != types[i] || tu_type(s->b[i]) != types[i] || tu_type(s->x[i]) != types[i]) {
			t_fail("%s pair: wrong socket type", tname[i]);
			return -1;
		}
		snprintf(what, sizeof(what), "%s pair, end b", tname[i]);
		if (tu_expect(s->b[i], ab[i], nab[i], what))
			return -1;
		snprintf(what, sizeof(what), "%s pair, end a", tname[i]);
		if (tu_expect(s->a[i], ba[i], nba[i], what))
			return -1;
		if (tu_send(s->a[i], ab[i], nab[i], NULL, 0) || tu_send(s->b[i], ba[i], nba[i], NULL, 0))
			return -1;
		/* across the fork: what the child sent */
		snprintf(what, sizeof(what), "parent %s end", tname[i]);
		if (tu_expect(s->x[i], ba[i], nba[i], what))
			return -1;
	}
	if (getsockopt(s->a[0], SOL_SOCKET, SO_SNDBUF, &v, &l) < 0 || v != 2 * 50000) {
		t_fail("SO_SNDBUF of the stream end is %d, expected %d", v, 2 * 50000);
		return -1;
	}
	if (check_shut(s))
		return -1;
	/* closed peers */
	{
		struct pollfd p = { .fd = s->e, .events = POLLIN | POLLRDHUP };
		struct sockaddr_un a;
		socklen_t al = sizeof(a);
		int avail = -1;
		if (ioctl(s->e, FIONREAD, &avail) < 0 || avail != 3 ||
		    recv(s->e, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT) != 3 || memcmp(buf, "bye", 3) ||
		    poll(&p, 1, 0) != 1 || !(p.revents & POLLRDHUP)) {
			t_fail("stream end of a closed peer: %d bytes queued, revents 0x%x", avail, p.revents);
			return -1;
		}
		if (getpeername(s->g, (struct sockaddr *)&a, &al) < 0) {
			t_fail("dgram connected to a closed peer: getpeername: %m");
			return -1;
		}
		if (recv(s->g, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT) != 10 || memcmp(buf, "last dgram", 10)) {
			t_fail("dgram connected to a closed peer: its queued datagram is gone");
			return -1;
		}
	}
	/* the shared pair: one socket in both processes */
	if (syscall(SYS_kcmp, me, s->child, KCMP_FILE, s->s1, s->s1) != 0 ||
	    syscall(SYS_kcmp, me, s->child, KCMP_FILE, s->s2, s->s2) != 0) {
		t_fail("the shared pair is not the same socket in parent and child");
		return -1;
	}
	if (recv(s->s2, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT) != 6 || memcmp(buf, "shared", 6)) {
		t_fail("the shared pair lost its queued bytes");
		return -1;
	}

	if (tu_ask_child(s->child, &s->req))
		return -1;
	/* the child took its queues out and refilled ours: refill its */
	for (int i = 0; i < 3; i++)
		if (tu_send(s->x[i], ab[i], nab[i], NULL, 0))
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static struct st s;
	int sp[2], pid, v = 50000;

	t_init(argc, argv);
	init_msgs();
	tu_catch_requests();
	for (int i = 0; i < 3; i++) {
		if (socketpair(AF_UNIX, types[i] | SOCK_CLOEXEC, 0, sp) < 0)
			t_die("socketpair: %m");
		s.a[i] = sp[0];
		s.b[i] = sp[1];
		if (socketpair(AF_UNIX, types[i] | SOCK_CLOEXEC, 0, sp) < 0)
			t_die("socketpair: %m");
		s.x[i] = sp[0];
		s.y[i] = sp[1];
		if (tu_send(s.a[i], ab[i], nab[i], NULL, 0) || tu_send(s.b[i], ba[i], nba[i], NULL, 0) ||
		    tu_send(s.x[i], ab[i], nab[i], NULL, 0) || tu_send(s.y[i], ba[i], nba[i], NULL, 0))
			t_die("filling the queues");
	}
	if (setsockopt(s.a[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) < 0)
		t_die("SO_SNDBUF: %m");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		t_die("socketpair: %m");
	s.c = sp[0];
	s.d = sp[1];
	if (send(s.c, "last words", 10, 0) != 10 || shutdown(s.c, SHUT_WR) < 0)
		t_die("shutdown: %m");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		t_die("socketpair: %m");
	s.s1 = sp[0];
	s.s2 = sp[1];
	if (send(s.s1, "shared", 6, 0) != 6)
		t_die("send: %m");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0 || send(sp[1], "bye", 3, 0) != 3)
		t_die("socketpair: %m");
	s.e = sp[0];
	close(sp[1]);
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp) < 0 || send(sp[1], "last dgram", 10, 0) != 10)
		t_die("socketpair: %m");
	s.g = sp[0];
	close(sp[1]);
	pid = tp_fork();
	if (pid < 0)
		t_die("fork: %m");
	if (pid == 0) {
		for (int i = 0; i < 3; i++)
			close(s.x[i]);
		tu_child_serve(s.req, child_step, &s);
	}
	s.child = pid;
	for (int i = 0; i < 3; i++)
		close(s.y[i]);
	t_run(check, &s);
}
