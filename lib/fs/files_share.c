/* SPDX-License-Identifier: MIT */
/*
 * Files shared across the process tree (part of the files module).
 *
 * Dump: files.c collects every task's fd table (descriptions found once per
 * task); once every task is dumped (.dump_fini, tasks still frozen) the
 * descriptions are matched tree-wide: candidates with the same dev, ino
 * and flags are compared with kcmp(KCMP_FILE) across tasks.  A description
 * held by several tasks gets one owner task, the one in the deepest pid
 * namespace (so every other holder can see it), which restores it; the
 * others record (owner_pid, owner_fd) and take it from the owner.
 *
 * A pipe is one object whose ends may be in several tasks: the task (again
 * the deepest) holding an end of it becomes its creator: its image has the
 * pipe with the buffered data, it creates every end description of the
 * pipe in the tree, and holds those it does not use itself at "keep" fds
 * above its own fds; every other holder takes its end from it.  A pipe with
 * an end in a process outside the tree fails the dump, naming that process.
 *
 * Restore: owners open their descriptions in .prepare (files.c) at their
 * final fd numbers (keep fds for the exported pipe ends); once every task
 * is prepared, .prepare2 takes the others with pidfd_getfd(); the keep fds
 * are closed by an injected close_range in .inject.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kcmp.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include "util/compat.h"
#include "files_priv.h"
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

struct fshare_dump {
	struct dstate **tasks;  /* every dumped task, parents first */
	size_t n, cap;
	struct dump_ctx *c;     /* the whole tree (also tasks sharing another's fd table) */
};

int fshare_dump_add(struct dump_ctx *c, struct dstate *s)
{
	struct fshare_dump *d = c->mod[MOD_FILES];

	if (!d) {
		d = xzalloc(sizeof(*d));
		if (!d)
			goto nomem;
		c->mod[MOD_FILES] = d;
		d->c = c;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct dstate **n = realloc(d->tasks, cap * sizeof(*n));
		if (!n)
			goto nomem;
		d->tasks = n;
		d->cap = cap;
	}
	s->idx = d->n;
	d->tasks[d->n++] = s;
	return 0;
nomem:
	pr_err("pid %d: keeping its fd table: out of memory", s->pid);
	files_dstate_free(s);
	free(s);
	return -ENOMEM;
}

static void fshare_free(struct dump_ctx *c)
{
	struct fshare_dump *d = c->mod[MOD_FILES];

	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		files_dstate_free(d->tasks[i]);
		free(d->tasks[i]);
	}
	free(d->tasks);
	free(d);
	c->mod[MOD_FILES] = NULL;
}

/* A new reference to a task's fd (the same description). */
static int task_fd(struct dstate *s, int fd)
{
	_cleanup_close_ int own = -1;
	int pidfd = s->t->pidfd, n;

	if (pidfd < 0) {
		own = (int)syscall(SYS_pidfd_open, s->pid, 0);
		if (own < 0)
			return pr_errno(-errno, "pid %d: pidfd_open", s->pid);
		pidfd = own;
	}
	n = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (n < 0)
		return pr_errno(-errno, "pid %d: fd %d: pidfd_getfd", s->pid, fd);
	return n;
}

static int depth(const struct dstate *s)
{
	return s->t->n_nspid ? (int)s->t->n_nspid : 1;
}

/* Can a task of `viewer` see `owner` (its pid namespace is the viewer's or
 * nested in it)?  The restored viewer takes descriptions from the owner
 * with pidfd_open() in its own namespace. */
static int ns_visible(const struct dstate *owner, const struct dstate *viewer, bool *ok)
{
	_cleanup_close_ int ns = -1;
	char path[64];
	int up = depth(owner) - depth(viewer);

	*ok = owner->t->pidns_ino == viewer->t->pidns_ino;
	if (*ok || up <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", owner->pid);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return pr_errno(-errno, "pid %d: cannot open %s", owner->pid, path);
	while (up-- > 0) {
		int p = ioctl(ns, NS_GET_PARENT);
		if (p < 0)
			return pr_errno(-errno, "pid %d: NS_GET_PARENT of its pid namespace", owner->pid);
		close(ns);
		ns = p;
	}
	struct stat st;
	if (fstat(ns, &st) < 0)
		return pr_errno(-errno, "pid %d: fstat of a pid namespace", owner->pid);
	*ok = st.st_ino == viewer->t->pidns_ino;
	return 0;
}

static int need_visible(const struct dstate *owner, const struct dstate *s, const struct dfile *f)
{
	bool ok;
	int r = ns_visible(owner, s, &ok);

	if (r < 0 || ok)
		return r;
	pr_err("pid %d: fd %d (%s) shares its file description with pid %d, which lives in a pid "
	       "namespace pid %d cannot see: sharing across sibling pid namespaces is not supported yet",
	       s->pid, f->fd, f->pb.path ? f->pb.path : "?", owner->pid, s->pid);
	return -ENOTSUP;
}

int fshare_need_visible(const struct dstate *owner, const struct dstate *s, const struct dfile *f)
{
	return need_visible(owner, s, f);
}

/* ------------------------------------------------- descriptions, tree-wide */

struct dref {                   /* sort key of one description */
	uint64_t dev, ino;
	unsigned flags;
	uint32_t t, f;
};

static int cmp_dref(const void *a, const void *b)
{
	const struct dref *x = a, *y = b;
#define CMP(k) if (x->k != y->k) return x->k < y->k ? -1 : 1
	CMP(dev); CMP(ino); CMP(flags); CMP(t); CMP(f);
#undef CMP
	return 0;
}

static struct dfile *F(struct fshare_dump *d, uint32_t t, uint32_t f)
{
	return &d->tasks[t]->files[f];
}

static int kcmp_fail(struct fshare_dump *d, const struct dref *x, const struct dref *y, int e)
{
	pr_err("pid %d: fd %d: kcmp(KCMP_FILE) with pid %d fd %d: %s; crest needs a kernel with "
	       "CONFIG_KCMP (see `crest check`)", d->tasks[x->t]->pid, F(d, x->t, x->f)->fd,
	       d->tasks[y->t]->pid, F(d, y->t, y->f)->fd, strerror(e));
	return -e;
}

static long kcmp_refs(struct fshare_dump *d, const struct dref *x, const struct dref *y)
{
	return syscall(SYS_kcmp, d->tasks[x->t]->pid, d->tasks[y->t]->pid, KCMP_FILE,
		       F(d, x->t, x->f)->fd, F(d, y->t, y->f)->fd);
}

static void join(struct fshare_dump *d, const struct dref *root, const struct dref *x)
{
	struct dfile *fx = F(d, x->t, x->f), *fr = F(d, root->t, root->f);

	fx->grp_task = (int)root->t;
	fx->grp_file = (int)root->f;
	pr_debug("pid %d: fd %d (%s) is the file description of pid %d fd %d", d->tasks[x->t]->pid,
		 fx->fd, fx->pb.path, d->tasks[root->t]->pid, fr->fd);
}

/* A few candidates: each compared with the earlier ones of other tasks. */
static int group_pairwise(struct fshare_dump *d, const struct dref *refs, size_t a, size_t b)
{
	for (size_t i = a + 1; i < b; i++)
		for (size_t j = a; j < i; j++) {
			long r;
			if (refs[j].t == refs[i].t || F(d, refs[j].t, refs[j].f)->grp_task >= 0)
				continue;
			r = kcmp_refs(d, &refs[i], &refs[j]);
			if (r < 0)
				return kcmp_fail(d, &refs[i], &refs[j], errno);
			if (r == 0) {
				join(d, &refs[j], &refs[i]);
				break;
			}
		}
	return 0;
}

struct kord {
	struct fshare_dump *d;
	int err;
};

/* kcmp's order (of the kernel's file pointers), then tree order */
static int cmp_kernel(const void *x, const void *y, void *arg)
{
	const struct dref *p = x, *q = y;
	struct kord *k = arg;
	long r;

	if (p->t == q->t && p->f == q->f)
		return 0;
	r = kcmp_refs(k->d, p, q);
	if (r < 0) {
		if (!k->err)
			k->err = kcmp_fail(k->d, p, q, errno);
		return 0;
	}
	if (r == 0)
		return p->t != q->t ? (p->t < q->t ? -1 : 1) : (p->f < q->f ? -1 : 1);
	return r == 1 ? -1 : 1;
}

/* Many candidates (anonymous-inode files all have one inode): sorted in
 * kcmp's order, the same description is a run of neighbours. */
static int group_sorted(struct fshare_dump *d, struct dref *refs, size_t a, size_t b)
{
	struct kord k = { d, 0 };
	size_t root = a;

	qsort_r(refs + a, b - a, sizeof(*refs), cmp_kernel, &k);
	if (k.err)
		return k.err;
	for (size_t i = a + 1; i < b; i++) {
		long r = kcmp_refs(d, &refs[root], &refs[i]);
		if (r < 0)
			return kcmp_fail(d, &refs[root], &refs[i], errno);
		if (r == 0)
			join(d, &refs[root], &refs[i]);
		else
			root = i;
	}
	return 0;
}

/* Group the descriptions that are one and the same across tasks. */
static int find_groups(struct fshare_dump *d)
{
	_cleanup_free_ struct dref *refs = NULL;
	size_t n = 0, total = 0;

	for (size_t t = 0; t < d->n; t++)
		total += d->tasks[t]->nr_files;
	refs = calloc(total + 1, sizeof(*refs));
	if (!refs)
		return pr_errno(-ENOMEM, "matching %zu file descriptions", total);
	for (size_t t = 0; t < d->n; t++)
		for (size_t f = 0; f < d->tasks[t]->nr_files; f++) {
			struct dfile *df = F(d, t, f);
			/* every task re-binds crest's terminal; O_PATH descriptions
			 * have no state to share (no position, fixed flags) and
			 * pidfd_getfd() cannot pass them: each task reopens its own */
			if (df->pb.kind == FILES_KIND__FILES_SHELL_TTY || (df->pb.flags & O_PATH))
				continue;
			refs[n++] = (struct dref){ df->dev, df->ino, df->pb.flags, (uint32_t)t, (uint32_t)f };
		}
	qsort(refs, n, sizeof(*refs), cmp_dref);
	for (size_t a = 0, b; a < n; a = b) {
		int r;
		for (b = a + 1; b < n && refs[b].dev == refs[a].dev && refs[b].ino == refs[a].ino &&
				refs[b].flags == refs[a].flags; b++)
			;
		if (refs[b - 1].t == refs[a].t)
			continue;       /* one task: its descriptions are distinct */
		r = b - a > 16 ? group_sorted(d, refs, a, b) : group_pairwise(d, refs, a, b);
		if (r < 0)
			return r;
	}
	return 0;
}

static struct dfile *group_root(struct fshare_dump *d, struct dfile *f)
{
	return f->grp_task < 0 ? f : F(d, (uint32_t)f->grp_task, (uint32_t)f->grp_file);
}

/* Descriptions other than pipe ends: the deepest holder owns each group. */
static int assign_owners(struct fshare_dump *d)
{
	for (size_t t = 0; t < d->n; t++)
		for (size_t i = 0; i < d->tasks[t]->nr_files; i++) {
			struct dfile *f = F(d, t, i), *root = group_root(d, f);
			if (f->pb.kind == FILES_KIND__FILES_PIPE || f->pb.kind == FILES_KIND__FILES_UNIXSK)
				continue;
			if (root->own_task < 0 ||
			    depth(d->tasks[t]) > depth(d->tasks[root->own_task])) {
				root->own_task = (int)t;
				root->own_file = (int)i;
			}
		}
	for (size_t t = 0; t < d->n; t++)
		for (size_t i = 0; i < d->tasks[t]->nr_files; i++) {
			struct dstate *s = d->tasks[t];
			struct dfile *f = F(d, t, i), *root = group_root(d, f), *o;
			struct dstate *os;
			int r;
			if (f->pb.kind == FILES_KIND__FILES_PIPE || f->pb.kind == FILES_KIND__FILES_UNIXSK ||
			    root->own_task < 0 ||
			    (root->own_task == (int)t && root->own_file == (int)i))
				continue;
			os = d->tasks[root->own_task];
			o = F(d, (uint32_t)root->own_task, (uint32_t)root->own_file);
			r = need_visible(os, s, f);
			if (r < 0)
				return r;
			f->pb.has_owner_pid = f->pb.has_owner_fd = true;
			f->pb.owner_pid = os->pid;
			f->pb.owner_fd = o->fd;
		}
	return 0;
}

/* ------------------------------------------------------------------ pipes */

struct pref {
	uint64_t ino;
	uint32_t t, f;
};

static int cmp_pref(const void *a, const void *b)
{
	const struct pref *x = a, *y = b;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->f < y->f ? -1 : x->f > y->f;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static bool in_tree(struct fshare_dump *d, pid_t p)
{
	for (size_t i = 0; i < d->c->nr_tasks; i++)
		if (d->c->tasks[i]->pid == p)
			return true;
	return false;
}

/* Who holds pipe inode ino in the tree (for the message)? */
static void pipe_holder(struct fshare_dump *d, uint64_t ino, pid_t *pid, int *fd)
{
	for (size_t t = 0; t < d->n; t++)
		for (size_t i = 0; i < d->tasks[t]->nr_files; i++) {
			struct dfile *f = F(d, t, i);
			if (f->pb.kind == FILES_KIND__FILES_PIPE && f->ino == ino) {
				*pid = d->tasks[t]->pid;
				*fd = f->fd;
				return;
			}
		}
}

/* Fail if a process outside the tree holds an end of one of its pipes. */
static int pipes_check_outside(struct fshare_dump *d, const uint64_t *inos, size_t n)
{
	pid_t self = getpid();
	struct dirent *de;
	int ret = 0;
	DIR *proc = opendir("/proc");

	if (!proc)
		return pr_errno(-errno, "cannot list /proc to look for the other ends of the pipes");
	while (!ret && (de = readdir(proc))) {
		char path[64], buf[64];
		struct dirent *fe;
		DIR *fdd;
		int dfd;
		pid_t p = (pid_t)atoi(de->d_name);

		if (p <= 0 || p == self || in_tree(d, p))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", p);
		dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			continue;       /* gone, or a kernel thread */
		fdd = fdopendir(dfd);
		if (!fdd) {
			close(dfd);
			continue;
		}
		while (!ret && (fe = readdir(fdd))) {
			ssize_t len;
			uint64_t ino;
			pid_t hp = 0;
			int hfd = -1;
			if (fe->d_name[0] == '.')
				continue;
			len = readlinkat(dirfd(fdd), fe->d_name, buf, sizeof(buf) - 1);
			if (len <= 6)
				continue;
			buf[len] = 0;
			if (strncmp(buf, "pipe:[", 6))
				continue;
			ino = strtoull(buf + 6, NULL, 10);
			if (!bsearch(&ino, inos, n, sizeof(*inos), cmp_u64))
				continue;
			pipe_holder(d, ino, &hp, &hfd);
			pr_err("pid %d: fd %d is %s, which is also open in pid %d (fd %s), outside the dumped "
			       "tree: dump a process tree that holds every end of the pipe", hp, hfd, buf, p,
			       fe->d_name);
			ret = -ENOTSUP;
		}
		closedir(fdd);
	}
	closedir(proc);
	return ret;
}

/* Copy the bytes buffered in a pipe without consuming them: tee(2) them into
 * a private pipe with as many slots, and read that. */
static int pipe_peek(struct dstate *s, struct dfile *f, FilesPipe *p)
{
	_cleanup_close_ int lfd = -1, pr = -1, pw = -1;
	_cleanup_free_ uint8_t *buf = NULL;
	int avail = 0, pp[2], r;
	ssize_t n;

	lfd = task_fd(s, f->fd);
	if (lfd < 0)
		return lfd;
	if (ioctl(lfd, FIONREAD, &avail) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): FIONREAD", s->pid, f->fd, f->pb.path);
	if (avail <= 0)
		return 0;
	if (pipe2(pp, O_CLOEXEC | O_NONBLOCK) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): cannot create a pipe to copy its data", s->pid,
				f->fd, f->pb.path);
	pr = pp[0];
	pw = pp[1];
	if (fcntl(pw, F_SETPIPE_SZ, p->size) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): cannot size a pipe to %u bytes to copy its data",
				s->pid, f->fd, f->pb.path, p->size);
	n = tee(lfd, pw, (size_t)avail, SPLICE_F_NONBLOCK);
	if (n != avail) {
		pr_err("pid %d: fd %d (%s): could copy only %zd of its %d buffered bytes%s%s", s->pid, f->fd,
		       f->pb.path, n, avail, n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		return -EIO;
	}
	buf = malloc((size_t)avail);
	if (!buf)
		return pr_errno(-ENOMEM, "pid %d: fd %d (%s)", s->pid, f->fd, f->pb.path);
	r = read_full(pr, buf, (size_t)avail);
	if (r < 0)
		return pr_errno(r, "pid %d: fd %d (%s): reading back its data", s->pid, f->fd, f->pb.path);
	p->has_data = true;
	p->data.len = (size_t)avail;
	p->data.data = TAKE_PTR(buf);
	return 0;
}

/* Room for one more description in s (pointers into s->files move). */
static int grow_files(struct dstate *s)
{
	if (s->nr_files < s->cap_files)
		return 0;
	size_t cap = s->cap_files ? s->cap_files * 2 : 8;
	struct dfile *n = realloc(s->files, cap * sizeof(*n));
	if (!n)
		return pr_errno(-ENOMEM, "pid %d: pipes", s->pid);
	s->files = n;
	s->cap_files = cap;
	return 0;
}

static int grow_pipes(struct dstate *s)
{
	FilesPipe *n = realloc(s->pipes, (s->nr_pipes + 1) * sizeof(*n));
	if (!n)
		return pr_errno(-ENOMEM, "pid %d: pipes", s->pid);
	s->pipes = n;
	return 0;
}

/* Is g of the group whose first description is (t, f) (self: g is it)? */
static bool same_group(const struct dfile *g, uint32_t t, uint32_t f, bool self)
{
	return self || (g->grp_task == (int)t && g->grp_file == (int)f);
}

/* One pipe: refs[a..b) are its end descriptions in the tree (tasks in order). */
static int dump_one_pipe(struct fshare_dump *d, const struct pref *refs, size_t a, size_t b)
{
	struct dstate *cs = d->tasks[refs[a].t];
	FilesPipe *p;
	uint32_t pid_;
	int r;

	/* the creator: the deepest holder, first in tree order */
	for (size_t i = a + 1; i < b; i++)
		if (depth(d->tasks[refs[i].t]) > depth(cs))
			cs = d->tasks[refs[i].t];
	r = grow_pipes(cs);
	if (r < 0)
		return r;
	pid_ = (uint32_t)cs->nr_pipes;
	p = &cs->pipes[cs->nr_pipes++];
	files_pipe__init(p);
	p->id = pid_;
	p->ino = refs[a].ino;
	p->size = F(d, refs[a].t, refs[a].f)->pipe_size;
	for (size_t i = a; i < b; i++) {
		struct dfile *f = F(d, refs[i].t, refs[i].f);
		if ((f->pb.flags & O_ACCMODE) == O_WRONLY)
			continue;
		r = pipe_peek(d->tasks[refs[i].t], f, p);
		if (r < 0)
			return r;
		break;
	}
	/* no read end in the tree: nobody can ever read the data, drop it */
	pr_debug("pid %d: pipe:[%" PRIu64 "]: size %u, %zu bytes buffered, created by pid %d", cs->pid,
		 p->ino, p->size, p->has_data ? p->data.len : 0, cs->pid);

	/* every end description: held by the creator (at its fd, or at a keep
	 * fd when only others hold it); the other holders take it from there.
	 * (Indices, not pointers: cs->files grows.) */
	for (size_t i = a; i < b; i++) {
		struct dfile *f = F(d, refs[i].t, refs[i].f);
		int src_fd = -1;

		if (f->grp_task >= 0)
			continue;       /* one pass per description, at its first holder */
		for (size_t j = i; j < b; j++) {
			struct dfile *g = F(d, refs[j].t, refs[j].f);
			if (d->tasks[refs[j].t] == cs && same_group(g, refs[i].t, refs[i].f, j == i)) {
				src_fd = g->fd;
				g->pb.has_pipe_id = true;
				g->pb.pipe_id = pid_;
			}
		}
		if (src_fd < 0) {
			struct dfile *k;
			r = grow_files(cs);
			if (r < 0)
				return r;
			f = F(d, refs[i].t, refs[i].f);
			k = &cs->files[cs->nr_files];
			*k = *f;
			k->pb.locks = NULL;     /* none on pipes (locks.c refuses them) */
			k->pb.n_locks = 0;
			if (f->pb.fown) {       /* the keep copy is the one restored */
				k->pb.fown = malloc(sizeof(*k->pb.fown));
				if (!k->pb.fown)
					return pr_errno(-ENOMEM, "pid %d: pipes", cs->pid);
				*k->pb.fown = *f->pb.fown;
			}
			k->pb.id = (uint32_t)cs->nr_files;
			k->pb.path = strdup(f->pb.path ? f->pb.path : "pipe");
			if (!k->pb.path)
				return pr_errno(-ENOMEM, "pid %d: pipes", cs->pid);
			k->lfd = -1;
			k->grp_task = k->own_task = -1;
			k->pb.has_pipe_id = true;
			k->pb.pipe_id = pid_;
			k->pb.has_keep_fd = true;
			k->pb.keep_fd = k->fd = cs->max_fd + 1 + cs->nr_keep++;
			cs->nr_files++;
			src_fd = k->fd;
			pr_debug("pid %d: keeps the %s end of pipe:[%" PRIu64 "] at fd %d for pid %d",
				 cs->pid, (f->pb.flags & O_ACCMODE) == O_WRONLY ? "write" : "read", p->ino,
				 src_fd, d->tasks[refs[i].t]->pid);
		}
		for (size_t j = i; j < b; j++) {
			struct dstate *s = d->tasks[refs[j].t];
			struct dfile *g = F(d, refs[j].t, refs[j].f);
			if (s == cs || !same_group(g, refs[i].t, refs[i].f, j == i))
				continue;
			r = need_visible(cs, s, g);
			if (r < 0)
				return r;
			g->pb.has_owner_pid = g->pb.has_owner_fd = true;
			g->pb.owner_pid = cs->pid;
			g->pb.owner_fd = src_fd;
		}
	}
	return 0;
}

static int dump_pipes(struct fshare_dump *d)
{
	_cleanup_free_ struct pref *refs = NULL;
	_cleanup_free_ uint64_t *inos = NULL;
	size_t n = 0, total = 0, ni = 0;
	int r;

	for (size_t t = 0; t < d->n; t++)
		total += d->tasks[t]->nr_files;
	refs = calloc(total + 1, sizeof(*refs));
	inos = calloc(total + 1, sizeof(*inos));
	if (!refs || !inos)
		return pr_errno(-ENOMEM, "pipes of %zu file descriptions", total);
	for (size_t t = 0; t < d->n; t++)
		for (size_t i = 0; i < d->tasks[t]->nr_files; i++)
			if (F(d, t, i)->pb.kind == FILES_KIND__FILES_PIPE)
				refs[n++] = (struct pref){ F(d, t, i)->ino, (uint32_t)t, (uint32_t)i };
	if (!n)
		return 0;
	qsort(refs, n, sizeof(*refs), cmp_pref);
	for (size_t i = 0; i < n; i++)
		if (!ni || inos[ni - 1] != refs[i].ino)
			inos[ni++] = refs[i].ino;
	r = pipes_check_outside(d, inos, ni);
	if (r < 0)
		return r;
	for (size_t a = 0, b; a < n; a = b) {
		for (b = a + 1; b < n && refs[b].ino == refs[a].ino; b++)
			;
		r = dump_one_pipe(d, refs, a, b);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ----------------------------------------------------------------- images */

static int write_image(struct dump_ctx *c, struct dstate *s)
{
	_cleanup_free_ FilesFd **pfds = calloc(s->nr_fds + 1, sizeof(*pfds));
	_cleanup_free_ FilesDesc **pdescs = calloc(s->nr_files + 1, sizeof(*pdescs));
	_cleanup_free_ FilesPipe **ppipes = calloc(s->nr_pipes + 1, sizeof(*ppipes));
	Files img = FILES__INIT;
	char name[IMG_NAME_MAX];
	size_t shared = 0;
	int r;

	if (!pfds || !pdescs || !ppipes)
		return pr_errno(-ENOMEM, "pid %d: files image", s->pid);
	for (size_t i = 0; i < s->nr_fds; i++)
		pfds[i] = &s->fds[i];
	for (size_t i = 0; i < s->nr_files; i++) {
		pdescs[i] = &s->files[i].pb;
		shared += s->files[i].pb.has_owner_pid;
	}
	for (size_t i = 0; i < s->nr_pipes; i++)
		ppipes[i] = &s->pipes[i];
	img.n_fds = s->nr_fds;
	img.fds = pfds;
	img.n_descs = s->nr_files;
	img.descs = pdescs;
	img.n_pipes = s->nr_pipes;
	img.pipes = ppipes;
	snprintf(name, sizeof(name), "files-%d.img", s->pid);
	r = img_write(c->dirfd, name, &img.base);
	if (r < 0)
		return r;
	pr_info("pid %d: %zu fds, %zu file descriptions (%zu restored by another task), %zu pipes "
		"created here", s->pid, s->nr_fds, s->nr_files, shared, s->nr_pipes);
	return 0;
}

/* A description its owner cannot restore (dfile.defer_err) fails the dump. */
static int check_deferred(struct fshare_dump *d)
{
	for (size_t t = 0; t < d->n; t++)
		for (size_t i = 0; i < d->tasks[t]->nr_files; i++) {
			struct dfile *f = F(d, t, i);
			if (f->defer_err && !f->pb.has_owner_pid) {
				pr_err("%s", f->defer_err);
				return -ENOTSUP;
			}
		}
	return 0;
}

int fshare_dump_fini(struct dump_ctx *c, bool ok)
{
	struct fshare_dump *d = c->mod[MOD_FILES];
	int r = 0;

	if (!d || !ok)
		goto out;
	r = find_groups(d);
	if (r == 0)
		r = assign_owners(d);
	if (r == 0)
		r = check_deferred(d);
	if (r == 0)
		r = dump_pipes(d);
	if (r == 0)
		r = skunix_dump_tree(c, d->tasks, d->n);   /* sk_unix_tree.c */
	if (r == 0)
		r = skinet_dump_tree(c, d->tasks, d->n);   /* sk_inet_tree.c */
	for (size_t i = 0; r == 0 && i < d->n; i++)
		r = write_image(c, d->tasks[i]);
out:
	skunix_dump_free(c);
	fshare_free(c);
	return r;
}

/* ---------------------------------------------------------------- restore */

static struct restore_task *find_rtask(struct restore_ctx *c, pid_t pid)
{
	for (size_t i = 0; i < c->nr_tasks; i++)
		if (c->tasks[i]->pid == pid)
			return c->tasks[i];
	return NULL;
}

int fshare_load_check(struct restore_ctx *c, struct restore_task *t, struct rstate *s)
{
	Files *img = s->img;
	int own_max = s->max_fd;

	s->keep_lo = s->keep_hi = -1;
	for (size_t i = 0; i < img->n_descs; i++) {
		FilesDesc *d = img->descs[i];
		if (d->has_owner_pid) {
			struct restore_task *o = find_rtask(c, d->owner_pid);
			if (!d->has_owner_fd || d->owner_fd < 0 || d->has_keep_fd || d->owner_pid == t->pid ||
			    !o || !o->pstree || o->pstree->zombie) {
				pr_err("pid %d: files image: file description %zu refers to pid %d fd %d, not "
				       "a live task of the tree; the image is damaged", t->pid, i, d->owner_pid,
				       d->owner_fd);
				return -EBADMSG;
			}
			if (t->pstree && o->pstree->n_nspid < t->pstree->n_nspid) {
				pr_err("pid %d: files image: file description %zu comes from pid %d, in a pid "
				       "namespace pid %d cannot see; the image is damaged", t->pid, i,
				       d->owner_pid, t->pid);
				return -EBADMSG;
			}
			s->has_remote = true;
		}
		if (d->has_keep_fd) {
			if ((d->kind == FILES_KIND__FILES_PIPE ? !d->has_pipe_id :
			     (d->kind != FILES_KIND__FILES_UNIXSK || !d->has_unixsk_id) &&
			     (d->kind != FILES_KIND__FILES_INETSK || !d->inetsk)) || d->keep_fd <= own_max) {
				pr_err("pid %d: files image: kept pipe end %zu (fd %d) is inconsistent; the "
				       "image is damaged", t->pid, i, d->keep_fd);
				return -EBADMSG;
			}
			if (s->keep_lo < 0 || d->keep_fd < s->keep_lo)
				s->keep_lo = d->keep_fd;
			if (d->keep_fd > s->keep_hi)
				s->keep_hi = d->keep_fd;
		}
	}
	if (s->keep_hi > s->max_fd)
		s->max_fd = s->keep_hi;
	return 0;
}

/* Move a transient fd out of the way of the fds being placed (to the tmp
 * area, above every fd the task restores); closes fd. */
static int lift(struct restore_task *t, int fd)
{
	int n = fcntl(fd, F_DUPFD_CLOEXEC, t->tmp_fd_base), e = errno;

	close(fd);
	if (n < 0)
		return pr_errno(-e, "pid %d: cannot move an fd above %d", t->pid, t->tmp_fd_base);
	return n;
}

/* pidfd of a task of the tree, opened in the caller's pid namespace. */
static int open_owner(struct restore_ctx *c, struct restore_task *t, pid_t owner)
{
	struct restore_task *o = find_rtask(c, owner);
	size_t lvl = t->pstree && t->pstree->n_nspid ? t->pstree->n_nspid - 1 : 0;
	pid_t p = owner;
	int fd;

	if (o && o->pstree && o->pstree->n_nspid > lvl)
		p = o->pstree->nspid[lvl];
	fd = (int)syscall(SYS_pidfd_open, p, 0);
	if (fd < 0)
		return pr_errno(-errno, "pid %d: cannot reach pid %d (pid %d in its namespace) to take "
				"the file descriptions it restored: pidfd_open", t->pid, owner, p);
	return lift(t, fd);
}

int fshare_prepare2(struct restore_ctx *c, struct restore_task *t)
{
	struct rstate *s = t->priv[MOD_FILES];
	_cleanup_close_ int pidfd = -1;
	pid_t cur = 0;
	Files *img;

	if (!s || !s->has_remote)
		return 0;
	img = s->img;
	for (size_t i = 0; i < img->n_descs; i++) {
		FilesDesc *d = img->descs[i];
		_cleanup_close_ int nfd = -1;
		struct stat st;
		int fl;

		if (!d->has_owner_pid || s->first_fd[i] < 0)
			continue;
		if (d->owner_pid != cur) {
			if (pidfd >= 0)
				close(TAKE_FD(pidfd));
			pidfd = open_owner(c, t, d->owner_pid);
			if (pidfd < 0)
				return pidfd;
			cur = d->owner_pid;
		}
		nfd = (int)syscall(SYS_pidfd_getfd, pidfd, d->owner_fd, 0);
		if (nfd < 0)
			return pr_errno(-errno, "pid %d: fd %d (%s): cannot take it from pid %d fd %d "
					"(pidfd_getfd)", t->pid, s->first_fd[i], d->path ? d->path : "?",
					d->owner_pid, d->owner_fd);
		nfd = lift(t, TAKE_FD(nfd));
		if (nfd < 0)
			return nfd;
		/* the owner's fd must be what was dumped */
		fl = fcntl(nfd, F_GETFL);
		if (fstat(nfd, &st) < 0 || fl < 0 ||
		    (d->has_mode && (st.st_mode & S_IFMT) != (d->mode & S_IFMT)) ||
		    (fl & O_ACCMODE) != (int)(d->flags & O_ACCMODE)) {
			pr_err("pid %d: fd %d (%s): pid %d fd %d is not the file description it shares "
			       "(mode 0%o flags 0%o, expected 0%o 0%o)", t->pid, s->first_fd[i],
			       d->path ? d->path : "?", d->owner_pid, d->owner_fd, st.st_mode, fl, d->mode,
			       d->flags);
			return -ESTALE;
		}
		for (size_t k = 0; k < img->n_fds; k++) {
			FilesFd *e = img->fds[k];
			if (e->desc != i)
				continue;
			if (dup3(nfd, e->fd, e->cloexec ? O_CLOEXEC : 0) < 0)
				return pr_errno(-errno, "pid %d: fd %d (%s): cannot place it (dup3)", t->pid,
						e->fd, d->path ? d->path : "?");
		}
		pr_debug("pid %d: fd %d (%s): file description shared with pid %d fd %d", t->pid,
			 s->first_fd[i], d->path ? d->path : "?", d->owner_pid, d->owner_fd);
	}
	return 0;
}

int fshare_inject(struct restore_ctx *c, struct restore_task *t)
{
	struct rstate *s = t->priv[MOD_FILES];
	long ret;
	int r;

	(void)c;
	if (!s || s->keep_lo < 0)
		return 0;
	r = INJECT(&t->t, &ret, __NR_close_range, s->keep_lo, s->keep_hi, 0);
	if (r < 0)
		return r;
	if (ret < 0)
		return pr_errno((int)ret, "pid %d: close_range(%d, %d) of the pipe ends kept for other "
				"tasks", t->pid, s->keep_lo, s->keep_hi);
	return 0;
}
