/* SPDX-License-Identifier: MIT */
/*
 * Shared memory objects (shared anonymous mappings, memfds): dumped once
 * per object however many mappings and fds of a task refer to it, and
 * recreated once in the restored child, at a tmp fd, before the modules
 * prepare (the files module reopens memfd fds from it, mm maps it).
 */
#ifndef CREST_SHMEM_H
#define CREST_SHMEM_H

#include <stdint.h>
#include "core/task.h"

/* Dump: register the object behind fd (any fd of it, read through, never
 * the task's own description), dumping its data the first time it is seen
 * anywhere in the tree.  name: memfd name or NULL. */
int shmem_dump_add(struct dump_ctx *c, struct dump_task *t, int fd, const char *name, uint64_t ino,
		   uint32_t *id);
int shmem_dump_write(struct dump_ctx *c);
void shmem_dump_free(struct dump_ctx *c);

/* Restore: crest reads shmem.img, creates every object before it forks (at
 * fds >= floor, inherited by every task), seals them once all is mapped. */
int shmem_load(struct restore_ctx *c);
int shmem_create(struct restore_ctx *c, int floor);
int shmem_seal(struct restore_ctx *c);
void shmem_free(struct restore_ctx *c);
/* The fd of object id (in crest and in every restored child), or -ENOENT */
int shmem_restore_fd(struct restore_task *t, uint32_t id);
bool shmem_restore_has(struct restore_task *t, uint32_t id);

#endif
