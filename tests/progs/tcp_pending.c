/* TCP connections not accepted yet, and established ones, across two
 * processes:
 *  - the parent listens on 127.0.0.1; the child holds 3 clients whose
 *    connections were never accepted, each with data sent (1, 2 and 3 x
 *    40 KiB of a pattern of its own);
 *  - an established IPv6 connection between the parent (accepted end) and
 *    the child (client), with data queued both ways.
 * A check: the 3 connections are accepted in their order with exactly their
 * data and answer; the established connection delivers its queues and
 * works both ways; then the child makes 3 new pending connections and the
 * queues are refilled (the state the next check expects). */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"
#include "ttcp.h"
#include "tunix.h"

#include <signal.h>
#include <sys/ioctl.h>

#define NP 3
#define CHUNK (40 * 1024)
#define TO_PARENT 3000
#define TO_CHILD 2000

struct st {
	int child, req;
	int l4, l6, a;          /* parent: listeners, accepted end of the v6 connection */
	int c, p[NP];           /* child: v6 client, pending clients */
	int port4, port6;
};

static uint8_t *pat(int seed, size_t n)
{
	static uint8_t buf[NP * CHUNK + TO_PARENT + TO_CHILD];
	for (size_t i = 0; i < n; i++)
		buf[i] = tt_pattern((uint64_t)seed, i);
	return buf;
}

static int expect_pat(int fd, int seed, size_t n, const char *what)
{
	static uint8_t got[NP * CHUNK + TO_PARENT + TO_CHILD];
	if (tt_recv_exact(fd, got, n, 5000, what))
		return -1;
	if (memcmp(got, pat(seed, n), n)) {
		t_fail("%s: the data differs", what);
		return -1;
	}
	return tt_expect_empty(fd, what);
}

/* child: make the pending connections (data sent, never accepted) */
static int make_pending(struct st *s)
{
	for (int i = 0; i < NP; i++) {
		s->p[i] = tt_connect(AF_INET, s->port4);
		if (s->p[i] < 0 || tt_send_all(s->p[i], pat(10 + i, (size_t)(i + 1) * CHUNK), (size_t)(i + 1) * CHUNK,
					       "pending client"))
			return -1;
	}
	return 0;
}

static int child_step(void *arg)
{
	struct st *s = arg;
	char want[16], buf[16];

	for (int i = 0; i < NP; i++) {
		snprintf(want, sizeof(want), "resp %d", i);
		if (tt_recv_exact(s->p[i], buf, strlen(want), 5000, "child: answer on a pending connection") ||
		    memcmp(buf, want, strlen(want))) {
			t_fail("child: pending connection %d: wrong answer", i);
			return -1;
		}
		close(s->p[i]);
	}
	if (expect_pat(s->c, 2, TO_CHILD, "child: queue of the established connection"))
		return -1;
	if (make_pending(s) || tt_send_all(s->c, pat(1, TO_PARENT), TO_PARENT, "child: refill"))
		return -1;
	return 0;
}

static int check(void *arg)
{
	struct st *s = arg;
	int acc[NP], r = -1, n = 0;
	char what[64], resp[16];

	for (int i = 0; i < NP; i++) {
		acc[i] = tt_accept(s->l4, 5000);
		if (acc[i] < 0) {
			t_fail("pending connection %d of %d is not there", i + 1, NP);
			goto out;
		}
		n++;
		snprintf(what, sizeof(what), "pending connection %d", i + 1);
		if (expect_pat(acc[i], 10 + i, (size_t)(i + 1) * CHUNK, what))
			goto out;
		snprintf(resp, sizeof(resp), "resp %d", i);
		if (tt_send_all(acc[i], resp, strlen(resp), what))
			goto out;
	}
	if (tt_accept(s->l4, 0) >= 0) {
		t_fail("more connections wait than the %d made", NP);
		goto out;
	}
	if (expect_pat(s->a, 1, TO_PARENT, "queue of the established connection"))
		goto out;
	if (tu_ask_child(s->child, &s->req))
		goto out;
	if (tt_send_all(s->a, pat(2, TO_CHILD), TO_CHILD, "refill"))
		goto out;
	/* the child refilled its queue towards us: wait for it to arrive */
	for (int i = 0; i < 200; i++) {
		int q = 0;
		if (ioctl(s->a, FIONREAD, &q) == 0 && q >= TO_PARENT)
			break;
		tp_sleep_ms(5);
	}
	r = 0;
out:
	for (int i = 0; i < n; i++)
		close(acc[i]);
	return r;
}

int main(int argc, char **argv)
{
	static struct st s;
	int pid;

	t_init(argc, argv);
	tu_catch_requests();
	s.l4 = tt_listener(AF_INET, 8);
	s.l6 = tt_listener(AF_INET6, 8);
	tt_setopt(s.l4, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
	s.port4 = tt_port(s.l4, 0);
	s.port6 = tt_port(s.l6, 0);
	pid = tp_fork();
	if (pid < 0)
		t_die("fork: %m");
	if (pid == 0) {
		close(s.l4);
		close(s.l6);
		s.c = tt_connect(AF_INET6, s.port6);
		if (s.c < 0 || tt_send_all(s.c, pat(1, TO_PARENT), TO_PARENT, "child") || make_pending(&s) ||
		    t_write_file("child-ready", "1\n", 2) < 0)
			_exit(1);
		tu_child_serve(s.req, child_step, &s);
	}
	s.child = pid;
	for (int i = 0; i < 2000 && access("child-ready", F_OK); i++)
		tp_sleep_ms(5);
	if (access("child-ready", F_OK))
		t_die("the child did not connect");
	s.a = tt_accept(s.l6, 5000);
	if (s.a < 0 || tt_send_all(s.a, pat(2, TO_CHILD), TO_CHILD, "parent"))
		t_die("the established connection: %m");
	for (int i = 0; i < 200; i++) {
		int q = 0;
		if (ioctl(s.a, FIONREAD, &q) == 0 && q >= TO_PARENT)
			break;
		tp_sleep_ms(5);
	}
	t_run(check, &s);
}
