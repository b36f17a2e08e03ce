/* SPDX-License-Identifier: MIT */
/*
 * Pseudo-terminals: pty pairs with their master in the tree (module
 * MOD_TTY, image tty.img, schema images/tty.proto).
 *
 * Dump.  files_kinds.c hands every pty fd to tty_classify().  A master
 * (TIOCGPTN) makes one TtyPty per index; a slave (/dev/pts/N) belongs to it
 * when a master of that index and devpts instance is held in the tree,
 * else it is a terminal from outside (--shell-job, as before, or refused by
 * name).  Every distinct slave description is one TtySlave (found across
 * tasks with kcmp).  Once every task is dumped (.dump_fini, the tree still
 * frozen) crest reads each pty's state through its own copy of the master
 * (pidfd_getfd): termios, window size, packet mode, lock, exclusive modes,
 * the session and foreground group (TIOCGSID, TIOCGPGRP), and the bytes
 * not read yet in both directions.  Reading consumes them, so crest puts
 * them straight back (TIOCSTI, which feeds the line discipline
 * synchronously) with echo, signals and input processing switched off for
 * the moment: the tree goes on with the same queues whatever happens next.
 * Processes outside the tree holding a slave or the master, or having it as
 * their controlling terminal, fail the dump by name.
 *
 * Restore.  Before the fork crest opens ptmx of the devpts instance (today
 * crest's /dev/pts) until the kernel hands out the dumped index (it gives
 * the lowest free one: lower free indices are held meanwhile), sets the
 * state, puts the queued bytes back, opens the slave descriptions with
 * their flags (TIOCGPTPEER), and holds all of it above every task's fds:
 * the tasks inherit it and dup what they use (tty_open).  A session leader
 * whose controlling terminal it was takes it with TIOCSCTTY right after
 * setsid(), before it forks, so its children inherit it; a task that had
 * none drops it (TIOCNOTTY, .prepare); the leader sets the foreground
 * group once every group exists (TIOCSPGRP, .prepare2).
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <termios.h>
#include "tty.h"
#include "tty.pb-c.h"
#include "image/image.h"
#include "util/log.h"
#include "pstree.pb-c.h"
#include "core/task.h"
#include "util/util.h"

#ifndef SYS_kcmp
#define SYS_kcmp 312
#endif

/* struct termios2 as the kernel has it (asm/termbits.h clashes with glibc). */
#define TTY_NCCS 19
struct ktermios2 {
	uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
	uint8_t c_line;
	uint8_t c_cc[TTY_NCCS];
	uint32_t c_ispeed, c_ospeed;
};
#define CREST_TCGETS2 _IOR('T', 0x2A, struct ktermios2)
#define CREST_TCSETS2 _IOW('T', 0x2B, struct ktermios2)

#define PTS_MAJOR_FIRST 136
#define PTS_MAJOR_LAST 143
/* the devpts instance ptys are made in (the mount engineer's seam: a
 * container's own instance later) */
#define DEVPTS_DIR "/dev/pts"

bool tty_is_pty(const struct stat *st)
{
	unsigned ma = major(st->st_rdev), mi = minor(st->st_rdev);

	if (!S_ISCHR(st->st_mode))
		return false;
	return (ma == 5 && mi == 2) || (ma >= 128 && ma <= 135) ||
	       (ma >= PTS_MAJOR_FIRST && ma <= PTS_MAJOR_LAST);
}

static bool is_master(const struct stat *st)
{
	unsigned ma = major(st->st_rdev);
	return !(ma >= PTS_MAJOR_FIRST && ma <= PTS_MAJOR_LAST);
}

static uint32_t slave_index(dev_t rdev)
{
	return (major(rdev) - PTS_MAJOR_FIRST) * 256 + minor(rdev);
}

/* ------------------------------------------------------------ line queues */

/* The termios for putting bytes back into an input queue: no input
 * processing, echo or signals; canonical as it was, with IEXTEN so that
 * VLNEXT can quote the bytes the line editor would act on. */
static void inject_termios(const struct ktermios2 *real, struct ktermios2 *t)
{
	*t = *real;
	t->c_iflag = 0;
	t->c_lflag &= ~(uint32_t)(ECHO | ECHOE | ECHOK | ECHONL | ECHOCTL | ECHOKE | ECHOPRT | ISIG |
				  TOSTOP | FLUSHO | PENDIN);
	if (t->c_lflag & ICANON) {
		t->c_lflag |= IEXTEN;
		if (!t->c_cc[VLNEXT])
			t->c_cc[VLNEXT] = 'V' & 0x1f;
	} else {
		t->c_lflag &= ~(uint32_t)IEXTEN;
	}
}

static bool cc_is(const struct ktermios2 *t, int i, uint8_t c)
{
	return t->c_cc[i] && t->c_cc[i] == c;
}

/* Does the canonical line editor act on c (under inject_termios)? */
static bool canon_special(const struct ktermios2 *t, uint8_t c)
{
	return c == '\n' || cc_is(t, VERASE, c) || cc_is(t, VKILL, c) || cc_is(t, VEOF, c) ||
	       cc_is(t, VEOL, c) || cc_is(t, VEOL2, c) || cc_is(t, VWERASE, c) ||
	       cc_is(t, VREPRINT, c) || cc_is(t, VLNEXT, c);
}

static bool line_end(const struct ktermios2 *t, uint8_t c)
{
	return c == '\n' || cc_is(t, VEOL, c) || cc_is(t, VEOL2, c);
}

static int sti(int fd, uint8_t c)
{
	return ioctl(fd, TIOCSTI, &c) < 0 ? -errno : 0;
}

/* Feed bytes to the line discipline of fd (t: the termios in effect, from
 * inject_termios).  kind: 0 raw, 1 a complete canonical line (its last
 * byte ends it; without a line end it was ended by VEOF), 2 the canonical
 * line being typed. */
static int sti_bytes(int fd, const struct ktermios2 *t, const uint8_t *p, size_t n, int kind)
{
	size_t body = n;
	int r = 0;

	if (kind == 1 && n && line_end(t, p[n - 1]))
		body = n - 1;
	for (size_t i = 0; r == 0 && i < body; i++) {
		if (kind && canon_special(t, p[i]))
			r = sti(fd, t->c_cc[VLNEXT]);
		if (r == 0)
			r = sti(fd, p[i]);
	}
	if (r == 0 && kind == 1)
		r = body < n ? sti(fd, p[n - 1]) : sti(fd, t->c_cc[VEOF]);
	return r;
}

/* ------------------------------------------------------------------ dump */

struct dpty {
	TtyPty pb;
	TtyTermios tio;
	struct ktermios2 kt;
	uint64_t devpts;
	int mfd;                /* our copy of the master */
	pid_t mpid;             /* a holder of the master, for messages */
	int mtfd;
	bool has_slave;         /* a slave description in the tree */
	uint8_t **lines;        /* to_slave */
	size_t nr_lines;
	uint8_t *partial, *out;
	size_t partial_len, out_len;
	bool state_read, put_back;
};

struct dslave {
	TtySlave pb;
	uint32_t pty;
};

struct ctty_ent {
	pid_t pid;
	uint32_t pty;
};

struct tty_dump {
	struct dpty *ptys;
	size_t nr_ptys;
	struct dslave *slaves;
	size_t nr_slaves;
	struct ctty_ent *ctty;
	size_t nr_ctty;
	/* masters held in the tree, found on the first pty fd */
	struct tmaster { uint32_t index; uint64_t devpts; pid_t pid; int fd; } *masters;
	size_t nr_masters;
	bool scanned;
};

static struct tty_dump *tty_dump_get(struct dump_ctx *c)
{
	if (!c->mod[MOD_TTY])
		c->mod[MOD_TTY] = xzalloc(sizeof(struct tty_dump));
	return c->mod[MOD_TTY];
}

/* The devpts instance and slave inode of a master (an O_PATH slave: the
 * slave is not opened, the lock does not matter). */
static int master_peer_stat(int mfd, struct stat *st)
{
	_cleanup_close_ int p = ioctl(mfd, TIOCGPTPEER, O_PATH | O_NOCTTY | O_CLOEXEC);

	if (p < 0)
		return -errno;
	return fstat(p, st) < 0 ? -errno : 0;
}

/* "tty-index:" of /proc/PID/fdinfo/FD, or -1. */
static long fdinfo_tty_index(pid_t pid, const char *fd)
{
	char name[64];
	_cleanup_free_ char *buf = NULL;
	const char *p;

	snprintf(name, sizeof(name), "fdinfo/%s", fd);
	if (proc_read(pid, name, &buf, NULL) < 0 || !(p = strstr(buf, "tty-index:")))
		return -1;
	return strtol(p + 10, NULL, 10);
}

static bool link_is_ptmx(const char *l)
{
	size_t n = strlen(l);
	return n >= 5 && !strcmp(l + n - 5, "/ptmx");
}

/* The masters every task of the tree holds (index, devpts instance). */
static int scan_masters(struct dump_ctx *c, struct tty_dump *d)
{
	for (size_t i = 0; i < c->nr_tasks; i++) {
		struct dump_task *t = c->tasks[i];
		char path[64];
		DIR *dir;
		struct dirent *de;

		_cleanup_close_ int own = -1;
		int pidfd = t->pidfd;

		if (t->zombie)
			continue;
		if (pidfd < 0 && (pidfd = own = (int)syscall(SYS_pidfd_open, t->pid, 0)) < 0)
			return pr_errno(-errno, "pid %d: pidfd_open", t->pid);
		snprintf(path, sizeof(path), "/proc/%d/fd", t->pid);
		dir = opendir(path);
		if (!dir)
			return pr_errno(-errno, "pid %d: cannot list its fds (%s)", t->pid, path);
		while ((de = readdir(dir))) {
			_cleanup_free_ char *l = NULL;
			_cleanup_close_ int fd = -1;
			struct stat st;
			long idx;
			if (de->d_name[0] == '.' || readlink_at(dirfd(dir), de->d_name, &l) < 0 ||
			    !link_is_ptmx(l) || (idx = fdinfo_tty_index(t->pid, de->d_name)) < 0)
				continue;
			fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(de->d_name), 0);
			if (fd < 0 || master_peer_stat(fd, &st) < 0)
				continue;
			struct tmaster *n = realloc(d->masters, (d->nr_masters + 1) * sizeof(*n));
			if (!n) {
				closedir(dir);
				return pr_errno(-ENOMEM, "pid %d: terminals", t->pid);
			}
			d->masters = n;
			n[d->nr_masters++] = (struct tmaster){ (uint32_t)idx, st.st_dev, t->pid,
							      atoi(de->d_name) };
		}
		closedir(dir);
	}
	d->scanned = true;
	return 0;
}

/* Who outside the tree holds the master of /dev/pts/index (for messages). */
static void outside_master(struct dump_ctx *c, uint32_t index, char *buf, size_t len)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;

	snprintf(buf, len, "its master is not held by any process crest can see");
	while (proc && (de = readdir(proc))) {
		pid_t p = (pid_t)atoi(de->d_name);
		char path[64];
		DIR *fdd;
		struct dirent *fe;
		bool found = false;

		if (p <= 0 || p == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", p);
		if (!(fdd = opendir(path)))
			continue;
		while (!found && (fe = readdir(fdd))) {
			_cleanup_free_ char *l = NULL, *comm = NULL;
			if (fe->d_name[0] == '.' || readlink_at(dirfd(fdd), fe->d_name, &l) < 0 ||
			    !link_is_ptmx(l) || fdinfo_tty_index(p, fe->d_name) != (long)index)
				continue;
			proc_read(p, "comm", &comm, NULL);
			if (comm && strchr(comm, '\n'))
				*strchr(comm, '\n') = 0;
			snprintf(buf, len, "its master is held by pid %d (%.20s) fd %.16s, outside the tree", p,
				 comm ? comm : "?", fe->d_name);
			found = true;
		}
		closedir(fdd);
		if (found)
			break;
	}
	if (proc)
		closedir(proc);
	(void)c;
}

static struct dpty *find_pty(struct tty_dump *d, uint32_t index, uint64_t devpts)
{
	for (size_t i = 0; i < d->nr_ptys; i++)
		if (d->ptys[i].pb.index == index && d->ptys[i].devpts == devpts)
			return &d->ptys[i];
	return NULL;
}

static struct dpty *add_pty(struct tty_dump *d, uint32_t index, uint64_t devpts, pid_t pid, int fd)
{
	struct dpty *n = realloc(d->ptys, (d->nr_ptys + 1) * sizeof(*n)), *p;

	if (!n)
		return NULL;
	d->ptys = n;
	p = &d->ptys[d->nr_ptys];
	memset(p, 0, sizeof(*p));
	tty_pty__init(&p->pb);
	tty_termios__init(&p->tio);
	p->pb.id = (uint32_t)d->nr_ptys++;
	p->pb.index = index;
	p->pb.devpts_dev = devpts;
	p->devpts = devpts;
	p->mfd = -1;
	p->mpid = pid;
	p->mtfd = fd;
	return p;
}

int tty_refuse_outside(struct dstate *s, struct dfile *f, const char *link, const struct stat *st)
{
	char who[160];

	outside_master(NULL, slave_index(st->st_rdev), who, sizeof(who));
	pr_err("pid %d: fd %d is the terminal %s and %s: dump the process that holds the master "
	       "with the tree, or add --shell-job if it is the terminal crest runs in", s->pid, f->fd,
	       link, who);
	return -ENOTSUP;
}

static int classify_master(struct dump_ctx *c, struct tty_dump *d, struct dstate *s, struct dfile *f,
			   const char *link)
{
	struct stat pst;
	struct dpty *p;
	int idx, r;

	if (ioctl(f->lfd, TIOCGPTN, &idx) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): TIOCGPTN", s->pid, f->fd, link);
	r = master_peer_stat(f->lfd, &pst);
	if (r < 0)
		return pr_errno(r, "pid %d: fd %d (%s, pty %d): cannot reach its slave (TIOCGPTPEER)",
				s->pid, f->fd, link, idx);
	p = find_pty(d, (uint32_t)idx, pst.st_dev);
	if (!p) {
		p = add_pty(d, (uint32_t)idx, pst.st_dev, s->pid, f->fd);
		if (!p)
			return pr_errno(-ENOMEM, "pid %d: fd %d (%s)", s->pid, f->fd, link);
	}
	if (p->mfd < 0) {
		p->mfd = fcntl(f->lfd, F_DUPFD_CLOEXEC, 3);
		if (p->mfd < 0)
			return pr_errno(-errno, "pid %d: fd %d (%s): dup", s->pid, f->fd, link);
		p->pb.master_flags = f->pb.flags;
		p->pb.slave_mode = pst.st_mode;
		p->pb.slave_uid = pst.st_uid;
		p->pb.slave_gid = pst.st_gid;
		p->mpid = s->pid;
		p->mtfd = f->fd;
	}
	f->pb.kind = FILES_KIND__FILES_PTY_MASTER;
	f->pb.has_tty_id = true;
	f->pb.tty_id = p->pb.id;
	pr_debug("pid %d: fd %d (%s): master of pty %d", s->pid, f->fd, link, idx);
	return 0;
}

static int classify_slave(struct dump_ctx *c, struct tty_dump *d, struct dstate *s, struct dfile *f,
			  const char *link, const struct stat *st)
{
	uint32_t idx = slave_index(st->st_rdev);
	struct dpty *p = find_pty(d, idx, st->st_dev);
	struct tmaster *m = NULL;
	struct dslave *sl;
	int r;

	if (!d->scanned && (r = scan_masters(c, d)) < 0)
		return r;
	for (size_t i = 0; i < d->nr_masters && !m; i++)
		if (d->masters[i].index == idx && d->masters[i].devpts == st->st_dev)
			m = &d->masters[i];
	if (!m)
		return 1;       /* a terminal from outside the tree */
	if (!p) {
		p = add_pty(d, idx, st->st_dev, m->pid, m->fd);
		if (!p)
			return pr_errno(-ENOMEM, "pid %d: fd %d (%s)", s->pid, f->fd, link);
	}
	p->has_slave = true;
	f->pb.kind = FILES_KIND__FILES_PTY_SLAVE;
	f->pb.has_tty_id = f->pb.has_tty_slave = true;
	f->pb.tty_id = p->pb.id;
	/* the same description in another task (inherited across fork)? */
	for (size_t i = 0; i < d->nr_slaves; i++) {
		struct dslave *o = &d->slaves[i];
		long k;
		if (o->pty != p->pb.id || o->pb.flags != f->pb.flags || o->pb.pid == s->pid)
			continue;
		k = syscall(SYS_kcmp, s->pid, o->pb.pid, KCMP_FILE, f->fd, o->pb.fd);
		if (k == 0) {
			f->pb.tty_slave = o->pb.id;
			return 0;
		}
	}
	sl = realloc(d->slaves, (d->nr_slaves + 1) * sizeof(*sl));
	if (!sl)
		return pr_errno(-ENOMEM, "pid %d: fd %d (%s)", s->pid, f->fd, link);
	d->slaves = sl;
	sl = &d->slaves[d->nr_slaves];
	tty_slave__init(&sl->pb);
	sl->pb.id = (uint32_t)d->nr_slaves++;
	sl->pb.pty = p->pb.id;
	sl->pb.flags = f->pb.flags;
	sl->pb.pid = s->pid;
	sl->pb.fd = f->fd;
	sl->pty = p->pb.id;
	f->pb.tty_slave = sl->pb.id;
	pr_debug("pid %d: fd %d (%s): slave of pty %u, description %u", s->pid, f->fd, link, idx,
		 sl->pb.id);
	return 0;
}

int tty_classify(struct dump_ctx *c, struct dstate *s, struct dfile *f, const char *link,
		 const struct stat *st)
{
	struct tty_dump *d = tty_dump_get(c);

	if (!d)
		return -ENOMEM;
	if (f->pb.flags & O_PATH)
		return 1;
	return is_master(st) ? classify_master(c, d, s, f, link) : classify_slave(c, d, s, f, link, st);
}

/* Read what fd has queued for its reader (non-blocking, our own
 * description); canon: one entry per line. */
static int read_queue(struct dpty *p, int fd, bool canon, const char *what)
{
	uint8_t buf[4096];

	for (int n = 0; n < 8192; n++) {
		ssize_t got = read(fd, buf, sizeof(buf));
		uint8_t **nl;
		if (got < 0 && (errno == EAGAIN || errno == EIO))
			return 0;
		if (got < 0)
			return pr_errno(-errno, "pid %d: pty %u: reading the %s", p->mpid, p->pb.index, what);
		if (got == 0 && !canon)
			return 0;
		nl = realloc(p->lines, (p->nr_lines + 1) * sizeof(*nl));
		if (!nl)
			return -ENOMEM;
		p->lines = nl;
		if (!(nl[p->nr_lines] = malloc((size_t)got + 1)))
			return -ENOMEM;
		memcpy(nl[p->nr_lines], buf, (size_t)got);
		p->pb.n_to_slave = ++p->nr_lines;
		p->pb.to_slave = realloc(p->pb.to_slave, p->nr_lines * sizeof(*p->pb.to_slave));
		if (!p->pb.to_slave)
			return -ENOMEM;
		p->pb.to_slave[p->nr_lines - 1] = (ProtobufCBinaryData){ (size_t)got, nl[p->nr_lines - 1] };
	}
	return 0;
}

/* Read everything, non-blocking, into *out. */
static int read_all(int fd, uint8_t **out, size_t *len)
{
	uint8_t buf[4096];

	for (;;) {
		ssize_t got = read(fd, buf, sizeof(buf));
		uint8_t *n;
		if (got < 0 && (errno == EAGAIN || errno == EIO))
			return 0;
		if (got < 0)
			return -errno;
		if (got == 0)
			return 0;
		n = realloc(*out, *len + (size_t)got);
		if (!n)
			return -ENOMEM;
		memcpy(n + *len, buf, (size_t)got);
		*out = n;
		*len += (size_t)got;
	}
}

/* The master's input (what the slave wrote): raw, FIONREAD is exact. */
static int read_master(struct dpty *p)
{
	for (int round = 0; round < 64; round++) {
		int avail = 0;
		uint8_t *n;
		if (ioctl(p->mfd, FIONREAD, &avail) < 0)
			return pr_errno(-errno, "pid %d: pty %u: FIONREAD on the master", p->mpid, p->pb.index);
		if (avail <= 0) {
			if (round)
				return 0;
			usleep(1000);   /* bytes still on their way to the line discipline */
			continue;
		}
		n = realloc(p->out, p->out_len + (size_t)avail);
		if (!n)
			return -ENOMEM;
		p->out = n;
		ssize_t got = read(p->mfd, p->out + p->out_len, (size_t)avail);
		if (got < 0)
			return pr_errno(-errno, "pid %d: pty %u: reading the master", p->mpid, p->pb.index);
		p->out_len += (size_t)got;
	}
	return 0;
}

/* Put the queues read from p back (dump: into the live pty; restore: into
 * the new one).  slave: a slave description (-1: none). */
static int put_back(int mfd, int slave, const struct ktermios2 *real, const TtyPty *pb, pid_t pid)
{
	struct ktermios2 t;
	bool canon = real->c_lflag & ICANON;
	int r = 0;

	if (slave >= 0 && (pb->n_to_slave || pb->has_to_slave_partial)) {
		inject_termios(real, &t);
		if (ioctl(mfd, CREST_TCSETS2, &t) < 0)
			return pr_errno(-errno, "pid %d: pty %u: TCSETS2", pid, pb->index);
		for (size_t i = 0; r == 0 && i < pb->n_to_slave; i++)
			r = sti_bytes(slave, &t, pb->to_slave[i].data, pb->to_slave[i].len, canon ? 1 : 0);
		if (r == 0 && pb->has_to_slave_partial)
			r = sti_bytes(slave, &t, pb->to_slave_partial.data, pb->to_slave_partial.len, 2);
		if (ioctl(mfd, CREST_TCSETS2, real) < 0 && r == 0)
			r = -errno;
		if (r < 0)
			return pr_errno(r, "pid %d: pty %u: putting back the %zu line(s) queued for the slave "
					"(TIOCSTI, needs CAP_SYS_ADMIN)", pid, pb->index, pb->n_to_slave);
	}
	for (size_t i = 0; pb->has_to_master && i < pb->to_master.len && r == 0; i++)
		r = sti(mfd, pb->to_master.data[i]);
	if (r < 0)
		return pr_errno(r, "pid %d: pty %u: putting back the %zu bytes queued for the master (TIOCSTI)",
				pid, pb->index, pb->to_master.len);
	return 0;
}

/* The state of one pty, read through our copy of the master. */
static int read_pty(struct dpty *p)
{
	_cleanup_close_ int sl = -1;
	struct winsize ws;
	int v, lock = 0, pkt = 0, r;
	pid_t pid = p->mpid;
	uint32_t idx = p->pb.index;

	if (p->mfd < 0) {
		pr_err("pid %d: pty %u: no master copy", pid, idx);
		return -EINVAL;
	}
	if (ioctl(p->mfd, CREST_TCGETS2, &p->kt) < 0 || ioctl(p->mfd, TIOCGWINSZ, &ws) < 0 ||
	    ioctl(p->mfd, TIOCGPTLCK, &lock) < 0 || ioctl(p->mfd, TIOCGPKT, &pkt) < 0)
		return pr_errno(-errno, "pid %d: fd %d (pty %u): reading its termios, window size, lock or "
				"packet mode", pid, p->mtfd, idx);
	p->tio.iflag = p->kt.c_iflag;
	p->tio.oflag = p->kt.c_oflag;
	p->tio.cflag = p->kt.c_cflag;
	p->tio.lflag = p->kt.c_lflag;
	p->tio.line = p->kt.c_line;
	p->tio.cc = (ProtobufCBinaryData){ TTY_NCCS, p->kt.c_cc };
	p->tio.ispeed = p->kt.c_ispeed;
	p->tio.ospeed = p->kt.c_ospeed;
	p->pb.termios = &p->tio;
	if (p->kt.c_line != 0) {
		pr_err("pid %d: fd %d (pty %u) uses line discipline %u: only N_TTY is supported", pid,
		       p->mtfd, idx, p->kt.c_line);
		return -ENOTSUP;
	}
	p->pb.rows = ws.ws_row;
	p->pb.cols = ws.ws_col;
	p->pb.xpixel = ws.ws_xpixel;
	p->pb.ypixel = ws.ws_ypixel;
	p->pb.locked = lock;
	p->pb.packet = pkt;
	p->pb.excl_master = ioctl(p->mfd, TIOCGEXCL, &v) == 0 && v;
	if (ioctl(p->mfd, TIOCGSID, &v) == 0 && v > 0) {
		p->pb.has_sid = true;
		p->pb.sid = v;
		if (ioctl(p->mfd, TIOCGPGRP, &v) == 0 && v > 0) {
			p->pb.has_fg_pgrp = true;
			p->pb.fg_pgrp = v;
		}
	}
	struct pollfd pfd = { .fd = p->mfd, .events = POLLIN };
	p->pb.slave_hup = poll(&pfd, 1, 0) >= 0 && (pfd.revents & POLLHUP) && !p->has_slave;

	/* the master's input, packet mode off meanwhile (no status byte) */
	if (pkt && ioctl(p->mfd, TIOCPKT, &(int){ 0 }) < 0)
		return pr_errno(-errno, "pid %d: pty %u: TIOCPKT", pid, idx);
	r = read_master(p);
	if (pkt && ioctl(p->mfd, TIOCPKT, &(int){ 1 }) < 0 && r == 0)
		r = pr_errno(-errno, "pid %d: pty %u: TIOCPKT", pid, idx);
	if (r < 0)
		return r;
	if (p->out_len) {
		p->pb.has_to_master = true;
		p->pb.to_master = (ProtobufCBinaryData){ p->out_len, p->out };
	}
	p->state_read = true;   /* from here on what was read goes back */

	/* the slave's input, through a slave description of our own (only
	 * when the tree has one open: opening the first would change what
	 * the master sees when it is closed again) */
	if (p->has_slave) {
		if (lock && ioctl(p->mfd, TIOCSPTLCK, &(int){ 0 }) < 0)
			return pr_errno(-errno, "pid %d: pty %u: unlock", pid, idx);
		sl = ioctl(p->mfd, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (lock)
			ioctl(p->mfd, TIOCSPTLCK, &(int){ 1 });
		if (sl < 0)
			return pr_errno(-errno, "pid %d: pty %u: cannot open its slave (TIOCGPTPEER)", pid, idx);
		p->pb.excl_slave = ioctl(sl, TIOCGEXCL, &v) == 0 && v;
		r = read_queue(p, sl, p->kt.c_lflag & ICANON, "slave's input");
		if (r == 0 && (p->kt.c_lflag & ICANON)) {
			struct ktermios2 raw = p->kt;
			raw.c_lflag &= ~(uint32_t)(ICANON | ECHO | ECHOE | ECHOK | ECHONL | ISIG);
			if (ioctl(p->mfd, CREST_TCSETS2, &raw) < 0)
				r = -errno;
			else
				r = read_all(sl, &p->partial, &p->partial_len);
			if (ioctl(p->mfd, CREST_TCSETS2, &p->kt) < 0 && r == 0)
				r = -errno;
			if (r == 0 && p->partial_len) {
				p->pb.has_to_slave_partial = true;
				p->pb.to_slave_partial = (ProtobufCBinaryData){ p->partial_len, p->partial };
			}
		}
		if (r < 0)
			return pr_errno(r, "pid %d: pty %u: reading what the slave has not read yet", pid, idx);
	}
	/* back into the live pty at once */
	r = put_back(p->mfd, sl, &p->kt, &p->pb, pid);
	p->put_back = r == 0;
	if (r < 0)
		return r;
	pr_info("pid %d: fd %d: pty %u (/dev/pts/%u): %ux%u, %s%s%s, %zu line(s) + %zu bytes queued "
		"for the slave, %zu bytes for the master", pid, p->mtfd, idx, idx, p->pb.cols, p->pb.rows,
		p->kt.c_lflag & ICANON ? "canonical" : "raw", pkt ? ", packet mode" : "",
		lock ? ", locked" : "", p->nr_lines, p->partial_len, p->out_len);
	return 0;
}

static bool in_tree(struct dump_ctx *c, pid_t p)
{
	for (size_t i = 0; i < c->nr_tasks; i++)
		if (c->tasks[i]->pid == p)
			return true;
	return false;
}

/* Processes outside the tree using one of its ptys: a slave or the master
 * open, or it as their controlling terminal. */
static int check_outside(struct dump_ctx *c, struct tty_dump *d)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	int ret = 0;

	if (!proc)
		return pr_errno(-errno, "cannot list /proc to look for other users of the terminals");
	while (!ret && (de = readdir(proc))) {
		pid_t p = (pid_t)atoi(de->d_name);
		_cleanup_free_ char *stat = NULL;
		char path[64];
		DIR *fdd;
		struct dirent *fe;
		unsigned tty_nr = 0;
		char *e;

		if (p <= 0 || p == getpid() || in_tree(c, p))
			continue;
		if (proc_read(p, "stat", &stat, NULL) == 0 && (e = strrchr(stat, ')')) &&
		    sscanf(e + 2, "%*c %*d %*d %*d %u", &tty_nr) == 1 && tty_nr) {
			unsigned ma = (tty_nr >> 8) & 0xfff, mi = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
			for (size_t i = 0; i < d->nr_ptys && ma >= PTS_MAJOR_FIRST && ma <= PTS_MAJOR_LAST; i++)
				if (d->ptys[i].pb.index == slave_index(makedev(ma, mi)) &&
				    d->ptys[i].mfd >= 0) {
					pr_err("pid %d: fd %d is the master of /dev/pts/%u, the controlling terminal "
					       "of pid %d, outside the dumped tree: dump a tree with every process "
					       "of that terminal's session", d->ptys[i].mpid, d->ptys[i].mtfd,
					       d->ptys[i].pb.index, p);
					ret = -ENOTSUP;
				}
		}
		snprintf(path, sizeof(path), "/proc/%d/fd", p);
		if (ret || !(fdd = opendir(path)))
			continue;
		while (!ret && (fe = readdir(fdd))) {
			_cleanup_free_ char *l = NULL;
			struct stat st;
			if (fe->d_name[0] == '.' || readlink_at(dirfd(fdd), fe->d_name, &l) < 0)
				continue;
			if (link_is_ptmx(l)) {
				long idx = fdinfo_tty_index(p, fe->d_name);
				for (size_t i = 0; i < d->nr_ptys; i++)
					if ((long)d->ptys[i].pb.index == idx && d->ptys[i].mfd >= 0 &&
					    fstatat(dirfd(fdd), fe->d_name, &st, 0) == 0) {
						int kfd = d->ptys[i].mtfd;
						if (syscall(SYS_kcmp, d->ptys[i].mpid, p, KCMP_FILE, kfd,
							    atoi(fe->d_name)) == 0) {
							pr_err("pid %d: fd %d is the master of /dev/pts/%u, which pid %d "
							       "outside the dumped tree holds too (fd %s): dump the "
							       "tree with every holder", d->ptys[i].mpid, kfd,
							       d->ptys[i].pb.index, p, fe->d_name);
							ret = -ENOTSUP;
						}
					}
				continue;
			}
			if (strncmp(l, "/dev/pts/", 9) || fstatat(dirfd(fdd), fe->d_name, &st, 0) < 0 ||
			    !S_ISCHR(st.st_mode) || major(st.st_rdev) < PTS_MAJOR_FIRST ||
			    major(st.st_rdev) > PTS_MAJOR_LAST)
				continue;
			struct dpty *t = find_pty(d, slave_index(st.st_rdev), st.st_dev);
			if (!t)
				continue;
			pr_err("pid %d: fd %d is the master of %s, whose slave pid %d outside the dumped tree "
			       "holds (fd %s): dump a tree with every process using that terminal", t->mpid,
			       t->mtfd, l, p, fe->d_name);
			ret = -ENOTSUP;
		}
		closedir(fdd);
	}
	closedir(proc);
	return ret;
}

/* Tasks whose controlling terminal is one of the ptys; the session must
 * be led by a task of the tree. */
static int find_ctty(struct dump_ctx *c, struct tty_dump *d)
{
	for (size_t i = 0; i < c->nr_tasks; i++) {
		struct dump_task *t = c->tasks[i];
		_cleanup_free_ char *stat = NULL;
		unsigned tty_nr = 0, ma, mi;
		struct dpty *p = NULL;
		char *e;

		if (t->zombie || proc_read(t->pid, "stat", &stat, NULL) < 0 || !(e = strrchr(stat, ')')) ||
		    sscanf(e + 2, "%*c %*d %*d %*d %u", &tty_nr) != 1 || !tty_nr)
			continue;
		ma = (tty_nr >> 8) & 0xfff;
		mi = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
		if (ma < PTS_MAJOR_FIRST || ma > PTS_MAJOR_LAST)
			continue;
		for (size_t k = 0; k < d->nr_ptys && !p; k++)
			if (d->ptys[k].pb.index == slave_index(makedev(ma, mi)) && d->ptys[k].mfd >= 0)
				p = &d->ptys[k];
		if (!p)
			continue;       /* a terminal from outside (--shell-job) */
		if (!p->pb.has_sid || !in_tree(c, p->pb.sid)) {
			pr_err("pid %d: its controlling terminal /dev/pts/%u belongs to session %d, led by a "
			       "process outside the dumped tree: dump from the session leader", t->pid,
			       p->pb.index, p->pb.has_sid ? p->pb.sid : 0);
			return -ENOTSUP;
		}
		struct ctty_ent *n = realloc(d->ctty, (d->nr_ctty + 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		d->ctty = n;
		n[d->nr_ctty++] = (struct ctty_ent){ t->pid, p->pb.id };
	}
	return 0;
}

static int write_image(struct dump_ctx *c, struct tty_dump *d)
{
	_cleanup_free_ TtyPty **pp = calloc(d->nr_ptys + 1, sizeof(*pp));
	_cleanup_free_ TtySlave **ps = calloc(d->nr_slaves + 1, sizeof(*ps));
	_cleanup_free_ TtyCtty *cc = calloc(d->nr_ctty + 1, sizeof(*cc));
	_cleanup_free_ TtyCtty **pc = calloc(d->nr_ctty + 1, sizeof(*pc));
	Ttys img = TTYS__INIT;

	if (!pp || !ps || !cc || !pc)
		return -ENOMEM;
	for (size_t i = 0; i < d->nr_ptys; i++)
		pp[i] = &d->ptys[i].pb;
	for (size_t i = 0; i < d->nr_slaves; i++)
		ps[i] = &d->slaves[i].pb;
	for (size_t i = 0; i < d->nr_ctty; i++) {
		tty_ctty__init(&cc[i]);
		cc[i].pid = d->ctty[i].pid;
		cc[i].pty = d->ctty[i].pty;
		pc[i] = &cc[i];
	}
	img.n_ptys = d->nr_ptys;
	img.ptys = pp;
	img.n_slaves = d->nr_slaves;
	img.slaves = ps;
	img.n_ctty = d->nr_ctty;
	img.ctty = pc;
	return img_write(c->dirfd, "tty.img", &img.base);
}

static void tty_dump_free(struct dump_ctx *c)
{
	struct tty_dump *d = c->mod[MOD_TTY];

	if (!d)
		return;
	for (size_t i = 0; i < d->nr_ptys; i++) {
		struct dpty *p = &d->ptys[i];
		if (p->mfd >= 0)
			close(p->mfd);
		for (size_t k = 0; k < p->nr_lines; k++)
			free(p->lines[k]);
		free(p->lines);
		free(p->pb.to_slave);
		free(p->partial);
		free(p->out);
	}
	free(d->ptys);
	free(d->slaves);
	free(d->ctty);
	free(d->masters);
	free(d);
	c->mod[MOD_TTY] = NULL;
}

static int tty_dump_fini(struct dump_ctx *c, bool ok)
{
	struct tty_dump *d = c->mod[MOD_TTY];
	int r = 0;

	if (!d || !d->nr_ptys || !ok)
		goto out;
	for (size_t i = 0; i < d->nr_ptys; i++)
		if (d->ptys[i].mfd < 0) {
			pr_err("pid %d: pty %u: its master is in the tree but was not dumped", d->ptys[i].mpid,
			       d->ptys[i].pb.index);
			r = -EINVAL;
			goto out;
		}
	r = check_outside(c, d);
	for (size_t i = 0; r == 0 && i < d->nr_ptys; i++)
		r = read_pty(&d->ptys[i]);
	if (r == 0)
		r = find_ctty(c, d);
	if (r == 0)
		r = write_image(c, d);
out:
	tty_dump_free(c);
	return r;
}

/* --------------------------------------------------------------- restore */

struct rpty {
	int master;             /* crest's, inherited by the tasks */
	int ctl;                /* a slave of crest's (-1: none) */
};

struct tty_restore {
	Ttys *img;
	struct rpty *ptys;
	int *slaves;            /* crest's fd of each slave description */
	int devpts;             /* the devpts instance ptys are made in */
};

static struct tty_restore *R(struct restore_ctx *c)
{
	return c->mod[MOD_TTY];
}

int tty_load(struct restore_ctx *c)
{
	struct tty_restore *s = xzalloc(sizeof(*s));
	Ttys *img;
	int r;

	if (!s)
		return -ENOMEM;
	s->devpts = -1;
	c->mod[MOD_TTY] = s;
	r = img_read(c->dirfd, "tty.img", &ttys__descriptor, (ProtobufCMessage **)&s->img, true);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	img = s->img;
	s->ptys = calloc(img->n_ptys + 1, sizeof(*s->ptys));
	s->slaves = fd_table_new(img->n_slaves + 1);
	if (!s->ptys || !s->slaves)
		return -ENOMEM;
	for (size_t i = 0; i < img->n_ptys; i++) {
		TtyPty *p = img->ptys[i];
		s->ptys[i] = (struct rpty){ -1, -1 };
		if (p->id != i || !p->termios || p->termios->cc.len != TTY_NCCS) {
			pr_err("image tty.img is corrupt: pty %zu is inconsistent", i);
			return -EBADMSG;
		}
		for (size_t k = 0; k < i; k++)
			if (img->ptys[k]->index == p->index) {
				pr_err("image tty.img is corrupt: pty index %u twice", p->index);
				return -EBADMSG;
			}
	}
	for (size_t i = 0; i < img->n_slaves; i++)
		if (img->slaves[i]->id != i || img->slaves[i]->pty >= img->n_ptys) {
			pr_err("image tty.img is corrupt: slave description %zu is inconsistent", i);
			return -EBADMSG;
		}
	for (size_t i = 0; i < img->n_ctty; i++)
		if (img->ctty[i]->pty >= img->n_ptys) {
			pr_err("image tty.img is corrupt: controlling terminal %zu is inconsistent", i);
			return -EBADMSG;
		}
	return 0;
}

bool tty_desc_consistent(struct restore_ctx *c, const FilesDesc *d)
{
	struct tty_restore *s = R(c);

	if (!s || !s->img || !d->has_tty_id || d->tty_id >= s->img->n_ptys)
		return false;
	if (d->kind == FILES_KIND__FILES_PTY_SLAVE &&
	    (!d->has_tty_slave || d->tty_slave >= s->img->n_slaves ||
	     s->img->slaves[d->tty_slave]->pty != d->tty_id))
		return false;
	return true;
}

/* Who holds /dev/pts/index now (for messages). */
static void pts_holder(uint32_t index, char *buf, size_t len)
{
	char want[32];
	DIR *proc = opendir("/proc");
	struct dirent *de;

	snprintf(want, sizeof(want), "/dev/pts/%u", index);
	snprintf(buf, len, "held by a process crest cannot see");
	while (proc && (de = readdir(proc))) {
		pid_t p = (pid_t)atoi(de->d_name);
		char path[64];
		DIR *fdd;
		struct dirent *fe;
		bool found = false;

		if (p <= 0 || p == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", p);
		if (!(fdd = opendir(path)))
			continue;
		while (!found && (fe = readdir(fdd))) {
			_cleanup_free_ char *l = NULL, *comm = NULL;
			if (fe->d_name[0] == '.' || readlink_at(dirfd(fdd), fe->d_name, &l) < 0)
				continue;
			if (strcmp(l, want) && !(link_is_ptmx(l) && fdinfo_tty_index(p, fe->d_name) == (long)index))
				continue;
			proc_read(p, "comm", &comm, NULL);
			if (comm && strchr(comm, '\n'))
				*strchr(comm, '\n') = 0;
			snprintf(buf, len, "held by pid %d (%.20s) fd %.16s", p, comm ? comm : "?", fe->d_name);
			found = true;
		}
		closedir(fdd);
		if (found)
			break;
	}
	if (proc)
		closedir(proc);
}

static int cmp_index(const void *a, const void *b, void *arg)
{
	Ttys *img = arg;
	uint32_t x = img->ptys[*(const uint32_t *)a]->index, y = img->ptys[*(const uint32_t *)b]->index;
	return x < y ? -1 : x > y;
}

static int above(int *fd, int floor)
{
	int n = fcntl(*fd, F_DUPFD_CLOEXEC, floor), e = errno;

	close(*fd);
	*fd = n;
	return n < 0 ? -e : 0;
}

/* Open ptmx until the kernel hands out the index of every pty (it gives
 * the lowest free one): ascending, the free indices below each are held
 * meanwhile and let go at the end. */
static int alloc_indices(struct restore_ctx *c, struct tty_restore *s, int floor)
{
	Ttys *img = s->img;
	_cleanup_free_ uint32_t *order = calloc(img->n_ptys + 1, sizeof(*order));
	int *fill = NULL, r = 0;
	size_t nfill = 0;

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < img->n_ptys; i++)
		order[i] = (uint32_t)i;
	qsort_r(order, img->n_ptys, sizeof(*order), cmp_index, img);
	for (size_t k = 0; r == 0 && k < img->n_ptys; k++) {
		TtyPty *p = img->ptys[order[k]];
		int fl = (int)(p->master_flags & (O_ACCMODE | O_NONBLOCK | O_APPEND | O_LARGEFILE));
		for (;;) {
			int m = openat(s->devpts, "ptmx", fl | O_NOCTTY | O_CLOEXEC), idx = -1;
			if (m < 0) {
				r = pr_errno(-errno, "pty %u: cannot open %s/ptmx", p->index, DEVPTS_DIR);
				break;
			}
			if (ioctl(m, TIOCGPTN, &idx) < 0) {
				r = pr_errno(-errno, "pty %u: TIOCGPTN", p->index);
				close(m);
				break;
			}
			if ((uint32_t)idx == p->index) {
				r = above(&m, floor);
				if (r < 0)
					pr_errno(r, "pty %u: cannot move it above fd %d", p->index, floor);
				s->ptys[order[k]].master = m;
				break;
			}
			if ((uint32_t)idx > p->index) {
				char who[128];
				close(m);
				pts_holder(p->index, who, sizeof(who));
				pr_err("pid %d: /dev/pts/%u is in use by another terminal now (%s): the restored "
				       "pty needs that number; close it first", (int)(img->n_slaves ?
				       img->slaves[0]->pid : 0), p->index, who);
				r = -EBUSY;
				break;
			}
			int *n = realloc(fill, (nfill + 1) * sizeof(*n));
			if (!n) {
				close(m);
				r = -ENOMEM;
				break;
			}
			fill = n;
			fill[nfill++] = m;
		}
	}
	for (size_t i = 0; i < nfill; i++)
		close(fill[i]);
	free(fill);
	(void)c;
	return r;
}

static void kt_from(const TtyTermios *t, struct ktermios2 *k)
{
	memset(k, 0, sizeof(*k));
	k->c_iflag = t->iflag;
	k->c_oflag = t->oflag;
	k->c_cflag = t->cflag;
	k->c_lflag = t->lflag;
	k->c_line = (uint8_t)t->line;
	memcpy(k->c_cc, t->cc.data, TTY_NCCS);
	k->c_ispeed = t->ispeed;
	k->c_ospeed = t->ospeed;
}

static bool has_ctty(const Ttys *img, uint32_t pty)
{
	for (size_t i = 0; i < img->n_ctty; i++)
		if (img->ctty[i]->pty == pty)
			return true;
	return false;
}

/* One pty made at its index: its state, its queues, its slaves. */
static int setup_pty(struct tty_restore *s, size_t i, int floor)
{
	TtyPty *p = s->img->ptys[i];
	struct rpty *rp = &s->ptys[i];
	struct ktermios2 kt;
	struct winsize ws = { (unsigned short)p->rows, (unsigned short)p->cols,
			      (unsigned short)p->xpixel, (unsigned short)p->ypixel };
	size_t nsl = 0;
	char path[64];
	int r;

	kt_from(p->termios, &kt);
	if (ioctl(rp->master, TIOCSPTLCK, &(int){ 0 }) < 0)
		return pr_errno(-errno, "pty %u: unlock", p->index);
	for (size_t k = 0; k < s->img->n_slaves; k++)
		nsl += s->img->slaves[k]->pty == i;
	if (nsl || p->slave_hup || p->n_to_slave || p->has_to_slave_partial || has_ctty(s->img, (uint32_t)i)) {
		rp->ctl = ioctl(rp->master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (rp->ctl < 0 || (r = above(&rp->ctl, floor)) < 0)
			return pr_errno(-errno, "pty %u: cannot open its slave (TIOCGPTPEER)", p->index);
	}
	{
		_cleanup_close_ int pp = ioctl(rp->master, TIOCGPTPEER, O_PATH | O_NOCTTY | O_CLOEXEC);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", pp);
		if (pp < 0 || chown(path, p->slave_uid, p->slave_gid) < 0 ||
		    chmod(path, p->slave_mode & 07777) < 0)
			return pr_errno(-errno, "pty %u: cannot give /dev/pts/%u its owner %u:%u and mode 0%o",
					p->index, p->index, p->slave_uid, p->slave_gid, p->slave_mode & 07777);
	}
	if (ioctl(rp->master, CREST_TCSETS2, &kt) < 0)
		return pr_errno(-errno, "pty %u: cannot set its termios (TCSETS2)", p->index);
	r = put_back(rp->master, rp->ctl, &kt, p, 0);
	if (r < 0)
		return r;
	if (ioctl(rp->master, TIOCSWINSZ, &ws) < 0 ||
	    (p->packet && ioctl(rp->master, TIOCPKT, &(int){ 1 }) < 0))
		return pr_errno(-errno, "pty %u: cannot set its window size or packet mode", p->index);
	for (size_t k = 0; k < s->img->n_slaves; k++) {
		TtySlave *sl = s->img->slaves[k];
		int fl = (int)(sl->flags & (O_ACCMODE | O_NONBLOCK | O_APPEND | O_LARGEFILE | O_SYNC));
		if (sl->pty != i)
			continue;
		s->slaves[k] = ioctl(rp->master, TIOCGPTPEER, fl | O_NOCTTY | O_CLOEXEC);
		if (s->slaves[k] < 0 || (r = above(&s->slaves[k], floor)) < 0)
			return pr_errno(-errno, "pid %d: fd %d (/dev/pts/%u): cannot open the slave again "
					"(TIOCGPTPEER, flags 0%o)", sl->pid, sl->fd, p->index, fl);
	}
	if (p->excl_master && ioctl(rp->master, TIOCEXCL) < 0)
		return pr_errno(-errno, "pty %u: TIOCEXCL", p->index);
	if (p->excl_slave && rp->ctl >= 0 && ioctl(rp->ctl, TIOCEXCL) < 0)
		return pr_errno(-errno, "pty %u: TIOCEXCL on the slave", p->index);
	if (p->locked && ioctl(rp->master, TIOCSPTLCK, &(int){ 1 }) < 0)
		return pr_errno(-errno, "pty %u: lock", p->index);
	pr_info("pty %u (/dev/pts/%u): made again with %zu slave description(s)", p->index, p->index, nsl);
	return 0;
}

int tty_create(struct restore_ctx *c, int floor)
{
	struct tty_restore *s = R(c);
	int r;

	if (!s || !s->img || !s->img->n_ptys)
		return 0;
	s->devpts = open(DEVPTS_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->devpts < 0)
		return pr_errno(-errno, "cannot open %s, where the ptys are made", DEVPTS_DIR);
	r = above(&s->devpts, floor);
	if (r < 0)
		return pr_errno(r, "cannot move an fd above %d", floor);
	r = alloc_indices(c, s, floor);
	for (size_t i = 0; r == 0 && i < s->img->n_ptys; i++)
		r = setup_pty(s, i, floor);
	return r;
}

int tty_open(struct restore_ctx *c, struct restore_task *t, int fd, const FilesDesc *d, int base)
{
	struct tty_restore *s = R(c);
	int src = d->kind == FILES_KIND__FILES_PTY_MASTER ? s->ptys[d->tty_id].master :
		  s->slaves[d->tty_slave], n;

	if (src < 0) {
		pr_err("pid %d: fd %d (%s): its pty was not made", t->pid, fd, d->path ? d->path : "?");
		return -ENOENT;
	}
	n = fcntl(src, F_DUPFD_CLOEXEC, base);
	if (n < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): cannot copy the pty's fd", t->pid, fd,
				d->path ? d->path : "?");
	return n;
}

static const TtyCtty *ctty_of(struct tty_restore *s, pid_t pid)
{
	for (size_t i = 0; s && s->img && i < s->img->n_ctty; i++)
		if (s->img->ctty[i]->pid == pid)
			return s->img->ctty[i];
	return NULL;
}

int tty_set_ctty(struct restore_ctx *c, pid_t pid)
{
	struct tty_restore *s = R(c);
	const TtyCtty *e = ctty_of(s, pid);
	uint32_t idx;

	if (!e)
		return 0;
	idx = s->img->ptys[e->pty]->index;
	if (ioctl(s->ptys[e->pty].ctl, TIOCSCTTY, 0) < 0)
		return pr_errno(-errno, "pid %d: cannot make /dev/pts/%u its controlling terminal again "
				"(TIOCSCTTY)", pid, idx);
	pr_debug("pid %d: controlling terminal /dev/pts/%u", pid, idx);
	return 0;
}

/* A task forked by its session leader inherited the leader's terminal: one
 * that had none drops it. */
static int tty_prepare(struct restore_ctx *c, struct restore_task *t)
{
	struct tty_restore *s = R(c);
	const PstreeEntry *e = t->pstree;
	const TtyCtty *lead;

	if (!s || !s->img || !e || e->sid == e->pid || ctty_of(s, t->pid))
		return 0;
	lead = ctty_of(s, e->sid);
	if (!lead)
		return 0;
	if (ioctl(s->ptys[lead->pty].ctl, TIOCNOTTY) < 0 && errno != ENOTTY)
		return pr_errno(-errno, "pid %d: cannot drop the controlling terminal /dev/pts/%u it had "
				"not (TIOCNOTTY)", t->pid, s->img->ptys[lead->pty]->index);
	return 0;
}

/* Once every group exists: the leader gives its terminal its foreground
 * group (pgid translated into its pid namespace). */
static int tty_prepare2(struct restore_ctx *c, struct restore_task *t)
{
	struct tty_restore *s = R(c);
	const PstreeEntry *e = t->pstree;
	const TtyCtty *me = ctty_of(s, t->pid);
	const TtyPty *p;
	pid_t pg;

	if (!me || !e || e->sid != e->pid)
		return 0;
	p = s->img->ptys[me->pty];
	if (!p->has_fg_pgrp)
		return 0;
	pg = p->fg_pgrp;
	if (e->n_nspid > 1) {
		for (size_t i = 0; i < c->nr_tasks; i++) {
			const PstreeEntry *o = c->tasks[i]->pstree;
			if (o && o->pid == p->fg_pgrp && o->n_nspid >= e->n_nspid)
				pg = o->nspid[e->n_nspid - 1];
		}
	}
	if (ioctl(s->ptys[me->pty].ctl, TIOCSPGRP, &pg) < 0)
		return pr_errno(-errno, "pid %d: cannot make process group %d the foreground group of "
				"/dev/pts/%u again (TIOCSPGRP)", t->pid, p->fg_pgrp, p->index);
	return 0;
}

static void tty_restore_fini(struct restore_ctx *c)
{
	struct tty_restore *s = R(c);

	if (!s)
		return;
	if (s->img) {
		for (size_t i = 0; s->ptys && i < s->img->n_ptys; i++) {
			if (s->ptys[i].master >= 0)
				close(s->ptys[i].master);
			if (s->ptys[i].ctl >= 0)
				close(s->ptys[i].ctl);
		}
		fd_table_free(s->slaves, s->img->n_slaves + 1);
		protobuf_c_message_free_unpacked(&s->img->base, NULL);
	}
	free(s->ptys);
	if (s->devpts >= 0)
		close(s->devpts);
	free(s);
	c->mod[MOD_TTY] = NULL;
}

const struct crest_module tty_module = {
	.name = "tty",
	.prepare = tty_prepare,
	.prepare2 = tty_prepare2,
	.dump_fini = tty_dump_fini,
	.restore_fini = tty_restore_fini,
};
