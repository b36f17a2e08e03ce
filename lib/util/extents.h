/* SPDX-License-Identifier: MIT */
/*
 * Data extents of a file (holes are not stored): found with SEEK_DATA /
 * SEEK_HOLE, saved back to back into a raw image file with an XXH3 checksum,
 * written back at their offsets on restore.  Used for shared memory objects
 * (shmem.c) and deleted files (ghost.c).  Extents are (offset, length) pairs.
 */
#ifndef CREST_EXTENTS_H
#define CREST_EXTENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Append the data extents of fd within [0, size) to *ext; *data: their
 * total length.  -errno, not logged. */
int extents_scan(int fd, uint64_t size, uint64_t **ext, size_t *n, uint64_t *data);
/* Copy those extents of fd into dirfd/name; *checksum of the bytes.
 * -errno, not logged (the caller names the object). */
int extents_save(int dirfd, const char *name, int fd, const uint64_t *ext, size_t n, uint64_t *checksum);
/* Write the bytes of dirfd/name back into fd at the extents' offsets and
 * check them.  A truncated or corrupt image is logged here (-EBADMSG); other
 * errors are returned unlogged. */
int extents_fill(int dirfd, const char *name, int fd, const uint64_t *ext, size_t n, bool has_checksum,
		 uint64_t checksum);

#endif
