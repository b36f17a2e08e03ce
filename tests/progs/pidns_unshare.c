/* A process that called unshare(CLONE_NEWPID) and has not forked since:
 * its children will be born in a new pid namespace, which has no init yet
 * (the kernel shows no /proc/PID/ns/pid_for_children: ENOENT).  After each
 * restore that is still so, and the first fork lands in a new namespace as
 * its pid 1 (NSpid "<host pid> 1"), in a namespace other than the task's. */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

static char ns[64];
static int calls;

static int check(void *arg)
{
	char now[64], pfc[64];
	struct tp_stat st;
	int pid, status;

	tp_readlink(getpid(), "ns/pid", now, sizeof(now));
	tp_readlink(getpid(), "ns/pid_for_children", pfc, sizeof(pfc));
	if (pfc[0]) {
		t_fail("/proc/self/ns/pid_for_children reads %s (pid namespace %s): the pending "
		       "unshare(CLONE_NEWPID) was lost", pfc, now);
		return -1;
	}
	if (calls++ == 0)
		return 0;   /* before the dump: no fork, that would use up the namespace */
	pid = fork();
	if (pid == 0) {
		tp_sleep_ms(100);
		_exit(getpid() == 1 ? 0 : 3);
	}
	if (pid < 0) {
		t_fail("fork: %s", strerror(errno));
		return -1;
	}
	if (tp_read_stat(pid, &st) < 0 || st.n_nspid != 2 || st.nspid[1] != 1)
		t_fail("the child %d is not pid 1 of a nested namespace (NSpid levels %d, innermost %d)",
		       pid, st.n_nspid, st.n_nspid ? st.nspid[st.n_nspid - 1] : 0);
	tp_readlink(pid, "ns/pid", pfc, sizeof(pfc));
	if (!pfc[0] || !strcmp(pfc, now))
		t_fail("the child is in pid namespace '%s', the parent in %s", pfc, now);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		t_fail("the child saw getpid() != 1 (status %#x)", status);
	return 0;
}

int main(int argc, char **argv)
{
	t_init(argc, argv);
	tp_readlink(getpid(), "ns/pid", ns, sizeof(ns));
	if (unshare(CLONE_NEWPID) < 0)
		t_die("unshare(CLONE_NEWPID): %s", strerror(errno));
	t_run(check, NULL);
}
