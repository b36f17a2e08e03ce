/* SPDX-License-Identifier: MIT */
/*
 * The namespaces of the tree (ns.c): mount, uts, ipc, net, cgroup and time
 * (pid namespaces: pidns.c; user namespaces other than crest's are refused).
 *
 * Dump.  ns_dump_check() (right after the tree is frozen, before any task is
 * dumped) reads /proc/PID/ns/<kind> of every task and thread.  A namespace
 * equal to crest's own is not recorded: the task stays in crest's at
 * restore.  Every other one is a namespace "of the tree": it gets an id,
 * and it must hold no process outside the tree (else refused: the tree
 * would take it away from them).  Once every task is dumped (tasks still
 * frozen), each kind's .dump reads its state, and ns.img lists the
 * namespaces (kind, id, inode, a task in it, their state) and the ids of
 * each task's namespaces.
 *
 * Restore.  ns_restore_create() (in crest, after the images are loaded,
 * before any task is forked) makes every namespace fresh in a holder: a
 * fork of crest that unshare()s that one kind, runs the kind's .create in
 * it, and waits; crest opens /proc/HOLDER/ns/<kind> (time_for_children for
 * time) at an fd above every task's fds and kills the holder.  So nothing
 * is ever done in crest's own namespaces, and a failed restore leaves no
 * namespace behind: crest's fds are the only references and go with it
 * (ns_module.restore_fini).  Every task inherits the fds and, first thing
 * in its life (ns_restore_enter(), before it forks its children and before
 * any module's .prepare), setns()es into each of its namespaces it is not
 * in yet (children mostly inherit them from their parent: no-op).
 *
 * ---- The seam for mount namespaces (NAME = mnt) ----
 * The kind table has a slot for NSK_MNT filled from the weak symbol
 * `mnt_ns_ops` (define `const struct ns_kind_ops mnt_ns_ops = {...}` in
 * lib/fs/, nothing else to register; note that a static archive links an
 * object for a weak reference only if something else references it: the
 * files/mm code calling your functions does).  While it is absent, a task
 * in a mount namespace other than crest's is refused at dump by
 * ns_dump_check ("... mount namespaces are not supported yet").
 * With it:
 *   .dump(c, ns)     in crest, tasks frozen, once per mount namespace of the
 *                    tree after every task's module dumps: write your own
 *                    image(s) keyed by ns->id (e.g. "mnt-<id>.img");
 *                    ns->pid is a task in it (/proc/<pid>/mountinfo...).
 *                    Per-task module dumps run before it and can ask which
 *                    namespace a task is in: ns_dump_task_ns(c, pid, NSK_MNT)
 *                    (NULL: crest's own).
 *   .load(c, ns)     in crest before anything is forked: read and check.
 *   .create(c, ns)   in the holder, right after unshare(CLONE_NEWNS): the
 *                    holder's mounts are a copy of crest's, still
 *                    propagating to crest's: make / rprivate (or rslave)
 *                    FIRST, then build the tree.  No task exists yet; every
 *                    task of that namespace setns()es into it later and is
 *                    then at the namespace's root (cwd and root: misc.c).
 *                    The holder is killed after .create: keep nothing in
 *                    processes; what must live on is in the namespace.
 *                    A task enters its mount namespace last of all its
 *                    namespaces, at the start of its life: from then on
 *                    every path it opens (/proc included) resolves in it.
 *   .finish(c, ns, nsfd)  in crest after every task's state is back, before
 *                    the tree runs (optional).
 *   .restore_free(c) optional: the kind's restore state in c (end of restore).
 * At restore, ns_restore_task_ns(c, pid, NSK_MNT) says which namespace a
 * task is in, ns_restore_fd(c, id) gives crest's fd of a namespace (also
 * inherited by the tasks, valid until their final close_range).
 */
#ifndef CREST_NS_H
#define CREST_NS_H

#include <stdint.h>
#include <sys/types.h>
#include "core/task.h"
#include "ns.pb-c.h"

enum ns_kind { NSK_MNT, NSK_UTS, NSK_IPC, NSK_NET, NSK_CGROUP, NSK_TIME, NSK_MAX };

/* One namespace of the tree at dump. */
struct ns_dump_one {
	uint32_t id;
	enum ns_kind kind;
	uint64_t ino;
	pid_t pid;            /* a task of the tree in it */
	Namespace *img;       /* its entry in ns.img: a kind's .dump sets its field */
};

struct ns_kind_ops {
	/* Dump (see above); NULL: namespaces of this kind are refused. */
	int (*dump)(struct dump_ctx *c, struct ns_dump_one *ns);
	void (*dump_free)(Namespace *img);   /* what .dump allocated in img */
	int (*load)(struct restore_ctx *c, const Namespace *ns);
	/* in the holder, before its unshare (e.g. cgroup: join the root) */
	int (*pre_create)(struct restore_ctx *c, const Namespace *ns);
	int (*create)(struct restore_ctx *c, const Namespace *ns);
	int (*finish)(struct restore_ctx *c, const Namespace *ns, int nsfd);
	/* in crest right after .create, the holder still alive (optional): e.g.
	 * take fds it left open (pidfd_getfd); crest's at or above floor */
	int (*created)(struct restore_ctx *c, const Namespace *ns, pid_t holder, int floor);
	void (*restore_free)(struct restore_ctx *c);
};

extern const struct ns_kind_ops mnt_ns_ops __attribute__((weak));
extern const struct ns_kind_ops uts_ns_ops, time_ns_ops, net_ns_ops, ipc_ns_ops, cgroup_ns_ops;

/* cgroup.c: the directory (in crest's mounts) of a /proc/PID/cgroup line
 * ("4:memory:/a"), malloc'd; then join it (the caller moves itself) */
int cgroupns_dir_of(pid_t pid, const char *line, char **dir);
int cgroupns_join(pid_t pid, const char *line, const char *dir);

/* "mnt", "uts", ... (the /proc/PID/ns/ names) */
const char *ns_kind_name(enum ns_kind k);

/* Dump, after pstree_check: record and check every task's namespaces. */
int ns_dump_check(struct dump_ctx *c);
/* The namespace of kind k of a task of the tree, NULL for crest's own. */
const struct ns_dump_one *ns_dump_task_ns(struct dump_ctx *c, pid_t pid, enum ns_kind k);

/* For a kind's .dump: run fn in a child of crest that has entered the
 * namespace (setns); the bytes fn puts in *out (malloc'd) come back in
 * *out.  fn logs its errors; they come back as the result.  */
typedef int (*ns_in_fn)(struct dump_ctx *c, const struct ns_dump_one *ns, void *arg, uint8_t **out,
			size_t *len);
int ns_dump_in(struct dump_ctx *c, const struct ns_dump_one *ns, ns_in_fn fn, void *arg,
	       uint8_t **out, size_t *len);

/* Restore: read ns.img (after pstree, before the tasks are loaded). */
int ns_load(struct restore_ctx *c);
/* Restore: make every namespace of the tree (fds at or above floor). */
int ns_restore_create(struct restore_ctx *c, int floor);
/* In a restored task, first thing: enter its namespaces. */
int ns_restore_enter(struct restore_ctx *c, struct restore_task *t);
/* After every task's state is back, before the tree runs. */
int ns_restore_finish(struct restore_ctx *c);
const Namespace *ns_restore_task_ns(struct restore_ctx *c, pid_t pid, enum ns_kind k);
int ns_restore_fd(struct restore_ctx *c, uint32_t id);
/* Run fn(arg) in a child of crest that entered namespace id; 0 or its error. */
int ns_restore_in(struct restore_ctx *c, uint32_t id, int (*fn)(struct restore_ctx *c,
		  const Namespace *ns, void *arg), void *arg);

#endif
