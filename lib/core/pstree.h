/* SPDX-License-Identifier: MIT */
/* The process tree: collecting and freezing it (dump), its image. */
#ifndef CREST_PSTREE_H
#define CREST_PSTREE_H

#include "pstree.pb-c.h"
#include "task.h"

/* Seize root and every descendant, rescanning until the tree is stable;
 * fills c->tasks (parents first).  On failure the tasks seized so far are
 * left in c->tasks for the caller to release. */
int pstree_freeze(struct dump_ctx *c, pid_t root);
/* Refuse what cannot be restored (threads, foreign tasks in a pid
 * namespace of the tree, ...). */
int pstree_check(struct dump_ctx *c);
int pstree_write(struct dump_ctx *c);
void dump_task_free(struct dump_task *t);

int pstree_read(int dirfd, Pstree **out);

#endif
