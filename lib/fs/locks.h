/* SPDX-License-Identifier: MIT */
/* File locks (locks.c), part of the files module. */
#ifndef CREST_LOCKS_H
#define CREST_LOCKS_H

#include <stdbool.h>
#include "files.pb-c.h"
#include "core/task.h"

/* ---- dump ---- */

/* The "lock:" lines of fd's fdinfo (the whole text) into d->locks (d->kind
 * set).  0, or -errno (logged: an unknown kind, a lease being broken). */
int locks_dump(pid_t pid, int fd, const char *link, const char *fdinfo, FilesDesc *d);
/* files_dstate_free(): what locks_dump() allocated. */
void locks_desc_free(FilesDesc *d);

/* ---- restore ---- */

/* .load: the locks of d are sane. */
bool locks_consistent(const FilesDesc *d);
/* .prepare, in the child: the flock, OFD locks and lease of d on lfd, its
 * new description (task fd `fd`, for messages). */
int locks_take_desc(pid_t pid, int fd, const FilesDesc *d, int lfd);
/* .inject: the task's POSIX locks, by fcntl(F_SETLK) injected through its
 * fd first_fd[i] of each description i. */
int locks_inject_posix(struct restore_task *t, const Files *img, const int *first_fd);

#endif
