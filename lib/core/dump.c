/* SPDX-License-Identifier: MIT */
/*
 * Dump: freeze the whole tree with ptrace (pstree.c), collect every
 * process's state (core.c, mm.c, and one module per resource kind), write
 * the images, then kill the tree or let it go.  Nothing of the tree runs
 * between the first task's stop and the last task's kill or release, and
 * any failure leaves every task running as before.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <time.h>
#include "core.h"
#include "task/seccomp.h"
#include "image/image.h"
#include "inventory.pb-c.h"
#include "util/log.h"
#include "mm/mm.h"
#include "ns/pidns.h"
#include "ns/ns.h"
#include "pstree.h"
#include "mm/shmem.h"
#include "ns/mnt.h"
#include "fs/ghost.h"
#include "mm/track.h"
#include "net/sk_inet.h"
#include "task.h"
#include "util/util.h"

/* The chain and format fields every inventory has, then write it. */
int dump_inventory_finish(struct dump_ctx *c, Inventory *inv, bool pre_dump)
{
	inv->has_dump_id = true;
	inv->dump_id = track_dump_id(c->track);
	if (!inv->dump_id && getrandom(&inv->dump_id, sizeof(inv->dump_id), 0) != sizeof(inv->dump_id))
		inv->dump_id = now_ns();
	inv->has_pre_dump = pre_dump;
	inv->pre_dump = pre_dump;
	if (track_parent_path(c->track)) {
		inv->parent = (char *)track_parent_path(c->track);
		inv->has_parent_id = true;
		inv->parent_id = track_parent_id(c->track);
	}
	inv->has_compress = c->o->compress;
	inv->compress = c->o->compress;
	return img_write(c->dirfd, "inventory.img", &inv->base);
}

static int write_inventory(struct dump_ctx *c)
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
	inv.has_shell_job = true;
	inv.shell_job = c->o->shell_job;
	inv.has_leave_running = true;
	inv.leave_running = c->o->leave_running;
	return dump_inventory_finish(c, &inv, false);
}

static int dump_one(struct dump_ctx *c, struct dump_task *t)
{
	int r;

	if (t->zombie)
		return 0;
	/* before anything is injected: a seccomp filter would act on it */
	r = seccomp_dump_suspend(t);
	if (r < 0)
		return r;
	r = tracee_prepare_dump(&t->t, 0, 0);
	if (r < 0)
		return r;
	/* its mount namespace first: its files' paths resolve in it (ns/mnt.c) */
	r = mnt_dump_task_ns(c, t->pid);
	if (r < 0)
		return r;
	r = core_dump(c, t);
	if (r < 0)
		return r;
	if (cancelled(c->o))
		return -ECANCELED;
	/* an address space shared with an earlier task (CLONE_VM, pstree.c) is
	 * dumped once, with that task */
	r = t->vm_owner ? 0 : mm_dump(c, t);
	if (r < 0)
		return r;
	for (int i = 0; i < MOD_MAX; i++) {
		const struct crest_module *m = crest_modules[i];
		if (cancelled(c->o))
			return -ECANCELED;
		if (!m->dump)
			continue;
		r = m->dump(c, t);
		if (r < 0) {
			pr_debug("pid %d: module %s failed", t->pid, m->name);
			return r;
		}
	}
	return 0;
}

/* Tree-wide end of the modules' dump (e.g. images of shared objects). */
static int fini_modules(struct dump_ctx *c, bool ok)
{
	int r = 0;
	for (int i = 0; i < MOD_MAX; i++)
		if (crest_modules[i]->dump_fini) {
			int fr = crest_modules[i]->dump_fini(c, ok);
			if (ok && fr < 0 && r == 0)
				r = fr;
		}
	return r;
}

/* Let every seized task go on as it was (failure, or --leave-running). */
int dump_release_all(struct dump_ctx *c)
{
	int ret = 0;

	for (size_t i = c->nr_tasks; i-- > 0;) {
		struct dump_task *t = c->tasks[i];
		/* other threads first: the main thread unmaps the shared scratch */
		for (size_t k = 0; k < t->nr_threads; k++) {
			struct dump_thread *th = &t->threads[k];
			if (!th->seized || th->t.dead)
				continue;
			if (tracee_release(&th->t) < 0) {
				pr_err("pid %d: could not put thread %d back as it was", t->pid, th->tid);
				ret = -EIO;
			}
			th->seized = false;
		}
		if (!t->seized || t->t.dead)
			continue;
		if (tracee_release(&t->t) < 0) {
			pr_err("pid %d: could not put the task back as it was", t->pid);
			ret = -EIO;
		}
		t->seized = false;
	}
	return ret;
}

/* Kill the tree: children first is not needed, every task is stopped. */
static int kill_all(struct dump_ctx *c)
{
	int ret = 0;

	for (size_t i = 0; i < c->nr_tasks; i++)
		if (c->tasks[i]->seized)
			kill(c->tasks[i]->pid, SIGKILL);
	/* collect children before parents: a dying pid-namespace init waits
	 * for the tasks of its namespace, which wait for us, their tracer */
	for (size_t i = c->nr_tasks; i-- > 0;) {
		struct dump_task *t = c->tasks[i];
		/* traced threads must be collected before the leader can exit */
		for (size_t k = 0; k < t->nr_threads; k++) {
			int st;
			while (waitpid(t->threads[k].tid, &st, __WALL) >= 0 && !WIFEXITED(st) && !WIFSIGNALED(st))
				;
			t->threads[k].seized = false;
		}
		if (t->seized && tracee_kill(&t->t) < 0)
			ret = -EIO;
		t->seized = false;
	}
	/* zombies go with their parent: nothing to do for them */
	return ret;
}

static int dump_tree(const struct crest_opts *o)
{
	struct dump_ctx c = { .o = o, .dirfd = -1 };
	uint64_t t0 = now_ns();
	bool fini_done = false;
	int r;

	log_begin(o, -1, NULL);
	c.dirfd = open_images_dir(o->images_dir, true);
	log_end();
	if (c.dirfd < 0)
		return c.dirfd;
	log_begin(o, c.dirfd, "dump.log");
	pr_info("crest %s: dumping pid %d into %s", CREST_VERSION, o->pid, o->images_dir);
	unlinkat(c.dirfd, "inventory.img", 0);

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
	if (fault_at("dump-after-freeze")) {
		r = -ECANCELED;
		goto out;
	}
	r = pstree_check(&c);
	if (r == 0)
		r = pidns_dump_check(&c);
	if (r == 0)
		r = ns_dump_check(&c);   /* ns.c: mount, uts, ipc, net, cgroup, time */
	if (r == 0)
		r = track_begin(&c, false, &c.track);   /* --prev-images-dir: ends a pre-dump chain */
	if (r < 0)
		goto out;
	for (size_t i = 0; i < c.nr_tasks; i++) {
		r = dump_one(&c, c.tasks[i]);
		if (r < 0)
			goto out;
		kill_point("a process dumped");
	}
	fini_done = true;
	r = fini_modules(&c, true);
	if (r < 0)
		goto out;
	r = shmem_dump_write(&c);
	if (r < 0)
		goto out;
	r = ghost_dump_write(&c);   /* ghost.c: deleted files, remap links */
	if (r < 0)
		goto out;
	r = pstree_write(&c);
	if (r < 0)
		goto out;
	if (cancelled(o)) {
		r = -ECANCELED;
		goto out;
	}
	kill_point("before inventory.img");
	r = write_inventory(&c);
	if (r < 0)
		goto out;
	kill_point("inventory.img written");
	if (getenv("CREST_KILL_AT"))
		pr_info("%lu kill points passed before the kill phase (CREST_KILL_AT)", kill_points_passed());
	if (fault_at("dump-before-kill")) {
		unlinkat(c.dirfd, "inventory.img", 0);
		r = -ECANCELED;
		goto out;
	}
	/* sk_inet_tree.c: connections read in TCP_REPAIR mode are put back
	 * before the tree runs again, or close silently with the killed tree */
	if (o->leave_running) {
		skinet_dump_done(&c, false);
		r = dump_release_all(&c);
	} else {
		r = kill_all(&c);
		skinet_dump_done(&c, true);
	}
	pr_info("pid %d: dump of %zu processes done in %.3f s", o->pid, c.nr_tasks, (now_ns() - t0) / 1e9);
out:
	if (getenv("CREST_KILL_AT"))
		pr_info("%lu kill points passed (CREST_KILL_AT)", kill_points_passed());
	if (getenv("CREST_FAULT_N"))
		pr_info("%lu fallible operations passed (CREST_FAULT_N)", fault_ops_passed());
	if (!fini_done)
		fini_modules(&c, false);
	if (r < 0) {
		unlinkat(c.dirfd, "inventory.img", 0);   /* a failed dump is incomplete */
		skinet_dump_done(&c, false);
		dump_release_all(&c);
	}
	track_end(&c, c.track, r == 0);   /* the tracking of the chain goes */
	for (size_t i = 0; i < c.nr_tasks; i++)
		dump_task_free(c.tasks[i]);
	free(c.tasks);
	shmem_dump_free(&c);
	for (size_t i = 0; i < ARRAY_SIZE(c.page_bufs); i++)
		free(c.page_bufs[i]);
	ghost_dump_free(&c, r == 0);   /* a failed dump removes its remap links */
	close(c.dirfd);
	log_end();
	return r;
}

/*
 * SIGPIPE is blocked for the whole dump: a log going to a pipe whose reader
 * left (`crest dump -v | head`) must make the write fail, not kill crest in
 * the middle of a syscall injected into a task, whose registers would then
 * be left pointing at the gadget (it crashes as soon as it runs on).  A
 * SIGPIPE raised meanwhile is taken out again before the caller's mask is
 * back.
 */
int dump_sigpipe_blocked(int (*fn)(const struct crest_opts *o), const struct crest_opts *o)
{
	sigset_t pipe, old, pend;
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	sigpending(&pend);
	bool was_pending = sigismember(&pend, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, &old);

	int r = fn(o);

	if (!was_pending && !sigismember(&old, SIGPIPE)) {
		struct timespec zero = { 0, 0 };
		while (sigtimedwait(&pipe, NULL, &zero) == SIGPIPE)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

int crest_dump(const struct crest_opts *o)
{
	return dump_sigpipe_blocked(dump_tree, o);
}
