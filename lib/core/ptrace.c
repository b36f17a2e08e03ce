/* SPDX-License-Identifier: MIT */
/*
 * ptrace control and single-syscall injection (see ptrace.h).
 *
 * Restart rules, x86_64: a task interrupted inside a syscall stops in
 * get_signal() with rax = -ERESTART* and orig_rax = nr; the kernel fixes up
 * rip/rax for the restart only after get_signal() returns.  So every
 * injected syscall runs with orig_rax = -1 (no fix-up applied to our regs),
 * and tracee_park() ends the injection by putting the original registers
 * back and trapping into a PTRACE_EVENT_STOP (inside get_signal()) again,
 * so that the fix-up applies to the original registers when we detach.
 */
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/ptrace.h>
#include "util/log.h"
#include "ptrace.h"
#include "util/util.h"

#define SYSCALL_TRAP (SIGTRAP | 0x80)

int ptrace_wait_stop(pid_t pid, int *status)
{
	for (;;) {
		pid_t r = waitpid(pid, status, __WALL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		return 0;
	}
}

int ptrace_get_regs(pid_t pid, struct user_regs_struct *r)
{
	struct iovec iov = { r, sizeof(*r) };
	if (ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, &iov) < 0)
		return pr_errno(-errno, "pid %d: cannot read registers", pid);
	return 0;
}

int ptrace_set_regs(pid_t pid, const struct user_regs_struct *r)
{
	struct iovec iov = { (void *)r, sizeof(*r) };
	if (ptrace(PTRACE_SETREGSET, pid, NT_PRSTATUS, &iov) < 0)
		return pr_errno(-errno, "pid %d: cannot set registers", pid);
	return 0;
}

int ptrace_get_xstate(pid_t pid, void *buf, size_t *len)
{
	struct iovec iov = { buf, *len };
	if (ptrace(PTRACE_GETREGSET, pid, NT_X86_XSTATE, &iov) < 0)
		return pr_errno(-errno, "pid %d: cannot read FPU/xsave state", pid);
	*len = iov.iov_len;
	return 0;
}

int ptrace_set_xstate(pid_t pid, const void *buf, size_t len)
{
	struct iovec iov = { (void *)buf, len };
	if (ptrace(PTRACE_SETREGSET, pid, NT_X86_XSTATE, &iov) < 0)
		return pr_errno(-errno, "pid %d: cannot set FPU/xsave state (%zu bytes)", pid, len);
	return 0;
}

static int open_mem(struct tracee *t)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", t->pid);
	t->mem_fd = open(path, O_RDWR | O_CLOEXEC);
	if (t->mem_fd < 0)
		return pr_errno(-errno, "pid %d: cannot open %s", t->pid, path);
	return 0;
}

int tracee_adopt_state(struct tracee *t)
{
	int r = ptrace_get_regs(t->pid, &t->regs);
	if (r < 0)
		return r;
	if (ptrace(PTRACE_GETSIGMASK, t->pid, sizeof(t->sigmask), &t->sigmask) < 0)
		return pr_errno(-errno, "pid %d: cannot read the blocked signal mask", t->pid);
	return open_mem(t);
}

/* A seized task stops at the next return to user space; one in a long
 * uninterruptible sleep (a thread inside vfork() waiting for its child to
 * exec, a hung NFS read) does not.  Wait for it a bounded time instead of
 * hanging the dump. */
#define SEIZE_TIMEOUT_MS 10000

static int wait_stop_bounded(pid_t pid, int *status, uint64_t deadline)
{
	unsigned us = 20;

	for (;;) {
		pid_t r = waitpid(pid, status, __WALL | WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (now_ns() > deadline)
			return -ETIMEDOUT;
		usleep(us);
		if (us < 10000)
			us *= 2;
	}
}

static void report_unstoppable(pid_t pid)
{
	_cleanup_free_ char *stat = NULL, *wchan = NULL;
	char *p;
	char state = '?';

	if (proc_read(pid, "stat", &stat, NULL) == 0 && (p = strrchr(stat, ')')) && p[1])
		state = p[2];
	proc_read(pid, "wchan", &wchan, NULL);
	pr_err("pid %d does not stop: it has been in state %c (sleeping in %s) for %d s, e.g. a "
	       "vfork() waiting for its child to exec; try the dump again later (the task stays "
	       "traced by crest until crest exits)", pid, state, wchan && *wchan ? wchan : "?",
	       SEIZE_TIMEOUT_MS / 1000);
}

/* The task (any tid) is gone or past the point of no return in exit(). */
static bool task_exiting(pid_t pid)
{
	_cleanup_free_ char *stat = NULL;
	char *p;

	if (proc_read(pid, "stat", &stat, NULL) < 0)
		return true;
	p = strrchr(stat, ')');
	return p && p[1] && (p[2] == 'Z' || p[2] == 'X');
}

static void tracee_init(struct tracee *t, pid_t pid)
{
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->mem_fd = -1;
}

/* Seize and stop a task.  -ESRCH, without a message: it is gone or exiting. */
int tracee_seize(struct tracee *t, pid_t pid)
{
	uint64_t deadline = now_ns() + SEIZE_TIMEOUT_MS * 1000000ull;
	bool cont_pending = false;
	int status, r;

	tracee_init(t, pid);
	if (fault_nth("seize"))
		return pr_errno(-EIO, "pid %d: cannot seize it with ptrace", pid);
	if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESYSGOOD) < 0) {
		r = -errno;
		/* Gone, or exiting (the kernel answers EPERM once exit has begun):
		 * not an error here, the caller decides (a thread or child that
		 * exits while the tree is being frozen is a normal event). */
		if (r == -ESRCH || (r == -EPERM && task_exiting(pid)))
			return -ESRCH;
		if (r == -EPERM)
			pr_err("pid %d: cannot seize it with ptrace: %s (is it traced by another "
			       "process, e.g. a debugger?)", pid, strerror(-r));
		else if (r == -ESRCH)
			pr_err("pid %d: no such process", pid);
		else
			pr_errno(r, "pid %d: cannot seize it with ptrace", pid);
		return r;
	}
	kill_point("seized");
	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0) {
		r = pr_errno(-errno, "pid %d: PTRACE_INTERRUPT failed", pid);
		ptrace(PTRACE_DETACH, pid, 0, 0);
		return r;
	}
	kill_point("interrupted");
	for (;;) {
		r = wait_stop_bounded(pid, &status, deadline);
		if (r == -ETIMEDOUT) {
			report_unstoppable(pid);
			return r;
		}
		if (r < 0) {
			pr_errno(r, "pid %d: waiting for it to stop", pid);
			return r;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			pr_debug("pid %d: exited while crest was stopping it", pid);
			return -ESRCH;
		}
		if (!WIFSTOPPED(status))
			continue;
		if ((status >> 16) == PTRACE_EVENT_STOP) {
			int sig = WSTOPSIG(status);
			if (cont_pending) {
				/* let our SIGCONT come out of the queue (dropped below) */
				ptrace(PTRACE_CONT, pid, 0, 0);
				continue;
			}
			if (sig == SIGTRAP || sig == SIGCONT)
				break;
			/* Group-stopped (SIGSTOP...): it cannot run injected syscalls
			 * while the stop holds.  Continue it with SIGCONT (delivered
			 * to us, never to the task) and trap it again; the stop is
			 * put back when crest lets it go (t->group_stop). */
			if (!t->group_stop) {
				uint64_t mask = 0;
				t->group_stop = sig;
				pr_info("pid %d: stopped by signal %d: continued for the dump, stopped again after",
					pid, sig);
				ptrace(PTRACE_GETSIGMASK, pid, sizeof(mask), &mask);
				cont_pending = !(mask & (1ULL << (SIGCONT - 1)));
				kill(pid, SIGCONT);
			}
			ptrace(PTRACE_INTERRUPT, pid, 0, 0);
			ptrace(PTRACE_CONT, pid, 0, 0);
			continue;
		}
		/* A signal arrived before our stop: let it be delivered as it
		 * would have been, then the interrupt still traps.  The SIGCONT
		 * crest sent to a stopped task is dropped. */
		if ((status >> 16) == 0 && cont_pending && WSTOPSIG(status) == SIGCONT) {
			cont_pending = false;
			ptrace(PTRACE_INTERRUPT, pid, 0, 0);
			ptrace(PTRACE_CONT, pid, 0, 0);
		} else if ((status >> 16) == 0) {
			ptrace(PTRACE_CONT, pid, 0, WSTOPSIG(status));
		} else {
			ptrace(PTRACE_CONT, pid, 0, 0);
		}
	}
	kill_point("stopped");
	return tracee_adopt_state(t);
}

/* Wait until pid is in a PTRACE_EVENT_STOP, resuming it from any other stop;
 * a signal-delivery stop on the way delivers its signal when deliver is
 * set, else drops it.  0: in the stop; 1: it died (status says how);
 * -errno: waitpid failed.  Logs nothing. */
static int wait_event_stop(pid_t pid, int *status, bool deliver)
{
	for (;;) {
		int r = ptrace_wait_stop(pid, status);
		if (r < 0)
			return r;
		if (WIFEXITED(*status) || WIFSIGNALED(*status))
			return 1;
		if (WIFSTOPPED(*status) && (*status >> 16) == PTRACE_EVENT_STOP)
			return 0;
		if (deliver && WIFSTOPPED(*status) && (*status >> 16) == 0 &&
		    WSTOPSIG(*status) != SYSCALL_TRAP)
			ptrace(PTRACE_CONT, pid, 0, WSTOPSIG(*status));
		else
			ptrace(PTRACE_CONT, pid, 0, 0);
	}
}

int tracee_attach_child(struct tracee *t, pid_t pid)
{
	int status, r;

	tracee_init(t, pid);
	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0)
		return pr_errno(-errno, "pid %d: PTRACE_INTERRUPT of the restored task failed", pid);
	/* a signal stop of our own child during preparation: dropped */
	r = wait_event_stop(pid, &status, false);
	if (r < 0)
		return pr_errno(r, "pid %d: waiting for the restored task to stop", pid);
	if (r > 0) {
		pr_err("pid %d: the restored task died during preparation (%s %d)", pid,
		       WIFEXITED(status) ? "exit" : "signal",
		       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -ECHILD;
	}
	return tracee_adopt_state(t);
}

int tracee_read(struct tracee *t, unsigned long addr, void *buf, size_t len)
{
	int r = fault_nth("task memory read") ? -EIO : pread_full(t->mem_fd, buf, len, (off_t)addr);
	if (r < 0)
		return pr_errno(r, "pid %d: cannot read %zu bytes of its memory at %#lx", t->pid, len, addr);
	return 0;
}

int tracee_write(struct tracee *t, unsigned long addr, const void *buf, size_t len)
{
	int r = fault_nth("task memory write") ? -EIO : pwrite_full(t->mem_fd, buf, len, (off_t)addr);
	if (r < 0)
		return pr_errno(r, "pid %d: cannot write %zu bytes of its memory at %#lx", t->pid, len, addr);
	return 0;
}

static int resume_to_syscall_stop(struct tracee *t, const char *what)
{
	int status, r;

	if (ptrace(PTRACE_SYSCALL, t->pid, 0, 0) < 0)
		return pr_errno(-errno, "pid %d: PTRACE_SYSCALL failed", t->pid);
	kill_point(what);   /* the task runs (towards, or in, the injected syscall) */
	for (;;) {
		r = ptrace_wait_stop(t->pid, &status);
		if (r < 0)
			return pr_errno(r, "pid %d: waiting for syscall %s", t->pid, what);
		/* a job-control notification trap (e.g. a SIGCONT queued to the
		 * task): nothing for us, go on */
		if (WIFSTOPPED(status) && (status >> 16) == PTRACE_EVENT_STOP && WSTOPSIG(status) != SIGSTOP &&
		    WSTOPSIG(status) != SIGTSTP && WSTOPSIG(status) != SIGTTIN && WSTOPSIG(status) != SIGTTOU) {
			if (ptrace(PTRACE_SYSCALL, t->pid, 0, 0) < 0)
				return pr_errno(-errno, "pid %d: PTRACE_SYSCALL failed", t->pid);
			continue;
		}
		break;
	}
	if (WIFSTOPPED(status) && WSTOPSIG(status) == SYSCALL_TRAP) {
		kill_point("syscall stop");
		return 0;
	}
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		pr_err("pid %d: died during an injected syscall (%s %d)", t->pid,
		       WIFEXITED(status) ? "exit" : "signal",
		       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		t->dead = true;
		return -ESRCH;
	}
	pr_err("pid %d: unexpected stop (status %#x) at syscall %s of an injected syscall", t->pid,
	       status, what);
	return -EPROTO;
}

/* Syscall nr at the gadget, outside any syscall (orig_rax -1), with the
 * argument registers the caller set in r: run the task to its entry stop.
 * The first one of a dump blocks every signal too, after the registers:
 * from then on, were crest killed, the return chain (retchain.c) would
 * give the task its own mask back. */
static int enter_injected(struct tracee *t, long nr, struct user_regs_struct *r, bool block)
{
	int err;

	r->rip = t->syscall_ip;
	r->rax = nr;
	r->orig_rax = (unsigned long)-1;
	if (t->ret_frame)
		r->rsp = t->ret_frame;
	err = ptrace_set_regs(t->pid, r);
	if (err < 0)
		return err;
	kill_point("injection registers set");
	if (block) {
		uint64_t all = ~0ULL;
		if (ptrace(PTRACE_SETSIGMASK, t->pid, sizeof(all), &all) < 0)
			return pr_errno(-errno, "pid %d: cannot block signals for injection", t->pid);
		kill_point("signals blocked");
	}
	return resume_to_syscall_stop(t, "entry");
}

/* The same through the exit stop; r: the registers there (rax: the result). */
static int run_injected(struct tracee *t, long nr, struct user_regs_struct *r, bool block)
{
	int err = enter_injected(t, nr, r, block);

	if (err == 0)
		err = resume_to_syscall_stop(t, "exit");
	if (err == 0)
		err = ptrace_get_regs(t->pid, r);
	return err;
}

int tracee_syscall(struct tracee *t, long *ret, long nr, unsigned long a1, unsigned long a2,
		   unsigned long a3, unsigned long a4, unsigned long a5, unsigned long a6)
{
	struct user_regs_struct r = t->regs;
	bool first = !t->injecting;
	int err;

	if (fault_nth("injected syscall"))
		return pr_errno(-EIO, "pid %d: cannot inject syscall %ld", t->pid, nr);

	if (first && t->sigreturn_ip) {
		err = tracee_build_return_chain(t);
		if (err < 0)
			return err;
		kill_point("return chain written");
	}
	t->injecting = true;
	r.rdi = a1;
	r.rsi = a2;
	r.rdx = a3;
	r.r10 = a4;
	r.r8 = a5;
	r.r9 = a6;
	err = run_injected(t, nr, &r, first);
	if (err < 0)
		return err;
	*ret = (long)r.rax;
	return 0;
}

int tracee_syscall_final(struct tracee *t, long nr, unsigned long a1, unsigned long a2,
			 const struct user_regs_struct *final)
{
	struct user_regs_struct r = t->regs;
	int err;

	r.rdi = a1;
	r.rsi = a2;
	if (fault_nth("injected syscall"))
		return pr_errno(-EIO, "pid %d: cannot inject syscall %ld", t->pid, nr);
	err = run_injected(t, nr, &r, false);
	if (err < 0)
		return err;
	if ((long)r.rax < 0) {
		pr_err("pid %d: final syscall %ld failed: %s", t->pid, nr, strerror(-(long)r.rax));
		return (int)(long)r.rax;
	}
	return ptrace_set_regs(t->pid, final);
}

/* Find the two bytes of a `syscall` instruction inside [start, end). */
static int find_syscall_insn(struct tracee *t, unsigned long start, unsigned long end,
			     unsigned long *ip)
{
	size_t len = MIN(end - start, 1UL << 20);
	_cleanup_free_ unsigned char *buf = malloc(len);

	if (!buf)
		return -ENOMEM;
	if (pread_full(t->mem_fd, buf, len, (off_t)start) < 0)
		return -EIO;
	for (size_t i = 0; i + 1 < len; i++)
		if (buf[i] == 0x0f && buf[i + 1] == 0x05) {
			*ip = start + i;
			return 0;
		}
	return -ENOENT;
}

/* The first occurrence of pat in [start, end) (read in 1 MiB pieces, at
 * most 64 MiB). */
static int find_bytes(struct tracee *t, unsigned long start, unsigned long end, const void *pat,
		      size_t n, unsigned long *ip)
{
	const size_t chunk = 1UL << 20;
	_cleanup_free_ unsigned char *buf = malloc(chunk + 16);

	if (!buf)
		return -ENOMEM;
	end = MIN(end, start + (64UL << 20));
	for (unsigned long a = start; a < end; a += chunk) {
		size_t len = MIN(end - a, chunk + n - 1);
		unsigned char *p;
		if (pread_full(t->mem_fd, buf, len, (off_t)a) < 0)
			return -EIO;
		p = memmem(buf, len, pat, n);
		if (p) {
			*ip = a + (unsigned long)(p - buf);
			return 0;
		}
	}
	return -ENOENT;
}

/* User shadow stacks need a token rt_sigreturn would not find. */
static bool has_shadow_stack(pid_t pid)
{
	_cleanup_free_ char *st = NULL;
	const char *f;

	if (proc_read(pid, "status", &st, NULL) < 0)
		return false;
	f = strstr(st, "\nx86_Thread_features:");
	return f && strstr(f + 1, "shstk") && strchr(f + 1, '\n') > strstr(f + 1, "shstk");
}

/*
 * The return chain's two gadgets, in the task's own code (smallest
 * executable mapping first: the dynamic loader has both): `syscall; ret`
 * and glibc's/musl's rt_sigreturn trampoline `mov $15,%rax; syscall`.
 */
static void find_gadgets(struct tracee *t, const char *maps)
{
	static const unsigned char sysret[] = { 0x0f, 0x05, 0xc3 };
	static const unsigned char rt[] = { 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };
	static const unsigned char rt32[] = { 0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };
	unsigned long s_ip = 0, r_ip = 0, done_below = 0;
	const char *line;

	/* the mappings by size: pick the smallest not yet scanned each time */
	for (int round = 0; round < 64 && !(s_ip && r_ip); round++) {
		unsigned long best_s = 0, best_e = 0, min = 0;
		for (line = maps; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
			unsigned long s, e;
			char perms[8];
			if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) != 3 || perms[2] != 'x' ||
			    s >= 0xffffffffff600000UL)
				continue;
			if (!strncmp(line + strcspn(line, "\n") - 6, "[vdso]", 6))
				continue;
			unsigned long key = ((e - s) << 16) | (s >> 12 & 0xffff);
			if (key > done_below && (!min || key < min)) {
				min = key;
				best_s = s;
				best_e = e;
			}
		}
		if (!min)
			break;
		done_below = min;
		if (!s_ip)
			find_bytes(t, best_s, best_e, sysret, sizeof(sysret), &s_ip);
		if (!r_ip && find_bytes(t, best_s, best_e, rt, sizeof(rt), &r_ip) < 0)
			find_bytes(t, best_s, best_e, rt32, sizeof(rt32), &r_ip);
	}
	if (s_ip && r_ip) {
		t->syscall_ip = s_ip;
		t->sigreturn_ip = r_ip;
	}
}

#define STACK_REACH (64UL << 20)

int tracee_prepare_dump(struct tracee *t, unsigned long avoid_start, unsigned long avoid_end)
{
	_cleanup_free_ char *maps = NULL;
	char *line, *save = NULL;
	unsigned long ip = 0;
	long ret;
	int r;

	r = proc_read(t->pid, "maps", &maps, NULL);
	if (r < 0)
		return pr_errno(r, "pid %d: cannot read /proc/%d/maps", t->pid, t->pid);
	if (has_shadow_stack(t->pid))
		pr_warn("pid %d: it uses a shadow stack: were crest killed during this dump, it would "
			"crash", t->pid);
	else
		find_gadgets(t, maps);
	if (!t->sigreturn_ip && !has_shadow_stack(t->pid))
		pr_warn("pid %d: no `syscall; ret` and rt_sigreturn code found in its memory: were "
			"crest killed during this dump, it would crash", t->pid);
	ip = t->syscall_ip;
	/* Without the chain: prefer the vdso, then any executable mapping. */
	for (int pass = 0; pass < 2 && !ip; pass++) {
		_cleanup_free_ char *copy = xstrdup(maps);
		if (!copy)
			return -ENOMEM;
		for (line = strtok_r(copy, "\n", &save); line && !ip; line = strtok_r(NULL, "\n", &save)) {
			unsigned long s, e;
			char perms[8];
			if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) != 3 || perms[2] != 'x')
				continue;
			if (s >= 0xffffffffff600000UL)
				continue;   /* vsyscall: not readable */
			if (pass == 0 && !strstr(line, "[vdso]"))
				continue;
			find_syscall_insn(t, s, e, &ip);
		}
	}
	if (!ip) {
		pr_err("pid %d: no `syscall` instruction found in its executable memory", t->pid);
		return -ENOEXEC;
	}
	t->syscall_ip = ip;
	t->scratch_size = 16 * PAGE_SIZE_CREST;
	/* Place the scratch area with a free page on both sides, so that it
	 * never merges with a neighbouring VMA of the task, in the middle of
	 * the largest free range: far from where the kernel's top-down mmap
	 * and brk find room (the return chain may unmap it while another
	 * thread's injected syscall still uses it: that syscall then gets
	 * EFAULT, and nothing of the task's own can be there yet), and never
	 * just below the stack (a fault there would grow the stack). */
	unsigned long want = 0, best = 0, prev_end = 0x100000;
	{
		_cleanup_free_ char *copy = xstrdup(maps);
		if (!copy)
			return -ENOMEM;
		save = NULL;
		for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			unsigned long s, e, top;
			if (sscanf(line, "%lx-%lx", &s, &e) != 2 || s >= 0xffffffffff600000UL)
				continue;
			/* below the stack: keep out of its reach (rlimit, 8 MiB usually) */
			top = s;
			if (strstr(line, "[stack]"))
				top = s > STACK_REACH ? s - STACK_REACH : 0;
			if (top > prev_end && top - prev_end >= t->scratch_size + 4 * PAGE_SIZE_CREST &&
			    top - prev_end > best) {
				best = top - prev_end;
				want = (prev_end + best / 2) & ~(PAGE_SIZE_CREST - 1);
			}
			prev_end = MAX(prev_end, e);
		}
	}
	if (!want) {
		pr_err("pid %d: no free address range for crest's scratch memory", t->pid);
		return -ENOMEM;
	}
	/* known before the mmap: the return chain unmaps it if crest dies */
	t->scratch = want;
	r = INJECT(t, &ret, __NR_mmap, want, t->scratch_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (r == 0 && ret < 0 && ret > -4096) {
		pr_err("pid %d: injected mmap of scratch memory failed: %s", t->pid, strerror(-ret));
		r = (int)ret;
	}
	if (r < 0) {
		t->scratch = 0;
		return r;
	}
	(void)avoid_start;
	(void)avoid_end;
	t->scratch = (unsigned long)ret;
	t->scratch_owned = true;
	pr_debug("pid %d: syscall insn at %#lx, scratch at %#lx", t->pid, ip, t->scratch);
	return 0;
}

int tracee_park(struct tracee *t)
{
	int status, r;
	long ret;

	if (!t->injecting)
		return 0;
	if (t->scratch_owned) {
		r = INJECT(t, &ret, __NR_munmap, t->scratch, t->scratch_size);
		if (r < 0)
			return r;
		t->scratch_owned = false;
	}
	/* The mask first: until the registers are back, crest's death still
	 * leads through the return chain (which sets the mask again). */
	if (ptrace(PTRACE_SETSIGMASK, t->pid, sizeof(t->sigmask), &t->sigmask) < 0)
		return pr_errno(-errno, "pid %d: cannot restore its blocked signal mask", t->pid);
	kill_point("park: mask back");
	/* At this syscall-exit stop the kernel applies the restart logic to
	 * these registers when the task goes on, also if crest dies now. */
	r = ptrace_set_regs(t->pid, &t->regs);
	if (r < 0)
		return r;
	kill_point("park: registers back");
	/* Trap into get_signal() so the kernel restarts an interrupted syscall. */
	if (ptrace(PTRACE_INTERRUPT, t->pid, 0, 0) < 0 || ptrace(PTRACE_CONT, t->pid, 0, 0) < 0)
		return pr_errno(-errno, "pid %d: cannot park it", t->pid);
	kill_point("park: trapping");
	/* a signal-delivery stop on the way: delivered as it would have been */
	r = wait_event_stop(t->pid, &status, true);
	if (r < 0)
		return pr_errno(r, "pid %d: waiting for it to park", t->pid);
	if (r > 0) {
		t->dead = true;
		return -ESRCH;
	}
	t->injecting = false;
	t->ret_frame = 0;
	return 0;
}

int tracee_release(struct tracee *t)
{
	int r = tracee_park(t);

	if (r == 0)
		return tracee_detach(t);
	if (t->dead || !t->ret_frame)
		return r;
	/* From any stop the return chain takes it back to its own context */
	pr_warn("pid %d: detached without parking: it goes back to its own registers and mask through "
		"its return frames", t->pid);
	if (t->group_stop)
		kill(t->pid, t->group_stop);
	if (ptrace(PTRACE_DETACH, t->pid, 0, 0) < 0)
		return pr_errno(-errno, "pid %d: cannot detach", t->pid);
	return 0;
}

void tracee_share_gadget(struct tracee *th, const struct tracee *main)
{
	th->syscall_ip = main->syscall_ip;
	th->sigreturn_ip = main->sigreturn_ip;
	th->scratch = main->scratch;
	th->scratch_size = main->scratch_size;
	th->scratch_owned = false;
}

int tracee_detach(struct tracee *t)
{
	kill_point("detach");
	if (t->group_stop)
		kill(t->pid, t->group_stop);   /* it was stopped: it stays stopped */
	if (ptrace(PTRACE_DETACH, t->pid, 0, 0) < 0)
		return pr_errno(-errno, "pid %d: cannot detach", t->pid);
	return 0;
}

int tracee_kill(struct tracee *t)
{
	int status;

	if (t->dead)
		return 0;
	if (kill(t->pid, SIGKILL) < 0 && errno != ESRCH)
		return pr_errno(-errno, "pid %d: cannot kill it", t->pid);
	for (;;) {
		if (ptrace_wait_stop(t->pid, &status) < 0)
			break;
		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
	}
	t->dead = true;
	return 0;
}

void tracee_close(struct tracee *t)
{
	if (t->mem_fd >= 0)
		close(t->mem_fd);
	t->mem_fd = -1;
}

int tracee_syscall_clone(struct tracee *t, long *ret, pid_t *child, unsigned long args, size_t size)
{
	struct user_regs_struct r = t->regs;
	unsigned long msg = 0;
	int status, err;

	r.rdi = args;
	r.rsi = size;
	if (fault_nth("injected clone3"))
		return pr_errno(-EIO, "pid %d: cannot inject clone3", t->pid);
	err = enter_injected(t, __NR_clone3, &r, false);
	if (err < 0)
		return err;
	*child = 0;
	/* PTRACE_EVENT_CLONE (if it worked), then the exit stop */
	if (ptrace(PTRACE_SYSCALL, t->pid, 0, 0) < 0)
		return pr_errno(-errno, "pid %d: PTRACE_SYSCALL failed", t->pid);
	for (;;) {
		err = ptrace_wait_stop(t->pid, &status);
		if (err < 0)
			return pr_errno(err, "pid %d: waiting for clone3", t->pid);
		if (!WIFSTOPPED(status)) {
			t->dead = true;
			pr_err("pid %d: died during an injected clone3", t->pid);
			return -ESRCH;
		}
		/* (a process sharing its memory, exit signal SIGCHLD: PTRACE_EVENT_FORK) */
		if ((status >> 8) == (SIGTRAP | (PTRACE_EVENT_CLONE << 8)) ||
		    (status >> 8) == (SIGTRAP | (PTRACE_EVENT_FORK << 8))) {
			if (ptrace(PTRACE_GETEVENTMSG, t->pid, 0, &msg) < 0)
				return pr_errno(-errno, "pid %d: PTRACE_GETEVENTMSG", t->pid);
			*child = (pid_t)msg;
			if (ptrace(PTRACE_SYSCALL, t->pid, 0, 0) < 0)
				return pr_errno(-errno, "pid %d: PTRACE_SYSCALL failed", t->pid);
			continue;
		}
		if (WSTOPSIG(status) == SYSCALL_TRAP)
			break;
		pr_err("pid %d: unexpected stop (status %#x) during an injected clone3", t->pid, status);
		return -EPROTO;
	}
	err = ptrace_get_regs(t->pid, &r);
	if (err < 0)
		return err;
	*ret = (long)r.rax;
	if (*child > 0) {
		/* the new thread starts in a PTRACE_EVENT_STOP, traced by us */
		err = wait_event_stop(*child, &status, false);
		if (err < 0)
			return pr_errno(err, "thread %d: waiting for its first stop", *child);
		if (err > 0) {
			pr_err("thread %d died right after its creation", *child);
			return -ESRCH;
		}
	}
	return 0;
}
