/* SPDX-License-Identifier: MIT */
/*
 * Kernel objects that processes (not only threads) can share: the fd table
 * (CLONE_FILES), the fs info (CLONE_FS: cwd, root, umask), the address space
 * (CLONE_VM) and the signal handlers (CLONE_SIGHAND, which needs CLONE_VM).
 * The tasks sharing one form a group; its first task in tree order is its
 * owner, which restores it once.  Sharing can only be made at creation
 * time, so the restore creates a sharing task from its parent with the
 * CLONE_ flag or, when only a sibling shares it, from that sibling with
 * CLONE_PARENT.  A task sharing an address space (a "VM member") never runs
 * crest's code: it is created once its creator's memory is back, by a
 * clone3 injected into the creator (restore_vm.c), so it must share the fd
 * table and fs info too, and create only other VM members.
 * share_plan() finds that creation order; the dump runs it too, so a tree
 * whose sharing cannot be recreated is refused before anything is written.
 */
#ifndef CREST_SHARE_H
#define CREST_SHARE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum { SHARE_FILES, SHARE_FS, SHARE_VM, SHARE_SIGHAND, SHARE_KINDS };

struct share_node {
	pid_t pid, ppid, sid;
	uint64_t pidns, pidns_children;   /* namespace ids (any value unique per namespace) */
	pid_t pgid;
	bool ns_init;                     /* the init of a pid namespace below its parent's */
	bool zombie;
	pid_t owner[SHARE_KINDS];         /* the group's owner; itself when it shares nothing */
};

struct share_plan {
	int creator;                      /* index of the task that creates it (-1: crest) */
	uint64_t flags;                   /* CLONE_FILES, CLONE_FS, CLONE_VM, CLONE_SIGHAND,
					     CLONE_PARENT */
};

/* What a kind is, for messages ("fd table (CLONE_FILES)"). */
const char *share_what(int kind);
/* The CLONE_ flag of a kind. */
uint64_t share_flag(int kind);

/* Nodes in tree order (parents first, the root at 0).  Checks the owners
 * (an earlier live task that owns its group) and plans every task's
 * creation; logs and returns -ENOTSUP (-EBADMSG if corrupt_what is set and
 * an owner is inconsistent: names that image) when impossible. */
int share_plan(const struct share_node *n, size_t nr, struct share_plan *plan,
	       const char *corrupt_what);

#endif
