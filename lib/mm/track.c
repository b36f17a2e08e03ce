/* SPDX-License-Identifier: MIT */
/*
 * Memory-change tracking between the rounds of a pre-dump chain (track.h).
 *
 * Round 1 (`crest pre-dump` without a parent): for every process, crest
 * injects userfaultfd() into it, takes the new fd with pidfd_getfd() and
 * injects close() -- all while the process is stopped, so it never sees
 * the fd.  From crest: UFFDIO_API (WP_ASYNC | WP_UNPOPULATED), and for
 * every private VMA that may be written UFFDIO_REGISTER (MODE_WP) and
 * UFFDIO_WRITEPROTECT.  The kernel then clears the write-protect bit of a
 * page at its first write, by itself (async: nothing waits for crest).
 *
 * Round N: PAGEMAP_SCAN with PM_SCAN_WP_MATCHING on /proc/PID/pagemap
 * returns the pages written since round N-1 and write-protects them again,
 * atomically.  VMAs without our registration (new, moved, or grown by a new
 * VMA next to them) are dumped whole and registered for the next round.
 *
 * Between rounds the userfaultfds live in a small process (comm
 * "crest-track") forked by crest; its pid, start time and fd numbers are in
 * track.img.  The next round takes the fds (pidfd_getfd) and kills it at
 * once, so a round that dies half-way leaves no tracking behind whose
 * state it had already reset.  The holder also exits when every tracked
 * process exited or after its timeout; closing the last fd of a
 * userfaultfd unregisters it (and drops its write protection).
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/userfaultfd.h>
#include "util/compat.h"
#include "image/image.h"
#include "inventory.pb-c.h"
#include "track.pb-c.h"
#include "util/log.h"
#include "track.h"
#include "util/util.h"

#define HOLDER_COMM "crest-track"
#define DEFAULT_TIMEOUT_S 600
#define SCAN_VEC 1024

struct track {
	const struct crest_opts *o;
	bool keep;
	uint64_t dump_id;
	int parent_fd;              /* the parent image directory, or -1 */
	const char *parent_path;
	Inventory *parent_inv;
	Tracker *parent_trk;
	int *taken;                 /* per parent_trk->tasks: our fd, or -1 */
	struct track_task **tasks;  /* this round's */
	size_t nr_tasks;
	bool handed;                /* a holder has them (track_hand_over) */
	pid_t holder;
};

uint64_t proc_start_time(pid_t pid)
{
	_cleanup_free_ char *buf = NULL;
	unsigned long long v = 0;
	char *p;

	if (proc_read(pid, "stat", &buf, NULL) < 0 || !(p = strrchr(buf, ')')))
		return 0;
	/* field 3 (state) follows ") "; start time is field 22 */
	p += 2;
	for (int f = 3; f < 22 && p; f++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (p)
		v = strtoull(p, NULL, 10);
	return v;
}

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* A pidfd of the holder of tr if it is still the one track.img names. */
static int open_holder(const Tracker *trk)
{
	_cleanup_free_ char *comm = NULL;
	int fd = pidfd_open_(trk->holder_pid);

	if (fd < 0)
		return -ESRCH;
	_cleanup_free_ char *stat = NULL;
	char *p = NULL;
	if (proc_start_time(trk->holder_pid) != trk->holder_start || proc_read(trk->holder_pid, "comm", &comm, NULL) < 0 ||
	    strncmp(comm, HOLDER_COMM, strlen(HOLDER_COMM)) || proc_read(trk->holder_pid, "stat", &stat, NULL) < 0 ||
	    !(p = strrchr(stat, ')')) || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X') {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

static void kill_holder(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) == 0)
		poll(&p, 1, 2000);   /* gone, its fds closed */
}

uint64_t track_parent_id(const struct track *tr)
{
	return tr && tr->parent_inv ? tr->parent_inv->dump_id : 0;
}

const char *track_parent_path(const struct track *tr)
{
	return tr && tr->parent_inv ? tr->parent_path : NULL;
}

uint64_t track_dump_id(const struct track *tr)
{
	return tr ? tr->dump_id : 0;
}

static void track_free(struct track *tr)
{
	if (!tr)
		return;
	for (size_t i = 0; i < tr->nr_tasks; i++) {
		struct track_task *tt = tr->tasks[i];
		if (tt->uffd >= 0)
			close(tt->uffd);
		if (tt->parent_pm)
			protobuf_c_message_free_unpacked(&tt->parent_pm->base, NULL);
		free(tt);
	}
	free(tr->tasks);
	if (tr->parent_trk) {
		for (size_t i = 0; tr->taken && i < tr->parent_trk->n_tasks; i++)
			if (tr->taken[i] >= 0)
				close(tr->taken[i]);
		protobuf_c_message_free_unpacked(&tr->parent_trk->base, NULL);
	}
	free(tr->taken);
	if (tr->parent_inv)
		protobuf_c_message_free_unpacked(&tr->parent_inv->base, NULL);
	if (tr->parent_fd >= 0)
		close(tr->parent_fd);
	free(tr);
}

/* Open the parent image and take its tracking over. */
static int take_parent(struct dump_ctx *c, struct track *tr)
{
	const char *dir = c->o->images_dir, *prev = c->o->prev_images_dir;
	_cleanup_close_ int hfd = -1;
	int r;

	tr->parent_path = prev;
	tr->parent_fd = openat(c->dirfd, prev, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tr->parent_fd < 0)
		return pr_errno(-errno, "parent image %s (--prev-images-dir, relative to %s) cannot be opened",
				prev, dir);
	r = img_read(tr->parent_fd, "inventory.img", &inventory__descriptor, (ProtobufCMessage **)&tr->parent_inv,
		     true);
	if (r == -ENOENT) {
		pr_err("parent image %s holds no complete pre-dump (no inventory.img)", prev);
		return -ENOENT;
	}
	if (r < 0)
		return r;
	if (!tr->parent_inv->pre_dump || !tr->parent_inv->has_dump_id) {
		pr_err("parent image %s is not a pre-dump (made by `crest pre-dump`): a chain goes from "
		       "pre-dumps to one dump", prev);
		return -EINVAL;
	}
	r = img_read(tr->parent_fd, "track.img", &tracker__descriptor, (ProtobufCMessage **)&tr->parent_trk, true);
	if (r == -ENOENT) {
		pr_err("parent image %s has no memory tracking (no track.img)", prev);
		return -ENOENT;
	}
	if (r < 0)
		return r;
	if (tr->parent_trk->dump_id != tr->parent_inv->dump_id) {
		pr_err("parent image %s: track.img belongs to another pre-dump (dump id %#llx, the inventory "
		       "says %#llx)", prev, (unsigned long long)tr->parent_trk->dump_id,
		       (unsigned long long)tr->parent_inv->dump_id);
		return -EBADMSG;
	}
	hfd = open_holder(tr->parent_trk);
	if (hfd < 0) {
		pr_err("the memory tracking of %s is gone (its holder, pid %d, exited: a later round took it "
		       "over, `crest gc` ended it, every tracked process exited, a round failed, or %u s "
		       "passed): start a new chain with `crest pre-dump` without --prev-images-dir",
		       prev, tr->parent_trk->holder_pid, tr->parent_trk->timeout_s);
		return -ESRCH;
	}
	tr->taken = fd_table_new(tr->parent_trk->n_tasks + 1);
	if (!tr->taken)
		return -ENOMEM;
	for (size_t i = 0; i < tr->parent_trk->n_tasks; i++) {
		int fd = (int)syscall(SYS_pidfd_getfd, hfd, tr->parent_trk->tasks[i]->fd, 0);
		if (fd < 0)
			return pr_errno(-errno, "cannot take the userfaultfd of pid %d from the tracking holder %d",
					tr->parent_trk->tasks[i]->pid, tr->parent_trk->holder_pid);
		tr->taken[i] = fd;
	}
	/* From here on the tracking is this round's: the holder goes now, so a
	 * round that fails after resetting no longer leaves it behind. */
	kill_holder(hfd);
	pr_info("took the memory tracking of %zu processes over from %s (holder %d)", tr->parent_trk->n_tasks, prev,
		tr->parent_trk->holder_pid);
	return 0;
}

int track_begin(struct dump_ctx *c, bool keep, struct track **out)
{
	struct track *tr;
	int r;

	*out = NULL;
	if (!keep && !c->o->prev_images_dir)
		return 0;
	tr = xzalloc(sizeof(*tr));
	if (!tr)
		return -ENOMEM;
	tr->o = c->o;
	tr->keep = keep;
	tr->parent_fd = -1;
	if (getrandom(&tr->dump_id, sizeof(tr->dump_id), 0) != sizeof(tr->dump_id))
		tr->dump_id = now_ns() ^ ((uint64_t)getpid() << 40);
	if (c->o->prev_images_dir) {
		r = take_parent(c, tr);
		if (r < 0) {
			track_free(tr);
			return r;
		}
	}
	*out = tr;
	return 0;
}

static int uffd_api(pid_t pid, int fd)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED };

	if (ioctl(fd, UFFDIO_API, &api) < 0)
		return pr_errno(-errno, "pid %d: UFFDIO_API with WP_ASYNC|WP_UNPOPULATED failed (the kernel needs "
				"6.7 or later for memory tracking)", pid);
	return 0;
}

/* A userfaultfd on the task's mm: made by the task, kept by crest. */
static int make_uffd(struct dump_task *t, int *out)
{
	_cleanup_close_ int pidfd = -1;
	long fd, ret;
	int r, mine;

	r = INJECT(&t->t, &fd, __NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (r == 0 && fd == -EPERM)   /* not privileged, vm.unprivileged_userfaultfd=0 */
		r = INJECT(&t->t, &fd, __NR_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (r < 0)
		return r;
	if (fd < 0) {
		pr_err("pid %d: userfaultfd() in the process failed: %s (memory tracking needs it)", t->pid,
		       strerror((int)-fd));
		return (int)fd;
	}
	pidfd = pidfd_open_(t->pid);
	mine = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, (int)fd, 0);
	r = mine < 0 ? -errno : 0;
	/* out of its fd table again, whatever happened */
	int cr = INJECT(&t->t, &ret, __NR_close, fd);
	if (r < 0 || cr < 0) {
		if (mine >= 0)
			close(mine);
		return r < 0 ? pr_errno(r, "pid %d: cannot take its new userfaultfd (fd %ld)", t->pid, fd) : cr;
	}
	r = uffd_api(t->pid, mine);
	if (r < 0) {
		close(mine);
		return r;
	}
	*out = mine;
	return 0;
}

int track_task(struct track *tr, struct dump_task *t, struct track_task **out)
{
	struct track_task *tt, **nt;
	char name[IMG_NAME_MAX];
	int r;

	*out = NULL;
	if (!tr)
		return 0;
	tt = xzalloc(sizeof(*tt));
	nt = realloc(tr->tasks, (tr->nr_tasks + 1) * sizeof(*nt));
	if (!tt || !nt) {
		free(tt);
		return -ENOMEM;
	}
	tr->tasks = nt;
	tr->tasks[tr->nr_tasks++] = tt;
	tt->pid = t->pid;
	tt->uffd = -1;
	tt->start_time = proc_start_time(t->pid);
	for (size_t i = 0; tr->parent_trk && i < tr->parent_trk->n_tasks; i++) {
		TrackedTask *p = tr->parent_trk->tasks[i];
		if (p->pid != t->pid || tr->taken[i] < 0)
			continue;
		if (p->start_time != tt->start_time) {
			pr_info("pid %d is another process than in %s (it started later): dumped whole", t->pid,
				tr->parent_path);
			break;
		}
		tt->uffd = TAKE_FD(tr->taken[i]);
		snprintf(name, sizeof(name), "pagemap-%d.img", t->pid);
		r = img_read(tr->parent_fd, name, &page_map__descriptor, (ProtobufCMessage **)&tt->parent_pm, true);
		if (r < 0 && r != -ENOENT)
			return r;
		tt->tracked = r == 0;
		break;
	}
	if (tt->uffd < 0 && tr->keep) {
		r = make_uffd(t, &tt->uffd);
		if (r < 0)
			return r;
	}
	if (tt->uffd < 0)
		return 0;   /* a dump: nothing tracked it, dumped whole */
	*out = tt;
	return 0;
}

static bool has_flag(const char *flags, const char *f)
{
	for (const char *p = flags; p && (p = strstr(p, f)); p += 2)
		if ((p == flags || p[-1] == ' ') && (p[2] == ' ' || p[2] == 0))
			return true;
	return false;
}

bool track_vma_wanted(const Vma *v)
{
	return (v->kind == VMA_KIND__VMA_ANON_PRIVATE || v->kind == VMA_KIND__VMA_FILE_PRIVATE) && v->may_write;
}

bool track_vma_tracked(const struct track_task *tt, const Vma *v)
{
	return tt && tt->tracked && tt->parent_pm && track_vma_wanted(v) && has_flag(v->vmflags, "uw");
}

int track_scan(struct track_task *tt, int pm_fd, uint64_t start, uint64_t end, uint64_t **ranges, size_t *n)
{
	struct uffdio_register reg = { .range = { start, end - start }, .mode = UFFDIO_REGISTER_MODE_WP };
	struct page_region vec[SCAN_VEC];
	uint64_t *out = NULL;
	size_t nr = 0, cap = 0;

	*ranges = NULL;
	*n = 0;
	/* ours?  registering again with the same userfaultfd changes nothing;
	 * another one's registration makes it EBUSY */
	if (ioctl(tt->uffd, UFFDIO_REGISTER, &reg) < 0) {
		if (errno == EBUSY) {
			pr_err("pid %d: memory %#llx-%#llx is registered with a userfaultfd of its own: not "
			       "supported", tt->pid, (unsigned long long)start, (unsigned long long)end);
			return -ENOTSUP;
		}
		return pr_errno(-errno, "pid %d: memory %#llx-%#llx: UFFDIO_REGISTER", tt->pid,
				(unsigned long long)start, (unsigned long long)end);
	}
	tt->reset = true;
	for (uint64_t at = start; at < end;) {
		struct pm_scan_arg a = {
			.size = sizeof(a), .flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
			.start = at, .end = end, .vec = (uintptr_t)vec, .vec_len = SCAN_VEC,
			.category_mask = PAGE_IS_WRITTEN, .return_mask = PAGE_IS_WRITTEN,
		};
		long k = ioctl(pm_fd, PAGEMAP_SCAN, &a);
		if (k < 0) {
			free(out);
			return pr_errno(-errno, "pid %d: PAGEMAP_SCAN of %#llx-%#llx", tt->pid, (unsigned long long)at,
					(unsigned long long)end);
		}
		for (long i = 0; i < k; i++) {
			if (nr && out[2 * nr - 1] == vec[i].start) {
				out[2 * nr - 1] = vec[i].end;
				continue;
			}
			if (nr == cap) {
				cap = cap ? 2 * cap : 64;
				uint64_t *no = realloc(out, cap * 2 * sizeof(*no));
				if (!no) {
					free(out);
					return -ENOMEM;
				}
				out = no;
			}
			out[2 * nr] = vec[i].start;
			out[2 * nr + 1] = vec[i].end;
			nr++;
		}
		if (a.walk_end <= at)
			break;
		at = a.walk_end;
	}
	*ranges = out;
	*n = nr;
	return 0;
}

int track_register(struct track *tr, struct track_task *tt, struct dump_task *t, const Vma *v)
{
	struct uffdio_register reg = { .range = { v->start, v->end - v->start }, .mode = UFFDIO_REGISTER_MODE_WP };
	struct uffdio_writeprotect wp = { .range = reg.range, .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	int r;

	if (!tr->keep || !tt || !track_vma_wanted(v))
		return 0;
	int rr = ioctl(tt->uffd, UFFDIO_REGISTER, &reg);

	if (rr < 0 && errno == ESRCH) {
		/* the userfaultfd's address space is gone: the process exec'd */
		pr_info("pid %d: its address space is new (exec): new memory tracking", tt->pid);
		close(tt->uffd);
		tt->uffd = -1;
		tt->tracked = false;
		r = make_uffd(t, &tt->uffd);
		if (r < 0)
			return r;
		if (ioctl(tt->uffd, UFFDIO_REGISTER, &reg) < 0)
			goto untracked;
	} else if (rr < 0) {
		goto untracked;
	}
	if (ioctl(tt->uffd, UFFDIO_WRITEPROTECT, &wp) < 0) {
		struct uffdio_range rg = reg.range;
		ioctl(tt->uffd, UFFDIO_UNREGISTER, &rg);
		goto untracked;
	}
	return 0;
untracked:
	pr_debug("pid %d: memory %#lx-%#lx cannot be tracked (%s): dumped whole every round", tt->pid,
		 (unsigned long)v->start, (unsigned long)v->end, strerror(errno));
	return 0;
}

/* ------------------------------------------------------------- holder */

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static __attribute__((noreturn)) void holder_main(int *keep, size_t nkeep, int *pidfds, size_t npid, int pipe_w,
						   unsigned timeout_s)
{
	_cleanup_free_ struct pollfd *p = calloc(npid + 1, sizeof(*p));
	sigset_t all;
	int prev = -1, left = (int)npid;
	pid_t me = getpid();

	setsid();
	prctl(PR_SET_NAME, HOLDER_COMM);
	for (int s = 1; s < 65; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (write(pipe_w, &me, sizeof(me)) != sizeof(me))
		_exit(1);
	close(pipe_w);
	/* keep the userfaultfds and the pidfds, nothing else */
	qsort(keep, nkeep, sizeof(int), cmp_int);
	for (size_t i = 0; i <= nkeep; i++) {
		int next = i < nkeep ? keep[i] : -1;
		if (next < 0) {
			syscall(SYS_close_range, prev + 1, ~0U, 0);
			break;
		}
		if (next > prev + 1)
			syscall(SYS_close_range, prev + 1, next - 1, 0);
		prev = next;
	}
	if (!p)
		_exit(1);
	for (size_t i = 0; i < npid; i++)
		p[i] = (struct pollfd){ .fd = pidfds[i], .events = POLLIN };
	for (uint64_t end = now_ns() + timeout_s * 1000000000ull; left > 0;) {
		uint64_t now = now_ns();
		if (now >= end)
			break;
		int k = poll(p, npid, (int)MIN((end - now) / 1000000, 60000));
		if (k < 0 && errno != EINTR)
			break;
		for (size_t i = 0; k > 0 && i < npid; i++)
			if (p[i].fd >= 0 && p[i].revents) {
				p[i].fd = -1;   /* exited */
				left--;
			}
	}
	_exit(0);
}

/* Fork the holder of every userfaultfd of the round; write track.img. */
static int spawn_holder(struct dump_ctx *c, struct track *tr)
{
	size_t n = tr->nr_tasks;
	_cleanup_free_ int *keep = calloc(2 * n + 1, sizeof(int));
	_cleanup_free_ int *pidfds = calloc(n + 1, sizeof(int));
	_cleanup_free_ TrackedTask *tts = calloc(n + 1, sizeof(*tts));
	_cleanup_free_ TrackedTask **ptts = calloc(n + 1, sizeof(*ptts));
	Tracker trk = TRACKER__INIT;
	size_t nk = 0, np = 0, nt = 0;
	int pfd[2], r = 0, st;
	pid_t mid, holder = 0;

	if (!keep || !pidfds || !tts || !ptts)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct track_task *tt = tr->tasks[i];
		int pf;
		if (tt->uffd < 0 || (pf = pidfd_open_(tt->pid)) < 0)
			continue;
		keep[nk++] = tt->uffd;
		keep[nk++] = pf;
		pidfds[np++] = pf;
		tracked_task__init(&tts[nt]);
		tts[nt].pid = tt->pid;
		tts[nt].start_time = tt->start_time;
		tts[nt].fd = tt->uffd;
		ptts[nt] = &tts[nt];
		nt++;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		r = pr_errno(-errno, "cannot start the memory tracking holder: pipe");
		goto out;
	}
	unsigned timeout = c->o->track_timeout ? c->o->track_timeout : DEFAULT_TIMEOUT_S;
	mid = fork();
	if (mid == 0) {
		close(pfd[0]);
		if (fork() == 0) {
			keep[nk] = pfd[1];
			holder_main(keep, nk + 1, pidfds, np, pfd[1], timeout);
		}
		_exit(0);
	}
	close(pfd[1]);
	if (mid < 0) {
		r = pr_errno(-errno, "cannot start the memory tracking holder: fork");
	} else {
		while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
			;
		if (read_full(pfd[0], &holder, sizeof(holder)) < 0 || holder <= 0)
			r = pr_errno(-EIO, "the memory tracking holder did not start");
	}
	close(pfd[0]);
	if (r < 0)
		goto out;
	trk.holder_pid = tr->holder = holder;
	trk.holder_start = proc_start_time(holder);
	trk.tasks = ptts;
	trk.n_tasks = nt;
	trk.has_timeout_s = true;
	trk.timeout_s = timeout;
	trk.dump_id = tr->dump_id;
	r = img_write(c->dirfd, "track.img", &trk.base);
	if (r < 0) {
		int hfd = pidfd_open_(holder);
		if (hfd >= 0) {
			kill_holder(hfd);
			close(hfd);
		}
		goto out;
	}
	pr_info("memory tracking of %zu processes held by pid %d (for %u s at most, or until the next round, "
		"`crest dump`, or `crest gc -D %s`)", nt, holder, timeout, c->o->images_dir);
out:
	for (size_t i = 0; i < np; i++)
		close(pidfds[i]);
	return r;
}

int track_end(struct dump_ctx *c, struct track *tr, bool ok)
{
	int r = 0;
	bool any = false;

	if (!tr)
		return 0;
	for (size_t i = 0; i < tr->nr_tasks; i++)
		any |= tr->tasks[i]->uffd >= 0;
	if (ok && tr->keep && !tr->handed)
		r = spawn_holder(c, tr);
	else if (tr->handed && !ok) {
		int hfd = pidfd_open_(tr->holder);   /* (still our grandchild's pid: not reaped yet) */
		if (hfd >= 0) {
			kill_holder(hfd);
			close(hfd);
		}
		pr_warn("memory tracking removed: the pre-dump failed; start a new chain");
	} else if (tr->handed)
		;
	else if (any && !ok && tr->keep)
		pr_warn("memory tracking removed: the pre-dump failed; start a new chain");
	else if (any)
		pr_info("memory tracking removed (the chain ends with this dump)");
	/* crest's fds closed: unless a holder has them now, the userfaultfds
	 * are released and the kernel unregisters the memory */
	track_free(tr);
	return r;
}

int track_hand_over(struct dump_ctx *c, struct track *tr)
{
	int r = spawn_holder(c, tr);
	if (r == 0)
		tr->handed = true;
	return r;
}

int track_gc(int dirfd, const char *dir)
{
	Tracker *trk = NULL;
	int r = img_read(dirfd, "track.img", &tracker__descriptor, (ProtobufCMessage **)&trk, true);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	int hfd = open_holder(trk);
	if (hfd >= 0) {
		kill_holder(hfd);
		close(hfd);
		pr_info("%s: memory tracking of %zu processes removed (holder %d)", dir, trk->n_tasks,
			trk->holder_pid);
	} else {
		pr_info("%s: its memory tracking has already ended", dir);
	}
	protobuf_c_message_free_unpacked(&trk->base, NULL);
	return 0;
}
