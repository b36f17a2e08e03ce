/* SPDX-License-Identifier: MIT */
/*
 * Pre-dump: the memory of the tree copied while it keeps running.  The
 * tree is frozen only to find the pages (and, after the first round, the
 * pages written since the parent image, mm/track.c), to reset the write
 * tracking and to register new memory for it; then it runs on while crest
 * copies the pages.  A page the tree writes during the copy is written
 * "since" this round, so the next round (or the final dump, frozen) takes
 * it again.  The images hold memory only: inventory.img (pre_dump),
 * pagemap-PID.img, pages-PID.img and track.img.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <sys/utsname.h>
#include "core.h"
#include "image/image.h"
#include "inventory.pb-c.h"
#include "util/log.h"
#include "mm/mm.h"
#include "mm/pages.h"
#include "mm/track.h"
#include "ns/pidns.h"
#include "pstree.h"
#include "task/seccomp.h"
#include "util/util.h"

static int write_pre_inventory(struct dump_ctx *c)
{
	Inventory inv = INVENTORY__INIT;
	struct utsname u;
	_cleanup_free_ int32_t *pids = calloc(c->nr_tasks + 1, sizeof(*pids));

	if (!pids)
		return -ENOMEM;
	for (size_t i = 0; i < c->nr_tasks; i++)
		pids[i] = c->tasks[i]->pid;
	inv.format_version = CREST_IMG_VERSION;
	inv.crest_version = CREST_VERSION;
	inv.root_pid = c->tasks[0]->pid;
	inv.pids = pids;
	inv.n_pids = c->nr_tasks;
	if (uname(&u) == 0)
		inv.kernel = u.release;
	inv.has_dump_time = true;
	inv.dump_time = time(NULL);
	return dump_inventory_finish(c, &inv, true);
}

static bool has_memory(const struct dump_task *t)
{
	return !t->zombie && !t->vm_owner;   /* a shared address space: once, with its owner */
}

static int pre_dump_tree(const struct crest_opts *o)
{
	struct dump_ctx c = { .o = o, .dirfd = -1 };
	_cleanup_free_ struct pages_plan *plans = NULL;
	uint64_t t0 = now_ns(), t_frozen = 0;
	int r;

	log_begin(o, -1, NULL);
	c.dirfd = open_images_dir(o->images_dir, true);
	log_end();
	if (c.dirfd < 0)
		return c.dirfd;
	log_begin(o, c.dirfd, "pre-dump.log");
	pr_info("crest %s: pre-dump of pid %d into %s%s%s", CREST_VERSION, o->pid, o->images_dir,
		o->prev_images_dir ? ", parent " : "", o->prev_images_dir ? o->prev_images_dir : "");
	unlinkat(c.dirfd, "inventory.img", 0);
	unlinkat(c.dirfd, "track.img", 0);
	if (o->pid <= 0) {
		pr_err("no pid given (-t PID)");
		r = -EINVAL;
		goto out;
	}
	r = pidns_check_proc();
	if (r < 0)
		goto out;
	r = pstree_freeze(&c, o->pid);
	if (r < 0)
		goto out;
	r = pstree_check(&c);   /* what the final dump would refuse: now */
	if (r == 0)
		r = track_begin(&c, true, &c.track);
	if (r < 0)
		goto out;
	plans = calloc(c.nr_tasks + 1, sizeof(*plans));
	if (!plans) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < c.nr_tasks && r == 0; i++) {
		struct dump_task *t = c.tasks[i];
		if (!has_memory(t))
			continue;
		r = seccomp_dump_suspend(t);   /* its filter must not act on our injections */
		if (r == 0)
			r = tracee_prepare_dump(&t->t, 0, 0);
		if (r == 0)
			r = mm_pre_dump_plan(&c, t, &plans[i]);
	}
	if (r < 0)
		goto out;
	/* the tree runs again; its memory is copied meanwhile */
	r = dump_release_all(&c);
	t_frozen = now_ns();
	if (r < 0)
		goto out;
	pr_info("pid %d: tree frozen for %.3f s", o->pid, (t_frozen - t0) / 1e9);
	for (size_t i = 0; i < c.nr_tasks && r == 0; i++) {
		if (!has_memory(c.tasks[i]))
			continue;
		if (cancelled(o))
			r = -ECANCELED;
		else
			r = pages_write(&c, c.tasks[i], &plans[i], true);
	}
	if (r == 0)
		r = track_hand_over(&c, c.track);
	if (r == 0)
		r = write_pre_inventory(&c);
	if (r == 0)
		pr_info("pid %d: pre-dump of %zu processes done in %.3f s (frozen %.3f s)", o->pid, c.nr_tasks,
			(now_ns() - t0) / 1e9, (t_frozen - t0) / 1e9);
out:
	if (r < 0) {
		dump_release_all(&c);
		unlinkat(c.dirfd, "track.img", 0);
	}
	track_end(&c, c.track, r == 0);   /* failed: the tracking goes */
	for (size_t i = 0; plans && i < c.nr_tasks; i++)
		pages_plan_free(&plans[i]);
	for (size_t i = 0; i < c.nr_tasks; i++)
		dump_task_free(c.tasks[i]);
	free(c.tasks);
	for (size_t i = 0; i < ARRAY_SIZE(c.page_bufs); i++)
		free(c.page_bufs[i]);
	close(c.dirfd);
	log_end();
	return r;
}

/* SIGPIPE blocked as for crest_dump (dump.c). */
int crest_pre_dump(const struct crest_opts *o)
{
	return dump_sigpipe_blocked(pre_dump_tree, o);
}
