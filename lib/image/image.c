/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>
#include "image.h"
#include "util/log.h"
#include "util/util.h"

int img_write(int dirfd, const char *name, const ProtobufCMessage *msg)
{
	char tmp[IMG_NAME_MAX + 8];
	struct img_hdr h = { .version = CREST_IMG_VERSION, .hdr_size = sizeof(h) };
	size_t len = protobuf_c_message_get_packed_size(msg);
	_cleanup_free_ uint8_t *buf = malloc(sizeof(h) + len);
	_cleanup_close_ int fd = -1;
	int r;

	if (fault_nth("image write"))
		return pr_errno(-EIO, "image %s: cannot write it", name);
	if (!buf)
		return pr_errno(-ENOMEM, "image %s: out of memory", name);
	memcpy(h.magic, CREST_IMG_MAGIC, 4);
	protobuf_c_message_pack(msg, buf + sizeof(h));
	h.payload_len = len;
	h.checksum = XXH3_64bits(buf + sizeof(h), len);
	memcpy(buf, &h, sizeof(h));

	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return pr_errno(-errno, "image %s: cannot create", name);
	r = write_full(fd, buf, sizeof(h) + len);
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return pr_errno(r, "image %s: write failed", name);
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		r = -errno;
		unlinkat(dirfd, tmp, 0);
		return pr_errno(r, "image %s: rename failed", name);
	}
	return 0;
}

int img_read_raw(int dirfd, const char *name, uint8_t **payload, size_t *lenp)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	struct img_hdr h;
	struct stat st;
	uint8_t *buf;
	int r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((size_t)st.st_size < sizeof(h)) {
		pr_err("image %s is truncated: %lld bytes, shorter than its header; the image directory is damaged",
		       name, (long long)st.st_size);
		return -EBADMSG;
	}
	r = read_full(fd, &h, sizeof(h));
	if (r < 0)
		return pr_errno(r, "image %s: read failed", name);
	if (memcmp(h.magic, CREST_IMG_MAGIC, 4)) {
		pr_err("image %s is not a crest image (bad magic)", name);
		return -EBADMSG;
	}
	if (h.version != CREST_IMG_VERSION) {
		pr_err("image %s has format version %u, this crest reads version %u", name, h.version,
		       CREST_IMG_VERSION);
		return -EBADMSG;
	}
	if (h.hdr_size != sizeof(h) || h.payload_len != (uint64_t)st.st_size - sizeof(h)) {
		pr_err("image %s is truncated or corrupt: header says %llu payload bytes, file has %lld",
		       name, (unsigned long long)h.payload_len, (long long)(st.st_size - (off_t)sizeof(h)));
		return -EBADMSG;
	}
	buf = malloc(h.payload_len ? h.payload_len : 1);
	if (!buf)
		return -ENOMEM;
	r = read_full(fd, buf, h.payload_len);
	if (r < 0) {
		free(buf);
		return pr_errno(r, "image %s: read failed", name);
	}
	if (XXH3_64bits(buf, h.payload_len) != h.checksum) {
		free(buf);
		pr_err("image %s is corrupt: checksum mismatch", name);
		return -EBADMSG;
	}
	*payload = buf;
	*lenp = h.payload_len;
	return 0;
}

int img_read(int dirfd, const char *name, const ProtobufCMessageDescriptor *d,
	     ProtobufCMessage **out, bool optional)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len;
	int r = fault_nth("image read") ? -EIO : img_read_raw(dirfd, name, &buf, &len);

	if (r == -ENOENT) {
		if (!optional)
			pr_err("image %s is missing from the image directory", name);
		return r;
	}
	if (r < 0) {
		if (r != -EBADMSG)
			pr_errno(r, "image %s: cannot read", name);
		return r;
	}
	*out = protobuf_c_message_unpack(d, NULL, len, buf);
	if (!*out) {
		pr_err("image %s is corrupt: cannot decode %s", name, d->name);
		return -EBADMSG;
	}
	return 0;
}

int open_images_dir(const char *dir, bool create)
{
	int fd;
	if (!dir || !*dir) {
		pr_err("no image directory given (-D DIR)");
		return -EINVAL;
	}
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
		return pr_errno(-errno, "cannot create image directory %s", dir);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return pr_errno(-errno, "cannot open image directory %s", dir);
	return fd;
}
