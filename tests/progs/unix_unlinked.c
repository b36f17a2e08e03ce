/* Unix sockets bound to paths that were unlinked afterwards (issue 4,
 * case 4):
 *  - a listening stream socket, with an accepted connection (data queued
 *    both ways) and a connection not accepted yet, made before the unlink;
 *  - a datagram socket with datagrams queued (from an unnamed sender and
 *    from a sender bound to a path);
 *  - a datagram socket bound to a relative name (from the test dir);
 *  - a datagram socket whose path now belongs to a regular file.
 * After restore each has the same name (getsockname), the paths are still
 * gone (connect: ENOENT) and the regular file is untouched (inode, content,
 * mtime), /proc/PID/fd/N is a socket and /proc/net/unix shows the same
 * flags, type, state and path for each socket as before the dump (the
 * inode numbers are new).  The queues are read with MSG_PEEK, nothing is
 * consumed (nobody could send to these names again). */
// crest-test: mode=cr
#include "t.h"
#include "tunix.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>

enum { L, A, C, P, D, R, T, S, NSK };
static const char *nm[NSK] = { "listener", "accepted", "client", "pending client", "dgram",
			       "relative dgram", "taken dgram", "sender" };

/* an empty datagram first: the check peeks at it, and the kernel then
 * hides it from any later walk with SO_PEEK_OFF but at the head */
static const struct tu_msg dmsg[3] = { { "", 0 }, { "second datagram", 15 }, { "third", 5 } };

struct st {
	int fd[NSK];
	char name[NSK][200];    /* getsockname */
	char net[NSK][300];     /* /proc/net/unix line without Num, RefCount, Inode */
	char lpath[200], dpath[200], tpath[200], spath[200], rpath[200];
	struct stat taken;      /* the regular file at tpath */
};

/* "Flags Type St Path" of socket fd in /proc/net/unix */
static int net_line(int fd, char *out, size_t size)
{
	struct stat st;
	char line[512];
	FILE *f;
	int found = -1;

	if (fstat(fd, &st) < 0 || !(f = fopen("/proc/net/unix", "re")))
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char flags[16], type[8], state[8], path[300] = "";
		unsigned long ino;
		if (sscanf(line, "%*s %*s %*s %15s %7s %7s %lu %299[^\n]", flags, type, state, &ino, path) < 4)
			continue;
		if (ino == st.st_ino) {
			snprintf(out, size, "%s %s %s %s", flags, type, state, path);
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

static int bound(int type, const char *path)
{
	struct sockaddr_un a;
	socklen_t l = tu_addr(&a, path, 0);
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, l) < 0)
		t_die("bind %s: %m", path);
	return fd;
}

static int connect_to(int fd, const char *path)
{
	struct sockaddr_un a;
	socklen_t l = tu_addr(&a, path, 0);
	return connect(fd, (struct sockaddr *)&a, l);
}

/* the datagrams of R/D without consuming them */
static int peek_dgrams(int fd, const char *sender, const char *what)
{
	char buf[64], from[200];
	int off = 0, r = 0;

	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)) < 0) {
		t_fail("%s: SO_PEEK_OFF: %m", what);
		return -1;
	}
	for (int i = 0; i < 3 && !r; i++) {
		struct sockaddr_un a;
		socklen_t al = sizeof(a);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT, (struct sockaddr *)&a, &al);
		size_t fl = al > offsetof(struct sockaddr_un, sun_path) ? al - offsetof(struct sockaddr_un, sun_path) : 0;
		snprintf(from, sizeof(from), "%.*s", (int)strnlen(a.sun_path, fl), a.sun_path);
		if (n != (ssize_t)dmsg[i].len || memcmp(buf, dmsg[i].data, dmsg[i].len)) {
			t_fail("%s: datagram %d is %zd bytes, expected %zu", what, i, n, dmsg[i].len);
			r = -1;
		} else if (strcmp(from, i == 2 ? sender : "")) {
			t_fail("%s: datagram %d comes from '%s', expected '%s'", what, i, from, i == 2 ? sender : "");
			r = -1;
		}
	}
	if (!r && recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT) >= 0) {
		t_fail("%s: more datagrams than expected", what);
		r = -1;
	}
	off = -1;
	setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off));
	return r;
}

static int check(void *arg)
{
	struct st *s = arg;
	char n[300], link[64], p[64], buf[64];
	struct stat st;
	struct pollfd pl = { .fd = s->fd[L], .events = POLLIN };
	int fdc;

	for (int i = 0; i < NSK; i++) {
		if (strcmp(tu_name(s->fd[i], 0, n, sizeof(n)), s->name[i])) {
			t_fail("%s: named '%s', expected '%s'", nm[i], n, s->name[i]);
			return -1;
		}
		if (net_line(s->fd[i], n, sizeof(n)) < 0 || strcmp(n, s->net[i])) {
			t_fail("%s: /proc/net/unix shows '%s', expected '%s'", nm[i], n, s->net[i]);
			return -1;
		}
		snprintf(p, sizeof(p), "/proc/self/fd/%d", s->fd[i]);
		if (readlink(p, link, sizeof(link)) < 8 || strncmp(link, "socket:[", 8)) {
			t_fail("%s: %s is not a socket", nm[i], p);
			return -1;
		}
	}
	/* the names lead nowhere (or to the other file) */
	if (!stat(s->lpath, &st) || !stat(s->dpath, &st) || !stat(s->rpath, &st)) {
		t_fail("an unlinked socket path exists again");
		return -1;
	}
	if (stat(s->tpath, &st) < 0 || st.st_ino != s->taken.st_ino || !S_ISREG(st.st_mode) ||
	    st.st_mtim.tv_sec != s->taken.st_mtim.tv_sec || st.st_mtim.tv_nsec != s->taken.st_mtim.tv_nsec ||
	    t_read_file(s->tpath, buf, sizeof(buf)) != 12 || strcmp(buf, "not a socket")) {
		t_fail("the regular file at %s changed", s->tpath);
		return -1;
	}
	fdc = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (connect_to(fdc, s->lpath) == 0 || errno != ENOENT) {
		t_fail("connect to the unlinked listener path: %m, expected ENOENT");
		close(fdc);
		return -1;
	}
	close(fdc);
	/* the pending connection waits, the accepted one works */
	if (poll(&pl, 1, 0) != 1 || !(pl.revents & POLLIN)) {
		t_fail("no connection waiting on the listener");
		return -1;
	}
	{
		static const struct tu_msg up[1] = { { "upstream", 8 } }, down[1] = { { "down", 4 } };
		if (tu_expect(s->fd[A], up, 1, "accepted end") || tu_expect(s->fd[C], down, 1, "client") ||
		    tu_send(s->fd[C], up, 1, NULL, 0) || tu_send(s->fd[A], down, 1, NULL, 0))
			return -1;
	}
	if (peek_dgrams(s->fd[D], s->spath, "dgram") || peek_dgrams(s->fd[R], s->spath, "relative dgram"))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static struct st s;
	int u, fd;

	t_init(argc, argv);
	snprintf(s.lpath, sizeof(s.lpath), "%s/gone-listen.sock", t_dir());
	snprintf(s.dpath, sizeof(s.dpath), "%s/gone-dgram.sock", t_dir());
	snprintf(s.tpath, sizeof(s.tpath), "%s/taken.sock", t_dir());
	snprintf(s.spath, sizeof(s.spath), "%s/sender.sock", t_dir());
	snprintf(s.rpath, sizeof(s.rpath), "%s/rel.sock", t_dir());
	unlink(s.lpath);
	unlink(s.dpath);
	unlink(s.tpath);
	unlink(s.spath);
	unlink(s.rpath);
	s.fd[L] = bound(SOCK_STREAM, s.lpath);
	if (listen(s.fd[L], 4) < 0)
		t_die("listen: %m");
	s.fd[C] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	s.fd[P] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (connect_to(s.fd[C], s.lpath) < 0 || (s.fd[A] = accept4(s.fd[L], NULL, NULL, SOCK_CLOEXEC)) < 0 ||
	    connect_to(s.fd[P], s.lpath) < 0)
		t_die("connect: %m");
	if (send(s.fd[C], "upstream", 8, 0) != 8 || send(s.fd[A], "down", 4, 0) != 4)
		t_die("send: %m");
	s.fd[D] = bound(SOCK_DGRAM, s.dpath);
	s.fd[R] = bound(SOCK_DGRAM, "rel.sock");        /* t_init chdir'ed to the test dir */
	s.fd[T] = bound(SOCK_DGRAM, s.tpath);
	s.fd[S] = bound(SOCK_DGRAM, s.spath);
	u = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	for (int k = 0; k < 2; k++) {
		struct sockaddr_un a;
		const char *to = k ? "rel.sock" : s.dpath;
		socklen_t l = tu_addr(&a, to, 0);
		if (tu_send(u, dmsg, 2, &a, l) || tu_send(s.fd[S], dmsg + 2, 1, &a, l))
			t_die("sendto %s", to);
	}
	close(u);
	if (unlink(s.lpath) < 0 || unlink(s.dpath) < 0 || unlink("rel.sock") < 0 || unlink(s.tpath) < 0)
		t_die("unlink: %m");
	fd = open(s.tpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0 || write(fd, "not a socket", 12) != 12 || close(fd) < 0 || stat(s.tpath, &s.taken) < 0)
		t_die("the other file: %m");
	for (int i = 0; i < NSK; i++) {
		tu_name(s.fd[i], 0, s.name[i], sizeof(s.name[i]));
		if (net_line(s.fd[i], s.net[i], sizeof(s.net[i])) < 0)
			t_die("%s is not in /proc/net/unix", nm[i]);
	}
	t_run(check, &s);
}
