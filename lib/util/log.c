/* SPDX-License-Identifier: MIT */
/*
 * Logging for one operation.  The configuration is set at the API entry
 * (log_begin) and lives for that call only; it is per thread so that an
 * embedding program can run operations from several threads.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include "log.h"
#include "util.h"

static __thread struct log_cfg cur = { .verbosity = CREST_LOG_WARN, .fd = -1, .extra_fd = -1, .err_fd = -1 };
static __thread char last_error[2048];

static const char *lvl_name[] = { "Error", "Warn", "Info", "Debug" };

void log_begin(const struct crest_opts *o, int dirfd, const char *name)
{
	cur.verbosity = o->verbosity;
	cur.fn = o->log_fn;
	cur.data = o->log_data;
	cur.fd = -1;
	cur.extra_fd = -1;
	cur.err_fd = -1;
	last_error[0] = 0;
	if (dirfd >= 0 && name)
		cur.fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (o->log_file)
		cur.extra_fd = open(o->log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

static int move_fd_high(int fd, int min)
{
	int n;
	if (fd < 0)
		return -1;
	n = fcntl(fd, F_DUPFD_CLOEXEC, min);
	if (n >= 0 && fd > 2)
		close(fd);
	return n;
}

void log_move_fds(int min)
{
	cur.fd = move_fd_high(cur.fd, min);
	cur.extra_fd = move_fd_high(cur.extra_fd, min);
	if (!cur.fn)
		cur.err_fd = move_fd_high(STDERR_FILENO, min);
}

void log_end(void)
{
	if (cur.fd >= 0)
		close(cur.fd);
	if (cur.extra_fd >= 0)
		close(cur.extra_fd);
	cur.fd = cur.extra_fd = -1;
}

void log_msg(enum crest_log_level lvl, const char *fmt, ...)
{
	char msg[2047], line[2200];
	struct timespec ts;
	va_list ap;
	int saved = errno, n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (lvl == CREST_LOG_ERROR)
		memcpy(last_error, msg, sizeof(msg));

	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(line, sizeof(line), "(%5ld.%06ld) %s: %s\n", (long)ts.tv_sec, ts.tv_nsec / 1000,
		     lvl_name[lvl], msg);
	if (n > (int)sizeof(line) - 1)
		n = sizeof(line) - 1;
	if (cur.fd >= 0)
		(void)!write(cur.fd, line, n);
	if (cur.extra_fd >= 0)
		(void)!write(cur.extra_fd, line, n);
	if ((int)lvl <= cur.verbosity) {
		if (cur.fn)
			cur.fn(lvl, msg, cur.data);
		else if (cur.err_fd >= 0)
			dprintf(cur.err_fd, "crest: %s%s\n", lvl == CREST_LOG_ERROR ? "error: " :
				lvl == CREST_LOG_WARN ? "warning: " : "", msg);
		else
			fprintf(stderr, "crest: %s%s\n", lvl == CREST_LOG_ERROR ? "error: " :
				lvl == CREST_LOG_WARN ? "warning: " : "", msg);
	}
	errno = saved;
}

void log_note_error(const char *msg)
{
	snprintf(last_error, sizeof(last_error), "%s", msg);
}

const char *crest_last_error(void)
{
	return last_error;
}
