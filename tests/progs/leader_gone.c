/* A process group and a session whose leaders have exited (the "a
 * group whose leader has exited"):
 *
 *   root (child subreaper)
 *   +- B    joined the group of A, a sibling that exited since (reaped)
 *   +- T    created by S after S called setsid(); S exited, T was
 *           reparented to the root: T's session and group are S's, and
 *           no process has pid S any more
 *
 * After restore B's pgid and T's sid/pgid are the dead leaders' pids again,
 * and those pids are still free (no leftover helper at them). */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

static int a, b, s, t;

static int check(void *arg)
{
	struct tp_stat st;

	if (tp_read_stat(b, &st) < 0)
		t_fail("B %d is gone", b);
	else if (st.ppid != getpid() || st.pgid != a || st.sid != getsid(0))
		t_fail("B %d: ppid %d pgid %d sid %d, want %d %d %d (the group of the exited A)", b,
		       st.ppid, st.pgid, st.sid, getpid(), a, getsid(0));
	if (tp_read_stat(t, &st) < 0)
		t_fail("T %d is gone", t);
	else if (st.ppid != getpid() || st.pgid != s || st.sid != s)
		t_fail("T %d: ppid %d pgid %d sid %d, want %d %d %d (the session of the exited S)", t,
		       st.ppid, st.pgid, st.sid, getpid(), s, s);
	if (kill(a, 0) == 0 || errno != ESRCH)
		t_fail("pid %d (the exited group leader A) exists", a);
	if (kill(s, 0) == 0 || errno != ESRCH)
		t_fail("pid %d (the exited session leader S) exists", s);
	if (kill(-a, 0) < 0)
		t_fail("process group %d: kill(-%d, 0): %s", a, a, strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	t_init(argc, argv);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		t_die("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	a = tp_fork();
	if (a == 0) {
		setpgid(0, 0);
		tp_idle();
	}
	for (int i = 0; i < 1000 && getpgid(a) != a; i++)
		tp_sleep_ms(5);
	b = tp_fork();
	if (b == 0) {
		if (setpgid(0, a) < 0)
			t_die("B: setpgid(0, %d): %s", a, strerror(errno));
		prctl(PR_SET_NAME, "lg-B");
		tp_idle();
	}
	if (tp_wait_comm(b, "lg-B", 5000) < 0)
		t_die("B not set up");
	kill(a, SIGKILL);
	waitpid(a, NULL, 0);
	s = fork();
	if (s == 0) {
		int pid;
		if (setsid() < 0)
			t_die("S: setsid: %s", strerror(errno));
		pid = fork();
		if (pid == 0) {
			int p = getppid();
			for (int i = 0; i < 1000 && getppid() == p; i++)
				tp_sleep_ms(5);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			prctl(PR_SET_NAME, "lg-T");
			tp_idle();
		}
		_exit(pid < 0);
	}
	waitpid(s, NULL, 0);
	for (int i = 0; i < 1000; i++) {
		char path[64], buf[256];
		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", getpid(), getpid());
		if (t_read_file(path, buf, sizeof(buf)) > 0) {
			char *p = buf, *e;
			for (long k; (k = strtol(p, &e, 10)), e != p; p = e) {
				struct tp_stat st;
				if (tp_read_stat((int)k, &st) == 0 && !strcmp(st.comm, "lg-T"))
					t = (int)k;
			}
		}
		if (t)
			break;
		tp_sleep_ms(5);
	}
	if (!t)
		t_die("T did not show up under the root");
	t_run(check, NULL);
}
