/* Datagram unix sockets bound to a path and to an abstract name, receiving
 * datagrams, with datagrams queued at dump time from:
 *  - an unnamed sender (sendto), a sender bound to a path, a sender bound
 *    to an abstract name (all in this process),
 *  - a client in a child process that connect()ed to the server's path.
 * The path server has SO_PASSCRED: every datagram carries the pid, uid and
 * gid of its sender.  A check takes every datagram out and compares data,
 * sender address and credentials, then the same senders send them again
 * (the child on request, SIGUSR1 / "child-ack"), which also shows that the
 * restored sockets still receive. */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"
#include "tunix.h"

#include <signal.h>

struct st {
	int child;
	int srv, srv2;          /* path server (SO_PASSCRED), abstract server */
	int un, bp, ba;         /* senders: unnamed, path-bound, abstract-bound */
	int cl;                 /* child: client connected to srv */
	char spath[200], bpath[200], sabs[64], babs[64];
	int req;
};

struct want {
	const char *data;
	const char *from;       /* "" unnamed, "/path", "@abstract" */
	int child;              /* credentials: the child's pid, else ours */
};

static int send_to(int fd, const char *data, const char *to, int abstract)
{
	struct sockaddr_un a;
	socklen_t l = tu_addr(&a, to, abstract);
	size_t n = strlen(data);

	if (sendto(fd, data, n, MSG_DONTWAIT, (struct sockaddr *)&a, l) != (ssize_t)n) {
		t_fail("sendto %s: %m", to);
		return -1;
	}
	return 0;
}

static int fill_parent_first(struct st *s)
{
	return send_to(s->un, "unnamed one", s->spath, 0) || send_to(s->bp, "from a path", s->spath, 0) ||
	       send_to(s->ba, "from abstract", s->spath, 0) || send_to(s->un, "to abstract 1", s->sabs, 1) ||
	       send_to(s->bp, "to abstract 2", s->sabs, 1);
}

static int fill_parent_last(struct st *s)
{
	return send_to(s->un, "unnamed two", s->spath, 0);
}

static int child_fill(struct st *s)
{
	if (send(s->cl, "client one", 10, MSG_DONTWAIT) != 10 || send(s->cl, "client two", 10, MSG_DONTWAIT) != 10) {
		t_fail("child: send on the connected client: %m");
		return -1;
	}
	return 0;
}

/* the child, on request: its client is still connected, it sends again */
static int child_step(void *arg)
{
	struct st *s = arg;
	char peer[200];

	if (strcmp(tu_name(s->cl, 1, peer, sizeof(peer)), s->spath) != 0) {
		t_fail("child: the client is connected to '%s', expected '%s'", peer, s->spath);
		return -1;
	}
	return child_fill(s);
}

static int expect(struct st *s, int fd, const struct want *w, size_t n, int creds, const char *what)
{
	char buf[256], ctl[CMSG_SPACE(sizeof(struct ucred))], from[200];

	for (size_t i = 0; i < n; i++) {
		struct sockaddr_un a;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_name = &a, .msg_namelen = sizeof(a), .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = ctl, .msg_controllen = sizeof(ctl) };
		struct cmsghdr *cm;
		struct ucred uc = { 0, 0, 0 };
		int have = 0;
		ssize_t r = recvmsg(fd, &mh, MSG_DONTWAIT);

		if (r != (ssize_t)strlen(w[i].data) || memcmp(buf, w[i].data, (size_t)r)) {
			t_fail("%s: datagram %zu: %zd bytes '%.*s', expected '%s'", what, i, r, r > 0 ? (int)r : 0, buf,
			       w[i].data);
			return -1;
		}
		if (strcmp(tu_addr_name(&a, mh.msg_namelen, from, sizeof(from)), w[i].from)) {
			t_fail("%s: datagram %zu comes from '%s', expected '%s'", what, i, from, w[i].from);
			return -1;
		}
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS) {
				memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
				have = 1;
			}
		if (creds && (!have || uc.pid != (w[i].child ? s->child : getpid()) || uc.uid != getuid() ||
			      uc.gid != getgid())) {
			t_fail("%s: datagram %zu: credentials %s pid %d uid %d gid %d, expected pid %d", what, i,
			       have ? "" : "(none)", uc.pid, uc.uid, uc.gid, w[i].child ? s->child : getpid());
			return -1;
		}
	}
	if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0) {
		t_fail("%s: more datagrams than expected", what);
		return -1;
	}
	return 0;
}

static int check(void *arg)
{
	struct st *s = arg;
	char babs[80], n[200];
	int v = 0;
	socklen_t l = sizeof(v);

	snprintf(babs, sizeof(babs), "@%s", s->babs);
	const struct want w1[6] = {
		{ "unnamed one", "", 0 }, { "from a path", s->bpath, 0 }, { "from abstract", babs, 0 },
		{ "client one", "", 1 },  { "client two", "", 1 },        { "unnamed two", "", 0 },
	};
	const struct want w2[2] = { { "to abstract 1", "", 0 }, { "to abstract 2", s->bpath, 0 } };

	if (strcmp(tu_name(s->srv, 0, n, sizeof(n)), s->spath) || getsockopt(s->srv, SOL_SOCKET, SO_PASSCRED, &v, &l) ||
	    !v) {
		t_fail("the path server is '%s' (SO_PASSCRED %d)", n, v);
		return -1;
	}
	if (expect(s, s->srv, w1, 6, 1, "path server") || expect(s, s->srv2, w2, 2, 0, "abstract server"))
		return -1;
	/* the same senders again, in the same order */
	if (fill_parent_first(s))
		return -1;
	if (tu_ask_child(s->child, &s->req))
		return -1;
	return fill_parent_last(s);
}

static int dgram(const char *name, int abstract)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		t_die("socket: %m");
	if (name) {
		struct sockaddr_un a;
		socklen_t l = tu_addr(&a, name, abstract);
		if (bind(fd, (struct sockaddr *)&a, l) < 0)
			t_die("bind %s: %m", name);
	}
	return fd;
}

int main(int argc, char **argv)
{
	static struct st s;
	struct sockaddr_un a;
	int one = 1, pid;
	socklen_t l;

	t_init(argc, argv);
	tu_catch_requests();
	snprintf(s.spath, sizeof(s.spath), "%s/dgram-srv.sock", t_dir());
	snprintf(s.bpath, sizeof(s.bpath), "%s/dgram-sender.sock", t_dir());
	snprintf(s.sabs, sizeof(s.sabs), "crest-dgram-srv-%d", getpid());
	snprintf(s.babs, sizeof(s.babs), "crest-dgram-snd-%d", getpid());
	unlink(s.spath);
	unlink(s.bpath);
	s.srv = dgram(s.spath, 0);
	if (setsockopt(s.srv, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
		t_die("SO_PASSCRED: %m");
	s.srv2 = dgram(s.sabs, 1);
	s.un = dgram(NULL, 0);
	s.bp = dgram(s.bpath, 0);
	s.ba = dgram(s.babs, 1);
	s.cl = dgram(NULL, 0);
	l = tu_addr(&a, s.spath, 0);
	if (connect(s.cl, (struct sockaddr *)&a, l) < 0)
		t_die("connect: %m");
	pid = tp_fork();
	if (pid < 0)
		t_die("fork: %m");
	if (pid == 0) {
		close(s.srv);
		close(s.srv2);
		close(s.un);
		close(s.bp);
		close(s.ba);
		tu_child_serve(s.req, child_step, &s);
	}
	s.child = pid;
	close(s.cl);
	if (fill_parent_first(&s))
		t_die("fill");
	kill(pid, SIGUSR1);
	for (int i = 0; i < 2000 && access("child-ack", F_OK); i++)
		tp_sleep_ms(5);
	s.req = 1;
	if (fill_parent_last(&s))
		t_die("fill");
	t_run(check, &s);
}
