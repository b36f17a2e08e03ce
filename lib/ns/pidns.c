/* SPDX-License-Identifier: MIT */
/*
 * Pid namespaces around the dumped tree.
 *
 * crest works with the pids its /proc shows: NSpid lists a task's pid in
 * every namespace from the procfs's down to the task's own, and clone3's
 * set_tid takes them innermost first, down to (at most) crest's level.
 * So crest may run in any pid namespace, the initial one or a container's,
 * as long as /proc belongs to that namespace (pidns_check_proc).
 *
 * The namespaces the tree made (its init is in the dump) are recreated
 * fresh at restore.  The one the root lives in (or, when the root is a
 * namespace's init, the one that namespace was made in) may be neither
 * crest's own nor the tree's: e.g. the root is the init of a container
 * nested in another container, whose other processes stay outside the
 * dump.  Then the dump records that namespace (its inode and its parents'
 * up to crest's own) and the restore finds it again among the live
 * processes' namespaces, setns()es crest's pid_for_children into it and
 * forks the root there with its pids on every level; the tasks below make
 * their own namespaces as before.  If that namespace is gone (no process
 * keeps it), the restore says so: the root's pids in it cannot be had
 * anywhere else.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/nsfs.h>
#include <unistd.h>
#include "util/log.h"
#include "pidns.h"
#include "util/util.h"

/* clone3 takes at most this many pids (the kernel's MAX_PID_NS_LEVEL) */
#define PIDNS_MAX_SET_TID 32

int pidns_check_proc(void)
{
	char buf[32];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);

	if (n > 0)
		buf[n] = 0;
	if (n <= 0 || atoi(buf) != getpid()) {
		pr_err("/proc does not show crest's own pid namespace (/proc/self is '%s', crest is pid %d "
		       "in its namespace): the pids in /proc would not be the ones crest's syscalls "
		       "take; mount a proc of crest's pid namespace (e.g. run crest under "
		       "unshare --pid --fork --mount-proc, or mount -t proc proc /proc in its mount "
		       "namespace)", n > 0 ? buf : "unreadable", getpid());
		return -EINVAL;
	}
	return 0;
}

int pidns_dump_check(struct dump_ctx *c)
{
	for (size_t i = 0; i < c->nr_tasks; i++) {
		struct dump_task *t = c->tasks[i];
		if (t->n_nspid > PIDNS_MAX_SET_TID) {
			pr_err("pid %d has a pid in %zu nested pid namespaces (crest's and %zu below): "
			       "clone3 sets a pid on at most %d levels, so it could not get its pid back on "
			       "every level; dump from a namespace closer to it (crest in a nested "
			       "namespace)", t->pid, t->n_nspid, t->n_nspid - 1, PIDNS_MAX_SET_TID);
			return -ENOTSUP;
		}
	}
	return 0;
}

static int ns_stat(int fd, struct stat *st)
{
	return fstat(fd, st) < 0 ? -errno : 0;
}

int pidns_dump_outer(struct dump_ctx *c, uint64_t *inos, size_t max, size_t *n)
{
	const struct dump_task *root = c->tasks[0];
	bool init = root->n_nspid > 1 && root->nspid[root->n_nspid - 1] == 1;
	size_t level = root->n_nspid - 1 - init;   /* of the namespace to record */
	_cleanup_close_ int fd = -1, own = -1;
	struct stat st, own_st;
	char path[64];
	int r;

	*n = 0;
	if (level == 0)
		return 0;   /* crest's own */
	if (level > max)
		return -E2BIG;
	own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", root->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || own < 0)
		return pr_errno(-errno, "pid %d: cannot open its pid namespace", root->pid);
	if (init) {
		int p = ioctl(fd, NS_GET_PARENT);
		if (p < 0)
			return pr_errno(-errno, "pid %d: the parent of its pid namespace (NS_GET_PARENT)",
					root->pid);
		close(fd);
		fd = p;
	}
	for (size_t k = 0; k < level; k++) {
		r = ns_stat(fd, &st);
		if (r < 0)
			return pr_errno(r, "pid %d: fstat of a pid namespace", root->pid);
		inos[(*n)++] = st.st_ino;
		int p = ioctl(fd, NS_GET_PARENT);
		if (p < 0)
			return pr_errno(-errno, "pid %d: the parent of a pid namespace (NS_GET_PARENT)",
					root->pid);
		close(fd);
		fd = p;
	}
	/* and then crest's own */
	if (ns_stat(fd, &st) < 0 || ns_stat(own, &own_st) < 0 || st.st_ino != own_st.st_ino) {
		pr_err("pid %d: its pid namespaces do not lead up to crest's own", root->pid);
		return -EINVAL;
	}
	pr_info("pid %d: lives in a pid namespace outside the tree (inode %" PRIu64 ", %zu level%s "
		"below crest's): the restore forks it there again", root->pid, inos[0], level,
		level > 1 ? "s" : "");
	return 0;
}

/* fd of the live pid namespace with inode inos[0] whose parents are
 * inos[1..n-1] and then crest's own; -ENOENT if there is none. */
static int find_ns(const uint64_t *inos, size_t n)
{
	struct stat own;
	DIR *d;
	struct dirent *de;
	int found = -ENOENT;

	if (stat("/proc/self/ns/pid", &own) < 0)
		return -errno;
	d = opendir("/proc");
	if (!d)
		return -errno;
	while (found < 0 && (de = readdir(d))) {
		char path[300], *e;
		struct stat st;
		long pid = strtol(de->d_name, &e, 10);
		if (*e || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/ns/pid", pid);
		if (stat(path, &st) < 0 || st.st_ino != inos[0] || st.st_dev != own.st_dev)
			continue;
		int fd = open(path, O_RDONLY | O_CLOEXEC), cur = fd;
		bool ok = fd >= 0;
		for (size_t k = 1; k <= n && ok; k++) {
			int p = ioctl(cur, NS_GET_PARENT);
			ok = p >= 0 && fstat(p, &st) == 0 && st.st_ino == (k < n ? inos[k] : own.st_ino);
			if (cur != fd)
				close(cur);
			cur = p;
		}
		if (cur >= 0 && cur != fd)
			close(cur);
		if (ok)
			found = fd;
		else if (fd >= 0)
			close(fd);
	}
	closedir(d);
	return found;
}

/* Make crest's next child land in the root's outer namespace again (setns
 * on pid_for_children).  *saved: crest's own namespace to go back to with
 * leave_outer, or -1 when nothing was joined.  Fds at or above floor. */
static int join_outer(const Pstree *tree, int floor, int *saved)
{
	const PstreeEntry *root = tree->tasks[0];
	size_t level = tree->n_outer_pidns;
	bool init = root->n_nspid > 1 && root->nspid[root->n_nspid - 1] == 1;
	_cleanup_close_ int fd = -1;

	*saved = -1;
	if (!level) {
		if (root->n_nspid > 1 + (size_t)init) {
			pr_err("image pstree.img is corrupt: root %d is %zu pid namespaces deep, but no "
			       "outer namespace is recorded", root->pid, root->n_nspid - 1);
			return -EBADMSG;
		}
		return 0;
	}
	if (root->n_nspid != level + 1 + init) {
		pr_err("image pstree.img is corrupt: root %d has %zu pid levels, its outer pid namespace "
		       "is %zu deep", root->pid, root->n_nspid, level);
		return -EBADMSG;
	}
	fd = find_ns(tree->outer_pidns, level);
	if (fd < 0) {
		pr_err("pid %d was %s a pid namespace outside the dump (inode %" PRIu64 ", %zu level%s "
		       "below crest's) that no longer exists or is not below crest's own pid namespace: "
		       "the root's pids %s cannot be given back elsewhere; restore while a process of "
		       "that namespace lives, from crest's namespace at dump time", root->pid,
		       init ? "the init of a namespace made in" : "in", tree->outer_pidns[0], level,
		       level > 1 ? "s" : "", init ? "in it" : "there");
		return fd == -ENOENT ? -ESRCH : fd;
	}
	int own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (own < 0)
		return pr_errno(-errno, "cannot open crest's own pid namespace");
	*saved = fcntl(own, F_DUPFD_CLOEXEC, floor);
	close(own);
	if (*saved < 0)
		return pr_errno(-errno, "cannot move an fd above %d", floor);
	if (setns(fd, CLONE_NEWPID) < 0) {
		int r = pr_errno(-errno, "pid %d: cannot enter the pid namespace it lived in (inode %"
				 PRIu64 ")", root->pid, tree->outer_pidns[0]);
		close(*saved);
		*saved = -1;
		return r;
	}
	pr_info("pid %d: forked in its outer pid namespace (inode %" PRIu64 ") again", root->pid,
		tree->outer_pidns[0]);
	return 0;
}

static int leave_outer(int *saved)
{
	int r = 0;

	if (*saved < 0)
		return 0;
	if (setns(*saved, CLONE_NEWPID) < 0)
		r = pr_errno(-errno, "cannot go back to crest's own pid namespace");
	close(*saved);
	*saved = -1;
	return r;
}

pid_t pidns_clone_root(const Pstree *tree, int floor, int wait_ms, pidns_fork_root_fn fork_fn,
			 void *arg)
{
	const PstreeEntry *re = tree->tasks[0];
	uint64_t flags = 0;
	int ownns = -1, st;
	pid_t pid, helper;
	int r;

	if (re->n_nspid > 1 && re->nspid[re->n_nspid - 1] == 1)
		flags |= CLONE_NEWPID;   /* the root is the init of its own namespace */
	r = join_outer(tree, floor, &ownns);
	if (r < 0)
		return r;
	if (ownns < 0 || !(flags & CLONE_NEWPID)) {
		pid = fork_fn(arg, flags, wait_ms, ownns);
		goto out;
	}
	/* The kernel refuses CLONE_NEWPID while pid_for_children is not the
	 * caller's own namespace: a helper that lives in the joined namespace
	 * makes the root, as crest's child (CLONE_PARENT), and exits. */
	fflush(NULL);
	helper = fork();
	if (helper < 0) {
		pid = pr_errno(-errno, "pid %d: fork of a helper in its outer pid namespace", re->pid);
		goto out;
	}
	if (helper == 0) {
		close(ownns);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pid = fork_fn(arg, flags | CLONE_PARENT, wait_ms, -1);
		_exit(pid < 0 ? (-pid & 0xff) : 0);
	}
	while ((r = waitpid(helper, &st, 0)) < 0 && errno == EINTR)
		;
	if (r < 0)
		pid = pr_errno(-errno, "pid %d: waiting for the helper in its outer pid namespace", re->pid);
	else if (!WIFEXITED(st) || WEXITSTATUS(st))
		pid = WIFEXITED(st) ? -WEXITSTATUS(st) : -ECHILD;   /* (the helper said why) */
	else
		pid = re->pid;   /* crest's child, pid in crest's namespace */
out:
	if (leave_outer(&ownns) < 0 && pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
			;
		return -EIO;
	}
	return pid;
}
