/* SPDX-License-Identifier: MIT */
/* Signals module (signals.c): what the core needs from it. */
#ifndef CREST_SIGNALS_H
#define CREST_SIGNALS_H

#include <stdint.h>
#include <sys/types.h>
#include "task.h"

/* Restore: the task's dumped blocked mask (bit n-1 = signal n), for the core
 * to set with PTRACE_SETSIGMASK right before it lets the task go.
 * 0, or -ENOENT if the module did not load this task's image. */
int sig_restore_blocked(struct restore_task *t, uint64_t *mask);

/* Thread group id of a task from /proc/<pid>/status; negative errno (logged). */
pid_t task_tgid(pid_t pid);

#endif
