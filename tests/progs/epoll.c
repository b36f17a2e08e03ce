/* An epoll instance (fd 60) comes back with every registration: its fd,
 * events and data, EPOLLET and EPOLLONESHOT (armed and disarmed):
 *  pipe A read end    EPOLLIN                 0xa1a1a1a1a1a1a1a1  (empty)
 *  pipe B read end    EPOLLIN | EPOLLRDHUP    0xb2                (1 byte in it: always ready)
 *  pipe A write end   EPOLLOUT | EPOLLONESHOT 0xd0                (fired once: disarmed)
 *  eventfd E1         EPOLLIN | EPOLLET       0xe1                (counter 0)
 *  eventfd E2         EPOLLIN | EPOLLONESHOT  0xe2                (armed, counter 0)
 *  timerfd T          EPOLLIN                 0x7f                (1 h away)
 *  epoll I (fd 61)    EPOLLIN                 0x11                (I watches eventfd E3, data 0x33)
 * The check compares the tfd/events/data lines of /proc/self/fdinfo/60 and
 * 61 with those recorded at start, then makes each fd ready in turn: the
 * right data values come back, an edge-triggered item reports once, a
 * one-shot item once until re-armed with EPOLL_CTL_MOD (by its fd number),
 * the disarmed one never though its pipe is writable.
 * A child holds the same instance (one description, checked with kcmp) but
 * has closed pipe A's read end: its fd table no longer matches that
 * registration, the parent's does, and the parent restores the instance.
 * The child also has its own instance (fd 70) watching fds it shares with
 * the parent (pipe B's read end, E1): restored by the child, once it has
 * taken those descriptions from the parent; its registrations are compared
 * through /proc/CHILD/fdinfo/70. */
// crest-test: mode=cr
#include "t.h"
#include "tfd.h"
#include "tproc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kcmp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

enum { EP = 60, IN_EP, A_R, A_W, B_R, B_W, E1, E2, E3, T, CEP = 70 };
#define D_A 0xa1a1a1a1a1a1a1a1ULL
#define D_B 0xb2ULL
#define D_D 0xd0ULL
#define D_E1 0xe1ULL
#define D_E2 0xe2ULL
#define D_T 0x7fULL
#define D_I 0x11ULL
#define D_E3 0x33ULL

static char ref_ep[4096], ref_in[1024], ref_child[1024];
static int child;

static void reg(int ep, int fd, uint32_t ev, uint64_t data)
{
	struct epoll_event e = { .events = ev, .data.u64 = data };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e))
		t_die("epoll_ctl add %d: %m", fd);
}

/* the "tfd: events: data:" part of each registration line, sorted (the
 * kernel lists them by file address) */
static int regs_of(int pid, int ep, char *out, size_t size)
{
	return tfd_info_lines(pid, ep, "tfd:", " pos:", out, size);
}

static int regs(int ep, char *out, size_t size)
{
	return regs_of(getpid(), ep, out, size);
}

/* The data values epoll_wait(ep, 0) reports, as a bit per known value. */
enum { B_A = 1, B_B = 2, B_D = 4, B_E1 = 8, B_E2 = 16, B_T = 32, B_I = 64, B_E3 = 128, B_OTHER = 256 };

static unsigned ready(int ep)
{
	struct epoll_event ev[16];
	unsigned m = 0;
	int n = epoll_wait(ep, ev, 16, 0);

	for (int i = 0; i < n; i++) {
		uint64_t d = ev[i].data.u64;
		m |= d == D_A ? B_A : d == D_B ? B_B : d == D_D ? B_D : d == D_E1 ? B_E1 : d == D_E2 ? B_E2 :
		     d == D_T ? B_T : d == D_I ? B_I : d == D_E3 ? B_E3 : B_OTHER;
	}
	return n < 0 ? B_OTHER : m;
}

static int expect(const char *what, unsigned got, unsigned want)
{
	if (got == want)
		return 0;
	t_fail("%s: epoll_wait reported set %#x, expected %#x (a1=1 b2=2 d0=4 e1=8 e2=16 7f=32 11=64 "
	       "33=128 other=256)", what, got, want);
	return -1;
}

static void drain(int fd)
{
	char buf[64];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static int check(void *arg)
{
	char cur[4096];
	uint64_t one = 1;
	int bad = 0;

	if (regs(EP, cur, sizeof(cur)) || strcmp(cur, ref_ep)) {
		t_fail("fd %d registrations now:\n%s\nexpected:\n%s", EP, cur, ref_ep);
		bad = -1;
	}
	if (regs(IN_EP, cur, sizeof(cur)) || strcmp(cur, ref_in)) {
		t_fail("fd %d registrations now:\n%s\nexpected:\n%s", IN_EP, cur, ref_in);
		bad = -1;
	}
	if (syscall(SYS_kcmp, getpid(), child, KCMP_FILE, EP, EP) != 0 ||
	    fcntl(EP, F_GETFD) != FD_CLOEXEC) {
		t_fail("fd %d: not the child's description (kcmp) or not close-on-exec", EP);
		bad = -1;
	}
	if (regs_of(child, CEP, cur, sizeof(cur)) || strcmp(cur, ref_child)) {
		t_fail("child's fd %d registrations now:\n%s\nexpected:\n%s", CEP, cur, ref_child);
		bad = -1;
	}
	/* only B (level-triggered, data waiting) */
	bad |= expect("at rest", ready(EP), B_B);
	bad |= expect("at rest, again", ready(EP), B_B);

	/* A: level-triggered */
	if (write(A_W, "y", 1) != 1)
		t_die("write A: %m");
	bad |= expect("pipe A written", ready(EP), B_A | B_B);
	bad |= expect("pipe A still full", ready(EP), B_A | B_B);
	drain(A_R);
	bad |= expect("pipe A drained", ready(EP), B_B);

	/* E1: edge-triggered */
	if (write(E1, &one, 8) != 8)
		t_die("write E1: %m");
	bad |= expect("E1 written", ready(EP), B_E1 | B_B);
	bad |= expect("E1 (edge) reported once", ready(EP), B_B);
	drain(E1);

	/* E2: one-shot, then re-armed through its fd number */
	if (write(E2, &one, 8) != 8)
		t_die("write E2: %m");
	bad |= expect("E2 written", ready(EP), B_E2 | B_B);
	bad |= expect("E2 (one-shot) reported once", ready(EP), B_B);
	drain(E2);
	struct epoll_event e = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = D_E2 };
	if (epoll_ctl(EP, EPOLL_CTL_MOD, E2, &e)) {
		t_fail("EPOLL_CTL_MOD of fd %d: %m", E2);
		bad = -1;
	}

	/* E3 through the nested instance */
	if (write(E3, &one, 8) != 8)
		t_die("write E3: %m");
	bad |= expect("E3 written (outer)", ready(EP), B_I | B_B);
	bad |= expect("E3 written (inner)", ready(IN_EP), B_E3);
	drain(E3);
	bad |= expect("E3 drained", ready(EP), B_B);

	/* the registrations exist under their fd numbers */
	e = (struct epoll_event){ .events = EPOLLIN };
	if (epoll_ctl(EP, EPOLL_CTL_ADD, B_R, &e) != -1 || errno != EEXIST ||
	    epoll_ctl(EP, EPOLL_CTL_ADD, A_W, &e) != -1 || errno != EEXIST) {
		t_fail("adding fd %d or %d again did not give EEXIST", B_R, A_W);
		bad = -1;
	}
	if (regs(EP, cur, sizeof(cur)) || strcmp(cur, ref_ep)) {
		t_fail("fd %d registrations after the check:\n%s\nexpected:\n%s", EP, cur, ref_ep);
		bad = -1;
	}
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	int p[2];

	t_init(argc, argv);
	tfd_at(epoll_create1(EPOLL_CLOEXEC), EP);
	if (fcntl(EP, F_SETFD, FD_CLOEXEC))
		t_die("fcntl: %m");
	tfd_at(epoll_create1(0), IN_EP);
	if (pipe2(p, O_NONBLOCK))
		t_die("pipe: %m");
	tfd_at(p[0], A_R);
	tfd_at(p[1], A_W);
	if (pipe(p))
		t_die("pipe: %m");
	tfd_at(p[0], B_R);
	tfd_at(p[1], B_W);
	if (write(B_W, "x", 1) != 1)
		t_die("write: %m");
	tfd_at(eventfd(0, EFD_NONBLOCK), E1);
	tfd_at(eventfd(0, EFD_NONBLOCK), E2);
	tfd_at(eventfd(0, EFD_NONBLOCK), E3);
	tfd_at(timerfd_create(CLOCK_MONOTONIC, 0), T);
	struct itimerspec its = { .it_value = { 3600, 0 } };
	if (timerfd_settime(T, 0, &its, NULL))
		t_die("timerfd_settime: %m");

	reg(IN_EP, E3, EPOLLIN, D_E3);
	reg(EP, A_R, EPOLLIN, D_A);
	reg(EP, B_R, EPOLLIN | EPOLLRDHUP, D_B);
	reg(EP, A_W, EPOLLOUT | EPOLLONESHOT, D_D);
	reg(EP, E1, EPOLLIN | EPOLLET, D_E1);
	reg(EP, E2, EPOLLIN | EPOLLONESHOT, D_E2);
	reg(EP, T, EPOLLIN, D_T);
	reg(EP, IN_EP, EPOLLIN, D_I);
	/* fire the write end's one-shot item: disarmed from now on */
	if (ready(EP) != (B_B | B_D))
		t_die("unexpected first epoll_wait");
	if (regs(EP, ref_ep, sizeof(ref_ep)) || regs(IN_EP, ref_in, sizeof(ref_in)))
		t_die("cannot read fdinfo");
	child = tp_fork();
	if (child < 0)
		t_die("fork: %m");
	if (child == 0) {
		close(A_R);
		tfd_at(epoll_create1(0), CEP);
		reg(CEP, B_R, EPOLLIN, 0xc0ffee);
		reg(CEP, E1, EPOLLIN | EPOLLET, 0xc1);
		tp_idle();
	}
	for (int i = 0; i < 200; i++) {
		if (!regs_of(child, CEP, ref_child, sizeof(ref_child)) && strstr(ref_child, " c1 "))
			break;
		usleep(10000);
	}
	if (!strstr(ref_child, "c0ffee") || !strstr(ref_child, " c1 "))
		t_die("the child's epoll instance is not there: '%s'", ref_child);
	t_run(check, NULL);
}
