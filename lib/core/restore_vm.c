/* SPDX-License-Identifier: MIT */
/*
 * Restore of processes that share an address space without being threads
 * (clone(CLONE_VM) without CLONE_THREAD, e.g. LinuxThreads), "VM members".
 *
 * A VM member never runs crest's own code: in one address space with its
 * creator, it would run on the creator's stack, TLS and heap while the
 * creator prepares itself.  So it is not forked with the tree.  Its creator
 * (the address space's owner, or another member) is restored first; once
 * the creator's memory is back (restore.c, swap_task), crest injects a
 * clone3 into it with CLONE_VM|CLONE_FS|CLONE_FILES (and CLONE_SIGHAND,
 * CLONE_PARENT as dumped) at the member's pid, traced from birth, just as
 * threads are made (restore_threads.c).  The member thus shares the
 * restored memory, fd table and fs info of its creator; the memory swap is
 * done once, by the owner.  What a task prepares natively is done for it
 * from crest: name, oom_score_adj, scheduling (misc_prepare_injected),
 * personality.  Then it goes through the same injection steps as every
 * task (signals: not the handlers when they are shared; timers, rlimits,
 * creds...), using the owner's gadget page, which the last task of the
 * group to finish unmaps.  Session and process group are inherited from
 * the creator (share.c checks that they are the same).
 */
#include <linux/sched.h>
#include <signal.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include "util/compat.h"
#include "util/log.h"
#include "task/misc.h"
#include "restore_priv.h"
#include "util/util.h"

static bool vm_member(const struct rtask *rt)
{
	return rt->e->has_vm_owner;
}

/* Members never report at the barriers: they do not exist yet. */
void vm_preset_slots(struct rst *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (vm_member(&s->tasks[i]))
			atomic_store(&s->ctl->slot[i].state, ST_PREPARED);
}

/* The index of the owner of rt's address space (itself if it owns it). */
static int vm_owner(struct rst *s, struct rtask *rt)
{
	return vm_member(rt) ? find_task(s, rt->e->vm_owner) : (int)(rt - s->tasks);
}

bool vm_unmaps_gadget(struct rst *s, struct rtask *rt)
{
	int o = vm_owner(s, rt);

	/* the last task of the group in tree order (finish() goes in order) */
	for (size_t j = (size_t)(rt - s->tasks) + 1; j < s->n; j++)
		if (vm_member(&s->tasks[j]) && find_task(s, s->tasks[j].e->vm_owner) == o)
			return false;
	return true;
}

static int create_one(struct rst *s, struct rtask *cr, struct rtask *m)
{
	struct tracee *t = &cr->t.t;
	const PstreeEntry *e = m->e;
	struct clone_args a = {
		.flags = m->clone_flags,
		/* CLONE_PARENT: the creator's exit signal (clone3 wants 0 here) */
		.exit_signal = m->clone_flags & CLONE_PARENT ? 0 : SIGCHLD,
		.set_tid_size = e->n_nspid,
	};
	int32_t tids[32];
	pid_t pid = 0;
	long ret;
	int r;

	if (e->n_nspid > ARRAY_SIZE(tids))
		return -E2BIG;
	for (size_t k = 0; k < e->n_nspid; k++)
		tids[k] = e->nspid[e->n_nspid - 1 - k];   /* innermost first */
	a.set_tid = t->scratch + sizeof(a);
	r = tracee_write(t, t->scratch, &a, sizeof(a));
	if (r == 0)
		r = tracee_write(t, t->scratch + sizeof(a), tids, e->n_nspid * sizeof(int32_t));
	if (r < 0)
		return r;
	r = tracee_syscall_clone(t, &ret, &pid, t->scratch, sizeof(a));
	if (r < 0)
		return r;
	if (ret < 0 || pid != e->pid) {
		pr_err("pid %d: could not recreate pid %d, which shares its address space: %s",
		       cr->t.pid, e->pid, ret < 0 ? strerror((int)-ret) : "it got another pid");
		if (pid > 0)
			kill(pid, SIGKILL);
		return ret < 0 ? (int)ret : -EPROTO;
	}
	m->seized = true;
	m->t.t.pid = pid;
	r = tracee_adopt_state(&m->t.t);
	if (r < 0)
		return r;
	m->t.t.injecting = true;   /* inherited the all-blocked mask */
	m->t.t.syscall_ip = t->syscall_ip;
	m->t.t.scratch = t->scratch;
	m->t.t.scratch_size = t->scratch_size;
	pr_info("pid %d: recreated from pid %d, sharing its address space%s", pid, cr->t.pid,
		m->clone_flags & CLONE_SIGHAND ? " and signal handlers" : "");

	/* what it would have prepared natively */
	if (ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) < 0)
		return pr_errno(-errno, "pid %d: PTRACE_SETOPTIONS", pid);
	if (m->core->has_personality) {
		r = INJECT(&m->t.t, &ret, __NR_personality, m->core->personality);
		if (r == 0 && ret < 0)
			r = pr_errno((int)ret, "pid %d: personality(%#x)", pid, m->core->personality);
		if (r < 0)
			return r;
	}
	return misc_prepare_injected(&s->c, &m->t);
}

/* After rt's memory is back: the tasks it creates that share it. */
int create_vm_members(struct rst *s, struct rtask *rt)
{
	int idx = (int)(rt - s->tasks), r;
	bool opts = false;

	for (size_t j = (size_t)idx + 1; j < s->n; j++) {
		struct rtask *m = &s->tasks[j];
		if (!vm_member(m) || m->creator != idx)
			continue;
		/* the member's exit signal is SIGCHLD: a fork event for ptrace */
		if (!opts && ptrace(PTRACE_SETOPTIONS, rt->t.pid, 0, PTRACE_O_TRACESYSGOOD |
				    PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK) < 0)
			return pr_errno(-errno, "pid %d: PTRACE_SETOPTIONS", rt->t.pid);
		opts = true;
		r = create_one(s, rt, m);
		if (r < 0)
			return r;
	}
	if (opts && ptrace(PTRACE_SETOPTIONS, rt->t.pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL |
			   (rt->nr_thr ? PTRACE_O_TRACECLONE : 0)) < 0)
		return pr_errno(-errno, "pid %d: PTRACE_SETOPTIONS", rt->t.pid);
	return 0;
}
