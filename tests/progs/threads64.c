/* 64 threads, each with state of its own: tid, name, blocked mask, TLS
 * value, an FPU value it keeps in a register-heavy loop, a sigaltstack (even
 * threads), and a counter that must keep moving after restore.  The check
 * (in the main thread) reads /proc/self/task/<tid>/{comm,status} of every
 * thread against what was recorded, and each thread verifies its own TLS
 * and FPU value continuously (a mismatch is latched in a flag). */
// crest-test: mode=cr
#include "t.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define N 64

struct th {
	pthread_t pt;
	pid_t tid;
	char name[16];
	uint64_t blocked;        /* SigBlk as /proc shows it */
	void *altstack;
	_Atomic long counter;
	_Atomic int bad;         /* latched: TLS or FPU value changed */
	long seen;               /* counter at the previous check */
};

static struct th th[N];
static __thread long tls_id = -1;
static _Atomic int started;

static void *run(void *arg)
{
	long i = (long)arg;
	struct th *t = &th[i];
	volatile double fpu = 1.0 + i / 128.0, acc = 0;
	sigset_t set;

	tls_id = i;
	t->tid = (pid_t)syscall(SYS_gettid);
	snprintf(t->name, sizeof(t->name), "w%02ld", i);
	pthread_setname_np(pthread_self(), t->name);
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + (int)(i % 16));
	if (i % 3 == 0)
		sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (i % 2 == 0) {
		stack_t ss = { .ss_sp = malloc(SIGSTKSZ), .ss_size = SIGSTKSZ };
		t->altstack = ss.ss_sp;
		if (sigaltstack(&ss, NULL) < 0)
			t_die("sigaltstack: %s", strerror(errno));
	}
	atomic_fetch_add(&started, 1);
	for (;;) {
		acc += fpu * 2.0;
		stack_t cur;
		if (fpu != 1.0 + i / 128.0 || tls_id != i)
			atomic_store(&t->bad, 1);
		/* its own sigaltstack, as set */
		if (sigaltstack(NULL, &cur) == 0 &&
		    (i % 2 == 0 ? (cur.ss_sp != t->altstack || (cur.ss_flags & SS_DISABLE))
				: !(cur.ss_flags & SS_DISABLE)))
			atomic_store(&t->bad, 2);
		atomic_fetch_add(&t->counter, 1);
		usleep(2000 + (i % 7) * 500);
	}
	return NULL;
}

static uint64_t status_hex(const char *status, const char *key)
{
	const char *p = strstr(status, key);
	return p ? strtoull(p + strlen(key), NULL, 16) : ~0ULL;
}

static int check(void *arg)
{
	char path[96], buf[4096];
	int64_t t0 = t_now_ns(CLOCK_MONOTONIC);

	for (int i = 0; i < N; i++) {
		struct th *t = &th[i];
		long n;
		snprintf(path, sizeof(path), "/proc/self/task/%d/comm", t->tid);
		n = t_read_file(path, buf, sizeof(buf) - 1);
		if (n < 0) {
			t_fail("thread %d (tid %d) is gone", i, t->tid);
			continue;
		}
		buf[n] = 0;
		buf[strcspn(buf, "\n")] = 0;
		if (strcmp(buf, t->name))
			t_fail("thread %d: name '%s', want '%s'", i, buf, t->name);
		snprintf(path, sizeof(path), "/proc/self/task/%d/status", t->tid);
		n = t_read_file(path, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = 0;
			if (t->blocked == 0)
				t->blocked = status_hex(buf, "\nSigBlk:");
			else if (status_hex(buf, "\nSigBlk:") != t->blocked)
				t_fail("thread %d: SigBlk %llx, want %llx", i,
				       (unsigned long long)status_hex(buf, "\nSigBlk:"),
				       (unsigned long long)t->blocked);
		}
		if (atomic_load(&t->bad))
			t_fail("thread %d: its %s changed", i,
			       atomic_load(&t->bad) == 2 ? "sigaltstack" : "TLS or FPU value");
	}
	/* every counter moves within 2 s */
	for (int i = 0; i < N; i++) {
		while (atomic_load(&th[i].counter) == th[i].seen &&
		       t_now_ns(CLOCK_MONOTONIC) - t0 < 2000000000LL)
			usleep(1000);
		if (atomic_load(&th[i].counter) == th[i].seen)
			t_fail("thread %d: its counter stopped at %ld", i, th[i].seen);
		th[i].seen = atomic_load(&th[i].counter);
	}
	/* and the number of threads */
	snprintf(path, sizeof(path), "/proc/self/status");
	long n = t_read_file(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = 0;
		const char *p = strstr(buf, "\nThreads:");
		if (!p || atoi(p + 9) != N + 1)
			t_fail("%d threads, want %d", p ? atoi(p + 9) : -1, N + 1);
	}
	return 0;
}

int main(int argc, char **argv)
{
	t_init(argc, argv);
	for (long i = 0; i < N; i++)
		if (pthread_create(&th[i].pt, NULL, run, (void *)i))
			t_die("pthread_create");
	while (atomic_load(&started) < N)
		usleep(1000);
	t_run(check, NULL);
}
