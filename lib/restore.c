/* SPDX-License-Identifier: MIT */
/*
 * Restore: read and check every image, then recreate the tree.  crest forks
 * the root at its pid (clone3 set_tid, one pid per pid-namespace level);
 * every task forks its own children the same way, so parents, sessions and
 * groups come out right; each task then prepares its resources natively.
 * The tasks and crest meet at barriers in a shared control page (futexes).
 * Then crest, as ptrace tracer of every task, swaps each address space,
 * runs the modules' injection hooks, loads the registers and lets the tree
 * go.  Any failure kills the whole tree: nothing half-made stays behind.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "compat.h"
#include "core.h"
#include "image.h"
#include "inventory.pb-c.h"
#include "log.h"
#include "mm.h"
#include "pstree.h"
#include "shmem.h"
#include "ghost.h"
#include "task.h"
#include "util.h"

int open_images_dir(const char *dir, bool create);

/* Optional hooks of modules (weak: absent until the module provides them). */
int sig_restore_blocked(struct restore_task *t, uint64_t *mask) __attribute__((weak));
int misc_restore_dumpable(struct restore_ctx *c, struct restore_task *t) __attribute__((weak));

#define BARRIER_TIMEOUT_MS 30000

enum { ST_NONE, ST_CREATED, ST_PREPARED1, ST_PREPARED, ST_FAILED };

struct ctl_slot {
	_Atomic int state;
	int err;
	unsigned long gadget;
};

/* Shared (MAP_SHARED) by crest and every restored task until its swap. */
struct ctl {
	_Atomic int go;        /* barrier generation crest lets the tasks pass */
	_Atomic int reports;   /* bumped by a task at every state change */
	struct ctl_slot slot[];
};

struct rthread {
	TaskCore *core;
	struct tracee t;
	bool seized;
};

struct rtask {
	struct restore_task t;
	PstreeEntry *e;
	TaskCore *core;        /* NULL for zombies */
	struct rthread *thr;   /* the other threads */
	size_t nr_thr;
	int via_sh;            /* forked by session helper via_sh - 1 (0: by its parent) */
	struct mm_restore *mm;
	bool loaded[MOD_MAX];
	bool seized;
};

/* A process group whose leader exited: a helper task recreates it at the
 * leader's pid, the members join, then the helper exits and is reaped. */
struct pg_helper {
	pid_t pgid;
	int host;              /* the member that forks and reaps the helper */
};

/* A session whose leader exited, with members that were reparented to a
 * subreaper (host): a helper at the leader's pid calls setsid() and forks
 * the members, then exits; they are reparented to the host again. */
struct sess_helper {
	pid_t sid;
	int host;              /* forks the helper: the leader if alive, else the reaper */
	int reaper;            /* the members' parent, a subreaper */
	bool at_sid;           /* the leader exited: the helper takes its pid */
	pid_t helper;          /* in the host's memory: the helper's pid */
};

struct rst {
	struct restore_ctx c;
	struct pg_helper *pgh;
	size_t nr_pgh;
	struct sess_helper *sh;
	size_t nr_sh;
	Inventory *inv;
	Pstree *tree;
	struct rtask *tasks;
	size_t n;
	struct ctl *ctl;
	size_t ctl_size;
	pid_t root;            /* crest's child */
	int floor;             /* crest's own fds live at or above this */
};

int restore_tmp_fd(struct restore_task *t)
{
	return t->next_tmp_fd++;
}

static void futex_wake(_Atomic int *a)
{
	syscall(SYS_futex, a, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static void futex_wait(_Atomic int *a, int val, long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	syscall(SYS_futex, a, FUTEX_WAIT, val, ms >= 0 ? &ts : NULL, NULL, 0);
}

/* ------------------------------------------------------------- loading */

static int find_task(struct rst *s, pid_t pid)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->tasks[i].t.pid == pid)
			return (int)i;
	return -1;
}

static int load_task(struct rst *s, struct rtask *rt)
{
	char name[IMG_NAME_MAX];
	int r, maxfd = 2;

	if (rt->e->zombie)
		return 0;
	snprintf(name, sizeof(name), "core-%d.img", rt->t.pid);
	r = img_read(s->c.dirfd, name, &task_core__descriptor, (ProtobufCMessage **)&rt->core, false);
	if (r < 0)
		return r;
	rt->thr = calloc(rt->core->n_threads + 1, sizeof(*rt->thr));
	if (!rt->thr)
		return -ENOMEM;
	for (size_t i = 0; i < rt->core->n_threads; i++) {
		struct rthread *th = &rt->thr[i];
		th->t.mem_fd = -1;
		snprintf(name, sizeof(name), "core-%d.img", rt->core->threads[i]);
		r = img_read(s->c.dirfd, name, &task_core__descriptor, (ProtobufCMessage **)&th->core, false);
		if (r < 0)
			return r;
		rt->nr_thr++;
		if (!th->core->thread || th->core->pid != rt->core->threads[i] || !th->core->thread->n_nstid) {
			pr_err("image %s is corrupt: not a thread of pid %d", name, rt->t.pid);
			return -EBADMSG;
		}
	}
	r = mm_load(&s->c, &rt->t, &rt->mm);
	if (r < 0)
		return r;
	for (int i = 0; i < MOD_MAX; i++) {
		const struct crest_module *m = crest_modules[i];
		if (m->load) {
			r = m->load(&s->c, &rt->t);
			if (r < 0)
				return r;
		}
		rt->loaded[i] = true;
		if (m->max_fd)
			maxfd = MAX(maxfd, m->max_fd(&rt->t));
	}
	rt->t.tmp_fd_base = maxfd + 1;
	rt->t.next_tmp_fd = rt->t.tmp_fd_base + mm_tmp_fds(rt->mm);
	s->floor = MAX(s->floor, rt->t.next_tmp_fd + 16);
	return 0;
}

/* The tasks hold their fds plus crest's own above them: make sure the soft
 * RLIMIT_NOFILE allows it (the rlimit module puts the dumped one back). */
static int fit_fd_limit(struct rst *s)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)s->floor + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return pr_errno(-errno, "getrlimit(RLIMIT_NOFILE)");
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max < need) {
		pr_err("the dumped fds go up to %d, above crest's RLIMIT_NOFILE hard limit %llu: raise it "
		       "(ulimit -Hn) before the restore", s->floor - 16, (unsigned long long)rl.rlim_max);
		return -EMFILE;
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return pr_errno(-errno, "setrlimit(RLIMIT_NOFILE)");
	return 0;
}

static int move_above(int *fd, int floor)
{
	int n;
	if (*fd < 0 || *fd >= floor)
		return 0;
	n = fcntl(*fd, F_DUPFD_CLOEXEC, floor);
	if (n < 0)
		return pr_errno(-errno, "cannot move fd %d above %d", *fd, floor);
	if (*fd > 2)
		close(*fd);
	*fd = n;
	return 0;
}

static int plan_group_helpers(struct rst *s)
{
	for (size_t i = 1; i < s->n; i++) {
		const PstreeEntry *e = s->tasks[i].e;
		int p = find_task(s, e->ppid);
		
		/* a session cannot be joined: a task is either its leader or was
		 * forked inside it, here by a helper standing for its leader */
		if (e->sid != e->pid && p >= 0 && e->sid != s->tasks[p].e->sid) {
			size_t k;
			int leader = find_task(s, e->sid), a = leader;
			/* the parent must be an ancestor of the live leader: the members
			 * come back to it when the helper exits */
			while (a > 0 && a != p)
				a = find_task(s, s->tasks[a].e->ppid);
			if (e->n_nspid != 1 || (leader >= 0 && a != p)) {
				pr_err("pid %d: its session %d is not its parent's (%d) and it does not lead it: "
				       "not supported", e->pid, e->sid, s->tasks[p].e->sid);
				return -ENOTSUP;
			}
			for (k = 0; k < s->nr_sh && (s->sh[k].sid != e->sid || s->sh[k].reaper != p); k++)
				;
			if (k == s->nr_sh) {
				struct sess_helper *n = realloc(s->sh, (s->nr_sh + 1) * sizeof(*n));
				if (!n)
					return -ENOMEM;
				s->sh = n;
				s->sh[s->nr_sh++] = (struct sess_helper){ .sid = e->sid, .reaper = p,
					.host = leader >= 0 ? leader : p, .at_sid = leader < 0 };
			}
			s->tasks[i].via_sh = (int)k + 1;
		}
	}
	for (size_t i = 1; i < s->n; i++) {
		const PstreeEntry *e = s->tasks[i].e;
		int p = find_task(s, e->ppid);
		bool known = false;

		for (size_t k = 0; k < s->nr_sh; k++)
			known |= s->sh[k].at_sid && s->sh[k].sid == e->pgid;   /* led by a session helper */
		if (known)
			continue;
		if (e->pgid == e->pid || find_task(s, e->pgid) >= 0 || e->pgid == s->tasks[0].e->pgid ||
		    (p >= 0 && s->tasks[p].e->pgid == e->pgid))
			continue;
		for (size_t k = 0; k < s->nr_pgh; k++)
			known |= s->pgh[k].pgid == e->pgid;
		if (known)
			continue;
		if (e->n_nspid != 1 || e->sid == e->pid) {
			pr_err("pid %d: its process group %d has no leader in the dump (the leader exited); "
			       "crest recreates such groups only in crest's own pid namespace", e->pid, e->pgid);
			return -ENOTSUP;
		}
		struct pg_helper *n = realloc(s->pgh, (s->nr_pgh + 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->pgh = n;
		s->pgh[s->nr_pgh++] = (struct pg_helper){ .pgid = e->pgid, .host = (int)i };
	}
	return 0;
}

static int load_images(struct rst *s)
{
	int r;

	r = img_read(s->c.dirfd, "inventory.img", &inventory__descriptor, (ProtobufCMessage **)&s->inv, false);
	if (r < 0) {
		if (r == -ENOENT)
			pr_err("%s holds no complete dump (inventory.img is missing)", s->c.o->images_dir);
		return r;
	}
	if (s->inv->format_version != CREST_IMG_VERSION) {
		pr_err("images have format version %u, this crest reads %u", s->inv->format_version,
		       CREST_IMG_VERSION);
		return -EBADMSG;
	}
	r = pstree_read(s->c.dirfd, &s->tree);
	if (r < 0)
		return r;
	s->n = s->tree->n_tasks;
	s->tasks = calloc(s->n, sizeof(*s->tasks));
	if (!s->tasks)
		return -ENOMEM;
	s->c.tasks = calloc(s->n, sizeof(*s->c.tasks));
	if (!s->c.tasks)
		return -ENOMEM;
	s->c.nr_tasks = s->n;
	for (size_t i = 0; i < s->n; i++) {
		s->tasks[i].e = s->tree->tasks[i];
		s->tasks[i].t.pid = s->tree->tasks[i]->pid;
		s->tasks[i].t.t.mem_fd = -1;
		s->tasks[i].t.idx = (int)i;
		s->tasks[i].t.pstree = s->tree->tasks[i];
		s->c.tasks[i] = &s->tasks[i].t;
	}
	r = plan_group_helpers(s);
	if (r < 0)
		return r;
	r = shmem_load(&s->c);
	if (r < 0)
		return r;
	r = ghost_load(&s->c);   /* ghost.c: before the tasks, whose images refer to it */
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n; i++) {
		s->tasks[i].t.shmem = s->c.shmem;
		r = load_task(s, &s->tasks[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---------------------------------------------------------- the tasks */

static __attribute__((noreturn)) void task_main(struct rst *s, int idx);

/* Say who holds a pid: a process, or processes using it as their process
 * group or session id (a pid stays taken while a group or session uses it). */
static void describe_pid_holder(pid_t pid)
{
	_cleanup_free_ char *stat = NULL;
	DIR *d;
	struct dirent *de;

	if (proc_read(pid, "stat", &stat, NULL) == 0) {
		char *x = strchr(stat, '('), *y = strrchr(stat, ')');
		if (x && y && y > x)
			pr_err("pid %d is in use by another process (%.*s, state %c): the restored task needs "
			       "that pid; stop that process first", pid, (int)(y - x - 1), x + 1, y[2]);
		return;
	}
	d = opendir("/proc");
	while (d && (de = readdir(d))) {
		_cleanup_free_ char *st = NULL;
		int pgid = 0, sid = 0;
		char *e, *y;
		long p = strtol(de->d_name, &e, 10);
		if (*e || p <= 0 || proc_read(p, "stat", &st, NULL) < 0 || !(y = strrchr(st, ')')))
			continue;
		if (sscanf(y + 2, "%*c %*d %d %d", &pgid, &sid) == 2 && (pgid == pid || sid == pid)) {
			pr_err("pid %d is still the %s id of pid %ld: the restored task needs that pid; "
			       "stop the processes of that %s first", pid, sid == pid ? "session" : "process group",
			       p, sid == pid ? "session" : "group");
			closedir(d);
			return;
		}
	}
	if (d)
		closedir(d);
	pr_err("pid %d is in use: the restored task needs that pid", pid);
}

/* clone3 at the task's pid on every pid-namespace level. */
static pid_t clone_task(struct rst *s, const PstreeEntry *e, uint64_t flags, int wait_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)wait_ms * 1000000ull;
	pid_t tid[32];
	size_t n = e->n_nspid;

	if (n > ARRAY_SIZE(tid)) {
		pr_err("pid %d: %zu pid-namespace levels is too deep", e->pid, n);
		return -E2BIG;
	}
	for (size_t i = 0; i < n; i++)
		tid[i] = e->nspid[n - 1 - i];   /* innermost first */
	for (;;) {
		struct clone_args a = {
			.flags = flags,
			.exit_signal = SIGCHLD,
			.set_tid = (uint64_t)(uintptr_t)tid,
			.set_tid_size = n,
		};
		long r;
		fflush(NULL);
		r = syscall(SYS_clone3, &a, sizeof(a));
		if (r >= 0)
			return (pid_t)r;
		if (errno != EEXIST)
			return pr_errno(-errno, "pid %d: clone3 at its pid failed", e->pid);
		if (now_ns() > deadline) {
			describe_pid_holder(e->pid);
			return -EEXIST;
		}
		usleep(20000);   /* a zombie waiting for its reaper, most likely */
	}
}

static void report(struct rst *s, int idx, int state, int err)
{
	s->ctl->slot[idx].err = err;
	atomic_store(&s->ctl->slot[idx].state, state);
	atomic_fetch_add(&s->ctl->reports, 1);
	futex_wake(&s->ctl->reports);
}

static void wait_go(struct rst *s, int gen)
{
	int g;
	while ((g = atomic_load(&s->ctl->go)) < gen)
		futex_wait(&s->ctl->go, g, -1);
}

static int task_session(struct rst *s, struct rtask *rt)
{
	const PstreeEntry *e = rt->e;
	pid_t pid = e->pid;

	if (e->sid == pid) {
		if (setsid() < 0)
			return pr_errno(-errno, "pid %d: setsid", pid);
	} else if (e->pgid == pid) {
		if (setpgid(0, 0) < 0)
			return pr_errno(-errno, "pid %d: setpgid", pid);
	}
	if (e->sid != pid && !e->ppid && !s->c.o->shell_job) {
		pr_err("pid %d: its session (%d) is led by a process outside the dump; restore it with "
		       "--shell-job to put it in crest's own session", pid, e->sid);
		return -EINVAL;
	}
	return 0;
}

/* After every task exists: join a group led by another task.  A child
 * inherits its parent's group at fork, so only a different one is joined;
 * the pgid is translated into the task's own pid namespace. */
static int task_join_group(struct rst *s, struct rtask *rt)
{
	const PstreeEntry *e = rt->e;
	int p = e->ppid ? find_task(s, e->ppid) : -1, l;
	bool as_parent = p >= 0 && s->tasks[p].e->pgid == e->pgid;
	size_t level = e->n_nspid - 1;
	pid_t target;

	if (e->pgid == e->pid)
		return 0;
	l = find_task(s, e->pgid);
	if (l < 0) {
		if (p < 0 || as_parent || (s->c.o->shell_job && e->pgid == s->tasks[0].e->pgid))
			return 0;   /* inherited: the root's group, the shell's group */
		if (getpgid(0) != e->pgid && setpgid(0, e->pgid) < 0)   /* led by a helper */
			return pr_errno(-errno, "pid %d: cannot join process group %d", e->pid, e->pgid);
		return 0;
	}
	if (s->tasks[l].e->n_nspid <= level) {
		if (as_parent)
			return 0;   /* inherited from an outer namespace */
		pr_err("pid %d: its process group %d is led from an outer pid namespace it cannot name",
		       e->pid, e->pgid);
		return -ENOTSUP;
	}
	target = s->tasks[l].e->nspid[level];
	if (getpgid(0) == target)
		return 0;
	if (setpgid(0, target) < 0)
		return pr_errno(-errno, "pid %d: cannot join process group %d", e->pid, e->pgid);
	return 0;
}

static __attribute__((noreturn)) void die_as_zombie(int status)
{
	int sig = status & 0x7f;
	if (sig) {
		struct rlimit rl = { 0, 0 };
		sigset_t set;
		setrlimit(RLIMIT_CORE, &rl);
		signal(sig, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		kill(getpid(), sig);
		kill(getpid(), SIGKILL);
	}
	_exit((status >> 8) & 0xff);
}

static int create_session_helpers(struct rst *s, int idx);

static int create_children(struct rst *s, int idx)
{
	struct rtask *rt = &s->tasks[idx];
	const PstreeEntry *e = rt->e;
	int r = create_session_helpers(s, idx);

	if (r < 0)
		return r;

	/* Children in the task's own pid namespace and those it made with
	 * clone(CLONE_NEWPID) come first; then the unshare(CLONE_NEWPID) it
	 * did, after which every fork lands in the new namespace: its init
	 * first, then the others.  (Forks after an unshare cannot be in the
	 * old namespace, so this order is always the real one.) */
	for (int pass = 0; pass < 3; pass++) {
		if (pass == 1 && e->pidns_for_children != e->pidns && unshare(CLONE_NEWPID) < 0)
			return pr_errno(-errno, "pid %d: unshare(CLONE_NEWPID)", e->pid);
		for (size_t j = idx + 1; j < s->n; j++) {
			const PstreeEntry *c = s->tasks[j].e;
			bool init = c->n_nspid > e->n_nspid && c->nspid[c->n_nspid - 1] == 1;
			bool in_unshared = e->pidns_for_children != e->pidns && c->pidns == e->pidns_for_children;
			uint64_t flags = 0;
			pid_t pid;

			if (c->ppid != e->pid || s->tasks[j].via_sh)
				continue;
			if (pass == 0 && in_unshared)
				continue;
			if (pass > 0 && (!in_unshared || (pass == 1) != init))
				continue;
			if (!in_unshared && c->pidns != e->pidns)
				flags |= CLONE_NEWPID;
			pid = clone_task(s, c, flags, 2000);
			if (pid == 0)
				task_main(s, (int)j);
			if (pid < 0)
				return pid;
		}
	}
	for (size_t k = 0; k < s->nr_pgh; k++) {
		PstreeEntry h = PSTREE_ENTRY__INIT;
		int32_t nspid[1] = { s->pgh[k].pgid };
		pid_t pid;

		if (s->pgh[k].host != idx)
			continue;
		h.pid = s->pgh[k].pgid;
		h.nspid = nspid;
		h.n_nspid = 1;
		pid = clone_task(s, &h, 0, 2000);
		if (pid == 0) {
			/* the helper: lead the group until every member joined */
			int ok = prctl(PR_SET_PDEATHSIG, SIGKILL) == 0 && setpgid(0, 0) == 0;
			if (!ok)
				pr_errno(-errno, "pid %d: helper for process group %d: setpgid", e->pid, h.pid);
			wait_go(s, 2);
			_exit(ok ? 0 : 1);
		}
		if (pid < 0)
			return pid;
	}
	return 0;
}

/* Reap the helpers this task forked (every member has joined). */
static void reap_group_helpers(struct rst *s, int idx)
{
	for (size_t k = 0; k < s->nr_pgh; k++)
		if (s->pgh[k].host == idx)
			while (waitpid(s->pgh[k].pgid, NULL, __WALL) < 0 && errno == EINTR)
				;
	for (size_t k = 0; k < s->nr_sh; k++)
		if (s->sh[k].host == idx && s->sh[k].helper > 0)
			while (waitpid(s->sh[k].helper, NULL, __WALL) < 0 && errno == EINTR)
				;
}

/* Session helpers this task hosts: each becomes the session's leader,
 * forks the members, and exits once everything is prepared; the members
 * are then reparented to this task, a subreaper as it was at dump. */
static int create_session_helpers(struct rst *s, int idx)
{
	for (size_t k = 0; k < s->nr_sh; k++) {
		PstreeEntry h = PSTREE_ENTRY__INIT;
		int32_t nspid[1] = { s->sh[k].sid };
		pid_t pid;

		if (s->sh[k].reaper == idx && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
			return pr_errno(-errno, "pid %d: PR_SET_CHILD_SUBREAPER", s->tasks[idx].t.pid);
		if (s->sh[k].host != idx)
			continue;
		if (s->sh[k].at_sid) {
			h.pid = s->sh[k].sid;
			h.nspid = nspid;
			h.n_nspid = 1;
			pid = clone_task(s, &h, 0, 2000);
		} else {
			fflush(NULL);
			pid = fork();
			if (pid < 0)
				return pr_errno(-errno, "pid %d: fork of a session helper", s->tasks[idx].t.pid);
		}
		if (pid < 0)
			return pid;
		if (pid > 0) {
			s->sh[k].helper = pid;
			continue;
		}
		/* the helper: a member of the session, or its new leader */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (s->sh[k].at_sid && setsid() < 0) {
			pr_errno(-errno, "pid %d: helper for session %d: setsid", h.pid, h.pid);
			_exit(1);
		}
		for (size_t j = 0; j < s->n; j++) {
			if (s->tasks[j].via_sh != (int)k + 1)
				continue;
			pid_t m = clone_task(s, s->tasks[j].e, 0, 2000);
			if (m == 0)
				task_main(s, (int)j);
			if (m < 0)
				_exit(1);
		}
		wait_go(s, 2);
		_exit(0);
	}
	return 0;
}

static __attribute__((noreturn)) void task_main(struct rst *s, int idx)
{
	struct rtask *rt = &s->tasks[idx];
	unsigned long gadget = 0;
	int r;

	/* die with the parent while being prepared (not when the parent is
	 * a session helper: it exits on purpose) */
	if (!rt->via_sh)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	r = task_session(s, rt);
	if (r == 0)
		r = create_children(s, idx);
	if (r < 0)
		goto fail;
	report(s, idx, ST_CREATED, 0);
	wait_go(s, 1);

	r = task_join_group(s, rt);
	if (r < 0)
		goto fail;
	if (rt->e->zombie) {
		report(s, idx, ST_PREPARED, 0);
		die_as_zombie(rt->e->exit_code);
	}
	if (rt->core->has_personality && personality(rt->core->personality) < 0) {
		r = pr_errno(-errno, "pid %d: personality(%#x)", rt->t.pid, rt->core->personality);
		goto fail;
	}
	for (int i = 0; i < MOD_MAX; i++) {
		const struct crest_module *m = crest_modules[i];
		if (m->prepare && (r = m->prepare(&s->c, &rt->t)) < 0)
			goto fail;
	}
	report(s, idx, ST_PREPARED1, 0);
	wait_go(s, 2);
	reap_group_helpers(s, idx);
	for (int i = 0; i < MOD_MAX; i++) {
		const struct crest_module *m = crest_modules[i];
		if (m->prepare2 && (r = m->prepare2(&s->c, &rt->t)) < 0)
			goto fail;
	}
	r = mm_prepare(&s->c, &rt->t, rt->mm, &gadget);
	if (r < 0)
		goto fail;
	s->ctl->slot[idx].gadget = gadget;
	report(s, idx, ST_PREPARED, 0);
	for (;;)
		pause();
fail:
	report(s, idx, ST_FAILED, r);
	_exit(1);
}

/* ---------------------------------------------------------- crest side */

/* Wait until every task reached `state` (zombies: ST_PREPARED and dead). */
static int wait_all(struct rst *s, int state, const char *what)
{
	uint64_t deadline = now_ns() + BARRIER_TIMEOUT_MS * 1000000ull;

	for (;;) {
		int seen = atomic_load(&s->ctl->reports), st;
		size_t done = 0;

		for (size_t i = 0; i < s->n; i++) {
			int v = atomic_load(&s->ctl->slot[i].state);
			if (v == ST_FAILED)
				return s->ctl->slot[i].err < 0 ? s->ctl->slot[i].err : -ECHILD;
			if (v >= state)
				done++;
		}
		if (done == s->n)
			return 0;
		/* a death crest can see (its own child, a seized task); a signal
		 * stop of a seized task (e.g. SIGCHLD of a zombie) is let through */
		for (size_t i = 0; i < s->n; i++) {
			struct rtask *rt = &s->tasks[i];
			pid_t pid = rt->t.pid;
			if (!rt->seized && !(i == 0 && s->root > 0))
				continue;
			if (waitpid(pid, &st, WNOHANG | __WALL) != pid)
				continue;
			if (WIFEXITED(st) || WIFSIGNALED(st)) {
				pr_err("pid %d: died while %s (%s %d)", pid, what,
				       WIFEXITED(st) ? "exit" : "signal",
				       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
				rt->seized = false;
				if (i == 0)
					s->root = 0;
				return -ECHILD;
			}
			if (WIFSTOPPED(st))
				ptrace(PTRACE_CONT, pid, 0, (st >> 16) == 0 ? WSTOPSIG(st) : 0);
		}
		if (now_ns() > deadline) {
			pr_err("restored tasks are not %s after %d s: giving up", what, BARRIER_TIMEOUT_MS / 1000);
			return -ETIMEDOUT;
		}
		futex_wait(&s->ctl->reports, seen, 50);
	}
}

static int wait_zombies(struct rst *s)
{
	for (size_t i = 0; i < s->n; i++) {
		if (!s->tasks[i].e->zombie)
			continue;
		for (int k = 0; k < 500; k++) {
			_cleanup_free_ char *stat = NULL;
			if (proc_read(s->tasks[i].t.pid, "stat", &stat, NULL) < 0)
				break;
			char *p = strrchr(stat, ')');
			if (p && p[2] == 'Z')
				break;
			usleep(2000);
		}
	}
	return 0;
}

static int finish(struct rst *s, struct rtask *rt)
{
	struct restore_task *t = &rt->t;
	struct user_regs_struct regs;
	uint64_t mask = 0;
	long ret;
	int r;

	r = INJECT(&t->t, &ret, __NR_close_range, t->tmp_fd_base, ~0U, 0);
	if (r < 0)
		return r;
	if (ret < 0)
		return pr_errno((int)ret, "pid %d: close_range of restore fds", t->pid);
	/* The task ran with PDEATHSIG=SIGKILL so that it died with its parent
	 * during preparation; the misc module puts the dumped value back. */
	r = INJECT(&t->t, &ret, __NR_prctl, PR_SET_PDEATHSIG, 0);
	if (r < 0)
		return r;
	for (int i = 0; i < MOD_MAX; i++) {
		const struct crest_module *m = crest_modules[i];
		if (m->inject && (r = m->inject(&s->c, t)) < 0)
			return r;
	}
	for (int i = 0; i < MOD_MAX; i++) {
		const struct crest_module *m = crest_modules[i];
		if (m->inject_late && (r = m->inject_late(&s->c, t)) < 0)
			return r;
	}
	if (misc_restore_dumpable && (r = misc_restore_dumpable(&s->c, t)) < 0)
		return r;
	if (sig_restore_blocked && (r = sig_restore_blocked(t, &mask)) < 0)
		return r;
	core_regs_from_image(rt->core->regs, &regs);
	r = tracee_syscall_final(&t->t, __NR_munmap, t->t.syscall_ip & ~(PAGE_SIZE_CREST - 1),
				 PAGE_SIZE_CREST, &regs);
	if (r < 0)
		return r;
	r = ptrace_set_xstate(t->pid, rt->core->xsave.data, rt->core->xsave.len);
	if (r < 0)
		return r;
	if (ptrace(PTRACE_SETSIGMASK, t->pid, sizeof(mask), &mask) < 0)
		return pr_errno(-errno, "pid %d: cannot set its blocked signal mask", t->pid);
	return 0;
}

/* Create the other threads of a process from its main thread (injected
 * clone3 at their tids), and give each its own state. */
static int create_threads(struct rst *s, struct rtask *rt)
{
	struct tracee *m = &rt->t.t;
	long ret;
	int r;

	if (!rt->nr_thr)
		return 0;
	if (ptrace(PTRACE_SETOPTIONS, rt->t.pid, 0,
		   PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE) < 0)
		return pr_errno(-errno, "pid %d: PTRACE_SETOPTIONS", rt->t.pid);
	for (size_t i = 0; i < rt->nr_thr; i++) {
		struct rthread *th = &rt->thr[i];
		const ThreadExtra *x = th->core->thread;
		struct clone_args a = {
			.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
				 CLONE_SYSVSEM,
			.set_tid_size = x->n_nstid,
		};
		uint64_t tids[32];
		pid_t tid = 0;

		if (x->n_nstid > ARRAY_SIZE(tids))
			return -E2BIG;
		for (size_t k = 0; k < x->n_nstid; k++)
			tids[k] = x->nstid[x->n_nstid - 1 - k];
		if (x->has_clear_tid && x->clear_tid) {
			a.flags |= CLONE_CHILD_CLEARTID;
			a.child_tid = x->clear_tid;
		}
		/* args and the tid array in the gadget's scratch */
		a.set_tid = m->scratch + sizeof(a);
		int32_t t32[32];
		for (size_t k = 0; k < x->n_nstid; k++)
			t32[k] = (int32_t)tids[k];
		r = tracee_write(m, m->scratch, &a, sizeof(a));
		if (r == 0)
			r = tracee_write(m, m->scratch + sizeof(a), t32, x->n_nstid * sizeof(int32_t));
		if (r < 0)
			return r;
		r = tracee_syscall_clone(m, &ret, &tid, m->scratch, sizeof(a));
		if (r < 0)
			return r;
		if (ret < 0 || tid != th->core->pid) {
			pr_err("pid %d: could not recreate thread %d: %s", rt->t.pid, th->core->pid,
			       ret < 0 ? strerror(-ret) : "it got another tid");
			if (tid > 0)
				kill(tid, SIGKILL);
			return ret < 0 ? (int)ret : -EPROTO;
		}
		th->seized = true;
		th->t.pid = tid;
		r = tracee_adopt_state(&th->t);
		if (r < 0)
			return r;
		th->t.injecting = true;   /* inherited the all-blocked mask */
		th->t.syscall_ip = m->syscall_ip;
		th->t.scratch = m->scratch;
		th->t.scratch_size = m->scratch_size;
		/* its own state */
		if (x->has_ss_sp && !(x->ss_flags & SS_DISABLE)) {
			stack_t ss = { .ss_sp = (void *)(uintptr_t)x->ss_sp, .ss_size = x->ss_size,
				       .ss_flags = x->ss_flags & ~SS_ONSTACK };
			r = tracee_write(&th->t, th->t.scratch, &ss, sizeof(ss));
			if (r == 0)
				r = INJECT(&th->t, &ret, __NR_sigaltstack, th->t.scratch, 0);
			if (r == 0 && ret < 0)
				r = pr_errno((int)ret, "pid %d: thread %d: sigaltstack", rt->t.pid, tid);
			if (r < 0)
				return r;
		}
		if (x->has_rseq_ptr && x->rseq_ptr) {
			r = INJECT(&th->t, &ret, __NR_rseq, x->rseq_ptr, x->rseq_len, 0, x->rseq_sig);
			if (r == 0 && ret < 0)
				r = pr_errno((int)ret, "pid %d: thread %d: rseq registration", rt->t.pid, tid);
			if (r < 0)
				return r;
		}
		if (x->has_robust_head && x->robust_head) {
			r = INJECT(&th->t, &ret, __NR_set_robust_list, x->robust_head, x->robust_len);
			if (r == 0 && ret < 0)
				r = pr_errno((int)ret, "pid %d: thread %d: set_robust_list", rt->t.pid, tid);
			if (r < 0)
				return r;
		}
		if (x->comm) {
			char comm[16] = { 0 };
			strncpy(comm, x->comm, sizeof(comm) - 1);
			r = tracee_write(&th->t, th->t.scratch, comm, sizeof(comm));
			if (r == 0)
				r = INJECT(&th->t, &ret, __NR_prctl, PR_SET_NAME, th->t.scratch);
			if (r < 0)
				return r;
		}
		for (size_t k = 0; k < x->n_pending; k++) {
			const siginfo_t *si = (const siginfo_t *)x->pending[k].data;
			if (x->pending[k].len != 128)
				continue;
			r = tracee_write(&th->t, th->t.scratch, si, 128);
			if (r == 0)
				r = INJECT(&th->t, &ret, __NR_rt_tgsigqueueinfo, rt->t.pid, tid, si->si_signo,
					   th->t.scratch);
			if (r == 0 && ret < 0)
				r = pr_errno((int)ret, "pid %d: thread %d: re-queueing signal %d", rt->t.pid, tid,
					     si->si_signo);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* The threads' registers, FPU and mask, once nothing is left to inject. */
static int finish_threads(struct rtask *rt)
{
	for (size_t i = 0; i < rt->nr_thr; i++) {
		struct rthread *th = &rt->thr[i];
		struct user_regs_struct regs;
		uint64_t mask = th->core->thread->blocked;
		int r;

		core_regs_from_image(th->core->regs, &regs);
		r = ptrace_set_regs(th->t.pid, &regs);
		if (r == 0)
			r = ptrace_set_xstate(th->t.pid, th->core->xsave.data, th->core->xsave.len);
		if (r < 0)
			return r;
		if (ptrace(PTRACE_SETSIGMASK, th->t.pid, sizeof(mask), &mask) < 0)
			return pr_errno(-errno, "pid %d: thread %d: cannot set its blocked mask", rt->t.pid,
					th->t.pid);
	}
	return 0;
}

static int swap_task(struct rst *s, struct rtask *rt)
{
	unsigned long gadget = s->ctl->slot[rt - s->tasks].gadget;
	int r = tracee_attach_child(&rt->t.t, rt->t.pid);

	if (r < 0)
		return r;
	rt->t.t.syscall_ip = gadget;
	rt->t.t.scratch = gadget + 256;
	rt->t.t.scratch_size = PAGE_SIZE_CREST - 256;
	mm_set_gadget(rt->mm, gadget);
	r = mm_swap(&s->c, &rt->t, rt->mm);
	if (r < 0)
		return r;
	if (cancelled(s->c.o))
		return -ECANCELED;
	return create_threads(s, rt);
}

static int do_restore(struct rst *s, pid_t *root)
{
	uint64_t root_flags = 0;
	int r;

	r = load_images(s);
	if (r < 0)
		return r;
	r = fit_fd_limit(s);
	if (r < 0)
		return r;
	/* crest's own fds go above every fd of every task */
	log_move_fds(s->floor);
	r = move_above(&s->c.dirfd, s->floor);
	if (r == 0 && s->c.tty_fd >= 0) {
		int tty = fcntl(s->c.tty_fd, F_DUPFD_CLOEXEC, s->floor);
		if (tty < 0)
			r = pr_errno(-errno, "cannot duplicate the terminal");
		s->c.tty_fd = tty;
	}
	if (r < 0)
		return r;
	r = shmem_create(&s->c, s->floor);
	if (r < 0)
		return r;
	/* deleted files: recreated once, inherited by every task (ghost.c) */
	r = ghost_create(&s->c, s->floor);
	if (r < 0)
		return r;

	s->ctl_size = PAGE_ALIGN_UP(sizeof(struct ctl) + s->n * sizeof(struct ctl_slot));
	s->ctl = mmap(NULL, s->ctl_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s->ctl == MAP_FAILED) {
		s->ctl = NULL;
		return pr_errno(-errno, "mmap of the control page");
	}
	if (s->tasks[0].e->n_nspid > 1)
		root_flags |= CLONE_NEWPID;   /* the root is the init of its own namespace */
	r = clone_task(s, s->tasks[0].e, root_flags,
		       s->c.o->pid_wait_ms > 0 ? s->c.o->pid_wait_ms : 5000);
	if (r == 0)
		task_main(s, 0);
	if (r < 0)
		return r;
	s->root = r;
	if (fault_at("restore-after-fork"))
		return -ECANCELED;
	r = wait_all(s, ST_CREATED, "being created");
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n; i++) {
		struct rtask *rt = &s->tasks[i];
		if (rt->e->zombie)
			continue;
		if (ptrace(PTRACE_SEIZE, rt->t.pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) < 0)
			return pr_errno(-errno, "pid %d: cannot seize the restored task", rt->t.pid);
		rt->seized = true;
	}
	atomic_store(&s->ctl->go, 1);
	futex_wake(&s->ctl->go);
	r = wait_all(s, ST_PREPARED1, "preparing their resources");
	if (r < 0)
		return r;
	atomic_store(&s->ctl->go, 2);
	futex_wake(&s->ctl->go);
	r = wait_all(s, ST_PREPARED, "preparing their shared resources");
	if (r < 0)
		return r;
	wait_zombies(s);

	for (size_t i = 0; i < s->n; i++) {
		struct rtask *rt = &s->tasks[i];
		if (rt->e->zombie)
			continue;
		r = swap_task(s, rt);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < s->n; i++) {
		struct rtask *rt = &s->tasks[i];
		if (rt->e->zombie)
			continue;
		r = finish(s, rt);
		if (r == 0)
			r = finish_threads(rt);
		if (r < 0)
			return r;
	}
	r = shmem_seal(&s->c);
	if (r < 0)
		return r;
	if (fault_at("restore-before-resume"))
		return -ECANCELED;
	for (size_t i = 0; i < s->n; i++) {
		struct rtask *rt = &s->tasks[i];
		if (!rt->seized)
			continue;
		if (rt->e->has_stop_sig && rt->e->stop_sig)
			kill(rt->t.pid, rt->e->stop_sig);   /* stays stopped once let go */
		for (size_t k = 0; k < rt->nr_thr; k++) {
			if (rt->thr[k].seized && ptrace(PTRACE_DETACH, rt->thr[k].t.pid, 0, 0) < 0)
				return pr_errno(-errno, "pid %d: cannot let thread %d go", rt->t.pid,
						rt->thr[k].t.pid);
			rt->thr[k].seized = false;
		}
		if (ptrace(PTRACE_DETACH, rt->t.pid, 0, 0) < 0)
			return pr_errno(-errno, "pid %d: cannot let it go", rt->t.pid);
		rt->seized = false;
	}
	*root = s->root;
	return 0;
}

static void kill_tree(struct rst *s)
{
	int st;

	for (size_t i = 0; i < s->n; i++)
		if (s->tasks[i].seized)
			kill(s->tasks[i].t.pid, SIGKILL);
	/* children before parents (a dying pid-namespace init waits for them) */
	for (size_t i = s->n; i-- > 0;) {
		struct rtask *rt = &s->tasks[i];
		/* traced threads are collected before their leader can exit */
		for (size_t k = 0; k < rt->nr_thr; k++) {
			if (!rt->thr[k].seized)
				continue;
			while (waitpid(rt->thr[k].t.pid, &st, __WALL) >= 0 && !WIFEXITED(st) && !WIFSIGNALED(st))
				;
			rt->thr[k].seized = false;
		}
		if (rt->seized) {
			kill(rt->t.pid, SIGKILL);
			while (waitpid(rt->t.pid, &st, __WALL) < 0 && errno == EINTR)
				;
			rt->seized = false;
		}
	}
	if (s->root > 0) {
		/* the rest dies with it (PDEATHSIG, pid-namespace init) */
		kill(s->root, SIGKILL);
		while (waitpid(s->root, &st, __WALL) < 0 && errno == EINTR)
			;
		s->root = 0;
	}
}

int crest_restore(const struct crest_opts *o, pid_t *root)
{
	struct rst s = { .c = { .o = o, .dirfd = -1, .tty_fd = -1 } };
	uint64_t t0 = now_ns();
	pid_t dummy;
	int r;

	if (!root)
		root = &dummy;
	log_begin(o, -1, NULL);
	s.c.dirfd = open_images_dir(o->images_dir, false);
	log_end();
	if (s.c.dirfd < 0)
		return s.c.dirfd;
	log_begin(o, s.c.dirfd, "restore.log");
	pr_info("crest %s: restoring from %s", CREST_VERSION, o->images_dir);
	if (o->shell_job && isatty(STDIN_FILENO))
		s.c.tty_fd = STDIN_FILENO;

	r = do_restore(&s, root);
	if (r < 0)
		kill_tree(&s);
	else
		pr_info("pid %d: %zu processes restored in %.3f s", *root, s.n, (now_ns() - t0) / 1e9);

	for (size_t i = 0; i < s.n; i++) {
		struct rtask *rt = &s.tasks[i];
		tracee_close(&rt->t.t);
		for (size_t k = 0; k < rt->nr_thr; k++) {
			tracee_close(&rt->thr[k].t);
			protobuf_c_message_free_unpacked(&rt->thr[k].core->base, NULL);
		}
		free(rt->thr);
		for (int k = 0; k < MOD_MAX; k++)
			if (rt->loaded[k] && crest_modules[k]->free)
				crest_modules[k]->free(&rt->t);
		mm_free(rt->mm);
		if (rt->core)
			protobuf_c_message_free_unpacked(&rt->core->base, NULL);
	}
	for (int k = 0; k < MOD_MAX; k++)
		if (crest_modules[k]->restore_fini)
			crest_modules[k]->restore_fini(&s.c);
	free(s.tasks);
	free(s.c.tasks);
	free(s.pgh);
	free(s.sh);
	shmem_free(&s.c);
	ghost_free(&s.c);
	if (s.ctl)
		munmap(s.ctl, s.ctl_size);
	if (s.tree)
		protobuf_c_message_free_unpacked(&s.tree->base, NULL);
	if (s.inv)
		protobuf_c_message_free_unpacked(&s.inv->base, NULL);
	if (s.c.tty_fd > 2)
		close(s.c.tty_fd);
	close(s.c.dirfd);
	log_end();
	return r;
}

static volatile sig_atomic_t fwd_pid;

static void forward_sig(int sig)
{
	if (fwd_pid > 0)
		kill(fwd_pid, sig);
}

int crest_restore_wait(pid_t root, int *exit_status)
{
	struct sigaction sa = { .sa_handler = forward_sig }, oi, ot;
	int st, r = 0;

	fwd_pid = root;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &oi);
	sigaction(SIGTERM, &sa, &ot);
	for (;;) {
		pid_t p = waitpid(root, &st, 0);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0) {
			r = -errno;
			break;
		}
		if (WIFEXITED(st)) {
			*exit_status = WEXITSTATUS(st);
			break;
		}
		if (WIFSIGNALED(st)) {
			*exit_status = 128 + WTERMSIG(st);
			break;
		}
	}
	sigaction(SIGINT, &oi, NULL);
	sigaction(SIGTERM, &ot, NULL);
	fwd_pid = 0;
	return r;
}
