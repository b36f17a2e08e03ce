/* seccomp filters come back per thread, stacked in order, shared by TSYNC,
 * and still act (a container runtime's kind of profile):
 *  A: docker-like allow-list: wrong arch kills, clone3 -> ENOSYS, anything
 *     not listed -> EPERM; installed with TSYNC | LOG once threads T1, T2 run;
 *  B: stacked on A, also TSYNC: getsid -> EACCES (the newest filter's errno
 *     wins over A's EPERM), getpgid kills the process (SIGSYS);
 *  C: thread T2 only: getuid -> EDOM.
 * The check, in each thread: Seccomp 2 with 2 filters (T2: 3) in its
 * status, getpriority EPERM, clone3 ENOSYS, getsid EACCES, getuid works
 * (T2: EDOM); from the main thread: a forked child calling getpgid dies of
 * SIGSYS, and a TSYNC attempt fails naming exactly T2 (T1 shares the main
 * thread's filters, T2 has one more: restored as separate copies, T1 would
 * be named). */
// crest-test: mode=cr
#include "t.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const int allowed[] = {
	SYS_read, SYS_write, SYS_close, SYS_fstat, SYS_newfstatat, SYS_statx, SYS_lseek, SYS_mmap,
	SYS_mprotect, SYS_munmap, SYS_brk, SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn,
	SYS_pread64, SYS_access, SYS_sched_yield, SYS_madvise, SYS_dup, SYS_dup2, SYS_dup3,
	SYS_nanosleep, SYS_getpid, SYS_clone, SYS_fork, SYS_exit, SYS_wait4, SYS_kill, SYS_fcntl,
	SYS_getuid, SYS_getgid, SYS_geteuid, SYS_getegid, SYS_getppid, SYS_getpgrp, SYS_gettid,
	SYS_futex, SYS_set_robust_list, SYS_clock_gettime, SYS_clock_nanosleep, SYS_exit_group,
	SYS_tgkill, SYS_openat, SYS_rename, SYS_renameat, SYS_unlink, SYS_unlinkat, SYS_readlink,
	SYS_getrandom, SYS_rseq, SYS_prctl, SYS_seccomp, SYS_restart_syscall, SYS_sigaltstack,
	SYS_set_tid_address, SYS_arch_prctl, SYS_prlimit64, SYS_mremap, SYS_poll, SYS_ppoll,
	SYS_pipe2, SYS_getdents64, SYS_lstat, SYS_stat, SYS_getcwd, SYS_chdir, SYS_pause,
	SYS_sched_getaffinity, SYS_ioctl, SYS_writev, SYS_readv,
};

#define MAXI 256
static struct sock_filter prog_a[MAXI];

static int build_a(void)
{
	int n = 0, nallow = (int)(sizeof(allowed) / sizeof(allowed[0]));
	int allow_at = 5 + nallow + 3;   /* index of the ALLOW return */

	prog_a[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	prog_a[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	prog_a[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	prog_a[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	prog_a[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 0);
	for (int i = 0; i < nallow; i++, n++)
		prog_a[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, allowed[i],
							  (unsigned char)(allow_at - n - 1), 0);
	prog_a[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1);
	prog_a[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
	prog_a[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
	prog_a[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	/* x32 numbers (insn 4): to the EPERM return */
	prog_a[4].jt = (unsigned char)(n - 2 - 4 - 1);
	if (n != allow_at + 1 || n > MAXI)
		t_die("filter A built wrong (%d insns)", n);
	return n;
}

static struct sock_filter prog_b[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpgid, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getsid, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

static struct sock_filter prog_c[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getuid, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EDOM),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

static struct sock_filter prog_allow[] = {
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

static long install(struct sock_filter *p, size_t n, unsigned flags)
{
	struct sock_fprog fp = { .len = (unsigned short)n, .filter = p };
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fp);
}

/* threads: 0 main, 1 T1, 2 T2 */
static pid_t tids[3];
static atomic_int cmd[3], done[3], bad[3];

static int expect_errno(const char *who, const char *what, long r, int e)
{
	if (r != -1 || errno != e) {
		t_fail("%s: %s gave %ld (%s), expected %s", who, what, r, r == -1 ? strerror(errno) : "ok",
		       strerror(e));
		return -1;
	}
	return 0;
}

static int status_field(pid_t tid, const char *key)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	if (t_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	char *p = strstr(buf, key);
	return p ? atoi(p + strlen(key)) : -1;
}

static int thread_check(int i)
{
	const char *who = i == 0 ? "main" : i == 1 ? "T1" : "T2";
	int r = 0, mode = status_field(tids[i], "\nSeccomp:"),
	    nf = status_field(tids[i], "\nSeccomp_filters:");
	long v;

	if (mode != 2 || nf != (i == 2 ? 3 : 2)) {
		t_fail("%s: seccomp mode %d with %d filters, expected 2 with %d", who, mode, nf, i == 2 ? 3 : 2);
		r = -1;
	}
	r |= expect_errno(who, "getpriority", syscall(SYS_getpriority, 0, 0), EPERM);
	r |= expect_errno(who, "clone3", syscall(SYS_clone3, NULL, 0), ENOSYS);
	r |= expect_errno(who, "getsid", syscall(SYS_getsid, 0), EACCES);
	v = syscall(SYS_getuid);
	if (i == 2)
		r |= expect_errno(who, "getuid", v, EDOM);
	else if (v < 0) {
		t_fail("%s: getuid failed: %m", who);
		r = -1;
	}
	return r;
}

static void *thread_fn(void *arg)
{
	int i = (int)(long)arg, seen = 0;
	struct timespec ts = { 0, 2000000 };

	tids[i] = (pid_t)syscall(SYS_gettid);
	for (;;) {
		int c = atomic_load(&cmd[i]);
		if (c != seen) {
			seen = c;
			if (c == -1) {      /* setup: T2's own filter */
				if (install(prog_c, 4, 0) != 0)
					t_die("T2: filter C: %m");
			} else {
				atomic_store(&bad[i], thread_check(i));
			}
			atomic_store(&done[i], c);
		}
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static int ask(int i, int c)
{
	struct timespec ts = { 0, 1000000 };
	atomic_store(&cmd[i], c);
	for (int k = 0; k < 5000; k++) {
		if (atomic_load(&done[i]) == c)
			return atomic_load(&bad[i]);
		nanosleep(&ts, NULL);
	}
	t_fail("thread %d does not answer", i);
	return -1;
}

static int check(void *arg)
{
	static int gen;
	int r = 0, st;
	long v;

	gen++;
	r |= thread_check(0);
	r |= ask(1, gen);
	r |= ask(2, gen);

	pid_t c = fork();
	if (c < 0) {
		t_fail("fork: %m");
		return -1;
	}
	if (c == 0) {
		syscall(SYS_getpgid, 0);
		_exit(0);
	}
	if (waitpid(c, &st, 0) != c || !WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS) {
		t_fail("a child calling getpgid was not killed by SIGSYS (status %#x)", st);
		r = -1;
	}
	/* TSYNC: T1 holds the very filters of the main thread, T2 one more */
	v = install(prog_allow, 1, SECCOMP_FILTER_FLAG_TSYNC);
	if (v != tids[2]) {
		t_fail("TSYNC from the main thread gave %ld (%s), expected T2's tid %d", v,
		       v < 0 ? strerror(errno) : "a tid", tids[2]);
		r = -1;
	}
	return r;
}

int main(int argc, char **argv)
{
	pthread_t th;
	int n;

	t_init(argc, argv);
	tids[0] = (pid_t)syscall(SYS_gettid);
	for (long i = 1; i <= 2; i++)
		if (pthread_create(&th, NULL, thread_fn, (void *)i))
			t_die("pthread_create");
	while (!tids[1] || !tids[2])
		usleep(1000);
	n = build_a();
	if (install(prog_a, (size_t)n, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG) != 0)
		t_die("filter A: %m");
	if (install(prog_b, sizeof(prog_b) / sizeof(prog_b[0]), SECCOMP_FILTER_FLAG_TSYNC) != 0)
		t_die("filter B: %m");
	if (ask(2, -1))
		t_die("T2's filter");
	t_run(check, NULL);
}
