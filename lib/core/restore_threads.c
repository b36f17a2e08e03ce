/* SPDX-License-Identifier: MIT */
/*
 * Restore of threads: once a process's address space is back, its other
 * threads are created from the main thread by injected clone3 calls at
 * their tids (traced from birth with PTRACE_O_TRACECLONE), given their own
 * state, and at the end their registers, FPU and mask.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "util/compat.h"
#include "core.h"
#include "util/log.h"
#include "restore_priv.h"
#include "task/signals.h"
#include "util/util.h"

/* Create the other threads of a process from its main thread (injected
 * clone3 at their tids), and give each its own state. */
int create_threads(struct rst *s, struct rtask *rt)
{
	struct tracee *m = &rt->t.t;
	long ret;
	int r;

	if (!rt->nr_thr)
		return 0;
	if (ptrace(PTRACE_SETOPTIONS, rt->t.pid, 0,
		   PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE) < 0)
		return pr_errno(-errno, "pid %d: PTRACE_SETOPTIONS", rt->t.pid);
	for (size_t i = 0; i < rt->nr_thr; i++) {
		struct rthread *th = &rt->thr[i];
		const ThreadExtra *x = th->core->thread;
		struct clone_args a = {
			.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
				 CLONE_SYSVSEM,
			.set_tid_size = x->n_nstid,
		};
		uint64_t tids[32];
		pid_t tid = 0;

		if (x->n_nstid > ARRAY_SIZE(tids))
			return -E2BIG;
		for (size_t k = 0; k < x->n_nstid; k++)
			tids[k] = x->nstid[x->n_nstid - 1 - k];
		if (x->has_clear_tid && x->clear_tid) {
			a.flags |= CLONE_CHILD_CLEARTID;
			a.child_tid = x->clear_tid;
		}
		/* args and the tid array in the gadget's scratch */
		a.set_tid = m->scratch + sizeof(a);
		int32_t t32[32];
		for (size_t k = 0; k < x->n_nstid; k++)
			t32[k] = (int32_t)tids[k];
		r = tracee_write(m, m->scratch, &a, sizeof(a));
		if (r == 0)
			r = tracee_write(m, m->scratch + sizeof(a), t32, x->n_nstid * sizeof(int32_t));
		if (r < 0)
			return r;
		r = tracee_syscall_clone(m, &ret, &tid, m->scratch, sizeof(a));
		if (r < 0)
			return r;
		if (ret < 0 || tid != th->core->pid) {
			pr_err("pid %d: could not recreate thread %d: %s", rt->t.pid, th->core->pid,
			       ret < 0 ? strerror(-ret) : "it got another tid");
			if (tid > 0)
				kill(tid, SIGKILL);
			return ret < 0 ? (int)ret : -EPROTO;
		}
		th->seized = true;
		th->t.pid = tid;
		r = tracee_adopt_state(&th->t);
		if (r < 0)
			return r;
		th->t.injecting = true;   /* inherited the all-blocked mask */
		th->t.syscall_ip = m->syscall_ip;
		th->t.scratch = m->scratch;
		th->t.scratch_size = m->scratch_size;
		/* its own state */
		if (x->has_ss_sp && !(x->ss_flags & SS_DISABLE)) {
			stack_t ss = { .ss_sp = (void *)(uintptr_t)x->ss_sp, .ss_size = x->ss_size,
				       .ss_flags = x->ss_flags & ~SS_ONSTACK };
			r = tracee_write(&th->t, th->t.scratch, &ss, sizeof(ss));
			if (r == 0)
				r = INJECT(&th->t, &ret, __NR_sigaltstack, th->t.scratch, 0);
			if (r == 0 && ret < 0)
				r = pr_errno((int)ret, "pid %d: thread %d: sigaltstack", rt->t.pid, tid);
			if (r < 0)
				return r;
		}
		if (x->has_rseq_ptr && x->rseq_ptr) {
			r = INJECT(&th->t, &ret, __NR_rseq, x->rseq_ptr, x->rseq_len, 0, x->rseq_sig);
			if (r == 0 && ret < 0)
				r = pr_errno((int)ret, "pid %d: thread %d: rseq registration", rt->t.pid, tid);
			if (r < 0)
				return r;
		}
		if (x->has_robust_head && x->robust_head) {
			r = INJECT(&th->t, &ret, __NR_set_robust_list, x->robust_head, x->robust_len);
			if (r == 0 && ret < 0)
				r = pr_errno((int)ret, "pid %d: thread %d: set_robust_list", rt->t.pid, tid);
			if (r < 0)
				return r;
		}
		if (x->comm) {
			char comm[16] = { 0 };
			strncpy(comm, x->comm, sizeof(comm) - 1);
			r = tracee_write(&th->t, th->t.scratch, comm, sizeof(comm));
			if (r == 0)
				r = INJECT(&th->t, &ret, __NR_prctl, PR_SET_NAME, th->t.scratch);
			if (r < 0)
				return r;
		}
		pid_t vtgid = 0, vtid = 0;   /* as the thread's pid namespace names them */
		if (x->n_pending) {
			r = task_vids(tid, &vtgid, &vtid);
			if (r < 0)
				return r;
		}
		for (size_t k = 0; k < x->n_pending; k++) {
			const siginfo_t *si = (const siginfo_t *)x->pending[k].data;
			if (x->pending[k].len != 128)
				continue;
			r = tracee_write(&th->t, th->t.scratch, si, 128);
			if (r == 0)
				r = INJECT(&th->t, &ret, __NR_rt_tgsigqueueinfo, vtgid, vtid, si->si_signo,
					   th->t.scratch);
			if (r == 0 && ret < 0)
				r = pr_errno((int)ret, "pid %d: thread %d: re-queueing signal %d", rt->t.pid, tid,
					     si->si_signo);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* The threads' registers, FPU and mask, once nothing is left to inject. */
int finish_threads(struct rtask *rt)
{
	for (size_t i = 0; i < rt->nr_thr; i++) {
		struct rthread *th = &rt->thr[i];
		struct user_regs_struct regs;
		uint64_t mask = th->core->thread->blocked;
		int r;

		core_regs_from_image(th->core->regs, &regs);
		r = ptrace_set_regs(th->t.pid, &regs);
		if (r == 0)
			r = ptrace_set_xstate(th->t.pid, th->core->xsave.data, th->core->xsave.len);
		if (r < 0)
			return r;
		if (ptrace(PTRACE_SETSIGMASK, th->t.pid, sizeof(mask), &mask) < 0)
			return pr_errno(-errno, "pid %d: thread %d: cannot set its blocked mask", rt->t.pid,
					th->t.pid);
	}
	return 0;
}
