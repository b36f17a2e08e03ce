/* SPDX-License-Identifier: MIT */
/*
 * Dump: freeze the task with ptrace, collect its state (core here, memory
 * in mm.c, every other resource in its module), write the images, then
 * kill it or let it go.  Any failure leaves the task running as before.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include "core.pb-c.h"
#include "creds.h"
#include "image.h"
#include "inventory.pb-c.h"
#include "log.h"
#include "mm.h"
#include "shmem.h"
#include "task.h"
#include "util.h"

#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

static long status_field(const char *status, const char *key)
{
	const char *p = strstr(status, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* Refuse what the single-task core cannot do yet, before touching the task. */
static int check_task(pid_t pid)
{
	_cleanup_free_ char *status = NULL, *children = NULL;
	char path[64];
	int r = proc_read(pid, "status", &status, NULL);

	if (r == -ENOENT)
		return pr_errno(-ESRCH, "pid %d: no such process", pid);
	if (r < 0)
		return pr_errno(r, "pid %d: cannot read /proc/%d/status", pid, pid);
	if (strstr(status, "\nTgid:") && status_field(status, "\nTgid:") != pid) {
		pr_err("pid %d is a thread of process %ld: dump the process", pid, status_field(status, "\nTgid:"));
		return -EINVAL;
	}
	if (strstr(status, "\nState:\tZ") || strstr(status, "\nState:\tX")) {
		pr_err("pid %d is a zombie: nothing left to dump (its parent has to reap it)", pid);
		return -ESRCH;
	}
	if (status_field(status, "\nThreads:") > 1) {
		pr_err("pid %d has %ld threads: multi-threaded processes are not supported yet", pid,
		       status_field(status, "\nThreads:"));
		return -ENOTSUP;
	}
	snprintf(path, sizeof(path), "task/%d/children", pid);
	if (proc_read(pid, path, &children, NULL) == 0 && children[0]) {
		pr_err("pid %d has child processes (%s): process trees are not supported yet", pid, children);
		return -ENOTSUP;
	}
	if (pid == getpid()) {
		pr_err("pid %d is crest itself", pid);
		return -EINVAL;
	}
	return 0;
}

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

static int dump_core(struct dump_ctx *c, struct dump_task *t)
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

static int write_inventory(struct dump_ctx *c, pid_t pid)
{
	Inventory inv = INVENTORY__INIT;
	struct utsname u;
	int32_t pids[1] = { pid };

	inv.format_version = CREST_IMG_VERSION;
	inv.crest_version = CREST_VERSION;
	inv.root_pid = pid;
	inv.pids = pids;
	inv.n_pids = 1;
	if (uname(&u) == 0)
		inv.kernel = u.release;
	inv.has_dump_time = true;
	inv.dump_time = time(NULL);
	inv.has_shell_job = true;
	inv.shell_job = c->o->shell_job;
	inv.has_leave_running = true;
	inv.leave_running = c->o->leave_running;
	return img_write(c->dirfd, "inventory.img", &inv.base);
}

int open_images_dir(const char *dir, bool create)
{
	int fd;
	if (!dir || !*dir) {
		pr_err("no image directory given (-D DIR)");
		return -EINVAL;
	}
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
		return pr_errno(-errno, "cannot create image directory %s", dir);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return pr_errno(-errno, "cannot open image directory %s", dir);
	return fd;
}

static void free_task_priv(struct dump_task *t)
{
	for (int i = 0; i < MOD_MAX; i++) {
		free(t->priv[i]);
		t->priv[i] = NULL;
	}
}

int crest_dump(const struct crest_opts *o)
{
	struct dump_ctx c = { .o = o, .dirfd = -1 };
	struct dump_task t = { .pid = o->pid, .pidfd = -1 };
	uint64_t t0 = now_ns();
	bool seized = false;
	int r;

	t.t.mem_fd = -1;
	log_begin(o, -1, NULL);
	c.dirfd = open_images_dir(o->images_dir, true);
	if (c.dirfd < 0) {
		log_end();
		return c.dirfd;
	}
	log_end();
	log_begin(o, c.dirfd, "dump.log");
	pr_info("crest %s: dumping pid %d into %s", CREST_VERSION, o->pid, o->images_dir);
	unlinkat(c.dirfd, "inventory.img", 0);

	if (o->pid <= 0) {
		pr_err("no pid given (-t PID)");
		r = -EINVAL;
		goto out;
	}
	r = check_task(o->pid);
	if (r < 0)
		goto out;
	/* before anything is injected: a seccomp filter could kill the task */
	r = creds_check_seccomp(o->pid);
	if (r < 0)
		goto out;
	r = tracee_seize(&t.t, o->pid);
	if (r < 0)
		goto out;
	seized = true;
	if (t.t.group_stop) {
		pr_err("pid %d is stopped (signal %d): dumping stopped tasks is not supported yet", t.pid,
		       t.t.group_stop);
		r = -ENOTSUP;
		goto out;
	}
	if (fault_at("dump-after-freeze")) {
		r = -ECANCELED;
		goto out;
	}
	r = tracee_prepare_dump(&t.t, 0, 0);
	if (r < 0)
		goto out;
	r = dump_core(&c, &t);
	if (r < 0)
		goto out;
	if (cancelled(o)) {
		r = -ECANCELED;
		goto out;
	}
	r = mm_dump(&c, &t);
	if (r < 0)
		goto out;
	for (int i = 0; i < MOD_MAX; i++) {
		const struct crest_module *m = crest_modules[i];
		if (cancelled(o)) {
			r = -ECANCELED;
			goto out;
		}
		if (!m->dump)
			continue;
		r = m->dump(&c, &t);
		if (r < 0) {
			pr_debug("pid %d: module %s failed", t.pid, m->name);
			goto out;
		}
	}
	r = shmem_dump_write(&c, &t);
	if (r < 0)
		goto out;
	if (cancelled(o)) {
		r = -ECANCELED;
		goto out;
	}
	r = write_inventory(&c, t.pid);
	if (r < 0)
		goto out;
	if (fault_at("dump-before-kill")) {
		unlinkat(c.dirfd, "inventory.img", 0);
		r = -ECANCELED;
		goto out;
	}
	if (o->leave_running) {
		r = tracee_park(&t.t);
		if (r == 0)
			r = tracee_detach(&t.t);
		seized = false;
	} else {
		r = tracee_kill(&t.t);
		seized = false;
	}
	pr_info("pid %d: dump done in %.3f s", t.pid, (now_ns() - t0) / 1e9);
out:
	if (seized && !t.t.dead) {
		/* Leave the task as it was */
		if (tracee_park(&t.t) == 0)
			tracee_detach(&t.t);
		else
			pr_err("pid %d: could not put the task back as it was", t.pid);
	}
	tracee_close(&t.t);
	free_task_priv(&t);
	shmem_dump_free(&t);
	if (t.pidfd >= 0)
		close(t.pidfd);
	close(c.dirfd);
	log_end();
	return r;
}
