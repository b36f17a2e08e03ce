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
#include "tty_priv.h"
#include "tty.pb-c.h"
#include "image/image.h"
#include "util/log.h"
#include "pstree.pb-c.h"
#include "core/task.h"
#include "util/util.h"

#ifndef SYS_kcmp
#define SYS_kcmp 312
#endif

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
			    !tty_link_is_ptmx(l) || (idx = tty_fdinfo_index(t->pid, de->d_name)) < 0)
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
			    !tty_link_is_ptmx(l) || tty_fdinfo_index(p, fe->d_name) != (long)index)
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

/* Ptys are made again in crest's devpts instance only (a container's own
 * instance is made by the mount namespace's restore, after the fork). */
static int check_instance(pid_t pid, int fd, const char *link, uint32_t idx, dev_t dev)
{
	struct stat st;

	if (stat(DEVPTS_DIR, &st) == 0 && st.st_dev == dev)
		return 0;
	pr_err("pid %d: fd %d (%s): pty %u lives in another devpts instance (dev %u:%u) than crest's "
	       "%s, e.g. a container's own: not supported yet", pid, fd, link, idx, major(dev),
	       minor(dev), DEVPTS_DIR);
	return -ENOTSUP;
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
	if (r == -ENODEV) {
		pr_err("pid %d: fd %d (%s, pty %d): its devpts instance is mounted nowhere (a container's "
		       "own, whose mount namespace is gone?): not supported", s->pid, f->fd, link, idx);
		return -ENOTSUP;
	}
	if (r < 0)
		return pr_errno(r, "pid %d: fd %d (%s, pty %d): cannot reach its slave (TIOCGPTPEER)",
				s->pid, f->fd, link, idx);
	r = check_instance(s->pid, f->fd, link, (uint32_t)idx, pst.st_dev);
	if (r < 0)
		return r;
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
	r = check_instance(s->pid, f->fd, link, idx, st->st_dev);
	if (r < 0)
		return r;
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

/* The index of pid's controlling terminal if it is a pty slave, or -1. */
static long ctty_index(pid_t pid)
{
	_cleanup_free_ char *stat = NULL;
	unsigned tty_nr = 0, ma, mi;
	char *e;

	if (proc_read(pid, "stat", &stat, NULL) < 0 || !(e = strrchr(stat, ')')) ||
	    sscanf(e + 2, "%*c %*d %*d %*d %u", &tty_nr) != 1 || !tty_nr)
		return -1;
	ma = (tty_nr >> 8) & 0xfff;
	mi = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
	if (ma < PTS_MAJOR_FIRST || ma > PTS_MAJOR_LAST)
		return -1;
	return slave_index(makedev(ma, mi));
}

int tty_ctty_in_tree(struct dump_ctx *c, pid_t pid)
{
	struct tty_dump *d = tty_dump_get(c);
	long idx = ctty_index(pid);
	int r;

	if (!d)
		return -ENOMEM;
	if (idx < 0)
		return 0;
	if (!d->scanned && (r = scan_masters(c, d)) < 0)
		return r;
	for (size_t i = 0; i < d->nr_masters; i++)
		if (d->masters[i].index == (uint32_t)idx)
			return 1;
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

static int read_slave_and_put_back(struct dpty *p, int lock, int *slp);

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
	p->pb.has_master_pid = p->pb.has_master_fd = true;
	p->pb.master_pid = p->mpid;
	p->pb.master_fd = p->mtfd;
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
	if (r == 0)
		r = read_slave_and_put_back(p, lock, &sl);
	/* packet mode back last: the termios changes made meanwhile would
	 * leave a status (TIOCPKT_DOSTOP...) for the master's reader */
	if (pkt && ioctl(p->mfd, TIOCPKT, &(int){ 1 }) < 0 && r == 0)
		r = pr_errno(-errno, "pid %d: pty %u: TIOCPKT", pid, idx);
	if (r < 0)
		return r;
	pr_info("pid %d: fd %d: pty %u (/dev/pts/%u): %ux%u, %s%s%s, %zu line(s) + %zu bytes queued "
		"for the slave, %zu bytes for the master", pid, p->mtfd, idx, idx, p->pb.cols, p->pb.rows,
		p->kt.c_lflag & ICANON ? "canonical" : "raw", pkt ? ", packet mode" : "",
		lock ? ", locked" : "", p->nr_lines, p->partial_len, p->out_len);
	return 0;
}

/* (read_pty) The master's queue is read: the slave's, then both go back. */
static int read_slave_and_put_back(struct dpty *p, int lock, int *slp)
{
	pid_t pid = p->mpid;
	uint32_t idx = p->pb.index;
	int v, r = 0, sl = -1;

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
		*slp = sl;
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
		if (r < 0) {
			pr_errno(r, "pid %d: pty %u: reading what the slave has not read yet", pid, idx);
			tty_put_back(p->mfd, sl, &p->kt, &p->pb, pid);   /* what was read so far */
			return r;
		}
	}
	/* back into the live pty at once */
	r = tty_put_back(p->mfd, sl, &p->kt, &p->pb, pid);
	p->put_back = r == 0;
	*slp = sl;
	return r;
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
			if (tty_link_is_ptmx(l)) {
				long idx = tty_fdinfo_index(p, fe->d_name);
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
		if (p->pb.has_fg_pgrp) {
			bool found = false;
			for (size_t k = 0; k < c->nr_tasks && !found; k++)
				found = c->tasks[k]->pgid == p->pb.fg_pgrp && !c->tasks[k]->zombie;
			if (!found) {
				pr_warn("pid %d: /dev/pts/%u: its foreground process group %d has no live "
					"process in the tree (it exited): the session leader's group is "
					"the foreground one after restore", p->pb.sid, p->pb.index,
					p->pb.fg_pgrp);
				p->pb.has_fg_pgrp = false;
			}
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

const struct crest_module tty_module = {
	.name = "tty",
	.prepare = tty_prepare,
	.prepare2 = tty_prepare2,
	.dump_fini = tty_dump_fini,
	.restore_fini = tty_restore_fini,
};
