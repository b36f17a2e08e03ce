/* SPDX-License-Identifier: MIT */
/* Benchmark workload: one process with N threads, each counting in a loop
 * with its own tid and TLS value.  threads N DIR: writes DIR/ready once all
 * run; on SIGUSR1 the main thread checks that every thread still has its
 * tid and TLS value and that every counter moves, and writes DIR/result
 * ("OK" or "BAD: ..."). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct th {
	pthread_t pt;
	pid_t tid;
	_Atomic long counter;
	_Atomic int bad;
};

static struct th *th;
static int n;
static __thread long tls_id = -1;
static _Atomic int started;
static volatile sig_atomic_t req;

static void *run(void *arg)
{
	long i = (long)arg;
	struct timespec ts = { 0, 5000000 + (i % 10) * 1000000 };

	tls_id = i;
	th[i].tid = (pid_t)syscall(SYS_gettid);
	atomic_fetch_add(&started, 1);
	for (;;) {
		if (tls_id != i || syscall(SYS_gettid) != th[i].tid)
			atomic_store(&th[i].bad, 1);
		atomic_fetch_add(&th[i].counter, 1);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void on_usr1(int sig) { req++; }

static void put(const char *dir, const char *name, const char *text)
{
	char p[4096], t[4200];
	FILE *f;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	snprintf(t, sizeof(t), "%s.tmp", p);
	f = fopen(t, "w");
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	rename(t, p);
}

static void check(const char *dir)
{
	static char msg[4096];
	long *seen = calloc(n, sizeof(*seen));
	struct timespec ts = { 0, 10000000 };
	char buf[8192];
	int moved = 0, tries = 0;
	FILE *f;

	msg[0] = 0;
	for (int i = 0; i < n; i++)
		seen[i] = atomic_load(&th[i].counter);
	while (moved < n && tries++ < 300) {
		nanosleep(&ts, NULL);
		moved = 0;
		for (int i = 0; i < n; i++)
			moved += atomic_load(&th[i].counter) != seen[i];
	}
	if (moved < n)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "%d of %d threads stopped; ",
			 n - moved, n);
	for (int i = 0; i < n; i++)
		if (atomic_load(&th[i].bad)) {
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "thread %d (tid %d): tid or TLS "
				 "changed; ", i, th[i].tid);
			break;
		}
	f = fopen("/proc/self/status", "r");
	while (f && fgets(buf, sizeof(buf), f))
		if (!strncmp(buf, "Threads:", 8) && atoi(buf + 8) != n + 1)
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "%d threads, want %d; ",
				 atoi(buf + 8), n + 1);
	if (f)
		fclose(f);
	free(seen);
	put(dir, "result", msg[0] ? msg : "OK");
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	int done = 0;

	if (argc < 3)
		return 2;
	n = atoi(argv[1]);
	th = calloc(n, sizeof(*th));
	if (!th)
		return 1;
	sigaction(SIGUSR1, &sa, NULL);
	for (long i = 0; i < n; i++) {
		pthread_attr_t a;
		pthread_attr_init(&a);
		pthread_attr_setstacksize(&a, 64 * 1024);
		if (pthread_create(&th[i].pt, &a, run, (void *)i)) {
			fprintf(stderr, "pthread_create %ld: %s\n", i, strerror(errno));
			return 1;
		}
	}
	while (atomic_load(&started) < n)
		usleep(1000);
	put(argv[2], "ready", "");
	for (;;) {
		if (req != done) {
			done = req;
			check(argv[2]);
		}
		usleep(10000);
	}
}
