/* SPDX-License-Identifier: MIT */
/*
 * Anonymous-inode file descriptions (part of the files module): eventfd,
 * signalfd, timerfd (anonfd.c), epoll (epoll.c), inotify (inotify.c).
 * Their state travels in the FilesDesc (images/anonfd.proto); files_kinds.c
 * calls these hooks from files_classify() and from the per-kind checks and
 * opens of the restore.
 */
#ifndef CREST_ANONFD_H
#define CREST_ANONFD_H

#include <stdbool.h>
#include "files_priv.h"

/* ---- dump ---- */

/* files_kinds.c files_classify(): f->fd of s->pid is "anon_inode:..." (link); f->lfd is
 * our reference to it.  Sets f->pb.kind and the state, or refuses. */
int anonfd_classify(struct dump_ctx *c, struct dstate *s, struct dfile *f, const char *link);
/* files_dstate_free(): the state allocated by anonfd_classify(). */
void anonfd_desc_free(FilesDesc *d);

/* /proc/PID/fdinfo/FD of a task, NUL-terminated (anonfd.c). */
int anonfd_fdinfo(pid_t pid, int fd, char **out);
/* A new message of d with its defaults set (freed with free()), for the
 * state of a description; NULL (logged) on ENOMEM. */
void *anonfd_msg_new(const ProtobufCMessageDescriptor *d);

int epoll_dump(struct dstate *s, struct dfile *f);       /* epoll.c */
int inotify_dump(struct dstate *s, struct dfile *f);     /* inotify.c */

/* ---- restore ---- */

bool anonfd_kind(FilesKind k);
const char *anonfd_kind_name(FilesKind k);
/* files_kinds.c, .load: the state is there and sane (restored here). */
int anonfd_load_check(pid_t pid, int fd, const Files *img, const FilesDesc *d);
/* files_kinds.c, .prepare: create the object with its state, moved to >= base;
 * returns the fd.  epoll and inotify instances are created empty (see
 * anonfd_prepare2). */
int anonfd_open(struct restore_task *t, int fd, const FilesDesc *d, int base);
/* files .prepare2, after the shared descriptions are in place: add each
 * inotify instance's watches, then each epoll instance's registrations
 * (fds of the task, possibly taken from other tasks in .prepare2). */
int anonfd_prepare2(struct restore_ctx *c, struct restore_task *t);

int epoll_load_check(pid_t pid, const Files *img, const FilesDesc *d);
int epoll_open(pid_t pid, int fd, const FilesDesc *d);
int epoll_register(pid_t pid, int fd, const FilesDesc *d);
int inotify_load_check(pid_t pid, int fd, const FilesDesc *d);
int inotify_open(pid_t pid, int fd, const FilesDesc *d);
int inotify_register(pid_t pid, int fd, const FilesDesc *d);

#endif
