/* SPDX-License-Identifier: MIT */
/*
 * Dump side of the pages of a task: which pages it has (pagemap), which of
 * them this image stores and which stay in the parent image (a tracked
 * round, track.h), then the copy into pages-PID.img (zero pages recorded,
 * not stored; chunks raw or zstd, pwriter.h) and its index pagemap-PID.img.
 */
#ifndef CREST_PAGES_H
#define CREST_PAGES_H

#include "core/task.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"

struct track_task;

struct prange {
	uint64_t vaddr;
	uint32_t nr;
	uint8_t src;               /* PAGE_SRC__PAGES_DATA or _PARENT */
};

struct pages_plan {
	struct prange *r;
	size_t n, cap;
	size_t parent_cur;         /* cursor in the parent's runs */
	uint64_t data, parent;     /* pages planned */
};

/* Plan the pages of one private VMA (task stopped); also records its
 * MADV_GUARD_INSTALL ranges in v.  tt: the round's tracking, or NULL. */
int pages_plan_vma(struct dump_task *t, int pm_fd, Vma *v, struct track_task *tt, struct pages_plan *p);
/* Copy the planned pages and write pages-PID.img + pagemap-PID.img.
 * running: the task runs again (pre-dump): a page it unmapped meanwhile is
 * stored as zeros (the next round dumps whatever is there then). */
int pages_write(struct dump_ctx *c, struct dump_task *t, struct pages_plan *p, bool running);
void pages_plan_free(struct pages_plan *p);

#endif
