/* A 3-level tree of 30 processes with sessions and process groups mixed:
 * children that setsid(), that make their own group, that join a sibling's
 * or an uncle's or the root's group, that join their parent's group
 * explicitly, that inherit.  Every process names itself "t30-NN" (its node
 * number) once it and its subtree are set up; the root records pid, ppid,
 * pgid, sid of every node from /proc and checks after each restore that all
 * of them are the same (and running, not stopped, not traced).
 * Children die with their parent (PR_SET_PDEATHSIG), so the runner's kill of
 * the root takes the whole tree. */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { INH, SETSID, OWN, JOIN, PARENT };

static const struct node {
	int parent, act, target;
} T30[] = {
	/* 0: the root (session and group leader: the runner's setsid) */
	{ -1, INH, 0 },
	/* level 1 */
	{ 0, INH, 0 },     /* 1: root's group */
	{ 0, SETSID, 0 },  /* 2: own session */
	{ 0, OWN, 0 },     /* 3: own group */
	{ 0, JOIN, 3 },    /* 4: sibling's group */
	{ 0, OWN, 0 },     /* 5 */
	/* level 2 */
	{ 1, INH, 0 },     /* 6 */
	{ 1, OWN, 0 },     /* 7 */
	{ 1, JOIN, 7 },    /* 8: sibling's group */
	{ 1, SETSID, 0 },  /* 9 */
	{ 2, INH, 0 },     /* 10: in 2's session and group */
	{ 2, OWN, 0 },     /* 11: own group in 2's session */
	{ 2, JOIN, 11 },   /* 12 */
	{ 3, PARENT, 0 },  /* 13: own group, then back to the parent's */
	{ 3, JOIN, 0 },    /* 14: the root's group */
	{ 3, OWN, 0 },     /* 15 */
	{ 4, INH, 0 },     /* 16: group 3 through its parent */
	{ 4, OWN, 0 },     /* 17 */
	{ 5, JOIN, 3 },    /* 18: uncle's group */
	{ 5, INH, 0 },     /* 19 */
	/* level 3 */
	{ 7, INH, 0 },     /* 20 */
	{ 7, JOIN, 0 },    /* 21: the root's group from level 3 */
	{ 9, INH, 0 },     /* 22: in 9's session */
	{ 9, OWN, 0 },     /* 23: own group in 9's session */
	{ 11, JOIN, 2 },   /* 24: grandparent's group */
	{ 12, OWN, 0 },    /* 25 */
	{ 15, JOIN, 3 },   /* 26: grandparent's group */
	{ 15, PARENT, 0 }, /* 27 */
	{ 17, JOIN, 3 },   /* 28 */
	{ 19, SETSID, 0 }, /* 29 */
};
#define N ((int)(sizeof(T30) / sizeof(T30[0])))

struct rec {
	int pid, ppid, pgid, sid;
};
static int pids[N];        /* pids known to this process (copied at fork) */
static struct rec rec[N];  /* root: recorded before the dump */

static void node_setup(int i)
{
	const struct node *n = &T30[i];
	char name[16];
	int r = 0;

	switch (n->act) {
	case SETSID:
		r = setsid() < 0 ? -1 : 0;
		break;
	case OWN:
		r = setpgid(0, 0);
		break;
	case JOIN:
		if (!pids[n->target])
			t_die("node %d: join target %d unknown (table error)", i, n->target);
		r = setpgid(0, pids[n->target]);
		break;
	case PARENT:
		r = setpgid(0, 0);
		if (r == 0)
			r = setpgid(0, getpgid(getppid()));
		break;
	}
	if (r < 0)
		t_die("node %d (pid %d): setsid/setpgid: %s", i, getpid(), strerror(errno));
	/* the subtree, in table order, each child set up before the next */
	for (int j = i + 1; j < N; j++) {
		if (T30[j].parent != i)
			continue;
		int pid = tp_fork();
		if (pid < 0)
			t_die("fork: %s", strerror(errno));
		if (pid == 0) {
			pids[j] = getpid();
			node_setup(j);
			snprintf(name, sizeof(name), "t30-%02d", j);
			prctl(PR_SET_NAME, name);
			tp_idle();
		}
		pids[j] = pid;
		snprintf(name, sizeof(name), "t30-%02d", j);
		if (tp_wait_comm(pid, name, 10000) < 0)
			t_die("node %d (pid %d) not set up within 10 s", j, pid);
	}
}

/* All descendants of pid, by their comm "t30-NN", into rec[]. */
static int collect(int pid, int *count)
{
	char path[64], buf[4096];
	char *p, *e;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	if (t_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf;; p = e) {
		long k = strtol(p, &e, 10);
		struct tp_stat st;
		int idx;

		if (e == p)
			break;
		if (tp_read_stat((int)k, &st) < 0 || sscanf(st.comm, "t30-%d", &idx) != 1 || idx <= 0 ||
		    idx >= N)
			t_die("unexpected descendant %ld ('%s')", k, st.comm);
		rec[idx] = (struct rec){ (int)k, st.ppid, st.pgid, st.sid };
		(*count)++;
		if (collect((int)k, count) < 0)
			return -1;
	}
	return 0;
}

static int check(void *arg)
{
	int bad = 0;

	if (getpid() != rec[0].pid || getppid() == 0 || getpgid(0) != rec[0].pgid ||
	    getsid(0) != rec[0].sid) {
		t_fail("root: pid %d pgid %d sid %d, want %d %d %d", getpid(), getpgid(0), getsid(0),
		       rec[0].pid, rec[0].pgid, rec[0].sid);
		bad++;
	}
	for (int i = 1; i < N; i++) {
		struct tp_stat st;
		char name[16];

		snprintf(name, sizeof(name), "t30-%02d", i);
		if (tp_read_stat(rec[i].pid, &st) < 0) {
			t_fail("node %d: pid %d is gone", i, rec[i].pid);
			bad++;
			continue;
		}
		if (strcmp(st.comm, name) || st.ppid != rec[i].ppid || st.pgid != rec[i].pgid ||
		    st.sid != rec[i].sid) {
			t_fail("node %d pid %d: comm %s ppid %d pgid %d sid %d, want %s %d %d %d", i,
			       rec[i].pid, st.comm, st.ppid, st.pgid, st.sid, name, rec[i].ppid,
			       rec[i].pgid, rec[i].sid);
			bad++;
		}
		if ((st.state != 'S' && st.state != 'R') || st.tracer) {
			t_fail("node %d pid %d: state %c tracer %d, want S/R and untraced", i, rec[i].pid,
			       st.state, st.tracer);
			bad++;
		}
		if (bad > 6)
			break;
	}
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	int count = 0, nsid = 0, npg = 0;
	int sids[N], pgs[N];

	t_init(argc, argv);
	if (getsid(0) != getpid())
		t_die("the root must lead its session (started with setsid)");
	pids[0] = getpid();
	node_setup(0);
	rec[0] = (struct rec){ getpid(), getppid(), getpgid(0), getsid(0) };
	if (collect(getpid(), &count) < 0 || count != N - 1)
		t_die("found %d descendants, want %d", count, N - 1);
	/* the table as built: parents, and the mix of sessions and groups */
	for (int i = 0; i < N; i++) {
		int j;
		if (i && rec[i].ppid != rec[T30[i].parent].pid)
			t_die("node %d: ppid %d, want node %d", i, rec[i].ppid, T30[i].parent);
		for (j = 0; j < nsid && sids[j] != rec[i].sid; j++)
			;
		if (j == nsid)
			sids[nsid++] = rec[i].sid;
		for (j = 0; j < npg && pgs[j] != rec[i].pgid; j++)
			;
		if (j == npg)
			pgs[npg++] = rec[i].pgid;
	}
	if (nsid != 4 || npg < 12)
		t_die("%d sessions and %d groups, want 4 and >= 12", nsid, npg);
	t_log("30 processes, %d sessions, %d process groups", nsid, npg);
	t_run(check, NULL);
}
