/* SPDX-License-Identifier: MIT */
/*
 * Pid namespaces around the tree (pidns.c): crest's own /proc, the limit
 * of nesting, and the namespace outside the tree that the root lives in
 * (recorded at dump, joined again at restore).
 */
#ifndef CREST_PIDNS_H
#define CREST_PIDNS_H

#include "pstree.pb-c.h"
#include "core/task.h"

/* /proc must show crest's own pid namespace (pids in /proc are the pids
 * crest's syscalls take).  Logs and returns -EINVAL otherwise. */
int pidns_check_proc(void);

/* After pstree_check: refuse what clone3 cannot recreate (too deep). */
int pidns_dump_check(struct dump_ctx *c);

/* The pid namespace the root was made in when it is neither crest's own
 * nor one of the tree (the root is a nested namespace's init, or lives in
 * a namespace whose init is outside the dump): its inode and its parents'
 * up to crest's own (not included), in inos[0..*n) (pstree.img). */
int pidns_dump_outer(struct dump_ctx *c, uint64_t *inos, size_t max, size_t *n);

/* The engine's fork of the root at its pids (restore_tree.c): returns like
 * fork() in the parent (its pid or -errno, logged); in the child it never
 * returns (the child becomes the root), and closes close_fd first when it
 * is >= 0. */
typedef pid_t (*pidns_fork_root_fn)(void *arg, uint64_t clone_flags, int wait_ms, int close_fd);

/* Restore: fork the root through fork_fn, in its outer namespace again
 * when it has one (tree->outer_pidns; crest's fds stay at or above floor);
 * its pid in crest, or -errno, logged. */
pid_t pidns_clone_root(const Pstree *tree, int floor, int wait_ms, pidns_fork_root_fn fork_fn,
		       void *arg);

#endif
