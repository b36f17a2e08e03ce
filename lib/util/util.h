/* SPDX-License-Identifier: MIT */
/* Small helpers: cleanup attributes, ownership transfer, safe I/O. */
#ifndef CREST_UTIL_H
#define CREST_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PAGE_SIZE_CREST 4096UL
#define PAGE_ALIGN_DOWN(x) ((x) & ~(PAGE_SIZE_CREST - 1))
#define PAGE_ALIGN_UP(x) (((x) + PAGE_SIZE_CREST - 1) & ~(PAGE_SIZE_CREST - 1))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void freep(void *p)
{
	free(*(void **)p);
}
static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Take ownership away from a cleanup variable. */
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -1; _t; })
#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })

/* Full read/write loops; return 0 or -errno (-EIO on short read at EOF). */
int read_full(int fd, void *buf, size_t len);
int write_full(int fd, const void *buf, size_t len);
int pread_full(int fd, void *buf, size_t len, off_t off);
int pwrite_full(int fd, const void *buf, size_t len, off_t off);

/* Read a whole small file (e.g. under /proc) into a NUL-terminated buffer. */
int read_file_at(int dirfd, const char *path, char **out, size_t *len);
/* Read /proc/<pid>/<name> */
int proc_read(pid_t pid, const char *name, char **out, size_t *len);
/* The value after "Name:" of a line of a /proc status buffer, or NULL. */
const char *proc_status_field(const char *buf, const char *name);
/* Append the numbers of a /proc status line (key e.g. "\nNSpid:") to the
 * malloc'd array *out of *n; 0 (also when the line is absent) / -ENOMEM */
int status_ids(const char *status, const char *key, int32_t **out, size_t *n);
/* readlink into a malloc'd string */
int readlink_at(int dirfd, const char *path, char **out);

/* A table of n fds, every one -1; NULL on ENOMEM (not logged). */
int *fd_table_new(size_t n);
/* Close the fds >= 0 of a table of n (NULL: none) and free it. */
void fd_table_free(int *fds, size_t n);

void *xzalloc(size_t n);      /* calloc that logs; NULL on ENOMEM */
char *xstrdup(const char *s);
int xasprintf(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int vm_copy(pid_t pid, void *buf, unsigned long addr, size_t len, bool write);

/* Monotonic time in nanoseconds */
uint64_t now_ns(void);

/* Fault injection: returns true (and logs) when CREST_FAULT names this step. */
bool fault_at(const char *step);

/* Debug switch for the crest-killed tests: CREST_KILL_AT=N makes crest
 * SIGKILL itself at the Nth kill point it passes (every ptrace step of a
 * dump, between its phases). */
void kill_point(const char *what);
/* How many kill points were passed (for the log, when CREST_KILL_AT is set). */
unsigned long kill_points_passed(void);

/* Fault switch for the fault-walk tests: CREST_FAULT_N=N makes the Nth
 * fallible operation fail (every injected syscall, read or write of a
 * task's memory, image read or write, seize, and allocation through
 * xzalloc): true, and logged, for that one. */
bool fault_nth(const char *what);
/* How many fallible operations were passed (for the log, when set). */
unsigned long fault_ops_passed(void);

struct crest_opts;
/* true (and logs once) when the caller asked to cancel (opts->cancel) */
bool cancelled(const struct crest_opts *o);

#endif
