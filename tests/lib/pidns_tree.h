/* The body of tests/progs/pidns_nested.c and pidns_clone4.c (a header, so
 * that the Makefile rebuilds both when it changes).
 *
 * Nested pid namespaces 4 deep, processes at every level:
 *
 *   root (level 0)
 *   +- U    unshare(CLONE_NEWPID) and no fork: pid_for_children != pid ns
 *           (/proc/U/ns/pid_for_children cannot be read until it forks)
 *   +- I1   pid 1 of ns1 (clone(CLONE_NEWPID))
 *      +- M1   pid 2 of ns1
 *      +- I2   pid 1 of ns2 (I1: unshare(CLONE_NEWPID) + fork)
 *         +- M2
 *         +- I3   pid 1 of ns3 (clone(CLONE_NEWPID))
 *            +- M3
 *            +- I4   pid 1 of ns4 (unshare + fork)
 *               +- M4   pid 2 of ns4: NSpid has 5 levels
 *
 * Every task records its getpid(), getppid() and the NSpid line of
 * /proc/self/status (tests/lib/tpidns.h); on SIGUSR1 it compares and renames itself
 * "<id>:ok:<n>" or "<id>:BAD:<n>".  The root also reads NSpid, ppid and
 * state of every task through the host's /proc, and compares which tasks
 * share a pid namespace (and pid_for_children) before and after.  After a
 * restore, U (SIGUSR2) forks once: the child must be pid 1 of a new
 * namespace. */
#include "t.h"
#include "tpidns.h"
#include "tproc.h"

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

/* PIDNS_CLONE_ONLY (tests/progs/pidns_clone4.c): every level by
 * clone(CLONE_NEWPID), U is a plain child (no unshare state anywhere) */
#ifndef PIDNS_CLONE_ONLY
#define PIDNS_CLONE_ONLY 0
#endif

enum { ROOT, U, I1, M1, I2, M2, I3, M3, I4, M4, N };
static const char *const ID[N] = { "root", "U", "I1", "M1", "I2", "M2", "I3", "M3", "I4", "M4" };
static const int LEVEL[N] = { 0, 0, 1, 1, 2, 2, 3, 3, 4, 4 };

/* the root's records */
static struct {
	int pid;   /* host pid */
	struct tp_stat st;
	char ns[64], nsc[64];
} rec[N];
static int checks;

/* U, after a restore: one fork lands in the new namespace as its pid 1 */
static void fork_probe(int n)
{
	int pid = fork();
	char line[128];
	int st;

	if (pid == 0)
		_exit(getpid() == 1 ? 0 : 3);
	if (pid < 0) {
		tpn_set_name("fkERR", n);
		return;
	}
	tpn_nspid_line(pid, line, sizeof(line));   /* U is in the host's namespace */
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		tpn_set_name("fkBAD", n);
	else
		tpn_set_name("fkok", n);
	(void)line;
}

static __attribute__((noreturn)) void task_life(int id)
{
	tpn_task_life(ID[id], id == U ? fork_probe : NULL);
}

static int fork_pdeath(void)
{
	int pid = tp_fork();
	if (pid < 0)
		t_die("fork: %s", strerror(errno));
	return pid;
}

static int clone_newpid(void)
{
	return tpn_clone_newpid(tpn_me);
}

static int unshare_fork(void)
{
	if (unshare(CLONE_NEWPID) < 0)
		t_die("unshare(CLONE_NEWPID): %s", strerror(errno));
	return fork_pdeath();
}

/* the init of level k: a member, then the next level */
static __attribute__((noreturn)) void init_life(int k)
{
	int iid = I1 + 2 * (k - 1);

	tpn_me = ID[iid];
	if (getpid() != 1)
		t_die("%s: getpid() = %d, want 1", ID[iid], getpid());
	if (fork_pdeath() == 0)
		task_life(iid + 1);
	if (k < 4 && ((k % 2) && !PIDNS_CLONE_ONLY ? unshare_fork() : clone_newpid()) == 0)
		init_life(k + 1);
	task_life(iid);
}

/* host pids of the whole tree, by name prefix; 0 when complete */
static int find_all(void)
{
	int pids[N];

	if (tpn_find_tree(getpid(), ID, N, pids) < 0)
		return -1;
	for (int i = 0; i < N; i++)
		rec[i].pid = pids[i];
	return 0;
}

static void ask(int i, int sig, const char *want)
{
	tpn_ask(ID[i], rec[i].pid, rec[i].pid, sig, want,
		sig == SIGUSR1 ? "its getpid/getppid/NSpid differ from before the dump" :
		"its fork did not land in a new pid namespace as pid 1");
}

static int check(void *arg)
{
	char ns[N][64], nsc[N][64];
	int bad = 0;

	for (int i = 0; i < N; i++) {
		struct tp_stat st;
		if (tp_read_stat(rec[i].pid, &st) < 0) {
			t_fail("%s: pid %d is gone", ID[i], rec[i].pid);
			return -1;
		}
		if (st.ppid != rec[i].st.ppid || st.n_nspid != rec[i].st.n_nspid ||
		    memcmp(st.nspid, rec[i].st.nspid, sizeof(st.nspid))) {
			char a[64] = "", b[64] = "";
			for (int k = 0; k < st.n_nspid; k++)
				snprintf(a + strlen(a), sizeof(a) - strlen(a), " %d", st.nspid[k]);
			for (int k = 0; k < rec[i].st.n_nspid; k++)
				snprintf(b + strlen(b), sizeof(b) - strlen(b), " %d", rec[i].st.nspid[k]);
			t_fail("%s pid %d: ppid %d NSpid%s, want ppid %d NSpid%s", ID[i], rec[i].pid, st.ppid,
			       a, rec[i].st.ppid, b);
			bad++;
		}
		if (i && ((st.state != 'S' && st.state != 'R') || st.tracer)) {
			t_fail("%s pid %d: state %c tracer %d", ID[i], rec[i].pid, st.state, st.tracer);
			bad++;
		}
		tp_readlink(rec[i].pid, "ns/pid", ns[i], sizeof(ns[i]));
		tp_readlink(rec[i].pid, "ns/pid_for_children", nsc[i], sizeof(nsc[i]));
	}
	/* which tasks share namespaces: the same pattern as before */
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			if ((strcmp(ns[i], ns[j]) == 0) != (strcmp(rec[i].ns, rec[j].ns) == 0) ||
			    (strcmp(nsc[i], ns[j]) == 0) != (strcmp(rec[i].nsc, rec[j].ns) == 0) ||
			    (strcmp(nsc[i], nsc[j]) == 0) != (strcmp(rec[i].nsc, rec[j].nsc) == 0)) {
				t_fail("pid namespaces of %s and %s: %s/%s vs %s/%s, sharing differs from "
				       "before", ID[i], ID[j], ns[i], nsc[i], ns[j], nsc[j]);
				bad++;
				i = j = N;
			}
		}
	/* the kernel shows no pid_for_children until the new namespace has
	 * its init: readlink fails (ENOENT) */
	if (!PIDNS_CLONE_ONLY && nsc[U][0])
		t_fail("U: /proc/%d/ns/pid_for_children reads %s (its pid namespace is %s): the "
		       "pending unshare(CLONE_NEWPID) was lost", rec[U].pid, nsc[U], ns[U]);
	if (bad)
		return -1;
	for (int i = 1; i < N; i++)
		ask(i, SIGUSR1, ":ok:");
	if (checks++ > 0 && !PIDNS_CLONE_ONLY)
		ask(U, SIGUSR2, ":fkok:");
	return 0;
}

int main(int argc, char **argv)
{
	t_init(argc, argv);
	tpn_me = ID[ROOT];
	if (fork_pdeath() == 0) {
		if (!PIDNS_CLONE_ONLY && unshare(CLONE_NEWPID) < 0)
			t_die("U: unshare(CLONE_NEWPID): %s", strerror(errno));
		task_life(U);
	}
	if (clone_newpid() == 0)
		init_life(1);
	for (int i = 0; i < 1000 && find_all() < 0; i++)
		tp_sleep_ms(10);
	if (find_all() < 0)
		t_die("the tree did not come up");
	for (int i = 0; i < N; i++) {
		if (tp_read_stat(rec[i].pid, &rec[i].st) < 0)
			t_die("%s gone", ID[i]);
		tp_readlink(rec[i].pid, "ns/pid", rec[i].ns, sizeof(rec[i].ns));
		tp_readlink(rec[i].pid, "ns/pid_for_children", rec[i].nsc, sizeof(rec[i].nsc));
		if (rec[i].st.n_nspid != LEVEL[i] + 1)
			t_die("%s: NSpid has %d levels, want %d", ID[i], rec[i].st.n_nspid, LEVEL[i] + 1);
		if (i >= I1 && rec[i].st.nspid[LEVEL[i]] != ((i - I1) % 2 ? 2 : 1))
			t_die("%s: innermost pid %d", ID[i], rec[i].st.nspid[LEVEL[i]]);
	}
	if ((!PIDNS_CLONE_ONLY && rec[U].nsc[0]) || strcmp(rec[U].ns, rec[ROOT].ns))
		t_die("U: pid namespace layout not as intended");
	t_log("pid namespaces 4 deep: M4 is %d, NSpid %d %d %d %d %d", rec[M4].pid,
	      rec[M4].st.nspid[0], rec[M4].st.nspid[1], rec[M4].st.nspid[2], rec[M4].st.nspid[3],
	      rec[M4].st.nspid[4]);
	t_run(check, NULL);
}
