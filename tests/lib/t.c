/* SPDX-License-Identifier: MIT */
/* crest test library, see t.h. */
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define T_MSG_MAX 8192
#define T_PROGRESS_NS (20 * 1000000LL)
#define T_SLEEP_US 10000

/* The library's whole state: plain memory, checkpointed with the program. */
static struct {
	char dir[PATH_MAX];
	const char *prog;
	char msgs[T_MSG_MAX];
	size_t msgs_len;
	unsigned nfail;
	void (*work)(void *);
	void *work_arg;
	bool inited;
} T;

static void t_vlog(const char *what, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "%s[%d]: %s%s\n", T.prog ? T.prog : "t", (int)getpid(), what, line);
}

void t_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	t_vlog("", fmt, ap);
	va_end(ap);
}

const char *t_dir(void)
{
	return T.dir;
}

size_t t_page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static int t_path(char *out, size_t size, const char *name)
{
	int n = name[0] == '/' ? snprintf(out, size, "%s", name)
			       : snprintf(out, size, "%s/%s", T.dir[0] ? T.dir : ".", name);

	return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

int t_write_file(const char *name, const char *data, size_t len)
{
	char path[PATH_MAX + 64], tmp[PATH_MAX + 96];
	int fd;

	if (t_path(path, sizeof(path), name) < 0)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	while (len) {
		ssize_t w = write(fd, data, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			unlink(tmp);
			return -1;
		}
		data += w;
		len -= (size_t)w;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

long t_read_file(const char *name, char *buf, size_t size)
{
	char path[PATH_MAX + 64];
	size_t off = 0;
	int fd;

	if (!size || t_path(path, sizeof(path), name) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (off + 1 < size) {
		ssize_t r = read(fd, buf + off, size - 1 - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		off += (size_t)r;
	}
	close(fd);
	buf[off] = 0;
	return (long)off;
}

static bool t_exists(const char *name)
{
	char path[PATH_MAX + 64];
	struct stat st;

	return t_path(path, sizeof(path), name) == 0 && stat(path, &st) == 0;
}

void t_init(int argc, char **argv)
{
	const char *d = getenv("CREST_T_DIR");
	char buf[32];
	int n;

	setvbuf(stderr, NULL, _IONBF, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	T.prog = argc > 0 && argv && argv[0] ? strrchr(argv[0], '/') : NULL;
	T.prog = T.prog ? T.prog + 1 : (argc > 0 && argv ? argv[0] : "t");
	if (!d || !*d) {
		if (!getcwd(T.dir, sizeof(T.dir)))
			strcpy(T.dir, ".");
		t_log("CREST_T_DIR unset, using %s", T.dir);
	} else {
		if (strlen(d) >= sizeof(T.dir)) {
			t_log("CREST_T_DIR too long");
			exit(1);
		}
		strcpy(T.dir, d);
		if (chdir(T.dir) < 0) {
			t_log("chdir %s: %s", T.dir, strerror(errno));
			exit(1);
		}
	}
	T.inited = true;
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (t_write_file("pid", buf, (size_t)n) < 0) {
		t_log("cannot write %s/pid: %s", T.dir, strerror(errno));
		exit(1);
	}
}

void t_fail(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	t_log("FAIL: %s", line);
	T.nfail++;
	n = strlen(line);
	if (T.msgs_len + n + 3 >= sizeof(T.msgs))
		return; /* keep the first ones */
	if (T.msgs_len) {
		memcpy(T.msgs + T.msgs_len, "; ", 2);
		T.msgs_len += 2;
	}
	memcpy(T.msgs + T.msgs_len, line, n);
	T.msgs_len += n;
	T.msgs[T.msgs_len] = 0;
}

void t_set_work(void (*fn)(void *arg), void *arg)
{
	T.work = fn;
	T.work_arg = arg;
}

/* Run the check; fill out with "OK\n" or "<bad_prefix>: msgs\n". */
static bool t_do_check(t_check_fn check, void *arg, const char *bad, char *out, size_t size)
{
	int ret;

	T.msgs_len = 0;
	T.msgs[0] = 0;
	T.nfail = 0;
	ret = check ? check(arg) : 0;
	if (ret == 0 && T.nfail == 0) {
		snprintf(out, size, "OK\n");
		return true;
	}
	snprintf(out, size, "%s: %s\n", bad,
		 T.msgs_len ? T.msgs : "check failed without a message");
	return false;
}

void t_die(const char *fmt, ...)
{
	char line[1024], out[1200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	t_log("setup failed: %s", line);
	n = snprintf(out, sizeof(out), "BAD-PRECHECK: %s\n", line);
	if (n > (int)sizeof(out) - 1)
		n = (int)sizeof(out) - 1;
	t_write_file("result-0", out, (size_t)n);
	exit(1);
}

/* Answer every check-N that has no result-N yet (the same images may be
 * restored several times, each restore gets a new N). */
static void t_poll_checks(t_check_fn check, void *arg)
{
	static char out[T_MSG_MAX + 64];
	char name[32], res[32];

	for (unsigned n = 1; n < 1000; n++) {
		snprintf(name, sizeof(name), "check-%u", n);
		if (!t_exists(name))
			return;
		snprintf(res, sizeof(res), "result-%u", n);
		if (t_exists(res))
			continue;
		t_do_check(check, arg, "BAD", out, sizeof(out));
		if (t_write_file(res, out, strlen(out)) < 0)
			t_log("cannot write %s: %s", res, strerror(errno));
	}
}

void t_run(t_check_fn check, void *arg)
{
	static char out[T_MSG_MAX + 64];
	unsigned long long progress = 0;
	int64_t last = 0;
	char buf[32];

	if (!T.inited)
		t_init(0, NULL);
	if (!t_do_check(check, arg, "BAD-PRECHECK", out, sizeof(out))) {
		t_write_file("result-0", out, strlen(out));
		exit(1);
	}
	if (t_write_file("ready", "ready\n", 6) < 0) {
		t_log("cannot write ready: %s", strerror(errno));
		exit(1);
	}
	for (;;) {
		int64_t now;

		if (T.work)
			T.work(T.work_arg);
		progress++;
		now = t_now_ns(CLOCK_MONOTONIC);
		/* the clock may jump either way across a checkpoint */
		if (now - last >= T_PROGRESS_NS || now < last) {
			int n = snprintf(buf, sizeof(buf), "%llu\n", progress);

			t_write_file("progress", buf, (size_t)n);
			last = now;
			t_poll_checks(check, arg);
		}
		usleep(T_SLEEP_US);
	}
}

/* ---- helpers ---- */

uint64_t t_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t t_hash(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ n;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

/* Word i of the pattern depends only on (seed, i): fill and verify agree
 * for any length and alignment of the buffer start. */
static inline uint64_t t_pattern(uint64_t seed, uint64_t i)
{
	uint64_t s = seed ^ (i * 0xd1342543de82ef95ULL);

	return t_rand(&s);
}

void t_fill(void *p, size_t n, uint64_t seed)
{
	unsigned char *b = p;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w = t_pattern(seed, i / 8);

		memcpy(b + i, &w, 8);
	}
	if (i < n) {
		uint64_t w = t_pattern(seed, i / 8);

		memcpy(b + i, &w, n - i);
	}
}

long t_verify_fill(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *b = p;
	size_t i = 0;

	for (; i < n; i += 8) {
		uint64_t w = t_pattern(seed, i / 8);
		size_t len = n - i < 8 ? n - i : 8;

		if (memcmp(b + i, &w, len)) {
			for (size_t k = 0; k < len; k++)
				if (b[i + k] != ((unsigned char *)&w)[k])
					return (long)(i + k);
		}
	}
	return -1;
}

int64_t t_now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void t_on_signal(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) < 0)
		t_die("sigaction(%d): %s", sig, strerror(errno));
}

int t_check_rate(const volatile unsigned long *ticks, long period_us, const char *what)
{
	unsigned long c0 = *ticks;
	int64_t t0 = t_now_ns(CLOCK_MONOTONIC), el;

	while ((el = t_now_ns(CLOCK_MONOTONIC) - t0) < 500000000LL)
		usleep(5000);
	unsigned long n = *ticks - c0;
	double want = (double)el / (period_us * 1000.0);

	if (n < want * 0.7 || n > want * 1.3 + 1) {
		t_fail("%s fired %lu times in %.0f ms, expected about %.1f", what, n, el / 1e6, want);
		return -1;
	}
	return 0;
}
