/* SPDX-License-Identifier: MIT */
/* Miscellaneous task state (misc.c): entry points for the core. */
#ifndef CREST_MISC_H
#define CREST_MISC_H

#include "core/task.h"

/*
 * Restore what a credential change resets: the dumpable flag and the
 * parent-death signal (the kernel clears both when creds.c switches the
 * uid/gid or drops capabilities).  The core must call it for every task
 * AFTER all inject_late hooks (creds is one of them), before resuming.
 * Returns 0 or a negative errno (logged).
 */
int misc_restore_dumpable(struct restore_ctx *c, struct restore_task *t);
/* .prepare's work for a task created by an injected clone3 (restore_vm.c). */
int misc_prepare_injected(struct restore_ctx *c, struct restore_task *t);

#endif
