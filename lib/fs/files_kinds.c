/* SPDX-License-Identifier: MIT */
/*
 * File descriptors, kind by kind (files.c handles the fd table): what each
 * kind of open file description needs to be dumped (files_classify: regular
 * files, directories, O_PATH fds, character devices, the shell's terminal,
 * pipes, memfds, ghosts; sockets, anonymous-inode files and pty ends are
 * handed to sk_unix.c, anonfd.c and tty.c) and to be checked and reopened at restore
 * (files_desc_consistent, files_load_check_desc, files_open_desc).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "files.pb-c.h"
#include "files_priv.h"
#include "anonfd.h"
#include "util/log.h"
#include "ns/mnt.h"
#include "mm/shmem.h"
#include "ghost.h"
#include "tty.h"
#include "net/sk_inet.h"
#include "net/sk_unix.h"
#include "core/task.h"
#include "util/util.h"

/* open(2) flags that make sense to replay from f_flags. */
#define FILES_OPEN_MASK (O_ACCMODE | O_APPEND | O_NONBLOCK | O_SYNC | O_DSYNC | O_DIRECT | \
			 O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_PATH)

/* For messages: "file", "pipe"... */
const char *files_kind_name(FilesKind k)
{
	switch (k) {
	case FILES_KIND__FILES_REG: return "file";
	case FILES_KIND__FILES_DIR: return "directory";
	case FILES_KIND__FILES_OPATH: return "O_PATH fd";
	case FILES_KIND__FILES_CHR: return "character device";
	case FILES_KIND__FILES_PIPE: return "pipe";
	case FILES_KIND__FILES_SHELL_TTY: return "shell terminal";
	case FILES_KIND__FILES_MEMFD: return "memfd";
	case FILES_KIND__FILES_GHOST: return "file without a name";
	case FILES_KIND__FILES_FIFO: return "named FIFO";
	case FILES_KIND__FILES_UNIXSK: return "unix socket";
	case FILES_KIND__FILES_PTY_MASTER: return "pty master";
	case FILES_KIND__FILES_PTY_SLAVE: return "pty slave";
	case FILES_KIND__FILES_INETSK: return "inet socket";
	default: return anonfd_kind_name(k);
	}
}

/* ------------------------------------------------------------------ dump */

/* The path must still lead to the object the fd refers to. */
static int check_path(struct dump_ctx *c, pid_t pid, int fd, int lfd, FilesDesc *d, const char *link,
		      const struct stat *st, bool nofollow)
{
	struct stat pst;

	if (link[0] != '/') {
		pr_err("pid %d: fd %d is %s: not supported yet", pid, fd, link);
		return -ENOTSUP;
	}
	if (st->st_nlink == 0 && !S_ISDIR(st->st_mode)) {
		pr_err("pid %d: fd %d (%s): the file was deleted while open; unlinked/replaced files are "
		       "not supported yet", pid, fd, link);
		return -ENOTSUP;
	}
	/* as the task sees it: in its own mount namespace (ns/mnt.c) */
	if (mnt_dump_stat(c, pid, link, &pst, nofollow) < 0 || pst.st_dev != st->st_dev ||
	    pst.st_ino != st->st_ino) {
		if (mnt_dump_foreign(c, pid)) {
			char what[32];
			int r = mnt_dump_covered(c, pid, lfd, link, &d->mnt_id, &d->mnt_path);
			if (r > 0) {   /* on a mount covered since: reopened in it */
				d->has_mnt_id = true;
				return 0;
			}
			snprintf(what, sizeof(what), "fd %d", fd);
			return r < 0 ? r : mnt_dump_unreachable(c, pid, what, link, lfd);
		}
		pr_err("pid %d: fd %d (%s): the path no longer leads to the open file (deleted, replaced "
		       "or in another mount namespace); unlinked/replaced files are not supported yet",
		       pid, fd, link);
		return -ENOTSUP;
	}
	return 0;
}

static bool is_simple_chrdev(const struct stat *st)
{
	/* mem devices without per-open state: null, zero, full, random, urandom */
	unsigned mi = minor(st->st_rdev);
	return major(st->st_rdev) == 1 && (mi == 3 || mi == 5 || mi == 7 || mi == 8 || mi == 9);
}

/* memfd: its content is kept once in shmem-<pid>.img, shared with the
 * task's mappings of it.  The data is read through a fresh description
 * (opened via /proc), never through the task's own, whose position the
 * SEEK_DATA/SEEK_HOLE walk would move. */
static int classify_memfd(struct dump_ctx *c, struct dstate *s, struct dfile *f, const char *link,
			  const struct stat *st)
{
	_cleanup_close_ int rfd = -1;
	char path[64];
	uint32_t id;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", s->pid, f->fd);
	rfd = open(path, O_RDONLY | O_CLOEXEC);
	if (rfd < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): cannot reopen the memfd to read it", s->pid,
				f->fd, link);
	r = shmem_dump_add(c, s->t, rfd, link + 7, st->st_ino, &id);
	if (r < 0)
		return r;
	f->pb.kind = FILES_KIND__FILES_MEMFD;
	f->pb.has_shmem_id = true;
	f->pb.shmem_id = id;
	f->pb.path = strdup(link);
	if (!f->pb.path)
		return pr_errno(-ENOMEM, "pid %d: fd %d", s->pid, f->fd);
	return 0;
}

/* ghost.c: a file whose name is gone (deleted, or replaced): kept once per
 * inode in ghost.img, recreated by crest before the fork. */
static int classify_ghost(struct dump_ctx *c, struct dstate *s, struct dfile *f, const char *link)
{
	char proc[64], what[32];
	uint32_t id;
	int r;

	snprintf(proc, sizeof(proc), "/proc/%d/fd/%d", s->pid, f->fd);
	snprintf(what, sizeof(what), "fd %d", f->fd);
	r = ghost_dump_add(c, s->t, what, proc, link, &id);
	if (r < 0)
		return r;
	f->pb.kind = FILES_KIND__FILES_GHOST;
	f->pb.has_ghost_id = true;
	f->pb.ghost_id = id;
	f->pb.path = strdup(link);
	if (!f->pb.path)
		return pr_errno(-ENOMEM, "pid %d: fd %d", s->pid, f->fd);
	return 0;
}

/* A named FIFO opened by path: the FIFO (buffered bytes, size) is kept once
 * for the tree by ghost.c, which opens it again at restore and holds it
 * while every task opens its own descriptions of it. */
static int classify_fifo(struct dump_ctx *c, struct dstate *s, struct dfile *f, const char *link,
			 const struct stat *st)
{
	char proc[64], what[32];
	uint32_t id;
	int r = check_path(c, s->pid, f->fd, f->lfd, &f->pb, link, st, false);

	if (r < 0)
		return r;
	snprintf(proc, sizeof(proc), "/proc/%d/fd/%d", s->pid, f->fd);
	snprintf(what, sizeof(what), "fd %d", f->fd);
	r = ghost_dump_fifo(c, s->t, what, proc, link, &id);
	if (r < 0)
		return r;
	f->pb.kind = FILES_KIND__FILES_FIFO;
	f->pb.has_ghost_id = true;
	f->pb.ghost_id = id;
	f->pb.path = strdup(link);
	if (!f->pb.path)
		return pr_errno(-ENOMEM, "pid %d: fd %d", s->pid, f->fd);
	return 0;
}

/* Fill in a new description for task fd `fd` (f->lfd, dev, ino set). */
int files_classify(struct dump_ctx *c, struct dstate *s, struct dfile *f, const char *link,
		   const struct stat *st)
{
	pid_t pid = s->pid;
	int fd = f->fd, r;
	unsigned flags = f->pb.flags;

	f->pb.has_dev = f->pb.has_ino = f->pb.has_mode = true;
	f->pb.dev = st->st_dev;
	f->pb.ino = st->st_ino;
	f->pb.mode = st->st_mode;
	if ((S_ISREG(st->st_mode) || S_ISDIR(st->st_mode) || S_ISFIFO(st->st_mode)) &&
	    ghost_needed(link, st))
		return classify_ghost(c, s, f, link);   /* ghost.c */

	if (flags & O_PATH) {
		f->pb.kind = FILES_KIND__FILES_OPATH;
		r = check_path(c, pid, fd, f->lfd, &f->pb, link, st, S_ISLNK(st->st_mode));
		if (r < 0)
			return r;
	} else if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) {
		if (!strncmp(link, "/memfd:", 7) && S_ISREG(st->st_mode))
			return classify_memfd(c, s, f, link, st);
		r = check_path(c, pid, fd, f->lfd, &f->pb, link, st, false);
		if (r < 0)
			return r;
		f->pb.kind = S_ISREG(st->st_mode) ? FILES_KIND__FILES_REG : FILES_KIND__FILES_DIR;
		if (S_ISREG(st->st_mode)) {
			f->pb.has_size = true;
			f->pb.size = st->st_size;
		}
	} else if (S_ISCHR(st->st_mode)) {
		f->pb.has_rdev = true;
		f->pb.rdev = st->st_rdev;
		/* a pty end: of a pair in the tree (tty.c, r == 0), or a terminal
		 * from outside (r == 1) */
		r = tty_is_pty(st) ? tty_classify(c, s, f, link, st) : 1;
		if (r < 0)
			return r;
		if (r == 0) {
			;
		} else if (tty_is_pty(st) && !c->o->shell_job) {
			return tty_refuse_outside(s, f, link, st);
		} else if (st->st_rdev == makedev(5, 0) && (r = tty_ctty_in_tree(c, pid)) != 0) {
			if (r < 0)
				return r;
			/* /dev/tty of a task whose controlling terminal is a pty of
			 * the tree: reopened by path, once the terminal is back */
			f->pb.kind = FILES_KIND__FILES_CHR;
		} else if (isatty(f->lfd)) {
			if (!c->o->shell_job) {
				pr_err("pid %d: fd %d is the terminal %s: add --shell-job", pid, fd, link);
				return -ENOTSUP;
			}
			pr_info("pid %d: fd %d is the terminal %s: restored as the shell's terminal "
				"(--shell-job)", pid, fd, link);
			f->pb.kind = FILES_KIND__FILES_SHELL_TTY;
		} else if (is_simple_chrdev(st)) {
			r = check_path(c, pid, fd, f->lfd, &f->pb, link, st, false);
			if (r < 0)
				return r;
			f->pb.kind = FILES_KIND__FILES_CHR;
		} else {
			pr_err("pid %d: fd %d is the character device %s (%u:%u): not supported yet", pid,
			       fd, link, major(st->st_rdev), minor(st->st_rdev));
			return -ENOTSUP;
		}
	} else if (S_ISFIFO(st->st_mode) && !strncmp(link, "pipe:[", 6)) {
		f->pb.kind = FILES_KIND__FILES_PIPE;
	} else if (S_ISFIFO(st->st_mode)) {
		return classify_fifo(c, s, f, link, st);   /* ghost.c keeps it */
	} else if (S_ISSOCK(st->st_mode)) {
		if (skinet_is_inet(f->lfd))
			return skinet_classify(c, s, f, link, st);  /* sk_inet.c */
		return skunix_classify(c, s, f, link, st);      /* sk_unix.c */
	} else if (!strncmp(link, "anon_inode:", 11)) {
		r = anonfd_classify(c, s, f, link);     /* anonfd.c, epoll.c, inotify.c */
		if (r < 0)
			return r;
	} else {
		pr_err("pid %d: fd %d is %s: not supported yet", pid, fd, link);
		return -ENOTSUP;
	}
	f->pb.path = strdup(link);
	if (!f->pb.path)
		return pr_errno(-ENOMEM, "pid %d: fd %d", pid, fd);
	return 0;
}

/* --------------------------------------------------------------- restore */

/* Does the path (still) lead to what was dumped?  Used in crest before fork
 * (early, clear error) and in the child on the opened fd. */
static int check_target(pid_t pid, int fd, const FilesDesc *d, const struct stat *st)
{
	if (d->kind == FILES_KIND__FILES_CHR) {
		if (!S_ISCHR(st->st_mode) || st->st_rdev != d->rdev) {
			pr_err("pid %d: fd %d (%s): no longer the character device %u:%u; recreate it",
			       pid, fd, d->path, major(d->rdev), minor(d->rdev));
			return -ESTALE;
		}
		return 0;
	}
	if (st->st_dev != d->dev || st->st_ino != d->ino) {
		pr_err("pid %d: fd %d (%s): the path leads to another file than at dump time "
		       "(dev %" PRIu64 " ino %" PRIu64 " then, dev %" PRIu64 " ino %" PRIu64 " now); "
		       "restore needs the same file", pid, fd, d->path, d->dev, d->ino,
		       (uint64_t)st->st_dev, (uint64_t)st->st_ino);
		return -ESTALE;
	}
	return 0;
}

static bool by_path(const FilesDesc *d)
{
	return d->kind == FILES_KIND__FILES_REG || d->kind == FILES_KIND__FILES_DIR ||
	       d->kind == FILES_KIND__FILES_OPATH || d->kind == FILES_KIND__FILES_CHR;
}

/* The kind-specific fields of d: a known kind, the ghost, memfd object or
 * pipe it refers to present, a path where it is reopened by path. */
bool files_desc_consistent(struct restore_ctx *c, struct restore_task *t, const Files *img,
			   const FilesDesc *d)
{
	if (d->kind == FILES_KIND__FILES_PTY_MASTER || d->kind == FILES_KIND__FILES_PTY_SLAVE)
		return tty_desc_consistent(c, d);       /* tty.c */
	if ((unsigned)d->kind > FILES_KIND__FILES_UNIXSK && d->kind != FILES_KIND__FILES_GHOST &&
	    d->kind != FILES_KIND__FILES_INETSK && d->kind != FILES_KIND__FILES_FIFO &&
	    !anonfd_kind(d->kind))
		return false;
	if (d->kind == FILES_KIND__FILES_INETSK && !d->inetsk)
		return false;
	if ((d->kind == FILES_KIND__FILES_GHOST || d->kind == FILES_KIND__FILES_FIFO) &&
	    (!d->has_ghost_id || !ghost_restore_has(c, d->ghost_id)))
		return false;
	if (d->kind == FILES_KIND__FILES_MEMFD &&
	    (!d->has_shmem_id || !shmem_restore_has(t, d->shmem_id)))
		return false;
	if (by_path(d) && (!d->path || d->path[0] != '/' || !d->has_dev || !d->has_ino))
		return false;
	if (d->kind == FILES_KIND__FILES_CHR && !d->has_rdev)
		return false;
	if (d->kind == FILES_KIND__FILES_PIPE && !files_desc_remote(d) &&
	    (!d->has_pipe_id || d->pipe_id >= img->n_pipes))
		return false;
	return true;
}

/* Can d, first used by fd, be restored here (checked in crest before fork)? */
int files_load_check_desc(struct restore_ctx *c, struct restore_task *t, struct rstate *s,
			  const FilesDesc *d, int fd)
{
	pid_t pid = t->pid;
	struct stat st;

	if (anonfd_kind(d->kind))
		return anonfd_load_check(pid, fd, s->img, d);
	if (d->kind == FILES_KIND__FILES_UNIXSK)
		return skunix_load_desc(c, t, d, fd);     /* sk_unix_restore.c */
	if (d->kind == FILES_KIND__FILES_INETSK)
		return skinet_load_desc(c, t, d, fd);     /* sk_inet_restore.c */
	if (d->kind == FILES_KIND__FILES_SHELL_TTY) {
		s->need_tty = true;
		if (c->tty_fd < 0) {
			pr_err("pid %d: fd %d was the shell's terminal (%s, dumped with --shell-job): "
			       "run the restore from a terminal with --shell-job", pid, fd,
			       d->path ? d->path : "?");
			return -ENOTTY;
		}
		return 0;
	}
	if (by_path(d) && d->has_mnt_id)   /* in its own mount (ns/mnt_restore.c) */
		return mnt_restore_need(c, pid, fd, d->mnt_id, d->mnt_path);
	if (!by_path(d) || mnt_restore_foreign(c, pid))
		return 0;   /* (in a mount namespace of the tree: built later) */
	bool nofollow = d->kind == FILES_KIND__FILES_OPATH && S_ISLNK(d->mode);
	if ((nofollow ? lstat(d->path, &st) : stat(d->path, &st)) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): the %s is gone; restore needs it at the "
				"same path", pid, fd, d->path, files_kind_name(d->kind));
	return check_target(pid, fd, d, &st);
}

/* Move fd to the lowest free number >= base (close-on-exec); closes fd. */
static int move_up(int fd, int base)
{
	int n = fcntl(fd, F_DUPFD_CLOEXEC, base);
	int e = errno;
	close(fd);
	return n < 0 ? -e : n;
}

static int open_by_path(struct restore_ctx *c, pid_t pid, int fd, const FilesDesc *d, int base,
			bool same_inode)
{
	_cleanup_close_ int lfd = -1;
	int oflags = (int)(d->flags & FILES_OPEN_MASK), r;
	struct stat st;

	if (d->kind == FILES_KIND__FILES_OPATH) {
		oflags = O_PATH | (int)(d->flags & (O_DIRECTORY | O_NOFOLLOW));
		if (S_ISLNK(d->mode))
			oflags |= O_NOFOLLOW;
	}
	if (d->has_mnt_id)   /* in its own mount, covered by another one */
		lfd = mnt_restore_openat(c, pid, d->mnt_id, d->mnt_path, oflags | O_CLOEXEC);
	else
		lfd = open(d->path, oflags | O_CLOEXEC);
	if (lfd < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): cannot reopen the %s (flags 0%o)", pid, fd,
				d->path, files_kind_name(d->kind), oflags);
	if (fstat(lfd, &st) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): fstat", pid, fd, d->path);
	r = same_inode ? check_target(pid, fd, d, &st) : 0;
	if (r < 0)
		return r;
	if ((d->kind == FILES_KIND__FILES_REG || d->kind == FILES_KIND__FILES_DIR) && d->pos &&
	    lseek(lfd, (off_t)d->pos, SEEK_SET) != (off_t)d->pos)
		return pr_errno(-errno, "pid %d: fd %d (%s): cannot seek to %" PRIu64, pid, fd, d->path,
				d->pos);
	r = move_up(TAKE_FD(lfd), base);
	if (r < 0)
		return pr_errno(r, "pid %d: fd %d (%s): cannot move it above fd %d", pid, fd, d->path, base);
	return r;
}

/* A new description of the memfd object shmem.c recreated. */
static int open_memfd(struct restore_task *t, int fd, const FilesDesc *d, int base)
{
	int obj = shmem_restore_fd(t, d->shmem_id), n;
	char path[64];

	if (obj < 0)
		return pr_errno(obj, "pid %d: fd %d (%s): its memfd object is missing", t->pid, fd, d->path);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", obj);
	n = open(path, (int)(d->flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_LARGEFILE)) | O_CLOEXEC);
	if (n < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): cannot reopen the memfd", t->pid, fd, d->path);
	if (d->pos && lseek(n, (off_t)d->pos, SEEK_SET) != (off_t)d->pos) {
		int e = -errno;
		close(n);
		return pr_errno(e, "pid %d: fd %d (%s): cannot seek to %llu", t->pid, fd, d->path,
				(unsigned long long)d->pos);
	}
	n = move_up(n, base);
	if (n < 0)
		return pr_errno(n, "pid %d: fd %d (%s): cannot move it above fd %d", t->pid, fd, d->path, base);
	return n;
}

/* A new description of the file ghost.c recreated (inherited from crest). */
static int open_ghost(struct restore_ctx *c, struct restore_task *t, int fd, const FilesDesc *d,
		      int base)
{
	int oflags = (int)(d->flags & FILES_OPEN_MASK), n;
	char what[32];

	snprintf(what, sizeof(what), "fd %d", fd);
	n = ghost_open(c, t, d->ghost_id, oflags, what);
	if (n < 0)
		return n;
	if (!(oflags & O_PATH) && d->pos && lseek(n, (off_t)d->pos, SEEK_SET) != (off_t)d->pos) {
		int e = -errno;
		close(n);
		return pr_errno(e, "pid %d: fd %d (%s): cannot seek to %" PRIu64, t->pid, fd, d->path, d->pos);
	}
	n = move_up(n, base);
	if (n < 0)
		return pr_errno(n, "pid %d: fd %d (%s): cannot move it above fd %d", t->pid, fd, d->path, base);
	return n;
}

/* The pipe p, refilled with its data; fd: a task fd of it, for messages. */
int files_make_pipe(pid_t pid, int fd, const FilesPipe *p, struct rpipe *rp, int base)
{
	int pp[2], cur, r;

	if (pipe2(pp, O_CLOEXEC | O_NONBLOCK) < 0)
		return pr_errno(-errno, "pid %d: fd %d (pipe:[%" PRIu64 "]): pipe2", pid, fd, p->ino);
	rp->r = move_up(pp[0], base);
	rp->w = move_up(pp[1], base);
	if (rp->r < 0 || rp->w < 0)
		return pr_errno(rp->r < 0 ? rp->r : rp->w, "pid %d: fd %d (pipe:[%" PRIu64 "]): cannot "
				"move it above fd %d", pid, fd, p->ino, base);
	cur = fcntl(rp->w, F_GETPIPE_SZ);
	if (cur != (int)p->size && fcntl(rp->w, F_SETPIPE_SZ, p->size) < 0)
		return pr_errno(-errno, "pid %d: fd %d (pipe:[%" PRIu64 "]): cannot set the pipe size to %u "
				"bytes (limit: /proc/sys/fs/pipe-max-size)", pid, fd, p->ino, p->size);
	if (p->has_data && p->data.len) {
		r = write_full(rp->w, p->data.data, p->data.len);
		if (r < 0)
			return pr_errno(r, "pid %d: fd %d (pipe:[%" PRIu64 "]): cannot refill its %zu bytes",
					pid, fd, p->ino, p->data.len);
	}
	return 0;
}

/* One end of a pipe as a description with the dumped flags. */
static int open_pipe_end(pid_t pid, int fd, const FilesDesc *d, struct rpipe *rp, int base)
{
	int acc = (int)(d->flags & O_ACCMODE), n;
	char path[64];

	if (acc == O_RDONLY && !rp->r_used) {
		rp->r_used = true;
		n = rp->r;
	} else if (acc == O_WRONLY && !rp->w_used) {
		rp->w_used = true;
		n = rp->w;
	} else {
		/* a second description of the same pipe (reopened via /proc) */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", acc == O_WRONLY ? rp->w : rp->r);
		n = open(path, acc | O_NONBLOCK | O_CLOEXEC);
		if (n < 0)
			return pr_errno(-errno, "pid %d: fd %d (%s): cannot reopen the pipe", pid, fd, d->path);
		n = move_up(n, base);
		if (n < 0)
			return pr_errno(n, "pid %d: fd %d (%s): cannot move it above fd %d", pid, fd, d->path,
					base);
	}
	if (fcntl(n, F_SETFL, d->flags & (O_NONBLOCK | O_DIRECT)) < 0) {
		int e = -errno;
		if (n != rp->r && n != rp->w)
			close(n);
		return pr_errno(e, "pid %d: fd %d (%s): cannot set flags 0%o", pid, fd, d->path, d->flags);
	}
	return n;
}

/* A new description for d (first used by fd), at a number >= base, or
 * -errno (logged).  rp: the task's pipes; tty: crest's terminal, lifted. */
int files_open_desc(struct restore_ctx *c, struct restore_task *t, const FilesDesc *d, int fd,
		    struct rpipe *rp, int tty, int base)
{
	int r;

	switch (d->kind) {
	case FILES_KIND__FILES_PIPE:
		return open_pipe_end(t->pid, fd, d, &rp[d->pipe_id], base);
	case FILES_KIND__FILES_MEMFD:
		return open_memfd(t, fd, d, base);
	case FILES_KIND__FILES_GHOST:
	case FILES_KIND__FILES_FIFO:
		return open_ghost(c, t, fd, d, base);
	case FILES_KIND__FILES_UNIXSK:
		return skunix_open(c, t, fd, d);
	case FILES_KIND__FILES_INETSK:
		return skinet_open(c, t, fd, d, base);     /* sk_inet_restore.c */
	case FILES_KIND__FILES_EVENTFD:
	case FILES_KIND__FILES_SIGNALFD:
	case FILES_KIND__FILES_TIMERFD:
	case FILES_KIND__FILES_EPOLL:
	case FILES_KIND__FILES_INOTIFY:
		return anonfd_open(t, fd, d, base);        /* anonfd.c */
	case FILES_KIND__FILES_PTY_MASTER:
	case FILES_KIND__FILES_PTY_SLAVE:
		return tty_open(c, t, fd, d, base);        /* tty.c */
	case FILES_KIND__FILES_SHELL_TTY:
		r = fcntl(tty, F_DUPFD_CLOEXEC, base);
		if (r < 0)
			r = pr_errno(-errno, "pid %d: fd %d: cannot duplicate crest's terminal", t->pid, fd);
		return r;
	default:
		/* in a mount namespace of the tree the file may be on a new
		 * mount (tmpfs): other inode numbers (ns/mnt_restore.c) */
		return open_by_path(c, t->pid, fd, d, base, !mnt_restore_foreign(c, t->pid));
	}
}
