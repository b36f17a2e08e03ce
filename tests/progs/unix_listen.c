/* Listening unix stream sockets, one bound to a path in the test dir, one
 * to an abstract name, each with
 *  - an accepted connection and its client, data queued both ways (the
 *    path listener's client lives in a child process),
 *  - a connection not accepted yet (the path listener's from the child).
 * A check: the names are the same (getsockname, getpeername), the queued
 * data is there and the connections work both ways; the first accept()
 * gives the pending connection, which works; if the file "outside"
 * exists (the runner started a client of its own, tests/cases/
 * unix_listen_outside.sh), the next accept() on each listener gives it:
 * it says "hello" and gets "world".  Then everything is put back as it was
 * (queues refilled, a new pending connection). */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"
#include "tunix.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>

static const struct tu_msg to_srv[2] = { { "request one", 11 }, { "request two", 11 } };
static const struct tu_msg to_cli[1] = { { "response!", 9 } };

struct st {
	int child;
	int l1, a1;             /* path listener, accepted end (client c1 in the child) */
	int c1, p1;             /* child: client, pending client */
	int l2, a2, c2, p2;     /* abstract listener, all here */
	char path[200], abs_name[64];
	int req;
};

static int connect_new(const char *name, int abstract, int at)
{
	struct sockaddr_un a;
	socklen_t l = tu_addr(&a, name, abstract);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, l) < 0) {
		t_fail("connect to %s%s: %m", abstract ? "@" : "", name);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (at >= 0 && fd != at) {
		if (dup3(fd, at, O_CLOEXEC) < 0) {
			t_fail("dup3: %m");
			close(fd);
			return -1;
		}
		close(fd);
		fd = at;
	}
	return fd;
}

static int accept_wait(int l, int ms)
{
	struct pollfd p = { .fd = l, .events = POLLIN };

	if (poll(&p, 1, ms) != 1)
		return -1;
	return accept4(l, NULL, NULL, SOCK_CLOEXEC);
}

static int xfer(int from, int to, const char *msg, const char *what)
{
	char buf[32];
	size_t n = strlen(msg);
	struct pollfd p = { .fd = to, .events = POLLIN };

	if (send(from, msg, n, MSG_NOSIGNAL) != (ssize_t)n || poll(&p, 1, 5000) != 1 ||
	    recv(to, buf, sizeof(buf), MSG_DONTWAIT) != (ssize_t)n || memcmp(buf, msg, n)) {
		t_fail("%s: '%s' did not go through", what, msg);
		return -1;
	}
	return 0;
}

/* the child, on request */
static int child_step(void *arg)
{
	struct st *s = arg;
	struct pollfd p = { .fd = s->p1, .events = POLLIN };
	char buf[16];

	if (tu_expect(s->c1, to_cli, 1, "child: client of the path listener") ||
	    tu_send(s->c1, to_srv, 2, NULL, 0))
		return -1;
	/* the parent accepted our pending connection and said ping */
	if (poll(&p, 1, 5000) != 1 || recv(s->p1, buf, sizeof(buf), 0) != 4 || memcmp(buf, "ping", 4) ||
	    send(s->p1, "pong", 4, 0) != 4) {
		t_fail("child: the pending connection does not work");
		return -1;
	}
	/* a new pending connection, at the same fd */
	return connect_new(s->path, 0, s->p1) < 0 ? -1 : 0;
}

static int check_names(struct st *s)
{
	char n[200], want2[80];

	snprintf(want2, sizeof(want2), "@%s", s->abs_name);
	if (strcmp(tu_name(s->l1, 0, n, sizeof(n)), s->path) || strcmp(tu_name(s->a1, 0, n, sizeof(n)), s->path)) {
		t_fail("path listener or its accepted end is named '%s', expected '%s'", n, s->path);
		return -1;
	}
	if (strcmp(tu_name(s->l2, 0, n, sizeof(n)), want2) || strcmp(tu_name(s->a2, 0, n, sizeof(n)), want2) ||
	    strcmp(tu_name(s->c2, 1, n, sizeof(n)), want2) || strcmp(tu_name(s->c2, 0, n, sizeof(n)), "")) {
		t_fail("abstract listener or its connection: '%s', expected '%s'", n, want2);
		return -1;
	}
	return 0;
}

/* a client the runner started: "hello" -> "world" */
static int serve_outside(int l, const char *what)
{
	char buf[16];
	struct pollfd p;
	int fd = accept_wait(l, 10000);

	if (fd < 0) {
		t_fail("%s: no connection from the client outside", what);
		return -1;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 5000) != 1 || recv(fd, buf, sizeof(buf), 0) != 5 || memcmp(buf, "hello", 5) ||
	    send(fd, "world", 5, MSG_NOSIGNAL) != 5) {
		t_fail("%s: the client outside did not say hello", what);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int check(void *arg)
{
	struct st *s = arg;
	int ap1 = -1, ap2 = -1, outside = access("outside", F_OK) == 0, r = -1;

	if (check_names(s))
		return -1;
	/* the connections: queues, both ways */
	if (tu_expect(s->a1, to_srv, 2, "accepted end (path)") || tu_expect(s->a2, to_srv, 2, "accepted end (abstract)") ||
	    tu_expect(s->c2, to_cli, 1, "client (abstract)") || xfer(s->a2, s->c2, "a2->c2", "abstract connection") ||
	    xfer(s->c2, s->a2, "c2->a2", "abstract connection") || tu_send(s->c2, to_srv, 2, NULL, 0) ||
	    tu_send(s->a2, to_cli, 1, NULL, 0))
		return -1;
	/* the pending connections come first */
	ap2 = accept_wait(s->l2, 0);
	if (ap2 < 0 || xfer(ap2, s->p2, "ping2", "pending connection (abstract)") ||
	    xfer(s->p2, ap2, "pong2", "pending connection (abstract)")) {
		t_fail("the pending connection to the abstract listener is not there (%d)", ap2);
		goto out;
	}
	ap1 = accept_wait(s->l1, 0);
	if (ap1 < 0 || send(ap1, "ping", 4, MSG_NOSIGNAL) != 4) {
		t_fail("the pending connection to the path listener is not there");
		goto out;
	}
	if (outside && (serve_outside(s->l1, "path listener") || serve_outside(s->l2, "abstract listener")))
		goto out;

	if (tu_ask_child(s->child, &s->req))
		goto out;
	{
		char buf[8];
		struct pollfd p = { .fd = ap1, .events = POLLIN };
		if (poll(&p, 1, 5000) != 1 || recv(ap1, buf, sizeof(buf), 0) != 4 || memcmp(buf, "pong", 4)) {
			t_fail("the pending connection to the path listener does not answer");
			goto out;
		}
	}
	if (tu_send(s->a1, to_cli, 1, NULL, 0))
		goto out;
	/* a new pending connection to the abstract listener, at the same fd */
	if (connect_new(s->abs_name, 1, s->p2) < 0)
		goto out;
	/* the child refilled a1 (to_srv); c2's queue to a2 was refilled above */
	r = 0;
out:
	if (ap1 >= 0)
		close(ap1);
	if (ap2 >= 0)
		close(ap2);
	return r;
}

static int listener(const char *name, int abstract)
{
	struct sockaddr_un a;
	socklen_t l = tu_addr(&a, name, abstract);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, l) < 0 || listen(fd, 8) < 0)
		t_die("listen on %s: %m", name);
	return fd;
}

int main(int argc, char **argv)
{
	static struct st s;
	int pid;

	t_init(argc, argv);
	tu_catch_requests();
	snprintf(s.path, sizeof(s.path), "%s/srv.sock", t_dir());
	snprintf(s.abs_name, sizeof(s.abs_name), "crest-listen-%d", getpid());
	unlink(s.path);
	s.l1 = listener(s.path, 0);
	s.l2 = listener(s.abs_name, 1);
	s.c1 = connect_new(s.path, 0, -1);
	s.a1 = accept4(s.l1, NULL, NULL, SOCK_CLOEXEC);
	s.c2 = connect_new(s.abs_name, 1, -1);
	s.a2 = accept4(s.l2, NULL, NULL, SOCK_CLOEXEC);
	if (s.c1 < 0 || s.a1 < 0 || s.c2 < 0 || s.a2 < 0)
		t_die("connections: %m");
	if (tu_send(s.c1, to_srv, 2, NULL, 0) || tu_send(s.a1, to_cli, 1, NULL, 0) ||
	    tu_send(s.c2, to_srv, 2, NULL, 0) || tu_send(s.a2, to_cli, 1, NULL, 0))
		t_die("queues");
	s.p2 = connect_new(s.abs_name, 1, -1);
	pid = tp_fork();
	if (pid < 0)
		t_die("fork: %m");
	if (pid == 0) {
		close(s.a1);
		close(s.l1);
		close(s.l2);
		close(s.a2);
		close(s.c2);
		close(s.p2);
		s.p1 = connect_new(s.path, 0, -1);
		if (s.p1 < 0 || t_write_file("child-ready", "1\n", 2) < 0)
			_exit(1);
		tu_child_serve(s.req, child_step, &s);
	}
	s.child = pid;
	close(s.c1);
	/* the child's pending connection is queued before the first check */
	for (int i = 0; i < 2000 && access("child-ready", F_OK); i++)
		tp_sleep_ms(5);
	if (access("child-ready", F_OK))
		t_die("the child did not connect");
	t_run(check, &s);
}
