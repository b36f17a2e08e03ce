/* SPDX-License-Identifier: MIT */
/*
 * Restore, the tasks' side: every restored task is a fork of crest that
 * forks its own children at their pids (clone3 set_tid, one pid per
 * pid-namespace level), takes its session and group, prepares its
 * resources natively and meets crest at the barriers of the shared control
 * page.  Helpers stand in for group and session leaders that exited.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "util/compat.h"
#include "fs/tty.h"
#include "core.h"
#include "util/log.h"
#include "restore_priv.h"
#include "ns/ns.h"
#include "util/util.h"

int plan_group_helpers(struct rst *s)
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

/* ---------------------------------------------------------- the tasks */


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
pid_t clone_task(struct rst *s, const PstreeEntry *e, uint64_t flags, int wait_ms)
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
			/* CLONE_PARENT: the caller's exit signal (clone3 wants 0 here) */
			.exit_signal = flags & CLONE_PARENT ? 0 : SIGCHLD,
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
		/* its controlling terminal, before it forks: its children inherit it */
		int r = tty_set_ctty(&s->c, pid);   /* tty.c */
		if (r < 0)
			return r;
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

			/* (a child of another task's, when that one is its sibling
			 * sharing its fd table or fs info: share.c) */
			if (s->tasks[j].creator != idx || s->tasks[j].via_sh ||
			    s->tasks[j].e->has_vm_owner)   /* injected later: restore_vm.c */
				continue;
			if (pass == 0 && in_unshared)
				continue;
			if (pass > 0 && (!in_unshared || (pass == 1) != init))
				continue;
			if (!in_unshared && c->pidns != e->pidns)
				flags |= CLONE_NEWPID;
			flags |= s->tasks[j].clone_flags;   /* CLONE_FILES, CLONE_FS, CLONE_PARENT */
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
		/* make the group now, so that it exists before any member joins */
		if (setpgid(pid, pid) < 0)
			return pr_errno(-errno, "pid %d: creating process group %d", e->pid, pid);
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

/* pidns.c's fork of the root (pidns_fork_root_fn): clone_task, and in the
 * child the root's life. */
pid_t fork_root(void *arg, uint64_t flags, int wait_ms, int close_fd)
{
	struct rst *s = arg;
	pid_t pid = clone_task(s, s->tasks[0].e, flags, wait_ms);

	if (pid == 0) {
		if (close_fd >= 0)
			close(close_fd);
		task_main(s, 0);
	}
	return pid;
}

__attribute__((noreturn)) void task_main(struct rst *s, int idx)
{
	struct rtask *rt = &s->tasks[idx];
	unsigned long gadget = 0;
	int r;

	/* die with the parent while being prepared (not when the parent is
	 * a session helper: it exits on purpose) */
	if (!rt->via_sh)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* its namespaces first: its children inherit them (ns.c) */
	r = ns_restore_enter(&s->c, &rt->t);
	if (r == 0)
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
	share_fd_lock(s, rt);   /* one member of a shared fd table at a time */
	for (int i = 0; i < MOD_MAX; i++) {
		const struct crest_module *m = crest_modules[i];
		if (m->prepare && (r = m->prepare(&s->c, &rt->t)) < 0)
			goto fail;
	}
	share_fd_unlock(s, rt);
	report(s, idx, ST_PREPARED1, 0);
	wait_go(s, 2);
	reap_group_helpers(s, idx);
	share_fd_lock(s, rt);
	for (int i = 0; i < MOD_MAX; i++) {
		const struct crest_module *m = crest_modules[i];
		if (m->prepare2 && (r = m->prepare2(&s->c, &rt->t)) < 0)
			goto fail;
	}
	r = mm_prepare(&s->c, &rt->t, rt->mm, &gadget);
	if (r < 0)
		goto fail;
	share_fd_unlock(s, rt);
	s->ctl->slot[idx].gadget = gadget;
	report(s, idx, ST_PREPARED, 0);
	for (;;)
		pause();
fail:
	/* (a shared fd table's lock stays held: crest kills the tree) */
	report(s, idx, ST_FAILED, r);
	_exit(1);
}
