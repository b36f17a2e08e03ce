/* SPDX-License-Identifier: MIT */
/* Restore internals shared by restore.c (crest's side), restore_tree.c (the
 * tasks: forking the tree at its pids, sessions, groups) and
 * restore_threads.c (threads). */
#ifndef CREST_RESTORE_PRIV_H
#define CREST_RESTORE_PRIV_H

#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "core.pb-c.h"
#include "inventory.pb-c.h"
#include "mm/mm.h"
#include "pstree.h"
#include "task.h"

#define BARRIER_TIMEOUT_MS 30000

enum { ST_NONE, ST_CREATED, ST_PREPARED1, ST_PREPARED, ST_FAILED };

struct ctl_slot {
	_Atomic int state;
	int err;
	unsigned long gadget;
	_Atomic int fd_lock;   /* owner of a shared fd table: held by the member using it */
};

/* Shared (MAP_SHARED) by crest and every restored task until its swap. */
struct ctl {
	_Atomic int go;        /* barrier generation crest lets the tasks pass */
	_Atomic int reports;   /* bumped by a task at every state change */
	struct ctl_slot slot[];
};

struct rthread {
	TaskCore *core;
	struct tracee t;
	bool seized;
};

struct rtask {
	struct restore_task t;
	PstreeEntry *e;
	TaskCore *core;        /* NULL for zombies */
	struct rthread *thr;   /* the other threads */
	size_t nr_thr;
	int via_sh;            /* forked by session helper via_sh - 1 (0: by its parent) */
	int creator;           /* share.c: the task that forks it (its parent, or a sibling
				  with CLONE_PARENT), -1: crest */
	uint64_t clone_flags;  /* share.c: CLONE_FILES, CLONE_FS, CLONE_VM, CLONE_SIGHAND,
				  CLONE_PARENT */
	int fd_group;          /* owner of the fd table it shares with others, -1: none */
	struct mm_restore *mm;
	bool loaded[MOD_MAX];
	bool seized;
};

/* A process group whose leader exited: a helper task recreates it at the
 * leader's pid, the members join, then the helper exits and is reaped. */
struct pg_helper {
	pid_t pgid;
	int host;              /* the member that forks and reaps the helper */
};

/* A session whose leader exited, with members that were reparented to a
 * subreaper (host): a helper at the leader's pid calls setsid() and forks
 * the members, then exits; they are reparented to the host again. */
struct sess_helper {
	pid_t sid;
	int host;              /* forks the helper: the leader if alive, else the reaper */
	int reaper;            /* the members' parent, a subreaper */
	bool at_sid;           /* the leader exited: the helper takes its pid */
	pid_t helper;          /* in the host's memory: the helper's pid */
};

struct rst {
	struct restore_ctx c;
	struct pg_helper *pgh;
	size_t nr_pgh;
	struct sess_helper *sh;
	size_t nr_sh;
	Inventory *inv;
	Pstree *tree;
	struct rtask *tasks;
	size_t n;
	struct ctl *ctl;
	size_t ctl_size;
	pid_t root;            /* crest's child */
	int floor;             /* crest's own fds live at or above this */
};

static inline void futex_wake(_Atomic int *a)
{
	syscall(SYS_futex, a, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static inline void futex_wait(_Atomic int *a, int val, long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	syscall(SYS_futex, a, FUTEX_WAIT, val, ms >= 0 ? &ts : NULL, NULL, 0);
}

int find_task(struct rst *s, pid_t pid);
/* Sessions and groups whose leader exited: plan the helpers (in crest). */
int plan_group_helpers(struct rst *s);
/* Fd tables and fs info shared between processes: who creates whom
 * (share.c), and the fd ranges of each member (in crest). */
int plan_sharing(struct rst *s);
int share_fd_ranges(struct rst *s);
/* In a task: hold its shared fd table while it touches it (no-op if none). */
void share_fd_lock(struct rst *s, struct rtask *rt);
void share_fd_unlock(struct rst *s, struct rtask *rt);
/* Processes sharing an address space (restore_vm.c): created by a clone3
 * injected into their creator once its memory is back. */
void vm_preset_slots(struct rst *s);
int create_vm_members(struct rst *s, struct rtask *rt);
/* Is rt the last task of its address space to finish (unmaps the gadget)? */
bool vm_unmaps_gadget(struct rst *s, struct rtask *rt);
/* clone3 at the task's pid on every pid-namespace level (waits for a busy pid) */
pid_t clone_task(struct rst *s, const PstreeEntry *e, uint64_t flags, int wait_ms);
/* A restored task's life until crest swaps its memory. */
__attribute__((noreturn)) void task_main(struct rst *s, int idx);
/* The root, forked at its pids for pidns_clone_root (pidns.h). */
pid_t fork_root(void *arg, uint64_t flags, int wait_ms, int close_fd);
int create_threads(struct rst *s, struct rtask *rt);
int finish_threads(struct rtask *rt);

#endif
