/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <sys/uio.h>
#include "util.h"
#include "log.h"
#include "crest.h"

/* The loop of the four below: all of len bytes, at off (pread/pwrite) when
 * positional, else at the file position; a read that ends early: -EIO.
 * buf is only read from when wr. */
static int io_full(int fd, char *p, size_t len, off_t off, bool positional, bool wr)
{
	while (len) {
		ssize_t n;
		if (wr)
			n = positional ? pwrite(fd, p, len, off) : write(fd, p, len);
		else
			n = positional ? pread(fd, p, len, off) : read(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0 && !wr)
			return -EIO;
		p += n;
		len -= n;
		off += n;
	}
	return 0;
}

int read_full(int fd, void *buf, size_t len)
{
	return io_full(fd, buf, len, 0, false, false);
}

int write_full(int fd, const void *buf, size_t len)
{
	return io_full(fd, (char *)buf, len, 0, false, true);
}

int pread_full(int fd, void *buf, size_t len, off_t off)
{
	return io_full(fd, buf, len, off, true, false);
}

int pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
	return io_full(fd, (char *)buf, len, off, true, true);
}

int read_file_at(int dirfd, const char *path, char **out, size_t *lenp)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, len = 0;
	char *buf, *nb;

	if (fd < 0)
		return -errno;
	buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;
		if (len == cap) {
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;
			free(buf);
			return e;
		}
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = 0;
	*out = buf;
	if (lenp)
		*lenp = len;
	return 0;
}

int proc_read(pid_t pid, const char *name, char **out, size_t *len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	return read_file_at(AT_FDCWD, path, out, len);
}

const char *proc_status_field(const char *buf, const char *name)
{
	size_t n = strlen(name);
	for (const char *l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, name, n) && l[n] == ':')
			return l + n + 1;
	return NULL;
}

int readlink_at(int dirfd, const char *path, char **out)
{
	size_t cap = 256;
	for (;;) {
		char *buf = malloc(cap);
		ssize_t n;
		if (!buf)
			return -ENOMEM;
		n = readlinkat(dirfd, path, buf, cap);
		if (n < 0) {
			int e = -errno;
			free(buf);
			return e;
		}
		if ((size_t)n < cap) {
			buf[n] = 0;
			*out = buf;
			return 0;
		}
		free(buf);
		cap *= 4;
	}
}

void *xzalloc(size_t n)
{
	void *p = fault_nth("allocation") ? NULL : calloc(1, n ? n : 1);
	if (!p)
		pr_err("out of memory (%zu bytes)", n);
	return p;
}

int *fd_table_new(size_t n)
{
	int *fds = malloc((n + 1) * sizeof(*fds));

	for (size_t i = 0; fds && i < n; i++)
		fds[i] = -1;
	return fds;
}

void fd_table_free(int *fds, size_t n)
{
	for (size_t i = 0; fds && i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
}

char *xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");
	if (!p)
		pr_err("out of memory");
	return p;
}

int xasprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = vasprintf(out, fmt, ap);
	va_end(ap);
	if (r < 0) {
		*out = NULL;
		pr_err("out of memory");
		return -ENOMEM;
	}
	return r;
}

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

bool fault_at(const char *step)
{
	const char *f = getenv("CREST_FAULT");
	if (!f || strcmp(f, step))
		return false;
	pr_err("fault injected at step '%s' (CREST_FAULT)", step);
	return true;
}

/* Process-wide by nature, like CREST_FAULT: a debug switch, not state of
 * a dump. */
static unsigned long kill_points;

void kill_point(const char *what)
{
	static long at = -2;

	if (at == -2) {
		const char *e = getenv("CREST_KILL_AT");
		at = e && *e ? strtol(e, NULL, 10) : -1;
	}
	if (at < 0)
		return;
	pr_debug("kill point %lu: %s", kill_points + 1, what);
	if (++kill_points == (unsigned long)at) {
		pr_err("kill point %lu (%s): crest kills itself (CREST_KILL_AT)", kill_points, what);
		kill(getpid(), SIGKILL);
	}
}

unsigned long kill_points_passed(void)
{
	return kill_points;
}

static unsigned long fallible_ops;   /* CREST_FAULT_N: debug switch, as above */

bool fault_nth(const char *what)
{
	static long at = -2;

	if (at == -2) {
		const char *e = getenv("CREST_FAULT_N");
		at = e && *e ? strtol(e, NULL, 10) : -1;
	}
	if (at < 0 || ++fallible_ops != (unsigned long)at)
		return false;
	pr_err("fault injected at fallible operation %lu (%s) (CREST_FAULT_N)", fallible_ops, what);
	return true;
}

unsigned long fault_ops_passed(void)
{
	return fallible_ops;
}

bool cancelled(const struct crest_opts *o)
{
	if (!o->cancel || !*o->cancel)
		return false;
	pr_err("cancelled by the caller (signal): undoing what was done");
	return true;
}

/* Copy len bytes between our buffer and another task's memory with
 * process_vm_readv/writev (bulk, no FOLL_FORCE: the range must be
 * accessible for that direction). */
int vm_copy(pid_t pid, void *buf, unsigned long addr, size_t len, bool write)
{
	while (len) {
		struct iovec l = { buf, len }, r = { (void *)addr, len };
		ssize_t n = write ? process_vm_writev(pid, &l, 1, &r, 1, 0) : process_vm_readv(pid, &l, 1, &r, 1, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EFAULT;
		buf = (char *)buf + n;
		addr += n;
		len -= n;
	}
	return 0;
}

int status_ids(const char *status, const char *key, int32_t **out, size_t *n)
{
	const char *p = strstr(status, key);
	if (!p)
		return 0;
	p += strlen(key);
	while (*p && *p != '\n') {
		char *e;
		long v = strtol(p, &e, 10);
		if (e == p)
			break;
		int32_t *x = realloc(*out, (*n + 1) * sizeof(*x));
		if (!x)
			return -ENOMEM;
		*out = x;
		x[(*n)++] = v;
		p = e;
	}
	return 0;
}
