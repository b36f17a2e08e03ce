/* SPDX-License-Identifier: MIT */
/*
 * File descriptors: the fd table of a task and the open file descriptions
 * behind it (image files-<pid>.img, schema images/files.proto).
 *
 * Dump (task ptrace-stopped): walk /proc/PID/fd and fdinfo, take our own
 * reference to every description with pidfd_getfd (O_PATH fds cannot be
 * taken that way: they are reopened through the /proc magic link) and
 * fstat it.  fds that share one description are found with kcmp(KCMP_FILE).
 * What each kind of description needs is in files_kinds.c (files,
 * directories and character devices are recorded by path and checked to
 * still be reachable by that path: same dev/ino).  What the tasks of the
 * tree share (descriptions inherited across fork, pipes: files_share.c) is
 * settled once every task is dumped, and the images are written then.
 *
 * Restore (.prepare, in the child, native): every description the task
 * restores itself is opened first (files_kinds.c), above t->tmp_fd_base;
 * only then are the fds inherited from crest below tmp_fd_base closed and
 * the descriptions dup'ed to their numbers.  Descriptions restored by
 * another task of the tree are taken from it in .prepare2 (files_share.c).
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include "util/compat.h"
#include "files.pb-c.h"
#include "files_priv.h"
#include "anonfd.h"
#include "locks.h"
#include "fown.h"
#include "image/image.h"
#include "util/log.h"
#include "pstree.pb-c.h"
#include "net/sk_inet.h"
#include "net/sk_unix.h"
#include "core/task.h"
#include "util/util.h"

#ifndef SYS_kcmp
#define SYS_kcmp 312
#endif

/* ------------------------------------------------------------------ dump */

void files_dstate_free(struct dstate *s)
{
	for (size_t i = 0; i < s->nr_files; i++) {
		if (s->files[i].lfd >= 0)
			close(s->files[i].lfd);
		free(s->files[i].pb.path);
		free(s->files[i].pb.mnt_path);
		free(s->files[i].defer_err);
		anonfd_desc_free(&s->files[i].pb);
		locks_desc_free(&s->files[i].pb);
		fown_desc_free(&s->files[i].pb);
	}
	for (size_t i = 0; i < s->nr_pipes; i++)
		free(s->pipes[i].data.data);
	free(s->files);
	free(s->fds);
	free(s->pipes);
	free(s->anon_sorted);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return x < y ? -1 : x > y;
}

/* The task's fd numbers, ascending. */
static int list_fds(pid_t pid, int **out, size_t *nr)
{
	char path[64];
	_cleanup_free_ int *fds = NULL;
	size_t n = 0, cap = 0;
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return pr_errno(-errno, "pid %d: cannot list its fds (%s)", pid, path);
	while ((errno = 0, de = readdir(d))) {
		char *end;
		long v;
		if (de->d_name[0] == '.')
			continue;
		v = strtol(de->d_name, &end, 10);
		if (*end || v < 0 || v > INT_MAX)
			continue;
		if (n == cap) {
			int *nf = realloc(fds, (cap = cap ? cap * 2 : 64) * sizeof(*fds));
			if (!nf) {
				closedir(d);
				return pr_errno(-ENOMEM, "pid %d: listing fds", pid);
			}
			fds = nf;
		}
		fds[n++] = (int)v;
	}
	if (errno) {
		int r = -errno;
		closedir(d);
		return pr_errno(r, "pid %d: cannot list its fds (%s)", pid, path);
	}
	closedir(d);
	qsort(fds, n, sizeof(*fds), cmp_int);
	*out = TAKE_PTR(fds);
	*nr = n;
	return 0;
}

/* pos and flags of fdinfo; *text: all of it (the caller frees it). */
static int parse_fdinfo(pid_t pid, int fd, uint64_t *pos, unsigned *flags, char **text)
{
	char name[32];
	_cleanup_free_ char *buf = NULL, *all = NULL;
	bool has_pos = false, has_flags = false;
	int r;

	snprintf(name, sizeof(name), "fdinfo/%d", fd);
	r = proc_read(pid, name, &buf, NULL);
	if (r < 0)
		return pr_errno(r, "pid %d: fd %d: cannot read /proc/%d/fdinfo/%d", pid, fd, pid, fd);
	all = strdup(buf);
	if (!all)
		return -ENOMEM;
	for (char *l = buf; l && *l;) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = 0;
		if (!strncmp(l, "pos:", 4))
			has_pos = sscanf(l + 4, "%" SCNu64, pos) == 1;
		else if (!strncmp(l, "flags:", 6))
			has_flags = sscanf(l + 6, "%o", flags) == 1;
		l = nl ? nl + 1 : NULL;
	}
	if (!has_pos || !has_flags) {
		pr_err("pid %d: fd %d: cannot parse /proc/%d/fdinfo/%d", pid, fd, pid, fd);
		return -EINVAL;
	}
	*text = TAKE_PTR(all);
	return 0;
}

static int kcmp_file(pid_t pid, int fd1, int fd2)
{
	return (int)syscall(SYS_kcmp, pid, pid, KCMP_FILE, fd1, fd2);
}

/* Same description as an fd seen before?  *idx: index in s->files or -1. */
static int kcmp_failed(struct dstate *s, int fd, int other)
{
	int e = errno;

	pr_err("pid %d: fd %d: kcmp(KCMP_FILE) with fd %d failed: %s; crest needs a kernel "
	       "with CONFIG_KCMP (see `crest check`)", s->pid, fd, other, strerror(e));
	return -e;
}

/* Anonymous-inode files (eventfd, epoll...) all have one inode: a task may
 * hold thousands of them, so they are found by a binary search in kcmp's
 * order (a total order of the kernel's file pointers).  When fd is new, its
 * description is the next one the caller adds (index s->nr_files). */
static int find_shared_anon(struct dstate *s, int fd, int *idx)
{
	size_t lo = 0, hi = s->nr_anon;

	if (!s->anon_sorted) {
		s->anon_sorted = calloc(s->cap_files, sizeof(*s->anon_sorted));
		if (!s->anon_sorted)
			return pr_errno(-ENOMEM, "pid %d: fd %d", s->pid, fd);
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int other = s->files[s->anon_sorted[mid]].fd, r = kcmp_file(s->pid, fd, other);
		if (r == 0) {
			*idx = s->anon_sorted[mid];
			return 0;
		}
		if (r < 0)
			return kcmp_failed(s, fd, other);
		if (r == 1)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (s->nr_anon >= s->cap_files)
		return pr_errno(-EINVAL, "pid %d: fd %d: more descriptions than fds", s->pid, fd);
	memmove(s->anon_sorted + lo + 1, s->anon_sorted + lo, (s->nr_anon - lo) * sizeof(int));
	s->anon_sorted[lo] = (int)s->nr_files;
	s->nr_anon++;
	return 0;
}

static int find_shared(struct dstate *s, int fd, const struct stat *st, int *idx)
{
	*idx = -1;
	if ((st->st_mode & S_IFMT) == 0)
		return find_shared_anon(s, fd, idx);
	for (size_t i = 0; i < s->nr_files; i++) {
		struct dfile *f = &s->files[i];
		int r;
		if (f->dev != st->st_dev || f->ino != st->st_ino)
			continue;
		r = kcmp_file(s->pid, f->fd, fd);
		if (r == 0) {
			*idx = (int)i;
			return 0;
		}
		if (r < 0)
			return kcmp_failed(s, fd, f->fd);
	}
	return 0;
}

static int dump_one_fd(struct dump_ctx *c, struct dstate *s, int fddir, int fd)
{
	pid_t pid = s->pid;
	_cleanup_free_ char *link = NULL, *fdinfo = NULL;
	_cleanup_close_ int lfd = -1;
	char name[16];
	uint64_t pos = 0;
	unsigned flags = 0;
	struct stat st;
	struct dfile *f;
	FilesFd *e;
	int r, idx;

	snprintf(name, sizeof(name), "%d", fd);
	r = readlink_at(fddir, name, &link);
	if (r < 0)
		return pr_errno(r, "pid %d: fd %d: cannot read /proc/%d/fd/%d", pid, fd, pid, fd);
	r = parse_fdinfo(pid, fd, &pos, &flags, &fdinfo);
	if (r < 0)
		return r;
	/* pidfd_getfd() refuses O_PATH files: reopen those through the magic link. */
	if (flags & O_PATH)
		lfd = openat(fddir, name, O_PATH | O_CLOEXEC);
	else
		lfd = (int)syscall(SYS_pidfd_getfd, s->pidfd, fd, 0);
	if (lfd < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): cannot get hold of it (%s)", pid, fd, link,
				flags & O_PATH ? "open of the /proc magic link" : "pidfd_getfd");
	if (fstat(lfd, &st) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): fstat", pid, fd, link);

	e = &s->fds[s->nr_fds++];
	files_fd__init(e);
	e->fd = fd;
	e->cloexec = !!(flags & O_CLOEXEC);
	flags &= ~O_CLOEXEC;

	r = find_shared(s, fd, &st, &idx);
	if (r < 0)
		return r;
	if (idx >= 0) {
		e->desc = (uint32_t)idx;
		pr_debug("pid %d: fd %d (%s) shares its file description with fd %d", pid, fd, link,
			 s->files[idx].fd);
		return 0;
	}

	f = &s->files[s->nr_files];
	memset(f, 0, sizeof(*f));
	files_desc__init(&f->pb);
	f->lfd = -1;
	f->grp_task = f->grp_file = f->own_task = f->own_file = -1;
	f->fd = fd;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->pb.id = (uint32_t)s->nr_files;
	f->pb.flags = flags;
	f->pb.has_pos = true;
	f->pb.pos = pos;
	f->lfd = TAKE_FD(lfd);
	s->nr_files++;          /* from here on dstate_free() owns lfd */
	r = files_classify(c, s, f, link, &st);
	if (r == 0)
		r = locks_dump(pid, fd, link, fdinfo, &f->pb);     /* locks.c */
	if (r == 0)
		r = fown_dump(c, pid, fd, link, f->lfd, &f->pb);   /* fown.c */
	if (r < 0)
		return r;
	if (f->pb.kind == FILES_KIND__FILES_PIPE) {
		int sz = fcntl(f->lfd, F_GETPIPE_SZ);
		if (sz < 0)
			return pr_errno(-errno, "pid %d: fd %d (%s): F_GETPIPE_SZ", pid, fd, link);
		f->pipe_size = (uint32_t)sz;
	}
	/* the tree-wide part works on the tasks' fds: drop ours */
	close(f->lfd);
	f->lfd = -1;
	e->desc = f->pb.id;
	pr_debug("pid %d: fd %d: %s %s flags 0%o pos %" PRIu64 "%s", pid, fd, files_kind_name(f->pb.kind),
		 link, flags, pos, e->cloexec ? " cloexec" : "");
	return 0;
}

static int files_dump(struct dump_ctx *c, struct dump_task *t)
{
	struct dstate *s = xzalloc(sizeof(*s));
	_cleanup_close_ int own_pidfd = -1, fddir = -1;
	_cleanup_free_ int *fds = NULL;
	char path[64];
	size_t nr = 0;
	int r;

	if (t->files_owner) {
		/* one fd table shared with an earlier task (CLONE_FILES, pstree.c):
		 * dumped, and restored, once by that task */
		pr_info("pid %d: its fd table is pid %d's (CLONE_FILES): dumped with it", t->pid,
			t->files_owner);
		free(s);
		return 0;
	}
	if (!s)
		return pr_errno(-ENOMEM, "pid %d: dumping fds", t->pid);
	*s = (struct dstate){ .t = t, .pid = t->pid, .pidfd = t->pidfd, .max_fd = -1 };
	if (s->pidfd < 0) {
		own_pidfd = (int)syscall(SYS_pidfd_open, t->pid, 0);
		if (own_pidfd < 0) {
			r = pr_errno(-errno, "pid %d: pidfd_open", t->pid);
			goto fail;
		}
		s->pidfd = own_pidfd;
	}
	r = list_fds(t->pid, &fds, &nr);
	if (r < 0)
		goto fail;
	snprintf(path, sizeof(path), "/proc/%d/fd", t->pid);
	fddir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fddir < 0) {
		r = pr_errno(-errno, "pid %d: cannot open %s", t->pid, path);
		goto fail;
	}
	s->files = calloc(nr + 1, sizeof(*s->files));
	s->cap_files = nr + 1;
	s->fds = calloc(nr + 1, sizeof(*s->fds));
	if (!s->files || !s->fds) {
		r = pr_errno(-ENOMEM, "pid %d: dumping %zu fds", t->pid, nr);
		goto fail;
	}
	for (size_t i = 0; i < nr; i++) {
		r = dump_one_fd(c, s, fddir, fds[i]);
		if (r < 0)
			goto fail;
	}
	s->max_fd = nr ? fds[nr - 1] : -1;
	s->pidfd = -1;          /* own_pidfd goes; files_share.c uses t->pidfd */
	/* the image is written once every task is dumped (files_share.c) */
	return fshare_dump_add(c, s);
fail:
	files_dstate_free(s);
	free(s);
	return r;
}

/* --------------------------------------------------------------- restore */

static void files_free(struct restore_task *t)
{
	struct rstate *s = t->priv[MOD_FILES];

	if (!s)
		return;
	if (s->img)
		protobuf_c_message_free_unpacked(&s->img->base, NULL);
	free(s->first_fd);
	free(s);
	t->priv[MOD_FILES] = NULL;
}

static int load_check(struct restore_ctx *c, struct restore_task *t, struct rstate *s)
{
	Files *img = s->img;
	pid_t pid = t->pid;
	int r;

	for (size_t i = 0; i < img->n_pipes; i++) {
		FilesPipe *p = img->pipes[i];
		if (p->id != i || (p->has_data && p->data.len > p->size)) {
			pr_err("pid %d: files image: pipe %zu is inconsistent; the image is damaged", pid, i);
			return -EBADMSG;
		}
	}
	for (size_t i = 0; i < img->n_descs; i++) {
		FilesDesc *d = img->descs[i];
		if (d->id != i || !files_desc_consistent(c, t, img, d) || !locks_consistent(d) ||
		    !fown_consistent(d)) {
			pr_err("pid %d: files image: file description %zu is inconsistent; the image is damaged",
			       pid, i);
			return -EBADMSG;
		}
		s->first_fd[i] = -1;
	}
	s->max_fd = -1;
	for (size_t i = 0; i < img->n_fds; i++) {
		FilesFd *e = img->fds[i];
		if (e->fd <= s->max_fd || e->desc >= img->n_descs) {
			pr_err("pid %d: files image: fd entry %zu (fd %d) is inconsistent; the image is damaged",
			       pid, i, e->fd);
			return -EBADMSG;
		}
		s->max_fd = e->fd;
		if (s->first_fd[e->desc] < 0)
			s->first_fd[e->desc] = e->fd;
	}
	r = fshare_load_check(c, t, s);   /* after max_fd: keep fds go above it */
	if (r < 0)
		return r;
	for (size_t i = 0; i < img->n_descs; i++) {
		FilesDesc *d = img->descs[i];
		int fd = s->first_fd[i];

		if (fd < 0 || files_desc_remote(d))
			continue;       /* unused, or restored by another task */
		r = files_load_check_desc(c, t, s, d, fd);   /* files_kinds.c */
		if (r < 0)
			return r;
	}
	return 0;
}

static int files_load(struct restore_ctx *c, struct restore_task *t)
{
	char name[IMG_NAME_MAX];
	struct rstate *s;
	Files *img = NULL;
	int r;

	if (t->pstree && t->pstree->has_files_owner)
		return 0;       /* its fd table is the owner's, restored by it (share.c) */
	snprintf(name, sizeof(name), "files-%d.img", t->pid);
	r = img_read(c->dirfd, name, &files__descriptor, (ProtobufCMessage **)&img, false);
	if (r < 0)
		return r;
	s = xzalloc(sizeof(*s));
	if (!s) {
		protobuf_c_message_free_unpacked(&img->base, NULL);
		return -ENOMEM;
	}
	s->img = img;
	t->priv[MOD_FILES] = s;
	s->first_fd = xzalloc((img->n_descs + 1) * sizeof(int));
	if (!s->first_fd) {
		files_free(t);
		return -ENOMEM;
	}
	r = load_check(c, t, s);
	if (r < 0) {
		files_free(t);
		return r;
	}
	pr_debug("pid %d: %zu fds to restore, highest %d", t->pid, img->n_fds, s->max_fd);
	return 0;
}

static int files_max_fd(struct restore_task *t)
{
	struct rstate *s = t->priv[MOD_FILES];
	return s ? s->max_fd : -1;
}

static int files_prepare(struct restore_ctx *c, struct restore_task *t)
{
	struct rstate *s = t->priv[MOD_FILES];
	Files *img;
	int base = t->tmp_fd_base, tty = -1, r = 0;
	_cleanup_free_ int *dfd = NULL;
	_cleanup_free_ struct rpipe *rp = NULL;
	pid_t pid = t->pid;

	if (!s)
		return 0;       /* a table shared with its owner, who restores it */
	img = s->img;
	if (s->max_fd >= base) {
		pr_err("pid %d: fd %d to restore is not below the temporary fd base %d", pid, s->max_fd,
		       base);
		return -EINVAL;
	}
	dfd = malloc((img->n_descs + 1) * sizeof(*dfd));
	rp = malloc((img->n_pipes + 1) * sizeof(*rp));
	if (!dfd || !rp)
		return pr_errno(-ENOMEM, "pid %d: restoring fds", pid);
	for (size_t i = 0; i < img->n_descs; i++)
		dfd[i] = -1;
	for (size_t i = 0; i < img->n_pipes; i++)
		rp[i] = (struct rpipe){ .r = -1, .w = -1 };

	/* crest's terminal may sit at a number we are about to reuse: lift it first */
	if (s->need_tty) {
		tty = fcntl(c->tty_fd, F_DUPFD_CLOEXEC, base);
		if (tty < 0) {
			r = pr_errno(-errno, "pid %d: cannot duplicate crest's terminal (fd %d)", pid, c->tty_fd);
			goto out;
		}
	}
	for (size_t i = 0; i < img->n_pipes; i++) {
		int fd = -1;
		for (size_t j = 0; j < img->n_descs && fd < 0; j++)
			if (img->descs[j]->kind == FILES_KIND__FILES_PIPE && img->descs[j]->has_pipe_id &&
			    img->descs[j]->pipe_id == i)
				fd = img->descs[j]->has_keep_fd ? img->descs[j]->keep_fd : s->first_fd[j];
		r = files_make_pipe(pid, fd, img->pipes[i], &rp[i], base);
		if (r < 0)
			goto out;
	}
	r = skunix_prepare(c, t, base);    /* the unix sockets this task makes */
	if (r == 0)
		r = skinet_prepare(c, t, base);    /* listeners with connections not accepted yet */
	if (r < 0)
		goto out;
	for (size_t i = 0; i < img->n_descs; i++) {
		FilesDesc *d = img->descs[i];
		int fd = d->has_keep_fd ? d->keep_fd : s->first_fd[i];

		if (fd < 0 || files_desc_remote(d))
			continue;       /* unused, or taken from its owner in .prepare2 */
		r = files_open_desc(c, t, d, fd, rp, tty, base);   /* files_kinds.c */
		if (r < 0)
			goto out;
		dfd[i] = r;
		r = locks_take_desc(pid, fd, d, dfd[i]);   /* flock, OFD, lease: locks.c */
		if (r < 0)
			goto out;
	}

	/* Everything is open: drop what the child inherited from crest below
	 * the base and put each description at its numbers. */
	if (base > 0 && close_range(0, (unsigned)base - 1, 0) < 0) {
		r = pr_errno(-errno, "pid %d: close_range(0, %d)", pid, base - 1);
		goto out;
	}
	r = 0;
	for (size_t i = 0; i < img->n_fds; i++) {
		FilesFd *e = img->fds[i];
		if (dfd[e->desc] < 0)
			continue;       /* restored by another task: .prepare2 */
		if (dup3(dfd[e->desc], e->fd, e->cloexec ? O_CLOEXEC : 0) < 0) {
			r = pr_errno(-errno, "pid %d: fd %d (%s): cannot place it (dup3; check RLIMIT_NOFILE)",
				     pid, e->fd, img->descs[e->desc]->path ? img->descs[e->desc]->path : "?");
			goto out;
		}
	}
	/* pipe ends only other tasks hold: kept for them until .inject */
	for (size_t i = 0; i < img->n_descs; i++) {
		FilesDesc *d = img->descs[i];
		if (d->has_keep_fd && dup3(dfd[i], d->keep_fd, O_CLOEXEC) < 0) {
			r = pr_errno(-errno, "pid %d: cannot keep a pipe end at fd %d for other tasks", pid,
				     d->keep_fd);
			goto out;
		}
	}
	pr_debug("pid %d: %zu fds restored", pid, img->n_fds);
out:
	for (size_t i = 0; i < img->n_descs; i++)
		if (dfd[i] >= 0)
			close(dfd[i]);
	for (size_t i = 0; i < img->n_pipes; i++) {
		if (rp[i].r >= 0 && !rp[i].r_used)
			close(rp[i].r);
		if (rp[i].w >= 0 && !rp[i].w_used)
			close(rp[i].w);
	}
	if (tty >= 0)
		close(tty);
	skunix_prepare_end(c, t);
	skinet_prepare_end(c, t);
	return r;
}

/* After every task's .prepare: the descriptions restored by other tasks,
 * then the epoll registrations (their targets may be such descriptions). */
static int files_prepare2(struct restore_ctx *c, struct restore_task *t)
{
	int r = fshare_prepare2(c, t);   /* files_share.c */

	if (r == 0)
		r = skinet_prepare2(c, t);   /* connections out of TCP_REPAIR */
	return r < 0 ? r : anonfd_prepare2(c, t);
}

/* Once every thread exists: signal owners (fown.c, also on the keep fds),
 * then after the restore's own fds are closed, the keep fds go, and the
 * POSIX locks are taken last (a close of any fd of the file drops them). */
static int files_inject(struct restore_ctx *c, struct restore_task *t)
{
	struct rstate *s = t->priv[MOD_FILES];
	int r = s ? fown_inject(c, t, s->img, s->first_fd) : 0;

	if (r == 0)
		r = fshare_inject(c, t);   /* files_share.c */
	if (r < 0 || !s)
		return r;
	return locks_inject_posix(t, s->img, s->first_fd);   /* locks.c */
}

static void files_restore_fini(struct restore_ctx *c)
{
	skunix_restore_fini(c);
	skinet_restore_fini(c);     /* the network lock goes */
}

const struct crest_module files_module = {
	.name = "files",
	.dump = files_dump,
	.load = files_load,
	.prepare = files_prepare,
	.prepare2 = files_prepare2,
	.inject = files_inject,
	.max_fd = files_max_fd,
	.free = files_free,
	.dump_fini = fshare_dump_fini,
	.restore_fini = files_restore_fini,
};
