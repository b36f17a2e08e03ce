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
#include "task.h"

/* Dump: register the object behind fd (any fd of it, read through),
 * dumping its data the first time.  name: memfd name or NULL. */
int shmem_dump_add(struct dump_ctx *c, struct dump_task *t, int fd, const char *name, uint64_t ino,
		   uint32_t *id);
int shmem_dump_write(struct dump_ctx *c, struct dump_task *t);
void shmem_dump_free(struct dump_task *t);

int shmem_load(struct restore_ctx *c, struct restore_task *t);
int shmem_nr_tmp(struct restore_task *t);           /* tmp fds it takes from tmp_fd_base */
int shmem_prepare(struct restore_ctx *c, struct restore_task *t);   /* child */
/* Child side: the fd of object id (valid after shmem_prepare), or -ENOENT */
int shmem_restore_fd(struct restore_task *t, uint32_t id);
bool shmem_restore_has(struct restore_task *t, uint32_t id);
/* Tracer side, after the mappings exist: apply the memfd seals. */
int shmem_inject_seals(struct restore_task *t);
void shmem_free(struct restore_task *t);

#endif
