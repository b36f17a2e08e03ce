/* Listening TCP sockets with options, IPv4 and IPv6, and unconnected ones:
 *  - a 127.0.0.1 listener (backlog 17, O_NONBLOCK) with SO_REUSEADDR,
 *    TCP_NODELAY, keepalive settings, TCP_DEFER_ACCEPT, TCP_FASTOPEN,
 *    SO_RCVBUF, SO_MARK, SO_PRIORITY, IP_TOS, SO_LINGER, SO_RCVTIMEO;
 *  - a ::1 listener (backlog 3) with IPV6_V6ONLY, SO_REUSEPORT, TCP_MAXSEG,
 *    TCP_USER_TIMEOUT, IPV6_TCLASS;
 *  - a socket bound to a port (and SO_BINDTODEVICE lo) but not listening, a
 *    socket never bound.
 * A check: every option, name, state and flag is what it was, and both
 * listeners accept a new connection that works both ways. */
// crest-test: mode=cr
#include "t.h"
#include "ttcp.h"

#include <fcntl.h>
#include <sys/time.h>

struct opt {
	int *fd;
	int level, name;
	const char *what;
	int want;
};

static int l4, l6, b4, u6;
static int port4, port6, portb;

static struct opt opts[] = {
	{ &l4, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", 1 },
	{ &l4, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", 1 },
	{ &l4, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE", 1 },
	{ &l4, IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE", 77 },
	{ &l4, IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL", 9 },
	{ &l4, IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT", 4 },
	{ &l4, IPPROTO_TCP, TCP_DEFER_ACCEPT, "TCP_DEFER_ACCEPT", 5 },
	{ &l4, IPPROTO_TCP, TCP_FASTOPEN, "TCP_FASTOPEN", 5 },
	{ &l4, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF", 100000 },
	{ &l4, SOL_SOCKET, SO_MARK, "SO_MARK", 42 },
	{ &l4, SOL_SOCKET, SO_PRIORITY, "SO_PRIORITY", 3 },
	{ &l4, IPPROTO_IP, IP_TOS, "IP_TOS", 0x10 },
	{ &l6, IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY", 1 },
	{ &l6, SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT", 1 },
	{ &l6, IPPROTO_TCP, TCP_MAXSEG, "TCP_MAXSEG", 1000 },
	{ &l6, IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT", 5000 },
	{ &l6, IPPROTO_IPV6, IPV6_TCLASS, "IPV6_TCLASS", 0x20 },
	{ &b4, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", 1 },
	{ &u6, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", 1 },
};
static int seen[sizeof(opts) / sizeof(opts[0])];    /* getsockopt before the dump */

static int serve_one(int l, int family, int port, const char *what)
{
	int c = tt_connect(family, port), a = -1, r = -1;
	char buf[8];

	if (c < 0)
		return -1;
	if (send(c, "ping", 4, MSG_NOSIGNAL) != 4) {
		t_fail("%s: a new client cannot send", what);
		goto out;
	}
	a = tt_accept(l, 5000);
	if (a < 0) {
		t_fail("%s: no new connection to accept", what);
		goto out;
	}
	if (tt_recv_exact(a, buf, 4, 5000, what) || memcmp(buf, "ping", 4) || send(a, "pong", 4, MSG_NOSIGNAL) != 4 ||
	    tt_recv_exact(c, buf, 4, 5000, what) || memcmp(buf, "pong", 4)) {
		t_fail("%s: the new connection does not work both ways", what);
		goto out;
	}
	r = 0;
out:
	if (a >= 0)
		close(a);
	close(c);
	return r;
}

static int check(void *arg)
{
	struct linger lg;
	struct timeval tv;
	socklen_t l;
	int bad = 0;

	(void)arg;
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		int v = tt_getopt(*opts[i].fd, opts[i].level, opts[i].name);
		if (v != seen[i]) {
			t_fail("%s is %d, was %d", opts[i].what, v, seen[i]);
			bad = 1;
		}
	}
	if (tt_port(l4, 0) != port4 || tt_port(l6, 0) != port6 || tt_port(b4, 0) != portb || tt_port(u6, 0) != 0) {
		t_fail("ports: %d %d %d %d, expected %d %d %d 0", tt_port(l4, 0), tt_port(l6, 0), tt_port(b4, 0),
		       tt_port(u6, 0), port4, port6, portb);
		bad = 1;
	}
	if (tt_getopt(l4, SOL_SOCKET, SO_ACCEPTCONN) != 1 || tt_getopt(l6, SOL_SOCKET, SO_ACCEPTCONN) != 1 ||
	    tt_getopt(b4, SOL_SOCKET, SO_ACCEPTCONN) != 0) {
		t_fail("listening states changed");
		bad = 1;
	}
	if (!(fcntl(l4, F_GETFL) & O_NONBLOCK) || (fcntl(l6, F_GETFL) & O_NONBLOCK)) {
		t_fail("O_NONBLOCK changed");
		bad = 1;
	}
	l = sizeof(lg);
	if (getsockopt(l4, SOL_SOCKET, SO_LINGER, &lg, &l) < 0 || !lg.l_onoff || lg.l_linger != 3) {
		t_fail("SO_LINGER is %d/%d, expected 1/3", lg.l_onoff, lg.l_linger);
		bad = 1;
	}
	l = sizeof(tv);
	if (getsockopt(l4, SOL_SOCKET, SO_RCVTIMEO, &tv, &l) < 0 || tv.tv_sec != 1 || tv.tv_usec != 500000) {
		t_fail("SO_RCVTIMEO is %ld.%06ld, expected 1.5 s", (long)tv.tv_sec, (long)tv.tv_usec);
		bad = 1;
	}
	{
		char dev[16] = "";
		socklen_t dl = sizeof(dev);
		if (getsockopt(b4, SOL_SOCKET, SO_BINDTODEVICE, dev, &dl) < 0 || strcmp(dev, "lo")) {
			t_fail("SO_BINDTODEVICE is '%s', expected 'lo'", dev);
			bad = 1;
		}
	}
	if (bad)
		return -1;
	if (serve_one(l4, AF_INET, port4, "IPv4 listener") || serve_one(l6, AF_INET6, port6, "IPv6 listener"))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct linger lg = { 1, 3 };
	struct timeval tv = { 1, 500000 };

	t_init(argc, argv);
	l4 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	l6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	b4 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	u6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l4 < 0 || l6 < 0 || b4 < 0 || u6 < 0)
		t_die("socket: %m");
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		tt_setopt(*opts[i].fd, opts[i].level, opts[i].name, opts[i].want, opts[i].what);
	if (setsockopt(b4, SOL_SOCKET, SO_BINDTODEVICE, "lo", 2) < 0)
		t_die("SO_BINDTODEVICE lo: %m");
	if (setsockopt(l4, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0 ||
	    setsockopt(l4, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		t_die("SO_LINGER/SO_RCVTIMEO: %m");
	{
		struct sockaddr_storage ss;
		socklen_t l = tt_addr(AF_INET, 0, &ss);
		if (bind(l4, (struct sockaddr *)&ss, l) < 0 || listen(l4, 17) < 0 ||
		    bind(b4, (struct sockaddr *)&ss, l) < 0)
			t_die("bind/listen IPv4: %m");
		l = tt_addr(AF_INET6, 0, &ss);
		if (bind(l6, (struct sockaddr *)&ss, l) < 0 || listen(l6, 3) < 0)
			t_die("bind/listen IPv6: %m");
	}
	if (fcntl(l4, F_SETFL, O_NONBLOCK) < 0)
		t_die("O_NONBLOCK: %m");
	port4 = tt_port(l4, 0);
	port6 = tt_port(l6, 0);
	portb = tt_port(b4, 0);
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		seen[i] = tt_getopt(*opts[i].fd, opts[i].level, opts[i].name);
	t_run(check, NULL);
}
