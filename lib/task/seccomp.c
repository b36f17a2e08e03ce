/* SPDX-License-Identifier: MIT */
/*
 * seccomp: strict mode and filter mode, per thread (image seccomp-<pid>.img,
 * schema images/seccomp.proto; none when no thread uses seccomp).
 *
 * Dump.  A filter applies to the syscalls crest injects too, so before
 * anything is injected every thread in seccomp mode gets
 * PTRACE_O_SUSPEND_SECCOMP (seccomp_dump_suspend(), called by the core
 * right after the freeze; the kernel drops the option again at detach).
 * Each thread's mode comes from /proc/PID/task/TID/status; its filters from
 * PTRACE_SECCOMP_GET_FILTER (index 0 is the oldest) with the flags
 * PTRACE_GET_SECCOMP_METADATA reports (SECCOMP_FILTER_FLAG_LOG).  The kernel
 * gives no identity of a filter, so threads whose chains are equal from the
 * bottom up are taken to share those filters (a TSYNC, or a filter installed
 * before the threads were made): the image keeps the filters as a tree.
 * A filter that can answer SECCOMP_RET_USER_NOTIF is refused: its listener
 * (a supervisor's fd) cannot be given back.
 *
 * Restore.  Installed last, just before the task runs, by syscalls injected
 * into each thread with PTRACE_O_SUSPEND_SECCOMP set on it, so that the
 * injections that follow (credentials, the gadget's munmap) are not
 * filtered whatever the filter forbids; the option goes with the detach.
 * The part of the tree every thread shares is installed by the main thread
 * with SECCOMP_FILTER_FLAG_TSYNC (one filter object for all threads again,
 * so a later TSYNC by the program works as before); the rest by each thread
 * itself.  Strict mode is entered with prctl(PR_SET_SECCOMP) last.  The
 * module runs before creds, while the task is still root (installing a
 * filter needs CAP_SYS_ADMIN or no_new_privs).
 */
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/ptrace.h>
#include <linux/seccomp.h>
#include "core/task.h"
#include "image/image.h"
#include "util/log.h"
#include "util/util.h"
#include "seccomp.h"
#include "seccomp.pb-c.h"

#define SC_MAX_FILTERS 1024     /* per thread (the kernel's limit is 32768 insns in all) */
#define SC_MAX_INSNS 4096       /* BPF_MAXINSNS */

static const char *mode_name(int mode)
{
	return mode == SECCOMP_MODE_STRICT ? "strict" : mode == SECCOMP_MODE_FILTER ? "filter" : "none";
}

/* "" or "thread 12: " for messages */
static const char *thr_name(char *buf, size_t n, pid_t pid, pid_t tid)
{
	buf[0] = 0;
	if (tid != pid)
		snprintf(buf, n, "thread %d: ", tid);
	return buf;
}

/* Seccomp mode of thread tid of pid (0 if it is gone meanwhile). */
static int thread_mode(pid_t pid, pid_t tid)
{
	_cleanup_free_ char *buf = NULL;
	char name[64];
	const char *v;

	snprintf(name, sizeof(name), "task/%d/status", tid);
	if (proc_read(pid, name, &buf, NULL) < 0)
		return 0;
	v = proc_status_field(buf, "Seccomp");
	return v ? atoi(v) : 0;
}

/* ------------------------------------------------------------------ dump */

static int suspend_one(pid_t pid, pid_t tid)
{
	char thr[32];
	int mode = thread_mode(pid, tid);

	if (mode == 0)
		return 0;
	if (ptrace(PTRACE_SETOPTIONS, tid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_SUSPEND_SECCOMP) < 0)
		return pr_errno(-errno, "pid %d: %sruns in seccomp %s mode and its filter cannot be "
				"suspended for the dump (PTRACE_O_SUSPEND_SECCOMP); crest needs "
				"CAP_SYS_ADMIN, not to be under seccomp itself, and a kernel with "
				"CONFIG_CHECKPOINT_RESTORE (see `crest check`)", pid,
				thr_name(thr, sizeof(thr), pid, tid), mode_name(mode));
	pr_debug("pid %d: %sseccomp %s mode: suspended while crest works on it", pid,
		 thr_name(thr, sizeof(thr), pid, tid), mode_name(mode));
	return 0;
}

int seccomp_dump_suspend(struct dump_task *t)
{
	int r = suspend_one(t->pid, t->pid);

	for (size_t i = 0; i < t->nr_threads && r == 0; i++)
		if (t->threads[i].seized && !t->threads[i].t.dead)
			r = suspend_one(t->pid, t->threads[i].tid);
	return r;
}

struct sc_dump {
	SeccompFilter *filters;         /* the tree */
	size_t nr_filters;
	SeccompThread *threads;
	size_t nr_threads;
};

static void sc_dump_free(struct sc_dump *d)
{
	for (size_t i = 0; i < d->nr_filters; i++)
		free(d->filters[i].prog.data);
	free(d->filters);
	free(d->threads);
}

/* Can the program answer SECCOMP_RET_USER_NOTIF? */
static bool may_notify(const struct sock_filter *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (BPF_CLASS(p[i].code) == BPF_RET && BPF_RVAL(p[i].code) == BPF_K &&
		    (p[i].k & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_USER_NOTIF)
			return true;
	return false;
}

/* The node for (parent, flags, prog): found, or added (taking prog). */
static int tree_node(struct sc_dump *d, int parent, uint32_t flags, uint8_t **prog, size_t len)
{
	for (size_t i = 0; i < d->nr_filters; i++) {
		SeccompFilter *f = &d->filters[i];
		if (f->parent == parent && f->flags == flags && f->prog.len == len &&
		    !memcmp(f->prog.data, *prog, len))
			return (int)i;
	}
	SeccompFilter *nf = realloc(d->filters, (d->nr_filters + 1) * sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	d->filters = nf;
	nf = &d->filters[d->nr_filters];
	seccomp_filter__init(nf);
	nf->prog.data = TAKE_PTR(*prog);
	nf->prog.len = len;
	nf->has_flags = nf->has_parent = true;
	nf->flags = flags;
	nf->parent = parent;
	return (int)d->nr_filters++;
}

/* The filters of one thread (stopped, seccomp suspended) into the tree. */
static int dump_filters(struct sc_dump *d, pid_t pid, pid_t tid, SeccompThread *e)
{
	char thr[32];
	long n;
	int cur = -1;

	thr_name(thr, sizeof(thr), pid, tid);
	for (n = 0; n < SC_MAX_FILTERS; n++) {
		errno = 0;
		if (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, n, NULL) < 0) {
			if (errno == ENOENT)
				break;
			return pr_errno(-errno, "pid %d: %scannot read seccomp filter %ld "
					"(PTRACE_SECCOMP_GET_FILTER; crest needs CAP_SYS_ADMIN)", pid, thr, n);
		}
	}
	if (n == 0 || n >= SC_MAX_FILTERS) {
		pr_err("pid %d: %sseccomp filter mode with %ld filters: not understood", pid, thr, n);
		return -EINVAL;
	}
	/* index 0 is the first one installed (the bottom of the stack) */
	for (long i = 0; i < n; i++) {
		struct seccomp_metadata md = { .filter_off = (uint64_t)i };
		long cnt = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, i, NULL);
		_cleanup_free_ uint8_t *prog = NULL;
		int r;

		if (cnt <= 0 || cnt > SC_MAX_INSNS)
			return pr_errno(cnt < 0 ? -errno : -EINVAL, "pid %d: %sseccomp filter %ld: cannot "
					"read its length", pid, thr, i);
		prog = malloc((size_t)cnt * sizeof(struct sock_filter));
		if (!prog)
			return -ENOMEM;
		if (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, i, prog) != cnt)
			return pr_errno(-EIO, "pid %d: %sseccomp filter %ld changed while read", pid, thr, i);
		if (ptrace(PTRACE_SECCOMP_GET_METADATA, tid, sizeof(md), &md) < 0)
			return pr_errno(-errno, "pid %d: %sseccomp filter %ld: cannot read its flags "
					"(PTRACE_SECCOMP_GET_METADATA)", pid, thr, i);
		if (may_notify((const struct sock_filter *)prog, (size_t)cnt)) {
			pr_err("pid %d: %sseccomp filter %ld (of %ld) hands syscalls to a supervisor "
			       "(SECCOMP_RET_USER_NOTIF): its listener cannot be given back; not supported",
			       pid, thr, i + 1, n);
			return -EOPNOTSUPP;
		}
		r = tree_node(d, cur, (uint32_t)md.flags, &prog, (size_t)cnt * sizeof(struct sock_filter));
		if (r < 0)
			return pr_errno(r, "pid %d: seccomp filters", pid);
		cur = r;
	}
	e->has_filter = true;
	e->filter = cur;
	pr_debug("pid %d: %s%ld seccomp filters", pid, thr, n);
	return 0;
}

static int seccomp_dump(struct dump_ctx *c, struct dump_task *t)
{
	struct sc_dump d = { 0 };
	bool any = false;
	int r = 0;

	d.threads = calloc(t->nr_threads + 1, sizeof(*d.threads));
	if (!d.threads)
		return -ENOMEM;
	for (size_t i = 0; i <= t->nr_threads; i++) {
		pid_t tid = i == 0 ? t->pid : t->threads[i - 1].tid;
		SeccompThread *e = &d.threads[d.nr_threads];

		if (i > 0 && (!t->threads[i - 1].seized || t->threads[i - 1].t.dead))
			continue;
		seccomp_thread__init(e);
		e->tid = tid;
		e->mode = (uint32_t)thread_mode(t->pid, tid);
		d.nr_threads++;
		if (e->mode == SECCOMP_MODE_DISABLED)
			continue;
		any = true;
		if (e->mode == SECCOMP_MODE_FILTER) {
			r = dump_filters(&d, t->pid, tid, e);
			if (r < 0)
				goto out;
		} else if (e->mode != SECCOMP_MODE_STRICT) {
			pr_err("pid %d: thread %d: seccomp mode %u is not known to crest", t->pid, tid, e->mode);
			r = -EOPNOTSUPP;
			goto out;
		}
	}
	if (any) {
		Seccomp m = SECCOMP__INIT;
		SeccompFilter *fp[d.nr_filters + 1];
		SeccompThread *tp[d.nr_threads + 1];
		char name[IMG_NAME_MAX];

		for (size_t i = 0; i < d.nr_filters; i++)
			fp[i] = &d.filters[i];
		for (size_t i = 0; i < d.nr_threads; i++)
			tp[i] = &d.threads[i];
		m.filters = fp;
		m.n_filters = d.nr_filters;
		m.threads = tp;
		m.n_threads = d.nr_threads;
		snprintf(name, sizeof(name), "seccomp-%d.img", t->pid);
		r = img_write(c->dirfd, name, &m.base);
		if (r == 0)
			pr_info("pid %d: seccomp: %zu filters kept for %zu threads", t->pid, d.nr_filters,
				d.nr_threads);
	}
out:
	sc_dump_free(&d);
	return r;
}

/* --------------------------------------------------------------- restore */

struct sc_rst {
	Seccomp *img;
	int main_idx;           /* image entry of the main thread */
	int *thr_idx;           /* per t->thread_tids[i]: its image entry, -1: none */
	size_t shared;          /* filters (from the bottom) every thread has: TSYNC'd */
};

static void seccomp_free(struct restore_task *t)
{
	struct sc_rst *s = t->priv[MOD_SECCOMP];

	if (!s)
		return;
	if (s->img)
		protobuf_c_message_free_unpacked(&s->img->base, NULL);
	free(s->thr_idx);
	free(s);
	t->priv[MOD_SECCOMP] = NULL;
}

/* The filter indices of entry e, bottom first, into path (depth returned). */
static size_t chain(const Seccomp *img, const SeccompThread *e, int *path, size_t max)
{
	size_t n = 0;

	if (e->mode != SECCOMP_MODE_FILTER)
		return 0;
	for (int f = e->filter; f >= 0 && n < max; f = img->filters[f]->parent)
		path[n++] = f;
	for (size_t i = 0; i < n / 2; i++) {
		int x = path[i];
		path[i] = path[n - 1 - i];
		path[n - 1 - i] = x;
	}
	return n;
}

static int bad_image(pid_t pid, const char *what)
{
	pr_err("pid %d: seccomp image: %s; the image is damaged", pid, what);
	return -EBADMSG;
}

static int seccomp_load(struct restore_ctx *c, struct restore_task *t)
{
	char name[IMG_NAME_MAX];
	Seccomp *img = NULL;
	struct sc_rst *s;
	int r;

	snprintf(name, sizeof(name), "seccomp-%d.img", t->pid);
	r = img_read(c->dirfd, name, &seccomp__descriptor, (ProtobufCMessage **)&img, true);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	s = xzalloc(sizeof(*s));
	if (!s) {
		protobuf_c_message_free_unpacked(&img->base, NULL);
		return -ENOMEM;
	}
	s->img = img;
	s->main_idx = -1;
	t->priv[MOD_SECCOMP] = s;
	s->thr_idx = malloc((t->nr_thread_tids + 1) * sizeof(int));
	if (!s->thr_idx)
		return -ENOMEM;
	for (size_t i = 0; i < t->nr_thread_tids; i++)
		s->thr_idx[i] = -1;
	for (size_t i = 0; i < img->n_filters; i++) {
		SeccompFilter *f = img->filters[i];
		if (!f->prog.len || f->prog.len % sizeof(struct sock_filter) ||
		    f->prog.len > SC_MAX_INSNS * sizeof(struct sock_filter) ||
		    (f->has_parent && f->parent >= (int)i) || (f->has_parent && f->parent < -1))
			return bad_image(t->pid, "a filter is inconsistent");
		if (!f->has_parent)
			f->parent = -1;
	}
	for (size_t i = 0; i < img->n_threads; i++) {
		SeccompThread *e = img->threads[i];
		if (e->mode > SECCOMP_MODE_FILTER ||
		    (e->mode == SECCOMP_MODE_FILTER &&
		     (!e->has_filter || e->filter < 0 || e->filter >= (int)img->n_filters)))
			return bad_image(t->pid, "a thread entry is inconsistent");
		if (e->tid == t->pid) {
			s->main_idx = (int)i;
			continue;
		}
		for (size_t k = 0; k < t->nr_thread_tids; k++)
			if (t->thread_tids[k] == e->tid)
				s->thr_idx[k] = (int)i;
	}
	if (s->main_idx < 0)
		return bad_image(t->pid, "no entry for the main thread");

	/* the filters every thread has, from the bottom: installed once with
	 * TSYNC (only when every thread is in filter mode: TSYNC gives the
	 * filter to threads without one too) */
	int pm[SC_MAX_FILTERS], pt[SC_MAX_FILTERS];
	size_t nm = chain(img, img->threads[s->main_idx], pm, SC_MAX_FILTERS);
	s->shared = nm;
	for (size_t k = 0; k < t->nr_thread_tids && s->shared; k++) {
		size_t nt, j = 0;
		if (s->thr_idx[k] < 0) {
			s->shared = 0;
			break;
		}
		nt = chain(img, img->threads[s->thr_idx[k]], pt, SC_MAX_FILTERS);
		while (j < s->shared && j < nt && pm[j] == pt[j])
			j++;
		s->shared = j;
	}
	pr_debug("pid %d: seccomp: %zu filters, %zu shared by every thread", t->pid, img->n_filters,
		 s->shared);
	return 0;
}

/* Install filter f in thread tr (seccomp suspended on it). */
static int install_filter(struct restore_task *t, struct tracee *tr, const SeccompFilter *f,
			  bool tsync, size_t nth)
{
	size_t size = PAGE_ALIGN_UP(16 + f->prog.len);
	uint64_t fprog[2] = { f->prog.len / sizeof(struct sock_filter), 0 };
	unsigned long flags = f->flags | (tsync ? SECCOMP_FILTER_FLAG_TSYNC : 0);
	long addr, ret;
	int r;

	/* the program in a shared anonymous mapping of its own (never merged
	 * with a restored one), gone again after */
	r = INJECT(tr, &addr, __NR_mmap, 0, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		   -1, 0);
	if (r < 0)
		return r;
	if (addr < 0 && addr > -4096)
		return pr_errno((int)addr, "pid %d: thread %d: mmap for seccomp filter %zu", t->pid,
				tr->pid, nth);
	fprog[1] = (uint64_t)addr + 16;
	r = tracee_write(tr, (unsigned long)addr, fprog, sizeof(fprog));
	if (r == 0)
		r = tracee_write(tr, (unsigned long)addr + 16, f->prog.data, f->prog.len);
	if (r == 0)
		r = INJECT(tr, &ret, __NR_seccomp, SECCOMP_SET_MODE_FILTER, flags, addr);
	if (r == 0 && ret < 0)
		r = pr_errno((int)ret, "pid %d: thread %d: cannot install seccomp filter %zu "
			     "(flags %#lx) again", t->pid, tr->pid, nth, flags);
	else if (r == 0 && ret > 0) {
		pr_err("pid %d: seccomp filter %zu could not be synchronised (TSYNC) to thread %ld",
		       t->pid, nth, ret);
		r = -EPROTO;
	}
	long mr;
	int r2 = INJECT(tr, &mr, __NR_munmap, addr, size);
	return r < 0 ? r : r2;
}

/* Thread tr's seccomp state from entry e; its first `skip` filters are
 * there already (TSYNC'd), `tsync` of them are to be installed with TSYNC. */
static int restore_thread(struct restore_task *t, struct tracee *tr, const SeccompThread *e,
			  size_t skip, size_t tsync, bool is_main)
{
	struct sc_rst *s = t->priv[MOD_SECCOMP];
	int path[SC_MAX_FILTERS], r;
	size_t n;
	long ret;
	unsigned opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_SUSPEND_SECCOMP |
			(!is_main || t->nr_thread_tids ? PTRACE_O_TRACECLONE : 0);

	if (e->mode == SECCOMP_MODE_DISABLED)
		return 0;
	/* the injections that follow must not meet the filter */
	if (ptrace(PTRACE_SETOPTIONS, tr->pid, 0, opts) < 0)
		return pr_errno(-errno, "pid %d: thread %d: cannot suspend seccomp while it is restored "
				"(PTRACE_O_SUSPEND_SECCOMP; see `crest check`)", t->pid, tr->pid);
	n = chain(s->img, e, path, SC_MAX_FILTERS);
	for (size_t i = skip; i < n; i++) {
		r = install_filter(t, tr, s->img->filters[path[i]], i < tsync, i + 1);
		if (r < 0)
			return r;
	}
	if (e->mode == SECCOMP_MODE_STRICT) {
		r = INJECT(tr, &ret, __NR_prctl, PR_SET_SECCOMP, SECCOMP_MODE_STRICT);
		if (r == 0 && ret < 0)
			r = pr_errno((int)ret, "pid %d: thread %d: cannot enter seccomp strict mode again",
				     t->pid, tr->pid);
		if (r < 0)
			return r;
	}
	pr_debug("pid %d: thread %d: seccomp %s mode, %zu filters (%zu with TSYNC)", t->pid, tr->pid,
		 mode_name((int)e->mode), n - skip, tsync);
	return 0;
}

static int seccomp_inject_late(struct restore_ctx *c, struct restore_task *t)
{
	struct sc_rst *s = t->priv[MOD_SECCOMP];

	if (!s)
		return 0;
	return restore_thread(t, &t->t, s->img->threads[s->main_idx], 0,
			      t->nr_thread_tids ? s->shared : 0, true);
}

static int seccomp_inject_thread(struct restore_ctx *c, struct restore_task *t, size_t i,
				 struct tracee *th)
{
	struct sc_rst *s = t->priv[MOD_SECCOMP];

	if (!s || s->thr_idx[i] < 0)
		return 0;
	return restore_thread(t, th, s->img->threads[s->thr_idx[i]], s->shared, 0, false);
}

const struct crest_module seccomp_module = {
	.name = "seccomp",
	.dump = seccomp_dump,
	.load = seccomp_load,
	.inject_late = seccomp_inject_late,
	.inject_thread = seccomp_inject_thread,
	.free = seccomp_free,
};
