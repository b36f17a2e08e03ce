/* SPDX-License-Identifier: MIT */
/*
 * epoll instances (part of the files module, see anonfd.c).
 *
 * Dump: every registration (epitem) is a "tfd:" line of /proc/PID/fdinfo/N:
 * the fd number it was added with, its events (EPOLLET, EPOLLONESHOT...;
 * a fired EPOLLONESHOT item keeps only those flag bits) and its data.  The
 * registration is keyed by (file, fd number): it can only be recreated if
 * the task's fd at that number is still the registered file, which
 * kcmp(KCMP_EPOLL_TFD) tells exactly.  When it is not (the program closed or
 * replaced that fd while the file stayed registered through another
 * reference, e.g. a dup), another fd of the task that holds the registered
 * file is looked for (kcmp again) and recorded (via_fd): at restore it is
 * put at the old number for the EPOLL_CTL_ADD, and what was at that number
 * (nothing, or the other file) is put back right after.  If no fd of the
 * task holds it, the description cannot be restored: the refusal is kept
 * with the description and reported if this task is the one that restores
 * it (files_share.c; another task of the tree may hold the same instance
 * with matching fds).
 *
 * Restore: the task that owns the description creates an empty instance
 * in .prepare (other tasks may take it from there in .prepare2) and adds
 * the registrations in .prepare2, once every fd of the task is in place
 * (those taken from other tasks included), with their fd numbers, events
 * and data.  A disarmed EPOLLONESHOT item is added armed for every event and
 * fired by an epoll_wait() before any other item is added, so it comes back
 * disarmed; if its file is not ready for anything then, it is added with
 * no event, which the kernel arms for EPOLLERR/EPOLLHUP.  Level-triggered
 * items report again what is still ready; an edge-triggered item whose
 * file is ready reports it once more after the restore.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/epoll.h>
#include <linux/kcmp.h>
#include "anonfd.h"
#include "util/compat.h"
#include "util/log.h"
#include "util/util.h"

#ifndef SYS_kcmp
#define SYS_kcmp 312
#endif

/* Flag bits of an item, kept when EPOLLONESHOT disarms it. */
#define EP_FLAG_BITS (EPOLLONESHOT | EPOLLET | EPOLLWAKEUP | EPOLLEXCLUSIVE)
#define EP_POLL_BITS (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDNORM | EPOLLRDBAND | EPOLLWRNORM | \
		      EPOLLWRBAND | EPOLLMSG | EPOLLRDHUP)

static bool disarmed(uint32_t ev)
{
	return (ev & EPOLLONESHOT) && !(ev & ~(uint32_t)EP_FLAG_BITS);
}

/* The registration is of a file the task no longer has at that fd number:
 * keep the refusal for files_share.c (reported if this task restores it). */
static int stale(struct dstate *s, struct dfile *f, int tfd, long kr, int err)
{
	_cleanup_free_ char *now = NULL;
	bool closed = kr < 0 && err == EBADF;
	char path[64];

	if (f->defer_err)
		return 0;
	if (!closed) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", s->pid, tfd);
		if (readlink_at(AT_FDCWD, path, &now) < 0)
			now = NULL;
	}
	if (xasprintf(&f->defer_err, "pid %d: fd %d (epoll) has a registration made as fd %d, but fd "
		      "%d %s%s%s: the program closed or replaced that fd while the registered file stayed "
		      "open elsewhere; crest cannot recreate such a registration", s->pid, f->fd, tfd, tfd,
		      closed ? "is closed" : "is now another file (", closed ? "" : now ? now : "?",
		      closed ? "" : ")") < 0)
		return -ENOMEM;
	pr_debug("%s (refused if pid %d restores this description)", f->defer_err, s->pid);
	return 0;
}

/* Another fd of the task that is the file registered in slot, or -1. */
static int find_via(struct dstate *s, int tfd, struct kcmp_epoll_slot *slot)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int via = -1;

	snprintf(path, sizeof(path), "/proc/%d/fd", s->pid);
	d = opendir(path);
	if (!d)
		return -1;
	while (via < 0 && (de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		if (de->d_name[0] == '.' || *end || fd == tfd)
			continue;
		if (syscall(SYS_kcmp, s->pid, s->pid, KCMP_EPOLL_TFD, fd, slot) == 0)
			via = (int)fd;
	}
	closedir(d);
	return via;
}

int epoll_dump(struct dstate *s, struct dfile *f)
{
	_cleanup_free_ char *info = NULL;
	EpollState *e;
	size_t n = 0, cap = 0;
	int r;

	r = anonfd_fdinfo(s->pid, f->fd, &info);
	if (r < 0)
		return r;
	e = anonfd_msg_new(&epoll_state__descriptor);
	if (!e)
		return -ENOMEM;
	f->pb.epoll = e;        /* freed with the description from here on */
	f->pb.kind = FILES_KIND__FILES_EPOLL;
	for (char *l = info; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		int tfd;
		unsigned ev;
		unsigned long long data, ino = 0;
		long long pos = 0;
		struct kcmp_epoll_slot slot;
		EpollTarget *t;
		long kr;

		if (strncmp(l, "tfd:", 4))
			continue;
		if (sscanf(l, "tfd: %d events: %x data: %llx pos:%lli ino:%llx", &tfd, &ev, &data, &pos,
			   &ino) < 3 || tfd < 0) {
			pr_err("pid %d: fd %d (epoll): cannot parse /proc/%d/fdinfo/%d", s->pid, f->fd, s->pid,
			       f->fd);
			return -EINVAL;
		}
		/* kcmp's toff: the how-manieth item with this fd number (fdinfo
		 * lists the items in the kernel's order, the one kcmp counts in) */
		slot = (struct kcmp_epoll_slot){ .efd = (__u32)f->fd, .tfd = (__u32)tfd };
		for (size_t i = 0; i < n; i++)
			slot.toff += e->targets[i]->tfd == tfd;
		kr = syscall(SYS_kcmp, s->pid, s->pid, KCMP_EPOLL_TFD, tfd, &slot);
		if (kr < 0 && errno != EBADF)
			return pr_errno(-errno, "pid %d: fd %d (epoll): kcmp(KCMP_EPOLL_TFD) for its "
					"registration of fd %d; crest needs a kernel with CONFIG_KCMP and "
					"CONFIG_EPOLL (see `crest check`)", s->pid, f->fd, tfd);
		int via = -1;
		if (kr != 0) {
			int err = errno;
			via = find_via(s, tfd, &slot);
			if (via < 0 && (r = stale(s, f, tfd, kr, err)) < 0)
				return r;
		}
		if (n == cap) {
			EpollTarget **nt = realloc(e->targets, (cap = cap ? cap * 2 : 8) * sizeof(*nt));
			if (!nt)
				return pr_errno(-ENOMEM, "pid %d: fd %d (epoll)", s->pid, f->fd);
			e->targets = nt;
		}
		t = anonfd_msg_new(&epoll_target__descriptor);
		if (!t)
			return -ENOMEM;
		t->tfd = tfd;
		t->events = ev;
		t->data = data;
		t->has_pos = t->has_ino = true;
		t->pos = (uint64_t)pos;
		t->ino = ino;
		if (via >= 0) {
			t->has_via_fd = true;
			t->via_fd = via;
			pr_debug("pid %d: fd %d (epoll): the file registered as fd %d (closed or replaced "
				 "since) is fd %d now", s->pid, f->fd, tfd, via);
		}
		e->targets[n++] = t;
		e->n_targets = n;
		pr_debug("pid %d: fd %d (epoll): fd %d events %#x data %#llx%s", s->pid, f->fd, tfd, ev,
			 data, disarmed(ev) ? " (disarmed one-shot)" : "");
	}
	return 0;
}

/* --------------------------------------------------------------- restore */

static bool task_has_fd(const Files *img, int fd)
{
	for (size_t i = 0; i < img->n_fds; i++)
		if (img->fds[i]->fd == fd)
			return true;
	return false;
}

int epoll_load_check(pid_t pid, const Files *img, const FilesDesc *d)
{
	if (!d->epoll) {
		pr_err("pid %d: files image: the epoll state of file description %u is missing; the image "
		       "is damaged", pid, d->id);
		return -EBADMSG;
	}
	for (size_t i = 0; i < d->epoll->n_targets; i++) {
		const EpollTarget *t = d->epoll->targets[i];
		if (t->has_via_fd ? t->tfd < 0 || !task_has_fd(img, t->via_fd) : !task_has_fd(img, t->tfd)) {
			pr_err("pid %d: files image: epoll description %u watches fd %d, which the task does "
			       "not have; the image is damaged", pid, d->id, t->tfd);
			return -EBADMSG;
		}
	}
	return 0;
}

int epoll_open(pid_t pid, int fd, const FilesDesc *d)
{
	int n = epoll_create1(EPOLL_CLOEXEC);

	(void)d;
	if (n < 0)
		return pr_errno(-errno, "pid %d: fd %d: epoll_create1", pid, fd);
	return n;
}

/* epoll_ctl on t->tfd; for a registration whose number was closed or
 * replaced, with its file (t->via_fd) put at that number for the while. */
static int ctl(pid_t pid, int fd, int op, const EpollTarget *t, struct epoll_event *ev)
{
	int saved = -1, fdfl, r, e;

	if (!t->has_via_fd)
		return epoll_ctl(fd, op, t->tfd, ev);
	fdfl = fcntl(t->tfd, F_GETFD);
	if (fdfl >= 0 && (saved = fcntl(t->tfd, F_DUPFD_CLOEXEC, 0)) < 0)
		return -1;
	if (dup2(t->via_fd, t->tfd) < 0) {
		e = errno;
		if (saved >= 0)
			close(saved);
		errno = e;
		return -1;
	}
	r = epoll_ctl(fd, op, t->tfd, ev);
	e = errno;
	if (saved >= 0) {
		if (dup3(saved, t->tfd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
			pr_errno(-errno, "pid %d: fd %d (epoll): cannot put fd %d back after registering "
				 "fd %d's file as it", pid, fd, t->tfd, t->via_fd);
			r = -1;
			e = EIO;
		}
		close(saved);
	} else {
		close(t->tfd);
	}
	errno = e;
	return r;
}

static int add(pid_t pid, int fd, int op, const EpollTarget *t, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = t->data };

	if (ctl(pid, fd, op, t, &ev) < 0)
		return pr_errno(-errno, "pid %d: fd %d (epoll): cannot %s fd %d (events %#x data %#" PRIx64
				")", pid, fd, op == EPOLL_CTL_ADD ? "register" : "re-register", t->tfd,
				events, t->data);
	return 0;
}

/* Disarmed EPOLLONESHOT items, before any other item: each one armed for
 * anything and fired by an epoll_wait() (the items added before it are
 * disarmed, so the event is its own). */
static int add_disarmed(pid_t pid, int fd, const EpollState *e)
{
	for (size_t i = 0; i < e->n_targets; i++) {
		const EpollTarget *t = e->targets[i];
		uint32_t any = (t->events & EPOLLEXCLUSIVE) ? EPOLLIN | EPOLLOUT : EP_POLL_BITS;
		struct epoll_event ev;
		int got, r;

		if (!disarmed(t->events))
			continue;
		r = add(pid, fd, EPOLL_CTL_ADD, t, t->events | any);
		if (r < 0)
			return r;
		got = epoll_wait(fd, &ev, 1, 0);
		if (got < 0)
			return pr_errno(-errno, "pid %d: fd %d (epoll): epoll_wait to disarm the one-shot "
					"registration of fd %d", pid, fd, t->tfd);
		if (got)
			continue;
		/* not ready for anything: registered again with no event */
		if (ctl(pid, fd, EPOLL_CTL_DEL, t, NULL) < 0)
			return pr_errno(-errno, "pid %d: fd %d (epoll): EPOLL_CTL_DEL of fd %d", pid, fd, t->tfd);
		r = add(pid, fd, EPOLL_CTL_ADD, t, t->events);
		if (r < 0)
			return r;
		pr_debug("pid %d: fd %d (epoll): disarmed one-shot fd %d armed for EPOLLERR/EPOLLHUP only",
			 pid, fd, t->tfd);
	}
	return 0;
}

int epoll_register(pid_t pid, int fd, const FilesDesc *d)
{
	const EpollState *e = d->epoll;
	int r = add_disarmed(pid, fd, e);

	if (r < 0)
		return r;
	for (size_t i = 0; i < e->n_targets; i++) {
		const EpollTarget *t = e->targets[i];
		if (disarmed(t->events))
			continue;
		r = add(pid, fd, EPOLL_CTL_ADD, t, t->events);
		if (r < 0)
			return r;
	}
	pr_debug("pid %d: fd %d (epoll): %zu registrations", pid, fd, e->n_targets);
	return 0;
}
