/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the tests of fd kinds (header only, static): put an fd at a
 * fixed number, and the entries of /proc/PID/fdinfo/FD (epoll
 * registrations, inotify watches) as sorted lines, to compare before and
 * after a dump.
 */
#ifndef CREST_TFD_H
#define CREST_TFD_H

#include "t.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Move fd to number n (fd is closed); dies on failure (also if fd < 0) */
static inline void tfd_at(int fd, int n)
{
	if (fd < 0 || dup2(fd, n) != n)
		t_die("fd %d: %m", n);
	close(fd);
}

static int tfd_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of /proc/<pid>/fdinfo/<fd> (pid 0: self) that start with `tag`, each cut
 * where `end` starts (every entry must have it), sorted (the kernel lists
 * them in no order of ours), one a line into out.  0 / -1 */
static inline int tfd_info_lines(int pid, int fd, const char *tag, const char *end, char *out,
				 size_t size)
{
	char path[64], buf[8192], *lines[32];
	size_t o = 0, n = 0;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	else
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (t_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	for (char *l = strstr(buf, tag); l && n < 32; l = strstr(l + 1, tag)) {
		char *p = strstr(l, end);
		if (!p)
			return -1;
		*p = 0;
		lines[n++] = l;
		l = p;
	}
	qsort(lines, n, sizeof(*lines), tfd_cmp_str);
	out[0] = 0;
	for (size_t i = 0; i < n; i++) {
		o += snprintf(out + o, size - o, "%s\n", lines[i]);
		if (o >= size)
			return -1;
	}
	return 0;
}

#endif
