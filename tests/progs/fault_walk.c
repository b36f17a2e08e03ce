/* A small tree for the fault walk (case fault_walk.sh): a thread, a pipe
 * with bytes in it, a unix socket pair with a message queued, a ghost file
 * (written, then unlinked while open), a periodic POSIX timer, patterned
 * memory, and a child process holding the pipe's write end.  The check
 * re-reads all of it (the pipe's bytes are read and written back) and wants
 * the thread, the timer and the child to move on.  The child's pid is
 * written to "child"; it dies with its parent. */
// crest-test: mode=case
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MEM (1u << 20)
static const char pipe_data[] = "pipe-bytes";
static const char sock_data[] = "queued-message";
static const char ghost_data[] = "ghost file content";

static unsigned char *mem;
static int pfd[2], sv[2], gfd;
static volatile unsigned long ticks;
static _Atomic unsigned long loops, *child_loops;
static pid_t child;

static void on_tick(int sig)
{
	(void)sig;
	ticks++;
}

static void *thread_fn(void *arg)
{
	prctl(PR_SET_NAME, "worker");
	for (;;) {
		loops++;
		usleep(1000);
	}
	return arg;
}

static int check(void *arg)
{
	static unsigned long seen_loops, seen_ticks, seen_child;
	char buf[64];
	struct stat st;
	ssize_t n;
	long bad;
	int ret = 0;

	(void)arg;
	if ((bad = t_verify_fill(mem, MEM, 9)) >= 0) {
		t_fail("memory differs at %ld", bad);
		ret = -1;
	}
	n = read(pfd[0], buf, sizeof(buf));
	if (n != (ssize_t)sizeof(pipe_data) || memcmp(buf, pipe_data, sizeof(pipe_data))) {
		t_fail("pipe holds %zd bytes, not its %zu", n, sizeof(pipe_data));
		ret = -1;
	}
	if (write(pfd[1], pipe_data, sizeof(pipe_data)) != (ssize_t)sizeof(pipe_data))
		t_die("cannot write the pipe back");
	n = recv(sv[1], buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	if (n != (ssize_t)sizeof(sock_data) || memcmp(buf, sock_data, sizeof(sock_data))) {
		t_fail("socket queue holds %zd bytes, not its message", n);
		ret = -1;
	}
	n = pread(gfd, buf, sizeof(buf), 0);
	if (n != (ssize_t)sizeof(ghost_data) || memcmp(buf, ghost_data, sizeof(ghost_data)) ||
	    fstat(gfd, &st) < 0 || st.st_nlink != 0) {
		t_fail("ghost file differs (%zd bytes, nlink %lu)", n, (unsigned long)st.st_nlink);
		ret = -1;
	}
	for (int k = 0; k < 400 && (loops == seen_loops || ticks == seen_ticks || *child_loops == seen_child); k++)
		usleep(5000);
	if (loops == seen_loops || ticks == seen_ticks || *child_loops == seen_child) {
		t_fail("stuck: thread %lu, timer %lu, child %lu", (unsigned long)loops, ticks,
		       (unsigned long)*child_loops);
		ret = -1;
	}
	seen_loops = loops;
	seen_ticks = ticks;
	seen_child = *child_loops;
	return ret;
}

int main(int argc, char **argv)
{
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
	struct itimerspec its = { { 0, 5000000 }, { 0, 5000000 } };
	timer_t tid;
	pthread_t th;
	char buf[32];
	int n;

	t_init(argc, argv);
	child_loops = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (child_loops == MAP_FAILED || pipe(pfd) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		t_die("setup: %s", strerror(errno));
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	if (write(pfd[1], pipe_data, sizeof(pipe_data)) != (ssize_t)sizeof(pipe_data) ||
	    send(sv[0], sock_data, sizeof(sock_data), 0) != (ssize_t)sizeof(sock_data))
		t_die("filling pipe/socket: %s", strerror(errno));
	gfd = open("ghost.tmpfile", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (gfd < 0 || write(gfd, ghost_data, sizeof(ghost_data)) != (ssize_t)sizeof(ghost_data) ||
	    unlink("ghost.tmpfile") < 0)
		t_die("ghost file: %s", strerror(errno));
	child = fork();
	if (child < 0)
		t_die("fork: %s", strerror(errno));
	if (child == 0) {
		prctl(PR_SET_NAME, "fw-child");
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pfd[0]);
		for (;;) {
			(*child_loops)++;
			usleep(2000);
		}
	}
	n = snprintf(buf, sizeof(buf), "%d\n", child);
	if (t_write_file("child", buf, (size_t)n) < 0)
		t_die("cannot write the child file");
	mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		t_die("mmap: %s", strerror(errno));
	t_fill(mem, MEM, 9);
	t_on_signal(SIGUSR1, on_tick, SA_RESTART);
	if (timer_create(CLOCK_MONOTONIC, &sev, &tid) < 0 || timer_settime(tid, 0, &its, NULL) < 0)
		t_die("timer: %s", strerror(errno));
	if (pthread_create(&th, NULL, thread_fn, NULL))
		t_die("pthread_create failed");
	t_run(check, NULL);
}
