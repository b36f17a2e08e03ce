/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <xxhash.h>
#include "util/extents.h"
#include "image/image.h"
#include "util/log.h"
#include "shmem.h"
#include "shmem.pb-c.h"
#include "util/util.h"

struct shmem_dump {
	ShmemObj **objs;
	size_t nr;
};

struct shmem_restore {
	ShmemObjs *img;
	int *fds;          /* crest's fd of each object (inherited by every task) */
};

static int dump_data(struct dump_ctx *c, struct dump_task *t, int fd, ShmemObj *o)
{
	char name[IMG_NAME_MAX];
	uint64_t data;
	int r;

	snprintf(name, sizeof(name), "shmdata-%u.img", o->id);
	r = extents_scan(fd, o->size, &o->extents, &o->n_extents, &data);
	if (r == 0)
		r = extents_save(c->dirfd, name, fd, o->extents, o->n_extents, &o->checksum);
	o->has_checksum = true;
	if (r < 0)
		return pr_errno(r, "pid %d: dumping shared memory object %u into %s", t->pid, o->id, name);
	return 0;
}

int shmem_dump_add(struct dump_ctx *c, struct dump_task *t, int fd, const char *name, uint64_t ino,
		   uint32_t *id)
{
	struct shmem_dump *d = c->shmem;
	ShmemObj *o, **no;
	struct stat st;
	int seals;

	if (!d) {
		d = c->shmem = xzalloc(sizeof(*d));
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
	if (no)
		d->objs = no;   /* (realloc may have moved it even if the other failed) */
	if (!o || !no) {
		free(o);
		return -ENOMEM;
	}
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

int shmem_dump_write(struct dump_ctx *c)
{
	struct shmem_dump *d = c->shmem;
	ShmemObjs img = SHMEM_OBJS__INIT;

	if (!d || !d->nr)
		return 0;
	img.objs = d->objs;
	img.n_objs = d->nr;
	return img_write(c->dirfd, "shmem.img", &img.base);
}

void shmem_dump_free(struct dump_ctx *c)
{
	struct shmem_dump *d = c->shmem;
	if (!d)
		return;
	for (size_t i = 0; i < d->nr; i++) {
		free(d->objs[i]->name);
		free(d->objs[i]->extents);
		free(d->objs[i]);
	}
	free(d->objs);
	free(d);
	c->shmem = NULL;
}

int shmem_load(struct restore_ctx *c)
{
	struct shmem_restore *s = xzalloc(sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	c->shmem = s;
	r = img_read(c->dirfd, "shmem.img", &shmem_objs__descriptor, (ProtobufCMessage **)&s->img, true);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	s->fds = fd_table_new(s->img->n_objs);
	if (!s->fds)
		return -ENOMEM;
	for (size_t i = 0; i < s->img->n_objs; i++) {
		if (s->img->objs[i]->id != i) {
			pr_err("image shmem.img is corrupt: object %zu has id %u", i, s->img->objs[i]->id);
			return -EBADMSG;
		}
	}
	return 0;
}

static int nr_objs(const struct shmem_restore *s)
{
	return s && s->img ? (int)s->img->n_objs : 0;
}

bool shmem_restore_has(struct restore_task *t, uint32_t id)
{
	return id < (uint32_t)nr_objs(t->shmem);
}

int shmem_restore_fd(struct restore_task *t, uint32_t id)
{
	if (!shmem_restore_has(t, id) || t->shmem->fds[id] < 0)
		return -ENOENT;
	return t->shmem->fds[id];
}

static int fill(struct restore_ctx *c, ShmemObj *o, int fd)
{
	char name[IMG_NAME_MAX];
	int r;

	snprintf(name, sizeof(name), "shmdata-%u.img", o->id);
	r = extents_fill(c->dirfd, name, fd, o->extents, o->n_extents, o->has_checksum, o->checksum);
	if (r < 0 && r != -EBADMSG)
		pr_errno(r, "filling shared memory object %u from %s", o->id, name);
	return r;
}

int shmem_create(struct restore_ctx *c, int floor)
{
	struct shmem_restore *s = c->shmem;

	for (int i = 0; i < nr_objs(s); i++) {
		ShmemObj *o = s->img->objs[i];
		int fd = memfd_create(o->name ? o->name : "crest-shmem",
				      MFD_CLOEXEC | (o->has_seals ? MFD_ALLOW_SEALING : 0)), r;
		if (fd < 0)
			return pr_errno(-errno, "memfd_create for shared memory object %d", i);
		if (ftruncate(fd, o->size) < 0) {
			r = pr_errno(-errno, "sizing shared memory object %d (%llu bytes)", i,
				     (unsigned long long)o->size);
			close(fd);
			return r;
		}
		r = fill(c, o, fd);
		if (r == 0 && o->has_mode && fchmod(fd, o->mode) < 0)
			r = pr_errno(-errno, "chmod of shared memory object %d", i);
		if (r == 0) {
			s->fds[i] = fcntl(fd, F_DUPFD_CLOEXEC, floor);
			if (s->fds[i] < 0)
				r = pr_errno(-errno, "moving shared memory object %d above fd %d", i, floor);
		}
		close(fd);
		if (r < 0)
			return r;
	}
	return 0;
}

int shmem_seal(struct restore_ctx *c)
{
	struct shmem_restore *s = c->shmem;

	for (int i = 0; i < nr_objs(s); i++) {
		ShmemObj *o = s->img->objs[i];
		if (!o->has_seals || !o->seals)
			continue;
		if (fcntl(s->fds[i], F_ADD_SEALS, o->seals) < 0)
			return pr_errno(-errno, "sealing memfd %s (seals %#x)", o->name ? o->name : "?",
					o->seals);
	}
	return 0;
}

void shmem_free(struct restore_ctx *c)
{
	struct shmem_restore *s = c->shmem;
	if (!s)
		return;
	fd_table_free(s->fds, (size_t)nr_objs(s));
	if (s->img)
		protobuf_c_message_free_unpacked(&s->img->base, NULL);
	free(s);
	c->shmem = NULL;
}
