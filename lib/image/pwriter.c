/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>
#include "pwriter.h"
#include "util/util.h"

#define MAX_WORKERS 4

struct slot {
	char *buf;
	size_t len;
	uint64_t seq;
};

struct worker {
	struct pwriter *w;
	pthread_t thread;
	bool started;
	ZSTD_CCtx *cctx;
	char *out;              /* compressed chunks of one buffer */
	size_t out_size;
};

struct pwriter {
	int fd;
	size_t buf_size;
	int nr;
	int level;
	char **free_bufs;        /* stack of free buffers */
	int nr_free;
	struct slot *queue;      /* FIFO of filled buffers */
	int head, count;
	uint64_t next_seq;       /* given to the next submitted buffer */
	uint64_t write_seq;      /* the buffer whose turn it is to be written */
	uint64_t off;            /* file offset of the next chunk */
	bool done;
	bool own_bufs;           /* allocated here, freed by pwriter_finish */
	int err;
	struct pw_chunk *chunks;
	size_t nr_chunks, cap_chunks;
	struct worker workers[MAX_WORKERS];
	int nr_workers;
	pthread_mutex_t lock;
	pthread_cond_t cond;     /* any state change */
};

struct piece {
	const char *data;
	size_t len;
	struct pw_chunk c;
};

/* Cut one buffer into chunks, hash (and compress) each: outside the lock. */
static int prepare(struct worker *k, const struct slot *s, struct piece *p, int *np)
{
	struct pwriter *w = k->w;
	size_t chunk = PW_CHUNK_PAGES * PAGE_SIZE_CREST, o = 0;
	int n = 0;

	for (size_t at = 0; at < s->len; at += chunk, n++) {
		size_t len = MIN(chunk, s->len - at);
		const char *raw = s->buf + at;

		p[n] = (struct piece){ raw, len, { .size = (uint32_t)len, .nr_pages = (uint32_t)(len / PAGE_SIZE_CREST),
						   .checksum = XXH3_64bits(raw, len) } };
		if (w->level) {
			size_t z = ZSTD_compressCCtx(k->cctx, k->out + o, k->out_size - o, raw, len, w->level);
			if (ZSTD_isError(z))
				return -EIO;
			if (z < len) {   /* else: stored raw */
				p[n].data = k->out + o;
				p[n].len = z;
				p[n].c.size = (uint32_t)z;
				p[n].c.zstd = true;
				o += z;
			}
		}
	}
	*np = n;
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *k = arg;
	struct pwriter *w = k->w;
	struct piece *p = calloc(w->buf_size / (PW_CHUNK_PAGES * PAGE_SIZE_CREST) + 2, sizeof(*p));

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->count && !w->done)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->count && w->done)
			break;
		struct slot s = w->queue[w->head];
		int np = 0, r = 0;

		w->head = (w->head + 1) % w->nr;
		w->count--;
		pthread_mutex_unlock(&w->lock);
		if (!p)
			r = -ENOMEM;
		else if (!w->err)
			r = prepare(k, &s, p, &np);
		pthread_mutex_lock(&w->lock);
		/* write in submission order */
		while (w->write_seq != s.seq)
			pthread_cond_wait(&w->cond, &w->lock);
		pthread_mutex_unlock(&w->lock);
		for (int i = 0; i < np && r == 0 && !w->err; i++) {
			p[i].c.offset = w->off;
			r = write_full(w->fd, p[i].data, p[i].len);
			w->off += p[i].len;
		}
		pthread_mutex_lock(&w->lock);
		for (int i = 0; i < np && r == 0 && !w->err; i++) {
			if (w->nr_chunks == w->cap_chunks) {
				size_t cap = w->cap_chunks ? 2 * w->cap_chunks : 256;
				struct pw_chunk *nc = realloc(w->chunks, cap * sizeof(*nc));
				if (!nc) {
					r = -ENOMEM;
					break;
				}
				w->chunks = nc;
				w->cap_chunks = cap;
			}
			w->chunks[w->nr_chunks++] = p[i].c;
		}
		if (r < 0 && !w->err)
			w->err = r;
		w->write_seq++;
		w->free_bufs[w->nr_free++] = s.buf;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	free(p);
	return NULL;
}

static void free_workers(struct pwriter *w)
{
	for (int i = 0; i < MAX_WORKERS; i++) {
		ZSTD_freeCCtx(w->workers[i].cctx);
		free(w->workers[i].out);
	}
}

int pwriter_start(struct pwriter **out, int fd, size_t buf_size, int nr_bufs, char *const *bufs,
		  int zstd_level)
{
	struct pwriter *w = calloc(1, sizeof(*w));
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->buf_size = buf_size;
	w->nr = nr_bufs;
	w->level = zstd_level;
	w->own_bufs = !bufs;
	/* one thread writes raw chunks fast enough; compression wants cores */
	w->nr_workers = zstd_level ? (int)MAX(1, MIN(MIN(ncpu, MAX_WORKERS), nr_bufs - 1)) : 1;
	w->free_bufs = calloc(nr_bufs, sizeof(char *));
	w->queue = calloc(nr_bufs, sizeof(struct slot));
	if (!w->free_bufs || !w->queue)
		goto nomem;
	for (int i = 0; i < nr_bufs; i++) {
		w->free_bufs[i] = bufs ? bufs[i] : malloc(buf_size);
		if (!w->free_bufs[i])
			goto nomem;
		w->nr_free++;
	}
	for (int i = 0; i < w->nr_workers; i++) {
		struct worker *k = &w->workers[i];
		k->w = w;
		if (!zstd_level)
			continue;
		k->out_size = ZSTD_compressBound(buf_size);
		k->cctx = ZSTD_createCCtx();
		k->out = malloc(k->out_size);
		if (!k->cctx || !k->out)
			goto nomem;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	for (int i = 0; i < w->nr_workers; i++) {
		if (pthread_create(&w->workers[i].thread, NULL, worker_main, &w->workers[i])) {
			pwriter_finish(w, NULL, NULL);
			return -ENOMEM;
		}
		w->workers[i].started = true;
	}
	*out = w;
	return 0;
nomem:
	for (int i = 0; i < w->nr_free && w->own_bufs; i++)
		free(w->free_bufs[i]);
	free(w->free_bufs);
	free(w->queue);
	free_workers(w);
	free(w);
	return -ENOMEM;
}

char *pwriter_get(struct pwriter *w)
{
	char *b;
	pthread_mutex_lock(&w->lock);
	while (!w->nr_free)
		pthread_cond_wait(&w->cond, &w->lock);
	b = w->free_bufs[--w->nr_free];
	pthread_mutex_unlock(&w->lock);
	return b;
}

void pwriter_put(struct pwriter *w, char *buf)
{
	pthread_mutex_lock(&w->lock);
	w->free_bufs[w->nr_free++] = buf;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int pwriter_submit(struct pwriter *w, char *buf, size_t len)
{
	int err;
	pthread_mutex_lock(&w->lock);
	err = w->err;
	if (err || !len) {
		w->free_bufs[w->nr_free++] = buf;
	} else {
		w->queue[(w->head + w->count) % w->nr] = (struct slot){ buf, len, w->next_seq++ };
		w->count++;
	}
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return err;
}

int pwriter_finish(struct pwriter *w, struct pw_chunk **chunks, size_t *n)
{
	int err;

	if (!w)
		return 0;
	pthread_mutex_lock(&w->lock);
	w->done = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < w->nr_workers; i++)
		if (w->workers[i].started)
			pthread_join(w->workers[i].thread, NULL);
	err = w->err;
	if (chunks && n && !err) {
		*chunks = TAKE_PTR(w->chunks);
		*n = w->nr_chunks;
	}
	free(w->chunks);
	for (int i = 0; i < w->nr_free && w->own_bufs; i++)
		free(w->free_bufs[i]);
	free(w->free_bufs);
	free(w->queue);
	free_workers(w);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
	return err;
}
