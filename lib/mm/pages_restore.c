/* SPDX-License-Identifier: MIT */
/*
 * Restore side of a task's pages (pages_restore.h).  The runs of the image
 * are resolved down the chain of parents into segments (address, pages,
 * which image and which of its data pages, or zero); a reader thread reads
 * the chunks in that order (one pread for a stretch of raw chunks, zstd
 * ones decompressed), verifies each chunk's XXH3, and hands 4 MiB buffers
 * to the caller's thread, which writes them into the task with
 * process_vm_writev while the next ones are read.  Every page is written
 * once; zero pages are not written (fresh anonymous memory is zero) except
 * in private file mappings, where a hole would show the file.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <xxhash.h>
#include <zstd.h>
#include "image/chain.h"
#include "image/image.h"
#include "util/log.h"
#include "pages_restore.h"
#include "util/util.h"

#define RBUF_SIZE (4u << 20)
#define NR_RBUF 4
#define MAX_ITEMS 1024      /* per buffer: one iovec each */

struct level {
	bool loaded;
	int fd;                 /* pages-PID.img of this image */
	const char *map;        /* ... mapped (read-only), or NULL */
	size_t map_len;
	PageMap *pm;
	uint64_t *run_idx;      /* per run: its first data page (DATA runs) */
	uint64_t *chunk_first;  /* per chunk: its first data page */
	char *cache;            /* the last chunk decoded whole, for partial reads */
	long cache_k;
};

struct seg {
	uint64_t vaddr;
	uint32_t nr;
	int level;              /* -1: zero pages */
	uint64_t idx;           /* first data page in that level */
};

struct item {
	uint64_t vaddr;
	const char *src;        /* in the buffer, or in the mapped pages file */
	size_t len;
};

struct rbuf {
	char *data;
	struct item items[MAX_ITEMS];
	int n;
	size_t fill;            /* bytes of the buffer used */
	size_t bytes;           /* bytes of all its items */
};

struct pages_src {
	pid_t pid;
	struct img_chain *chain;
	struct level lv[CHAIN_MAX];
	struct seg *segs;
	size_t nseg, cap;
	uint64_t data_pages;    /* pages to read */
	/* reader thread */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct rbuf bufs[NR_RBUF];
	int free_stack[NR_RBUF], nfree;
	int queue[NR_RBUF], qhead, qcount;
	bool reader_done, stop;
	int err;
	ZSTD_DCtx *dctx;
	char *zbuf;             /* a compressed chunk */
};

static const char *lname(const struct pages_src *s, int l)
{
	return s->chain->names[l];
}

static int bad(const struct pages_src *s, int l, const char *what)
{
	pr_err("image %s/pagemap-%d.img is corrupt: %s", lname(s, l), s->pid, what);
	return -EBADMSG;
}

static int load_level(struct pages_src *s, int l)
{
	struct level *lv = &s->lv[l];
	char name[IMG_NAME_MAX];
	struct stat st;
	uint64_t idx = 0;
	int r;

	if (lv->loaded)
		return 0;
	lv->fd = -1;
	lv->cache_k = -1;
	snprintf(name, sizeof(name), "pagemap-%d.img", s->pid);
	r = img_read(s->chain->fds[l], name, &page_map__descriptor, (ProtobufCMessage **)&lv->pm, l > 0);
	if (r == -ENOENT) {
		pr_err("image %s: pid %d has pages in its parent %s, which has no pagemap-%d.img: the chain is broken",
		       lname(s, l - 1), s->pid, lname(s, l), s->pid);
		return -ENOENT;
	}
	if (r < 0)
		return r;
	lv->loaded = true;
	const PageMap *pm = lv->pm;
	if (pm->page_size != PAGE_SIZE_CREST)
		return bad(s, l, "another page size");
	snprintf(name, sizeof(name), "pages-%d.img", s->pid);
	lv->fd = openat(s->chain->fds[l], name, O_RDONLY | O_CLOEXEC);
	if (lv->fd < 0)
		return pr_errno(-errno, "image %s/%s: cannot open", lname(s, l), name);
	if (fstat(lv->fd, &st) < 0)
		return -errno;
	lv->run_idx = calloc(pm->n_runs + 1, sizeof(uint64_t));
	lv->chunk_first = calloc(pm->n_chunks + 1, sizeof(uint64_t));
	if (!lv->run_idx || !lv->chunk_first)
		return -ENOMEM;
	for (size_t i = 0; i < pm->n_runs; i++) {
		const PageRun *run = pm->runs[i];
		if (i && run->vaddr < pm->runs[i - 1]->vaddr + (uint64_t)pm->runs[i - 1]->nr_pages * PAGE_SIZE_CREST)
			return bad(s, l, "runs out of order");
		if (run->src > PAGE_SRC__PAGES_ZERO)
			return bad(s, l, "unknown page source");
		if (run->src == PAGE_SRC__PAGES_PARENT && l + 1 >= (int)s->chain->n) {
			pr_err("image %s: pid %d has pages in a parent image, but the image has no parent (the chain "
			       "is broken)", lname(s, l), s->pid);
			return -EBADMSG;
		}
		lv->run_idx[i] = idx;
		if (run->src == PAGE_SRC__PAGES_DATA)
			idx += run->nr_pages;
	}
	if (idx != pm->total_pages)
		return bad(s, l, "its runs and its page count differ");
	idx = 0;
	for (size_t k = 0; k < pm->n_chunks; k++) {
		const PageChunk *ck = pm->chunks[k];
		lv->chunk_first[k] = idx;
		idx += ck->nr_pages;
		if (!ck->nr_pages || ck->nr_pages > PW_CHUNK_MAX || ck->offset + ck->size > (uint64_t)st.st_size ||
		    (!ck->zstd && ck->size != ck->nr_pages * PAGE_SIZE_CREST)) {
			pr_err("image %s/pages-%d.img is truncated or corrupt: chunk %zu (%u pages at offset %llu, %u "
			       "bytes) does not fit its %lld bytes", lname(s, l), s->pid, k, ck->nr_pages,
			       (unsigned long long)ck->offset, ck->size, (long long)st.st_size);
			return -EBADMSG;
		}
	}
	if (idx != pm->total_pages)
		return bad(s, l, "its chunks and its page count differ");
	posix_fadvise(lv->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	/* raw chunks go from the page cache straight into the task (one copy,
	 * not two); the checksum pass reads them in, ahead of the writes */
	if (st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, lv->fd, 0);
		if (m != MAP_FAILED) {
			lv->map = m;
			lv->map_len = (size_t)st.st_size;
			madvise(m, lv->map_len, MADV_SEQUENTIAL);
		}
	}
	return 0;
}

static int add_seg(struct pages_src *s, uint64_t va, uint32_t nr, int level, uint64_t idx)
{
	if (s->nseg) {
		struct seg *g = &s->segs[s->nseg - 1];
		if (g->level == level && g->vaddr + (uint64_t)g->nr * PAGE_SIZE_CREST == va &&
		    (level < 0 || g->idx + g->nr == idx) && g->nr + nr < (1u << 31)) {
			g->nr += nr;
			goto count;
		}
	}
	if (s->nseg == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct seg *n = realloc(s->segs, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->segs = n;
		s->cap = cap;
	}
	s->segs[s->nseg++] = (struct seg){ va, nr, level, idx };
count:
	if (level >= 0)
		s->data_pages += nr;
	return 0;
}

/* [va, va + nr pages) as image l has it. */
static int resolve(struct pages_src *s, int l, uint64_t va, uint64_t nr)
{
	int r = load_level(s, l);
	if (r < 0)
		return r;
	const PageMap *pm = s->lv[l].pm;
	size_t lo = 0, hi = pm->n_runs;

	while (lo < hi) {   /* the first run that ends after va */
		size_t mid = (lo + hi) / 2;
		const PageRun *m = pm->runs[mid];
		if (m->vaddr + (uint64_t)m->nr_pages * PAGE_SIZE_CREST <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = lo; nr > 0; k++) {
		const PageRun *run = k < pm->n_runs ? pm->runs[k] : NULL;
		if (!run || run->vaddr > va) {
			pr_err("image %s: pages %#llx-%#llx of pid %d are not in it, but %s says they are unchanged "
			       "since it: the chain is broken", lname(s, l), (unsigned long long)va,
			       (unsigned long long)(va + nr * PAGE_SIZE_CREST), s->pid, lname(s, l - 1));
			return -EBADMSG;
		}
		uint64_t off = (va - run->vaddr) / PAGE_SIZE_CREST, take = MIN(nr, run->nr_pages - off);
		switch (run->src) {
		case PAGE_SRC__PAGES_DATA:
			r = add_seg(s, va, (uint32_t)take, l, s->lv[l].run_idx[k] + off);
			break;
		case PAGE_SRC__PAGES_ZERO:
			r = add_seg(s, va, (uint32_t)take, -1, 0);
			break;
		default:
			r = resolve(s, l + 1, va, take);
		}
		if (r < 0)
			return r;
		va += take * PAGE_SIZE_CREST;
		nr -= take;
	}
	return 0;
}

void pages_src_free(struct pages_src *s)
{
	if (!s)
		return;
	for (size_t l = 0; l < CHAIN_MAX; l++) {
		struct level *lv = &s->lv[l];
		if (!lv->loaded)
			continue;
		if (lv->fd >= 0)
			close(lv->fd);
		if (lv->map)
			munmap((void *)lv->map, lv->map_len);
		if (lv->pm)
			protobuf_c_message_free_unpacked(&lv->pm->base, NULL);
		free(lv->run_idx);
		free(lv->chunk_first);
		free(lv->cache);
	}
	free(s->segs);
	free(s);
}

int pages_src_load(struct img_chain *chain, pid_t pid, struct pages_src **out)
{
	struct pages_src *s = xzalloc(sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->pid = pid;
	s->chain = chain;
	r = load_level(s, 0);
	for (size_t i = 0; r == 0 && i < s->lv[0].pm->n_runs; i++)
		r = resolve(s, 0, s->lv[0].pm->runs[i]->vaddr, s->lv[0].pm->runs[i]->nr_pages);
	if (r < 0) {
		pages_src_free(s);
		return r;
	}
	*out = s;
	return 0;
}

const PageMap *pages_src_map(const struct pages_src *s)
{
	return s->lv[0].pm;
}

/* ------------------------------------------------------------- reading */

static long find_chunk(const struct level *lv, uint64_t p, long hint)
{
	size_t n = lv->pm->n_chunks, lo = 0, hi = n;

	for (long k = hint; k >= 0 && k < (long)n && k <= hint + 1; k++)
		if (lv->chunk_first[k] <= p && p < lv->chunk_first[k] + lv->pm->chunks[k]->nr_pages)
			return k;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (lv->chunk_first[mid] + lv->pm->chunks[mid]->nr_pages <= p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo;
}

/* Read chunk k of level l whole into dst (nr_pages * page size), verified. */
static int read_chunk(struct pages_src *s, int l, long k, char *dst)
{
	struct level *lv = &s->lv[l];
	const PageChunk *ck = lv->pm->chunks[k];
	size_t raw = (size_t)ck->nr_pages * PAGE_SIZE_CREST;
	int r;

	if ((ck->offset & ((16 << 20) - 1)) < ck->size)
		posix_fadvise(lv->fd, (off_t)ck->offset + (64 << 20), 16 << 20, POSIX_FADV_WILLNEED);
	if (!ck->zstd) {
		r = pread_full(lv->fd, dst, raw, (off_t)ck->offset);
	} else {
		const char *z_src = lv->map ? lv->map + ck->offset : s->zbuf;
		r = lv->map ? 0 : pread_full(lv->fd, s->zbuf, ck->size, (off_t)ck->offset);
		if (r == 0) {
			size_t z = ZSTD_decompressDCtx(s->dctx, dst, raw, z_src, ck->size);
			if (ZSTD_isError(z) || z != raw) {
				pr_err("image %s/pages-%d.img is corrupt: chunk %ld does not decompress (%s)", lname(s, l),
				       s->pid, k, ZSTD_isError(z) ? ZSTD_getErrorName(z) : "short");
				return -EBADMSG;
			}
		}
	}
	if (r < 0)
		return pr_errno(r, "image %s/pages-%d.img: read failed", lname(s, l), s->pid);
	if (XXH3_64bits(dst, raw) != ck->checksum) {
		pr_err("image %s/pages-%d.img is corrupt: checksum mismatch in chunk %ld", lname(s, l), s->pid, k);
		return -EBADMSG;
	}
	return 0;
}

static struct rbuf *take_free(struct pages_src *s)
{
	struct rbuf *b = NULL;
	pthread_mutex_lock(&s->lock);
	while (!s->nfree && !s->stop)
		pthread_cond_wait(&s->cond, &s->lock);
	if (!s->stop)
		b = &s->bufs[s->free_stack[--s->nfree]];
	pthread_mutex_unlock(&s->lock);
	if (b) {
		b->n = 0;
		b->fill = 0;
		b->bytes = 0;
	}
	return b;
}

static void push_full(struct pages_src *s, struct rbuf *b)
{
	pthread_mutex_lock(&s->lock);
	s->queue[(s->qhead + s->qcount) % NR_RBUF] = (int)(b - s->bufs);
	s->qcount++;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* len bytes for va at src: the buffer's next bytes (in_buf), or mapped */
static void add_item(struct rbuf *b, uint64_t va, const char *src, size_t len, bool in_buf)
{
	struct item *it = b->n ? &b->items[b->n - 1] : NULL;

	if (it && it->vaddr + it->len == va && it->src + it->len == src)
		it->len += len;
	else
		b->items[b->n++] = (struct item){ va, src, len };
	b->bytes += len;
	if (in_buf)
		b->fill += len;
}

static int reader_run(struct pages_src *s)
{
	struct rbuf *b = NULL;
	long hint[CHAIN_MAX];
	int r = 0;

	for (size_t l = 0; l < CHAIN_MAX; l++)
		hint[l] = 0;
	for (size_t i = 0; i < s->nseg && r == 0; i++) {
		const struct seg *g = &s->segs[i];
		uint64_t p = g->idx, left = g->nr, va = g->vaddr;
		if (g->level < 0)
			continue;
		struct level *lv = &s->lv[g->level];
		while (left && r == 0) {
			long k = find_chunk(lv, p, hint[g->level]);
			const PageChunk *ck = lv->pm->chunks[k];
			uint64_t off = p - lv->chunk_first[k], take = MIN(left, ck->nr_pages - off);
			if (b && (b->n == MAX_ITEMS || b->bytes + take * PAGE_SIZE_CREST > RBUF_SIZE)) {
				push_full(s, b);
				b = NULL;
			}
			if (!b && !(b = take_free(s)))
				return -ECANCELED;
			hint[g->level] = k;
			bool mapped = lv->map && !ck->zstd && off == 0 && take == ck->nr_pages;
			if (mapped) {
				/* whole raw chunks: verified and written from the map */
				long e = k + 1;
				uint64_t span = take;
				while (e < (long)lv->pm->n_chunks && !lv->pm->chunks[e]->zstd &&
				       lv->pm->chunks[e]->offset == lv->pm->chunks[e - 1]->offset + lv->pm->chunks[e - 1]->size &&
				       span + lv->pm->chunks[e]->nr_pages <= left &&
				       b->bytes + (span + lv->pm->chunks[e]->nr_pages) * PAGE_SIZE_CREST <= RBUF_SIZE) {
					span += lv->pm->chunks[e]->nr_pages;
					e++;
				}
				const char *src = lv->map + ck->offset, *at = src;
				uint64_t ahead = ck->offset + (64 << 20);
				if ((ck->offset & ((16 << 20) - 1)) < span * PAGE_SIZE_CREST && ahead < lv->map_len)
					madvise((void *)(lv->map + (ahead & ~(PAGE_SIZE_CREST - 1))),
						MIN(16 << 20, lv->map_len - ahead), MADV_WILLNEED);
				for (long j = k; j < e && r == 0; j++) {
					const PageChunk *cj = lv->pm->chunks[j];
					if (XXH3_64bits(at, (size_t)cj->nr_pages * PAGE_SIZE_CREST) != cj->checksum) {
						pr_err("image %s/pages-%d.img is corrupt: checksum mismatch in chunk %ld",
						       lname(s, g->level), s->pid, j);
						r = -EBADMSG;
					}
					at += (size_t)cj->nr_pages * PAGE_SIZE_CREST;
				}
				hint[g->level] = e - 1;
				if (r == 0)
					add_item(b, va, src, span * PAGE_SIZE_CREST, false);
				take = span;
			} else if (off == 0 && take == ck->nr_pages) {
				/* whole chunks straight into the buffer; a stretch of
				 * raw ones contiguous in the file in one pread */
				long e = k + 1;
				uint64_t span = take;
				while (!ck->zstd && e < (long)lv->pm->n_chunks && span < left &&
				       !lv->pm->chunks[e]->zstd &&
				       lv->pm->chunks[e]->offset == lv->pm->chunks[e - 1]->offset + lv->pm->chunks[e - 1]->size &&
				       span + lv->pm->chunks[e]->nr_pages <= left &&
				       b->fill + (span + lv->pm->chunks[e]->nr_pages) * PAGE_SIZE_CREST <= RBUF_SIZE) {
					span += lv->pm->chunks[e]->nr_pages;
					e++;
				}
				char *dst = b->data + b->fill;
				if (e == k + 1) {
					r = read_chunk(s, g->level, k, dst);
				} else {
					if ((ck->offset & ((16 << 20) - 1)) < span * PAGE_SIZE_CREST)
						posix_fadvise(lv->fd, (off_t)ck->offset + (64 << 20), 16 << 20,
							      POSIX_FADV_WILLNEED);
					r = pread_full(lv->fd, dst, span * PAGE_SIZE_CREST, (off_t)ck->offset);
					if (r < 0)
						pr_errno(r, "image %s/pages-%d.img: read failed", lname(s, g->level), s->pid);
					for (long j = k; j < e && r == 0; j++) {
						const PageChunk *cj = lv->pm->chunks[j];
						if (XXH3_64bits(dst, (size_t)cj->nr_pages * PAGE_SIZE_CREST) != cj->checksum) {
							pr_err("image %s/pages-%d.img is corrupt: checksum mismatch in chunk %ld",
							       lname(s, g->level), s->pid, j);
							r = -EBADMSG;
						}
						dst += (size_t)cj->nr_pages * PAGE_SIZE_CREST;
					}
					hint[g->level] = e - 1;
				}
				take = span;
			} else {
				/* part of a chunk: decoded whole once, kept for the rest */
				if (!lv->cache && !(lv->cache = malloc(PW_CHUNK_MAX * PAGE_SIZE_CREST)))
					r = -ENOMEM;
				if (r == 0 && lv->cache_k != k) {
					lv->cache_k = -1;
					r = read_chunk(s, g->level, k, lv->cache);
					if (r == 0)
						lv->cache_k = k;
				}
				if (r == 0)
					memcpy(b->data + b->fill, lv->cache + off * PAGE_SIZE_CREST, take * PAGE_SIZE_CREST);
			}
			if (r == 0 && !mapped)
				add_item(b, va, b->data + b->fill, take * PAGE_SIZE_CREST, true);
			p += take;
			left -= take;
			va += take * PAGE_SIZE_CREST;
		}
	}
	if (b)
		push_full(s, b);
	return r;
}

static void *reader_main(void *arg)
{
	struct pages_src *s = arg;
	int r = reader_run(s);

	pthread_mutex_lock(&s->lock);
	if (r < 0 && !s->err)
		s->err = r;
	s->reader_done = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static int write_buf(struct tracee *t, const struct rbuf *b)
{
	struct iovec l[MAX_ITEMS], rm[MAX_ITEMS];
	size_t total = 0;

	for (int i = 0; i < b->n; i++) {
		l[i] = (struct iovec){ (void *)b->items[i].src, b->items[i].len };
		rm[i] = (struct iovec){ (void *)(uintptr_t)b->items[i].vaddr, b->items[i].len };
		total += b->items[i].len;
	}
	ssize_t n = process_vm_writev(t->pid, l, (unsigned long)b->n, rm, (unsigned long)b->n, 0);
	if (n == (ssize_t)total)
		return 0;
	/* partly: item by item, /proc/PID/mem for what refuses */
	for (int i = 0; i < b->n; i++) {
		int r = vm_copy(t->pid, (void *)b->items[i].src, b->items[i].vaddr, b->items[i].len, true);
		if (r < 0)
			r = tracee_write(t, b->items[i].vaddr, b->items[i].src, b->items[i].len);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Zero pages inside private file mappings must be written: a hole there
 * would read the file. */
static int write_zeros(struct pages_src *s, struct tracee *t, const Mm *mm)
{
	static const char zero[64 << 10];

	for (size_t i = 0; i < s->nseg; i++) {
		const struct seg *g = &s->segs[i];
		if (g->level >= 0)
			continue;
		for (size_t v = 0; v < mm->n_vmas; v++) {
			const Vma *m = mm->vmas[v];
			if (m->kind != VMA_KIND__VMA_FILE_PRIVATE)
				continue;
			uint64_t a = MAX(m->start, g->vaddr), e = MIN(m->end, g->vaddr + (uint64_t)g->nr * PAGE_SIZE_CREST);
			for (; a < e; a += sizeof(zero)) {
				size_t n = MIN(sizeof(zero), e - a);
				int r = vm_copy(t->pid, (void *)zero, a, n, true);
				if (r < 0)
					r = tracee_write(t, a, zero, n);
				if (r < 0)
					return r;
			}
		}
	}
	return 0;
}

int pages_src_fill(struct pages_src *s, struct tracee *t, const Mm *mm, const struct crest_opts *o)
{
	uint64_t written = 0, half = s->data_pages * PAGE_SIZE_CREST / 2;
	bool fault_checked = false, started = false;
	int r = 0;

	s->dctx = ZSTD_createDCtx();
	s->zbuf = malloc(ZSTD_compressBound(PW_CHUNK_MAX * PAGE_SIZE_CREST));
	if (!s->dctx || !s->zbuf)
		r = -ENOMEM;
	for (int i = 0; i < NR_RBUF && r == 0; i++) {
		if (!(s->bufs[i].data = malloc(RBUF_SIZE)))
			r = -ENOMEM;
		s->free_stack[s->nfree++] = i;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	if (r == 0 && s->data_pages) {
		if (pthread_create(&s->thread, NULL, reader_main, s))
			r = -ENOMEM;
		else
			started = true;
	}
	while (started && r == 0) {
		struct rbuf *b;
		pthread_mutex_lock(&s->lock);
		while (!s->qcount && !s->reader_done)
			pthread_cond_wait(&s->cond, &s->lock);
		if (!s->qcount) {
			r = s->err;
			pthread_mutex_unlock(&s->lock);
			break;
		}
		b = &s->bufs[s->queue[s->qhead]];
		s->qhead = (s->qhead + 1) % NR_RBUF;
		s->qcount--;
		pthread_mutex_unlock(&s->lock);
		if (!fault_checked && written + b->bytes > half) {   /* the buffer across the middle */
			fault_checked = true;
			if (fault_at("restore-mid-memory"))
				r = -ECANCELED;
		}
		if (r == 0 && cancelled(o))
			r = -ECANCELED;
		if (r == 0)
			r = write_buf(t, b);
		written += b->bytes;
		pthread_mutex_lock(&s->lock);
		s->free_stack[s->nfree++] = (int)(b - s->bufs);
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
	}
	if (started) {
		pthread_mutex_lock(&s->lock);
		s->stop = true;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
		if (r == 0)
			r = s->err;
	}
	if (r == 0)
		r = write_zeros(s, t, mm);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	for (int i = 0; i < NR_RBUF; i++)
		free(s->bufs[i].data);
	ZSTD_freeDCtx(s->dctx);
	free(s->zbuf);
	return r;
}
