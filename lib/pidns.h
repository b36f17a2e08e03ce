/* SPDX-License-Identifier: MIT */
/*
 * Pid namespaces around the tree (pidns.c): crest's own /proc, the limit
 * of nesting, and the namespace outside the tree that the root lives in
 * (recorded at dump, joined again at restore).
 */
#ifndef CREST_PIDNS_H
#define CREST_PIDNS_H

#include "pstree.pb-c.h"
#include "task.h"

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

struct rst;
/* Restore: fork the root at its pids (clone_task), in its outer namespace
 * again when it has one; as crest does (0 in the root, its pid in crest,
 * or -errno, logged). */
pid_t pidns_clone_root(struct rst *s, int wait_ms);

#endif
