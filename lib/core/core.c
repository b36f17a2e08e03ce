/* SPDX-License-Identifier: MIT */
/*
 * Task core: registers, xsave area and basic identity (core-<pid>.img).
 */
#include <stdio.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <linux/ptrace.h>
#include <string.h>
#include "core.pb-c.h"
#include "core.h"
#include "image/image.h"
#include "util/log.h"
#include "util/util.h"

#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

static void regs_to_image(const struct user_regs_struct *r, X86Regs *x)
{
	x->r15 = r->r15; x->r14 = r->r14; x->r13 = r->r13; x->r12 = r->r12;
	x->rbp = r->rbp; x->rbx = r->rbx; x->r11 = r->r11; x->r10 = r->r10;
	x->r9 = r->r9; x->r8 = r->r8; x->rax = r->rax; x->rcx = r->rcx;
	x->rdx = r->rdx; x->rsi = r->rsi; x->rdi = r->rdi; x->orig_rax = r->orig_rax;
	x->rip = r->rip; x->cs = r->cs; x->eflags = r->eflags; x->rsp = r->rsp;
	x->ss = r->ss; x->fs_base = r->fs_base; x->gs_base = r->gs_base; x->ds = r->ds;
	x->es = r->es; x->fs = r->fs; x->gs = r->gs;
}

static int parse_stat_ids(pid_t pid, int *ppid, int *pgid, int *sid)
{
	_cleanup_free_ char *buf = NULL;
	char *p;
	int r = proc_read(pid, "stat", &buf, NULL);
	if (r < 0)
		return pr_errno(r, "pid %d: cannot read stat", pid);
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %d %d %d", ppid, pgid, sid) != 3)
		return -EINVAL;
	return 0;
}

static int thread_extra(struct dump_task *t, struct dump_thread *th, const char *status, ThreadExtra *x,
			char **comm)
{
	struct ptrace_rseq_configuration rc = { 0 };
	char name[64];
	void *head = NULL;
	size_t hlen = 0;
	long ret;
	int r;

	/* (credentials of its own: creds.c, creds-<tid>.img) */
	x->blocked = th->t.sigmask;
	/* private pending queue */
	for (uint64_t off = 0;; off++) {
		struct { uint64_t off; uint32_t flags; int32_t nr; } args = { off, 0, 1 };
		uint8_t si[128];
		long got = ptrace(PTRACE_PEEKSIGINFO, th->tid, &args, si);
		if (got < 0)
			return pr_errno(-errno, "pid %d: thread %d: PTRACE_PEEKSIGINFO", t->pid, th->tid);
		if (got == 0)
			break;
		ProtobufCBinaryData *n = realloc(x->pending, (x->n_pending + 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		x->pending = n;
		n[x->n_pending].data = malloc(128);
		if (!n[x->n_pending].data)
			return -ENOMEM;
		memcpy(n[x->n_pending].data, si, 128);
		n[x->n_pending++].len = 128;
	}
	/* sigaltstack and clear_child_tid: only the thread can tell */
	tracee_share_gadget(&th->t, &t->t);
	r = INJECT(&th->t, &ret, __NR_sigaltstack, 0, th->t.scratch);
	if (r < 0)
		return r;
	if (ret == 0) {
		stack_t ss;
		r = tracee_read(&th->t, th->t.scratch, &ss, sizeof(ss));
		if (r < 0)
			return r;
		x->has_ss_sp = x->has_ss_size = x->has_ss_flags = true;
		x->ss_sp = (uintptr_t)ss.ss_sp;
		x->ss_size = ss.ss_size;
		x->ss_flags = ss.ss_flags;
	}
	r = INJECT(&th->t, &ret, __NR_prctl, PR_GET_TID_ADDRESS, th->t.scratch, 0, 0, 0);
	if (r < 0)
		return r;
	if (ret == 0) {
		uint64_t a = 0;
		r = tracee_read(&th->t, th->t.scratch, &a, sizeof(a));
		if (r < 0)
			return r;
		x->has_clear_tid = true;
		x->clear_tid = a;
	}
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, th->tid, sizeof(rc), &rc) > 0 && rc.rseq_abi_pointer) {
		x->has_rseq_ptr = x->has_rseq_len = x->has_rseq_sig = true;
		x->rseq_ptr = rc.rseq_abi_pointer;
		x->rseq_len = rc.rseq_abi_size;
		x->rseq_sig = rc.signature;
	}
	if (syscall(SYS_get_robust_list, th->tid, &head, &hlen) == 0) {
		x->has_robust_head = x->has_robust_len = true;
		x->robust_head = (uintptr_t)head;
		x->robust_len = hlen;
	}
	snprintf(name, sizeof(name), "task/%d/comm", th->tid);
	r = proc_read(t->pid, name, comm, NULL);
	if (r < 0)
		return pr_errno(r, "pid %d: thread %d: cannot read comm", t->pid, th->tid);
	(*comm)[strcspn(*comm, "\n")] = 0;
	x->comm = *comm;
	return status_ids(status, "\nNSpid:", &x->nstid, &x->n_nstid);
}

/* One thread's core image: core-<tid>.img.  th == NULL: the main thread. */
static int dump_one(struct dump_ctx *c, struct dump_task *t, struct dump_thread *th)
{
	TaskCore core = TASK_CORE__INIT;
	X86Regs regs = X86_REGS__INIT;
	ThreadExtra x = THREAD_EXTRA__INIT;
	struct tracee *tr = th ? &th->t : &t->t;
	pid_t tid = th ? th->tid : t->pid;
	struct user_regs_struct r = tr->regs;
	_cleanup_free_ char *comm = NULL, *pers = NULL, *status = NULL;
	_cleanup_free_ uint8_t *xs = malloc(64 * 1024);
	_cleanup_free_ int32_t *nspid = NULL, *tids = NULL;
	size_t xlen = 64 * 1024;
	char name[IMG_NAME_MAX];
	int ppid, pgid, sid, err;

	if (!xs)
		return -ENOMEM;
	/* Interrupted syscall: rewrite the registers to restart it, as the
	 * kernel would have on the way out of the signal path. */
	if ((long)r.orig_rax >= 0) {
		core.has_in_syscall = true;
		core.in_syscall = (long)r.orig_rax;
		switch ((long)r.rax) {
		case -ERESTARTSYS:
		case -ERESTARTNOINTR:
		case -ERESTARTNOHAND:
			r.rax = r.orig_rax;
			r.rip -= 2;
			break;
		case -ERESTART_RESTARTBLOCK:
			pr_info("pid %d: thread %d: interrupted syscall %ld will return EINTR after restore",
				t->pid, tid, (long)r.orig_rax);
			r.rax = -EINTR;
			break;
		}
		r.orig_rax = (unsigned long)-1;
	}
	regs_to_image(&r, &regs);
	core.regs = &regs;
	err = ptrace_get_xstate(tid, xs, &xlen);
	if (err < 0)
		return err;
	core.xsave.data = xs;
	core.xsave.len = xlen;
	if (xlen >= 472)
		memcpy(&core.xcr0, xs + 464, 8);
	err = parse_stat_ids(t->pid, &ppid, &pgid, &sid);
	if (err < 0)
		return err;
	core.pid = tid;
	core.ppid = ppid;
	core.pgid = pgid;
	core.sid = sid;
	snprintf(name, sizeof(name), "task/%d/status", tid);
	err = proc_read(t->pid, name, &status, NULL);
	if (err < 0)
		return pr_errno(err, "pid %d: cannot read status of thread %d", t->pid, tid);
	err = status_ids(status, "\nNSpid:", &nspid, &core.n_nspid);
	if (err < 0)
		return err;
	core.nspid = nspid;
	if (th) {
		err = thread_extra(t, th, status, &x, &comm);
		if (err == 0) {
			core.thread = &x;
			core.comm = comm;
		}
	} else {
		err = proc_read(t->pid, "comm", &comm, NULL);
		if (err < 0)
			return pr_errno(err, "pid %d: cannot read comm", t->pid);
		comm[strcspn(comm, "\n")] = 0;
		core.comm = comm;
		if (proc_read(t->pid, "personality", &pers, NULL) == 0) {
			core.has_personality = true;
			core.personality = strtoul(pers, NULL, 16);
		}
		tids = calloc(t->nr_threads + 1, sizeof(*tids));
		if (!tids)
			return -ENOMEM;
		for (size_t i = 0; i < t->nr_threads; i++)
			tids[i] = t->threads[i].tid;
		core.threads = tids;
		core.n_threads = t->nr_threads;
	}
	if (err == 0) {
		snprintf(name, sizeof(name), "core-%d.img", tid);
		err = img_write(c->dirfd, name, &core.base);
	}
	for (size_t i = 0; i < x.n_pending; i++)
		free(x.pending[i].data);
	free(x.pending);
	free(x.nstid);
	return err;
}

int core_dump(struct dump_ctx *c, struct dump_task *t)
{
	int r = dump_one(c, t, NULL);
	for (size_t i = 0; i < t->nr_threads && r == 0; i++)
		r = dump_one(c, t, &t->threads[i]);
	return r;
}

void core_regs_from_image(const X86Regs *x, struct user_regs_struct *r)
{
	r->r15 = x->r15; r->r14 = x->r14; r->r13 = x->r13; r->r12 = x->r12;
	r->rbp = x->rbp; r->rbx = x->rbx; r->r11 = x->r11; r->r10 = x->r10;
	r->r9 = x->r9; r->r8 = x->r8; r->rax = x->rax; r->rcx = x->rcx;
	r->rdx = x->rdx; r->rsi = x->rsi; r->rdi = x->rdi; r->orig_rax = (unsigned long)-1;
	r->rip = x->rip; r->cs = x->cs; r->eflags = x->eflags; r->rsp = x->rsp;
	r->ss = x->ss; r->fs_base = x->fs_base; r->gs_base = x->gs_base; r->ds = x->ds;
	r->es = x->es; r->fs = x->fs; r->gs = x->gs;
}
