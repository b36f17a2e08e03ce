/* SPDX-License-Identifier: MIT */
/*
 * Ghost files (ghost.img, schema images/ghost.proto): files a task reaches
 * through an fd, a mapping or its cwd whose name is gone.
 *
 * Dump.  The fd, mm and misc modules find a file whose /proc name ends in
 * " (deleted)" and hand it here with the /proc magic link that reaches it.
 * Each inode (dev/ino) is kept once for the whole tree:
 *   - nlink 0, regular file: its data extents (SEEK_DATA/SEEK_HOLE, holes
 *     cost nothing) go to ghostdata-<id>.img, with mode, owner, times and
 *     xattrs; more data than --ghost-limit fails the dump;
 *   - nlink 0, directory (removed, so empty): mode, owner, times, xattrs;
 *   - nlink 0, FIFO: its buffered bytes, copied with tee(2), not consumed;
 *   - nlink > 0 (renamed over: the name leads elsewhere, the inode lives on
 *     under another name crest cannot know): with --link-remap a hard link
 *     to the inode is made through /proc (no search of the file system) in
 *     <mount root>/.crest-remap/<dump id>/, a root-owned 0700 directory on
 *     the file's own mount; without it the dump fails and names the option.
 *     The links are removed if the dump fails, kept for the image's life
 *     otherwise; `crest gc -D DIR` removes them.
 *
 * Restore.  crest recreates every object once, before it forks, so that
 * every task inherits the same inode: under a temporary name in the
 * original directory (missing directories are made for the while and
 * removed again), filled, then moved to the original name -- when another
 * file took that name, the two are swapped (renameat2 RENAME_EXCHANGE) and
 * the other put back over ours -- and unlinked.  /proc then shows exactly
 * "/original/path (deleted)", the other file is left as it was, nothing
 * stays behind once the last fd closes (a failed restore leaves nothing),
 * and the image is never consumed: a second restore works the same.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>
#include <xxhash.h>
#include "util/extents.h"
#include "ghost.h"
#include "ghost.pb-c.h"
#include "ghost_priv.h"
#include "image/image.h"
#include "util/log.h"
#include "util/util.h"

#define DEL_SUFFIX " (deleted)"
#define DEL_LEN (sizeof(DEL_SUFFIX) - 1)

bool ghost_link_deleted(const char *link)
{
	size_t l = link ? strlen(link) : 0;
	return l > DEL_LEN && link[0] == '/' && !strcmp(link + l - DEL_LEN, DEL_SUFFIX);
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static void fmt_size(char *buf, size_t n, uint64_t v)
{
	if (v >= (1ULL << 30))
		snprintf(buf, n, "%.1f GiB", v / (double)(1ULL << 30));
	else if (v >= (1ULL << 20))
		snprintf(buf, n, "%.1f MiB", v / (double)(1ULL << 20));
	else
		snprintf(buf, n, "%.1f KiB", v / 1024.0);
}

bool ghost_needed(const char *link, const struct stat *st)
{
	struct stat pst;

	if (!ghost_link_deleted(link) || !strncmp(link, "/memfd:", 7))
		return false;
	/* a file really named "x (deleted)" is reachable: not a ghost */
	return st->st_nlink == 0 || lstat(link, &pst) < 0 || pst.st_dev != st->st_dev ||
	       pst.st_ino != st->st_ino;
}

/* ------------------------------------------------------------------ dump */

struct remap_dir {
	uint64_t mnt_id;
	int mnt_fd;        /* the mount's root */
	int base_fd;       /* <root>/.crest-remap */
	int dir_fd;        /* <root>/.crest-remap/<dump id> */
	char *name;        /* <dump id> */
	char *path;        /* absolute path of dir_fd, as crest sees it */
};

struct ghost_dump {
	GhostObj **objs;
	size_t nr;
	struct remap_dir *dirs;
	size_t nr_dirs;
	uint64_t limit;
	int img_dirfd;               /* the image directory (REMAP_JOURNAL) */
};

static struct ghost_dump *dump_state(struct dump_ctx *c)
{
	if (!c->ghost) {
		c->ghost = xzalloc(sizeof(*c->ghost));
		if (c->ghost) {
			c->ghost->limit = c->o->ghost_limit ? c->o->ghost_limit : GHOST_LIMIT_DEFAULT;
			c->ghost->img_dirfd = c->dirfd;
		}
	}
	return c->ghost;
}

static int save_xattrs(pid_t pid, const char *what, const char *link, int fd, GhostObj *g)
{
	_cleanup_free_ char *names = NULL;
	ssize_t n = flistxattr(fd, NULL, 0);

	if (n < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP))
		return 0;
	if (n <= 0)
		return n < 0 ? pr_errno(-errno, "pid %d: %s (%s): listing its xattrs", pid, what, link) : 0;
	names = malloc((size_t)n);
	if (!names)
		return -ENOMEM;
	n = flistxattr(fd, names, (size_t)n);
	if (n < 0)
		return pr_errno(-errno, "pid %d: %s (%s): listing its xattrs", pid, what, link);
	for (char *p = names; p < names + n; p += strlen(p) + 1) {
		ssize_t vl = fgetxattr(fd, p, NULL, 0);
		GhostXattr *x, **nx;
		if (vl < 0)
			return pr_errno(-errno, "pid %d: %s (%s): reading xattr %s", pid, what, link, p);
		x = xzalloc(sizeof(*x));
		nx = realloc(g->xattrs, (g->n_xattrs + 1) * sizeof(*nx));
		if (nx)
			g->xattrs = nx;   /* (realloc may have moved it even if the other failed) */
		if (!x || !nx) {
			free(x);
			return -ENOMEM;
		}
		ghost_xattr__init(x);
		g->xattrs[g->n_xattrs++] = x;
		x->name = xstrdup(p);
		x->value.data = malloc(vl ? (size_t)vl : 1);
		if (!x->name || !x->value.data)
			return -ENOMEM;
		vl = fgetxattr(fd, p, x->value.data, (size_t)vl);
		if (vl < 0)
			return pr_errno(-errno, "pid %d: %s (%s): reading xattr %s", pid, what, link, p);
		x->value.len = (size_t)vl;
	}
	return 0;
}

static int save_data(struct dump_ctx *c, pid_t pid, const char *what, const char *link, int fd,
		     GhostObj *g)
{
	char name[IMG_NAME_MAX];
	int r;

	snprintf(name, sizeof(name), "ghostdata-%u.img", g->id);
	r = extents_save(c->dirfd, name, fd, g->extents, g->n_extents, &g->checksum);
	g->has_checksum = true;
	if (r < 0)
		return pr_errno(r, "pid %d: %s (%s): copying its data into %s", pid, what, link, name);
	return 0;
}

/* The bytes buffered in a FIFO, copied with tee(2) (not consumed). */
static int save_fifo(pid_t pid, const char *what, const char *link, int fd, GhostObj *g)
{
	_cleanup_close_ int pr = -1, pw = -1;
	int avail = 0, size, pp[2], r;
	ssize_t n;

	size = fcntl(fd, F_GETPIPE_SZ);
	if (size < 0)
		return pr_errno(-errno, "pid %d: %s (%s): F_GETPIPE_SZ", pid, what, link);
	g->has_fifo_size = true;
	g->fifo_size = (uint32_t)size;
	if (ioctl(fd, FIONREAD, &avail) < 0)
		return pr_errno(-errno, "pid %d: %s (%s): FIONREAD", pid, what, link);
	if (avail <= 0)
		return 0;
	if (pipe2(pp, O_CLOEXEC | O_NONBLOCK) < 0)
		return pr_errno(-errno, "pid %d: %s (%s): pipe2", pid, what, link);
	pr = pp[0];
	pw = pp[1];
	if (fcntl(pw, F_SETPIPE_SZ, size) < 0)
		return pr_errno(-errno, "pid %d: %s (%s): sizing a pipe to copy its data", pid, what, link);
	n = tee(fd, pw, (size_t)avail, SPLICE_F_NONBLOCK);
	if (n != avail) {
		pr_err("pid %d: %s (%s): could copy only %zd of its %d buffered bytes", pid, what, link, n,
		       avail);
		return -EIO;
	}
	g->fifo_data.data = malloc((size_t)avail);
	if (!g->fifo_data.data)
		return -ENOMEM;
	r = read_full(pr, g->fifo_data.data, (size_t)avail);
	if (r < 0)
		return pr_errno(r, "pid %d: %s (%s): reading its data back", pid, what, link);
	g->fifo_data.len = (size_t)avail;
	g->has_fifo_data = true;
	return 0;
}

static char *unescape_mountinfo(const char *s, size_t len)
{
	char *o = malloc(len + 1), *p = o;
	if (!o)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3') {
			*p++ = (char)(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
			i += 3;
		} else {
			*p++ = s[i];
		}
	}
	*p = 0;
	return o;
}

/* Where mount mnt_id sits in crest's view (its mountinfo). */
static int mount_point(uint64_t mnt_id, char **out)
{
	_cleanup_free_ char *buf = NULL;
	int r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", &buf, NULL);

	if (r < 0)
		return r;
	for (char *l = buf; l && *l;) {
		char *nl = strchr(l, '\n');
		unsigned long long id;
		if (nl)
			*nl = 0;
		if (sscanf(l, "%llu", &id) == 1 && id == mnt_id) {
			/* id parent major:minor root mountpoint ... */
			char *f = l;
			for (int i = 0; i < 4 && f; i++) {
				f = strchr(f, ' ');
				if (f)
					f++;
			}
			if (!f)
				return -EINVAL;
			char *e = strchr(f, ' ');
			*out = unescape_mountinfo(f, e ? (size_t)(e - f) : strlen(f));
			return *out ? 0 : -ENOMEM;
		}
		l = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

/* The per-dump remap directory on the mount of fd, made on first use. */
static int remap_dir_for(struct ghost_dump *d, pid_t pid, const char *what, const char *link, int fd,
			 struct remap_dir **out)
{
	struct statx sx;
	struct remap_dir *rd, *nd;
	_cleanup_free_ char *mp = NULL;
	struct stat st;
	char name[64];
	int r;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0 || !(sx.stx_mask & STATX_MNT_ID))
		return pr_errno(errno ? -errno : -ENOTSUP, "pid %d: %s (%s): cannot find its mount (statx)",
				pid, what, link);
	for (size_t i = 0; i < d->nr_dirs; i++)
		if (d->dirs[i].mnt_id == sx.stx_mnt_id) {
			*out = &d->dirs[i];
			return 0;
		}
	r = mount_point(sx.stx_mnt_id, &mp);
	if (r < 0) {
		pr_err("pid %d: %s (%s): its mount (id %llu) is not visible from crest's mount namespace; "
		       "--link-remap cannot place a link there", pid, what, link,
		       (unsigned long long)sx.stx_mnt_id);
		return r == -ENOENT ? -ENOTSUP : r;
	}
	nd = realloc(d->dirs, (d->nr_dirs + 1) * sizeof(*nd));
	if (!nd)
		return -ENOMEM;
	d->dirs = nd;
	rd = &d->dirs[d->nr_dirs];
	*rd = (struct remap_dir){ .mnt_id = sx.stx_mnt_id, .mnt_fd = -1, .base_fd = -1, .dir_fd = -1 };
	d->nr_dirs++;   /* from here on ghost_dump_free cleans it */

	rd->mnt_fd = open_nofollow(AT_FDCWD, mp, O_PATH | O_DIRECTORY);
	if (rd->mnt_fd < 0)
		return pr_errno(-errno, "pid %d: %s (%s): cannot open the root of its mount %s", pid, what,
				link, mp);
	if (statx(rd->mnt_fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0 ||
	    sx.stx_mnt_id != rd->mnt_id || !(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) {
		pr_err("pid %d: %s (%s): %s is not the root of the file's mount (covered by another mount?); "
		       "--link-remap cannot place a link there", pid, what, link, mp);
		return -ENOTSUP;
	}
	if (mkdirat(rd->mnt_fd, REMAP_DIR, 0700) < 0 && errno != EEXIST)
		return pr_errno(-errno, "pid %d: %s (%s): cannot create %s/%s for the remap link", pid, what,
				link, strcmp(mp, "/") ? mp : "", REMAP_DIR);
	rd->base_fd = openat(rd->mnt_fd, REMAP_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rd->base_fd < 0 || fstat(rd->base_fd, &st) < 0)
		return pr_errno(-errno, "pid %d: %s (%s): cannot open %s/%s", pid, what, link,
				strcmp(mp, "/") ? mp : "", REMAP_DIR);
	if (st.st_uid != geteuid() || (st.st_mode & 077)) {
		pr_err("pid %d: %s (%s): %s/%s is not a private directory of crest's user (owner %u, mode "
		       "%03o); others could reach the links in it: remove it or make it mode 0700",
		       pid, what, link, strcmp(mp, "/") ? mp : "", REMAP_DIR, st.st_uid, st.st_mode & 0777);
		return -EPERM;
	}
	for (int i = 0;; i++) {
		uint32_t rnd = 0;
		if (getrandom(&rnd, sizeof(rnd), 0) < 0)
			rnd = (uint32_t)now_ns();
		snprintf(name, sizeof(name), "%lld-%d-%08x", (long long)time(NULL), getpid(), rnd);
		if (mkdirat(rd->base_fd, name, 0700) == 0)
			break;
		if (errno != EEXIST || i > 16)
			return pr_errno(-errno, "pid %d: %s (%s): cannot create a remap directory in %s/%s",
					pid, what, link, strcmp(mp, "/") ? mp : "", REMAP_DIR);
	}
	rd->name = xstrdup(name);
	if (!rd->name)
		return -ENOMEM;
	rd->dir_fd = openat(rd->base_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rd->dir_fd < 0)
		return pr_errno(-errno, "pid %d: %s (%s): cannot open the remap directory %s", pid, what,
				link, name);
	r = xasprintf(&rd->path, "%s/%s/%s", strcmp(mp, "/") ? mp : "", REMAP_DIR, name);
	if (r < 0)
		return r;
	pr_info("remap links of this dump go to %s", rd->path);
	/* noted in the image directory at once: were crest killed before
	 * ghost.img is written, `crest gc -D DIR` still finds the directory */
	int jfd = openat(d->img_dirfd, REMAP_JOURNAL, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (jfd < 0 || dprintf(jfd, "%s\n", rd->path) < 0) {
		r = pr_errno(-errno, "pid %d: %s (%s): cannot note the remap directory %s in %s", pid, what,
			     link, rd->path, REMAP_JOURNAL);
		if (jfd >= 0)
			close(jfd);
		return r;
	}
	close(jfd);
	*out = rd;
	return 0;
}

static int make_remap(struct dump_ctx *c, struct dump_task *t, const char *what, const char *link,
		      int fd, const struct stat *st, GhostObj *g)
{
	struct ghost_dump *d = c->ghost;
	struct remap_dir *rd = NULL;
	char name[64], self[64];
	int r;

	if (!c->o->link_remap) {
		pr_err("pid %d: %s (%s): the file was replaced: its name now leads to another file or to "
		       "none, while the open file lives on under another name (%lu links) that crest "
		       "cannot know; dump with --link-remap to keep it through a hard link crest makes "
		       "(removed with `crest gc -D DIR`)", t->pid, what, link, (unsigned long)st->st_nlink);
		return -ENOTSUP;
	}
	if (!S_ISREG(st->st_mode)) {
		pr_err("pid %d: %s (%s): a replaced file that is not a regular file: not supported", t->pid,
		       what, link);
		return -ENOTSUP;
	}
	r = remap_dir_for(d, t->pid, what, link, fd, &rd);
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "%u-%llu", g->id, (unsigned long long)st->st_ino);
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	/* via the magic link: the inode itself, whatever names it has */
	if (linkat(AT_FDCWD, self, rd->dir_fd, name, AT_SYMLINK_FOLLOW) < 0)
		return pr_errno(-errno, "pid %d: %s (%s): cannot make the remap link %s/%s", t->pid, what,
				link, rd->path, name);
	kill_point("remap link made");
	r = xasprintf(&g->remap_path, "%s/%s", rd->path, name);
	if (r >= 0)
		g->remap_dir = xstrdup(rd->path);
	if (r < 0 || !g->remap_dir) {
		unlinkat(rd->dir_fd, name, 0);
		free(g->remap_path);
		g->remap_path = NULL;
		return -ENOMEM;
	}
	pr_info("pid %d: %s (%s): renamed-over file kept through the link %s", t->pid, what, link,
		g->remap_path);
	return 0;
}

static int fill_obj(struct dump_ctx *c, struct dump_task *t, const char *what, const char *link, int fd,
		    const struct stat *st, GhostObj *g, bool named)
{
	char a[32], b[32];
	uint64_t data = 0;
	int r;

	if (named) {
		if (!S_ISFIFO(st->st_mode)) {
			pr_err("pid %d: %s (%s): not a FIFO", t->pid, what, link);
			return -EINVAL;
		}
		g->kind = GHOST_KIND__GHOST_NAMED_FIFO;
		return save_fifo(t->pid, what, link, fd, g);
	}
	if (S_ISREG(st->st_mode) && st->st_nlink > 0) {
		g->kind = GHOST_KIND__GHOST_REMAP;
		return make_remap(c, t, what, link, fd, st, g);
	}
	if (S_ISREG(st->st_mode)) {
		g->kind = GHOST_KIND__GHOST_REG;
		g->has_size = true;
		g->size = (uint64_t)st->st_size;
		r = extents_scan(fd, g->size, &g->extents, &g->n_extents, &data);
		if (r < 0)
			return pr_errno(r, "pid %d: %s (%s): finding its data (SEEK_DATA)", t->pid, what, link);
		if (data > c->ghost->limit) {
			fmt_size(a, sizeof(a), data);
			fmt_size(b, sizeof(b), c->ghost->limit);
			pr_err("pid %d: %s (%s): the deleted file holds %s of data, more than the ghost file "
			       "limit of %s: raise it with --ghost-limit SIZE (e.g. --ghost-limit %lluM)",
			       t->pid, what, link, a, b, (unsigned long long)((data >> 20) + 1));
			return -EFBIG;
		}
		r = save_data(c, t->pid, what, link, fd, g);
	} else if (S_ISDIR(st->st_mode)) {
		g->kind = GHOST_KIND__GHOST_DIR;
		r = 0;
	} else if (S_ISFIFO(st->st_mode) && st->st_nlink == 0) {
		g->kind = GHOST_KIND__GHOST_FIFO;
		r = save_fifo(t->pid, what, link, fd, g);
	} else {
		pr_err("pid %d: %s (%s): a deleted file of this type (mode %o): not supported", t->pid,
		       what, link, st->st_mode);
		return -ENOTSUP;
	}
	if (r == 0)
		r = save_xattrs(t->pid, what, link, fd, g);
	return r;
}

static int dump_add(struct dump_ctx *c, struct dump_task *t, const char *what, const char *proc_path,
		    const char *link, bool named, uint32_t *id)
{
	struct ghost_dump *d = dump_state(c);
	_cleanup_close_ int fd = -1;
	struct stat st;
	GhostObj *g, **no;
	size_t l;
	int r;

	if (!d)
		return -ENOMEM;
	if (!named && !ghost_link_deleted(link)) {
		pr_err("pid %d: %s (%s): not a deleted file", t->pid, what, link);
		return -EINVAL;
	}
	/* a description of crest's own: the task's position is not moved */
	fd = open(proc_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return pr_errno(-errno, "pid %d: %s (%s): cannot reopen it through %s", t->pid, what, link,
				proc_path);
	if (fstat(fd, &st) < 0)
		return pr_errno(-errno, "pid %d: %s (%s): fstat", t->pid, what, link);
	for (size_t i = 0; i < d->nr; i++)
		if (d->objs[i]->dev == st.st_dev && d->objs[i]->ino == st.st_ino) {
			*id = d->objs[i]->id;
			pr_debug("pid %d: %s (%s): the %s kept as ghost %u", t->pid, what, link,
				 ghost_kind_name(d->objs[i]->kind), *id);
			return 0;
		}
	g = xzalloc(sizeof(*g));
	no = realloc(d->objs, (d->nr + 1) * sizeof(*no));
	if (no)
		d->objs = no;   /* (realloc may have moved it even if the other failed) */
	if (!g || !no) {
		free(g);
		return -ENOMEM;
	}
	ghost_obj__init(g);
	d->objs[d->nr++] = g;   /* from here on ghost_dump_free owns it */
	g->id = (uint32_t)(d->nr - 1);
	l = strlen(link) - (named ? 0 : DEL_LEN);
	g->path = strndup(link, l);
	if (!g->path)
		return -ENOMEM;
	g->dev = st.st_dev;
	g->ino = st.st_ino;
	g->mode = st.st_mode;
	g->uid = st.st_uid;
	g->gid = st.st_gid;
	g->has_atime_ns = g->has_mtime_ns = true;
	g->atime_ns = ts_ns(&st.st_atim);
	g->mtime_ns = ts_ns(&st.st_mtim);
	r = fill_obj(c, t, what, link, fd, &st, g, named);
	if (r < 0)
		return r;
	*id = g->id;
	pr_info("pid %d: %s (%s): %s kept as ghost %u", t->pid, what, link, ghost_kind_name(g->kind), g->id);
	return 0;
}

int ghost_dump_add(struct dump_ctx *c, struct dump_task *t, const char *what, const char *proc_path,
		   const char *link, uint32_t *id)
{
	return dump_add(c, t, what, proc_path, link, false, id);
}

int ghost_dump_fifo(struct dump_ctx *c, struct dump_task *t, const char *what, const char *proc_path,
		    const char *link, uint32_t *id)
{
	return dump_add(c, t, what, proc_path, link, true, id);
}

int ghost_dump_write(struct dump_ctx *c)
{
	struct ghost_dump *d = c->ghost;
	GhostObjs img = GHOST_OBJS__INIT;

	if (!d || !d->nr)
		return 0;
	if (d->nr_dirs && fault_at("dump-after-remap"))
		return -ECANCELED;
	img.objs = d->objs;
	img.n_objs = d->nr;
	return img_write(c->dirfd, "ghost.img", &img.base);
}

void ghost_dump_free(struct dump_ctx *c, bool ok)
{
	struct ghost_dump *d = c->ghost;

	if (!d)
		return;
	if (!ok)
		unlinkat(c->dirfd, REMAP_JOURNAL, 0);
	for (size_t i = 0; i < d->nr; i++) {
		GhostObj *g = d->objs[i];
		if (!ok && g->remap_path) {
			const char *base = strrchr(g->remap_path, '/') + 1;
			for (size_t k = 0; k < d->nr_dirs; k++)
				if (!strcmp(g->remap_dir, d->dirs[k].path) && unlinkat(d->dirs[k].dir_fd, base, 0) < 0)
					pr_warn("could not remove the remap link %s: %s", g->remap_path,
						strerror(errno));
		}
		if (!ok && g->kind == GHOST_KIND__GHOST_REG) {
			char name[IMG_NAME_MAX];
			snprintf(name, sizeof(name), "ghostdata-%u.img", g->id);
			unlinkat(c->dirfd, name, 0);
		}
		free(g->path);
		free(g->extents);
		for (size_t k = 0; k < g->n_xattrs; k++) {
			free(g->xattrs[k]->name);
			free(g->xattrs[k]->value.data);
			free(g->xattrs[k]);
		}
		free(g->xattrs);
		free(g->fifo_data.data);
		free(g->remap_path);
		free(g->remap_dir);
		free(g);
	}
	for (size_t k = 0; k < d->nr_dirs; k++) {
		struct remap_dir *rd = &d->dirs[k];
		if (!ok && rd->name) {
			if (unlinkat(rd->base_fd, rd->name, AT_REMOVEDIR) < 0)
				pr_warn("could not remove the remap directory %s: %s", rd->path, strerror(errno));
			else
				pr_info("dump failed: remap links in %s removed", rd->path);
		}
		if (!ok && rd->mnt_fd >= 0)
			unlinkat(rd->mnt_fd, REMAP_DIR, AT_REMOVEDIR);   /* only if empty */
		if (rd->dir_fd >= 0)
			close(rd->dir_fd);
		if (rd->base_fd >= 0)
			close(rd->base_fd);
		if (rd->mnt_fd >= 0)
			close(rd->mnt_fd);
		free(rd->name);
		free(rd->path);
	}
	free(d->dirs);
	free(d->objs);
	free(d);
	c->ghost = NULL;
}
