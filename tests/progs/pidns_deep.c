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
#include "tproc.h"

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#define MAXD 32
#define MAXT (2 * (MAXD + 1))

static int depth = 8, ntasks;
static char id[MAXT][16];       /* "r", "M0", "I1", "M1", ... */
static int me;
static int my_pid, my_ppid;
static char my_nspid[512];
static volatile sig_atomic_t req;

/* the root's records */
static struct {
	int pid;                 /* in the procfs's namespace */
	int kpid;                /* in the root's namespace (for kill) */
	int ppid, n_levels;
	char nspid[512], ns[64];
} rec[MAXT];
static int self_proc_pid;      /* the root's pid as /proc names it */

static void nspid_line(int pid, char *out, size_t size)
{
	char path[64], buf[4096], *p;

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

static void set_name(const char *what, int n)
{
	char name[16];
	snprintf(name, sizeof(name), "%s:%s:%d", id[me], what, n % 100);
	prctl(PR_SET_NAME, name);
}

static void on_usr1(int sig) { req++; }

static __attribute__((noreturn)) void task_life(int k)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	int done = 0;

	me = k;
	my_pid = getpid();
	my_ppid = getppid();
	nspid_line(0, my_nspid, sizeof(my_nspid));
	sigaction(SIGUSR1, &sa, NULL);
	set_name("up", 0);
	for (;;) {
		char now[512];
		if (req == done) {
			tp_sleep_ms(20);
			continue;
		}
		done = req;
		nspid_line(0, now, sizeof(now));
		set_name(getpid() == my_pid && getppid() == my_ppid && !strcmp(now, my_nspid) ? "ok" : "BAD",
			 done);
	}
}

static int clone_newpid(void)
{
	int pid = (int)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (pid < 0)
		t_die("clone(CLONE_NEWPID) at level %d: %s", me, strerror(errno));
	return pid;
}

/* the init of level k (task index 2k): its member, then the next level */
static __attribute__((noreturn)) void init_life(int k)
{
	me = 2 * k;
	if (getpid() != 1)
		t_die("%s: getpid() = %d, want 1", id[me], getpid());
	if (tp_fork() == 0)
		task_life(2 * k + 1);
	if (k < depth && clone_newpid() == 0)
		init_life(k + 1);
	task_life(2 * k);
}

static int children(int pid, int *out, int max)
{
	char path[64], buf[1024], *p, *e;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	if (t_read_file(path, buf, sizeof(buf)) < 0)
		return 0;
	for (p = buf; n < max; p = e) {
		long v = strtol(p, &e, 10);
		if (e == p)
			break;
		out[n++] = (int)v;
	}
	return n;
}

/* /proc pids of the whole tree, by name prefix; 0 when complete */
static int find_all(void)
{
	int queue[MAXT + 8], nq = 0, found = 1;

	rec[0].pid = self_proc_pid;
	queue[nq++] = self_proc_pid;
	for (int qi = 0; qi < nq; qi++) {
		int kids[8], nk = children(queue[qi], kids, 8);
		for (int j = 0; j < nk && nq < MAXT + 8; j++) {
			struct tp_stat st;
			queue[nq++] = kids[j];
			if (tp_read_stat(kids[j], &st) < 0)
				continue;
			for (int i = 1; i < ntasks; i++) {
				size_t l = strlen(id[i]);
				if (!strncmp(st.comm, id[i], l) && st.comm[l] == ':') {
					rec[i].pid = kids[j];
					found++;
				}
			}
		}
	}
	return found == ntasks ? 0 : -1;
}

static void ask(int i)
{
	struct tp_stat st;
	char before[32] = "";
	int ok = 0;

	if (tp_read_stat(rec[i].pid, &st) < 0)
		return;
	snprintf(before, sizeof(before), "%s", st.comm);
	for (int k = 0; k < 300 && !ok; k++) {
		if (k % 20 == 0)
			kill(rec[i].kpid, SIGUSR1);
		tp_sleep_ms(10);
		ok = tp_read_stat(rec[i].pid, &st) == 0 && strcmp(st.comm, before);
	}
	if (!ok)
		t_fail("%s (pid %d) does not answer (state %c, name %s)", id[i], rec[i].pid, st.state,
		       st.comm);
	else if (!strstr(st.comm, ":ok:"))
		t_fail("%s (pid %d) answers '%s': its getpid/getppid/NSpid differ from before the dump",
		       id[i], rec[i].pid, st.comm);
}

static int check(void *arg)
{
	char ns[MAXT][64], now[512];
	int bad = 0;

	/* the root itself (its parent is outside the dump: only an init's,
	 * always 0, is known) */
	nspid_line(0, now, sizeof(now));
	if (getpid() != my_pid || (my_ppid == 0 && getppid() != 0) || strcmp(now, my_nspid)) {
		t_fail("root: getpid %d getppid %d NSpid '%s', want %d %d '%s'", getpid(), getppid(), now,
		       my_pid, my_ppid, my_nspid);
		bad++;
	}
	for (int i = 0; i < ntasks; i++) {
		struct tp_stat st;
		if (tp_read_stat(rec[i].pid, &st) < 0) {
			t_fail("%s: pid %d is gone", id[i], rec[i].pid);
			return -1;
		}
		nspid_line(rec[i].pid, now, sizeof(now));
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
		ask(i);
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
	snprintf(id[0], sizeof(id[0]), "r");
	snprintf(id[1], sizeof(id[1]), "M0");
	for (int k = 1; k <= depth; k++) {
		snprintf(id[2 * k], sizeof(id[0]), "I%d", k & 63);
		snprintf(id[2 * k + 1], sizeof(id[0]), "M%d", k & 63);
	}
	n = readlink("/proc/self", self, sizeof(self) - 1);
	if (n <= 0)
		t_die("readlink /proc/self: %s", strerror(errno));
	self[n] = 0;
	self_proc_pid = atoi(self);
	my_pid = getpid();
	my_ppid = getppid();
	nspid_line(0, my_nspid, sizeof(my_nspid));

	if (tp_fork() == 0)
		task_life(1);
	if (clone_newpid() == 0)
		init_life(1);
	for (int i = 0; i < 1000 && find_all() < 0; i++)
		tp_sleep_ms(10);
	if (find_all() < 0)
		t_die("the tree did not come up");
	int base = count_levels(my_nspid, -1, NULL);
	for (int i = 0; i < ntasks; i++) {
		struct tp_stat st;
		if (tp_read_stat(rec[i].pid, &st) < 0)
			t_die("%s gone", id[i]);
		rec[i].ppid = st.ppid;
		nspid_line(rec[i].pid, rec[i].nspid, sizeof(rec[i].nspid));
		tp_readlink(rec[i].pid, "ns/pid", rec[i].ns, sizeof(rec[i].ns));
		rec[i].n_levels = count_levels(rec[i].nspid, base - 1, &rec[i].kpid);
		if (rec[i].n_levels != base + i / 2)
			t_die("%s: NSpid '%s' has %d levels, want %d", id[i], rec[i].nspid, rec[i].n_levels,
			      base + i / 2);
	}
	t_log("%d pid namespaces below the root (NSpid '%s'); %s: NSpid '%s'", depth, my_nspid,
	      id[ntasks - 1], rec[ntasks - 1].nspid);
	t_run(check, NULL);
}
