/* SPDX-License-Identifier: MIT */
/*
 * ptrace control of one task, and single-syscall injection.
 *
 * A "tracee" is a task we hold in a ptrace stop.  tracee_syscall() runs one
 * syscall in it: it points rip at a `syscall` instruction inside the task
 * (syscall_ip), loads the arguments, and steps it through the syscall
 * entry/exit stops with PTRACE_SYSCALL, with every signal blocked
 * (PTRACE_SETSIGMASK) so that nothing is delivered in between.
 * Buffers the syscall needs live in the task's scratch memory
 * (t->scratch, t->scratch_size), written/read with tracee_write/read.
 */
#ifndef CREST_PTRACE_H
#define CREST_PTRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

struct tracee {
	pid_t pid;                      /* tid */
	struct user_regs_struct regs;   /* registers at seize (dump) / template (restore) */
	uint64_t sigmask;               /* blocked mask at seize */
	unsigned long syscall_ip;       /* address of a `syscall` insn in the task */
	unsigned long scratch;          /* RW memory in the task for syscall buffers */
	size_t scratch_size;
	bool scratch_owned;             /* dump: we mmap'ed it, unmap at park */
	int mem_fd;                     /* /proc/pid/mem, O_RDWR */
	bool injecting;                 /* regs/sigmask changed since seize */
	bool dead;                      /* exited/killed; nothing left to undo */
	int group_stop;                 /* stop signal if it was in group-stop at seize */
	/* dump: the task's own rt_sigreturn trampoline (`mov $15,%rax; syscall`),
	 * with syscall_ip a `syscall; ret`: injected syscalls then return through
	 * the return chain (retchain.c) if crest dies.  0: no chain. */
	unsigned long sigreturn_ip;
	unsigned long ret_frame;        /* rsp of injected syscalls: the chain's first frame */
};

/* Seize and stop a running task (PTRACE_SEIZE + INTERRUPT).  A signal that
 * arrives meanwhile is delivered as it would have been.  Fills t->regs,
 * t->sigmask; opens t->mem_fd. */
int tracee_seize(struct tracee *t, pid_t pid);
/* Attach to our own freshly forked child (restore); it must be stopping. */
int tracee_attach_child(struct tracee *t, pid_t pid);

/* Prepare injection on a dumped task: find a syscall insn, map scratch. */
int tracee_prepare_dump(struct tracee *t, unsigned long avoid_start, unsigned long avoid_end);

/* A thread of a dumped process injects through its main thread's gadgets and
 * scratch area (not owned: the main thread unmaps it). */
void tracee_share_gadget(struct tracee *th, const struct tracee *main);
/* retchain.c: write the return chain below t's stack pointer (t->ret_frame;
 * left 0, with a warning, when there is no room). */
int tracee_build_return_chain(struct tracee *t);

/* Run one syscall: *ret receives its result (-errno on failure in the task).
 * Returns 0, or a negative errno if ptrace itself failed (logged). */
int tracee_syscall(struct tracee *t, long *ret, long nr, unsigned long a1, unsigned long a2,
		   unsigned long a3, unsigned long a4, unsigned long a5, unsigned long a6);

#define INJ_ARGS6(a, b, c, d, e, f, ...) (unsigned long)(a), (unsigned long)(b), (unsigned long)(c), \
	(unsigned long)(d), (unsigned long)(e), (unsigned long)(f)
/* INJECT(t, &ret, __NR_getpid) ... up to 6 args */
#define INJECT(t, retp, nr, ...) tracee_syscall(t, retp, nr, INJ_ARGS6(__VA_ARGS__ __VA_OPT__(,) 0, 0, 0, 0, 0, 0))

/* Restore side, last step: run syscall nr (e.g. munmap of the gadget) and at
 * its exit stop load the final registers; then only detach remains. */
int tracee_syscall_final(struct tracee *t, long nr, unsigned long a1, unsigned long a2,
			 const struct user_regs_struct *final);

/* Restore side: clone3 a thread from t (traced with PTRACE_O_TRACECLONE);
 * *child is the new thread, stopped in a PTRACE_EVENT_STOP. */
int tracee_syscall_clone(struct tracee *t, long *ret, pid_t *child, unsigned long args, size_t size);
/* Read regs, sigmask and open mem of a task already in a ptrace stop. */
int tracee_adopt_state(struct tracee *t);

int tracee_write(struct tracee *t, unsigned long addr, const void *buf, size_t len);
int tracee_read(struct tracee *t, unsigned long addr, void *buf, size_t len);

/* Dump side: undo everything (scratch, regs, sigmask) and leave the task
 * in a ptrace stop where the kernel will restart an interrupted syscall. */
int tracee_park(struct tracee *t);
/* Park and detach; if parking fails, a task with a return chain is
 * detached anyway (the chain takes it back to its own context). */
int tracee_release(struct tracee *t);
/* Detach (task continues). */
int tracee_detach(struct tracee *t);
/* Kill a task we hold and wait until it is gone as a tracee. */
int tracee_kill(struct tracee *t);
void tracee_close(struct tracee *t);

/* Register sets */
int ptrace_get_regs(pid_t pid, struct user_regs_struct *r);
int ptrace_set_regs(pid_t pid, const struct user_regs_struct *r);
/* xsave area; *len in: buffer size, out: size used */
int ptrace_get_xstate(pid_t pid, void *buf, size_t *len);
int ptrace_set_xstate(pid_t pid, const void *buf, size_t len);

/* Wait for a ptrace stop of pid (handles EINTR); returns status or -errno. */
int ptrace_wait_stop(pid_t pid, int *status);

#endif
