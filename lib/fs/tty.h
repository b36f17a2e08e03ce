/* SPDX-License-Identifier: MIT */
/*
 * Pseudo-terminals (tty.c, module MOD_TTY; images/tty.proto).  A pty pair
 * whose master is held in the tree is kept once in tty.img with the state
 * of its line; files_kinds.c hands every pty fd to tty_classify() and
 * reopens them with tty_open().  At restore crest recreates each pty before
 * the fork, at its index, and holds it above every task's fds; the tasks
 * inherit it.  Session leaders take their controlling terminal back right
 * after setsid(), before they fork (restore_tree.c calls tty_set_ctty()).
 */
#ifndef CREST_TTY_H
#define CREST_TTY_H

#include <stdbool.h>
#include <sys/stat.h>
#include "files_priv.h"

/* ---- dump ---- */

/* A pty master (/dev/ptmx, /dev/pts/ptmx) or slave (/dev/pts/N)? */
bool tty_is_pty(const struct stat *st);
/* files_kinds.c files_classify(): f->fd of s->pid is a pty end (f->lfd is
 * our copy): sets f->pb.kind, tty_id, tty_slave.  Returns 1, with nothing
 * set, for a slave whose master is not held in the tree (a terminal from
 * outside: the caller decides, --shell-job), after logging at debug level
 * who holds that master. */
int tty_classify(struct dump_ctx *c, struct dstate *s, struct dfile *f, const char *link,
		 const struct stat *st);
/* Is pid's controlling terminal a pty whose master is held in the tree
 * (1), or not (0)?  For /dev/tty: reopened by path once it is back. */
int tty_ctty_in_tree(struct dump_ctx *c, pid_t pid);
/* The message for a slave of a terminal from outside the tree without
 * --shell-job (names the master's holder when one is found). */
int tty_refuse_outside(struct dstate *s, struct dfile *f, const char *link, const struct stat *st);

/* ---- restore ---- */

/* restore.c, before the tasks' images: read and check tty.img. */
int tty_load(struct restore_ctx *c);
/* restore.c, before the fork: every pty at its index, with its state,
 * its slave descriptions; held at fds >= floor, inherited by the tasks. */
int tty_create(struct restore_ctx *c, int floor);
/* files_kinds.c, .load: the tty fields of d refer to tty.img. */
bool tty_desc_consistent(struct restore_ctx *c, const FilesDesc *d);
/* files_kinds.c, .prepare: a copy of the pty end d at a number >= base. */
int tty_open(struct restore_ctx *c, struct restore_task *t, int fd, const FilesDesc *d, int base);
/* restore_tree.c, in a session leader right after setsid(): its
 * controlling terminal again (TIOCSCTTY), so that the tasks it forks
 * inherit it.  0 when it had none. */
int tty_set_ctty(struct restore_ctx *c, pid_t pid);

#endif
