/* Signal-driven I/O comes back: O_ASYNC, the F_SETOWN_EX owner and F_SETSIG:
 *  pipe A (read end fd 20): owner this process (F_OWNER_PID), SIGRTMIN+1;
 *  socketpair B (fd 22, peer 23): owner thread T (F_OWNER_TID), SIGRTMIN+2;
 *  pipe C (read end fd 24): owner our process group (F_OWNER_PGRP, shared
 *  with a child), plain SIGIO;
 *  the child: every fd but pipe A's read end, and a description of its own
 *  of pipe A's write end (fd 26: owner us, SIGRTMIN+3), which we create at
 *  restore (the pipe's creator) and hand over; checked with pidfd_getfd.
 * The check reads O_ASYNC, F_GETOWN_EX and F_GETSIG of each, then writes to
 * each and waits for the signal: A's with si_fd 20 in this process, B's
 * handled by thread T itself with si_fd 22, C's SIGIO. */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile sig_atomic_t got_a, got_b, got_c, fd_a, fd_b, tid_b;
static pid_t tid_t, child;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
	if (sig == SIGRTMIN + 1) {
		got_a++;
		fd_a = si->si_fd;
	} else if (sig == SIGRTMIN + 2) {
		got_b++;
		fd_b = si->si_fd;
		tid_b = (pid_t)syscall(SYS_gettid);
	} else if (sig == SIGIO) {
		got_c++;
	}
}

static void *thread_fn(void *arg)
{
	tid_t = (pid_t)syscall(SYS_gettid);
	for (;;)
		pause();
	return NULL;
}

static int expect(int fd, int type, pid_t pid, int sig, const char *what)
{
	struct f_owner_ex ox = { 0 };
	int fl = fcntl(fd, F_GETFL), s = fcntl(fd, F_GETSIG);

	if (fl < 0 || !(fl & O_ASYNC) || fcntl(fd, F_GETOWN_EX, &ox) || (int)ox.type != type || ox.pid != pid ||
	    s != sig) {
		t_fail("%s: O_ASYNC %d, owner %d/%d, signal %d; expected O_ASYNC, owner %d/%d, signal %d",
		       what, fl >= 0 && (fl & O_ASYNC), ox.type, ox.pid, s, type, pid, sig);
		return -1;
	}
	return 0;
}

static int wait_for(volatile sig_atomic_t *cnt, int before, const char *what)
{
	for (int k = 0; k < 400 && *cnt == before; k++)
		tp_sleep_ms(5);
	if (*cnt == before) {
		t_fail("%s: no signal after a write", what);
		return -1;
	}
	return 0;
}

static int check(void *arg)
{
	char b[16];
	int r = 0, n;

	r |= expect(20, F_OWNER_PID, getpid(), SIGRTMIN + 1, "pipe A");
	r |= expect(22, F_OWNER_TID, tid_t, SIGRTMIN + 2, "socket B");
	r |= expect(24, F_OWNER_PGRP, getpgrp(), 0, "pipe C");
	int pfd = (int)syscall(SYS_pidfd_open, child, 0);
	int cfd = pfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pfd, 26, 0);
	if (cfd < 0) {
		t_fail("the child's fd 26: %m");
		r = -1;
	} else {
		r |= expect(cfd, F_OWNER_PID, getpid(), SIGRTMIN + 3, "the child's pipe A writer");
		close(cfd);
	}
	if (pfd >= 0)
		close(pfd);

	n = got_a;
	if (write(21, "a", 1) != 1 || wait_for(&got_a, n, "pipe A") || fd_a != 20) {
		t_fail("pipe A: signal with si_fd %d, expected 20", fd_a);
		r = -1;
	}
	n = got_b;
	if (write(23, "b", 1) != 1 || wait_for(&got_b, n, "socket B") || fd_b != 22 || tid_b != tid_t) {
		t_fail("socket B: signal in thread %d with si_fd %d, expected thread %d, fd 22", tid_b, fd_b,
		       tid_t);
		r = -1;
	}
	n = got_c;
	if (write(25, "c", 1) != 1 || wait_for(&got_c, n, "pipe C"))
		r = -1;
	while (read(20, b, sizeof(b)) > 0 || read(22, b, sizeof(b)) > 0 || read(24, b, sizeof(b)) > 0)
		;
	return r;
}

static void at(int fd, int n)
{
	if (fd < 0 || dup2(fd, n) != n)
		t_die("fd %d: %m", n);
	close(fd);
}

static void async(int fd, int type, pid_t pid, int sig)
{
	struct f_owner_ex ox = { .type = (enum __pid_type)type, .pid = pid };
	if (fcntl(fd, F_SETOWN_EX, &ox) || fcntl(fd, F_SETSIG, sig) ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC | O_NONBLOCK))
		t_die("fd %d: O_ASYNC: %m", fd);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_sig, .sa_flags = SA_SIGINFO | SA_RESTART };
	int p[2], sp[2];
	pthread_t th;

	t_init(argc, argv);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGRTMIN + 1, &sa, NULL) || sigaction(SIGRTMIN + 2, &sa, NULL) ||
	    sigaction(SIGRTMIN + 3, &sa, NULL) ||
	    sigaction(SIGIO, &sa, NULL))
		t_die("sigaction: %m");
	if (pthread_create(&th, NULL, thread_fn, NULL))
		t_die("pthread_create");
	while (!tid_t)
		usleep(1000);
	if (pipe(p))
		t_die("pipe: %m");
	at(p[0], 20);
	at(p[1], 21);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp))
		t_die("socketpair: %m");
	at(sp[0], 22);
	at(sp[1], 23);
	if (pipe(p))
		t_die("pipe: %m");
	at(p[0], 24);
	at(p[1], 25);
	async(20, F_OWNER_PID, getpid(), SIGRTMIN + 1);
	async(22, F_OWNER_TID, tid_t, SIGRTMIN + 2);
	async(24, F_OWNER_PGRP, getpgrp(), 0);
	child = tp_fork();
	int c = child;
	if (c < 0)
		t_die("fork: %m");
	if (c == 0) {
		/* a description of pipe A's write end only the child holds: the
		 * parent (the pipe's creator at restore) makes it, with its owner */
		close(20);
		at(open("/proc/self/fd/21", O_WRONLY), 26);
		async(26, F_OWNER_PID, getppid(), SIGRTMIN + 3);
		signal(SIGIO, SIG_IGN);
		tp_idle();
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/26", child);
	for (int k = 0; k < 2000; k++) {
		char info[1024];
		if (t_read_file(path, info, sizeof(info)) > 0 && strstr(info, "flags:\t02"))
			break;   /* O_ASYNC (020000) set: the child is ready */
		usleep(1000);
	}
	t_run(check, NULL);
}
