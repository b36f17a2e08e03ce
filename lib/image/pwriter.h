/* SPDX-License-Identifier: MIT */
/*
 * Pipelined image writer: the caller fills buffers (e.g. from a task's
 * memory) while a background thread writes the previous ones to the file
 * and hashes them, in order.  Lets the dump read and write at the same time.
 */
#ifndef CREST_PWRITER_H
#define CREST_PWRITER_H

#include <stddef.h>
#include <stdint.h>

struct pwriter;

/* bufs: NULL, or nr_bufs buffers of buf_size bytes that the caller owns and
 * keeps across writers (already faulted in: a dump of many small processes
 * otherwise pays the page faults of fresh buffers for every one). */
int pwriter_start(struct pwriter **out, int fd, size_t buf_size, int nr_bufs, char *const *bufs);
/* A free buffer of buf_size bytes (waits for one). */
char *pwriter_get(struct pwriter *w);
/* Queue len bytes of buf (from pwriter_get) for writing.  Returns an error
 * of an earlier write, if any (the buffer is then released). */
int pwriter_submit(struct pwriter *w, char *buf, size_t len);
/* Give an unused buffer back. */
void pwriter_put(struct pwriter *w, char *buf);
/* Wait for every write, stop the thread, free everything.  *checksum: XXH3
 * of all bytes written.  Returns the first write error. */
int pwriter_finish(struct pwriter *w, uint64_t *checksum);

#endif
