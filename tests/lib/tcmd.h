/* SPDX-License-Identifier: MIT */
/*
 * Commands from a test's root process to helper processes of its tree,
 * carried by signals only, so that the protocol adds no pipe, file or shared
 * memory of its own to what is checkpointed: the root sends
 * sigqueue(SIGUSR1) with the command in si_value; the helper runs it and
 * answers with a real-time signal (TC_REPLY, queued: several helpers may
 * answer at once) to the sender with the result in si_value.  The root keeps
 * TC_REPLY blocked and collects answers with sigtimedwait; a
 * helper is idle in nanosleep between commands (no fd open), so a dump never
 * catches it in the middle of one (the runner dumps only between checks).
 * Header only (static).
 */
#ifndef CREST_TCMD_H
#define CREST_TCMD_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "tproc.h"

#define TC_CMD(op, arg) ((int)(((unsigned)(op) << 24) | ((unsigned)(arg) & 0xffffff)))
#define TC_HELLO 0x7fffffff
#define TC_REPLY (SIGRTMIN + 3)

static volatile sig_atomic_t tc_pending, tc_val, tc_from;

static void tc_on_cmd(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	tc_val = si->si_value.sival_int;
	tc_from = si->si_pid;
	tc_pending = 1;
}

/* Root: block TC_REPLY (answers are collected with sigtimedwait). */
static inline void tc_root_init(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, TC_REPLY);
	sigprocmask(SIG_BLOCK, &s, NULL);
}

/* Root: wait for one answer from pid (any pid if 0); 0 / -1 (timeout). */
static inline int tc_wait(int pid, int *val, int timeout_ms)
{
	struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, TC_REPLY);
	for (;;) {
		siginfo_t si;
		if (sigtimedwait(&s, &si, &ts) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (pid && si.si_pid != pid)
			continue;
		if (val)
			*val = si.si_value.sival_int;
		return 0;
	}
}

/* Root: run command op(arg) in helper pid; its result (>= 0, or -errno) in
 * *res.  0 / -1 (helper gone or silent). */
static inline int tc_call(int pid, int op, int arg, int *res)
{
	union sigval v = { .sival_int = TC_CMD(op, arg) };

	if (sigqueue(pid, SIGUSR1, v) < 0)
		return -1;
	return tc_wait(pid, res, 5000);
}

/* Helper: serve commands forever; handle(op, arg) returns the answer.  Says
 * hello to `root` first (the root waits for it before t_run). */
static inline __attribute__((noreturn)) void tc_serve(int root, int (*handle)(int op, int arg))
{
	struct sigaction sa;
	sigset_t s;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = tc_on_cmd;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	sigqueue(root, TC_REPLY, (union sigval){ .sival_int = TC_HELLO });
	for (;;) {
		if (tc_pending) {
			int v = tc_val, from = tc_from, r;
			tc_pending = 0;
			r = handle((int)((unsigned)v >> 24), v & 0xffffff);
			sigqueue(from, TC_REPLY, (union sigval){ .sival_int = r });
		}
		tp_sleep_ms(5);
	}
}

/* Commands on a helper's fd table (results >= 0, or -errno):
 * TC_FD_OPEN n: open (create) <test dir>/<tc_fd_prefix>-<n>.txt, the fd;
 * TC_FD_CLOSE fd; TC_FD_DUP2 (old << 8 | new); TC_FD_INO fd: the inode
 * number (low 30 bits); TC_FD_POS fd: the file position.  The helper
 * serves them with tc_serve(root, tc_fd_handle). */
enum { TC_FD_OPEN = 1, TC_FD_CLOSE, TC_FD_DUP2, TC_FD_INO, TC_FD_POS };
static const char *tc_fd_prefix = "helper";

static inline int tc_fd_handle(int op, int arg)
{
	char path[600];
	struct stat st;
	int r;

	switch (op) {
	case TC_FD_OPEN:
		snprintf(path, sizeof(path), "%s/%s-%d.txt", t_dir(), tc_fd_prefix, arg);
		r = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		return r < 0 ? -errno : r;
	case TC_FD_CLOSE:
		return close(arg) < 0 ? -errno : 0;
	case TC_FD_DUP2:
		return dup2(arg >> 8, arg & 0xff) < 0 ? -errno : 0;
	case TC_FD_INO:
		return fstat(arg, &st) < 0 ? -errno : (int)(st.st_ino & 0x3fffffff);
	case TC_FD_POS:
		r = (int)lseek(arg, 0, SEEK_CUR);
		return r < 0 ? -errno : r;
	}
	return -EINVAL;
}

/* A child made by a raw clone(flags | SIGCHLD) (CLONE_FILES, CLONE_FS...: no
 * glibc fork handlers run; the child only serves commands).  It dies with
 * its parent.  Returns the pid in the parent, 0 in the child. */
static inline int tc_clone(unsigned long flags)
{
	int ppid = getpid();
	long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != ppid)
			_exit(1);
	}
	return (int)pid;
}

#endif
