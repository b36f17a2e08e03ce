/* SPDX-License-Identifier: MIT */
/*
 * Helpers for tests with several processes (header only, static): read
 * another task's /proc/PID/stat and status, build children that die with
 * their parent, wait for a child's state.  Each process of a test tree can
 * be checked from the root through /proc, so the tree needs no IPC of its
 * own at dump time (no shared pipes or memory that would test something
 * else).
 */
#ifndef CREST_TPROC_H
#define CREST_TPROC_H

#include "t.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>

struct tp_stat {
	char comm[32];
	char state;
	int ppid, pgid, sid;
	int tracer;
	int nspid[16];
	int n_nspid;
};

/* 0 / -1 (gone or unreadable) */
static inline int tp_read_stat(int pid, struct tp_stat *st)
{
	char path[64], buf[4096], *l, *r;
	long n;
	FILE *f;

	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	n = t_read_file(path, buf, sizeof(buf));
	if (n <= 0)
		return -1;
	l = strchr(buf, '(');
	r = strrchr(buf, ')');
	if (!l || !r || r < l || r[1] != ' ')
		return -1;
	snprintf(st->comm, sizeof(st->comm), "%.*s", (int)(r - l - 1), l + 1);
	if (sscanf(r + 2, "%c %d %d %d", &st->state, &st->ppid, &st->pgid, &st->sid) != 4)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(buf, sizeof(buf), f)) {
		if (!strncmp(buf, "TracerPid:", 10))
			st->tracer = atoi(buf + 10);
		if (!strncmp(buf, "NSpid:", 6)) {
			char *p = buf + 6, *e;
			while (st->n_nspid < 16) {
				long v = strtol(p, &e, 10);
				if (e == p)
					break;
				st->nspid[st->n_nspid++] = (int)v;
				p = e;
			}
		}
	}
	fclose(f);
	return 0;
}

static inline void tp_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* fork() a child that gets SIGKILL when its parent dies (the runner kills
 * only the root between restores: the rest of the tree must go too). */
static inline int tp_fork(void)
{
	int ppid = getpid();
	int pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* (the parent died meanwhile; 0: the parent is outside the
		 * child's new pid namespace) */
		if (getppid() != ppid && getppid() != 0)
			_exit(1);
	}
	return pid;
}

/* A child's idle life: sleep forever (until killed). */
static inline __attribute__((noreturn)) void tp_idle(void)
{
	for (;;)
		pause();
}

/* Wait (timeout ms) until pid's comm is `comm`; 0 / -1 */
static inline int tp_wait_comm(int pid, const char *comm, int timeout_ms)
{
	struct tp_stat st;

	for (int i = 0; i < timeout_ms / 5; i++) {
		if (tp_read_stat(pid, &st) == 0 && !strcmp(st.comm, comm))
			return 0;
		tp_sleep_ms(5);
	}
	return -1;
}

/* Wait (timeout ms) until pid's state letter is one of `states`; 0 / -1 */
static inline int tp_wait_state(int pid, const char *states, int timeout_ms)
{
	struct tp_stat st;

	for (int i = 0; i < timeout_ms / 5; i++) {
		if (tp_read_stat(pid, &st) == 0 && strchr(states, st.state))
			return 0;
		tp_sleep_ms(5);
	}
	return -1;
}

/* readlink of /proc/PID/<name> into buf ("" on error) */
static inline const char *tp_readlink(int pid, const char *name, char *buf, size_t size)
{
	char path[96];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	n = readlink(path, buf, size - 1);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

/* readlink of /proc/PID/fd/<fd> into buf ("" on error) */
static inline const char *tp_fd_readlink(int pid, int fd, char *buf, size_t size)
{
	char name[32];

	snprintf(name, sizeof(name), "fd/%d", fd);
	return tp_readlink(pid, name, buf, size);
}

/* /proc/<pid>/fd/<fd> (pid 0: /proc/self) must read `want`: 0, else
 * t_fail("<what>: ...") and -1 */
static inline int tp_expect_fd_link(int pid, int fd, const char *want, const char *what)
{
	char p[64], buf[4200];
	ssize_t n;

	if (pid)
		snprintf(p, sizeof(p), "/proc/%d/fd/%d", pid, fd);
	else
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, buf, sizeof(buf) - 1);
	if (n < 0) {
		t_fail("%s: readlink %s: %m", what, p);
		return -1;
	}
	buf[n] = 0;
	if (strcmp(buf, want)) {
		t_fail("%s: /proc shows '%s', expected '%s'", what, buf, want);
		return -1;
	}
	return 0;
}

#endif
