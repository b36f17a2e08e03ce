/* UDP sockets, IPv4 and IPv6:
 *  - a: bound to 127.0.0.1, 3 datagrams queued from two senders (b, bound,
 *    and c, whose port was picked by its first send), message boundaries
 *    and sender addresses to keep;
 *  - d: bound to ::1 and connected to e (also ::1), 2 datagrams from e
 *    queued; e has SO_BROADCAST-like options of its own (IPV6_UNICAST_HOPS);
 *  - u: never bound, SO_BROADCAST set.
 * A check: the queues hold exactly those datagrams, in order, each from its
 * sender; names and peers are the same; datagrams go through both ways;
 * then the queues are refilled. */
// crest-test: mode=cr
#include "t.h"
#include "ttcp.h"

#include <fcntl.h>

static int a, b, c, d, e, u;

static int udp(int family, int bind_port)
{
	struct sockaddr_storage ss;
	socklen_t l = tt_addr(family, 0, &ss);
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || (bind_port && bind(fd, (struct sockaddr *)&ss, l) < 0))
		t_die("udp socket: %m");
	return fd;
}

static int send_to(int from, int to, const char *msg)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	if (getsockname(to, (struct sockaddr *)&ss, &l) < 0 ||
	    sendto(from, msg, strlen(msg), 0, (struct sockaddr *)&ss, l) != (ssize_t)strlen(msg)) {
		t_fail("sendto '%s': %m", msg);
		return -1;
	}
	return 0;
}

static int fill(void)
{
	if (send_to(b, a, "one from b") || send_to(c, a, "two from c") || send_to(b, a, "three from b, longer") ||
	    send(e, "to d first", 10, 0) != 10 || send(e, "to d second", 11, 0) != 11)
		return -1;
	for (int i = 0; i < 200; i++) {     /* loopback delivers at once, mostly */
		struct pollfd p[2] = { { a, POLLIN, 0 }, { d, POLLIN, 0 } };
		if (poll(p, 2, 10) == 2)
			break;
	}
	return 0;
}

static int expect(int fd, const char *want, int from, const char *what)
{
	char buf[64];
	struct sockaddr_storage src, exp;
	socklen_t sl = sizeof(src), el = sizeof(exp);

	(void)sl;
	ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&src, &sl);

	getsockname(from, (struct sockaddr *)&exp, &el);
	if (n != (ssize_t)strlen(want) || memcmp(buf, want, (size_t)n)) {
		t_fail("%s: got %zd bytes '%.*s', expected '%s'", what, n, n > 0 ? (int)n : 0, buf, want);
		return -1;
	}
	/* (a sender whose port its first send picked is bound to the wildcard
	 * address; its datagrams come from 127.0.0.1) */
	if (src.ss_family != exp.ss_family ||
	    ((struct sockaddr_in *)&src)->sin_port != ((struct sockaddr_in *)&exp)->sin_port) {
		t_fail("%s: '%s' comes from another address than its sender's", what, want);
		return -1;
	}
	return 0;
}

static int check(void *arg)
{
	char buf[8];

	(void)arg;
	if (expect(a, "one from b", b, "a") || expect(a, "two from c", c, "a") ||
	    expect(a, "three from b, longer", b, "a") || expect(d, "to d first", e, "d") ||
	    expect(d, "to d second", e, "d"))
		return -1;
	if (recv(a, buf, sizeof(buf), MSG_DONTWAIT) >= 0 || recv(d, buf, sizeof(buf), MSG_DONTWAIT) >= 0) {
		t_fail("more datagrams queued than sent");
		return -1;
	}
	if (tt_port(d, 1) != tt_port(e, 0) || tt_port(e, 1) != tt_port(d, 0)) {
		t_fail("d and e are no longer connected to each other");
		return -1;
	}
	if (tt_port(u, 0) != 0 || tt_getopt(u, SOL_SOCKET, SO_BROADCAST) != 1 ||
	    tt_getopt(e, IPPROTO_IPV6, IPV6_UNICAST_HOPS) != 7) {
		t_fail("u or e lost its options or name");
		return -1;
	}
	/* both ways */
	if (send(d, "ping", 4, 0) != 4 || tt_recv_exact(e, buf, 4, 2000, "e") || memcmp(buf, "ping", 4))
		return -1;
	return fill();
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t l;

	t_init(argc, argv);
	a = udp(AF_INET, 1);
	b = udp(AF_INET, 1);
	c = udp(AF_INET, 0);
	d = udp(AF_INET6, 1);
	e = udp(AF_INET6, 1);
	u = udp(AF_INET, 0);
	tt_setopt(u, SOL_SOCKET, SO_BROADCAST, 1, "SO_BROADCAST");
	tt_setopt(e, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 7, "IPV6_UNICAST_HOPS");
	l = sizeof(ss);
	if (getsockname(e, (struct sockaddr *)&ss, &l) < 0 || connect(d, (struct sockaddr *)&ss, l) < 0)
		t_die("connect d: %m");
	l = sizeof(ss);
	if (getsockname(d, (struct sockaddr *)&ss, &l) < 0 || connect(e, (struct sockaddr *)&ss, l) < 0)
		t_die("connect e: %m");
	if (fill())
		t_die("fill");
	t_run(check, NULL);
}
