/* SPDX-License-Identifier: MIT */
/* Credentials module (creds.c): helpers for the core. */
#ifndef CREST_CREDS_H
#define CREST_CREDS_H

#include <sys/types.h>

/* Fail (logged, -EOPNOTSUPP) if pid runs under seccomp (strict or filter).
 * The core should call it before injecting anything into a dumped task:
 * a seccomp filter could kill the task on an injected syscall. */
int creds_check_seccomp(pid_t pid);

#endif
