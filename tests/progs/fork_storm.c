/* Freezing a tree that never stops changing: one thread forks short-lived
 * children without pause (each exits with a code derived from its number,
 * the parent reaps it and checks that code), another thread creates and joins
 * threads without pause, and a third keeps one grandchild-making child alive
 * that itself forks and reaps.  Whatever moment the dump catches (a child
 * just forked, a zombie not yet reaped, a thread half-created), the restored
 * tree must go on: every waitpid still finds its child with the right status
 * (a lost or duplicated child shows as ECHILD or a wrong code), and both
 * storms keep moving after restore. */
// crest-test: mode=cr
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static _Atomic long forks, threads, sub_rounds;
static _Atomic int bad;
static char bad_msg[256];
static pid_t sub;                   /* the child that runs a storm of its own */
static int sub_pipe[2];             /* sub -> us: one byte per round */

static void latch(const char *fmt, long a, long b)
{
	int expected = 0;
	if (atomic_compare_exchange_strong(&bad, &expected, 1))
		snprintf(bad_msg, sizeof(bad_msg), fmt, a, b);
}

static void *fork_storm(void *arg)
{
	(void)arg;
	for (long i = 0;; i++) {
		pid_t p = fork();
		if (p < 0) {
			latch("fork failed: errno %ld (round %ld)", errno, i);
			return NULL;
		}
		if (p == 0)
			_exit((int)(i % 200) + 1);
		int st;
		pid_t w;
		while ((w = waitpid(p, &st, 0)) < 0 && errno == EINTR)
			;
		if (w != p)
			latch("waitpid for a forked child: errno %ld (round %ld)", errno, i);
		else if (!WIFEXITED(st) || WEXITSTATUS(st) != (int)(i % 200) + 1)
			latch("child of round %ld: status 0x%lx", i, st);
		atomic_fetch_add(&forks, 1);
	}
}

static void *noop(void *arg)
{
	return arg;
}

static void *thread_storm(void *arg)
{
	(void)arg;
	for (long i = 0;; i++) {
		pthread_t t;
		void *ret;
		int e = pthread_create(&t, NULL, noop, (void *)i);
		if (e) {
			latch("pthread_create: %ld (round %ld)", e, i);
			return NULL;
		}
		e = pthread_join(t, &ret);
		if (e || ret != (void *)i)
			latch("pthread_join: %ld (round %ld)", e, i);
		atomic_fetch_add(&threads, 1);
	}
}

/* In the sub child: fork and reap grandchildren, report each round. */
static void sub_main(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close(sub_pipe[0]);
	for (unsigned char i = 0;; i = (unsigned char)((i + 1) % 0xff)) {
		pid_t p = fork();
		if (p == 0)
			_exit(i % 100);
		int st;
		if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != i % 100)
			i = 0xff;   /* reported as a failure (rounds count 0..0xfe) */
		if (write(sub_pipe[1], &i, 1) != 1)
			_exit(3);
		if (i == 0xff)
			pause();
	}
}

static void *sub_reader(void *arg)
{
	unsigned char b, want = 0;
	(void)arg;
	for (;;) {
		ssize_t n = read(sub_pipe[0], &b, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != 1) {
			latch("pipe from the sub child: read %ld errno %ld", n, errno);
			return NULL;
		}
		if (b != want)
			latch("sub child round: got %ld, want %ld (0xff: a grandchild was lost)", b, want);
		want = (unsigned char)((want + 1) % 0xff);
		atomic_fetch_add(&sub_rounds, 1);
	}
}

static int check(void *arg)
{
	(void)arg;
	long f0 = forks, t0 = threads, s0 = sub_rounds;
	int64_t end = t_now_ns(CLOCK_MONOTONIC) + 2000000000LL;

	while (t_now_ns(CLOCK_MONOTONIC) < end &&
	       (forks < f0 + 20 || threads < t0 + 20 || sub_rounds < s0 + 20))
		usleep(10000);
	if (bad)
		t_fail("%s", bad_msg);
	if (forks < f0 + 20)
		t_fail("the fork storm stalled: %ld -> %ld in 2 s", f0, (long)forks);
	if (threads < t0 + 20)
		t_fail("the thread storm stalled: %ld -> %ld in 2 s", t0, (long)threads);
	if (sub_rounds < s0 + 20)
		t_fail("the sub child's storm stalled: %ld -> %ld in 2 s", s0, (long)sub_rounds);
	int st;
	if (waitpid(sub, &st, WNOHANG) != 0)
		t_fail("the sub child %d is gone", sub);
	return bad || forks < f0 + 20 || threads < t0 + 20 || sub_rounds < s0 + 20 ? -1 : 0;
}

int main(int argc, char **argv)
{
	pthread_t a, b, c;

	t_init(argc, argv);
	if (pipe2(sub_pipe, O_CLOEXEC) < 0)
		t_die("pipe: %s", strerror(errno));
	sub = fork();
	if (sub < 0)
		t_die("fork: %s", strerror(errno));
	if (sub == 0)
		sub_main();
	close(sub_pipe[1]);
	if (pthread_create(&a, NULL, fork_storm, NULL) || pthread_create(&b, NULL, thread_storm, NULL) ||
	    pthread_create(&c, NULL, sub_reader, NULL))
		t_die("pthread_create failed");
	t_run(check, NULL);
}
