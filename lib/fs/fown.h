/* SPDX-License-Identifier: MIT */
/* O_ASYNC, F_SETOWN_EX and F_SETSIG of descriptions (fown.c), part of the
 * files module. */
#ifndef CREST_FOWN_H
#define CREST_FOWN_H

#include <stdbool.h>
#include "files.pb-c.h"
#include "core/task.h"

/* Dump: the owner and signal of task fd `fd` (lfd: crest's copy of it) into
 * d->fown; refuses an owner outside the tree. */
int fown_dump(struct dump_ctx *c, pid_t pid, int fd, const char *link, int lfd, FilesDesc *d);
void fown_desc_free(FilesDesc *d);

/* .load: d->fown is sane. */
bool fown_consistent(const FilesDesc *d);
/* .inject: F_SETSIG, F_SETOWN_EX, O_ASYNC of the descriptions t restored,
 * injected through its fd first_fd[i] (or keep fd) of each. */
int fown_inject(struct restore_ctx *c, struct restore_task *t, const Files *img, const int *first_fd);

#endif
