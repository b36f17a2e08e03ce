/* inotify instances come back with every watch at its wd:
 *  N (fd 50, IN_NONBLOCK): in-a  IN_CREATE|IN_DELETE            wd 1
 *                          (in-b watched and removed: wd 2 unused)
 *                          in-c  IN_CREATE|IN_EXCL_UNLINK        wd 3
 *                          in-f  IN_MODIFY|IN_ONESHOT (a file)  wd 4
 *                          (in-b again, removed: wd 5 unused)
 *                          in-d  IN_CREATE|IN_MOVED_TO           wd 6
 *                          in-o  IN_OPEN|IN_CLOSE                wd 7
 *                          (the process holds in-o/held open at fd 53: the
 *                          restore reopens it, which must not be an event)
 *  K (fd 51, blocking):    in-a  IN_CREATE                       wd 1
 *  E (fd 52): an epoll instance watching N, edge-triggered (data 0x1a)
 * The check compares the wd/ino/mask of /proc/self/fdinfo with those
 * recorded at start, then creates (and removes) a file in in-a, in-c and
 * in-d: each event comes with the dumped wd and the file's name, in-a's
 * also on K; nothing else is queued.  E reports N once per check (when the
 * first event arrives), never at rest: restoring N's wd gaps makes no edge. */
// crest-test: mode=cr
#include "t.h"
#include "tfd.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define N 50
#define K 51
#define E 52
#define HELD 53

static int wa, wc, wf, wd_, wk;
static char ref_n[2048], ref_k[1024];
static unsigned seq;

/* "wd ino mask" of each watch, sorted */
static int watches(int fd, char *out, size_t size)
{
	return tfd_info_lines(0, fd, "inotify wd:", " ignored_mask:", out, size);
}

/* Next event of fd (waits up to 1 s). */
static int next_event(int fd, int *wd, uint32_t *mask, char *name, size_t size)
{
	static char buf[8][4096] __attribute__((aligned(8)));
	static size_t len[8], off[8];
	int slot = fd - N;
	struct inotify_event *e;

	if (off[slot] >= len[slot]) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		if (poll(&p, 1, 1000) != 1)
			return -1;
		n = read(fd, buf[slot], sizeof(buf[slot]));
		if (n <= 0)
			return -1;
		len[slot] = (size_t)n;
		off[slot] = 0;
	}
	e = (struct inotify_event *)(buf[slot] + off[slot]);
	off[slot] += sizeof(*e) + e->len;
	*wd = e->wd;
	*mask = e->mask;
	snprintf(name, size, "%s", e->len ? e->name : "");
	return 0;
}

static int quiet(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) == 0;
}

static int expect(int fd, const char *inst, int wd, uint32_t mask, const char *name)
{
	char got_name[256] = "";
	uint32_t m = 0;
	int w = -1;

	if (next_event(fd, &w, &m, got_name, sizeof(got_name)) || w != wd || m != mask ||
	    strcmp(got_name, name)) {
		t_fail("%s: event wd %d mask %#x name '%s', expected wd %d mask %#x name '%s'", inst, w, m,
		       got_name, wd, mask, name);
		return -1;
	}
	return 0;
}

static int touch_rm(const char *dir, char *name, size_t size)
{
	char path[512];
	int fd;

	snprintf(name, size, "f-%u-%d", ++seq, getpid());
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	close(fd);
	return unlink(path);
}

static int check(void *arg)
{
	char cur[2048], name[64];
	int bad = 0;

	if (watches(N, cur, sizeof(cur)) || strcmp(cur, ref_n)) {
		t_fail("fd %d watches now:\n%s\nexpected:\n%s", N, cur, ref_n);
		bad = -1;
	}
	if (watches(K, cur, sizeof(cur)) || strcmp(cur, ref_k)) {
		t_fail("fd %d watches now:\n%s\nexpected:\n%s", K, cur, ref_k);
		bad = -1;
	}
	if (!(fcntl(N, F_GETFL) & O_NONBLOCK) || (fcntl(K, F_GETFL) & O_NONBLOCK)) {
		t_fail("flags 0%o / 0%o: expected N non-blocking, K blocking", fcntl(N, F_GETFL),
		       fcntl(K, F_GETFL));
		bad = -1;
	}
	if (!quiet(N) || !quiet(K)) {
		t_fail("events queued before the check");
		bad = -1;
	}
	struct epoll_event ev;
	int ne = epoll_wait(E, &ev, 1, 0);
	if (ne != 0) {
		t_fail("epoll fd %d reports the inotify fd at rest (%d)", E, ne);
		bad = -1;
	}
	if (touch_rm("in-a", name, sizeof(name)))
		t_die("in-a: %m");
	ne = epoll_wait(E, &ev, 1, 1000);
	if (ne != 1 || ev.data.u64 != 0x1a) {
		t_fail("epoll fd %d: %d events (data %#llx) once N has events, expected 1 (0x1a)", E, ne,
		       ne > 0 ? (unsigned long long)ev.data.u64 : 0ULL);
		bad = -1;
	}
	bad |= expect(N, "N", wa, IN_CREATE, name);
	bad |= expect(N, "N", wa, IN_DELETE, name);
	bad |= expect(K, "K", wk, IN_CREATE, name);
	if (touch_rm("in-c", name, sizeof(name)))
		t_die("in-c: %m");
	bad |= expect(N, "N", wc, IN_CREATE, name);
	if (touch_rm("in-d", name, sizeof(name)))
		t_die("in-d: %m");
	bad |= expect(N, "N", wd_, IN_CREATE, name);
	if (!quiet(N) || !quiet(K)) {
		t_fail("more events than expected");
		bad = -1;
	}
	/* the wds are on the same inodes (an update returns the existing wd) */
	if (inotify_add_watch(N, "in-a", IN_CREATE | IN_DELETE | IN_MASK_ADD) != wa ||
	    inotify_add_watch(N, "in-d", IN_CREATE | IN_MOVED_TO | IN_MASK_ADD) != wd_) {
		t_fail("in-a / in-d: watching them again did not give wd %d / %d", wa, wd_);
		bad = -1;
	}
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	char buf[4096];
	int wb;

	t_init(argc, argv);
	if (mkdir("in-a", 0700) || mkdir("in-b", 0700) || mkdir("in-c", 0700) || mkdir("in-d", 0700) ||
	    mkdir("in-o", 0700))
		t_die("mkdir: %m");
	tfd_at(open("in-o/held", O_CREAT | O_RDONLY | O_CLOEXEC, 0600), HELD);
	int f = open("in-f", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (f < 0)
		t_die("in-f: %m");
	close(f);
	tfd_at(inotify_init1(IN_NONBLOCK | IN_CLOEXEC), N);
	tfd_at(inotify_init1(0), K);
	wa = inotify_add_watch(N, "in-a", IN_CREATE | IN_DELETE);
	wb = inotify_add_watch(N, "in-b", IN_CREATE);
	if (wa != 1 || wb != 2 || inotify_rm_watch(N, wb))
		t_die("inotify: %m");
	wc = inotify_add_watch(N, "in-c", IN_CREATE | IN_EXCL_UNLINK);
	wf = inotify_add_watch(N, "in-f", IN_MODIFY | IN_ONESHOT);
	wb = inotify_add_watch(N, "in-b", IN_CREATE);
	if (wb < 0 || inotify_rm_watch(N, wb))
		t_die("inotify: %m");
	wd_ = inotify_add_watch(N, "in-d", IN_CREATE | IN_MOVED_TO);
	wk = inotify_add_watch(K, "in-a", IN_CREATE);
	if (wc != 3 || wf != 4 || wd_ != 6 || wk != 1 ||
	    inotify_add_watch(N, "in-o", IN_OPEN | IN_CLOSE) != 7)
		t_die("unexpected wds %d %d %d %d", wc, wf, wd_, wk);
	/* the IN_IGNORED of the removed watches */
	while (read(N, buf, sizeof(buf)) > 0)
		;
	if (watches(N, ref_n, sizeof(ref_n)) || watches(K, ref_k, sizeof(ref_k)))
		t_die("cannot read fdinfo");
	tfd_at(epoll_create1(EPOLL_CLOEXEC), E);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = 0x1a };
	if (epoll_ctl(E, EPOLL_CTL_ADD, N, &ev))
		t_die("epoll_ctl: %m");
	t_run(check, NULL);
}
