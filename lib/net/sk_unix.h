/* SPDX-License-Identifier: MIT */
/*
 * Unix domain sockets, part of the files module (image sk-unix.img, schema
 * images/sk-unix.proto): sk_unix.c dumps them, sk_unix_restore.c makes
 * them again.  files_kinds.c hands every socket fd to skunix_classify();
 * what the sockets of the tree are to each other (peers, listeners and
 * their pending clients) is settled by skunix_dump_tree() once every task
 * is dumped.
 */
#ifndef CREST_SK_UNIX_H
#define CREST_SK_UNIX_H

#include <sys/stat.h>
#include "files.pb-c.h"
#include "fs/files_priv.h"
#include "core/task.h"

/* ---- dump (sk_unix.c) ---- */

/* A socket fd (f->lfd is crest's reference): unix sockets become
 * FILES_UNIXSK descriptions; any other family fails, naming it. */
int skunix_classify(struct dump_ctx *c, struct dstate *s, struct dfile *f, const char *link,
		    const struct stat *st);
/* Tree-wide, from files_share.c once every task is dumped (tasks frozen):
 * peers, clusters, which task creates what (keep fds, owners), and the
 * image. */
int skunix_dump_tree(struct dump_ctx *c, struct dstate **tasks, size_t n);
void skunix_dump_free(struct dump_ctx *c);

/* ---- restore (sk_unix_restore.c) ---- */

/* .load (crest): a FILES_UNIXSK description the task restores itself. */
int skunix_load_desc(struct restore_ctx *c, struct restore_task *t, const FilesDesc *d, int fd);
/* .prepare (child): make every socket of the clusters this task creates,
 * above base. */
int skunix_prepare(struct restore_ctx *c, struct restore_task *t, int base);
/* The socket of description d (made by skunix_prepare), with its flags;
 * the caller owns the returned fd. */
int skunix_open(struct restore_ctx *c, struct restore_task *t, int fd, const FilesDesc *d);
/* End of .prepare: close what was not handed out. */
void skunix_prepare_end(struct restore_ctx *c, struct restore_task *t);
void skunix_restore_fini(struct restore_ctx *c);

#endif
