/* SPDX-License-Identifier: MIT */
/* Signals module (signals.c): what the core needs from it. */
#ifndef CREST_SIGNALS_H
#define CREST_SIGNALS_H

#include <stdint.h>
#include <sys/types.h>
#include "core/task.h"

/* Restore: the task's dumped blocked mask (bit n-1 = signal n), for the core
 * to set with PTRACE_SETSIGMASK right before it lets the task go.
 * 0, or -ENOENT if the module did not load this task's image. */
int sig_restore_blocked(struct restore_task *t, uint64_t *mask);

/* Thread group id of a task from /proc/<pid>/status; negative errno (logged). */
pid_t task_tgid(pid_t pid);

/* The thread group id and the tid of a task as the task itself sees them
 * (last of NStgid / NSpid in /proc/<pid>/status): what a syscall injected
 * into a task of a nested pid namespace must name.  0 or negative errno. */
int task_vids(pid_t pid, pid_t *vtgid, pid_t *vtid);

#endif
