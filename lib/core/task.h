/* SPDX-License-Identifier: MIT */
/*
 * Dump/restore contexts and the per-resource module interface.
 *
 * The core (dump.c, restore.c) walks the tree and calls each module in
 * table order (modules.c).  A module owns one kind of state and one image
 * kind ("<kind>-<pid>.img"), with dump and restore side by side in its .c.
 */
#ifndef CREST_TASK_H
#define CREST_TASK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "crest.h"
#include "ptrace.h"

enum {
	MOD_MNT,     /* mount namespaces of the tree: ns/mnt.c (first: paths resolve in them) */
	MOD_FILES,   /* fds: files.c */
	MOD_TTY,     /* pseudo-terminals, controlling terminal: tty.c */
	MOD_SIG,     /* signals: signals.c */
	MOD_TIMERS,  /* itimers, posix timers: timers.c */
	MOD_MISC,    /* prctl bits, rseq, robust list, umask, cwd/root, sched: misc.c */
	MOD_RLIMIT,  /* rlimits: rlimits.c */
	MOD_SECCOMP, /* seccomp mode and filters, installed last: seccomp.c */
	MOD_CREDS,   /* uids, gids, groups, caps, securebits: creds.c */
	MOD_NS,      /* namespaces other than pid: ns/ns.c (tree-wide hooks only) */
	MOD_MAX,
};

struct dump_task;

/* A thread other than the main one. */
struct dump_thread {
	pid_t tid;
	struct tracee t;
	bool seized;
};

struct dump_ctx {
	const struct crest_opts *o;
	int dirfd;                  /* image directory */
	struct dump_task **tasks;   /* every process of the tree, parents first */
	size_t nr_tasks;
	struct shmem_dump *shmem;   /* shmem.c: shared memory objects of the tree */
	struct ghost_dump *ghost;   /* ghost.c: deleted/replaced files of the tree */
	struct skunix_dump *skunix; /* sk_unix.c: unix sockets of the tree */
	struct skinet_dump *skinet; /* sk_inet.c: TCP/UDP sockets of the tree */
	void *mod[MOD_MAX];         /* a module's tree-wide state (freed by its dump_fini) */
	char *page_bufs[4];         /* mm.c: the pages writer's buffers, for every task */
	struct track *track;        /* mm/track.c: memory tracking of a pre-dump chain, or NULL */
};

struct dump_task {
	pid_t pid;
	struct tracee t;            /* stopped, injection ready (not for zombies) */
	int pidfd;
	struct dump_task *parent;   /* NULL for the root */
	int ppid, pgid, sid;
	bool zombie;
	int exit_code;              /* zombie: wait status */
	int stop_sig;               /* was group-stopped by this signal */
	int *nspid;                 /* pid at every pid-ns level, crest's first */
	size_t n_nspid;
	uint64_t pidns_ino, pidns_children_ino;
	/* pstree.c: the task whose fd table / cwd-root-umask / address space /
	 * signal handlers this process shares (clone(CLONE_FILES, CLONE_FS,
	 * CLONE_VM, CLONE_SIGHAND) between processes; 0: its own) */
	pid_t files_owner, fs_owner, vm_owner, sighand_owner;
	bool seized;
	struct dump_thread *threads;    /* the other threads (main: t above) */
	size_t nr_threads;
	void *priv[MOD_MAX];
};

struct restore_ctx {
	const struct crest_opts *o;
	int dirfd;
	int tty_fd;                 /* --shell-job: crest's terminal, or -1 */
	struct shmem_restore *shmem; /* shmem.c: objects of the tree, held by crest */
	struct ghost_restore *ghost; /* ghost.c: recreated deleted files, held by crest */
	struct skunix_restore *skunix; /* sk_unix_restore.c: unix sockets of the tree */
	struct img_chain *chain;    /* image/chain.c: the image and its parents (pre-dump chains) */
	struct skinet_restore *skinet; /* sk_inet_restore.c: a task's TCP/UDP sockets (child) */
	void *mod[MOD_MAX];         /* a module's tree-wide state (freed by its restore_fini) */
	/* every task of the tree, parents first (valid from load on) */
	struct restore_task **tasks;
	size_t nr_tasks;
};

struct restore_task {
	pid_t pid;
	/* File descriptors at or above this number are free for the child's
	 * temporary use during preparation (above every fd the task restores). */
	int tmp_fd_base;
	int next_tmp_fd;            /* allocator for tmp fds (child side) */
	struct tracee t;            /* valid in inject phases */
	int idx;                    /* index in c->tasks */
	const struct PstreeEntry *pstree; /* its entry: ppid, pgid, sid, nspid... */
	const int32_t *thread_tids; /* its other threads (core image), in order */
	size_t nr_thread_tids;
	struct shmem_restore *shmem; /* = the ctx's (shmem.c) */
	void *priv[MOD_MAX];
};

struct crest_module {
	const char *name;
	/* Dump: collect state of a stopped task and write the image(s). */
	int (*dump)(struct dump_ctx *c, struct dump_task *t);
	/* Restore, in crest before fork: read and check the image(s). */
	int (*load)(struct restore_ctx *c, struct restore_task *t);
	/* Restore, in the child (native code, root, before memory swap):
	 * e.g. open files at their fd numbers. Must not fork or exit. */
	int (*prepare)(struct restore_ctx *c, struct restore_task *t);
	/* Restore, in the child, once EVERY task of the tree has finished
	 * .prepare (a barrier): e.g. take a file description another task
	 * opened (pidfd_getfd on it; pids: c->tasks[i]->pid). */
	int (*prepare2)(struct restore_ctx *c, struct restore_task *t);
	/* Restore, in crest after the address space is back: inject syscalls
	 * into the stopped child (t->t; scratch memory is t->t.scratch). */
	int (*inject)(struct restore_ctx *c, struct restore_task *t);
	/* Same, after every module's inject (pending signals, creds last). */
	int (*inject_late)(struct restore_ctx *c, struct restore_task *t);
	/* Then, for each other thread (t->thread_tids[i], stopped as th, same
	 * gadget and scratch): per-thread state only the thread can set. */
	int (*inject_thread)(struct restore_ctx *c, struct restore_task *t, size_t i,
			     struct tracee *th);
	/* Highest fd number the task needs (files), to place tmp fds above. */
	int (*max_fd)(struct restore_task *t);
	void (*free)(struct restore_task *t);
	/* Tree-wide: after every task's .dump (success or not) / at the end of
	 * a restore.  Free c->mod[MOD_X] here. */
	int (*dump_fini)(struct dump_ctx *c, bool ok);
	void (*restore_fini)(struct restore_ctx *c);
};

extern const struct crest_module *const crest_modules[MOD_MAX];

/* Helpers for modules */
int restore_tmp_fd(struct restore_task *t);  /* next free tmp fd number (child) */

#endif
