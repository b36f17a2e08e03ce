/* SPDX-License-Identifier: MIT */
/*
 * Task core: registers, xsave area and basic identity (core-<pid>.img).
 */
#include <stdio.h>
#include <string.h>
#include "core.pb-c.h"
#include "core.h"
#include "image.h"
#include "log.h"
#include "util.h"

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

int core_dump(struct dump_ctx *c, struct dump_task *t)
{
	TaskCore core = TASK_CORE__INIT;
	X86Regs regs = X86_REGS__INIT;
	struct user_regs_struct r = t->t.regs;
	_cleanup_free_ char *comm = NULL, *pers = NULL, *status = NULL;
	_cleanup_free_ uint8_t *xs = malloc(64 * 1024);
	_cleanup_free_ int32_t *nspid = NULL;
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
			pr_info("pid %d: interrupted syscall %ld will return EINTR after restore", t->pid,
				(long)r.orig_rax);
			r.rax = -EINTR;
			break;
		}
		r.orig_rax = (unsigned long)-1;
	}
	regs_to_image(&r, &regs);
	core.regs = &regs;
	err = ptrace_get_xstate(t->pid, xs, &xlen);
	if (err < 0)
		return err;
	core.xsave.data = xs;
	core.xsave.len = xlen;
	if (xlen >= 472)
		memcpy(&core.xcr0, xs + 464, 8);
	err = parse_stat_ids(t->pid, &ppid, &pgid, &sid);
	if (err < 0)
		return err;
	core.pid = t->pid;
	core.ppid = ppid;
	core.pgid = pgid;
	core.sid = sid;
	err = proc_read(t->pid, "comm", &comm, NULL);
	if (err < 0)
		return pr_errno(err, "pid %d: cannot read comm", t->pid);
	comm[strcspn(comm, "\n")] = 0;
	core.comm = comm;
	if (proc_read(t->pid, "personality", &pers, NULL) == 0) {
		core.has_personality = true;
		core.personality = strtoul(pers, NULL, 16);
	}
	if (proc_read(t->pid, "status", &status, NULL) == 0) {
		char *p = strstr(status, "\nNSpid:");
		if (p) {
			p += 7;
			while (*p && *p != '\n') {
				char *e;
				long v = strtol(p, &e, 10);
				if (e == p)
					break;
				int32_t *n = realloc(nspid, (core.n_nspid + 1) * sizeof(*n));
				if (!n)
					return -ENOMEM;
				nspid = n;
				nspid[core.n_nspid++] = v;
				p = e;
			}
			core.nspid = nspid;
		}
	}
	snprintf(name, sizeof(name), "core-%d.img", t->pid);
	return img_write(c->dirfd, name, &core.base);
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
