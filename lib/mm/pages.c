/* SPDX-License-Identifier: MIT */
/* Dump side of a task's pages (pages.h); the restore side is pages_restore.c. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include "util/compat.h"
#include "image/image.h"
#include "image/pwriter.h"
#include "util/log.h"
#include "pages.h"
#include "track.h"
#include "util/util.h"

#define PM_PRESENT (1ULL << 63)
#define PM_SWAP (1ULL << 62)
#define PM_FILE (1ULL << 61)
#define PM_GUARD (1ULL << 58)
#define PM_SWP_TYPE(e) ((e) & 0x1f)

#define ZSTD_LEVEL 1          /* fast; per 256 KiB chunk */

static int add_range(struct pages_plan *p, uint64_t va, uint32_t nr, uint8_t src)
{
	if (p->n) {
		struct prange *l = &p->r[p->n - 1];
		if (l->src == src && l->vaddr + (uint64_t)l->nr * PAGE_SIZE_CREST == va && l->nr + nr < (1u << 30)) {
			l->nr += nr;
			goto count;
		}
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		struct prange *n = realloc(p->r, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		p->r = n;
		p->cap = cap;
	}
	p->r[p->n++] = (struct prange){ va, nr, src };
count:
	if (src == PAGE_SRC__PAGES_PARENT)
		p->parent += nr;
	else
		p->data += nr;
	return 0;
}

/* Did the parent image have the page at va?  (addresses only grow) */
static bool in_parent(struct pages_plan *p, const PageMap *pm, uint64_t va)
{
	while (p->parent_cur < pm->n_runs) {
		const PageRun *r = pm->runs[p->parent_cur];
		if (r->vaddr + (uint64_t)r->nr_pages * PAGE_SIZE_CREST > va)
			return r->vaddr <= va;
		p->parent_cur++;
	}
	return false;
}

/* pte markers (userfaultfd-wp of pages never populated, guard regions)
 * show as swapped entries: they are holes */
static bool page_wanted(uint64_t e, bool file)
{
	if ((e & PM_SWAP) && !(e & PM_PRESENT))
		return PM_SWP_TYPE(e) != CREST_SWP_PTE_MARKER;
	return (e & PM_PRESENT) && !(file && (e & PM_FILE));
}

int pages_plan_vma(struct dump_task *t, int pm_fd, Vma *v, struct track_task *tt, struct pages_plan *p)
{
	unsigned long npages = (v->end - v->start) / PAGE_SIZE_CREST;
	bool file = v->kind == VMA_KIND__VMA_FILE_PRIVATE;
	bool tracked = track_vma_tracked(tt, v);
	_cleanup_free_ uint64_t *pm = NULL, *wr = NULL;
	const unsigned long chunk = 1 << 16;
	size_t ng = 0, nwr = 0, wi = 0;
	int r;

	if (tracked) {
		r = track_scan(tt, pm_fd, v->start, v->end, &wr, &nwr);
		if (r < 0)
			return r;
	}
	pm = malloc(MIN(npages, chunk) * sizeof(uint64_t));
	if (!pm)
		return -ENOMEM;
	for (unsigned long base = 0; base < npages; base += chunk) {
		unsigned long n = MIN(chunk, npages - base), i = 0;
		r = pread_full(pm_fd, pm, n * sizeof(uint64_t),
			       (off_t)((v->start / PAGE_SIZE_CREST + base) * sizeof(uint64_t)));
		if (r < 0)
			return pr_errno(r, "pid %d: cannot read pagemap for %#lx", t->pid, (unsigned long)v->start);
		while (i < n) {
			uint64_t e = pm[i], va = v->start + (base + i) * PAGE_SIZE_CREST;
			if (e & PM_GUARD) {
				unsigned long j = i;
				while (j < n && (pm[j] & PM_GUARD))
					j++;
				uint64_t *ng_ = realloc(v->guards, (ng + 2) * sizeof(*ng_));
				if (!ng_)
					return -ENOMEM;
				v->guards = ng_;
				v->guards[ng++] = va;
				v->guards[ng++] = (j - i) * PAGE_SIZE_CREST;
				v->n_guards = ng;
				i = j;
				continue;
			}
			i++;
			if (!page_wanted(e, file))
				continue;
			uint8_t src = PAGE_SRC__PAGES_DATA;
			if (tracked) {
				while (wi < nwr && wr[2 * wi + 1] <= va)
					wi++;
				if (!(wi < nwr && wr[2 * wi] <= va)) {
					/* not written since the parent: there, or a
					 * page never written at all (zero page, or the
					 * file's page of a private file mapping) */
					if (!in_parent(p, tt->parent_pm, va))
						continue;
					src = PAGE_SRC__PAGES_PARENT;
				}
			}
			r = add_range(p, va, 1, src);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

void pages_plan_free(struct pages_plan *p)
{
	free(p->r);
	p->r = NULL;
	p->n = p->cap = 0;
}

struct runs {
	PageRun **r;
	size_t n, cap;
	uint64_t zero;
};

static int emit(struct runs *o, uint64_t va, uint32_t nr, PageSrc src)
{
	if (src == PAGE_SRC__PAGES_ZERO)
		o->zero += nr;
	if (o->n) {
		PageRun *l = o->r[o->n - 1];
		if (l->src == src && l->vaddr + (uint64_t)l->nr_pages * PAGE_SIZE_CREST == va &&
		    l->nr_pages + nr < (1u << 31)) {
			l->nr_pages += nr;
			return 0;
		}
	}
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 64;
		PageRun **n = realloc(o->r, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		o->r = n;
		o->cap = cap;
	}
	PageRun *pr = xzalloc(sizeof(*pr));
	if (!pr)
		return -ENOMEM;
	page_run__init(pr);
	pr->vaddr = va;
	pr->nr_pages = nr;
	if (src != PAGE_SRC__PAGES_DATA) {
		pr->has_src = true;
		pr->src = src;
	}
	o->r[o->n++] = pr;
	return 0;
}

static bool zero_page(const char *p)
{
	const uint64_t *w = (const uint64_t *)p;
	return w[0] == 0 && w[1] == 0 && !memcmp(p, p + 16, PAGE_SIZE_CREST - 16);
}

int pages_write(struct dump_ctx *c, struct dump_task *t, struct pages_plan *p, bool running)
{
	const size_t bsz = 4 << 20;
	PageMap pmap = PAGE_MAP__INIT;
	struct runs o = { 0 };
	struct pwriter *pw = NULL;
	_cleanup_free_ struct pw_chunk *chunks = NULL;
	_cleanup_free_ PageChunk *pc = NULL;
	_cleanup_free_ PageChunk **ppc = NULL;
	_cleanup_close_ int fd = -1;
	char name[IMG_NAME_MAX];
	size_t nch = 0, fill = 0;
	uint64_t data = 0, unread = 0;
	char *buf = NULL;
	int r;

	snprintf(name, sizeof(name), "pages-%d.img", t->pid);
	fd = openat(c->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return pr_errno(-errno, "image %s: cannot create", name);
	for (size_t i = 0; i < ARRAY_SIZE(c->page_bufs); i++)
		if (!c->page_bufs[i] && !(c->page_bufs[i] = malloc(bsz)))
			return pr_errno(-ENOMEM, "pid %d: no memory for the pages writer", t->pid);
	r = pwriter_start(&pw, fd, bsz, ARRAY_SIZE(c->page_bufs), c->page_bufs, c->o->compress ? ZSTD_LEVEL : 0);
	if (r < 0)
		return pr_errno(r, "image %s: cannot start its writer", name);
	for (size_t i = 0; i < p->n && r == 0; i++) {
		const struct prange *pr = &p->r[i];
		if (pr->src == PAGE_SRC__PAGES_PARENT) {
			r = emit(&o, pr->vaddr, pr->nr, PAGE_SRC__PAGES_PARENT);
			continue;
		}
		for (uint64_t done = 0; done < pr->nr && r == 0;) {
			if (!buf) {
				buf = pwriter_get(pw);
				fill = 0;
			}
			size_t n = MIN(pr->nr - done, (bsz - fill) / PAGE_SIZE_CREST);
			uint64_t a = pr->vaddr + done * PAGE_SIZE_CREST;
			char *at = buf + fill;
			/* bulk copy; /proc/PID/mem (FOLL_FORCE) for what it refuses,
			 * e.g. pages of a PROT_NONE area */
			r = vm_copy(t->pid, at, a, n * PAGE_SIZE_CREST, false);
			if (r < 0)
				r = pread_full(t->t.mem_fd, at, n * PAGE_SIZE_CREST, (off_t)a);
			if (r < 0 && running) {
				/* page by page: one it unmapped since is stored as
				 * zeros (a new mapping there is dumped whole next
				 * round); the others must be its real contents */
				r = 0;
				for (size_t j = 0; j < n; j++) {
					char *pg = at + j * PAGE_SIZE_CREST;
					uint64_t pa = a + j * PAGE_SIZE_CREST;
					if (vm_copy(t->pid, pg, pa, PAGE_SIZE_CREST, false) < 0 &&
					    pread_full(t->t.mem_fd, pg, PAGE_SIZE_CREST, (off_t)pa) < 0) {
						memset(pg, 0, PAGE_SIZE_CREST);
						unread++;
					}
				}
			}
			if (r < 0) {
				pr_errno(r, "pid %d: cannot read memory at %#llx (%zu pages)", t->pid,
					 (unsigned long long)a, n);
				break;
			}
			size_t k = fill;
			for (size_t j = 0; j < n && r == 0; j++) {
				char *pg = at + j * PAGE_SIZE_CREST;
				if (zero_page(pg)) {
					r = emit(&o, a + j * PAGE_SIZE_CREST, 1, PAGE_SRC__PAGES_ZERO);
					continue;
				}
				if (buf + k != pg)
					memcpy(buf + k, pg, PAGE_SIZE_CREST);
				k += PAGE_SIZE_CREST;
				data++;
				r = emit(&o, a + j * PAGE_SIZE_CREST, 1, PAGE_SRC__PAGES_DATA);
			}
			fill = k;
			done += n;
			if (r == 0 && fill == bsz) {
				r = pwriter_submit(pw, buf, fill);
				buf = NULL;
				if (r < 0)
					pr_errno(r, "pid %d: writing pages image", t->pid);
			}
		}
	}
	if (buf) {
		int sr = r == 0 ? pwriter_submit(pw, buf, fill) : (pwriter_put(pw, buf), 0);
		if (sr < 0 && r == 0)
			r = pr_errno(sr, "pid %d: writing pages image", t->pid);
	}
	int fr = pwriter_finish(pw, &chunks, &nch);
	if (fr < 0 && r == 0)
		r = pr_errno(fr, "pid %d: writing pages image", t->pid);
	if (r < 0)
		goto out;
	if (unread)
		pr_debug("pid %d: %llu pages unmapped while they were copied (stored as zeros)", t->pid,
			 (unsigned long long)unread);
	pc = calloc(nch + 1, sizeof(*pc));
	ppc = calloc(nch + 1, sizeof(*ppc));
	if (!pc || !ppc) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nch; i++) {
		page_chunk__init(&pc[i]);
		pc[i].offset = chunks[i].offset;
		pc[i].size = chunks[i].size;
		pc[i].nr_pages = chunks[i].nr_pages;
		pc[i].checksum = chunks[i].checksum;
		pc[i].has_zstd = chunks[i].zstd;
		pc[i].zstd = chunks[i].zstd;
		ppc[i] = &pc[i];
	}
	pmap.page_size = PAGE_SIZE_CREST;
	pmap.runs = o.r;
	pmap.n_runs = o.n;
	pmap.total_pages = data;
	pmap.chunks = ppc;
	pmap.n_chunks = nch;
	pmap.has_zero_pages = true;
	pmap.zero_pages = o.zero;
	pmap.has_parent_pages = p->parent > 0;
	pmap.parent_pages = p->parent;
	snprintf(name, sizeof(name), "pagemap-%d.img", t->pid);
	r = img_write(c->dirfd, name, &pmap.base);
	if (r == 0)
		pr_info("pid %d: %llu pages stored, %llu zero, %llu in the parent image", t->pid,
			(unsigned long long)data, (unsigned long long)o.zero, (unsigned long long)p->parent);
out:
	for (size_t i = 0; i < o.n; i++)
		free(o.r[i]);
	free(o.r);
	return r;
}
