/* seccomp strict mode comes back per thread and still acts:
 *  S1: a child whose thread T entered strict mode (its main thread did not);
 *  S2: a child that entered strict mode itself.
 * Both serve pings over pipes (strict mode allows read and write only): each
 * ping returns a counter one higher than the last, so a restarted server
 * would be seen.  The check reads each one's Seccomp mode from /proc, pings
 * both, and (after the pre-check) asks S2 for a getpid(), which strict mode
 * answers with SIGKILL. */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <dirent.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct srv {
	int cmd[2], rep[2];
	pid_t pid, tid;
	uint64_t last;
};
static struct srv s1, s2;

static void serve(struct srv *s) __attribute__((noreturn));
static void serve(struct srv *s)
{
	uint64_t n = 0;
	char c;

	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) != 0)
		_exit(3);
	for (;;) {
		if (read(s->cmd[0], &c, 1) != 1)
			syscall(SYS_exit, 4);
		if (c == 'k')
			syscall(SYS_getpid);       /* strict mode: SIGKILL */
		n++;
		if (write(s->rep[1], &n, sizeof(n)) != sizeof(n))
			syscall(SYS_exit, 5);
	}
}

static void *thread_fn(void *arg)
{
	serve(arg);
}

static int mode_of(pid_t pid, pid_t tid)
{
	char path[64], buf[4096], *p;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	if (t_read_file(path, buf, sizeof(buf)) < 0 || !(p = strstr(buf, "\nSeccomp:")))
		return -1;
	return atoi(p + 9);
}

static int ping(struct srv *s, const char *who)
{
	uint64_t v = 0;
	if (write(s->cmd[1], "p", 1) != 1 || read(s->rep[0], &v, sizeof(v)) != sizeof(v)) {
		t_fail("%s: no answer to a ping: %m", who);
		return -1;
	}
	if (v != s->last + 1) {
		t_fail("%s: ping counter %llu, expected %llu", who, (unsigned long long)v,
		       (unsigned long long)s->last + 1);
		s->last = v;
		return -1;
	}
	s->last = v;
	return 0;
}

static int check(void *arg)
{
	static int calls;
	int r = 0, m, st;

	if ((m = mode_of(s1.pid, s1.pid)) != 0 || mode_of(s1.pid, s1.tid) != 1) {
		t_fail("S1: seccomp mode %d (main) / %d (thread), expected 0 / 1", m, mode_of(s1.pid, s1.tid));
		r = -1;
	}
	if ((m = mode_of(s2.pid, s2.pid)) != 1) {
		t_fail("S2: seccomp mode %d, expected 1 (strict)", m);
		r = -1;
	}
	r |= ping(&s1, "S1's thread");
	r |= ping(&s2, "S2");
	if (++calls > 1 && r == 0) {
		if (write(s2.cmd[1], "k", 1) != 1 || waitpid(s2.pid, &st, 0) != s2.pid ||
		    !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
			t_fail("S2: getpid() in strict mode did not kill it with SIGKILL");
			r = -1;
		}
	}
	return r;
}

static void mk(struct srv *s)
{
	if (pipe(s->cmd) || pipe(s->rep))
		t_die("pipe: %m");
}

int main(int argc, char **argv)
{
	t_init(argc, argv);
	mk(&s1);
	mk(&s2);
	s1.pid = tp_fork();
	if (s1.pid < 0)
		t_die("fork: %m");
	if (s1.pid == 0) {
		pthread_t th;
		if (pthread_create(&th, NULL, thread_fn, &s1))
			_exit(2);
		for (;;)
			pause();
	}
	s2.pid = tp_fork();
	if (s2.pid < 0)
		t_die("fork: %m");
	if (s2.pid == 0)
		serve(&s2);
	/* S1's thread: the other task of S1 */
	for (int k = 0; k < 2000 && !s1.tid; k++) {
		char path[64];
		struct dirent *de;
		snprintf(path, sizeof(path), "/proc/%d/task", s1.pid);
		DIR *d = opendir(path);
		while (d && (de = readdir(d)))
			if (atoi(de->d_name) > 0 && atoi(de->d_name) != s1.pid)
				s1.tid = atoi(de->d_name);
		if (d)
			closedir(d);
		if (!s1.tid)
			usleep(1000);
	}
	if (!s1.tid)
		t_die("S1's thread not found");
	for (int k = 0; k < 2000 && (mode_of(s1.pid, s1.tid) != 1 || mode_of(s2.pid, s2.pid) != 1); k++)
		usleep(1000);
	t_run(check, NULL);
}
