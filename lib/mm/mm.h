/* SPDX-License-Identifier: MIT */
/* Address space: dump of VMAs and pages, and the restore-side swap. */
#ifndef CREST_MM_H
#define CREST_MM_H

#include "core/task.h"

struct mm_restore;

int mm_dump(struct dump_ctx *c, struct dump_task *t);
struct pages_plan;
/* crest pre-dump, task stopped: which pages to copy (pages.h, track.h) */
int mm_pre_dump_plan(struct dump_ctx *c, struct dump_task *t, struct pages_plan *plan);

/* crest side, before fork: read mm/pagemap images, check mapped files. */
int mm_load(struct restore_ctx *c, struct restore_task *t, struct mm_restore **out);
/* Child side: open mapped files and shmem objects at tmp fds, map the
 * syscall gadget page.  Returns the gadget address in *gadget. */
int mm_prepare(struct restore_ctx *c, struct restore_task *t, struct mm_restore *m,
	       unsigned long *gadget);
/* Tracer side: tear down the child's (crest's) address space, put the
 * vdso back where it was, map every VMA, fill the pages, set mm fields. */
int mm_swap(struct restore_ctx *c, struct restore_task *t, struct mm_restore *m);
void mm_free(struct mm_restore *m);



/* number of tmp fds mm_prepare uses, from t->tmp_fd_base */
int mm_tmp_fds(struct mm_restore *m);
void mm_set_gadget(struct mm_restore *m, unsigned long g);
#endif
