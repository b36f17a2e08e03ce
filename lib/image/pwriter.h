/* SPDX-License-Identifier: MIT */
/*
 * Pipelined pages writer: the caller fills buffers (e.g. from a task's
 * memory) while background threads cut them into chunks, hash each chunk
 * (XXH3-64 of its raw bytes), compress it with zstd if asked, and write
 * the chunks to the file in submission order.  Lets the dump read, compress
 * and write at the same time; with zstd several threads compress.
 */
#ifndef CREST_PWRITER_H
#define CREST_PWRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PW_CHUNK_PAGES 64    /* data pages per chunk (256 KiB) */

struct pwriter;

/* One chunk as written: where, how big, its raw pages' hash. */
struct pw_chunk {
	uint64_t offset;
	uint32_t size;
	uint32_t nr_pages;
	uint64_t checksum;
	bool zstd;
};

/* bufs: NULL, or nr_bufs buffers of buf_size bytes that the caller owns and
 * keeps across writers (already faulted in: a dump of many small processes
 * otherwise pays the page faults of fresh buffers for every one).
 * zstd_level: 0 stores the chunks raw; else the zstd level (negative: the
 * fast levels).  buf_size must be a multiple of the page size. */
int pwriter_start(struct pwriter **out, int fd, size_t buf_size, int nr_bufs, char *const *bufs,
		  int zstd_level);
/* A free buffer of buf_size bytes (waits for one). */
char *pwriter_get(struct pwriter *w);
/* Queue len bytes (whole pages) of buf (from pwriter_get) for writing.
 * Returns an error of an earlier write, if any (the buffer is then
 * released). */
int pwriter_submit(struct pwriter *w, char *buf, size_t len);
/* Give an unused buffer back. */
void pwriter_put(struct pwriter *w, char *buf);
/* Wait for every write, stop the threads, free everything.  *chunks (free()
 * it) and *n: every chunk written, in file order (both may be NULL).
 * Returns the first write error. */
int pwriter_finish(struct pwriter *w, struct pw_chunk **chunks, size_t *n);

#endif
