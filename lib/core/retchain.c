/* SPDX-License-Identifier: MIT */
/*
 * The return chain of a dumped task (docs/design.md, "crest killed during a
 * dump").  Before the first syscall is injected into a thread, crest writes
 * two signal frames below the thread's stack pointer (below the red zone,
 * where the kernel would put a signal frame) and runs every injected
 * syscall with rsp pointing at the lower one.  The syscall instruction used
 * is one followed by `ret` (`syscall; ret`, found in the task's own code),
 * and each frame starts with the address of the task's own rt_sigreturn
 * trampoline (`mov $15,%rax; syscall`).  So if crest dies at any moment,
 * the kernel lets the thread go on from wherever it is, and its own
 * continuation is:
 *
 *   (the injected syscall completes) -> ret -> rt_sigreturn(F1)
 *     F1: rip = `syscall; ret`, rax = munmap, rdi/rsi = crest's scratch area,
 *         every signal blocked, rsp = F2
 *   -> munmap(scratch) -> ret -> rt_sigreturn(F2)
 *     F2: the thread's own registers (an interrupted syscall set up to be
 *         restarted, as the kernel does without a handler), its own blocked
 *         mask and its xsave area
 *
 * and it is back where it was, without the scratch mapping.  Nothing of
 * crest's is left but the two frames below its stack pointer, as after any
 * signal.  No code is written into the task.
 */
#include <cpuid.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include "util/log.h"
#include "ptrace.h"
#include "util/util.h"

#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

/* The kernel's x86_64 signal frame (arch/x86/include/asm/sigframe.h). */
struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate, reserved1[8];
};
struct k_stack {
	uint64_t sp;
	int32_t flags, pad;
	uint64_t size;
};
struct k_ucontext {
	uint64_t flags, link;
	struct k_stack stack;
	struct k_sigcontext mc;
	uint64_t sigmask;
};
struct k_rt_sigframe {
	uint64_t pretcode;
	struct k_ucontext uc;
	uint8_t info[128];
};
_Static_assert(sizeof(struct k_sigcontext) == 256, "sigcontext layout");
_Static_assert(sizeof(struct k_rt_sigframe) == 440, "rt_sigframe layout");

#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4
#define FP_XSTATE_MAGIC1 0x46505853U
#define FP_XSTATE_MAGIC2 0x46505845U
#define XSAVE_SW_OFF 464   /* fxsave's sw_reserved: struct _fpx_sw_bytes */
#define XSAVE_HDR_OFF 512  /* xsave header: xstate_bv */
#define XSAVE_MIN 576      /* legacy area + header */
#define RED_ZONE 128
/* An invalid sigaltstack mode: rt_sigreturn's restore_altstack() fails
 * with EINVAL, which it ignores, so the thread's altstack is left alone. */
#define SS_MODE_INVALID 0x4000

struct fpx_sw_bytes {
	uint32_t magic1, extended_size;
	uint64_t xfeatures;
	uint32_t xstate_size, padding[7];
};

/* Size of the standard-format xsave image holding the components in
 * xfeatures (CPUID leaf 0xd: offset + size of each). */
static uint32_t xstate_size_of(uint64_t xfeatures)
{
	uint32_t size = XSAVE_MIN;

	for (int i = 2; i < 63; i++) {
		unsigned a, b, c, d;
		if (!(xfeatures >> i & 1) || !__get_cpuid_count(0xd, i, &a, &b, &c, &d))
			continue;
		if (b + a > size)
			size = b + a;
	}
	return size;
}

static void sigcontext_from(struct k_sigcontext *k, const struct user_regs_struct *r)
{
	k->r8 = r->r8; k->r9 = r->r9; k->r10 = r->r10; k->r11 = r->r11;
	k->r12 = r->r12; k->r13 = r->r13; k->r14 = r->r14; k->r15 = r->r15;
	k->rdi = r->rdi; k->rsi = r->rsi; k->rbp = r->rbp; k->rbx = r->rbx;
	k->rdx = r->rdx; k->rax = r->rax; k->rcx = r->rcx; k->rsp = r->rsp;
	k->rip = r->rip; k->eflags = r->eflags;
	k->cs = (uint16_t)r->cs; k->ss = (uint16_t)r->ss;
}

/* The lowest address of the writable mapping holding [addr - 1], or 0. */
static unsigned long stack_floor(pid_t tid, unsigned long addr)
{
	_cleanup_free_ char *maps = NULL;
	char *line, *save = NULL;

	if (proc_read(tid, "maps", &maps, NULL) < 0)
		return 0;
	for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long s, e;
		char perms[8];
		if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) != 3)
			continue;
		if (s < addr && addr <= e)
			return perms[0] == 'r' && perms[1] == 'w' && perms[3] == 'p' ? s : 0;
	}
	return 0;
}

int tracee_build_return_chain(struct tracee *t)
{
	_cleanup_free_ uint8_t *xs = NULL;
	struct k_rt_sigframe f1, f2;
	struct user_regs_struct c0 = t->regs;
	struct fpx_sw_bytes sw;
	const size_t cap = 64 * 1024;
	size_t xlen = cap - 64;
	uint64_t bv = 0;
	uint32_t xsize, magic2 = FP_XSTATE_MAGIC2;
	unsigned long sp, fp, a1, a2, floor;
	int r;

	t->ret_frame = 0;
	xs = calloc(1, cap);
	if (!xs)
		return -ENOMEM;
	r = ptrace_get_xstate(t->pid, xs, &xlen);
	if (r < 0)
		return r;
	if (xlen >= XSAVE_HDR_OFF + 8)
		memcpy(&bv, xs + XSAVE_HDR_OFF, 8);
	bv |= 3;   /* x87 and SSE always */
	xsize = xstate_size_of(bv);
	if (xsize > xlen) {
		pr_warn("pid %d: its xsave area (%zu bytes, features %#lx) does not fit a signal frame: "
			"were crest killed during this dump, it would crash", t->pid, xlen, (unsigned long)bv);
		return 0;
	}
	/* what the kernel's signal frames carry in sw_reserved, and magic2 */
	sw = (struct fpx_sw_bytes){ .magic1 = FP_XSTATE_MAGIC1, .extended_size = xsize + 4,
				    .xfeatures = bv, .xstate_size = xsize };
	memcpy(xs + XSAVE_SW_OFF, &sw, sizeof(sw));
	memcpy(xs + xsize, &magic2, 4);

	/* the layout of the kernel's get_sigframe() */
	sp = t->regs.rsp - RED_ZONE;
	fp = (sp - (xsize + 4)) & ~63UL;
	a2 = ((fp - sizeof(f2)) & ~15UL) - 8;
	a1 = ((a2 - sizeof(f1)) & ~15UL) - 8;
	floor = stack_floor(t->pid, t->regs.rsp);
	if (!floor || t->regs.rsp < 4096 || a1 < floor) {
		pr_warn("pid %d: no room below its stack pointer %#llx for a return frame (%lu bytes): "
			"were crest killed during this dump, it would crash", t->pid, t->regs.rsp,
			(unsigned long)(t->regs.rsp - a1));
		return 0;
	}

	/* F2: back to the thread's own context.  rt_sigreturn clears orig_rax,
	 * so an interrupted syscall is set up for its restart here, the way the
	 * kernel does it when no handler runs; a restart_syscall() cannot be
	 * (rt_sigreturn resets the restart block): that call returns EINTR,
	 * like after a restore (core.c). */
	if ((long)c0.orig_rax >= 0) {
		switch (-(long)c0.rax) {
		case ERESTARTSYS:
		case ERESTARTNOINTR:
		case ERESTARTNOHAND:
			c0.rax = c0.orig_rax;
			c0.rip -= 2;
			break;
		case ERESTART_RESTARTBLOCK:
			c0.rax = (unsigned long)-EINTR;
			break;
		}
	}
	memset(&f2, 0, sizeof(f2));
	f2.pretcode = t->sigreturn_ip;
	f2.uc.flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	f2.uc.stack.flags = SS_MODE_INVALID;
	sigcontext_from(&f2.uc.mc, &c0);
	f2.uc.mc.fpstate = fp;
	f2.uc.sigmask = t->sigmask;

	/* F1: munmap(scratch) at the `syscall; ret`, everything blocked, then F2.
	 * Harmless when the scratch area is not (or no longer) there. */
	memset(&f1, 0, sizeof(f1));
	f1.pretcode = t->sigreturn_ip;
	f1.uc.flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;   /* no fpstate: F2 has it */
	f1.uc.stack.flags = SS_MODE_INVALID;
	sigcontext_from(&f1.uc.mc, &c0);
	f1.uc.mc.rip = t->syscall_ip;
	f1.uc.mc.rax = __NR_munmap;
	f1.uc.mc.rdi = t->scratch;
	f1.uc.mc.rsi = t->scratch_size;
	f1.uc.mc.rsp = a2;
	f1.uc.sigmask = ~0ULL;
	if (!t->scratch) {   /* nothing to unmap: straight to F2 */
		f1.uc.mc.rax = __NR_getpid;
	}

	r = tracee_write(t, fp, xs, xsize + 4);
	if (r == 0)
		r = tracee_write(t, a2, &f2, sizeof(f2));
	if (r == 0)
		r = tracee_write(t, a1, &f1, sizeof(f1));
	if (r < 0)
		return r;
	t->ret_frame = a1;
	pr_debug("pid %d: return chain at %#lx-%#lx (xsave %u bytes, features %#lx)", t->pid, a1,
		 (unsigned long)t->regs.rsp - RED_ZONE, xsize, (unsigned long)bv);
	return 0;
}
