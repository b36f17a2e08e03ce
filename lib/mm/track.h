/* SPDX-License-Identifier: MIT */
/*
 * Memory-change tracking for pre-dump chains, without soft-dirty: each
 * process's private memory is registered with a userfaultfd in
 * write-protect async mode (UFFD_FEATURE_WP_ASYNC); the kernel resolves the
 * write faults itself and PAGEMAP_SCAN reports PAGE_IS_WRITTEN, reset
 * atomically per round with PM_SCAN_WP_MATCHING.  The userfaultfd is made
 * by a syscall injected into the process and taken out of it at once
 * (pidfd_getfd, then an injected close): the process never sees it among
 * its fds.  Between rounds a small process ("crest-track") holds it; see
 * images/track.proto and docs/design.md.
 */
#ifndef CREST_TRACK_H
#define CREST_TRACK_H

#include <stdbool.h>
#include <stdint.h>
#include "core/task.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"

struct track;

/* One process of the round. */
struct track_task {
	pid_t pid;
	uint64_t start_time;
	int uffd;                 /* crest's fd, or -1 */
	bool tracked;             /* its uffd tracked it since the parent image */
	PageMap *parent_pm;       /* the parent image's pagemap of pid (tracked) */
	bool reset;               /* this round reset its written bits */
};

/* Start a round: with o->prev_images_dir, open the parent (relative to the
 * image directory, like CRIU), check it and take the userfaultfds over from
 * its holder.  keep: pre-dump (the tracking goes on after this round).
 * Without a parent and !keep: no tracking at all (*out NULL). */
int track_begin(struct dump_ctx *c, bool keep, struct track **out);
/* Parent inventory fields for the new inventory (0/NULL without parent). */
uint64_t track_parent_id(const struct track *tr);
const char *track_parent_path(const struct track *tr);
uint64_t track_dump_id(const struct track *tr);

/* The task's state for this round (NULL: not tracked, a full dump).  Makes
 * a userfaultfd for it if keep and it has none (injected: the task must be
 * stopped with injection ready). */
int track_task(struct track *tr, struct dump_task *t, struct track_task **out);

/* A VMA as smaps showed it: one whose pages this round may take from the
 * parent (registered by our userfaultfd since the parent image). */
bool track_vma_tracked(const struct track_task *tt, const Vma *v);
/* Can this VMA be registered (private, may be written)? */
bool track_vma_wanted(const Vma *v);
/* Written pages of [start, end) since the last reset, and reset them:
 * sorted (start, end) address pairs in *ranges (free()), *n pairs. */
int track_scan(struct track_task *tt, int pm_fd, uint64_t start, uint64_t end, uint64_t **ranges,
	       size_t *n);
/* keep: register a VMA not tracked yet and write-protect it (its pages go
 * whole into this image; from now on only written ones count). */
int track_register(struct track *tr, struct track_task *tt, struct dump_task *t, const Vma *v);

/* End the round.  ok && keep: hand the userfaultfds to a new holder and
 * write track.img; otherwise the tracking is removed (the userfaultfds are
 * closed, the old holder ends) -- a failed pre-dump that reset nothing
 * leaves the parent's tracking as it was.  Frees tr. */
int track_end(struct dump_ctx *c, struct track *tr, bool ok);

/* Pre-dump: hand the userfaultfds to a new holder and write track.img
 * (then track_end only frees). */
int track_hand_over(struct dump_ctx *c, struct track *tr);

/* crest gc: end the tracking a pre-dump directory left running. */
int track_gc(int dirfd, const char *dir);

/* /proc/PID/stat field 22 (start time in clock ticks); 0 if unreadable */
uint64_t proc_start_time(pid_t pid);
#endif
