/* SPDX-License-Identifier: MIT */
/*
 * Ghost files: what a task reaches through an fd, a mapping or its cwd but
 * what has no name any more (deleted while open: nlink 0), or whose name now
 * leads to another file while the inode lives on under other hard links
 * (renamed over: restored through a link crest makes with --link-remap).
 * Kept once per inode tree-wide (ghost.img); recreated once by crest before
 * it forks, at the original path, opened and unlinked again, so that every
 * task inherits one inode whose /proc name is exactly "/path (deleted)".
 */
#ifndef CREST_GHOST_H
#define CREST_GHOST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include "core/task.h"

#define GHOST_LIMIT_DEFAULT (64ULL << 20)

/* Does a /proc link text name a deleted file ("/path (deleted)")? */
bool ghost_link_deleted(const char *link);

/* ...and does it no longer lead to the object st describes by that path? */
bool ghost_needed(const char *link, const struct stat *st);

/* Dump: register the object the task reaches through proc_path (a /proc
 * magic link: "/proc/PID/fd/N", "/proc/PID/map_files/A-B", "/proc/PID/cwd"),
 * which /proc shows as `link` (ending in " (deleted)").  `what` names the
 * user for messages ("fd 7", "mapping 0x1000-0x2000", "cwd").  The first
 * time an inode is seen its content (or remap link) is saved.  *id: its id
 * in ghost.img.  0 or -errno (logged). */
int ghost_dump_add(struct dump_ctx *c, struct dump_task *t, const char *what, const char *proc_path,
		   const char *link, uint32_t *id);
/* Dump: the same for a named FIFO the task opened by path (link, still
 * there): kept once per inode with its buffered bytes and size, opened at
 * its path again by crest at restore, held until the tasks have their own
 * descriptions of it (ghost_open). */
int ghost_dump_fifo(struct dump_ctx *c, struct dump_task *t, const char *what, const char *proc_path,
		    const char *link, uint32_t *id);
/* After every task: write ghost.img (fault step "dump-after-remap"). */
int ghost_dump_write(struct dump_ctx *c);
/* End of the dump: on failure (!ok) every remap link made is removed. */
void ghost_dump_free(struct dump_ctx *c, bool ok);

/* Restore: crest reads ghost.img before the tasks' images (ghost_load),
 * recreates every object before it forks, at fds >= floor inherited by
 * every task (ghost_create), and closes them at the end (ghost_free). */
int ghost_load(struct restore_ctx *c);
int ghost_create(struct restore_ctx *c, int floor);
void ghost_free(struct restore_ctx *c);
bool ghost_restore_has(struct restore_ctx *c, uint32_t id);
/* The kind of object id (GhostKind), or -1. */
int ghost_restore_kind(struct restore_ctx *c, uint32_t id);
/* In a restored child (or crest): a new open file description of object id
 * with these open(2) flags (through /proc/self/fd), O_CLOEXEC added.
 * fd or -errno (logged, naming pid and what). */
int ghost_open(struct restore_ctx *c, struct restore_task *t, uint32_t id, int flags, const char *what);
/* crest's (inherited) fd of object id, or -ENOENT. */
int ghost_fd(struct restore_ctx *c, uint32_t id);

#endif
