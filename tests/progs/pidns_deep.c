/* A chain of nested pid namespaces, DEPTH levels below the root (argument,
 * default 8), with two processes at every level:
 *
 *   root ─┬─ M0             (a plain child)
 *         └─ I1             pid 1 of ns 1 (clone(CLONE_NEWPID))
 *              ├─ M1        pid 2 of ns 1
 *              └─ I2        pid 1 of ns 2 ... down to I<DEPTH>, M<DEPTH>
 *
 * The root may itself be anywhere: crest's own namespace, or the init of a
 * namespace nested in others (tests/cases/pidns_outer.sh runs it as pid 1
 * two levels down, with /proc the host's).  Every task records getpid(),
 * getppid() and the NSpid line of /proc/self/status (which /proc shows
 * from the procfs's namespace: the host's, every level); on SIGUSR1 it
 * compares and renames itself "<id>:ok:<n>" or "<id>:BAD:<n>".  The root
 * also reads every task's ppid, state, tracer and NSpid through /proc and
 * which tasks share a pid namespace, before and after. */
// crest-test: mode=cr
#include "t.h"
#include "tpidns.h"
#include "tproc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXD 32
#define MAXT (2 * (MAXD + 1))

static int depth = 8, ntasks;
static char idbuf[MAXT][16];
static const char *id[MAXT];    /* "r", "M0", "I1", "M1", ... */

/* the root's records */
static struct {
	int pid;                 /* in the procfs's namespace */
	int kpid;                /* in the root's namespace (for kill) */
	int ppid, n_levels;
	char nspid[512], ns[64];
} rec[MAXT];
static int self_proc_pid;      /* the root's pid as /proc names it */

/* number of levels in an NSpid line; *at = the pid at level index `level` */
static int count_levels(const char *nspid, int level, int *at)
{
	int n = 0;
	for (const char *p = nspid; *p;) {
		char *e;
		long v = strtol(p, &e, 10);
		if (e == p)
			break;
		if (n == level && at)
			*at = (int)v;
		n++;
		p = e;
	}
	return n;
}

/* the init of level k (task index 2k): its member, then the next level */
static __attribute__((noreturn)) void init_life(int k)
{
	tpn_me = id[2 * k];
	if (getpid() != 1)
		t_die("%s: getpid() = %d, want 1", tpn_me, getpid());
	if (tp_fork() == 0)
		tpn_task_life(id[2 * k + 1], NULL);
	if (k < depth && tpn_clone_newpid(tpn_me) == 0)
		init_life(k + 1);
	tpn_task_life(id[2 * k], NULL);
}

/* /proc pids of the whole tree, by name prefix; 0 when complete */
static int find_all(void)
{
	int pids[MAXT];

	if (tpn_find_tree(self_proc_pid, id, ntasks, pids) < 0)
		return -1;
	for (int i = 0; i < ntasks; i++)
		rec[i].pid = pids[i];
	return 0;
}

static int check(void *arg)
{
	char ns[MAXT][64], now[512];
	int bad = 0;

	/* the root itself (its parent is outside the dump: only an init's,
	 * always 0, is known) */
	tpn_nspid_line(0, now, sizeof(now));
	if (getpid() != tpn_pid || (tpn_ppid == 0 && getppid() != 0) || strcmp(now, tpn_nspid)) {
		t_fail("root: getpid %d getppid %d NSpid '%s', want %d %d '%s'", getpid(), getppid(), now,
		       tpn_pid, tpn_ppid, tpn_nspid);
		bad++;
	}
	for (int i = 0; i < ntasks; i++) {
		struct tp_stat st;
		if (tp_read_stat(rec[i].pid, &st) < 0) {
			t_fail("%s: pid %d is gone", id[i], rec[i].pid);
			return -1;
		}
		tpn_nspid_line(rec[i].pid, now, sizeof(now));
		/* (the root's parent is not in the dump: after a restore it is
		 * crest, then whoever inherits it) */
		if ((i && st.ppid != rec[i].ppid) || strcmp(now, rec[i].nspid)) {
			t_fail("%s pid %d: ppid %d NSpid '%s', want ppid %d NSpid '%s'", id[i], rec[i].pid,
			       st.ppid, now, rec[i].ppid, rec[i].nspid);
			bad++;
		}
		if (i && ((st.state != 'S' && st.state != 'R') || st.tracer)) {
			t_fail("%s pid %d: state %c tracer %d", id[i], rec[i].pid, st.state, st.tracer);
			bad++;
		}
		tp_readlink(rec[i].pid, "ns/pid", ns[i], sizeof(ns[i]));
	}
	for (int i = 0; i < ntasks; i++)
		for (int j = 0; j < ntasks; j++)
			if ((strcmp(ns[i], ns[j]) == 0) != (strcmp(rec[i].ns, rec[j].ns) == 0)) {
				t_fail("pid namespaces of %s and %s: %s vs %s, sharing differs from before",
				       id[i], id[j], ns[i], ns[j]);
				bad++;
				i = j = ntasks;
			}
	if (bad)
		return -1;
	for (int i = 1; i < ntasks; i++)
		tpn_ask(id[i], rec[i].pid, rec[i].kpid, SIGUSR1, ":ok:",
			"its getpid/getppid/NSpid differ from before the dump");
	return 0;
}

int main(int argc, char **argv)
{
	char self[32];
	ssize_t n;

	t_init(argc, argv);
	/* a session of its own (as pid 1 of a namespace, under unshare) */
	if (getsid(0) != getpid() && setsid() < 0)
		t_die("setsid: %s", strerror(errno));
	if (argc > 1)
		depth = atoi(argv[1]);
	if (depth < 1 || depth > MAXD)
		t_die("depth %d: 1..%d", depth, MAXD);
	ntasks = 2 * (depth + 1);
	snprintf(idbuf[0], sizeof(idbuf[0]), "r");
	snprintf(idbuf[1], sizeof(idbuf[1]), "M0");
	for (int k = 1; k <= depth; k++) {
		snprintf(idbuf[2 * k], sizeof(idbuf[0]), "I%d", k & 63);
		snprintf(idbuf[2 * k + 1], sizeof(idbuf[0]), "M%d", k & 63);
	}
	for (int i = 0; i < ntasks; i++)
		id[i] = idbuf[i];
	tpn_me = id[0];
	n = readlink("/proc/self", self, sizeof(self) - 1);
	if (n <= 0)
		t_die("readlink /proc/self: %s", strerror(errno));
	self[n] = 0;
	self_proc_pid = atoi(self);
	tpn_record_self();

	if (tp_fork() == 0)
		tpn_task_life(id[1], NULL);
	if (tpn_clone_newpid(tpn_me) == 0)
		init_life(1);
	for (int i = 0; i < 1000 && find_all() < 0; i++)
		tp_sleep_ms(10);
	if (find_all() < 0)
		t_die("the tree did not come up");
	int base = count_levels(tpn_nspid, -1, NULL);
	for (int i = 0; i < ntasks; i++) {
		struct tp_stat st;
		if (tp_read_stat(rec[i].pid, &st) < 0)
			t_die("%s gone", id[i]);
		rec[i].ppid = st.ppid;
		tpn_nspid_line(rec[i].pid, rec[i].nspid, sizeof(rec[i].nspid));
		tp_readlink(rec[i].pid, "ns/pid", rec[i].ns, sizeof(rec[i].ns));
		rec[i].n_levels = count_levels(rec[i].nspid, base - 1, &rec[i].kpid);
		if (rec[i].n_levels != base + i / 2)
			t_die("%s: NSpid '%s' has %d levels, want %d", id[i], rec[i].nspid, rec[i].n_levels,
			      base + i / 2);
	}
	t_log("%d pid namespaces below the root (NSpid '%s'); %s: NSpid '%s'", depth, tpn_nspid,
	      id[ntasks - 1], rec[ntasks - 1].nspid);
	t_run(check, NULL);
}
