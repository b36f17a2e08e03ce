/* SPDX-License-Identifier: MIT */
/*
 * Restore: read and check every image, fork at the dumped pid (clone3
 * set_tid), let the child prepare its resources natively, then swap its
 * address space through ptrace, run the modules' injection hooks, load the
 * registers and let it go.  Any failure kills the child: nothing half-made
 * stays behind.
 */
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "compat.h"
#include "core.pb-c.h"
#include "image.h"
#include "inventory.pb-c.h"
#include "log.h"
#include "mm.h"
#include "shmem.h"
#include "task.h"
#include "util.h"

int open_images_dir(const char *dir, bool create);

/* Optional hooks of modules (weak: absent until the module provides them). */
int sig_restore_blocked(struct restore_task *t, uint64_t *mask) __attribute__((weak));
int misc_restore_dumpable(struct restore_ctx *c, struct restore_task *t) __attribute__((weak));

struct child_msg {
	int err;
	unsigned long gadget;
};

struct rst {
	struct restore_ctx c;
	struct restore_task t;
	Inventory *inv;
	TaskCore *core;
	struct mm_restore *mm;
	pid_t child;
	bool loaded[MOD_MAX];
};

int restore_tmp_fd(struct restore_task *t)
{
	return t->next_tmp_fd++;
}

static void user_regs_from_image(const X86Regs *x, struct user_regs_struct *r)
{
	r->r15 = x->r15; r->r14 = x->r14; r->r13 = x->r13; r->r12 = x->r12;
	r->rbp = x->rbp; r->rbx = x->rbx; r->r11 = x->r11; r->r10 = x->r10;
	r->r9 = x->r9; r->r8 = x->r8; r->rax = x->rax; r->rcx = x->rcx;
	r->rdx = x->rdx; r->rsi = x->rsi; r->rdi = x->rdi; r->orig_rax = (unsigned long)-1;
	r->rip = x->rip; r->cs = x->cs; r->eflags = x->eflags; r->rsp = x->rsp;
	r->ss = x->ss; r->fs_base = x->fs_base; r->gs_base = x->gs_base; r->ds = x->ds;
	r->es = x->es; r->fs = x->fs; r->gs = x->gs;
}

/* The child holds the task's fds plus crest's own above them: make sure
 * the soft RLIMIT_NOFILE allows it (the rlimit module puts the dumped
 * limit back at the end). */
static int fit_fd_limit(struct rst *s)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)s->t.next_tmp_fd + 128;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return pr_errno(-errno, "getrlimit(RLIMIT_NOFILE)");
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max < need) {
		pr_err("pid %d: its fds go up to %d, above crest's RLIMIT_NOFILE hard limit %llu: raise "
		       "it (ulimit -Hn) before the restore", s->t.pid, s->t.tmp_fd_base - 1,
		       (unsigned long long)rl.rlim_max);
		return -EMFILE;
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return pr_errno(-errno, "setrlimit(RLIMIT_NOFILE)");
	return 0;
}

static int load_images(struct rst *s)
{
	char name[IMG_NAME_MAX];
	int r, maxfd = 2;

	r = img_read(s->c.dirfd, "inventory.img", &inventory__descriptor, (ProtobufCMessage **)&s->inv, false);
	if (r < 0) {
		if (r == -ENOENT)
			pr_err("%s holds no complete dump (inventory.img is missing)", s->c.o->images_dir);
		return r;
	}
	if (s->inv->format_version != CREST_IMG_VERSION) {
		pr_err("images have format version %u, this crest reads %u", s->inv->format_version,
		       CREST_IMG_VERSION);
		return -EBADMSG;
	}
	if (s->inv->n_pids != 1) {
		pr_err("the dump holds %zu tasks: process trees are not supported yet", s->inv->n_pids);
		return -ENOTSUP;
	}
	s->t.pid = s->inv->root_pid;
	snprintf(name, sizeof(name), "core-%d.img", s->t.pid);
	r = img_read(s->c.dirfd, name, &task_core__descriptor, (ProtobufCMessage **)&s->core, false);
	if (r < 0)
		return r;
	r = shmem_load(&s->c, &s->t);
	if (r < 0)
		return r;
	r = mm_load(&s->c, &s->t, &s->mm);
	if (r < 0)
		return r;
	for (int i = 0; i < MOD_MAX; i++) {
		const struct crest_module *m = crest_modules[i];
		if (m->load) {
			r = m->load(&s->c, &s->t);
			if (r < 0)
				return r;
		}
		s->loaded[i] = true;
		if (m->max_fd)
			maxfd = MAX(maxfd, m->max_fd(&s->t));
	}
	s->t.tmp_fd_base = maxfd + 1;
	s->t.next_tmp_fd = s->t.tmp_fd_base + mm_tmp_fds(s->mm);
	return fit_fd_limit(s);
}

/* ---- child ---- */

static int move_high(int fd, int min)
{
	int n = fcntl(fd, F_DUPFD_CLOEXEC, min);
	if (n < 0)
		return -errno;
	close(fd);
	return n;
}

static int child_session(struct rst *s)
{
	pid_t pid = s->t.pid;
	if (s->core->sid != pid && !s->c.o->shell_job) {
		pr_err("pid %d: its session (%d) is led by a process outside the dump; restore it with "
		       "--shell-job to put it in crest's own session", pid, s->core->sid);
		return -EINVAL;
	}
	if (s->core->sid == pid) {
		if (setsid() < 0)
			return pr_errno(-errno, "pid %d: setsid", pid);
	} else if (s->core->pgid == pid) {
		if (setpgid(0, 0) < 0)
			return pr_errno(-errno, "pid %d: setpgid", pid);
	}
	return 0;
}

static __attribute__((noreturn)) void child_main(struct rst *s, int sync_fd)
{
	struct child_msg msg = { 0 };
	int r;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Keep crest's own fds out of the way of the task's fds. */
	log_move_fds(s->t.next_tmp_fd + 64);
	if (s->c.tty_fd >= 0) {
		int tty = fcntl(s->c.tty_fd, F_DUPFD_CLOEXEC, s->t.next_tmp_fd + 64);
		if (tty < 0) {
			r = pr_errno(-errno, "pid %d: dup of the terminal", s->t.pid);
			goto fail;
		}
		s->c.tty_fd = tty;
	}
	r = move_high(sync_fd, s->t.next_tmp_fd + 64);
	if (r < 0)
		goto fail;
	sync_fd = r;
	r = move_high(s->c.dirfd, s->t.next_tmp_fd + 64);
	if (r < 0)
		goto fail;
	s->c.dirfd = r;
	r = child_session(s);
	if (r < 0)
		goto fail;
	if (s->core->has_personality && personality(s->core->personality) < 0) {
		r = pr_errno(-errno, "pid %d: personality(%#x)", s->t.pid, s->core->personality);
		goto fail;
	}
	r = shmem_prepare(&s->c, &s->t);
	if (r < 0)
		goto fail;
	for (int i = 0; i < MOD_MAX; i++) {
		const struct crest_module *m = crest_modules[i];
		if (m->prepare && (r = m->prepare(&s->c, &s->t)) < 0)
			goto fail;
	}
	r = mm_prepare(&s->c, &s->t, s->mm, &msg.gadget);
	if (r < 0)
		goto fail;
	write_full(sync_fd, &msg, sizeof(msg));
	close(sync_fd);
	for (;;)
		pause();
fail:
	msg.err = r;
	write_full(sync_fd, &msg, sizeof(msg));
	_exit(1);
}

static void describe_pid_holder(pid_t pid)
{
	_cleanup_free_ char *stat = NULL;
	char state = '?', comm[64] = "?";
	if (proc_read(pid, "stat", &stat, NULL) == 0) {
		char *a = strchr(stat, '('), *b = strrchr(stat, ')');
		if (a && b && b > a) {
			snprintf(comm, sizeof(comm), "%.*s", (int)(b - a - 1), a + 1);
			state = b[2];
		}
	}
	pr_err("pid %d is in use by another process (%s, state %c): the restored task needs that pid; "
	       "stop that process or restore in a new pid namespace", pid, comm, state);
}

static pid_t clone_at(pid_t pid, int wait_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)wait_ms * 1000000ull;
	for (;;) {
		pid_t tid[1] = { pid };
		struct clone_args a = {
			.exit_signal = SIGCHLD,
			.set_tid = (uint64_t)(uintptr_t)tid,
			.set_tid_size = 1,
		};
		long r;
		fflush(NULL);
		r = syscall(SYS_clone3, &a, sizeof(a));
		if (r >= 0)
			return (pid_t)r;
		if (errno != EEXIST)
			return pr_errno(-errno, "pid %d: clone3 with set_tid failed", pid);
		if (now_ns() > deadline) {
			describe_pid_holder(pid);
			return -EEXIST;
		}
		usleep(20000);   /* a zombie waiting for its reaper, most likely */
	}
}

static void kill_child(struct rst *s)
{
	int st;
	if (s->child <= 0)
		return;
	kill(s->child, SIGKILL);
	while (waitpid(s->child, &st, __WALL) < 0 && errno == EINTR)
		;
	s->child = 0;
}

static int finish(struct rst *s)
{
	struct restore_task *t = &s->t;
	struct user_regs_struct regs;
	uint64_t mask = 0;
	long ret;
	int r;

	r = shmem_inject_seals(t);
	if (r < 0)
		return r;
	r = INJECT(&t->t, &ret, __NR_close_range, t->tmp_fd_base, ~0U, 0);
	if (r < 0)
		return r;
	if (ret < 0)
		return pr_errno((int)ret, "pid %d: close_range of restore fds", t->pid);
	/* The child ran with PDEATHSIG=SIGKILL so that it died with crest
	 * during preparation; the misc module puts the dumped value back. */
	r = INJECT(&t->t, &ret, __NR_prctl, PR_SET_PDEATHSIG, 0);
	if (r < 0)
		return r;
	for (int i = 0; i < MOD_MAX; i++) {
		const struct crest_module *m = crest_modules[i];
		if (m->inject && (r = m->inject(&s->c, t)) < 0)
			return r;
	}
	for (int i = 0; i < MOD_MAX; i++) {
		const struct crest_module *m = crest_modules[i];
		if (m->inject_late && (r = m->inject_late(&s->c, t)) < 0)
			return r;
	}
	if (misc_restore_dumpable && (r = misc_restore_dumpable(&s->c, t)) < 0)
		return r;
	if (sig_restore_blocked && (r = sig_restore_blocked(t, &mask)) < 0)
		return r;
	if (fault_at("restore-before-resume"))
		return -ECANCELED;

	user_regs_from_image(s->core->regs, &regs);
	r = tracee_syscall_final(&t->t, __NR_munmap, t->t.syscall_ip & ~(PAGE_SIZE_CREST - 1),
				 PAGE_SIZE_CREST, &regs);
	if (r < 0)
		return r;
	r = ptrace_set_xstate(t->pid, s->core->xsave.data, s->core->xsave.len);
	if (r < 0)
		return r;
	if (ptrace(PTRACE_SETSIGMASK, t->pid, sizeof(mask), &mask) < 0)
		return pr_errno(-errno, "pid %d: cannot set its blocked signal mask", t->pid);
	return 0;
}

static int do_restore(struct rst *s, pid_t *root)
{
	struct child_msg msg;
	int sync[2], r;

	r = load_images(s);
	if (r < 0)
		return r;
	if (pipe2(sync, O_CLOEXEC) < 0)
		return pr_errno(-errno, "pipe2");
	r = clone_at(s->t.pid, s->c.o->pid_wait_ms > 0 ? s->c.o->pid_wait_ms : 5000);
	if (r == 0) {
		close(sync[0]);
		child_main(s, sync[1]);
	}
	close(sync[1]);
	if (r < 0) {
		close(sync[0]);
		return r;
	}
	s->child = r;
	if (ptrace(PTRACE_SEIZE, s->child, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) < 0) {
		r = pr_errno(-errno, "pid %d: cannot seize the restored task", s->child);
		close(sync[0]);
		return r;
	}
	if (fault_at("restore-after-fork")) {
		close(sync[0]);
		return -ECANCELED;
	}
	r = read_full(sync[0], &msg, sizeof(msg));
	close(sync[0]);
	if (r < 0) {
		pr_err("pid %d: the restored task died while preparing its resources", s->t.pid);
		return -ECHILD;
	}
	if (msg.err < 0)
		return msg.err;   /* the child logged why */
	r = tracee_attach_child(&s->t.t, s->child);
	if (r < 0)
		return r;
	s->t.t.syscall_ip = msg.gadget;
	s->t.t.scratch = msg.gadget + 256;
	s->t.t.scratch_size = PAGE_SIZE_CREST - 256;
	mm_set_gadget(s->mm, msg.gadget);
	r = mm_swap(&s->c, &s->t, s->mm);
	if (r < 0)
		return r;
	if (cancelled(s->c.o))
		return -ECANCELED;
	r = finish(s);
	if (r < 0)
		return r;
	if (ptrace(PTRACE_DETACH, s->child, 0, 0) < 0)
		return pr_errno(-errno, "pid %d: cannot let it go", s->child);
	*root = s->child;
	return 0;
}

int crest_restore(const struct crest_opts *o, pid_t *root)
{
	struct rst s = { .c = { .o = o, .dirfd = -1, .tty_fd = -1 } };
	uint64_t t0 = now_ns();
	pid_t dummy;
	int r;

	if (!root)
		root = &dummy;
	log_begin(o, -1, NULL);
	s.c.dirfd = open_images_dir(o->images_dir, false);
	log_end();
	if (s.c.dirfd < 0)
		return s.c.dirfd;
	log_begin(o, s.c.dirfd, "restore.log");
	pr_info("crest %s: restoring from %s", CREST_VERSION, o->images_dir);
	if (o->shell_job && isatty(STDIN_FILENO))
		s.c.tty_fd = STDIN_FILENO;
	s.t.t.mem_fd = -1;

	r = do_restore(&s, root);
	if (r < 0)
		kill_child(&s);
	else
		pr_info("pid %d: restored in %.3f s", s.t.pid, (now_ns() - t0) / 1e9);

	tracee_close(&s.t.t);
	for (int i = 0; i < MOD_MAX; i++)
		if (s.loaded[i] && crest_modules[i]->free)
			crest_modules[i]->free(&s.t);
	mm_free(s.mm);
	shmem_free(&s.t);
	if (s.core)
		protobuf_c_message_free_unpacked(&s.core->base, NULL);
	if (s.inv)
		protobuf_c_message_free_unpacked(&s.inv->base, NULL);
	close(s.c.dirfd);
	log_end();
	return r;
}

static volatile sig_atomic_t fwd_pid;

static void forward_sig(int sig)
{
	if (fwd_pid > 0)
		kill(fwd_pid, sig);
}

int crest_restore_wait(pid_t root, int *exit_status)
{
	struct sigaction sa = { .sa_handler = forward_sig }, oi, ot;
	int st, r = 0;

	fwd_pid = root;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &oi);
	sigaction(SIGTERM, &sa, &ot);
	for (;;) {
		pid_t p = waitpid(root, &st, 0);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0) {
			r = -errno;
			break;
		}
		if (WIFEXITED(st)) {
			*exit_status = WEXITSTATUS(st);
			break;
		}
		if (WIFSIGNALED(st)) {
			*exit_status = 128 + WTERMSIG(st);
			break;
		}
	}
	sigaction(SIGINT, &oi, NULL);
	sigaction(SIGTERM, &ot, NULL);
	fwd_pid = 0;
	return r;
}
