/* Many event fds, as a busy event loop holds them: 2000 eventfds (counters
 * 0..1999), every one registered in one epoll instance (data 3 * i), and an
 * inotify instance with 1000 watches (wds 1..1000, one per directory); a
 * child inherits all of them (the same descriptions in two processes).
 * The check: sampled counters, epoll data values as fds become ready, wds
 * on their directories, and kcmp of sampled fds with the child.  (crest
 * finds shared anonymous-inode descriptions by sorting them in kcmp order:
 * all of them have the same inode.) */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NEV 2000
#define NW 1000

static int ep, in, ev[NEV], child;

static int check(void *arg)
{
	struct epoll_event out[8];
	uint64_t v;

	for (int i = 0; i < NEV; i += 37) {
		if (read(ev[i], &v, 8) != (i ? 8 : -1) || (i && v != (uint64_t)i)) {
			t_fail("eventfd %d: counter %llu, expected %d", i, (unsigned long long)v, i);
			return -1;
		}
		if (i && write(ev[i], &v, 8) != 8)
			t_die("write: %m");
	}
	/* fd 0's counter is 0: make it ready, it alone is reported */
	v = 1;
	if (write(ev[0], &v, 8) != 8)
		t_die("write: %m");
	int n = epoll_wait(ep, out, 8, 0);
	if (read(ev[0], &v, 8) != 8)
		t_die("read: %m");
	/* the others have counters > 0 and are level-triggered: all ready */
	if (n != 8) {
		t_fail("epoll_wait reported %d fds, expected 8 (of %d ready)", n, NEV);
		return -1;
	}
	for (int k = 0; k < n; k++)
		if (out[k].data.u64 % 3 || out[k].data.u64 / 3 >= NEV) {
			t_fail("epoll data %#llx is none of the registered values",
			       (unsigned long long)out[k].data.u64);
			return -1;
		}
	for (int i = 0; i < NW; i += 53) {
		char p[64];
		snprintf(p, sizeof(p), "w/%d", i);
		if (inotify_add_watch(in, p, IN_CREATE | IN_MASK_ADD) != i + 1) {
			t_fail("watch on %s is not wd %d", p, i + 1);
			return -1;
		}
	}
	for (int i = 0; i < NEV; i += 101)
		if (syscall(SYS_kcmp, getpid(), child, KCMP_FILE, ev[i], ev[i]) != 0) {
			t_fail("eventfd %d (fd %d) is not the child's description", i, ev[i]);
			return -1;
		}
	if (syscall(SYS_kcmp, getpid(), child, KCMP_FILE, ep, ep) != 0 ||
	    syscall(SYS_kcmp, getpid(), child, KCMP_FILE, in, in) != 0) {
		t_fail("the epoll / inotify instance is not the child's");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct rlimit rl = { 8192, 8192 };

	t_init(argc, argv);
	if (setrlimit(RLIMIT_NOFILE, &rl))
		t_die("setrlimit: %m");
	ep = epoll_create1(EPOLL_CLOEXEC);
	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ep < 0 || in < 0 || mkdir("w", 0700))
		t_die("setup: %m");
	for (int i = 0; i < NEV; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.u64 = (uint64_t)i * 3 };
		ev[i] = eventfd((unsigned)i, EFD_NONBLOCK | EFD_CLOEXEC);
		if (ev[i] < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ev[i], &e))
			t_die("eventfd %d: %m", i);
	}
	for (int i = 0; i < NW; i++) {
		char p[64];
		snprintf(p, sizeof(p), "w/%d", i);
		if (mkdir(p, 0700) || inotify_add_watch(in, p, IN_CREATE) != i + 1)
			t_die("watch %d: %m", i);
	}
	child = tp_fork();
	if (child < 0)
		t_die("fork: %m");
	if (child == 0)
		tp_idle();
	t_run(check, NULL);
}
