/* SPDX-License-Identifier: MIT */
/*
 * Pseudo-terminals, restore side (see tty.c for the whole story): crest
 * makes every pty of tty.img at its index before the fork and holds it;
 * the tasks inherit it and copy what they use; session leaders take their
 * controlling terminal back (TIOCSCTTY) before they fork.
 */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include "tty.h"
#include "tty_priv.h"
#include "image/image.h"
#include "util/log.h"
#include "pstree.pb-c.h"
#include "core/task.h"
#include "util/util.h"

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
			if (strcmp(l, want) && !(tty_link_is_ptmx(l) && tty_fdinfo_index(p, fe->d_name) == (long)index))
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
				r = pr_errno(-errno, "pid %d: fd %d (pty %u): cannot open %s/ptmx",
						p->master_pid,
					     p->master_fd, p->index, DEVPTS_DIR);
				break;
			}
			if (ioctl(m, TIOCGPTN, &idx) < 0) {
				r = pr_errno(-errno, "pid %d: fd %d (pty %u): TIOCGPTN",
						p->master_pid, p->master_fd, p->index);
				close(m);
				break;
			}
			if ((uint32_t)idx == p->index) {
				r = above(&m, floor);
				if (r < 0)
					pr_errno(r, "pid %d: fd %d (pty %u): cannot move it above fd %d",
							p->master_pid, p->master_fd, p->index, floor);
				s->ptys[order[k]].master = m;
				break;
			}
			if ((uint32_t)idx > p->index) {
				char who[128];
				close(m);
				pts_holder(p->index, who, sizeof(who));
				pr_err("pid %d: fd %d: /dev/pts/%u is in use by another terminal now (%s): the "
				       "restored pty needs that number; close it first",
						p->master_pid,
				       p->master_fd, p->index, who);
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
		return pr_errno(-errno, "pid %d: fd %d (pty %u): unlock",
				p->master_pid, p->master_fd, p->index);
	for (size_t k = 0; k < s->img->n_slaves; k++)
		nsl += s->img->slaves[k]->pty == i;
	if (nsl || p->slave_hup || p->n_to_slave || p->has_to_slave_partial ||
	    has_ctty(s->img, (uint32_t)i)) {
		rp->ctl = ioctl(rp->master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (rp->ctl < 0 || (r = above(&rp->ctl, floor)) < 0)
			return pr_errno(-errno, "pid %d: fd %d (pty %u): cannot open its slave (TIOCGPTPEER)",
					p->master_pid, p->master_fd, p->index);
	}
	{
		_cleanup_close_ int pp = ioctl(rp->master, TIOCGPTPEER, O_PATH | O_NOCTTY | O_CLOEXEC);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", pp);
		if (pp < 0 || chown(path, p->slave_uid, p->slave_gid) < 0 ||
		    chmod(path, p->slave_mode & 07777) < 0)
			return pr_errno(-errno, "pid %d: fd %d: cannot give /dev/pts/%u its owner %u:%u "
					"and mode 0%o", p->master_pid, p->master_fd, p->index, p->slave_uid,
					p->slave_gid, p->slave_mode & 07777);
	}
	if (ioctl(rp->master, CREST_TCSETS2, &kt) < 0)
		return pr_errno(-errno, "pid %d: fd %d (pty %u): cannot set its termios (TCSETS2)",
				p->master_pid, p->master_fd, p->index);
	r = tty_put_back(rp->master, rp->ctl, &kt, p, p->master_pid);
	if (r < 0)
		return r;
	if (ioctl(rp->master, TIOCSWINSZ, &ws) < 0 ||
	    (p->packet && ioctl(rp->master, TIOCPKT, &(int){ 1 }) < 0))
		return pr_errno(-errno, "pid %d: fd %d (pty %u): cannot set its window size or packet mode",
				p->master_pid, p->master_fd, p->index);
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
		return pr_errno(-errno, "pid %d: fd %d (pty %u): TIOCEXCL",
				p->master_pid, p->master_fd, p->index);
	if (p->excl_slave && rp->ctl >= 0 && ioctl(rp->ctl, TIOCEXCL) < 0)
		return pr_errno(-errno, "pid %d: fd %d (pty %u): TIOCEXCL on the slave",
				p->master_pid, p->master_fd, p->index);
	if (p->locked && ioctl(rp->master, TIOCSPTLCK, &(int){ 1 }) < 0)
		return pr_errno(-errno, "pid %d: fd %d (pty %u): lock",
				p->master_pid, p->master_fd, p->index);
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
int tty_prepare(struct restore_ctx *c, struct restore_task *t)
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
int tty_prepare2(struct restore_ctx *c, struct restore_task *t)
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

void tty_restore_fini(struct restore_ctx *c)
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

