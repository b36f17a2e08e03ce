/* Per-thread credentials.  The kernel keeps credentials per thread; glibc's
 * setuid() & co. broadcast a change to every thread, raw syscalls do not.
 * Before any thread exists the process sets groups {500} and drops
 * CAP_SYS_MODULE from its bounding set (so that "unchanged" differs from
 * crest's own root credentials); then, each in its own thread, by raw
 * syscalls only:
 *   thread 1: securebits KEEP_CAPS, then setresuid(1001, 1002, 1003): caps
 *             stay permitted, effective is cleared, fsuid follows euid
 *   thread 2: setgroups {2001, 2002, 2003}, setfsuid(3000), setfsgid(3001),
 *             no_new_privs
 *   thread 3: drops CAP_NET_RAW from its effective and bounding sets and
 *             CAP_SYS_BOOT from its bounding set, raises CAP_NET_BIND_SERVICE
 *             into inheritable and ambient
 *   thread 4: unchanged (the process's credentials)
 * Each thread records its credentials as /proc/self/task/TID/status shows
 * them and as its own syscalls report them (getresuid, getresgid, setfsuid(-1),
 * getgroups, capget, PR_CAPBSET_READ, PR_CAP_AMBIENT_IS_SET, securebits,
 * no_new_privs); on every check each thread compares itself (the main thread
 * collects the answers) and the main thread also reads every thread's status
 * and its own.  Threads keep counting (their counters must move). */
// crest-test: mode=cr
#include "t.h"
#include "tcreds.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/securebits.h>

#define N 4
#define MAXG 32

static const char *const fields[] = {
	"Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:",
	"NoNewPrivs:",
};
#define NF (sizeof(fields) / sizeof(fields[0]))

/* what the thread's own syscalls say */
struct sys_creds {
	unsigned ruid, euid, suid, fsuid, rgid, egid, sgid, fsgid;
	int ngroups;
	unsigned groups[MAXG];
	uint64_t eff, prm, inh, bnd, amb;
	int securebits, nnp;
};

struct th {
	pthread_t pt;
	pid_t tid;
	char lines[NF][256];       /* its status lines, recorded by itself */
	struct sys_creds sc;
	_Atomic int ready;
	_Atomic int req, done;     /* check generation asked / answered */
	char msg[1024];            /* answer: empty = OK */
	_Atomic long counter;
	long seen;
};

static struct th th[N];
static char main_lines[NF][256];
static int main_dumpable;

static int read_lines(pid_t tid, char out[NF][256])
{
	char path[64], buf[4096];
	long n;

	if (tid)
		snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	else
		snprintf(path, sizeof(path), "/proc/thread-self/status");
	n = t_read_file(path, buf, sizeof(buf));
	if (n < 0)
		return -1;
	for (size_t i = 0; i < NF; i++) {
		const char *p = strstr(buf, fields[i]);
		out[i][0] = 0;
		if (p && (p == buf || p[-1] == '\n'))
			snprintf(out[i], 256, "%.*s", (int)strcspn(p, "\n"), p);
	}
	return 0;
}

static uint64_t cap_bits(uint32_t lo, uint32_t hi)
{
	return (uint64_t)lo | ((uint64_t)hi << 32);
}

/* Every answer from syscalls made by the calling thread. */
static int sys_creds(struct sys_creds *c)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	int last = 40;

	memset(c, 0, sizeof(*c));
	if (syscall(SYS_getresuid, &c->ruid, &c->euid, &c->suid) < 0 ||
	    syscall(SYS_getresgid, &c->rgid, &c->egid, &c->sgid) < 0)
		return -1;
	c->fsuid = (unsigned)syscall(SYS_setfsuid, -1);
	c->fsgid = (unsigned)syscall(SYS_setfsgid, -1);
	c->ngroups = (int)syscall(SYS_getgroups, MAXG, c->groups);
	if (c->ngroups < 0)
		return -1;
	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	c->eff = cap_bits(d[0].effective, d[1].effective);
	c->prm = cap_bits(d[0].permitted, d[1].permitted);
	c->inh = cap_bits(d[0].inheritable, d[1].inheritable);
	for (int cap = 0; cap <= last; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			c->bnd |= 1ULL << cap;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1)
			c->amb |= 1ULL << cap;
	}
	c->securebits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	c->nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	return 0;
}

static void appendf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void appendf(char *buf, size_t size, const char *fmt, ...)
{
	size_t l = strlen(buf);
	va_list ap;
	if (l + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + l, size - l, fmt, ap);
	va_end(ap);
}

static void describe(const struct sys_creds *c, char *out, size_t size)
{
	snprintf(out, size, "uids %u/%u/%u/%u gids %u/%u/%u/%u %d groups caps eff %llx prm %llx "
		 "inh %llx bnd %llx amb %llx securebits %#x nnp %d", c->ruid, c->euid, c->suid,
		 c->fsuid, c->rgid, c->egid, c->sgid, c->fsgid, c->ngroups,
		 (unsigned long long)c->eff, (unsigned long long)c->prm, (unsigned long long)c->inh,
		 (unsigned long long)c->bnd, (unsigned long long)c->amb, c->securebits, c->nnp);
}

/* The thread compares itself with what it recorded; answer in t->msg. */
static void self_check(struct th *t)
{
	char now[NF][256];
	struct sys_creds sc;

	t->msg[0] = 0;
	if (read_lines(0, now) < 0) {
		appendf(t->msg, sizeof(t->msg), "cannot read /proc/thread-self/status: %s; ", strerror(errno));
	} else {
		for (size_t i = 0; i < NF; i++)
			if (strcmp(now[i], t->lines[i]))
				appendf(t->msg, sizeof(t->msg), "status '%s', expected '%s'; ", now[i],
					t->lines[i]);
	}
	if (sys_creds(&sc) < 0) {
		appendf(t->msg, sizeof(t->msg), "its credential syscalls fail: %s; ", strerror(errno));
	} else if (memcmp(&sc, &t->sc, sizeof(sc))) {
		char a[512], b[512];
		describe(&sc, a, sizeof(a));
		describe(&t->sc, b, sizeof(b));
		appendf(t->msg, sizeof(t->msg), "syscalls say %s, expected %s; ", a, b);
	}
}

/* Raw syscalls: only this thread changes. */
static void change_own_creds(int i)
{
	struct sys_creds c;

	if (sys_creds(&c) < 0)
		t_die("thread %d: reading its creds: %s", i + 1, strerror(errno));
	switch (i) {
	case 0:
		if (syscall(SYS_prctl, PR_SET_SECUREBITS, SECBIT_KEEP_CAPS, 0, 0, 0) < 0)
			t_die("thread 1: PR_SET_SECUREBITS: %s", strerror(errno));
		if (syscall(SYS_setresuid, 1001, 1002, 1003) < 0)
			t_die("thread 1: setresuid: %s", strerror(errno));
		break;
	case 1: {
		unsigned g[] = { 2001, 2002, 2003 };
		if (syscall(SYS_setgroups, 3, g) < 0)
			t_die("thread 2: setgroups: %s", strerror(errno));
		syscall(SYS_setfsuid, 3000);
		syscall(SYS_setfsgid, 3001);
		if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			t_die("thread 2: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		break;
	}
	case 2: {
		uint64_t raw = 1ULL << CAP_NET_RAW, nbs = 1ULL << CAP_NET_BIND_SERVICE;
		tcr_capset(c.eff & ~raw, c.prm, c.inh | nbs);
		if (syscall(SYS_prctl, PR_CAPBSET_DROP, CAP_NET_RAW, 0, 0, 0) < 0 ||
		    syscall(SYS_prctl, PR_CAPBSET_DROP, CAP_SYS_BOOT, 0, 0, 0) < 0)
			t_die("thread 3: PR_CAPBSET_DROP: %s", strerror(errno));
		if (syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) < 0)
			t_die("thread 3: PR_CAP_AMBIENT_RAISE: %s", strerror(errno));
		break;
	}
	default:
		break;
	}
}

/* The setup did what it should (so that the test tests something). */
static void expect_setup(int i, const struct sys_creds *c, const struct sys_creds *m)
{
	bool ok = true;
	switch (i) {
	case 0:
		ok = c->ruid == 1001 && c->euid == 1002 && c->suid == 1003 && c->fsuid == 1002 &&
		     c->eff == 0 && c->prm == m->prm && c->securebits == SECBIT_KEEP_CAPS;
		break;
	case 1:
		ok = c->ngroups == 3 && c->groups[0] == 2001 && c->fsuid == 3000 && c->fsgid == 3001 &&
		     c->euid == 0 && c->nnp == 1;
		break;
	case 2:
		ok = !(c->eff & (1ULL << CAP_NET_RAW)) && (c->prm & (1ULL << CAP_NET_RAW)) &&
		     !(c->bnd & (1ULL << CAP_NET_RAW)) && !(c->bnd & (1ULL << CAP_SYS_BOOT)) &&
		     (c->amb & (1ULL << CAP_NET_BIND_SERVICE)) && c->ruid == 0;
		break;
	default:
		ok = !memcmp(c, m, sizeof(*c));
		break;
	}
	if (!ok) {
		char a[512];
		describe(c, a, sizeof(a));
		t_die("thread %d: unexpected credentials after setup: %s", i + 1, a);
	}
}

static void *run(void *arg)
{
	long i = (long)arg;
	struct th *t = &th[i];
	int gen = 0;

	t->tid = (pid_t)syscall(SYS_gettid);
	change_own_creds((int)i);
	if (read_lines(0, t->lines) < 0 || sys_creds(&t->sc) < 0)
		t_die("thread %ld: cannot record its creds: %s", i + 1, strerror(errno));
	atomic_store(&t->ready, 1);
	for (;;) {
		int r = atomic_load(&t->req);
		if (r != gen) {
			self_check(t);
			gen = r;
			atomic_store(&t->done, r);
		}
		atomic_fetch_add(&t->counter, 1);
		usleep(2000);
	}
	return NULL;
}

static int check(void *arg)
{
	static int gen;
	char now[NF][256];
	int64_t t0;

	gen++;
	for (int i = 0; i < N; i++)
		atomic_store(&th[i].req, gen);
	t0 = t_now_ns(CLOCK_MONOTONIC);
	for (int i = 0; i < N; i++) {
		while (atomic_load(&th[i].done) != gen && t_now_ns(CLOCK_MONOTONIC) - t0 < 5000000000LL)
			usleep(1000);
		if (atomic_load(&th[i].done) != gen)
			t_fail("thread %d (tid %d) does not answer", i + 1, th[i].tid);
		else if (th[i].msg[0])
			t_fail("thread %d (tid %d), by itself: %s", i + 1, th[i].tid, th[i].msg);
		/* and as the main thread sees it */
		if (read_lines(th[i].tid, now) < 0) {
			t_fail("thread %d (tid %d) is gone", i + 1, th[i].tid);
			continue;
		}
		for (size_t k = 0; k < NF; k++)
			if (strcmp(now[k], th[i].lines[k]))
				t_fail("thread %d (tid %d): /proc/self/task/%d/status '%s', expected '%s'",
				       i + 1, th[i].tid, th[i].tid, now[k], th[i].lines[k]);
	}
	if (read_lines(0, now) == 0)
		for (size_t k = 0; k < NF; k++)
			if (strcmp(now[k], main_lines[k]))
				t_fail("main thread: '%s', expected '%s'", now[k], main_lines[k]);
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != main_dumpable)
		t_fail("dumpable %d, expected %d", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), main_dumpable);
	/* every thread goes on */
	for (int i = 0; i < N; i++) {
		while (atomic_load(&th[i].counter) == th[i].seen &&
		       t_now_ns(CLOCK_MONOTONIC) - t0 < 5000000000LL)
			usleep(1000);
		if (atomic_load(&th[i].counter) == th[i].seen)
			t_fail("thread %d: its counter stopped at %ld", i + 1, th[i].seen);
		th[i].seen = atomic_load(&th[i].counter);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sys_creds mc;
	unsigned g = 500;

	t_init(argc, argv);
	if (getuid() != 0)
		t_die("must start as root");
	/* the whole process (no thread yet): differs from crest's root */
	if (syscall(SYS_setgroups, 1, &g) < 0 || prctl(PR_CAPBSET_DROP, CAP_SYS_MODULE, 0, 0, 0) < 0)
		t_die("setgroups/PR_CAPBSET_DROP: %s", strerror(errno));
	if (sys_creds(&mc) < 0)
		t_die("cannot read its creds: %s", strerror(errno));
	for (long i = 0; i < N; i++)
		if (pthread_create(&th[i].pt, NULL, run, (void *)i))
			t_die("pthread_create");
	for (int i = 0; i < N; i++) {
		while (!atomic_load(&th[i].ready))
			usleep(1000);
		expect_setup(i, &th[i].sc, &mc);
		t_log("thread %d tid %d: %s | %s | %s", i + 1, th[i].tid, th[i].lines[0], th[i].lines[2],
		      th[i].lines[5]);
	}
	if (read_lines(0, main_lines) < 0)
		t_die("cannot read its status: %s", strerror(errno));
	main_dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	t_run(check, NULL);
}
