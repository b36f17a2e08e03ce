/* Half-closed TCP connections, both ends in the tree (one process):
 *  - a -> b: a sent "bye from a" and shut down its sending side; b has
 *    read nothing (b: CLOSE_WAIT with the bytes and the FIN queued, a:
 *    FIN_WAIT2);
 *  - c <-> d: d sent "last words" and shut down, c read them and the end
 *    of stream (c: CLOSE_WAIT, nothing queued), then sent "c reply" that d
 *    has not read (d: FIN_WAIT2, data queued).
 * A check: b reads exactly "bye from a" and then the end of stream, and can
 * still send to a (a's receiving side is open); c sees the end of stream
 * again; d reads "c reply".  A check consumes its set of connections; the one before
 * the dump uses its own set, every check after a restore the other. */
// crest-test: mode=cr
#include "t.h"
#include "ttcp.h"

struct set {
	int a, b, c, d;
};
static struct set sets[2];
static int checks;

static int pair(int *x, int *y)
{
	int l = tt_listener(AF_INET, 1);
	*x = tt_connect(AF_INET, tt_port(l, 0));
	*y = tt_accept(l, 5000);
	close(l);
	return *x < 0 || *y < 0 ? -1 : 0;
}

static int make(struct set *s)
{
	char buf[32];

	if (pair(&s->a, &s->b) || pair(&s->c, &s->d))
		return -1;
	if (send(s->a, "bye from a", 10, 0) != 10 || shutdown(s->a, SHUT_WR) < 0)
		return -1;
	if (send(s->d, "last words", 10, 0) != 10 || shutdown(s->d, SHUT_WR) < 0 ||
	    tt_recv_exact(s->c, buf, 10, 5000, "c") || recv(s->c, buf, sizeof(buf), 0) != 0)
		return -1;
	if (send(s->c, "c reply", 7, 0) != 7)
		return -1;
	usleep(50000);      /* the FINs cross loopback */
	return 0;
}

static int expect_eof_after(int fd, const char *want, const char *what)
{
	char buf[32];
	size_t n = strlen(want);

	if (tt_recv_exact(fd, buf, n, 5000, what))
		return -1;
	if (memcmp(buf, want, n)) {
		t_fail("%s: got '%.*s', expected '%s'", what, (int)n, buf, want);
		return -1;
	}
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 5000) != 1 || recv(fd, buf, sizeof(buf), MSG_DONTWAIT) != 0) {
		t_fail("%s: no end of stream after '%s'", what, want);
		return -1;
	}
	return 0;
}

static int check(void *arg)
{
	struct set *s = &sets[checks++ ? 1 : 0];
	char buf[8];

	(void)arg;
	if (expect_eof_after(s->b, "bye from a", "b (CLOSE_WAIT)"))
		return -1;
	if (recv(s->c, buf, sizeof(buf), MSG_DONTWAIT) != 0) {
		t_fail("c (CLOSE_WAIT, end of stream read) does not see the end of stream again");
		return -1;
	}
	if (tt_recv_exact(s->d, buf, 7, 5000, "d (FIN_WAIT2)") || memcmp(buf, "c reply", 7)) {
		t_fail("d did not get 'c reply'");
		return -1;
	}
	if (send(s->b, "back", 4, MSG_NOSIGNAL) != 4 || tt_recv_exact(s->a, buf, 4, 5000, "a") ||
	    memcmp(buf, "back", 4)) {
		t_fail("b cannot send to a any more");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	t_init(argc, argv);
	if (make(&sets[0]) || make(&sets[1]))
		t_die("half-closed connections: %m");
	t_run(check, NULL);
}
