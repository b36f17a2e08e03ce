/* SPDX-License-Identifier: MIT */
/* seccomp (seccomp.c): the part the core calls itself. */
#ifndef CREST_SECCOMP_H
#define CREST_SECCOMP_H

#include "core/task.h"

/* Dump, right after the freeze and before anything is injected: every
 * thread of t in seccomp mode gets PTRACE_O_SUSPEND_SECCOMP, so that its
 * filter does not act on crest's injected syscalls (the kernel drops the
 * option at detach).  0, or -errno (logged, naming pid and thread). */
int seccomp_dump_suspend(struct dump_task *t);

#endif
