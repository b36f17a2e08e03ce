/* SPDX-License-Identifier: MIT */
/*
 * Signal-driven I/O (part of the files module): O_ASYNC, the owner that
 * F_SETOWN / F_SETOWN_EX gave a description (a thread, a process or a
 * process group) and the signal F_SETSIG chose; FilesDesc.fown.
 *
 * Dump: F_GETOWN_EX and F_GETSIG on crest's copy of the description (the
 * same struct file: no change to it).  The owner must be a thread, process
 * or group of the tree, which the restore recreates; another one is refused
 * by name.
 *
 * Restore: in .inject, by fcntl()s injected into the task that restored the
 * description (every thread exists by then, a thread owner too; a lease,
 * which makes its taker the owner, is already held): F_SETSIG, F_SETOWN_EX
 * with the owner's pid as the task's pid namespace names it, then O_ASYNC by
 * F_SETFL.  The owner's credentials the kernel records for the permission
 * check of each signal are the task's at that point (root), not the ones
 * the program had when it called F_SETOWN.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include "files.pb-c.h"
#include "pstree.pb-c.h"
#include "fown.h"
#include "util/log.h"
#include "util/util.h"

static const char *owner_type(int type)
{
	return type == F_OWNER_TID ? "thread" : type == F_OWNER_PGRP ? "process group" : "process";
}

/* ------------------------------------------------------------------ dump */

static bool in_tree(const struct dump_ctx *c, int type, pid_t p)
{
	for (size_t i = 0; i < c->nr_tasks; i++) {
		const struct dump_task *t = c->tasks[i];
		if (t->zombie)
			continue;
		if (type == F_OWNER_PGRP ? t->pgid == p : t->pid == p)
			return true;
		for (size_t k = 0; type == F_OWNER_TID && k < t->nr_threads; k++)
			if (t->threads[k].tid == p)
				return true;
	}
	return false;
}

int fown_dump(struct dump_ctx *c, pid_t pid, int fd, const char *link, int lfd, FilesDesc *d)
{
	struct f_owner_ex ox = { 0 };
	int sig;

	if (d->flags & O_PATH)
		return 0;
	if (fcntl(lfd, F_GETOWN_EX, &ox) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): F_GETOWN_EX", pid, fd, link);
	sig = fcntl(lfd, F_GETSIG);
	if (sig < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): F_GETSIG", pid, fd, link);
	if (!ox.pid && !sig)
		return 0;
	if (ox.pid && !in_tree(c, ox.type, ox.pid)) {
		pr_err("pid %d: fd %d (%s): its signals go to %s %d (F_SETOWN), which is not in the dumped "
		       "tree: not supported (dump the tree that holds it)", pid, fd, link,
		       owner_type(ox.type), ox.pid);
		return -EOPNOTSUPP;
	}
	d->fown = malloc(sizeof(*d->fown));
	if (!d->fown)
		return -ENOMEM;
	files_owner__init(d->fown);
	d->fown->has_type = d->fown->has_pid = d->fown->has_sig = true;
	d->fown->type = ox.type;
	d->fown->pid = ox.pid;
	d->fown->sig = (uint32_t)sig;
	pr_debug("pid %d: fd %d (%s): signals (%d) go to %s %d%s", pid, fd, link, sig,
		 owner_type(ox.type), ox.pid, d->flags & O_ASYNC ? ", O_ASYNC" : "");
	return 0;
}

void fown_desc_free(FilesDesc *d)
{
	free(d->fown);
	d->fown = NULL;
}

/* --------------------------------------------------------------- restore */

bool fown_consistent(const FilesDesc *d)
{
	const FilesOwner *o = d->fown;

	if (!o)
		return true;
	return (o->type == F_OWNER_TID || o->type == F_OWNER_PID || o->type == F_OWNER_PGRP) &&
	       o->pid >= 0 && o->sig < 65;
}

/* p (crest's level) as the pid namespace of t names it; 0 if it cannot. */
static pid_t vpid(struct restore_ctx *c, struct restore_task *t, int type, pid_t p)
{
	size_t lvl = t->pstree ? t->pstree->n_nspid : 1;

	if (lvl <= 1)
		return p;
	for (size_t i = 0; i < c->nr_tasks; i++) {
		const PstreeEntry *e = c->tasks[i]->pstree;
		if (!e)
			continue;
		if (e->pid == p && e->n_nspid >= lvl)
			return e->nspid[lvl - 1];
		for (size_t k = 0; type == F_OWNER_TID && k < e->n_threads; k++)
			if (e->threads[k]->tid == p && e->threads[k]->n_nstid >= lvl)
				return e->threads[k]->nstid[lvl - 1];
	}
	return 0;
}

static int inj_fcntl(struct restore_task *t, int fd, const char *path, const char *what, int cmd,
		     unsigned long arg)
{
	long ret;
	int r = INJECT(&t->t, &ret, __NR_fcntl, fd, cmd, arg);

	if (r == 0 && ret < 0)
		r = pr_errno((int)ret, "pid %d: fd %d (%s): cannot set its %s again", t->pid, fd, path, what);
	return r;
}

int fown_inject(struct restore_ctx *c, struct restore_task *t, const Files *img, const int *first_fd)
{
	for (size_t i = 0; i < img->n_descs; i++) {
		const FilesDesc *d = img->descs[i];
		const FilesOwner *o = d->fown;
		int fd = d->has_keep_fd ? d->keep_fd : first_fd[i], r;
		const char *path = d->path ? d->path : "?";

		if (fd < 0 || d->has_owner_pid || (!o && !(d->flags & O_ASYNC)))
			continue;       /* unused, or restored by another task */
		if (o && o->sig && (r = inj_fcntl(t, fd, path, "signal (F_SETSIG)", F_SETSIG, o->sig)) < 0)
			return r;
		if (o && o->pid) {
			struct f_owner_ex ox = { .type = o->type, .pid = vpid(c, t, o->type, o->pid) };
			if (!ox.pid) {
				pr_err("pid %d: fd %d (%s): its signal owner, %s %d, has no pid in the task's pid "
				       "namespace", t->pid, fd, path, owner_type(o->type), o->pid);
				return -ESRCH;
			}
			r = tracee_write(&t->t, t->t.scratch, &ox, sizeof(ox));
			if (r == 0)
				r = inj_fcntl(t, fd, path, "signal owner (F_SETOWN_EX)", F_SETOWN_EX, t->t.scratch);
			if (r < 0)
				return r;
		}
		if (d->flags & O_ASYNC) {
			long fl;
			r = INJECT(&t->t, &fl, __NR_fcntl, fd, F_GETFL);
			if (r == 0 && fl < 0)
				r = pr_errno((int)fl, "pid %d: fd %d (%s): F_GETFL", t->pid, fd, path);
			if (r == 0 && !(fl & O_ASYNC))
				r = inj_fcntl(t, fd, path, "O_ASYNC flag", F_SETFL, (unsigned long)fl | O_ASYNC);
			if (r < 0)
				return r;
		}
	}
	return 0;
}
