/* Orphaned process groups and a session leader with members.
 *
 *   R  root, session R, child subreaper
 *   +- L   setsid(): session leader; its group L is orphaned (L's parent R
 *   |  |   is in another session)
 *   |  +- L1   member of group L
 *   |  +- L2   own group in session L (not orphaned: its parent L is in
 *   |      |   another group of the same session)
 *   |      +- L21  member of group L2
 *   +- O   own group in session L, created by M (a child of L) which then
 *      |   exited: O was reparented to R (subreaper), so the leader's parent
 *      |   is outside the session and group O is orphaned
 *      +- O1   member of group O
 *
 * Checks: pid, ppid, pgid, sid of every task; and what orphaned means to
 * the kernel: a member of an orphaned group ignores SIGTSTP (L1, O1 raise it
 * and go on), a member of a non-orphaned group stops on it (L21, then
 * SIGCONT).  The members raise SIGTSTP from a SIGUSR1 handler and rename
 * themselves after it returns. */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

enum { R, L, L1, L2, L21, O, O1, N };
static const char *const NAMES[N] = { "R", "L", "L1", "L2", "L21", "O", "O1" };

struct rec {
	int pid, ppid, pgid, sid;
};
static struct rec rec[N];
static volatile sig_atomic_t nusr1;

static void on_usr1(int sig)
{
	char name[16];

	raise(SIGTSTP);
	nusr1++;
	snprintf(name, sizeof(name), "op-done-%d", (int)nusr1);
	prctl(PR_SET_NAME, name);
}

static void member_life(const char *name)
{
	struct sigaction sa = { .sa_handler = on_usr1 };

	sigaction(SIGUSR1, &sa, NULL);
	prctl(PR_SET_NAME, name);
	tp_idle();
}

static int child_of(const char *name, int (*fn)(void))
{
	int pid = tp_fork();

	if (pid < 0)
		t_die("fork: %s", strerror(errno));
	if (pid == 0) {
		if (fn && fn() < 0)
			t_die("%s: setsid/setpgid: %s", name, strerror(errno));
		member_life(name);
	}
	if (tp_wait_comm(pid, name, 10000) < 0)
		t_die("%s (pid %d) not set up", name, pid);
	return pid;
}

static int sub_l2(void)
{
	if (setpgid(0, 0) < 0)
		return -1;
	child_of("op-L21", NULL);
	return 0;
}

/* O: own group, a member, then waits for its parent M to exit */
static int sub_o(void)
{
	int m = getppid();

	if (setpgid(0, 0) < 0)
		return -1;
	child_of("op-O1", NULL);
	for (int i = 0; i < 1000 && getppid() == m; i++)
		tp_sleep_ms(5);
	if (getppid() == m)
		t_die("O: its parent M did not exit");
	/* the parent-death signal was fired at M's exit; set again for R */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	return 0;
}

static int find_child(int parent, const char *comm);

static int sub_m(void)
{
	int pid = fork();   /* no pdeath signal: O outlives M */

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (sub_o() < 0)
			t_die("O: setpgid: %s", strerror(errno));
		member_life("op-O");
	}
	/* O names itself only after M is gone: wait for O1 instead */
	for (int i = 0; i < 2000 && find_child(pid, "op-O1") < 0; i++)
		tp_sleep_ms(5);
	_exit(0);
}

static int sub_l(void)
{
	int m;

	if (setsid() < 0)
		return -1;
	child_of("op-L1", NULL);
	child_of("op-L2", sub_l2);
	m = fork();
	if (m < 0)
		return -1;
	if (m == 0) {
		sub_m();
		_exit(1);
	}
	if (waitpid(m, NULL, 0) != m)
		return -1;
	return 0;
}

static int find_child(int parent, const char *comm)
{
	char path[64], buf[4096], *p, *e;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", parent, parent);
	if (t_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf;; p = e) {
		long k = strtol(p, &e, 10);
		struct tp_stat st;
		if (e == p)
			break;
		if (tp_read_stat((int)k, &st) == 0 && !strcmp(st.comm, comm))
			return (int)k;
	}
	return -1;
}

/* SIGUSR1 -> the member raises SIGTSTP; orphaned: it must not stop */
static void probe(int i, int orphaned)
{
	int pid = rec[i].pid, done = 0, stopped = 0;
	struct tp_stat st;
	char before[32];

	if (tp_read_stat(pid, &st) < 0)
		return;
	snprintf(before, sizeof(before), "%s", st.comm);
	kill(pid, SIGUSR1);
	for (int k = 0; k < 200 && !done && !stopped; k++) {
		tp_sleep_ms(10);
		if (tp_read_stat(pid, &st) < 0)
			break;
		stopped = st.state == 'T';
		done = strcmp(st.comm, before) != 0;
	}
	if (orphaned && (stopped || !done))
		t_fail("%s (pid %d, group %d): SIGTSTP %s; in an orphaned process group it is ignored",
		       NAMES[i], pid, rec[i].pgid, stopped ? "stopped it" : "got no reaction");
	if (!orphaned && !stopped)
		t_fail("%s (pid %d, group %d): SIGTSTP did not stop it (state %c): the group is "
		       "orphaned now, it was not", NAMES[i], pid, rec[i].pgid, st.state);
	if (stopped) {
		kill(pid, SIGCONT);
		for (int k = 0; k < 200 && !done; k++) {
			tp_sleep_ms(10);
			done = tp_read_stat(pid, &st) == 0 && strcmp(st.comm, before) != 0;
		}
		if (!done)
			t_fail("%s (pid %d) did not go on after SIGCONT", NAMES[i], pid);
	}
}

static int check(void *arg)
{
	int bad = 0;

	for (int i = 0; i < N; i++) {
		struct tp_stat st;
		if (tp_read_stat(rec[i].pid, &st) < 0) {
			t_fail("%s: pid %d is gone", NAMES[i], rec[i].pid);
			bad++;
			continue;
		}
		if (st.ppid != rec[i].ppid || st.pgid != rec[i].pgid || st.sid != rec[i].sid) {
			t_fail("%s pid %d: ppid %d pgid %d sid %d, want %d %d %d", NAMES[i], rec[i].pid,
			       st.ppid, st.pgid, st.sid, rec[i].ppid, rec[i].pgid, rec[i].sid);
			bad++;
		}
		if (i != R && ((st.state != 'S' && st.state != 'R') || st.tracer)) {
			t_fail("%s pid %d: state %c tracer %d, want S/R, untraced", NAMES[i], rec[i].pid,
			       st.state, st.tracer);
			bad++;
		}
	}
	{
		int v = 0;
		if (prctl(PR_GET_CHILD_SUBREAPER, &v) < 0 || !v)
			t_fail("the root is not a child subreaper any more");
	}
	/* (the probes run even when a layout check failed: more to report) */
	probe(L1, 1);
	probe(O1, 1);
	probe(L21, 0);
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	int l;

	t_init(argc, argv);
	if (getsid(0) != getpid())
		t_die("the root must lead its session");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		t_die("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	l = child_of("op-L", sub_l);
	rec[R] = (struct rec){ getpid(), getppid(), getpgid(0), getsid(0) };
	rec[L].pid = l;
	rec[L1].pid = find_child(l, "op-L1");
	rec[L2].pid = find_child(l, "op-L2");
	rec[L21].pid = rec[L2].pid > 0 ? find_child(rec[L2].pid, "op-L21") : -1;
	for (int i = 0; i < 1000 && (rec[O].pid = find_child(getpid(), "op-O")) < 0; i++)
		tp_sleep_ms(5);
	rec[O1].pid = rec[O].pid > 0 ? find_child(rec[O].pid, "op-O1") : -1;
	for (int i = 1; i < N; i++) {
		struct tp_stat st;
		if (rec[i].pid <= 0 || tp_read_stat(rec[i].pid, &st) < 0)
			t_die("%s not found", NAMES[i]);
		rec[i] = (struct rec){ rec[i].pid, st.ppid, st.pgid, st.sid };
	}
	/* the layout as intended */
	if (rec[L].sid != rec[L].pid || rec[L1].pgid != rec[L].pid || rec[L2].pgid != rec[L2].pid ||
	    rec[L2].sid != rec[L].pid || rec[L21].pgid != rec[L2].pid || rec[O].ppid != getpid() ||
	    rec[O].pgid != rec[O].pid || rec[O].sid != rec[L].pid || rec[O1].pgid != rec[O].pid)
		t_die("the tree is not laid out as intended");
	t_run(check, NULL);
}
