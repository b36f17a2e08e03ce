/* SPDX-License-Identifier: MIT */
/* Restore side of a task's pages: the chain of images resolved, then read
 * ahead in a background thread while the pages go into the task. */
#ifndef CREST_PAGES_RESTORE_H
#define CREST_PAGES_RESTORE_H

#include "core/ptrace.h"
#include "crest.h"
#include "image/pwriter.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"

#define PW_CHUNK_MAX 1024   /* pages in a chunk this reader accepts */

struct img_chain;
struct pages_src;

/* Read pagemap-PID.img of the image and of the parents it refers to;
 * every page is found, every chunk fits its file (checked, logged). */
int pages_src_load(struct img_chain *chain, pid_t pid, struct pages_src **out);
/* The image's own index (its runs: every page the task had). */
const PageMap *pages_src_map(const struct pages_src *s);
/* Write every page into the task (mapped writable), verifying checksums. */
int pages_src_fill(struct pages_src *s, struct tracee *t, const Mm *mm, const struct crest_opts *o);
void pages_src_free(struct pages_src *s);

#endif
