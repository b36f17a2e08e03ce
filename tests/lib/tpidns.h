/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the nested pid-namespace trees (tests/lib/pidns_tree.h,
 * tests/progs/pidns_deep.c); header only, static.
 *
 * Every task of such a tree records getpid(), getppid() and the NSpid line
 * of /proc/self/status (tpn_task_life); on SIGUSR1 it compares them with
 * the values of now and renames itself "<id>:ok:<n>" or "<id>:BAD:<n>".
 * The root finds the tasks by name through /proc (tpn_find_tree) and asks
 * each one (tpn_ask).
 */
#ifndef CREST_TPIDNS_H
#define CREST_TPIDNS_H

#include "t.h"
#include "tproc.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

/* per task, in its own memory: its id and what it recorded */
static const char *tpn_me = "";
static int tpn_pid, tpn_ppid;
static char tpn_nspid[512];
static volatile sig_atomic_t tpn_req, tpn_req2;

/* The NSpid line of /proc/<pid>/status (pid 0: self), "" if unreadable */
static inline void tpn_nspid_line(int pid, char *out, size_t size)
{
	char path[64], buf[4096], *p;

	out[0] = 0;
	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	if (t_read_file(path, buf, sizeof(buf)) < 0 || !(p = strstr(buf, "\nNSpid:")))
		return;
	p += 7;
	snprintf(out, size, "%.*s", (int)strcspn(p, "\n"), p);
}

/* Record getpid(), getppid() and NSpid of the calling task */
static inline void tpn_record_self(void)
{
	tpn_pid = getpid();
	tpn_ppid = getppid();
	tpn_nspid_line(0, tpn_nspid, sizeof(tpn_nspid));
}

/* comm = "<id>:<what>:<n>" */
static inline void tpn_set_name(const char *what, int n)
{
	char name[16];

	snprintf(name, sizeof(name), "%s:%s:%d", tpn_me, what, n % 1000);
	prctl(PR_SET_NAME, name);
}

static void tpn_on_usr1(int sig) { tpn_req++; }
static void tpn_on_usr2(int sig) { tpn_req2++; }

/* A task's life as `id`: record, then answer SIGUSR1 (see above) for ever;
 * on SIGUSR2 it calls on_usr2(number of SIGUSR2 requests) if given. */
static inline __attribute__((noreturn)) void tpn_task_life(const char *id, void (*on_usr2)(int n))
{
	struct sigaction sa = { .sa_handler = tpn_on_usr1 };
	int done = 0, done2 = 0;

	tpn_me = id;
	tpn_record_self();
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = tpn_on_usr2;
	if (on_usr2)
		sigaction(SIGUSR2, &sa, NULL);
	tpn_set_name("up", 0);
	for (;;) {
		char now[512];
		if (tpn_req == done && tpn_req2 == done2) {
			tp_sleep_ms(20);
			continue;
		}
		if (tpn_req != done) {
			done = tpn_req;
			tpn_nspid_line(0, now, sizeof(now));
			tpn_set_name(getpid() == tpn_pid && getppid() == tpn_ppid &&
					     !strcmp(now, tpn_nspid) ? "ok" : "BAD", done);
		}
		if (tpn_req2 != done2) {
			done2 = tpn_req2;
			if (on_usr2)
				on_usr2(done2);
		}
	}
}

/* clone(CLONE_NEWPID): the child is pid 1 of a new namespace and dies with
 * its parent; dies on failure (`who` names the caller) */
static inline int tpn_clone_newpid(const char *who)
{
	int pid = (int)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);

	if (pid == 0)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (pid < 0)
		t_die("%s: clone(CLONE_NEWPID): %s", who, strerror(errno));
	return pid;
}

/* The children of pid (its main thread's), at most max; their number */
static inline int tpn_children(int pid, int *out, int max)
{
	char path[64], buf[1024], *p, *e;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	if (t_read_file(path, buf, sizeof(buf)) < 0)
		return 0;
	for (p = buf; n < max; p = e) {
		long v = strtol(p, &e, 10);
		if (e == p)
			break;
		out[n++] = (int)v;
	}
	return n;
}

/* The /proc pids of a tree of n tasks named "<ids[i]>:..." below root
 * (ids[0], pids[0] = root): 0 when every one was found, else -1 */
static inline int tpn_find_tree(int root, const char *const *ids, int n, int *pids)
{
	int queue[128], nq = 0, found = 1;

	for (int i = 0; i < n; i++)
		pids[i] = 0;
	pids[0] = root;
	queue[nq++] = root;
	for (int qi = 0; qi < nq; qi++) {
		int kids[16], nk = tpn_children(queue[qi], kids, 16);
		for (int j = 0; j < nk && nq < 128; j++) {
			struct tp_stat st;
			queue[nq++] = kids[j];
			if (tp_read_stat(kids[j], &st) < 0)
				continue;
			for (int i = 1; i < n; i++) {
				size_t l = strlen(ids[i]);
				if (!strncmp(st.comm, ids[i], l) && st.comm[l] == ':') {
					pids[i] = kids[j];
					found++;
				}
			}
		}
	}
	return found == n ? 0 : -1;
}

/* Send sig to task `id` (kpid: its pid in our namespace; pid: in the
 * procfs's) until its name changes; the new name must contain `want`, else
 * t_fail(... why) */
static inline void tpn_ask(const char *id, int pid, int kpid, int sig, const char *want,
			   const char *why)
{
	struct tp_stat st;
	char before[32] = "";
	int ok = 0;

	if (tp_read_stat(pid, &st) < 0)
		return;
	snprintf(before, sizeof(before), "%s", st.comm);
	for (int k = 0; k < 300 && !ok; k++) {
		if (k % 20 == 0)
			kill(kpid, sig);
		tp_sleep_ms(10);
		ok = tp_read_stat(pid, &st) == 0 && strcmp(st.comm, before);
	}
	if (!ok)
		t_fail("%s (pid %d) does not answer (state %c, name %s)", id, pid, st.state, st.comm);
	else if (!strstr(st.comm, want))
		t_fail("%s (pid %d) answers '%s': %s", id, pid, st.comm, why);
}

#endif
