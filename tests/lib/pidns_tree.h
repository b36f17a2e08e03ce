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
 * /proc/self/status; on SIGUSR1 it compares and renames itself
 * "<id>:ok:<n>" or "<id>:BAD:<n>".  The root also reads NSpid, ppid and
 * state of every task through the host's /proc, and compares which tasks
 * share a pid namespace (and pid_for_children) before and after.  After a
 * restore, U (SIGUSR2) forks once: the child must be pid 1 of a new
 * namespace. */
#include "t.h"
#include "tproc.h"

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* PIDNS_CLONE_ONLY (tests/progs/pidns_clone4.c): every level by
 * clone(CLONE_NEWPID), U is a plain child (no unshare state anywhere) */
#ifndef PIDNS_CLONE_ONLY
#define PIDNS_CLONE_ONLY 0
#endif

enum { ROOT, U, I1, M1, I2, M2, I3, M3, I4, M4, N };
static const char *const ID[N] = { "root", "U", "I1", "M1", "I2", "M2", "I3", "M3", "I4", "M4" };
static const int LEVEL[N] = { 0, 0, 1, 1, 2, 2, 3, 3, 4, 4 };

/* per task, in its own memory */
static int me = ROOT;
static int my_pid, my_ppid;
static char my_nspid[128];
static volatile sig_atomic_t req, req2;

/* the root's records */
static struct {
	int pid;   /* host pid */
	struct tp_stat st;
	char ns[64], nsc[64];
} rec[N];
static int checks;

static void nspid_line(int pid, char *out, size_t size)
{
	char path[64], buf[2048], *p;

	out[0] = 0;
	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	if (t_read_file(path, buf, sizeof(buf)) < 0 || !(p = strstr(buf, "\nNSpid:")))
		return;
	p += 7;
	snprintf(out, size, "%.*s", (int)strcspn(p, "\n"), p);
}

static void set_name(const char *what, int n)
{
	char name[16];

	snprintf(name, sizeof(name), "%s:%s:%d", ID[me], what, n % 1000);
	prctl(PR_SET_NAME, name);
}

static void on_usr1(int sig) { req++; }
static void on_usr2(int sig) { req2++; }

/* U, after a restore: one fork lands in the new namespace as its pid 1 */
static void fork_probe(int n)
{
	int pid = fork();
	char line[128];
	int st;

	if (pid == 0)
		_exit(getpid() == 1 ? 0 : 3);
	if (pid < 0) {
		set_name("fkERR", n);
		return;
	}
	nspid_line(pid, line, sizeof(line));   /* U is in the host's namespace */
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		set_name("fkBAD", n);
	else
		set_name("fkok", n);
	(void)line;
}

static __attribute__((noreturn)) void task_life(int id)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	int done = 0, done2 = 0;

	me = id;
	my_pid = getpid();
	my_ppid = getppid();
	nspid_line(0, my_nspid, sizeof(my_nspid));
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	set_name("up", 0);
	for (;;) {
		char now[128];
		if (req == done && req2 == done2) {
			tp_sleep_ms(20);
			continue;
		}
		if (req != done) {
			done = req;
			nspid_line(0, now, sizeof(now));
			set_name(getpid() == my_pid && getppid() == my_ppid && !strcmp(now, my_nspid) ?
					 "ok" : "BAD", done);
		}
		if (req2 != done2) {
			done2 = req2;
			if (me == U)
				fork_probe(done2);
		}
	}
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
	int pid = (int)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (pid < 0)
		t_die("clone(CLONE_NEWPID): %s", strerror(errno));
	return pid;
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

	if (getpid() != 1)
		t_die("%s: getpid() = %d, want 1", ID[iid], getpid());
	if (fork_pdeath() == 0)
		task_life(iid + 1);
	if (k < 4 && ((k % 2) && !PIDNS_CLONE_ONLY ? unshare_fork() : clone_newpid()) == 0)
		init_life(k + 1);
	task_life(iid);
}

static int children(int pid, int *out, int max)
{
	char path[64], buf[1024], *p, *e;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	if (t_read_file(path, buf, sizeof(buf)) < 0)
		return 0;
	for (p = buf; n < max; p = e) {
		long k = strtol(p, &e, 10);
		if (e == p)
			break;
		out[n++] = (int)k;
	}
	return n;
}

/* host pids of the whole tree, by name prefix; 0 when complete */
static int find_all(void)
{
	int queue[64], nq = 0, found = 1;

	rec[ROOT].pid = getpid();
	queue[nq++] = getpid();
	for (int qi = 0; qi < nq; qi++) {
		int kids[16], nk = children(queue[qi], kids, 16);
		for (int j = 0; j < nk && nq < 64; j++) {
			struct tp_stat st;
			queue[nq++] = kids[j];
			if (tp_read_stat(kids[j], &st) < 0)
				continue;
			for (int i = 1; i < N; i++) {
				size_t l = strlen(ID[i]);
				if (!strncmp(st.comm, ID[i], l) && st.comm[l] == ':') {
					rec[i].pid = kids[j];
					found++;
				}
			}
		}
	}
	return found == N ? 0 : -1;
}

static void ask(int i, int sig, const char *want)
{
	struct tp_stat st;
	char before[32] = "";
	int ok = 0;

	if (tp_read_stat(rec[i].pid, &st) < 0)
		return;
	snprintf(before, sizeof(before), "%s", st.comm);
	for (int k = 0; k < 300 && !ok; k++) {
		if (k % 20 == 0)
			kill(rec[i].pid, sig);
		tp_sleep_ms(10);
		ok = tp_read_stat(rec[i].pid, &st) == 0 && strcmp(st.comm, before);
	}
	if (!ok)
		t_fail("%s (pid %d) does not answer (state %c, name %s)", ID[i], rec[i].pid, st.state,
		       st.comm);
	else if (!strstr(st.comm, want))
		t_fail("%s (pid %d) answers '%s' (%s)", ID[i], rec[i].pid, st.comm,
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
