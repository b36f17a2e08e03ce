/* SPDX-License-Identifier: MIT */
/*
 * AF_INET / AF_INET6 sockets (TCP, UDP), part of the files module: the
 * state of each socket is kept with its description (FilesDesc.inetsk,
 * images/sk-inet.proto).  files_kinds.c hands every inet socket fd to
 * skinet_classify() (sk_inet.c); what the sockets of the tree are to each
 * other (the two ends of a connection, a listener and the clients of its
 * connections not accepted yet) is settled by skinet_dump_tree()
 * (sk_inet_tree.c) once every task is dumped; sk_inet_restore.c makes them
 * again.
 */
#ifndef CREST_SK_INET_H
#define CREST_SK_INET_H

#include <stdbool.h>
#include <sys/stat.h>
#include "files.pb-c.h"
#include "fs/files_priv.h"
#include "core/task.h"

/* ---- dump (sk_inet.c, sk_inet_tree.c) ---- */

/* Is lfd an AF_INET/AF_INET6 socket? */
bool skinet_is_inet(int lfd);
/* An inet socket fd (f->lfd is crest's reference): fills f->pb (kind
 * FILES_INETSK) or fails naming what is not supported. */
int skinet_classify(struct dump_ctx *c, struct dstate *s, struct dfile *f, const char *link,
		    const struct stat *st);
/* Tree-wide, from files_share.c once every task is dumped (tasks frozen):
 * peers, listeners' connections not accepted yet (who restores them). */
int skinet_dump_tree(struct dump_ctx *c, struct dstate **tasks, size_t n);
/* The very end of a dump (dump.c): killed says whether the tree was killed
 * (the connections read in TCP_REPAIR mode then close without a packet);
 * otherwise everything is put back as it was. */
void skinet_dump_done(struct dump_ctx *c, bool killed);

/* ---- restore (sk_inet_restore.c) ---- */

/* .load (crest): a FILES_INETSK description the task restores itself. */
int skinet_load_desc(struct restore_ctx *c, struct restore_task *t, const FilesDesc *d, int fd);
/* .prepare (child), before the descriptions are opened: listeners with
 * connections not accepted yet, and their clients. */
int skinet_prepare(struct restore_ctx *c, struct restore_task *t, int base);
/* .prepare: the socket of d, which will be placed at fd, above base; the
 * caller owns the returned fd. */
int skinet_open(struct restore_ctx *c, struct restore_task *t, int fd, const FilesDesc *d, int base);
/* End of .prepare: close what was not handed out. */
void skinet_prepare_end(struct restore_ctx *c, struct restore_task *t);
/* .prepare2 (every task prepared: both ends of every connection exist):
 * connections leave repair mode and send their queued data. */
int skinet_prepare2(struct restore_ctx *c, struct restore_task *t);
/* End of a restore (crest; done or failed): the network lock of the image
 * goes (netlock.c). */
void skinet_restore_fini(struct restore_ctx *c);

#endif
