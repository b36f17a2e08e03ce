/* SPDX-License-Identifier: MIT */
/*
 * Ghost files, restore side (see ghost.c for the whole story): crest
 * recreates each object once before it forks, at its original path, and
 * unlinks it again; the tasks reopen it through /proc/self/fd.  Also
 * `crest gc`, which removes a dump's remap links.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <xxhash.h>
#include "util/extents.h"
#include "ghost.h"
#include "ghost_priv.h"
#include "image/image.h"
#include "net/netlock.h"
#include "util/log.h"
#include "util/util.h"


struct ghost_restore {
	GhostObjs *img;
	int *fds;          /* crest's fd of each object (inherited by every task) */
};

static int nr_objs(const struct ghost_restore *s)
{
	return s && s->img ? (int)s->img->n_objs : 0;
}

bool ghost_restore_has(struct restore_ctx *c, uint32_t id)
{
	return id < (uint32_t)nr_objs(c->ghost);
}

int ghost_restore_kind(struct restore_ctx *c, uint32_t id)
{
	return ghost_restore_has(c, id) ? (int)c->ghost->img->objs[id]->kind : -1;
}

int ghost_fd(struct restore_ctx *c, uint32_t id)
{
	if (!ghost_restore_has(c, id) || c->ghost->fds[id] < 0)
		return -ENOENT;
	return c->ghost->fds[id];
}

int ghost_open(struct restore_ctx *c, struct restore_task *t, uint32_t id, int flags, const char *what)
{
	int obj = ghost_fd(c, id), fd;
	char path[64];

	if (obj < 0)
		return pr_errno(obj, "pid %d: %s: its ghost object %u is missing", t->pid, what, id);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", obj);
	/* through the magic link: O_NOFOLLOW would refuse it (ELOOP) */
	flags &= ~(O_CREAT | O_EXCL | O_TRUNC | O_NOFOLLOW);
	/* a file made with O_TMPFILE keeps O_DIRECTORY in its f_flags */
	if (c->ghost->img->objs[id]->kind != GHOST_KIND__GHOST_DIR)
		flags &= ~O_DIRECTORY;
	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return pr_errno(-errno, "pid %d: %s (%s (deleted)): cannot reopen the recreated %s (flags 0%o)",
				t->pid, what, c->ghost->img->objs[id]->path,
				ghost_kind_name(c->ghost->img->objs[id]->kind), flags);
	return fd;
}

/* A remap link must still be the dumped inode. */
static int remap_check(const GhostObj *g, int *out)
{
	_cleanup_close_ int fd = open_nofollow(AT_FDCWD, g->remap_path, O_PATH | O_NOFOLLOW);
	struct stat st;

	if (fd < 0)
		return pr_errno(-errno, "%s (%s): its remap link %s cannot be opened (removed by `crest gc`?)",
				ghost_kind_name(g->kind), g->path, g->remap_path);
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_dev != g->dev || st.st_ino != g->ino) {
		pr_err("%s (%s): its remap link %s leads to another file than the dumped one (inode %llu, "
		       "was %llu)", ghost_kind_name(g->kind), g->path, g->remap_path,
		       (unsigned long long)st.st_ino, (unsigned long long)g->ino);
		return -ESTALE;
	}
	if (out)
		*out = TAKE_FD(fd);
	return 0;
}

int ghost_load(struct restore_ctx *c)
{
	struct ghost_restore *s = xzalloc(sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	c->ghost = s;
	r = img_read(c->dirfd, "ghost.img", &ghost_objs__descriptor, (ProtobufCMessage **)&s->img, true);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	s->fds = fd_table_new(s->img->n_objs);
	if (!s->fds)
		return -ENOMEM;
	for (size_t i = 0; i < s->img->n_objs; i++) {
		GhostObj *g = s->img->objs[i];
		const char *b = g->path ? strrchr(g->path, '/') : NULL;
		if (g->id != i || (unsigned)g->kind > GHOST_KIND__GHOST_NAMED_FIFO || !b || !b[1] ||
		    !strcmp(b, "/.") || !strcmp(b, "/..") || g->path[0] != '/' || (g->n_extents & 1) ||
		    (g->kind == GHOST_KIND__GHOST_REMAP && (!g->remap_path || g->remap_path[0] != '/'))) {
			pr_err("image ghost.img is corrupt: object %zu is inconsistent", i);
			return -EBADMSG;
		}
		if (g->kind == GHOST_KIND__GHOST_REMAP) {
			r = remap_check(g, NULL);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int fill_data(struct restore_ctx *c, const GhostObj *g, int fd)
{
	char name[IMG_NAME_MAX];
	int r;

	snprintf(name, sizeof(name), "ghostdata-%u.img", g->id);
	if (ftruncate(fd, (off_t)g->size) < 0)
		return pr_errno(-errno, "deleted file %s: cannot size it to %llu bytes", g->path,
				(unsigned long long)g->size);
	r = extents_fill(c->dirfd, name, fd, g->extents, g->n_extents, g->has_checksum, g->checksum);
	if (r < 0 && r != -EBADMSG)
		pr_errno(r, "deleted file %s: writing its data from %s", g->path, name);
	return r;
}

static int fill_fifo(const GhostObj *g, int fd)
{
	int r;
	if (g->has_fifo_size && fcntl(fd, F_GETPIPE_SZ) != (int)g->fifo_size &&
	    fcntl(fd, F_SETPIPE_SZ, g->fifo_size) < 0)
		return pr_errno(-errno, "%s %s: cannot set its size to %u bytes (limit: "
				"/proc/sys/fs/pipe-max-size)", ghost_kind_name(g->kind), g->path, g->fifo_size);
	if (!g->has_fifo_data || !g->fifo_data.len)
		return 0;
	r = write_full(fd, g->fifo_data.data, g->fifo_data.len);
	if (r < 0)
		return pr_errno(r, "%s %s: refilling its %zu bytes", ghost_kind_name(g->kind), g->path,
				g->fifo_data.len);
	return 0;
}

/* A named FIFO: opened again at its path (read-write: never blocks, and
 * holds both ends while the tasks open theirs), checked, refilled. */
static int open_named_fifo(const GhostObj *g, int *out)
{
	_cleanup_close_ int fd = open_nofollow(AT_FDCWD, g->path, O_RDWR | O_NONBLOCK);
	struct stat st;
	int avail = 0, r;

	if (fd < 0)
		return pr_errno(-errno, "named FIFO %s: cannot open it again; restore needs it at the "
				"same path", g->path);
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISFIFO(st.st_mode) || st.st_dev != g->dev || st.st_ino != g->ino) {
		pr_err("named FIFO %s: the path leads to another file than at dump time (inode %llu, was "
		       "%llu); restore needs the same FIFO", g->path, (unsigned long long)st.st_ino,
		       (unsigned long long)g->ino);
		return -ESTALE;
	}
	if (ioctl(fd, FIONREAD, &avail) == 0 && avail > 0) {
		pr_err("named FIFO %s holds %d bytes already: another process has it open and wrote "
		       "them; restore would mix them with the dumped ones", g->path, avail);
		return -EBUSY;
	}
	r = fill_fifo(g, fd);
	if (r < 0)
		return r;
	pr_info("named FIFO %s opened again, %zu bytes refilled", g->path,
		g->has_fifo_data ? g->fifo_data.len : 0);
	*out = TAKE_FD(fd);
	return 0;
}

/* Content, xattrs, owner, mode, times (times last: the rest changes them). */
static int fill(struct restore_ctx *c, const GhostObj *g, int fd)
{
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };
	int r = 0;

	if (g->kind == GHOST_KIND__GHOST_REG)
		r = fill_data(c, g, fd);
	else if (g->kind == GHOST_KIND__GHOST_FIFO)
		r = fill_fifo(g, fd);
	if (r < 0)
		return r;
	for (size_t i = 0; i < g->n_xattrs; i++) {
		const GhostXattr *x = g->xattrs[i];
		if (fsetxattr(fd, x->name, x->value.data, x->value.len, 0) == 0)
			continue;
		if ((errno == ENOTSUP || errno == EPERM) && strncmp(x->name, "user.", 5) &&
		    strncmp(x->name, "trusted.", 8)) {
			pr_warn("%s %s: xattr %s not restored: %s", ghost_kind_name(g->kind), g->path, x->name,
				strerror(errno));
			continue;
		}
		return pr_errno(-errno, "%s %s: cannot restore its xattr %s", ghost_kind_name(g->kind), g->path,
				x->name);
	}
	if (fchown(fd, g->uid, g->gid) < 0)
		return pr_errno(-errno, "%s %s: cannot give it owner %u:%u", ghost_kind_name(g->kind), g->path,
				g->uid, g->gid);
	if (fchmod(fd, g->mode & 07777) < 0)
		return pr_errno(-errno, "%s %s: cannot set its mode %04o", ghost_kind_name(g->kind), g->path,
				g->mode & 07777);
	if (g->has_atime_ns) {
		ts[0].tv_sec = g->atime_ns / 1000000000LL;
		ts[0].tv_nsec = g->atime_ns % 1000000000LL;
	}
	if (g->has_mtime_ns) {
		ts[1].tv_sec = g->mtime_ns / 1000000000LL;
		ts[1].tv_nsec = g->mtime_ns % 1000000000LL;
	}
	if (futimens(fd, ts) < 0)
		return pr_errno(-errno, "%s %s: cannot set its times", ghost_kind_name(g->kind), g->path);
	return 0;
}

/* Directories made for the while because the original one is gone too. */
struct made_dirs {
	int parent[PATH_MAX / 2];
	char *name[PATH_MAX / 2];
	int n;
};

static void made_dirs_remove(struct made_dirs *m)
{
	while (m->n > 0) {
		m->n--;
		if (m->name[m->n] && unlinkat(m->parent[m->n], m->name[m->n], AT_REMOVEDIR) < 0)
			pr_warn("could not remove the directory %s crest made for a deleted file: %s",
				m->name[m->n], strerror(errno));
		close(m->parent[m->n]);
		free(m->name[m->n]);
	}
}

/* Open dir (no symlinks anywhere), making the missing components (0700). */
static int open_parent(const char *dir, struct made_dirs *m)
{
	_cleanup_free_ char *copy = xstrdup(dir);
	char *save = NULL, *comp;
	int cur, fd;

	if (!copy)
		return -ENOMEM;
	fd = open_nofollow(AT_FDCWD, dir, O_PATH | O_DIRECTORY);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : -errno;
	cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return -errno;
	for (comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && (size_t)m->n < ARRAY_SIZE(m->name)) {
			if (mkdirat(cur, comp, 0700) < 0) {
				int e = -errno;
				close(cur);
				return e;
			}
			m->parent[m->n] = cur;
			m->name[m->n] = xstrdup(comp);
			m->n++;
			fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			cur = -1;   /* kept in m */
		}
		if (fd < 0) {
			int e = -errno;
			if (cur >= 0)
				close(cur);
			return e;
		}
		if (cur >= 0)
			close(cur);
		cur = fd;
	}
	return cur;
}

/* Create the object under tmp in dfd (empty, private to root); an fd of
 * it, or -1 with errno and nothing left under tmp. */
static int make_obj(const GhostObj *g, int dfd, const char *tmp, int remap_fd)
{
	char self[64];
	int fd, e;

	switch (g->kind) {
	case GHOST_KIND__GHOST_REG:
		return openat(dfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	case GHOST_KIND__GHOST_DIR:
		if (mkdirat(dfd, tmp, 0700) < 0)
			return -1;
		fd = openat(dfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		break;
	case GHOST_KIND__GHOST_FIFO:
		if (mkfifoat(dfd, tmp, 0600) < 0)
			return -1;
		fd = openat(dfd, tmp, O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
		break;
	case GHOST_KIND__GHOST_REMAP:
		snprintf(self, sizeof(self), "/proc/self/fd/%d", remap_fd);
		if (linkat(AT_FDCWD, self, dfd, tmp, AT_SYMLINK_FOLLOW) < 0)
			return -1;
		fd = openat(dfd, tmp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	if (fd < 0) {
		e = errno;
		unlinkat(dfd, tmp, g->kind == GHOST_KIND__GHOST_DIR ? AT_REMOVEDIR : 0);
		errno = e;
	}
	return fd;
}

static bool same_file(int dfd, const char *name, int fd)
{
	struct stat a, b;
	return fstatat(dfd, name, &a, AT_SYMLINK_NOFOLLOW) == 0 && fstat(fd, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Our object is at tmp: give it the name base and unlink it, so that its
 * dentry is "base (deleted)".  If another file holds base, swap the two
 * and put the other back over ours: it stays as it was, under its name. */
static int place_and_unlink(const GhostObj *g, int dfd, const char *tmp, const char *base, int fd)
{
	bool dir = g->kind == GHOST_KIND__GHOST_DIR;
	int uflags = dir ? AT_REMOVEDIR : 0;
	struct stat other;

	if (renameat2(dfd, tmp, dfd, base, RENAME_NOREPLACE) == 0) {
		if (same_file(dfd, base, fd) && unlinkat(dfd, base, uflags) == 0)
			return 0;
		int e = errno ? -errno : -ESTALE;
		if (same_file(dfd, base, fd) && renameat2(dfd, base, dfd, tmp, RENAME_NOREPLACE) == 0)
			unlinkat(dfd, tmp, uflags);
		return pr_errno(e, "%s %s: cannot unlink it after recreating it", ghost_kind_name(g->kind), g->path);
	}
	if (errno != EEXIST)
		return pr_errno(-errno, "%s %s: cannot give it its name back", ghost_kind_name(g->kind), g->path);
	/* the name is taken: swap, then the other file goes back to its name */
	if (renameat2(dfd, tmp, dfd, base, RENAME_EXCHANGE) < 0)
		return pr_errno(-errno, "%s %s: the name is taken by another file and cannot be swapped "
				"with it (renameat2 RENAME_EXCHANGE)", ghost_kind_name(g->kind), g->path);
	if (fstatat(dfd, tmp, &other, AT_SYMLINK_NOFOLLOW) == 0 && dir == !!S_ISDIR(other.st_mode)) {
		/* one atomic step: the other file replaces our (empty) object */
		if (renameat(dfd, tmp, dfd, base) == 0)
			return 0;
	} else if (same_file(dfd, base, fd) && unlinkat(dfd, base, uflags) == 0) {
		if (renameat2(dfd, tmp, dfd, base, RENAME_NOREPLACE) == 0)
			return 0;
		pr_err("%s %s: could not put the other file back at its name: it is at %s in the same "
		       "directory: %s", ghost_kind_name(g->kind), g->path, tmp, strerror(errno));
		return -EIO;
	}
	int e = -errno;
	/* undo: the other file back, ours removed */
	if (renameat2(dfd, tmp, dfd, base, RENAME_EXCHANGE) < 0)
		pr_err("%s %s: could not put the other file back at its name: it is at %s in the same "
		       "directory: %s", ghost_kind_name(g->kind), g->path, tmp, strerror(errno));
	else
		unlinkat(dfd, tmp, uflags);
	return pr_errno(e, "%s %s: cannot put the other file back over the recreated one",
			ghost_kind_name(g->kind), g->path);
}

/* Recreate one object at its original path, nameless in the end. */
static int materialize(struct restore_ctx *c, const GhostObj *g, int *out)
{
	struct made_dirs *m = xzalloc(sizeof(*m));
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int dfd = -1, fd = -1, remap_fd = -1;
	const char *base = strrchr(g->path, '/') + 1;
	char tmp[96];
	int r;

	if (!m)
		return -ENOMEM;
	if (g->kind == GHOST_KIND__GHOST_NAMED_FIFO) {
		free(m);
		return open_named_fifo(g, out);
	}
	dir = strndup(g->path, (size_t)(base - g->path));
	if (!dir) {
		free(m);
		return -ENOMEM;
	}
	if (g->kind == GHOST_KIND__GHOST_REMAP) {
		r = remap_check(g, &remap_fd);
		if (r < 0)
			goto out;
	}
	dfd = open_parent(dir, m);
	if (dfd < 0) {
		r = pr_errno(dfd, "%s %s: cannot open or make its directory %s", ghost_kind_name(g->kind), g->path,
			     dir);
		goto out;
	}
	for (int i = 0;; i++) {
		uint32_t rnd = 0;
		if (getrandom(&rnd, sizeof(rnd), 0) < 0)
			rnd = (uint32_t)now_ns();
		snprintf(tmp, sizeof(tmp), ".crest-ghost.%d.%u.%08x", getpid(), g->id, rnd);
		fd = make_obj(g, dfd, tmp, remap_fd);
		if (fd >= 0 || errno != EEXIST || i > 16)
			break;
	}
	if (fd < 0 && g->kind == GHOST_KIND__GHOST_REMAP && errno == EXDEV) {
		/* the original directory is on another mount now: use the link */
		pr_warn("%s %s: its directory is on another mount than the remap link: restored through "
			"%s, which /proc will show", ghost_kind_name(g->kind), g->path, g->remap_path);
		*out = TAKE_FD(remap_fd);
		r = 0;
		goto out;
	}
	if (fd < 0) {
		r = pr_errno(-errno, "%s %s: cannot recreate it in %s", ghost_kind_name(g->kind), g->path, dir);
		goto out;
	}
	r = place_and_unlink(g, dfd, tmp, base, fd);
	if (r < 0)
		goto out;
	/* filled once nameless: while it had a name it was an empty object
	 * private to root, and nothing can be added to a removed directory */
	if (g->kind != GHOST_KIND__GHOST_REMAP) {
		r = fill(c, g, fd);
		if (r < 0)
			goto out;
	}
	*out = TAKE_FD(fd);
	pr_info("%s %s recreated (%s)", ghost_kind_name(g->kind), g->path,
		g->kind == GHOST_KIND__GHOST_REMAP ? g->remap_path : "from the image");
out:
	made_dirs_remove(m);
	free(m);
	return r;
}

int ghost_create(struct restore_ctx *c, int floor)
{
	struct ghost_restore *s = c->ghost;

	for (int i = 0; i < nr_objs(s); i++) {
		int fd = -1, r;
		r = materialize(c, s->img->objs[i], &fd);
		if (r < 0)
			return r;
		if (s->img->objs[i]->kind == GHOST_KIND__GHOST_REG) {
			/* keep no write access: PR_SET_MM_MAP refuses an executable
			 * open for writing (a deleted exe is a ghost too) */
			char self[64];
			int p;
			snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
			p = open(self, O_PATH | O_CLOEXEC);
			r = -errno;
			close(fd);
			if (p < 0)
				return pr_errno(r, "deleted file %s: reopening it O_PATH", s->img->objs[i]->path);
			fd = p;
		}
		s->fds[i] = fcntl(fd, F_DUPFD_CLOEXEC, floor);
		r = -errno;
		close(fd);
		if (s->fds[i] < 0)
			return pr_errno(r, "moving ghost %d above fd %d", i, floor);
	}
	return 0;
}

void ghost_free(struct restore_ctx *c)
{
	struct ghost_restore *s = c->ghost;
	if (!s)
		return;
	fd_table_free(s->fds, (size_t)nr_objs(s));
	if (s->img)
		protobuf_c_message_free_unpacked(&s->img->base, NULL);
	free(s);
	c->ghost = NULL;
}

/* ------------------------------------------------------------------- gc */

/* crest gc -D DIR: remove the remap links of a dump (the image can no
 * longer be restored if it has any). */
int track_gc(int dirfd, const char *dir);   /* mm/track.c */

/* The remap directories noted in REMAP_JOURNAL (a dump killed before it
 * wrote ghost.img, or what the links of ghost.img leave): every link in
 * them goes, then they and an empty .crest-remap. */
static int gc_journal(int imgfd, const char *dir)
{
	_cleanup_close_ int jfd = openat(imgfd, REMAP_JOURNAL, O_RDONLY | O_CLOEXEC);
	char buf[8192], *line, *save = NULL;
	ssize_t len;
	int ret = 0;

	if (jfd < 0)
		return errno == ENOENT ? 0 : pr_errno(-errno, "%s: cannot read %s", dir, REMAP_JOURNAL);
	len = read(jfd, buf, sizeof(buf) - 1);
	if (len < 0)
		return pr_errno(-errno, "%s: cannot read %s", dir, REMAP_JOURNAL);
	buf[len] = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		_cleanup_close_ int dfd = -1;
		const char *last = strrchr(line, '/');
		struct dirent *de;
		struct stat st;
		DIR *d;
		int n = 0;

		if (!last || last - line < (long)strlen("/" REMAP_DIR) ||
		    strncmp(last - strlen("/" REMAP_DIR), "/" REMAP_DIR, strlen("/" REMAP_DIR))) {
			pr_err("%s: %s names %s, not a crest remap directory: left alone", dir, REMAP_JOURNAL, line);
			ret = -EBADMSG;
			continue;
		}
		dfd = open_nofollow(AT_FDCWD, line, O_RDONLY | O_DIRECTORY);
		if (dfd < 0)
			continue;   /* already gone */
		if (fstat(dfd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 077)) {
			pr_err("remap directory %s is not crest's own (0700): left alone", line);
			ret = -EPERM;
			continue;
		}
		d = fdopendir(dfd);
		if (!d)
			continue;
		dfd = -1;
		while ((de = readdir(d)))
			if (de->d_name[0] != '.' && unlinkat(dirfd(d), de->d_name, 0) == 0)
				n++;
		closedir(d);
		if (rmdir(line) == 0) {
			_cleanup_free_ char *parent = strndup(line, (size_t)(last - line));
			if (parent)
				rmdir(parent);   /* .crest-remap, when empty */
			pr_info("remap directory %s removed (%d link%s left by a dump that did not finish)", line,
				n, n == 1 ? "" : "s");
		}
	}
	if (ret == 0)
		unlinkat(imgfd, REMAP_JOURNAL, 0);
	return ret;
}

int crest_gc(const struct crest_opts *o)
{
	GhostObjs *img = NULL;
	int dirfd, r, n = 0, ret = 0;

	log_begin(o, -1, NULL);
	dirfd = open_images_dir(o->images_dir, false);
	if (dirfd < 0) {
		log_end();
		return dirfd;
	}
	/* a pre-dump's memory tracking, if it still runs (mm/track.c) */
	r = track_gc(dirfd, o->images_dir);
	if (r == 0)
		r = netlock_release(dirfd, "crest gc");   /* net/netlock.c */
	if (r < 0)
		goto out;
	r = img_read(dirfd, "ghost.img", &ghost_objs__descriptor, (ProtobufCMessage **)&img, true);
	if (r == -ENOENT) {
		r = gc_journal(dirfd, o->images_dir);
		if (r == 0)
			pr_info("%s: no ghost files, no remap links", o->images_dir);
		goto out;
	}
	if (r < 0)
		goto out;
	for (size_t i = 0; i < img->n_objs; i++) {
		GhostObj *g = img->objs[i];
		_cleanup_close_ int dfd = -1;
		const char *base;
		if (g->kind != GHOST_KIND__GHOST_REMAP || !g->remap_path || !g->remap_dir)
			continue;
		base = strrchr(g->remap_path, '/');
		if (!base || strncmp(g->remap_path, g->remap_dir, strlen(g->remap_dir)) ||
		    base != g->remap_path + strlen(g->remap_dir) || !strstr(g->remap_dir, "/" REMAP_DIR "/")) {
			pr_err("image ghost.img: remap link %s is not in a crest remap directory: left alone",
			       g->remap_path);
			ret = -EBADMSG;
			continue;
		}
		dfd = open_nofollow(AT_FDCWD, g->remap_dir, O_PATH | O_DIRECTORY);
		if (dfd < 0) {
			pr_info("remap directory %s is already gone", g->remap_dir);
			continue;
		}
		struct stat st;
		if (fstatat(dfd, base + 1, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (st.st_dev != g->dev || st.st_ino != g->ino) {
				pr_err("remap link %s is not the dumped file any more: left alone", g->remap_path);
				ret = -ESTALE;
				continue;
			}
			if (unlinkat(dfd, base + 1, 0) < 0) {
				ret = pr_errno(-errno, "cannot remove the remap link %s", g->remap_path);
				continue;
			}
			n++;
		}
		if (unlinkat(AT_FDCWD, g->remap_dir, AT_REMOVEDIR) == 0) {
			_cleanup_free_ char *parent = strndup(g->remap_dir, (size_t)(strrchr(g->remap_dir, '/') -
									    g->remap_dir));
			if (parent)
				rmdir(parent);   /* .crest-remap, when empty */
		}
	}
	pr_info("%s: %d remap link%s removed", o->images_dir, n, n == 1 ? "" : "s");
	r = gc_journal(dirfd, o->images_dir);
	if (ret < 0)
		r = ret;
out:
	if (img)
		protobuf_c_message_free_unpacked(&img->base, NULL);
	close(dirfd);
	log_end();
	return r;
}
