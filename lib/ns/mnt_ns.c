/* SPDX-License-Identifier: MIT */
/*
 * The mount namespace kind of the namespace plumbing (ns.c, see ns.h): its
 * holder builds the tree (mnt_restore.c: mnt_build), and once the tasks
 * exist a helper inside makes the proc mounts of the tree's pid namespaces
 * (mnt_finish_in).  The dump side is mnt.c's (mnt.img, by namespace inode).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "mnt.pb-c.h"
#include "util/log.h"
#include "mnt.h"
#include "ns.h"
#include "util/util.h"

static int mnt_ns_dump(struct dump_ctx *c, struct ns_dump_one *ns)
{
	return 0;   /* recorded in mnt.img by mnt.c, keyed by the namespace's inode */
}

static const MntNs *img_of(struct restore_ctx *c, const Namespace *ns)
{
	const MntNs *m = mnt_restore_ns_by_ino(c, ns->ino);

	if (!m)
		pr_err("pid %d: image mnt.img has no mount tree for its mount namespace %" PRIu64
		       " (a partial image directory?)", ns->pid, (uint64_t)ns->ino);
	return m;
}

static int mnt_ns_load(struct restore_ctx *c, const Namespace *ns)
{
	return img_of(c, ns) ? 0 : -EBADMSG;
}

static int mnt_ns_create(struct restore_ctx *c, const Namespace *ns)
{
	const MntNs *m = img_of(c, ns);

	return m ? mnt_build(c, m) : -EBADMSG;
}

struct fin {
	const MntNs *m;
	int *pidns;
};

static int fin_in(struct restore_ctx *c, const Namespace *ns, void *arg)
{
	struct fin *f = arg;
	return mnt_finish_in(c, f->m, f->pidns);
}

static int mnt_ns_finish(struct restore_ctx *c, const Namespace *ns, int nsfd)
{
	const MntNs *m = img_of(c, ns);
	struct fin f = { .m = m };
	bool any = false;
	int r = 0;

	if (!m)
		return -EBADMSG;
	f.pidns = fd_table_new(m->n_mounts ? m->n_mounts : 1);
	if (!f.pidns)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_mounts && r == 0; i++) {
		const MntEntry *e = m->mounts[i];
		char path[64];
		if (e->kind != MNT_KIND__MNT_PROC || !e->pidns_task)
			continue;   /* crest's own pid namespace: made so by mnt_build */
		snprintf(path, sizeof(path), "/proc/%d/ns/pid", e->pidns_task);
		f.pidns[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (f.pidns[i] < 0)
			r = pr_errno(-errno, "proc mount %u on %s: the pid namespace of pid %d", e->old_id,
				     e->mountpoint, e->pidns_task);
		any = true;
	}
	if (r == 0 && any)
		r = ns_restore_in(c, ns->id, fin_in, &f);
	fd_table_free(f.pidns, m->n_mounts ? m->n_mounts : 1);
	return r;
}

static int mnt_ns_created(struct restore_ctx *c, const Namespace *ns, pid_t holder, int floor)
{
	return mnt_restore_take(c, ns->ino, holder, floor);
}

bool mnt_ns_glued(void)
{
	return true;
}

const struct ns_kind_ops mnt_ns_ops = {
	.dump = mnt_ns_dump,
	.load = mnt_ns_load,
	.create = mnt_ns_create,
	.finish = mnt_ns_finish,
	.created = mnt_ns_created,
};
