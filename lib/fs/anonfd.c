/* SPDX-License-Identifier: MIT */
/*
 * Anonymous-inode file descriptions: eventfd, signalfd and timerfd here,
 * epoll (epoll.c) and inotify (inotify.c) beside; the dispatch for all five.
 * Part of the files module: files_kinds.c hands every "anon_inode:..." fd
 * to anonfd_classify() at dump and calls anonfd_open() in its restore
 * switch.
 * The state is kept in the FilesDesc (images/anonfd.proto); a description
 * shared by several fds or tasks is restored once, by its owner, and the
 * others take it like any other shared description (files_share.c).
 *
 * Dump: /proc/PID/fdinfo/N, plus our own reference to the description
 * (pidfd_getfd, f->lfd) where only the object can tell: timerfd_gettime()
 * brings a periodic timer's expiration count up to date before fdinfo is
 * read.
 *
 *   eventfd   eventfd-count (hex), eventfd-semaphore
 *   signalfd  sigmask (hex, bit n-1 = signal n)
 *   timerfd   clockid, ticks, settime flags, it_value (remaining), it_interval
 *
 * Restore (child, native): eventfd(0) then write(count) (the counter is 64
 * bits, eventfd()'s initial value only 32); signalfd4 with the mask;
 * timerfd_create + timerfd_settime with the remaining time (relative
 * timers) or the absolute expiry computed at dump (TFD_TIMER_ABSTIME: the
 * timer keeps its place on its clock), then TFD_IOC_SET_TICKS for the
 * expirations not read yet.  O_NONBLOCK comes from the dumped f_flags.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include "anonfd.h"
#include "util/compat.h"
#include "util/log.h"
#include "util/util.h"

#define NSEC 1000000000ULL

#ifndef TFD_IOC_SET_TICKS       /* <linux/timerfd.h> clashes with <fcntl.h> */
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

int anonfd_fdinfo(pid_t pid, int fd, char **out)
{
	char name[32];
	int r;

	snprintf(name, sizeof(name), "fdinfo/%d", fd);
	r = proc_read(pid, name, out, NULL);
	if (r < 0)
		return pr_errno(r, "pid %d: fd %d: cannot read /proc/%d/fdinfo/%d", pid, fd, pid, fd);
	return 0;
}

void *anonfd_msg_new(const ProtobufCMessageDescriptor *d)
{
	void *m = xzalloc(d->sizeof_message);

	if (m)
		protobuf_c_message_init(d, m);
	return m;
}

/* The value after "key" on the line that starts with it, or NULL. */
static const char *field(const char *buf, const char *key)
{
	size_t n = strlen(key);

	for (const char *l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, key, n))
			return l + n;
	return NULL;
}

static int bad_fdinfo(pid_t pid, int fd, const char *what)
{
	pr_err("pid %d: fd %d (%s): cannot parse /proc/%d/fdinfo/%d", pid, fd, what, pid, fd);
	return -EINVAL;
}

/* ------------------------------------------------------------------ dump */

static int eventfd_dump(struct dstate *s, struct dfile *f, const char *info)
{
	const char *cnt = field(info, "eventfd-count:"), *sem = field(info, "eventfd-semaphore:"),
		   *id = field(info, "eventfd-id:");
	EventfdState *e;
	unsigned long long v;
	int sv;

	if (!cnt || sscanf(cnt, "%llx", &v) != 1 || !sem || sscanf(sem, "%d", &sv) != 1)
		return bad_fdinfo(s->pid, f->fd, "eventfd");
	e = anonfd_msg_new(&eventfd_state__descriptor);
	if (!e)
		return -ENOMEM;
	e->count = v;
	e->semaphore = sv != 0;
	if (id && sscanf(id, "%u", &e->id) == 1)
		e->has_id = true;
	f->pb.eventfd = e;
	f->pb.kind = FILES_KIND__FILES_EVENTFD;
	pr_debug("pid %d: fd %d: eventfd count %llu%s", s->pid, f->fd, v, sv ? " semaphore" : "");
	return 0;
}

static int signalfd_dump(struct dstate *s, struct dfile *f, const char *info)
{
	const char *m = field(info, "sigmask:");
	SignalfdState *e;
	unsigned long long v;

	if (!m || sscanf(m, "%llx", &v) != 1)
		return bad_fdinfo(s->pid, f->fd, "signalfd");
	e = anonfd_msg_new(&signalfd_state__descriptor);
	if (!e)
		return -ENOMEM;
	e->sigmask = v;
	f->pb.signalfd = e;
	f->pb.kind = FILES_KIND__FILES_SIGNALFD;
	pr_debug("pid %d: fd %d: signalfd mask %#llx", s->pid, f->fd, v);
	return 0;
}

static int timespec_field(const char *info, const char *key, uint64_t *ns)
{
	const char *p = field(info, key);
	unsigned long long sec, nsec;

	if (!p || sscanf(p, " (%llu, %llu)", &sec, &nsec) != 2 || nsec >= NSEC)
		return -1;
	*ns = sec * NSEC + nsec;
	return 0;
}

static int timerfd_dump(struct dstate *s, struct dfile *f)
{
	pid_t pid = s->pid;
	int clk = 0, tries = 0;
	unsigned long long ticks = 0;
	unsigned sflags = 0;
	uint64_t value = 0, interval = 0, now = 0;
	TimerfdState *e;

	for (;;) {
		_cleanup_free_ char *info = NULL;
		struct itimerspec cur;
		struct timespec ts;
		const char *p;
		int r;

		/* brings a periodic timer's count of expirations up to date
		 * (fdinfo alone shows 1 for any number of missed periods) */
		if (timerfd_gettime(f->lfd, &cur) < 0)
			return pr_errno(-errno, "pid %d: fd %d (timerfd): timerfd_gettime", pid, f->fd);
		r = anonfd_fdinfo(pid, f->fd, &info);
		if (r < 0)
			return r;
		if (!(p = field(info, "clockid:")) || sscanf(p, "%d", &clk) != 1 ||
		    !(p = field(info, "ticks:")) || sscanf(p, "%llu", &ticks) != 1 ||
		    !(p = field(info, "settime flags:")) || sscanf(p, "%o", &sflags) != 1 ||
		    timespec_field(info, "it_value:", &value) < 0 ||
		    timespec_field(info, "it_interval:", &interval) < 0)
			return bad_fdinfo(pid, f->fd, "timerfd");
		if (clock_gettime(clk, &ts) < 0)
			return pr_errno(-errno, "pid %d: fd %d (timerfd): clock_gettime(%d)", pid, f->fd, clk);
		now = (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
		/* a periodic timer that expired between the two reads shows no
		 * remaining time until it is brought up to date again */
		if (!(interval && !value) || ++tries >= 10)
			break;
	}
	if (interval && !value) {
		pr_err("pid %d: fd %d (timerfd): cannot read a consistent state of its periodic timer "
		       "(interval %" PRIu64 " ns)", pid, f->fd, interval);
		return -EAGAIN;
	}
	e = anonfd_msg_new(&timerfd_state__descriptor);
	if (!e)
		return -ENOMEM;
	e->clockid = clk;
	e->ticks = ticks;
	e->settime_flags = sflags;
	e->remaining_ns = value;
	e->interval_ns = interval;
	if ((sflags & TFD_TIMER_ABSTIME) && value) {
		e->has_expiry_ns = true;
		e->expiry_ns = now + value;
	}
	f->pb.timerfd = e;
	f->pb.kind = FILES_KIND__FILES_TIMERFD;
	pr_debug("pid %d: fd %d: timerfd clock %d flags 0%o remaining %" PRIu64 " ns interval %" PRIu64
		 " ns, %llu unread expirations", pid, f->fd, clk, sflags, value, interval, ticks);
	return 0;
}

int anonfd_classify(struct dump_ctx *c, struct dstate *s, struct dfile *f, const char *link)
{
	const char *k = link + strlen("anon_inode:");
	_cleanup_free_ char *info = NULL;
	int r;

	(void)c;
	if (!strcmp(k, "[eventpoll]"))
		return epoll_dump(s, f);
	if (!strcmp(k, "inotify"))
		return inotify_dump(s, f);
	if (!strcmp(k, "[timerfd]"))
		return timerfd_dump(s, f);
	if (strcmp(k, "[eventfd]") && strcmp(k, "[signalfd]")) {
		pr_err("pid %d: fd %d is %s: not supported yet", s->pid, f->fd, link);
		return -ENOTSUP;
	}
	r = anonfd_fdinfo(s->pid, f->fd, &info);
	if (r < 0)
		return r;
	return !strcmp(k, "[eventfd]") ? eventfd_dump(s, f, info) : signalfd_dump(s, f, info);
}

void anonfd_desc_free(FilesDesc *d)
{
	free(d->eventfd);
	free(d->signalfd);
	free(d->timerfd);
	if (d->epoll) {
		for (size_t i = 0; i < d->epoll->n_targets; i++)
			free(d->epoll->targets[i]);
		free(d->epoll->targets);
		free(d->epoll);
	}
	if (d->inotify) {
		for (size_t i = 0; i < d->inotify->n_watches; i++) {
			InotifyWatch *w = d->inotify->watches[i];
			free(w->handle.data);
			free(w->mnt);
			free(w->path);
			free(w);
		}
		free(d->inotify->watches);
		free(d->inotify);
	}
	d->eventfd = NULL;
	d->signalfd = NULL;
	d->timerfd = NULL;
	d->epoll = NULL;
	d->inotify = NULL;
}

/* --------------------------------------------------------------- restore */

bool anonfd_kind(FilesKind k)
{
	return k == FILES_KIND__FILES_EVENTFD || k == FILES_KIND__FILES_SIGNALFD ||
	       k == FILES_KIND__FILES_TIMERFD || k == FILES_KIND__FILES_EPOLL ||
	       k == FILES_KIND__FILES_INOTIFY;
}

const char *anonfd_kind_name(FilesKind k)
{
	switch (k) {
	case FILES_KIND__FILES_EVENTFD: return "eventfd";
	case FILES_KIND__FILES_SIGNALFD: return "signalfd";
	case FILES_KIND__FILES_TIMERFD: return "timerfd";
	case FILES_KIND__FILES_EPOLL: return "epoll";
	case FILES_KIND__FILES_INOTIFY: return "inotify";
	default: return "?";
	}
}

static bool valid_clock(int clk)
{
	return clk == CLOCK_REALTIME || clk == CLOCK_MONOTONIC || clk == CLOCK_BOOTTIME ||
	       clk == CLOCK_REALTIME_ALARM || clk == CLOCK_BOOTTIME_ALARM;
}

int anonfd_load_check(pid_t pid, int fd, const Files *img, const FilesDesc *d)
{
	const TimerfdState *tm = d->timerfd;
	bool ok;

	switch (d->kind) {
	case FILES_KIND__FILES_EVENTFD:
		ok = d->eventfd && d->eventfd->count != UINT64_MAX;
		break;
	case FILES_KIND__FILES_SIGNALFD:
		ok = d->signalfd != NULL;
		break;
	case FILES_KIND__FILES_TIMERFD:
		ok = tm && valid_clock(tm->clockid) &&
		     !(tm->settime_flags & ~(unsigned)(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) &&
		     (!(tm->settime_flags & TFD_TIMER_ABSTIME) || !tm->remaining_ns || tm->has_expiry_ns);
		break;
	case FILES_KIND__FILES_EPOLL:
		return epoll_load_check(pid, img, d);
	case FILES_KIND__FILES_INOTIFY:
		return inotify_load_check(pid, fd, d);
	default:
		ok = false;
	}
	if (!ok) {
		pr_err("pid %d: files image: the %s state of file description %u is missing or "
		       "inconsistent; the image is damaged", pid, anonfd_kind_name(d->kind), d->id);
		return -EBADMSG;
	}
	return 0;
}

static int eventfd_open(pid_t pid, int fd, const FilesDesc *d)
{
	const EventfdState *e = d->eventfd;
	int flags = EFD_CLOEXEC | (e->semaphore ? EFD_SEMAPHORE : 0) |
		    ((d->flags & O_NONBLOCK) ? EFD_NONBLOCK : 0);
	int n = eventfd(0, flags);

	if (n < 0)
		return pr_errno(-errno, "pid %d: fd %d: eventfd(0, %#x)", pid, fd, flags);
	if (e->count && write(n, &e->count, sizeof(e->count)) != sizeof(e->count)) {
		int r = -errno;
		close(n);
		return pr_errno(r, "pid %d: fd %d: cannot set the eventfd counter to %" PRIu64, pid, fd,
				e->count);
	}
	return n;
}

static int signalfd_open(pid_t pid, int fd, const FilesDesc *d)
{
	uint64_t mask = d->signalfd->sigmask;
	int flags = SFD_CLOEXEC | ((d->flags & O_NONBLOCK) ? SFD_NONBLOCK : 0);
	/* the raw syscall: glibc's sigset functions refuse its own signals 32, 33 */
	int n = (int)syscall(SYS_signalfd4, -1, &mask, sizeof(mask), flags);

	if (n < 0)
		return pr_errno(-errno, "pid %d: fd %d: signalfd4(mask %#" PRIx64 ")", pid, fd, mask);
	return n;
}

static struct timespec ts_of(uint64_t ns)
{
	return (struct timespec){ .tv_sec = (time_t)(ns / NSEC), .tv_nsec = (long)(ns % NSEC) };
}

static int timerfd_open(pid_t pid, int fd, const FilesDesc *d)
{
	const TimerfdState *e = d->timerfd;
	int flags = TFD_CLOEXEC | ((d->flags & O_NONBLOCK) ? TFD_NONBLOCK : 0);
	_cleanup_close_ int n = timerfd_create(e->clockid, flags);
	struct itimerspec its = { .it_interval = ts_of(e->interval_ns) };

	if (n < 0)
		return pr_errno(-errno, "pid %d: fd %d: timerfd_create(clock %d)", pid, fd, e->clockid);
	if (e->remaining_ns)
		its.it_value = ts_of((e->settime_flags & TFD_TIMER_ABSTIME) ? e->expiry_ns : e->remaining_ns);
	/* also when disarmed: the settime flags stay with the timer */
	if (timerfd_settime(n, (int)e->settime_flags, &its, NULL) < 0)
		return pr_errno(-errno, "pid %d: fd %d: timerfd_settime(flags 0%o, value %" PRIu64
				" ns, interval %" PRIu64 " ns)", pid, fd, e->settime_flags,
				(e->settime_flags & TFD_TIMER_ABSTIME) ? e->expiry_ns : e->remaining_ns,
				e->interval_ns);
	if (e->ticks && ioctl(n, TFD_IOC_SET_TICKS, &e->ticks) < 0)
		return pr_errno(-errno, "pid %d: fd %d: cannot give the timerfd back its %" PRIu64 " unread "
				"expirations (TFD_IOC_SET_TICKS needs CONFIG_CHECKPOINT_RESTORE)", pid, fd,
				e->ticks);
	return TAKE_FD(n);
}

int anonfd_open(struct restore_task *t, int fd, const FilesDesc *d, int base)
{
	int n, m, e;

	switch (d->kind) {
	case FILES_KIND__FILES_EVENTFD: n = eventfd_open(t->pid, fd, d); break;
	case FILES_KIND__FILES_SIGNALFD: n = signalfd_open(t->pid, fd, d); break;
	case FILES_KIND__FILES_TIMERFD: n = timerfd_open(t->pid, fd, d); break;
	case FILES_KIND__FILES_EPOLL: n = epoll_open(t->pid, fd, d); break;
	case FILES_KIND__FILES_INOTIFY: n = inotify_open(t->pid, fd, d); break;
	default: return -EINVAL;
	}
	if (n < 0)
		return n;
	/* the dumped O_NONBLOCK */
	if (fcntl(n, F_SETFL, d->flags & O_NONBLOCK) < 0) {
		e = -errno;
		close(n);
		return pr_errno(e, "pid %d: fd %d (%s): cannot set its flags 0%o", t->pid, fd,
				anonfd_kind_name(d->kind), d->flags);
	}
	m = fcntl(n, F_DUPFD_CLOEXEC, base);
	e = -errno;
	close(n);
	if (m < 0)
		return pr_errno(e, "pid %d: fd %d (%s): cannot move it above fd %d", t->pid, fd,
				anonfd_kind_name(d->kind), base);
	return m;
}

int anonfd_prepare2(struct restore_ctx *c, struct restore_task *t)
{
	struct rstate *s = t->priv[MOD_FILES];
	Files *img;
	int r;

	(void)c;
	if (!s)
		return 0;
	img = s->img;
	/* inotify first: an epoll watching an instance is registered once it
	 * has its watches and the events of its skipped wds are read away */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < img->n_descs; i++) {
			FilesDesc *d = img->descs[i];
			FilesKind k = pass ? FILES_KIND__FILES_EPOLL : FILES_KIND__FILES_INOTIFY;
			if (d->kind != k || s->first_fd[i] < 0 || files_desc_remote(d))
				continue;
			r = pass ? epoll_register(t->pid, s->first_fd[i], d) :
				   inotify_register(t->pid, s->first_fd[i], d);
			if (r < 0)
				return r;
		}
	return 0;
}
