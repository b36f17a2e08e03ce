/* SPDX-License-Identifier: MIT */
/*
 * inotify instances (part of the files module, see anonfd.c).
 *
 * Dump: every watch is an "inotify wd:" line of /proc/PID/fdinfo/N with
 * the watched inode (ino, sdev), the mask (IN_ONESHOT and IN_EXCL_UNLINK
 * included) and the inode's file handle.  crest opens the handle once at
 * dump (open_by_handle_at through a mount of that file system, found in its
 * own mountinfo), to check it leads to the inode and to record the path it
 * has now (shown by `crest show`, and a fallback).  Events already queued
 * cannot be read without taking them from the program, nor queued again at
 * restore: a non-empty queue (FIONREAD) fails the dump.
 *
 * Restore: the task that restores the description creates an empty
 * instance in .prepare (other tasks may take it from there in .prepare2)
 * and adds the watches in .prepare2, once every fd of the task is open (so
 * reopening them makes no IN_OPEN events for the watches), before the
 * epoll registrations.  Each watch, in ascending wd order, is added on
 * /proc/self/fd/<the inode opened by its handle> with its mask.  The mount
 * fds the handles need are opened before any watch is added (opening a
 * directory is an IN_OPEN event for its watchers).  The kernel
 * hands out wds increasingly (1, 2, ...), never reusing one: a gap below a
 * dumped wd is skipped by adding and removing a watch on a private memfd,
 * and the IN_IGNORED events of those removals are read away.  So every wd
 * comes back exactly (a wd above MAX_SKIP unused numbers is refused at
 * dump).  Events of the watched files that happen while the task is away
 * are lost, like every event of that time.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "anonfd.h"
#include "util/compat.h"
#include "util/log.h"
#include "util/util.h"

/* At most this many unused wd numbers are skipped over in all. */
#define MAX_SKIP 65536

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Mount point (crest's view) of a mount of the file system with st_dev dev;
 * one of its root preferred. */
static int find_mount(dev_t dev, char **out)
{
	_cleanup_free_ char *buf = NULL, *best = NULL;
	bool best_root = false;
	int r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", &buf, NULL);

	if (r < 0)
		return r;
	for (char *l = buf; l && *l;) {
		char *nl = strchr(l, '\n'), root[4096], mp[4096];
		unsigned ma, mi;
		if (nl)
			*nl = 0;
		if (sscanf(l, "%*d %*d %u:%u %4095s %4095s", &ma, &mi, root, mp) == 4 &&
		    makedev(ma, mi) == dev && (!best || (!best_root && !strcmp(root, "/")))) {
			char *o = mp;
			/* unescape \ooo (space, tab, newline, backslash) */
			for (char *i = mp; *i; i++) {
				if (i[0] == '\\' && i[1] >= '0' && i[1] <= '7' && i[2] && i[3]) {
					*o++ = (char)((i[1] - '0') * 64 + (i[2] - '0') * 8 + (i[3] - '0'));
					i += 3;
				} else {
					*o++ = *i;
				}
			}
			*o = 0;
			free(best);
			best = xstrdup(mp);
			if (!best)
				return -ENOMEM;
			best_root = !strcmp(root, "/");
		}
		l = nl ? nl + 1 : NULL;
	}
	if (!best)
		return -ENOENT;
	*out = TAKE_PTR(best);
	return 0;
}

/* A mount fd for open_by_handle_at(), which refuses O_PATH ones.  (Opening
 * the directory is an IN_OPEN event for whoever watches it.) */
static int mount_open(const char *mnt)
{
	return open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* O_PATH fd of the watched inode: by its handle (through mount fd mfd, or
 * one opened here if mfd < 0), else by its dumped path; checked to be the
 * dumped inode.  *how says which, for messages. */
static int watch_open(const InotifyWatch *w, int mfd, const char **how)
{
	_cleanup_free_ struct file_handle *fh = NULL;
	_cleanup_close_ int own = -1, h = -1;
	struct stat st;

	*how = "its file handle";
	if (mfd < 0)
		mfd = own = mount_open(w->mnt);
	fh = malloc(sizeof(*fh) + w->handle.len);
	if (!fh)
		return -ENOMEM;
	fh->handle_bytes = (unsigned)w->handle.len;
	fh->handle_type = w->handle_type;
	memcpy(fh->f_handle, w->handle.data, w->handle.len);
	if (mfd >= 0)
		h = open_by_handle_at(mfd, fh, O_PATH | O_CLOEXEC);
	if ((h < 0 || fstat(h, &st) < 0 || st.st_dev != w->dev || st.st_ino != w->ino) && w->path) {
		closep(&h);
		*how = "its path";
		h = open(w->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	}
	if (h < 0)
		return -errno;
	if (fstat(h, &st) < 0)
		return -errno;
	if (st.st_dev != w->dev || st.st_ino != w->ino)
		return -ESTALE;
	return TAKE_FD(h);
}

static const char *wpath(const InotifyWatch *w)
{
	return w->path ? w->path : "?";
}

/* ------------------------------------------------------------------ dump */

static int parse_watch(struct dstate *s, struct dfile *f, const char *l, InotifyWatch *w)
{
	unsigned wd, sdev, mask, ign, hbytes;
	int htype, off = 0;
	unsigned long long ino;
	const char *hex;

	if (sscanf(l, "inotify wd:%x ino:%llx sdev:%x mask:%x ignored_mask:%x%n", &wd, &ino, &sdev,
		   &mask, &ign, &off) != 5 || !off || wd == 0 || wd > INT32_MAX) {
		pr_err("pid %d: fd %d (inotify): cannot parse /proc/%d/fdinfo/%d", s->pid, f->fd, s->pid,
		       f->fd);
		return -EINVAL;
	}
	w->wd = (int32_t)wd;
	w->mask = mask;
	w->ino = ino;
	/* the kernel's dev_t: major in the top 12 bits, minor in the low 20 */
	w->dev = makedev(sdev >> 20, sdev & 0xfffff);
	l += off;
	if (sscanf(l, " fhandle-bytes:%x fhandle-type:%x f_handle:", &hbytes, &htype) != 2 ||
	    !(hex = strstr(l, "f_handle:")) || hbytes == 0 || hbytes > MAX_HANDLE_SZ) {
		pr_err("pid %d: fd %d (inotify): watch %u is on inode %llu of device %u:%u, whose file "
		       "system gives no file handle: crest cannot find the inode again; not supported",
		       s->pid, f->fd, wd, ino, major(w->dev), minor(w->dev));
		return -ENOTSUP;
	}
	hex += strlen("f_handle:");
	w->handle_type = htype;
	w->handle.data = malloc(hbytes);
	if (!w->handle.data)
		return -ENOMEM;
	w->handle.len = hbytes;
	for (unsigned i = 0; i < hbytes; i++) {
		int a = hexval(hex[2 * i]), b = a < 0 ? -1 : hexval(hex[2 * i + 1]);
		if (b < 0) {
			pr_err("pid %d: fd %d (inotify): watch %u: cannot parse its file handle in "
			       "/proc/%d/fdinfo/%d", s->pid, f->fd, wd, s->pid, f->fd);
			return -EINVAL;
		}
		w->handle.data[i] = (uint8_t)(a * 16 + b);
	}
	return 0;
}

/* The mount found for the previous watch (watches are mostly on one fs). */
struct mnt_cache {
	uint64_t dev;
	char *mnt;
};

static void mc_free(struct mnt_cache *mc)
{
	free(mc->mnt);
}

/* The inode must be reachable through its handle now; record its path. */
static int check_watch(struct dstate *s, struct dfile *f, InotifyWatch *w, struct mnt_cache *mc)
{
	_cleanup_close_ int h = -1;
	char proc[64];
	const char *how;
	int r = 0;

	if (mc->mnt && mc->dev == w->dev) {
		w->mnt = xstrdup(mc->mnt);
		if (!w->mnt)
			return -ENOMEM;
	} else {
		r = find_mount((dev_t)w->dev, &w->mnt);
		if (r == 0) {
			free(mc->mnt);
			mc->mnt = xstrdup(w->mnt);
			mc->dev = w->dev;
		}
	}
	if (r < 0)
		return pr_errno(r, "pid %d: fd %d (inotify): watch %d is on inode %" PRIu64 " of device "
				"%u:%u, which has no mount crest can see", s->pid, f->fd, w->wd, w->ino,
				major(w->dev), minor(w->dev));
	h = watch_open(w, -1, &how);
	if (h < 0)
		return pr_errno(h, "pid %d: fd %d (inotify): watch %d: cannot open inode %" PRIu64
				" of device %u:%u by its file handle through %s", s->pid, f->fd, w->wd,
				w->ino, major(w->dev), minor(w->dev), w->mnt);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", h);
	if (readlink_at(AT_FDCWD, proc, &w->path) < 0)
		w->path = NULL;
	return 0;
}

static int cmp_wd(const void *a, const void *b)
{
	const InotifyWatch *x = *(InotifyWatch *const *)a, *y = *(InotifyWatch *const *)b;
	return x->wd < y->wd ? -1 : x->wd > y->wd;
}

int inotify_dump(struct dstate *s, struct dfile *f)
{
	_cleanup_free_ char *info = NULL;
	_cleanup_(mc_free) struct mnt_cache mc = { 0, NULL };
	InotifyState *e;
	size_t n = 0, cap = 0;
	int avail = 0, r;
	int64_t skip = 0, prev = 0;

	if (ioctl(f->lfd, FIONREAD, &avail) < 0)
		return pr_errno(-errno, "pid %d: fd %d (inotify): FIONREAD", s->pid, f->fd);
	if (avail > 0) {
		pr_err("pid %d: fd %d (inotify) has %d bytes of events the program has not read yet: "
		       "crest cannot take them without losing them; dump again once it has read them",
		       s->pid, f->fd, avail);
		return -EBUSY;
	}
	r = anonfd_fdinfo(s->pid, f->fd, &info);
	if (r < 0)
		return r;
	e = anonfd_msg_new(&inotify_state__descriptor);
	if (!e)
		return -ENOMEM;
	f->pb.inotify = e;      /* freed with the description from here on */
	f->pb.kind = FILES_KIND__FILES_INOTIFY;
	for (char *l = info; l && *l;) {
		char *nl = strchr(l, '\n');
		InotifyWatch *w;
		if (nl)
			*nl = 0;
		if (!strncmp(l, "inotify wd:", 11)) {
			if (n == cap) {
				InotifyWatch **nw = realloc(e->watches, (cap = cap ? cap * 2 : 8) * sizeof(*nw));
				if (!nw)
					return -ENOMEM;
				e->watches = nw;
			}
			w = anonfd_msg_new(&inotify_watch__descriptor);
			if (!w)
				return -ENOMEM;
			e->watches[n++] = w;
			e->n_watches = n;
			r = parse_watch(s, f, l, w);
			if (r == 0)
				r = check_watch(s, f, w, &mc);
			if (r < 0)
				return r;
		}
		l = nl ? nl + 1 : NULL;
	}
	qsort(e->watches, n, sizeof(*e->watches), cmp_wd);
	for (size_t i = 0; i < n; i++) {
		InotifyWatch *w = e->watches[i];
		skip += w->wd - prev - 1;
		prev = w->wd;
		pr_debug("pid %d: fd %d (inotify): wd %d on %s (inode %" PRIu64 "), mask %#x", s->pid,
			 f->fd, w->wd, wpath(w), w->ino, w->mask);
	}
	if (skip > MAX_SKIP) {
		pr_err("pid %d: fd %d (inotify): its watch descriptors (up to %" PRId64 ") leave %" PRId64
		       " unused numbers below them; crest recreates wds in order and skips at most %d: "
		       "not supported", s->pid, f->fd, prev, skip, MAX_SKIP);
		return -ENOTSUP;
	}
	return 0;
}

/* --------------------------------------------------------------- restore */

int inotify_load_check(pid_t pid, int fd, const FilesDesc *d)
{
	const InotifyState *e = d->inotify;
	int64_t prev = 0, skip = 0;

	if (!e)
		goto bad;
	for (size_t i = 0; i < e->n_watches; i++) {
		const InotifyWatch *w = e->watches[i];
		if (w->wd <= prev || w->handle.len == 0 || w->handle.len > MAX_HANDLE_SZ ||
		    !w->mnt || w->mnt[0] != '/')
			goto bad;
		skip += w->wd - prev - 1;
		prev = w->wd;
	}
	if (skip > MAX_SKIP)
		goto bad;
	/* every watched inode must still be there (said before anything is made) */
	for (size_t i = 0; i < e->n_watches; i++) {
		const InotifyWatch *w = e->watches[i];
		const char *how;
		int h = watch_open(w, -1, &how);
		if (h < 0)
			return pr_errno(h, "pid %d: fd %d (inotify): watch %d: the watched inode %" PRIu64
					" (%s at dump) is gone: neither its file handle nor its path leads "
					"to it", pid, fd, w->wd, w->ino, wpath(w));
		close(h);
	}
	return 0;
bad:
	pr_err("pid %d: files image: the inotify state of file description %u is missing or "
	       "inconsistent; the image is damaged", pid, d->id);
	return -EBADMSG;
}

/* Read away the queued events (IN_IGNORED of the skipped wds). */
static int drain(pid_t pid, int fd, int n)
{
	char buf[4096] __attribute__((aligned(8)));

	for (;;) {
		ssize_t got = read(n, buf, sizeof(buf));
		if (got > 0)
			continue;
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno != EAGAIN)
			return pr_errno(-errno, "pid %d: fd %d (inotify): reading the events of its "
					"skipped wds", pid, fd);
		return 0;
	}
}

/* Every watch of e into the new instance at fd (non-blocking), each inode
 * found through its mount fd mfd[i]. */
static int fill(pid_t pid, int fd, const InotifyState *e, const int *mfd)
{
	_cleanup_close_ int dummy = -1;
	char dpath[64] = "";
	int32_t next = 1, n = fd;

	for (size_t i = 0; i < e->n_watches; i++) {
		const InotifyWatch *w = e->watches[i];
		_cleanup_close_ int h = -1;
		const char *how;
		char path[64];
		int wd;

		while (next < w->wd) {
			if (dummy < 0) {
				dummy = memfd_create("crest-inotify-wd", MFD_CLOEXEC);
				if (dummy < 0)
					return pr_errno(-errno, "pid %d: fd %d (inotify): memfd_create", pid, fd);
				snprintf(dpath, sizeof(dpath), "/proc/self/fd/%d", dummy);
			}
			wd = inotify_add_watch(n, dpath, IN_ATTRIB);
			if (wd < 0 || inotify_rm_watch(n, wd) < 0)
				return pr_errno(-errno, "pid %d: fd %d (inotify): cannot skip wd %d", pid, fd,
						next);
			if (wd != next) {
				pr_err("pid %d: fd %d (inotify): the kernel gave wd %d where %d was expected; "
				       "cannot recreate wd %d", pid, fd, wd, next, w->wd);
				return -EINVAL;
			}
			next++;
		}
		h = watch_open(w, mfd[i], &how);
		if (h < 0)
			return pr_errno(h, "pid %d: fd %d (inotify): watch %d: the watched inode %" PRIu64
					" (%s at dump) is gone: neither its file handle nor its path "
					"leads to it", pid, fd, w->wd, w->ino, wpath(w));
		snprintf(path, sizeof(path), "/proc/self/fd/%d", h);
		wd = inotify_add_watch(n, path, w->mask & ~(uint32_t)IN_DONT_FOLLOW);
		if (wd < 0)
			return pr_errno(-errno, "pid %d: fd %d (inotify): inotify_add_watch on %s (mask %#x; "
					"see /proc/sys/fs/inotify/max_user_watches)", pid, fd, wpath(w),
					w->mask);
		if (wd != w->wd) {
			pr_err("pid %d: fd %d (inotify): the watch on %s came back as wd %d instead of %d",
			       pid, fd, wpath(w), wd, w->wd);
			return -EINVAL;
		}
		pr_debug("pid %d: fd %d (inotify): wd %d on %s (found by %s)", pid, fd, wd, wpath(w), how);
		next = wd + 1;
	}
	return dummy >= 0 ? drain(pid, fd, n) : 0;
}

int inotify_open(pid_t pid, int fd, const FilesDesc *d)
{
	int n = inotify_init1(IN_CLOEXEC);

	(void)d;
	if (n < 0)
		return pr_errno(-errno, "pid %d: fd %d: inotify_init1 (see "
				"/proc/sys/fs/inotify/max_user_instances)", pid, fd);
	return n;
}

int inotify_register(pid_t pid, int fd, const FilesDesc *d)
{
	const InotifyState *e = d->inotify;
	_cleanup_free_ int *mfd = calloc(e->n_watches + 1, sizeof(int));
	int r, fl = fcntl(fd, F_GETFL);

	if (!mfd)
		return pr_errno(-ENOMEM, "pid %d: fd %d (inotify)", pid, fd);
	/* non-blocking while it is set up (the events of skipped wds are read) */
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return pr_errno(-errno, "pid %d: fd %d (inotify): F_SETFL", pid, fd);
	/* the mount fds first, before any watch exists that their opening
	 * could wake (one per mount, shared by its watches) */
	for (size_t i = 0; i < e->n_watches; i++) {
		mfd[i] = -1;
		for (size_t j = 0; j < i && mfd[i] < 0; j++)
			if (!strcmp(e->watches[j]->mnt, e->watches[i]->mnt))
				mfd[i] = mfd[j];
		if (mfd[i] < 0)
			mfd[i] = mount_open(e->watches[i]->mnt);   /* -1: by path */
	}
	r = fill(pid, fd, e, mfd);
	for (size_t i = 0; i < e->n_watches; i++) {
		bool first = true;
		for (size_t j = 0; j < i && first; j++)
			first = mfd[j] != mfd[i];
		if (first && mfd[i] >= 0)
			close(mfd[i]);
	}
	if (r == 0 && fcntl(fd, F_SETFL, fl) < 0)
		r = pr_errno(-errno, "pid %d: fd %d (inotify): F_SETFL", pid, fd);
	if (r == 0)
		pr_debug("pid %d: fd %d (inotify): %zu watches", pid, fd, e->n_watches);
	return r;
}
