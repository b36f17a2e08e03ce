/* SPDX-License-Identifier: MIT */
/*
 * Mount namespaces of the tree (mnt.c: dump; mnt_tmpfs.c: tmpfs content;
 * mnt_restore.c: restore).  Every mount namespace a task of the tree is in,
 * other than crest's own, is recorded in mnt.img with its mount tree
 * (statmount/listmount), tmpfs content in mnt-tmpfs-<ns>-<id>.img (pax,
 * libarchive).  Paths of the tree's files are resolved at dump in the
 * task's own namespace through an O_PATH fd of that namespace's root.
 */
#ifndef CREST_MNT_H
#define CREST_MNT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include "core/task.h"

/* ------------------------------------------------------------------ dump */

/* The directory fd to resolve the paths /proc shows for pid's files in
 * (its mount namespace's root; AT_FDCWD in crest's namespace).  The first
 * call for a namespace records its mount tree.  fd or -errno (logged). */
int mnt_dump_rootfd(struct dump_ctx *c, pid_t pid);

/* Record pid's mount namespace (its tree, on first use).  0 or -errno (logged). */
int mnt_dump_task_ns(struct dump_ctx *c, pid_t pid);

/* stat path (absolute, as /proc shows it for pid) as pid sees it.
 * 0 or -errno (not logged). */
int mnt_dump_stat(struct dump_ctx *c, pid_t pid, const char *path, struct stat *st, bool nofollow);

/* Refuse (log, -ENOTSUP) a file of pid (fd: crest's copy) whose path does
 * not lead to it in pid's mount namespace, naming the mount it is on. */
int mnt_dump_unreachable(struct dump_ctx *c, pid_t pid, const char *what, const char *path, int fd);

/* A file of pid (fd: crest's copy) on a mount of pid's namespace that its
 * path /proc shows no longer reaches (covered since): 1 with its mount's
 * mountinfo id and the path inside it (malloc'd), 0 if not so (nothing
 * logged), or -errno (logged). */
int mnt_dump_covered(struct dump_ctx *c, pid_t pid, int fd, const char *path, uint32_t *mnt_id, char **rel);

/* crest show: the trees of mnt.img (an MntNss), readably. */
#include <stdio.h>
#include <protobuf-c/protobuf-c.h>
void mnt_show_tree(FILE *out, const ProtobufCMessage *msg);

/* Does pid live in a mount namespace other than crest's? */
bool mnt_dump_foreign(struct dump_ctx *c, pid_t pid);

/* mnt_tmpfs.c: archive the files of the mount open at mfd (a detached
 * clone: no submounts) into dirfd/name; *size and *sum (XXH3-64) of it. */
int mnt_tmpfs_save(int mfd, int dirfd, const char *name, const char *what, uint64_t *size, uint64_t *sum);

/* --------------------------------------------------------------- restore */

/* mnt_tmpfs.c: extract dirfd/name (checked: size, sum) into the directory
 * dfd (the new tmpfs' root). */
int mnt_tmpfs_load(int dfd, int dirfd, const char *name, const char *what, uint64_t size, uint64_t sum);

/* mnt_restore.c: the module's restore side */
int mnt_restore_load(struct restore_ctx *c, struct restore_task *t);
void mnt_restore_fini(struct restore_ctx *c);

/* Is pid restored into a mount namespace of the tree (not crest's)?  Its
 * files' identity (dev, ino) is then not checked by path from crest. */
bool mnt_restore_foreign(struct restore_ctx *c, pid_t pid);

struct MntNs;
/* The image of the namespace pid was in / of the one with inode ino (NULL:
 * crest's own / none). */
const struct MntNs *mnt_restore_ns_of(struct restore_ctx *c, pid_t pid);
const struct MntNs *mnt_restore_ns_by_ino(struct restore_ctx *c, uint64_t ino);

/* At load: fd of pid is reopened at rel inside mount mnt_id of its
 * namespace (covered there): crest takes an fd of that mount from the
 * namespace's builder.  0 or -errno (logged). */
int mnt_restore_need(struct restore_ctx *c, pid_t pid, int fd, uint32_t mnt_id, const char *rel);
/* In the restored task: open rel inside that mount.  fd or -errno (logged). */
int mnt_restore_openat(struct restore_ctx *c, pid_t pid, uint32_t mnt_id, const char *rel, int flags);
/* In crest, the builder of ns (image ns_ino) alive: take its mount fds. */
int mnt_restore_take(struct restore_ctx *c, uint64_t ns_ino, pid_t holder, int floor);

/* mnt_ns.c: the namespace plumbing (ns.c) builds mount namespaces */
bool mnt_ns_glued(void);

/* In a process that just unshare()d CLONE_NEWNS: build the namespace's mount
 * tree (all but proc mounts) and pivot_root into it. 0 or -errno (logged). */
int mnt_build(struct restore_ctx *c, const struct MntNs *ns);
/* In a process inside the built namespace, once the tasks exist: the proc
 * mounts (pidns_fds[i]: the pid namespace of entry i, or -1). */
int mnt_finish_in(struct restore_ctx *c, const struct MntNs *ns, const int *pidns_fds);

#endif
