/* SPDX-License-Identifier: MIT */
/*
 * tmpfs content of a mount namespace, through libarchive: a pax archive
 * (modes, owners by number, times, xattrs and ACLs, symlinks, device nodes
 * and FIFOs, hard links once, holes as sparse entries).  Both directions run
 * in a helper process of crest's inside the namespace (mnt.c at dump, the
 * namespace builder at restore), which may change its own cwd.
 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#include "image/image.h"
#include "util/log.h"
#include "mnt.h"
#include "util/util.h"

struct sink {
	int fd;
	uint64_t size;
	XXH3_state_t *h;
};

static la_ssize_t sink_write(struct archive *a, void *data, const void *buf, size_t len)
{
	struct sink *s = data;
	int r = write_full(s->fd, buf, len);

	if (r < 0) {
		archive_set_error(a, -r, "%s", strerror(-r));
		return -1;
	}
	XXH3_64bits_update(s->h, buf, len);
	s->size += len;
	return (la_ssize_t)len;
}

static int la_err(struct archive *a, const char *what, const char *step)
{
	int e = archive_errno(a);
	pr_err("%s: %s: %s", what, step, archive_error_string(a) ? archive_error_string(a) : "failed");
	return e > 0 ? -e : -EIO;
}

/* Into an archive (not to disk): data in order, holes as zeros, which the
 * pax writer leaves out again for the entry's sparse map. */
static int copy_to_archive(struct archive *in, struct archive *out, const char *what)
{
	static const char zeros[65536];
	la_int64_t pos = 0;

	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(in, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return la_err(in, what, "reading data");
		while (pos < off) {
			size_t z = (size_t)MIN((la_int64_t)sizeof(zeros), off - pos);
			if (archive_write_data(out, zeros, z) < 0)
				return la_err(out, what, "writing data");
			pos += (la_int64_t)z;
		}
		if (len && archive_write_data(out, buf, len) < 0)
			return la_err(out, what, "writing data");
		pos = off + (la_int64_t)len;
	}
}

static int copy_data(struct archive *in, struct archive *out, const char *what)
{
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(in, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return la_err(in, what, "reading data");
		if (archive_write_data_block(out, buf, len, off) < ARCHIVE_WARN)
			return la_err(out, what, "writing data");
	}
}

int mnt_tmpfs_save(int mfd, int dirfd, const char *name, const char *what, uint64_t *size, uint64_t *sum)
{
	char tmp[IMG_NAME_MAX + 8];
	struct archive *a = NULL, *disk = NULL;
	struct archive_entry_linkresolver *lr = NULL;
	struct sink s = { .fd = -1 };
	int r = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	s.h = XXH3_createState();
	if (!s.h)
		return -ENOMEM;
	XXH3_64bits_reset(s.h);
	s.fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (s.fd < 0) {
		r = pr_errno(-errno, "%s: cannot create %s in the image directory", what, tmp);
		goto out;
	}
	if (fchdir(mfd) < 0) {
		r = pr_errno(-errno, "%s: cannot enter it", what);
		goto out;
	}
	a = archive_write_new();
	disk = archive_read_disk_new();
	lr = archive_entry_linkresolver_new();
	if (!a || !disk || !lr) {
		r = -ENOMEM;
		goto out;
	}
	archive_write_set_format_pax(a);
	archive_write_set_bytes_in_last_block(a, 1);
	archive_entry_linkresolver_set_strategy(lr, archive_format(a) ? archive_format(a)
								  : ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE);
	if (archive_write_open2(a, &s, NULL, sink_write, NULL, NULL) != ARCHIVE_OK) {
		r = la_err(a, what, "starting the archive");
		goto out;
	}
	archive_read_disk_set_symlink_physical(disk);
	archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
	if (archive_read_disk_open(disk, ".") != ARCHIVE_OK) {
		r = la_err(disk, what, "reading it");
		goto out;
	}
	for (;;) {
		struct archive_entry *e = archive_entry_new(), *sparse = NULL;
		int lr_r;
		if (!e) {
			r = -ENOMEM;
			goto out;
		}
		lr_r = archive_read_next_header2(disk, e);
		if (lr_r == ARCHIVE_EOF) {
			archive_entry_free(e);
			break;
		}
		if (lr_r < ARCHIVE_WARN) {
			archive_entry_free(e);
			r = la_err(disk, what, "reading a file");
			goto out;
		}
		archive_read_disk_descend(disk);
		struct archive_entry *orig = e;
		archive_entry_linkify(lr, &e, &sparse);
		if (e) {
			if (archive_write_header(a, e) < ARCHIVE_WARN) {
				r = la_err(a, what, archive_entry_pathname(e));
				if (e != orig)
					archive_entry_free(e);
				archive_entry_free(orig);
				goto out;
			}
			if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0 &&
			    !archive_entry_hardlink(e))
				r = copy_to_archive(disk, a, what);
			archive_write_finish_entry(a);
		}
		if (e != orig && e)
			archive_entry_free(e);
		archive_entry_free(orig);
		if (r < 0)
			goto out;
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		r = la_err(a, what, "finishing the archive");
		goto out;
	}
	if (fsync(s.fd) < 0 || renameat(dirfd, tmp, dirfd, name) < 0) {
		r = pr_errno(-errno, "%s: cannot write %s", what, name);
		goto out;
	}
	*size = s.size;
	*sum = XXH3_64bits_digest(s.h);
out:
	if (lr)
		archive_entry_linkresolver_free(lr);
	if (disk)
		archive_read_free(disk);
	if (a)
		archive_write_free(a);
	if (s.fd >= 0)
		close(s.fd);
	if (r < 0)
		unlinkat(dirfd, tmp, 0);
	XXH3_freeState(s.h);
	return r;
}

/* The archive must be the one the dump wrote (size, XXH3). */
static int check_sum(int fd, const char *name, const char *what, uint64_t size, uint64_t sum)
{
	XXH3_state_t *h = XXH3_createState();
	char buf[65536];
	uint64_t n = 0;
	ssize_t k;

	if (!h)
		return -ENOMEM;
	XXH3_64bits_reset(h);
	while ((k = read(fd, buf, sizeof(buf))) > 0) {
		XXH3_64bits_update(h, buf, (size_t)k);
		n += (uint64_t)k;
	}
	uint64_t got = XXH3_64bits_digest(h);
	XXH3_freeState(h);
	if (k < 0)
		return pr_errno(-errno, "%s: cannot read %s", what, name);
	if (n != size || got != sum) {
		pr_err("%s: image %s is corrupt (%llu bytes, checksum %#llx; the dump wrote %llu, %#llx)", what,
		       name, (unsigned long long)n, (unsigned long long)got, (unsigned long long)size,
		       (unsigned long long)sum);
		return -EBADMSG;
	}
	return lseek(fd, 0, SEEK_SET) < 0 ? -errno : 0;
}

int mnt_tmpfs_load(int dfd, int dirfd, const char *name, const char *what, uint64_t size, uint64_t sum)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	struct archive *a = NULL, *ext = NULL;
	int r;

	if (fd < 0)
		return pr_errno(-errno, "%s: cannot open image %s", what, name);
	r = check_sum(fd, name, what, size, sum);
	if (r < 0)
		return r;
	if (fchdir(dfd) < 0)
		return pr_errno(-errno, "%s: cannot enter the new tmpfs", what);
	a = archive_read_new();
	ext = archive_write_disk_new();
	if (!a || !ext) {
		r = -ENOMEM;
		goto out;
	}
	archive_read_support_format_tar(a);
	archive_write_disk_set_options(ext, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
				       ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |
				       ARCHIVE_EXTRACT_FFLAGS | ARCHIVE_EXTRACT_SPARSE |
				       ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
				       ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
		r = la_err(a, what, name);
		goto out;
	}
	for (;;) {
		struct archive_entry *e;
		int k = archive_read_next_header(a, &e);
		if (k == ARCHIVE_EOF)
			break;
		if (k < ARCHIVE_WARN) {
			r = la_err(a, what, name);
			goto out;
		}
		if (archive_write_header(ext, e) < ARCHIVE_WARN) {
			r = la_err(ext, what, archive_entry_pathname(e));
			goto out;
		}
		if (archive_entry_size(e) > 0 && !archive_entry_hardlink(e)) {
			r = copy_data(a, ext, what);
			if (r < 0)
				goto out;
		}
		if (archive_write_finish_entry(ext) < ARCHIVE_WARN) {
			r = la_err(ext, what, archive_entry_pathname(e));
			goto out;
		}
	}
	if (archive_write_close(ext) != ARCHIVE_OK)
		r = la_err(ext, what, "setting directory times");
out:
	if (a)
		archive_read_free(a);
	if (ext)
		archive_write_free(ext);
	return r;
}
