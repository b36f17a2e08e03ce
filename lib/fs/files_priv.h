/* SPDX-License-Identifier: MIT */
/*
 * Internals of the files module shared by files.c (one task's fd table) and
 * files_share.c (what the tasks of a tree share: open file descriptions
 * inherited across fork, pipes with ends in several processes).
 */
#ifndef CREST_FILES_PRIV_H
#define CREST_FILES_PRIV_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "files.pb-c.h"
#include "core/task.h"

/* ---- dump ---- */

struct dfile {                  /* one open file description being dumped */
	FilesDesc pb;
	int lfd;                /* our reference to it (closed once classified) */
	int fd;                 /* first task fd that uses it */
	dev_t dev;
	ino_t ino;
	uint32_t pipe_size;     /* pipes: F_GETPIPE_SZ */
	/* Why the description cannot be restored from this task's fd table
	 * (epoll.c: a registration of an fd since closed), reported by
	 * files_share.c only if this task is the one that restores it. */
	char *defer_err;
	/* files_share.c, tree-wide: */
	int grp_task, grp_file; /* first description of its group (same file
				   description in several tasks), -1: itself */
	int own_task, own_file; /* the group's owner (restores it), -1: none */
};

struct dstate {
	struct dump_task *t;
	pid_t pid;
	int pidfd;
	size_t idx;             /* order in the tree (parents first) */
	struct dfile *files;
	size_t nr_files, cap_files;
	FilesFd *fds;
	size_t nr_fds;
	FilesPipe *pipes;
	size_t nr_pipes;
	int max_fd;             /* highest fd of the task */
	int nr_keep;            /* pipe ends kept above max_fd for others */
	/* anonymous-inode descriptions (one inode for all): their indices in
	 * files, in kcmp(KCMP_FILE) order, for a binary search (files.c) */
	int *anon_sorted;
	size_t nr_anon;
};

void files_dstate_free(struct dstate *s);

/* files_kinds.c: "file", "pipe"... for messages. */
const char *files_kind_name(FilesKind k);
/* files_kinds.c: fill in f->pb for the task fd f->fd (f->lfd, dev, ino
 * set): its kind and what that kind needs; refuses what is not supported. */
int files_classify(struct dump_ctx *c, struct dstate *s, struct dfile *f, const char *link,
		   const struct stat *st);

/* files_share.c: keep the task's state (taken over, even on failure) until
 * every task is dumped. */
int fshare_dump_add(struct dump_ctx *c, struct dstate *s);
/* .dump_fini: find what the tasks share, dump pipes, write every image. */
int fshare_dump_fini(struct dump_ctx *c, bool ok);
/* Fail (naming f) unless the restored s can take a description from owner. */
int fshare_need_visible(const struct dstate *owner, const struct dstate *s, const struct dfile *f);

/* ---- restore ---- */

struct rstate {
	Files *img;
	int *first_fd;          /* per description: the first fd using it */
	int max_fd;             /* highest fd, keep fds included */
	int keep_lo, keep_hi;   /* range of keep fds (-1: none) */
	bool need_tty;
	bool has_remote;        /* descriptions to take from other tasks */
};

/* A description restored by another task (taken in .prepare2)? */
static inline bool files_desc_remote(const FilesDesc *d)
{
	return d->has_owner_pid;
}

/* files_kinds.c, .load: the kind-specific fields of d are consistent. */
bool files_desc_consistent(struct restore_ctx *c, struct restore_task *t, const Files *img,
			   const FilesDesc *d);
/* files_kinds.c, .load: d (first used by fd) can be restored: what it
 * refers to is there (logged, -errno, if not); sets s->need_tty. */
int files_load_check_desc(struct restore_ctx *c, struct restore_task *t, struct rstate *s,
			  const FilesDesc *d, int fd);

/* A pipe being restored (.prepare). */
struct rpipe {
	int r, w;               /* our ends, >= base */
	bool r_used, w_used;    /* handed over to a description */
};

/* files_kinds.c, .prepare: create the pipe p (size, data) above base. */
int files_make_pipe(pid_t pid, int fd, const FilesPipe *p, struct rpipe *rp, int base);
/* files_kinds.c, .prepare: open d (first used by fd) at a number >= base:
 * the new fd, or -errno (logged).  rp: the task's pipes (files_make_pipe);
 * tty: crest's terminal above base, for the shell terminal. */
int files_open_desc(struct restore_ctx *c, struct restore_task *t, const FilesDesc *d, int fd,
		    struct rpipe *rp, int tty, int base);

/* .load: check the sharing fields of the image (owners are tasks of the
 * tree, keep fds above the fds). */
int fshare_load_check(struct restore_ctx *c, struct restore_task *t, struct rstate *s);
/* .prepare2: take the descriptions other tasks restored. */
int fshare_prepare2(struct restore_ctx *c, struct restore_task *t);
/* .inject: close the keep fds (every task has taken its copy). */
int fshare_inject(struct restore_ctx *c, struct restore_task *t);

#endif
