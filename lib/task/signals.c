/* SPDX-License-Identifier: MIT */
/*
 * Signals: dispositions (rt_sigaction), blocked mask, pending signals of the
 * private and shared queues with their full siginfo, and the sigaltstack.
 *
 * Dump (task stopped, injection ready):
 *  - handlers: injected rt_sigaction(sig, NULL, scratch, 8) for 1..64 except
 *    SIGKILL/SIGSTOP, reading struct kernel_sigaction back from scratch;
 *  - blocked mask: t->t.sigmask, saved by the core at seize (while we inject,
 *    the core keeps every signal blocked, so the live mask is meaningless);
 *  - pending: PTRACE_PEEKSIGINFO in a loop, private queue then (thread group
 *    leader only) the shared queue with PTRACE_PEEKSIGINFO_SHARED;
 *  - altstack: injected sigaltstack(NULL, scratch).
 * Restore:
 *  - .inject: every disposition is set (the child is a fork of crest and
 *    inherited crest's), then the altstack;
 *  - .inject_late: pending signals are queued again, in order, by the task to
 *    itself (rt_tgsigqueueinfo for the private queue, rt_sigqueueinfo for
 *    the shared one); as the sender is the task itself the kernel accepts any
 *    si_code, so the siginfo arrives unchanged.  The core keeps every signal
 *    blocked while injecting, so nothing is delivered before the task runs;
 *  - the blocked mask is set by the core (sig_restore_blocked()).
 */
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <linux/ptrace.h>
#include "image/image.h"
#include "util/log.h"
#include "pstree.pb-c.h"
#include "signals.h"
#include "signal.pb-c.h"
#include "core/task.h"
#include "util/util.h"

#define NSIG_KERNEL 64
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif
#define SIGINFO_SIZE 128
#define SIGSET_SIZE 8

/* The kernel's view of struct sigaction on x86_64 (rt_sigaction). */
struct ksigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

/* stack_t as the kernel uses it on x86_64. */
struct kstack {
	uint64_t sp;
	int32_t flags;
	int32_t pad;
	uint64_t size;
};

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static bool sig_settable(int sig)
{
	return sig != SIGKILL && sig != SIGSTOP;
}

pid_t task_tgid(pid_t pid)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = proc_read(pid, "status", &buf, &len);
	if (r < 0)
		return pr_errno(r, "pid %d: cannot read /proc/%d/status", pid, pid);
	const char *p = strstr(buf, "\nTgid:");
	if (!p) {
		pr_err("pid %d: no Tgid line in /proc/%d/status", pid, pid);
		return -EINVAL;
	}
	return (pid_t)strtol(p + 6, NULL, 10);
}

int task_vids(pid_t pid, pid_t *vtgid, pid_t *vtid)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_free_ int32_t *g = NULL, *t = NULL;
	size_t len, ng = 0, nt = 0;
	int r = proc_read(pid, "status", &buf, &len);
	if (r < 0)
		return pr_errno(r, "pid %d: cannot read /proc/%d/status", pid, pid);
	r = status_ids(buf, "\nNStgid:", &g, &ng);
	if (r == 0)
		r = status_ids(buf, "\nNSpid:", &t, &nt);
	if (r < 0)
		return r;
	if (!ng || !nt) {
		pr_err("pid %d: no NStgid/NSpid line in /proc/%d/status", pid, pid);
		return -EINVAL;
	}
	*vtgid = g[ng - 1];
	*vtid = t[nt - 1];
	return 0;
}

/* ---------------------------------------------------------------- dump -- */

static int dump_actions(struct dump_task *t, TaskSignals *ts, SigAction *acts, SigAction **ptrs)
{
	struct ksigaction ka[NSIG_KERNEL];
	struct tracee *tr = &t->t;
	long ret;
	int r;

	if (tr->scratch_size < sizeof(ka)) {
		pr_err("pid %d: signals: scratch memory too small (%zu bytes)", t->pid, tr->scratch_size);
		return -ENOSPC;
	}
	memset(ka, 0, sizeof(ka));
	for (int sig = 1; sig <= NSIG_KERNEL; sig++) {
		if (!sig_settable(sig))
			continue;
		unsigned long addr = tr->scratch + (sig - 1) * sizeof(struct ksigaction);
		r = INJECT(tr, &ret, __NR_rt_sigaction, sig, 0, addr, SIGSET_SIZE);
		if (r < 0)
			return r;
		if (ret < 0)
			return pr_errno((int)ret, "pid %d: signal %d: rt_sigaction (read) failed", t->pid, sig);
	}
	r = tracee_read(tr, tr->scratch, ka, sizeof(ka));
	if (r < 0)
		return r;

	for (int sig = 1; sig <= NSIG_KERNEL; sig++) {
		struct ksigaction *k = &ka[sig - 1];
		if (!sig_settable(sig))
			continue;
		if (!k->handler && !k->flags && !k->mask)
			continue;   /* plain SIG_DFL: the restore default */
		SigAction *a = &acts[ts->n_actions];
		sig_action__init(a);
		a->sig = sig;
		a->handler = k->handler;
		a->flags = k->flags;
		a->restorer = k->restorer;
		a->mask = k->mask;
		ptrs[ts->n_actions++] = a;
		pr_debug("pid %d: signal %d: handler %#lx flags %#lx mask %#lx", t->pid, sig,
			 (unsigned long)k->handler, (unsigned long)k->flags, (unsigned long)k->mask);
	}
	return 0;
}

static void free_pending(PendingSig **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i])
			free(v[i]->info.data);
		free(v[i]);
	}
	free(v);
}

/* Read one queue (shared or private) with PTRACE_PEEKSIGINFO. */
static int dump_queue(pid_t pid, bool shared, PendingSig ***out, size_t *n_out)
{
	struct __ptrace_peeksiginfo_args args = {
		.off = 0,
		.flags = shared ? PTRACE_PEEKSIGINFO_SHARED : 0,
		.nr = 16,
	};
	uint8_t buf[16][SIGINFO_SIZE];
	PendingSig **v = NULL;
	size_t n = 0;
	const char *qname = shared ? "shared" : "private";

	for (;;) {
		long got = ptrace(PTRACE_PEEKSIGINFO, pid, &args, buf);
		if (got < 0) {
			int r = pr_errno(-errno, "pid %d: cannot read the %s pending signal queue "
					 "(PTRACE_PEEKSIGINFO)", pid, qname);
			free_pending(v, n);
			return r;
		}
		if (got == 0)
			break;
		PendingSig **nv = realloc(v, (n + got) * sizeof(*v));
		if (!nv) {
			free_pending(v, n);
			return -ENOMEM;
		}
		v = nv;
		for (long i = 0; i < got; i++) {
			siginfo_t si;
			memcpy(&si, buf[i], sizeof(si));
			if (si.si_signo == SIGKILL) {
				pr_err("pid %d: a SIGKILL is pending (%s queue): the task is being killed, "
				       "nothing to dump", pid, qname);
				free_pending(v, n);
				return -ESRCH;
			}
			if (si.si_signo == SIGSTOP) {
				pr_err("pid %d: a SIGSTOP is pending (%s queue): stopping tasks cannot be "
				       "dumped; retry once it has stopped or continued", pid, qname);
				free_pending(v, n);
				return -EBUSY;
			}
			PendingSig *p = malloc(sizeof(*p));
			uint8_t *d = malloc(SIGINFO_SIZE);
			if (!p || !d) {
				free(p);
				free(d);
				free_pending(v, n);
				return -ENOMEM;
			}
			pending_sig__init(p);
			memcpy(d, buf[i], SIGINFO_SIZE);
			p->sig = si.si_signo;
			p->code = si.si_code;
			p->info.data = d;
			p->info.len = SIGINFO_SIZE;
			v[n++] = p;
			pr_debug("pid %d: pending signal %d (%s queue, si_code %d)", pid, si.si_signo,
				 qname, si.si_code);
		}
		args.off += got;
	}
	*out = v;
	*n_out = n;
	return 0;
}

static int dump_altstack(struct dump_task *t, SigAltStack *as)
{
	struct tracee *tr = &t->t;
	struct kstack ks;
	long ret;
	int r = INJECT(tr, &ret, __NR_sigaltstack, 0, tr->scratch);
	if (r < 0)
		return r;
	if (ret < 0)
		return pr_errno((int)ret, "pid %d: sigaltstack: reading it failed", t->pid);
	r = tracee_read(tr, tr->scratch, &ks, sizeof(ks));
	if (r < 0)
		return r;
	as->sp = ks.sp;
	as->flags = ks.flags;
	as->size = ks.size;
	pr_debug("pid %d: sigaltstack sp %#lx size %lu flags %#x", t->pid, (unsigned long)ks.sp,
		 (unsigned long)ks.size, (unsigned)ks.flags);
	return 0;
}

static int sig_dump(struct dump_ctx *c, struct dump_task *t)
{
	TaskSignals ts = TASK_SIGNALS__INIT;
	SigAltStack as = SIG_ALT_STACK__INIT;
	SigAction acts[NSIG_KERNEL];
	SigAction *ptrs[NSIG_KERNEL];
	char name[IMG_NAME_MAX];
	int r;

	pid_t tgid = task_tgid(t->pid);
	if (tgid < 0)
		return tgid;

	ts.actions = ptrs;
	r = dump_actions(t, &ts, acts, ptrs);
	if (r < 0)
		return r;
	ts.blocked = t->t.sigmask;

	r = dump_queue(t->pid, false, &ts.pending, &ts.n_pending);
	if (r < 0)
		return r;
	/* The shared queue belongs to the thread group: dump it once. */
	if (tgid == t->pid) {
		r = dump_queue(t->pid, true, &ts.shared, &ts.n_shared);
		if (r < 0)
			goto out;
	}
	r = dump_altstack(t, &as);
	if (r < 0)
		goto out;
	ts.altstack = &as;

	snprintf(name, sizeof(name), "signal-%d.img", t->pid);
	r = img_write(c->dirfd, name, &ts.base);
	if (r == 0)
		pr_info("pid %d: signals: %zu handlers, blocked %#lx, %zu+%zu pending", t->pid,
			ts.n_actions, (unsigned long)ts.blocked, ts.n_pending, ts.n_shared);
out:
	free_pending(ts.pending, ts.n_pending);
	free_pending(ts.shared, ts.n_shared);
	return r;
}

/* ------------------------------------------------------------- restore -- */

static int check_queue(pid_t pid, PendingSig **v, size_t n, const char *qname)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i]->sig < 1 || v[i]->sig > NSIG_KERNEL || !sig_settable(v[i]->sig) ||
		    v[i]->info.len != SIGINFO_SIZE) {
			pr_err("pid %d: signal image: bad pending signal %u (%s queue, %zu bytes of siginfo)",
			       pid, v[i]->sig, qname, v[i]->info.len);
			return -EBADMSG;
		}
	}
	return 0;
}

static int sig_load(struct restore_ctx *c, struct restore_task *t)
{
	ProtobufCMessage *m = NULL;
	char name[IMG_NAME_MAX];
	int r;

	snprintf(name, sizeof(name), "signal-%d.img", t->pid);
	r = img_read(c->dirfd, name, &task_signals__descriptor, &m, false);
	if (r < 0)
		return r;
	TaskSignals *ts = (TaskSignals *)m;
	for (size_t i = 0; i < ts->n_actions; i++) {
		uint32_t sig = ts->actions[i]->sig;
		if (sig < 1 || sig > NSIG_KERNEL || !sig_settable(sig)) {
			pr_err("pid %d: %s: bad signal number %u in a handler entry", t->pid, name, sig);
			r = -EBADMSG;
			goto fail;
		}
	}
	r = check_queue(t->pid, ts->pending, ts->n_pending, "private");
	if (r == 0)
		r = check_queue(t->pid, ts->shared, ts->n_shared, "shared");
	if (r < 0)
		goto fail;
	t->priv[MOD_SIG] = ts;
	return 0;
fail:
	protobuf_c_message_free_unpacked(m, NULL);
	return r;
}

/*
 * Signals the fresh task has at their default for sure, so that a SIG_DFL
 * action (without flags) of the image needs no injected rt_sigaction (62 of
 * them per task otherwise): neither caught nor ignored in the task
 * (SigCgt, SigIgn), and without flags or mask in crest, whose dispositions
 * it inherited through fork.
 */
static uint64_t default_sigs(pid_t pid)
{
	_cleanup_free_ char *st = NULL;
	const char *cgt, *ign;
	uint64_t busy, dfl = 0;

	if (proc_read(pid, "status", &st, NULL) < 0 || !(cgt = proc_status_field(st, "SigCgt")) ||
	    !(ign = proc_status_field(st, "SigIgn")))
		return 0;
	busy = strtoull(cgt, NULL, 16) | strtoull(ign, NULL, 16);
	for (int sig = 1; sig <= NSIG_KERNEL && sig <= 64; sig++) {
		struct sigaction cur;
		if (busy & (1ULL << (sig - 1)) || sigaction(sig, NULL, &cur) < 0)
			continue;
		if (cur.sa_handler == SIG_DFL && !(cur.sa_flags & ~SA_RESTORER) && sigisemptyset(&cur.sa_mask))
			dfl |= 1ULL << (sig - 1);
	}
	return dfl;
}

static int sig_inject(struct restore_ctx *c, struct restore_task *t)
{
	TaskSignals *ts = t->priv[MOD_SIG];
	struct tracee *tr = &t->t;
	struct ksigaction ka[NSIG_KERNEL];
	long ret;
	int r;

	if (tr->scratch_size < sizeof(ka)) {
		pr_err("pid %d: signals: scratch memory too small (%zu bytes)", t->pid, tr->scratch_size);
		return -ENOSPC;
	}
	/* handlers shared with an earlier task (CLONE_SIGHAND between
	 * processes, share.c): set once, by that task */
	if (t->pstree && t->pstree->has_sighand_owner)
		goto altstack;
	/* Signals absent from the image are SIG_DFL (crest's own are inherited
	 * through fork and must not survive). */
	memset(ka, 0, sizeof(ka));
	for (size_t i = 0; i < ts->n_actions; i++) {
		SigAction *a = ts->actions[i];
		struct ksigaction *k = &ka[a->sig - 1];
		k->handler = a->handler;
		k->flags = a->flags;
		k->restorer = a->restorer;
		k->mask = a->mask;
	}
	r = tracee_write(tr, tr->scratch, ka, sizeof(ka));
	if (r < 0)
		return r;
	uint64_t dfl = default_sigs(t->pid);
	for (int sig = 1; sig <= NSIG_KERNEL; sig++) {
		const struct ksigaction *k = &ka[sig - 1];
		if (!sig_settable(sig))
			continue;
		if (sig <= 64 && (dfl & (1ULL << (sig - 1))) && !k->handler && !k->flags && !k->restorer && !k->mask)
			continue;   /* already so */
		unsigned long addr = tr->scratch + (sig - 1) * sizeof(struct ksigaction);
		r = INJECT(tr, &ret, __NR_rt_sigaction, sig, addr, 0, SIGSET_SIZE);
		if (r < 0)
			return r;
		if (ret < 0)
			return pr_errno((int)ret, "pid %d: signal %d: rt_sigaction (handler %#lx, flags %#lx) "
					"failed", t->pid, sig, (unsigned long)ka[sig - 1].handler,
					(unsigned long)ka[sig - 1].flags);
	}

altstack:
	if (ts->altstack) {
		SigAltStack *as = ts->altstack;
		struct kstack ks = { 0 };
		if (as->flags & SS_DISABLE) {
			ks.flags = SS_DISABLE;
		} else {
			/* SS_ONSTACK is a state, not a mode: the task's registers
			 * (restored later) put it back on the stack. */
			ks.sp = as->sp;
			ks.size = as->size;
			ks.flags = as->flags & SS_AUTODISARM;
		}
		r = tracee_write(tr, tr->scratch, &ks, sizeof(ks));
		if (r < 0)
			return r;
		r = INJECT(tr, &ret, __NR_sigaltstack, tr->scratch, 0);
		if (r < 0)
			return r;
		if (ret < 0)
			return pr_errno((int)ret, "pid %d: sigaltstack (sp %#lx size %lu flags %#x) failed",
					t->pid, (unsigned long)ks.sp, (unsigned long)ks.size,
					(unsigned)ks.flags);
	}
	pr_debug("pid %d: signals: %zu handlers restored", t->pid, ts->n_actions);
	return 0;
}

/*
 * A pending SI_TIMER siginfo of a POSIX timer is, in the kernel, the timer's
 * own preallocated sigqueue.  We queue a copy as an ordinary queued signal:
 * the handler sees the same siginfo (si_timerid, si_value, si_overrun as at
 * dump), and the restored timer queues its own signal again when it next
 * expires.  The difference: if the signal stays blocked, a later expiry adds
 * a second queued signal instead of bumping the overrun count.  Acceptable.
 */
static int queue_one(struct restore_task *t, pid_t tgid, pid_t tid, PendingSig *p, bool shared)
{
	struct tracee *tr = &t->t;
	long ret;
	int r = tracee_write(tr, tr->scratch, p->info.data, SIGINFO_SIZE);
	if (r < 0)
		return r;
	if (shared)
		r = INJECT(tr, &ret, __NR_rt_sigqueueinfo, tgid, p->sig, tr->scratch);
	else
		r = INJECT(tr, &ret, __NR_rt_tgsigqueueinfo, tgid, tid, p->sig, tr->scratch);
	if (r < 0)
		return r;
	if (ret < 0)
		return pr_errno((int)ret, "pid %d: re-queueing pending signal %u (%s queue, si_code %d) "
				"failed%s", t->pid, p->sig, shared ? "shared" : "private", p->code,
				ret == -EAGAIN ? " (RLIMIT_SIGPENDING reached?)" : "");
	return 0;
}

static int sig_inject_late(struct restore_ctx *c, struct restore_task *t)
{
	TaskSignals *ts = t->priv[MOD_SIG];
	int r;

	if (!ts->n_pending && !ts->n_shared)
		return 0;
	/* The task queues them to itself: by the ids its own pid namespace
	 * gives it (the kernel also takes si_code >= 0 only for oneself). */
	pid_t tgid, tid;
	r = task_vids(t->pid, &tgid, &tid);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ts->n_shared; i++) {
		r = queue_one(t, tgid, tid, ts->shared[i], true);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ts->n_pending; i++) {
		r = queue_one(t, tgid, tid, ts->pending[i], false);
		if (r < 0)
			return r;
	}
	pr_debug("pid %d: signals: %zu+%zu pending signals queued", t->pid, ts->n_pending, ts->n_shared);
	return 0;
}

int sig_restore_blocked(struct restore_task *t, uint64_t *mask)
{
	TaskSignals *ts = t->priv[MOD_SIG];
	if (!ts)
		return -ENOENT;
	*mask = ts->blocked;
	return 0;
}

static void sig_free(struct restore_task *t)
{
	if (t->priv[MOD_SIG])
		protobuf_c_message_free_unpacked(t->priv[MOD_SIG], NULL);
	t->priv[MOD_SIG] = NULL;
}

const struct crest_module sig_module = {
	.name = "signals",
	.dump = sig_dump,
	.load = sig_load,
	.inject = sig_inject,
	.inject_late = sig_inject_late,
	.free = sig_free,
};
