/* SPDX-License-Identifier: MIT */
/*
 * File locks (part of the files module): flock(2), POSIX record locks
 * (F_SETLK), OFD locks (F_OFD_SETLK) and leases (F_SETLEASE), kept in
 * FilesDesc.locks (images/files.proto).
 *
 * Dump: the "lock:" lines of /proc/PID/fdinfo/N.  The kernel shows there
 * the locks set through that very description whose owner is the
 * description (flock, OFD, lease) or the task's fd table (POSIX): so every
 * lock is seen once per description and task, with its kind, type, range.
 * A lease being broken (another process opened the file and waits) is
 * refused: the breaker's wait cannot be carried over.
 *
 * Restore: flock, OFD locks and leases belong to the description: the task
 * that opens it takes them again in .prepare, right after the open (a lease
 * sets the file's owner to the task; fown.c sets the dumped one after).
 * POSIX locks belong to the fd table and die with the first close() of any
 * fd of the file in the process, and the restore still closes such fds
 * after .prepare (its temporary descriptions, the files it opened to map
 * them, pidfd_getfd copies): so they are taken last, by fcntl(F_SETLK)
 * injected into the task in .inject, through its fd of the description.
 * Both happen before the tree runs; a lock that another process holds
 * meanwhile fails the restore, naming the fd, the lock and the holder.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include "files.pb-c.h"
#include "files_priv.h"
#include "locks.h"
#include "util/log.h"
#include "util/util.h"

static const char *lock_kind_name(FilesLockKind k)
{
	switch (k) {
	case FILES_LOCK_KIND__FILES_LOCK_POSIX: return "POSIX lock";
	case FILES_LOCK_KIND__FILES_LOCK_OFD: return "OFD lock";
	case FILES_LOCK_KIND__FILES_LOCK_FLOCK: return "flock() lock";
	case FILES_LOCK_KIND__FILES_LOCK_LEASE: return "lease";
	default: return "lock";
	}
}

/* "POSIX write lock on bytes 10-19" for messages */
static const char *lock_desc(char *buf, size_t n, const FilesLock *l)
{
	const char *type = l->type == F_WRLCK ? "write" : "read";

	if (l->kind == FILES_LOCK_KIND__FILES_LOCK_POSIX || l->kind == FILES_LOCK_KIND__FILES_LOCK_OFD) {
		if (l->end < 0)
			snprintf(buf, n, "%s %s on bytes %" PRIu64 "-EOF", type, lock_kind_name(l->kind),
				 l->start);
		else
			snprintf(buf, n, "%s %s on bytes %" PRIu64 "-%" PRId64, type,
				 lock_kind_name(l->kind), l->start, l->end);
	} else {
		snprintf(buf, n, "%s %s", type, lock_kind_name(l->kind));
	}
	return buf;
}

/* ------------------------------------------------------------------ dump */

void locks_desc_free(FilesDesc *d)
{
	for (size_t i = 0; i < d->n_locks; i++)
		free(d->locks[i]);
	free(d->locks);
	d->locks = NULL;
	d->n_locks = 0;
}

/* One "lock:\t1: POSIX  ADVISORY  WRITE 562 fe:00:123 100 EOF" line. */
static int parse_line(pid_t pid, int fd, const char *link, const char *l, FilesLock *e)
{
	char kind[16], state[16], type[16], start[32], end[32];
	int lpid;

	if (sscanf(l, "%*d: %15s %15s %15s %d %*s %31s %31s", kind, state, type, &lpid, start,
		   end) != 6) {
		pr_err("pid %d: fd %d (%s): cannot parse the lock line \"%s\" of its fdinfo", pid, fd,
		       link, l);
		return -EINVAL;
	}
	files_lock__init(e);
	if (!strcmp(kind, "POSIX"))
		e->kind = FILES_LOCK_KIND__FILES_LOCK_POSIX;
	else if (!strcmp(kind, "OFDLCK"))
		e->kind = FILES_LOCK_KIND__FILES_LOCK_OFD;
	else if (!strcmp(kind, "FLOCK"))
		e->kind = FILES_LOCK_KIND__FILES_LOCK_FLOCK;
	else if (!strcmp(kind, "LEASE"))
		e->kind = FILES_LOCK_KIND__FILES_LOCK_LEASE;
	else {
		pr_err("pid %d: fd %d (%s) holds a %s lock (\"%s\"): not supported", pid, fd, link, kind, l);
		return -EOPNOTSUPP;
	}
	if (e->kind == FILES_LOCK_KIND__FILES_LOCK_LEASE && strcmp(state, "ACTIVE")) {
		pr_err("pid %d: fd %d (%s): its lease is being broken (%s: another process opened the "
		       "file and waits for it); try the dump again once the program has given the lease "
		       "up", pid, fd, link, state);
		return -EBUSY;
	}
	if (!strcmp(type, "WRITE"))
		e->type = F_WRLCK;
	else if (!strcmp(type, "READ"))
		e->type = F_RDLCK;
	else {
		pr_err("pid %d: fd %d (%s): a %s of type %s: not supported", pid, fd, link,
		       lock_kind_name(e->kind), type);
		return -EOPNOTSUPP;
	}
	e->has_pid = true;
	e->pid = lpid;
	if (e->kind == FILES_LOCK_KIND__FILES_LOCK_POSIX || e->kind == FILES_LOCK_KIND__FILES_LOCK_OFD) {
		char *x;
		e->has_start = e->has_end = true;
		e->start = strtoull(start, &x, 10);
		if (*x)
			return pr_errno(-EINVAL, "pid %d: fd %d (%s): lock line \"%s\"", pid, fd, link, l);
		if (!strcmp(end, "EOF"))
			e->end = -1;
		else {
			e->end = strtoll(end, &x, 10);
			if (*x || e->end < (int64_t)e->start)
				return pr_errno(-EINVAL, "pid %d: fd %d (%s): lock line \"%s\"", pid, fd, link, l);
		}
	}
	return 0;
}

int locks_dump(pid_t pid, int fd, const char *link, const char *fdinfo, FilesDesc *d)
{
	size_t n = 0;
	const char *p;

	for (p = fdinfo; (p = strstr(p, "\nlock:\t")); p++)
		n++;
	if (!n)
		return 0;
	if (d->kind == FILES_KIND__FILES_PIPE || d->kind == FILES_KIND__FILES_UNIXSK) {
		pr_err("pid %d: fd %d (%s): file locks on a %s are not supported", pid, fd, link,
		       d->kind == FILES_KIND__FILES_PIPE ? "pipe" : "socket");
		return -EOPNOTSUPP;
	}
	d->locks = calloc(n, sizeof(*d->locks));
	if (!d->locks)
		return -ENOMEM;
	for (p = strstr(fdinfo, "\nlock:\t"); p; p = strstr(p, "\nlock:\t")) {
		char line[256], what[96];
		const char *nl;
		FilesLock *e;
		int r;

		p += 7;
		nl = strchr(p, '\n');
		snprintf(line, sizeof(line), "%.*s", (int)(nl ? nl - p : (long)strlen(p)), p);
		p = nl ? nl : p + strlen(p);
		e = malloc(sizeof(*e));
		if (!e)
			return -ENOMEM;
		d->locks[d->n_locks++] = e;
		r = parse_line(pid, fd, link, line, e);
		if (r < 0)
			return r;
		pr_debug("pid %d: fd %d (%s) holds a %s", pid, fd, link, lock_desc(what, sizeof(what), e));
	}
	return 0;
}

/* --------------------------------------------------------------- restore */

bool locks_consistent(const FilesDesc *d)
{
	for (size_t i = 0; i < d->n_locks; i++) {
		const FilesLock *l = d->locks[i];
		if ((unsigned)l->kind > FILES_LOCK_KIND__FILES_LOCK_LEASE ||
		    (l->type != F_RDLCK && l->type != F_WRLCK))
			return false;
		if ((l->kind == FILES_LOCK_KIND__FILES_LOCK_POSIX || l->kind == FILES_LOCK_KIND__FILES_LOCK_OFD) &&
		    (!l->has_start || !l->has_end || l->start > INT64_MAX ||
		     (l->end >= 0 && l->end < (int64_t)l->start) || l->end < -1))
			return false;
	}
	return true;
}

static struct flock lock_flock(const FilesLock *l)
{
	struct flock fl = { .l_type = (short)l->type, .l_whence = SEEK_SET, .l_start = (off_t)l->start,
			    .l_len = l->end < 0 ? 0 : (off_t)(l->end - (int64_t)l->start + 1) };
	return fl;
}

static int taken_failed(pid_t pid, int fd, const FilesDesc *d, const FilesLock *l, int err,
			const char *holder)
{
	char what[96];

	if (err == -EAGAIN || err == -EACCES || err == -EWOULDBLOCK)
		pr_err("pid %d: fd %d (%s): cannot take its %s again: %s holds a conflicting lock "
		       "now (see /proc/locks); stop it, or restore once the lock is free", pid, fd,
		       d->path ? d->path : "?", lock_desc(what, sizeof(what), l), holder);
	else
		pr_errno(err, "pid %d: fd %d (%s): cannot take its %s again", pid, fd,
			 d->path ? d->path : "?", lock_desc(what, sizeof(what), l));
	return err == -EWOULDBLOCK ? -EAGAIN : err;
}

int locks_take_desc(pid_t pid, int fd, const FilesDesc *d, int lfd)
{
	for (size_t i = 0; i < d->n_locks; i++) {
		const FilesLock *l = d->locks[i];
		struct flock fl = lock_flock(l);
		char holder[64] = "another process";
		int r = 0;

		switch (l->kind) {
		case FILES_LOCK_KIND__FILES_LOCK_FLOCK:
			r = flock(lfd, (l->type == F_WRLCK ? LOCK_EX : LOCK_SH) | LOCK_NB);
			break;
		case FILES_LOCK_KIND__FILES_LOCK_OFD:
			r = fcntl(lfd, F_OFD_SETLK, &fl);
			if (r < 0 && (errno == EAGAIN || errno == EACCES)) {
				int e = errno;
				fl = lock_flock(l);
				if (fcntl(lfd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
					snprintf(holder, sizeof(holder), fl.l_pid > 0 ? "pid %d" : "an OFD lock",
						 fl.l_pid);
				errno = e;
			}
			break;
		case FILES_LOCK_KIND__FILES_LOCK_LEASE:
			r = fcntl(lfd, F_SETLEASE, l->type);
			if (r < 0 && errno == EAGAIN)
				snprintf(holder, sizeof(holder), "another opener of the file");
			break;
		default:
			continue;       /* POSIX: locks_inject_posix() */
		}
		if (r < 0)
			return taken_failed(pid, fd, d, l, -errno, holder);
	}
	return 0;
}

int locks_inject_posix(struct restore_task *t, const Files *img, const int *first_fd)
{
	for (size_t i = 0; i < img->n_descs; i++) {
		const FilesDesc *d = img->descs[i];
		int fd = first_fd[i];

		if (fd < 0)
			continue;
		for (size_t k = 0; k < d->n_locks; k++) {
			const FilesLock *l = d->locks[k];
			struct flock fl = lock_flock(l);
			char holder[64] = "another process";
			long ret, ret2;
			int r;

			if (l->kind != FILES_LOCK_KIND__FILES_LOCK_POSIX)
				continue;
			r = tracee_write(&t->t, t->t.scratch, &fl, sizeof(fl));
			if (r == 0)
				r = INJECT(&t->t, &ret, __NR_fcntl, fd, F_SETLK, t->t.scratch);
			if (r < 0)
				return r;
			if (ret == 0)
				continue;
			/* who holds it? */
			if (INJECT(&t->t, &ret2, __NR_fcntl, fd, F_GETLK, t->t.scratch) == 0 && ret2 == 0 &&
			    tracee_read(&t->t, t->t.scratch, &fl, sizeof(fl)) == 0 && fl.l_type != F_UNLCK)
				snprintf(holder, sizeof(holder), "pid %d", fl.l_pid);
			return taken_failed(t->pid, fd, d, l, (int)ret, holder);
		}
	}
	return 0;
}
