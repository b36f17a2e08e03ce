/* SPDX-License-Identifier: MIT */
/*
 * Restore of fd tables and fs info shared between processes (share.h).
 *
 * Creation: share_plan() names each task's creator; a task that shares its
 * owner's fd table or fs info is forked with CLONE_FILES / CLONE_FS by its
 * parent, or by a sibling with CLONE_PARENT (restore_tree.c).
 *
 * One fd table, several restoring tasks.  The owner restores the table
 * (files.c, files_share.c: the members have no files image); every member
 * still opens the files it maps and its executable at temporary fds for the
 * address-space swap, and a few transient fds (e.g. oom_score_adj).  So:
 *   - each member gets its own range of temporary fds, one after the other
 *     above the table's highest fd (owner first), and crest's own fds go
 *     above all of them: the fds one member places at fixed numbers are
 *     never another's;
 *   - the native preparation steps that touch the table (the modules'
 *     .prepare, then .prepare2 and the mapped files) run under a lock of
 *     the group (a futex in the control page), one member at a time: a
 *     transient fd one member opens at the lowest free number cannot be
 *     taken over by another member's dup2 or close_range meanwhile;
 *   - the final close_range(tmp_fd_base, ~0) of the owner, the member
 *     with the lowest range, runs after every swap and closes them all.
 * fs info needs no such care: only the owner sets cwd, root and umask
 * (misc.c); the others check them.
 */
#include <linux/sched.h>
#include <stdatomic.h>
#include <string.h>
#include "util/log.h"
#include "restore_priv.h"
#include "share.h"
#include "util/util.h"

int plan_sharing(struct rst *s)
{
	_cleanup_free_ struct share_node *n = calloc(s->n + 1, sizeof(*n));
	_cleanup_free_ struct share_plan *plan = calloc(s->n + 1, sizeof(*plan));
	int r;

	if (!n || !plan)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		const PstreeEntry *e = s->tasks[i].e;
		n[i] = (struct share_node){ .pid = e->pid, .ppid = e->ppid, .sid = e->sid, .pgid = e->pgid,
			.pidns = e->pidns, .pidns_children = e->pidns_for_children,
			.ns_init = e->n_nspid > 1 && e->nspid[e->n_nspid - 1] == 1,
			.zombie = e->has_zombie && e->zombie };
		n[i].owner[SHARE_FILES] = e->has_files_owner ? e->files_owner : e->pid;
		n[i].owner[SHARE_FS] = e->has_fs_owner ? e->fs_owner : e->pid;
		n[i].owner[SHARE_VM] = e->has_vm_owner ? e->vm_owner : e->pid;
		n[i].owner[SHARE_SIGHAND] = e->has_sighand_owner ? e->sighand_owner : e->pid;
		s->tasks[i].fd_group = -1;
	}
	r = share_plan(n, s->n, plan, "pstree.img");
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n; i++) {
		struct rtask *rt = &s->tasks[i];
		rt->creator = plan[i].creator;
		rt->clone_flags = plan[i].flags;
		if (rt->clone_flags && rt->via_sh) {
			pr_err("pid %d: created by a session helper, it cannot share its parent's fd table "
			       "or fs info: not supported", rt->t.pid);
			return -ENOTSUP;
		}
		if (rt->e->has_files_owner) {
			int o = find_task(s, rt->e->files_owner);
			rt->fd_group = o;
			s->tasks[o].fd_group = o;
		}
	}
	return 0;
}

/* After every task is loaded (its own tmp_fd_base above its fds, and the
 * number of fds the swap needs): chain the ranges of each group's members. */
int share_fd_ranges(struct rst *s)
{
	_cleanup_free_ int *end = calloc(s->n + 1, sizeof(*end));

	if (!end)
		return pr_errno(-ENOMEM, "fd ranges of %zu tasks", s->n);
	for (size_t i = 0; i < s->n; i++) {
		struct rtask *rt = &s->tasks[i];
		int o = rt->fd_group, used;

		if (o < 0)
			continue;
		if (o == (int)i) {
			end[i] = rt->t.next_tmp_fd;
			continue;
		}
		used = rt->t.next_tmp_fd - rt->t.tmp_fd_base;
		rt->t.tmp_fd_base = end[o];
		rt->t.next_tmp_fd = end[o] + used;
		end[o] = rt->t.next_tmp_fd;
		s->floor = MAX(s->floor, rt->t.next_tmp_fd + 16);
		pr_debug("pid %d: shares pid %d's fd table: its temporary fds from %d", rt->t.pid,
			 s->tasks[o].t.pid, rt->t.tmp_fd_base);
	}
	return 0;
}

void share_fd_lock(struct rst *s, struct rtask *rt)
{
	_Atomic int *l;
	int z = 0;

	if (rt->fd_group < 0)
		return;
	l = &s->ctl->slot[rt->fd_group].fd_lock;
	while (!atomic_compare_exchange_strong(l, &z, 1)) {
		futex_wait(l, 1, 100);
		z = 0;
	}
}

void share_fd_unlock(struct rst *s, struct rtask *rt)
{
	_Atomic int *l;

	if (rt->fd_group < 0)
		return;
	l = &s->ctl->slot[rt->fd_group].fd_lock;
	atomic_store(l, 0);
	futex_wake(l);
}
