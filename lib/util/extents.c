/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <xxhash.h>
#include "extents.h"
#include "log.h"
#include "util.h"

#define COPY_CHUNK (1 << 20)

int extents_scan(int fd, uint64_t size, uint64_t **ext, size_t *n, uint64_t *data)
{
	off_t pos = 0;

	*data = 0;
	while (pos < (off_t)size) {
		off_t ds = lseek(fd, pos, SEEK_DATA), de;
		if (ds < 0) {
			if (errno == ENXIO)
				break;   /* no more data */
			return -errno;
		}
		de = lseek(fd, ds, SEEK_HOLE);
		if (de < 0 || de > (off_t)size)
			de = (off_t)size;
		if (de <= ds)
			break;
		uint64_t *ne = realloc(*ext, (*n + 2) * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		*ext = ne;
		ne[(*n)++] = (uint64_t)ds;
		ne[(*n)++] = (uint64_t)(de - ds);
		*data += (uint64_t)(de - ds);
		pos = de;
	}
	return 0;
}

/* Copy the extents between fd (at their offsets) and the image file img
 * (back to back): into the image when save, else out of it; *hash: XXH3 of
 * the bytes.  An image that ends early is logged (name), -EBADMSG. */
static int copy_extents(const char *name, int img, int fd, const uint64_t *ext, size_t n, bool save,
			uint64_t *hash)
{
	_cleanup_free_ char *buf = malloc(COPY_CHUNK);
	XXH3_state_t *xs;
	int r = 0;

	if (!buf || !(xs = XXH3_createState()))
		return -ENOMEM;
	XXH3_64bits_reset(xs);
	for (size_t i = 0; i + 1 < n && r == 0; i += 2) {
		uint64_t off = ext[i], len = ext[i + 1];
		while (len && r == 0) {
			size_t k = (size_t)MIN(len, (uint64_t)COPY_CHUNK);
			if (save) {
				r = pread_full(fd, buf, k, (off_t)off);
				if (r == 0)
					r = write_full(img, buf, k);
			} else {
				r = read_full(img, buf, k);
				if (r == -EIO) {
					pr_err("image %s is truncated", name);
					r = -EBADMSG;
					break;
				}
				if (r == 0)
					r = pwrite_full(fd, buf, k, (off_t)off);
			}
			XXH3_64bits_update(xs, buf, k);
			off += k;
			len -= k;
		}
	}
	*hash = XXH3_64bits_digest(xs);
	XXH3_freeState(xs);
	return r;
}

int extents_save(int dirfd, const char *name, int fd, const uint64_t *ext, size_t n, uint64_t *checksum)
{
	_cleanup_close_ int out = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (out < 0)
		return -errno;
	return copy_extents(name, out, fd, ext, n, true, checksum);
}

int extents_fill(int dirfd, const char *name, int fd, const uint64_t *ext, size_t n, bool has_checksum,
		 uint64_t checksum)
{
	_cleanup_close_ int in = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	uint64_t sum;
	int r;

	if (in < 0)
		return -errno;
	r = copy_extents(name, in, fd, ext, n, false, &sum);
	if (r == 0 && has_checksum && sum != checksum) {
		pr_err("image %s is corrupt: checksum mismatch", name);
		r = -EBADMSG;
	}
	return r;
}
