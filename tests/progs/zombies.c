/* Children the parent has not waited for: one exited with status 7, one
 * killed by SIGTERM (zombies at dump time), one still running.  After each
 * restore the parent's waitpid() gets exactly those statuses for those
 * pids, and the running child is still running (and not waitable).  The
 * pre-check only peeks (waitid WNOWAIT) so the dump still sees the zombies. */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

struct st {
	int exited, killed, running;
	int calls;
};

static void expect_zombie(int pid, const char *what, int ppid)
{
	struct tp_stat st;

	if (tp_read_stat(pid, &st) < 0)
		t_fail("%s child %d: gone before waitpid", what, pid);
	else if (st.state != 'Z' || st.ppid != ppid)
		t_fail("%s child %d: state %c ppid %d, want a zombie of %d", what, pid, st.state, st.ppid,
		       ppid);
}

static int check(void *arg)
{
	struct st *s = arg;
	struct tp_stat st;
	siginfo_t si;
	int status, r, first = s->calls++ == 0;

	expect_zombie(s->exited, "exited", getpid());
	expect_zombie(s->killed, "killed", getpid());
	if (tp_read_stat(s->running, &st) < 0)
		t_fail("running child %d is gone", s->running);
	else if (st.ppid != getpid() || (st.state != 'S' && st.state != 'R') || st.tracer)
		t_fail("running child %d: ppid %d state %c tracer %d, want child of %d, S, untraced",
		       s->running, st.ppid, st.state, st.tracer, getpid());
	if (first) {
		/* before the dump: peek without reaping */
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, s->exited, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
		    si.si_pid != s->exited || si.si_code != CLD_EXITED || si.si_status != 7)
			t_fail("exited child %d: waitid code %d status %d, want CLD_EXITED 7", s->exited,
			       si.si_code, si.si_status);
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, s->killed, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
		    si.si_pid != s->killed || si.si_code != CLD_KILLED || si.si_status != SIGTERM)
			t_fail("killed child %d: waitid code %d status %d, want CLD_KILLED SIGTERM",
			       s->killed, si.si_code, si.si_status);
		return 0;
	}
	/* after a restore: reap them for real */
	r = waitpid(s->exited, &status, WNOHANG);
	if (r != s->exited)
		t_fail("waitpid(%d) = %d (%s), want the exited child", s->exited, r,
		       r < 0 ? strerror(errno) : "not waitable");
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 7)
		t_fail("exited child %d: wait status %#x, want exit 7", s->exited, status);
	r = waitpid(s->killed, &status, WNOHANG);
	if (r != s->killed)
		t_fail("waitpid(%d) = %d (%s), want the killed child", s->killed, r,
		       r < 0 ? strerror(errno) : "not waitable");
	else if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGTERM || WCOREDUMP(status))
		t_fail("killed child %d: wait status %#x, want killed by SIGTERM (%d), no core",
		       s->killed, status, SIGTERM);
	r = waitpid(-1, &status, WNOHANG);
	if (r != 0)
		t_fail("waitpid(-1, WNOHANG) = %d (%s), want 0: the running child %d is waitable or gone",
		       r, r < 0 ? strerror(errno) : "reaped", s->running);
	if (kill(s->running, 0) < 0)
		t_fail("running child %d: kill(0): %s", s->running, strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	static struct st s;

	t_init(argc, argv);
	s.exited = tp_fork();
	if (s.exited == 0)
		_exit(7);
	s.killed = tp_fork();
	if (s.killed == 0)
		tp_idle();
	s.running = tp_fork();
	if (s.running == 0)
		tp_idle();
	if (s.exited < 0 || s.killed < 0 || s.running < 0)
		t_die("fork: %s", strerror(errno));
	tp_wait_state(s.killed, "S", 5000);
	kill(s.killed, SIGTERM);
	if (tp_wait_state(s.exited, "Z", 5000) < 0 || tp_wait_state(s.killed, "Z", 5000) < 0)
		t_die("the children did not become zombies");
	t_run(check, &s);
}
