/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <xxhash.h>
#include "image.h"
#include "log.h"
#include "shmem.h"
#include "shmem.pb-c.h"
#include "util.h"

struct shmem_dump {
	ShmemObj **objs;
	size_t nr;
};

struct shmem_restore {
	ShmemObjs *img;
};

static int dump_data(struct dump_ctx *c, struct dump_task *t, int fd, ShmemObj *o)
{
	_cleanup_close_ int out = -1;
	_cleanup_free_ char *buf = malloc(1 << 20);
	char name[IMG_NAME_MAX];
	XXH3_state_t *xs = XXH3_createState();
	off_t pos = 0;
	int r = 0;

	snprintf(name, sizeof(name), "shmdata-%d-%u.img", t->pid, o->id);
	out = openat(c->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0 || !buf || !xs) {
		XXH3_freeState(xs);
		return pr_errno(out < 0 ? -errno : -ENOMEM, "image %s: cannot create", name);
	}
	XXH3_64bits_reset(xs);
	while (pos < (off_t)o->size) {
		off_t ds = lseek(fd, pos, SEEK_DATA), de;
		if (ds < 0)
			break;   /* ENXIO: no more data */
		de = lseek(fd, ds, SEEK_HOLE);
		if (de < 0 || de > (off_t)o->size)
			de = o->size;
		uint64_t *ne = realloc(o->extents, (o->n_extents + 2) * sizeof(*ne));
		if (!ne) {
			r = -ENOMEM;
			break;
		}
		o->extents = ne;
		o->extents[o->n_extents++] = ds;
		o->extents[o->n_extents++] = de - ds;
		for (off_t p = ds; p < de && r == 0;) {
			size_t n = MIN((off_t)(1 << 20), de - p);
			r = pread_full(fd, buf, n, p);
			if (r == 0)
				r = write_full(out, buf, n);
			XXH3_64bits_update(xs, buf, n);
			p += n;
		}
		if (r < 0)
			break;
		pos = de;
	}
	o->has_checksum = true;
	o->checksum = XXH3_64bits_digest(xs);
	XXH3_freeState(xs);
	if (r < 0)
		return pr_errno(r, "pid %d: dumping shared memory object %u", t->pid, o->id);
	return 0;
}

int shmem_dump_add(struct dump_ctx *c, struct dump_task *t, int fd, const char *name, uint64_t ino,
		   uint32_t *id)
{
	struct shmem_dump *d = t->shmem;
	ShmemObj *o, **no;
	struct stat st;
	int seals;

	if (!d) {
		d = t->shmem = xzalloc(sizeof(*d));
		if (!d)
			return -ENOMEM;
	}
	for (size_t i = 0; i < d->nr; i++)
		if (d->objs[i]->ino == ino) {
			*id = d->objs[i]->id;
			return 0;
		}
	if (fstat(fd, &st) < 0)
		return pr_errno(-errno, "pid %d: shared memory object (inode %llu): fstat", t->pid,
				(unsigned long long)ino);
	o = xzalloc(sizeof(*o));
	no = realloc(d->objs, (d->nr + 1) * sizeof(*no));
	if (!o || !no) {
		free(o);
		return -ENOMEM;
	}
	d->objs = no;
	d->objs[d->nr++] = o;
	shmem_obj__init(o);
	o->id = d->nr - 1;
	o->ino = ino;
	o->size = st.st_size;
	o->has_mode = true;
	o->mode = st.st_mode & 07777;
	if (name) {
		size_t l = strlen(name);
		o->name = xstrdup(name);
		if (!o->name)
			return -ENOMEM;
		if (l > 10 && !strcmp(name + l - 10, " (deleted)"))
			o->name[l - 10] = 0;
		seals = fcntl(fd, F_GET_SEALS);
		if (seals > 0) {
			o->has_seals = true;
			o->seals = seals;
		}
	}
	*id = o->id;
	return dump_data(c, t, fd, o);
}

int shmem_dump_write(struct dump_ctx *c, struct dump_task *t)
{
	struct shmem_dump *d = t->shmem;
	ShmemObjs img = SHMEM_OBJS__INIT;
	char name[IMG_NAME_MAX];

	if (!d || !d->nr)
		return 0;
	img.objs = d->objs;
	img.n_objs = d->nr;
	snprintf(name, sizeof(name), "shmem-%d.img", t->pid);
	return img_write(c->dirfd, name, &img.base);
}

void shmem_dump_free(struct dump_task *t)
{
	struct shmem_dump *d = t->shmem;
	if (!d)
		return;
	for (size_t i = 0; i < d->nr; i++) {
		free(d->objs[i]->name);
		free(d->objs[i]->extents);
		free(d->objs[i]);
	}
	free(d->objs);
	free(d);
	t->shmem = NULL;
}

int shmem_load(struct restore_ctx *c, struct restore_task *t)
{
	struct shmem_restore *s = xzalloc(sizeof(*s));
	char name[IMG_NAME_MAX];
	int r;

	if (!s)
		return -ENOMEM;
	t->shmem = s;
	snprintf(name, sizeof(name), "shmem-%d.img", t->pid);
	r = img_read(c->dirfd, name, &shmem_objs__descriptor, (ProtobufCMessage **)&s->img, true);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->img->n_objs; i++)
		if (s->img->objs[i]->id != i) {
			pr_err("image %s is corrupt: object %zu has id %u", name, i, s->img->objs[i]->id);
			return -EBADMSG;
		}
	return 0;
}

int shmem_nr_tmp(struct restore_task *t)
{
	struct shmem_restore *s = t->shmem;
	return s && s->img ? (int)s->img->n_objs : 0;
}

bool shmem_restore_has(struct restore_task *t, uint32_t id)
{
	return id < (uint32_t)shmem_nr_tmp(t);
}

int shmem_restore_fd(struct restore_task *t, uint32_t id)
{
	if (!shmem_restore_has(t, id))
		return -ENOENT;
	return t->tmp_fd_base + (int)id;
}

static int fill(struct restore_ctx *c, struct restore_task *t, ShmemObj *o, int fd)
{
	char name[IMG_NAME_MAX];
	_cleanup_close_ int in = -1;
	_cleanup_free_ char *buf = malloc(1 << 20);
	XXH3_state_t *xs = XXH3_createState();
	int r = 0;

	snprintf(name, sizeof(name), "shmdata-%d-%u.img", t->pid, o->id);
	in = openat(c->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (in < 0 || !buf || !xs) {
		XXH3_freeState(xs);
		return pr_errno(in < 0 ? -errno : -ENOMEM, "image %s: cannot open", name);
	}
	XXH3_64bits_reset(xs);
	for (size_t i = 0; i + 1 < o->n_extents && r == 0; i += 2) {
		uint64_t off = o->extents[i], len = o->extents[i + 1];
		while (len && r == 0) {
			size_t n = MIN(len, (uint64_t)(1 << 20));
			r = read_full(in, buf, n);
			if (r == -EIO) {
				pr_err("image %s is truncated", name);
				r = -EBADMSG;
				break;
			}
			if (r == 0)
				r = pwrite_full(fd, buf, n, off);
			XXH3_64bits_update(xs, buf, n);
			off += n;
			len -= n;
		}
	}
	if (r == 0 && o->has_checksum && XXH3_64bits_digest(xs) != o->checksum) {
		pr_err("image %s is corrupt: checksum mismatch", name);
		r = -EBADMSG;
	} else if (r < 0 && r != -EBADMSG) {
		pr_errno(r, "pid %d: filling shared memory object %u from %s", t->pid, o->id, name);
	}
	XXH3_freeState(xs);
	return r;
}

int shmem_prepare(struct restore_ctx *c, struct restore_task *t)
{
	struct shmem_restore *s = t->shmem;

	for (int i = 0; i < shmem_nr_tmp(t); i++) {
		ShmemObj *o = s->img->objs[i];
		int fd = memfd_create(o->name ? o->name : "crest-shmem",
				      MFD_CLOEXEC | (o->has_seals ? MFD_ALLOW_SEALING : 0)), r;
		if (fd < 0)
			return pr_errno(-errno, "pid %d: memfd_create for shared memory object %u", t->pid, i);
		if (ftruncate(fd, o->size) < 0) {
			r = pr_errno(-errno, "pid %d: sizing shared memory object %u", t->pid, i);
			close(fd);
			return r;
		}
		r = fill(c, t, o, fd);
		if (r == 0 && o->has_mode && fchmod(fd, o->mode) < 0)
			r = pr_errno(-errno, "pid %d: chmod of shared memory object %u", t->pid, i);
		if (r == 0 && fd != t->tmp_fd_base + i && dup2(fd, t->tmp_fd_base + i) < 0)
			r = pr_errno(-errno, "pid %d: dup2 of shared memory object %u", t->pid, i);
		if (fd != t->tmp_fd_base + i)
			close(fd);
		if (r < 0)
			return r;
	}
	return 0;
}

void shmem_free(struct restore_task *t)
{
	struct shmem_restore *s = t->shmem;
	if (!s)
		return;
	if (s->img)
		protobuf_c_message_free_unpacked(&s->img->base, NULL);
	free(s);
	t->shmem = NULL;
}

int shmem_inject_seals(struct restore_task *t)
{
	struct shmem_restore *s = t->shmem;
	long ret;
	int r;

	for (int i = 0; i < shmem_nr_tmp(t); i++) {
		ShmemObj *o = s->img->objs[i];
		if (!o->has_seals || !o->seals)
			continue;
		r = INJECT(&t->t, &ret, __NR_fcntl, t->tmp_fd_base + i, F_ADD_SEALS, o->seals);
		if (r < 0)
			return r;
		if (ret < 0)
			return pr_errno((int)ret, "pid %d: sealing memfd %s (seals %#x)", t->pid,
					o->name ? o->name : "?", o->seals);
	}
	return 0;
}
