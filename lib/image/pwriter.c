/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <xxhash.h>
#include "pwriter.h"
#include "util/util.h"

struct slot {
	char *buf;
	size_t len;
};

struct pwriter {
	int fd;
	size_t buf_size;
	int nr;
	char **free_bufs;        /* stack of free buffers */
	int nr_free;
	struct slot *queue;      /* FIFO of filled buffers */
	int head, count;
	bool done;
	bool own_bufs;           /* allocated here, freed by pwriter_finish */
	int err;
	XXH3_state_t *xs;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;     /* any state change */
};

static void *writer(void *arg)
{
	struct pwriter *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->count && !w->done)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->count && w->done)
			break;
		struct slot s = w->queue[w->head];
		w->head = (w->head + 1) % w->nr;
		w->count--;
		pthread_mutex_unlock(&w->lock);

		int r = w->err ? 0 : write_full(w->fd, s.buf, s.len);
		if (r == 0 && !w->err)
			XXH3_64bits_update(w->xs, s.buf, s.len);

		pthread_mutex_lock(&w->lock);
		if (r < 0 && !w->err)
			w->err = r;
		w->free_bufs[w->nr_free++] = s.buf;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int pwriter_start(struct pwriter **out, int fd, size_t buf_size, int nr_bufs, char *const *bufs)
{
	struct pwriter *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->buf_size = buf_size;
	w->nr = nr_bufs;
	w->own_bufs = !bufs;
	w->free_bufs = calloc(nr_bufs, sizeof(char *));
	w->queue = calloc(nr_bufs, sizeof(struct slot));
	w->xs = XXH3_createState();
	if (!w->free_bufs || !w->queue || !w->xs)
		goto nomem;
	for (int i = 0; i < nr_bufs; i++) {
		w->free_bufs[i] = bufs ? bufs[i] : malloc(buf_size);
		if (!w->free_bufs[i])
			goto nomem;
		w->nr_free++;
	}
	XXH3_64bits_reset(w->xs);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if (pthread_create(&w->thread, NULL, writer, w)) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
		goto nomem;
	}
	*out = w;
	return 0;
nomem:
	for (int i = 0; i < w->nr_free && w->own_bufs; i++)
		free(w->free_bufs[i]);
	free(w->free_bufs);
	free(w->queue);
	if (w->xs)
		XXH3_freeState(w->xs);
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
	if (err) {
		w->free_bufs[w->nr_free++] = buf;
	} else {
		w->queue[(w->head + w->count) % w->nr] = (struct slot){ buf, len };
		w->count++;
	}
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return err;
}

int pwriter_finish(struct pwriter *w, uint64_t *checksum)
{
	int err;

	if (!w)
		return 0;
	pthread_mutex_lock(&w->lock);
	w->done = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	err = w->err;
	if (checksum)
		*checksum = XXH3_64bits_digest(w->xs);
	for (int i = 0; i < w->nr_free && w->own_bufs; i++)
		free(w->free_bufs[i]);
	free(w->free_bufs);
	free(w->queue);
	XXH3_freeState(w->xs);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
	return err;
}
