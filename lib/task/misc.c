/* SPDX-License-Identifier: MIT */
/*
 * Miscellaneous per-task state:
 *
 *   fs context     cwd and root (path + dev/ino), umask
 *   identity bits  comm, nice, scheduling policy (sched_getattr),
 *                  oom_score_adj
 *   prctl bits     dumpable, parent-death signal, THP disable,
 *                  child subreaper
 *   registrations  rseq area, robust futex list, clear_child_tid
 *                  (main thread)
 *
 * Dump reads what /proc and the outside-callable syscalls give
 * (getpriority, sched_getattr, get_robust_list, PTRACE_GET_RSEQ_CONFIGURATION)
 * and injects prctl(PR_GET_*) for the rest.
 *
 * Restore: .prepare (native, in the child, as root) sets umask, comm,
 * scheduling and oom_score_adj (the rseq area the child inherited from crest
 * is unregistered by mm_swap).  .inject (after the memory is back) registers
 * the task's rseq area again, its robust list and clear_child_tid and sets
 * THP disable and child subreaper.  .inject_late (before creds.c drops
 * root) does chdir + chroot, injected: a chroot in .prepare would break
 * every path the child opens afterwards (mapped files, /proc).  Dumpable and
 * the parent-death signal are reset by the credential switch (creds.c, in
 * inject_late), so misc_restore_dumpable() sets them after it.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/sched.h>
#include "core/task.h"
#include "image/image.h"
#include "util/log.h"
#include "ns/mnt.h"
#include "util/util.h"
#include "misc.h"
#include "misc.pb-c.h"
#include "pstree.pb-c.h"
#include "fs/ghost.h"

#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif
#ifndef PR_THP_DISABLE_EXCEPT_ADVISED
#define PR_THP_DISABLE_EXCEPT_ADVISED (1 << 1)
#endif
#define UCLAMP_MAX_VALUE 1024
/* flags sched_setattr accepts back from what sched_getattr reports */
#define SCHED_RESTORE_FLAGS (SCHED_FLAG_RESET_ON_FORK | SCHED_FLAG_RECLAIM | SCHED_FLAG_DL_OVERRUN)

/* uapi struct sched_attr (linux/sched/types.h clashes with glibc's sched.h) */
struct crest_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
	uint32_t sched_util_min;
	uint32_t sched_util_max;
};
#define CREST_SCHED_ATTR_SIZE_VER1 56

struct rseq_conf {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size;
	uint32_t signature;
	uint32_t flags;
	uint32_t pad;
};

/* ---------------------------------------------------------------- dump */

/* cwd or root of pid: the path as crest sees it must lead to the same dir,
 * or (ghost != NULL) the dir was removed: ghost.c recreates it at restore. */
static int dump_fs_dir(struct dump_ctx *c, struct dump_task *t, const char *what, char **path,
		       uint64_t *dev, uint64_t *ino, protobuf_c_boolean *has_ghost, uint32_t *ghost)
{
	pid_t pid = t->pid;
	char link[64];
	struct stat st, st2;
	int r;

	snprintf(link, sizeof(link), "/proc/%d/%s", pid, what);
	r = readlink_at(AT_FDCWD, link, path);
	if (r < 0)
		return pr_errno(r, "pid %d: %s: cannot read %s", pid, what, link);
	if (stat(link, &st) < 0)
		return pr_errno(-errno, "pid %d: %s (%s): stat", pid, what, *path);
	if (ghost && S_ISDIR(st.st_mode) && ghost_needed(*path, &st)) {
		r = ghost_dump_add(c, t, what, link, *path, ghost);
		if (r < 0)
			return r;
		*has_ghost = true;
		*dev = st.st_dev;
		*ino = st.st_ino;
		return 0;
	}
	if (mnt_dump_stat(c, pid, *path, &st2, false) < 0 || st.st_dev != st2.st_dev || st.st_ino != st2.st_ino) {
		pr_err("pid %d: %s (%s) cannot be reached by its path (deleted, or in another "
		       "mount namespace): not supported; make the process use an existing "
		       "directory before dumping", pid, what, *path);
		return -EOPNOTSUPP;
	}
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

/* prctl(op, scratch) in the task, reading back an int or unsigned long. */
static int dump_prctl_ptr(struct dump_task *t, int op, const char *what, void *out, size_t len)
{
	long ret;
	int r = INJECT(&t->t, &ret, __NR_prctl, op, t->t.scratch);
	if (r < 0)
		return r;
	if (ret < 0)
		return pr_errno((int)ret, "pid %d: %s: prctl in the task", t->pid, what);
	return tracee_read(&t->t, t->t.scratch, out, len);
}

static int dump_prctl_val(struct dump_task *t, int op, const char *what, long *out)
{
	int r = INJECT(&t->t, out, __NR_prctl, op);
	if (r < 0)
		return r;
	if (*out < 0)
		return pr_errno((int)*out, "pid %d: %s: prctl in the task", t->pid, what);
	return 0;
}

static int dump_sched(struct dump_task *t, MiscSched *s, int *nice)
{
	struct crest_sched_attr a;

	errno = 0;
	int n = getpriority(PRIO_PROCESS, t->pid);
	if (n == -1 && errno)
		return pr_errno(-errno, "pid %d: nice: getpriority", t->pid);
	*nice = n;

	memset(&a, 0, sizeof(a));
	if (syscall(SYS_sched_getattr, t->pid, &a, sizeof(a), 0) < 0)
		return pr_errno(-errno, "pid %d: scheduling policy: sched_getattr", t->pid);
	s->policy = a.sched_policy;
	s->flags = a.sched_flags;
	s->nice = a.sched_nice;
	s->priority = a.sched_priority;
	if (a.sched_policy == SCHED_DEADLINE) {
		s->has_runtime = s->has_deadline = s->has_period = true;
		s->runtime = a.sched_runtime;
		s->deadline = a.sched_deadline;
		s->period = a.sched_period;
	}
	if (a.size >= CREST_SCHED_ATTR_SIZE_VER1) {
		s->has_util_min = s->has_util_max = true;
		s->util_min = a.sched_util_min;
		s->util_max = a.sched_util_max;
	}
	return 0;
}

static int misc_dump(struct dump_ctx *c, struct dump_task *t)
{
	TaskMisc m = TASK_MISC__INIT;
	MiscSched s = MISC_SCHED__INIT;
	_cleanup_free_ char *cwd = NULL, *root = NULL, *status = NULL, *comm = NULL, *oom = NULL;
	char name[IMG_NAME_MAX];
	size_t len;
	long val;
	int r, iv;

	r = dump_fs_dir(c, t, "cwd", &cwd, &m.cwd_dev, &m.cwd_ino, &m.has_cwd_ghost, &m.cwd_ghost);
	if (r < 0)
		return r;
	r = dump_fs_dir(c, t, "root", &root, &m.root_dev, &m.root_ino, NULL, NULL);
	if (r < 0)
		return r;
	m.cwd = cwd;
	m.root = root;

	r = proc_read(t->pid, "status", &status, &len);
	if (r < 0)
		return pr_errno(r, "pid %d: umask: cannot read /proc/%d/status", t->pid, t->pid);
	const char *v = proc_status_field(status, "Umask");
	if (!v) {
		pr_err("pid %d: umask: no Umask line in /proc/%d/status", t->pid, t->pid);
		return -EBADMSG;
	}
	m.umask = (uint32_t)strtoul(v, NULL, 8);

	r = proc_read(t->pid, "comm", &comm, &len);
	if (r < 0)
		return pr_errno(r, "pid %d: comm: cannot read /proc/%d/comm", t->pid, t->pid);
	comm[strcspn(comm, "\n")] = 0;
	m.comm = comm;

	m.sched = &s;
	r = dump_sched(t, &s, &m.nice);
	if (r < 0)
		return r;

	r = proc_read(t->pid, "oom_score_adj", &oom, &len);
	if (r < 0)
		return pr_errno(r, "pid %d: oom_score_adj: cannot read /proc/%d/oom_score_adj",
				t->pid, t->pid);
	m.oom_score_adj = atoi(oom);

	r = dump_prctl_val(t, PR_GET_DUMPABLE, "dumpable", &val);
	if (r < 0)
		return r;
	m.dumpable = (uint32_t)val;
	r = dump_prctl_ptr(t, PR_GET_PDEATHSIG, "parent-death signal", &iv, sizeof(iv));
	if (r < 0)
		return r;
	m.pdeath_sig = (uint32_t)iv;
	r = dump_prctl_val(t, PR_GET_THP_DISABLE, "THP disable", &val);
	if (r < 0)
		return r;
	m.thp_disable = (uint32_t)val;
	r = dump_prctl_ptr(t, PR_GET_CHILD_SUBREAPER, "child subreaper", &iv, sizeof(iv));
	if (r < 0)
		return r;
	m.child_subreaper = iv != 0;
	unsigned long tid_addr = 0;
	r = dump_prctl_ptr(t, PR_GET_TID_ADDRESS, "clear_child_tid", &tid_addr, sizeof(tid_addr));
	if (r < 0)
		return r;
	m.clear_child_tid = tid_addr;

	struct rseq_conf rc;
	memset(&rc, 0, sizeof(rc));
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, t->t.pid, sizeof(rc), &rc) < 0)
		return pr_errno(-errno, "pid %d: rseq: PTRACE_GET_RSEQ_CONFIGURATION", t->pid);
	if (rc.rseq_abi_pointer) {
		m.has_rseq_addr = m.has_rseq_len = m.has_rseq_sig = true;
		m.rseq_addr = rc.rseq_abi_pointer;
		m.rseq_len = rc.rseq_abi_size;
		m.rseq_sig = rc.signature;
	}

	void *head = NULL;
	size_t hlen = 0;
	if (syscall(SYS_get_robust_list, t->t.pid, &head, &hlen) < 0)
		return pr_errno(-errno, "pid %d: robust futex list: get_robust_list", t->pid);
	m.robust_list = (uintptr_t)head;
	m.robust_list_len = hlen;

	pr_debug("pid %d: misc: cwd %s root %s umask %03o comm '%s' nice %d policy %u/%u "
		 "oom_score_adj %d dumpable %u pdeath %u thp %u subreaper %d rseq %#" PRIx64
		 "/%u robust %#" PRIx64 " tid_addr %#" PRIx64, t->pid, m.cwd, m.root, m.umask,
		 m.comm, m.nice, s.policy, s.priority, m.oom_score_adj, m.dumpable, m.pdeath_sig,
		 m.thp_disable, m.child_subreaper, m.rseq_addr, m.rseq_len, m.robust_list,
		 m.clear_child_tid);

	snprintf(name, sizeof(name), "misc-%d.img", t->pid);
	return img_write(c->dirfd, name, &m.base);
}

/* ---------------------------------------------------------------- restore */

/* Open a dumped cwd/root by path and check it is still the same dir. */
static int open_fs_dir(pid_t pid, const char *what, const char *path, uint64_t dev, uint64_t ino)
{
	struct stat st;
	_cleanup_close_ int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return pr_errno(-errno, "pid %d: %s (%s): cannot open", pid, what, path);
	if (fstat(fd, &st) < 0)
		return pr_errno(-errno, "pid %d: %s (%s): fstat", pid, what, path);
	if (st.st_dev != dev || st.st_ino != ino) {
		pr_err("pid %d: %s (%s) is not the directory that was dumped (dev/ino "
		       "%#" PRIx64 "/%" PRIu64 ", now %#" PRIx64 "/%" PRIu64 "): was it "
		       "replaced? restore in the same file system state", pid, what, path,
		       dev, ino, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
		return -ESTALE;
	}
	return TAKE_FD(fd);
}

static int misc_load(struct restore_ctx *c, struct restore_task *t)
{
	char name[IMG_NAME_MAX];
	ProtobufCMessage *msg;
	int r;

	snprintf(name, sizeof(name), "misc-%d.img", t->pid);
	r = img_read(c->dirfd, name, &task_misc__descriptor, &msg, false);
	if (r < 0)
		return r;
	TaskMisc *m = (TaskMisc *)msg;
	t->priv[MOD_MISC] = m;

	if (m->dumpable > 2 || m->pdeath_sig >= 65 || m->umask > 0777 ||
	    m->oom_score_adj < -1000 || m->oom_score_adj > 1000 || m->nice < -20 || m->nice > 19) {
		pr_err("pid %d: misc: out-of-range value in %s", t->pid, name);
		return -EBADMSG;
	}
	/* fail before forking anything if the directories are gone (in a
	 * mount namespace of the tree: built later, not checked) */
	int fd;
	if (mnt_restore_foreign(c, t->pid))
		return 0;
	if (m->has_cwd_ghost) {
		/* a removed cwd: ghost.c recreates it before the fork */
		if (!ghost_restore_has(c, m->cwd_ghost)) {
			pr_err("pid %d: misc: removed cwd without its ghost object in %s", t->pid, name);
			return -EBADMSG;
		}
	} else {
		fd = open_fs_dir(t->pid, "cwd", m->cwd, m->cwd_dev, m->cwd_ino);
		if (fd < 0)
			return fd;
		close(fd);
	}
	fd = open_fs_dir(t->pid, "root", m->root, m->root_dev, m->root_ino);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* target: 0 for the calling task (natively, in the child), else its pid
 * (from crest, for a task created by injection: restore_vm.c) */
static int prepare_sched(pid_t pid, pid_t target, const TaskMisc *m)
{
	const MiscSched *s = m->sched;
	bool uclamp = s->has_util_max && s->util_max != 0 &&
		(s->util_min != 0 || s->util_max != UCLAMP_MAX_VALUE);

	if (s->policy != SCHED_OTHER || (s->flags & SCHED_RESTORE_FLAGS) || uclamp) {
		struct crest_sched_attr a;
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.sched_policy = s->policy;
		a.sched_flags = s->flags & SCHED_RESTORE_FLAGS;
		a.sched_nice = s->nice;
		a.sched_priority = s->priority;
		a.sched_runtime = s->runtime;
		a.sched_deadline = s->deadline;
		a.sched_period = s->period;
		if (uclamp) {
			a.sched_flags |= SCHED_FLAG_UTIL_CLAMP_MIN | SCHED_FLAG_UTIL_CLAMP_MAX;
			a.sched_util_min = s->util_min;
			a.sched_util_max = s->util_max;
		}
		if (syscall(SYS_sched_setattr, target, &a, 0) < 0)
			return pr_errno(-errno, "pid %d: scheduling policy %u (priority %u, flags "
					"%#" PRIx64 "): sched_setattr", pid, s->policy, s->priority,
					s->flags);
	}
	if (setpriority(PRIO_PROCESS, (id_t)target, m->nice) < 0)
		return pr_errno(-errno, "pid %d: nice %d: setpriority", pid, m->nice);
	return 0;
}

static int prepare_oom_score_adj(pid_t pid, pid_t target, int want)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	char val[16], path[64];

	if (target)
		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", target);
	else
		snprintf(path, sizeof(path), "/proc/self/oom_score_adj");
	int r = read_file_at(AT_FDCWD, path, &buf, &len);
	if (r < 0)
		return pr_errno(r, "pid %d: oom_score_adj: cannot read it", pid);
	int cur = atoi(buf);
	if (cur == want)
		return 0;
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return pr_errno(-errno, "pid %d: oom_score_adj: cannot open it", pid);
	int n = snprintf(val, sizeof(val), "%d", want);
	r = write_full(fd, val, (size_t)n);
	if (r == -EACCES || r == -EPERM) {
		pr_err("pid %d: oom_score_adj: cannot set %d (crest's is %d): values below the "
		       "minimum inherited by crest's process tree need CAP_SYS_RESOURCE, which "
		       "crest lacks; run crest with CAP_SYS_RESOURCE", pid, want, cur);
		return r;
	}
	if (r < 0)
		return pr_errno(r, "pid %d: oom_score_adj: writing %d", pid, want);
	return 0;
}

/* Its cwd/root/umask are an earlier task's (CLONE_FS between processes,
 * share.c): that task sets them; this one only checks them. */
static bool fs_shared(const struct restore_task *t)
{
	return t->pstree && t->pstree->has_fs_owner;
}

static int misc_prepare(struct restore_ctx *c, struct restore_task *t)
{
	const TaskMisc *m = t->priv[MOD_MISC];
	int r;

	if (!m)
		return 0;

	/* fs info shared with an earlier task (CLONE_FS): set once, by it */
	if (!fs_shared(t))
		umask((mode_t)m->umask);
	/* a removed cwd: natively, from the object ghost.c recreated (the
	 * injected chdir of inject_late cannot reach a nameless directory) */
	if (m->has_cwd_ghost && !fs_shared(t) && fchdir(ghost_fd(c, m->cwd_ghost)) < 0)
		return pr_errno(-errno, "pid %d: cwd (%s): fchdir to the recreated directory", t->pid, m->cwd);

	if (prctl(PR_SET_NAME, m->comm, 0, 0, 0) < 0)
		return pr_errno(-errno, "pid %d: comm '%s': prctl(PR_SET_NAME)", t->pid, m->comm);

	r = prepare_oom_score_adj(t->pid, 0, m->oom_score_adj);
	if (r < 0)
		return r;

	/* last: a low priority or a real-time policy applies from here on */
	return prepare_sched(t->pid, 0, m);
}

/* Injected prctl/syscall with its result checked; logs what failed. */
#define MISC_STEP(t, what, nr, ...) ({                                             \
	long _ret;                                                                 \
	int _r = INJECT(&(t)->t, &_ret, nr, __VA_ARGS__);                          \
	if (_r == 0 && _ret < 0) {                                                 \
		_r = (int)_ret;                                                    \
		pr_err("pid %d: %s failed: %s", (t)->pid, what, strerror(-_r));    \
	}                                                                          \
	_r;                                                                        \
})

static int misc_inject(struct restore_ctx *c, struct restore_task *t)
{
	const TaskMisc *m = t->priv[MOD_MISC];
	int r;

	if (!m)
		return 0;

	if (m->has_rseq_addr && m->rseq_addr) {
		r = MISC_STEP(t, "rseq: registering the area again", __NR_rseq, m->rseq_addr,
			      m->rseq_len, 0, m->rseq_sig);
		if (r < 0)
			return r;
	}
	r = MISC_STEP(t, "robust futex list: set_robust_list", __NR_set_robust_list,
		      m->robust_list, m->robust_list_len);
	if (r < 0)
		return r;
	/* always: the child's is crest's fork-time address */
	r = MISC_STEP(t, "clear_child_tid: set_tid_address", __NR_set_tid_address,
		      m->clear_child_tid);
	if (r < 0)
		return r;
	r = MISC_STEP(t, "THP disable: prctl(PR_SET_THP_DISABLE)", __NR_prctl, PR_SET_THP_DISABLE,
		      m->thp_disable & 1, m->thp_disable & ~1U, 0, 0);
	if (r < 0)
		return r;
	/* set either way: the core may have made it a subreaper for the
	 * restore (a session whose leader exited) */
	r = MISC_STEP(t, "child subreaper: prctl(PR_SET_CHILD_SUBREAPER)", __NR_prctl,
		      PR_SET_CHILD_SUBREAPER, m->child_subreaper ? 1 : 0);
	if (r < 0)
		return r;
	return 0;
}

/* After the injected chdir/chroot: /proc/PID/{cwd,root} against the image. */
static int verify_fs_dir(pid_t pid, const char *what, const char *path, uint64_t dev, uint64_t ino)
{
	char link[64];
	struct stat st;
	snprintf(link, sizeof(link), "/proc/%d/%s", pid, what);
	if (stat(link, &st) < 0)
		return pr_errno(-errno, "pid %d: %s: stat %s", pid, what, link);
	if (st.st_dev != dev || st.st_ino != ino) {
		pr_err("pid %d: %s (%s) is not the directory that was dumped (dev/ino %#" PRIx64
		       "/%" PRIu64 ", now %#" PRIx64 "/%" PRIu64 "): was it replaced? restore in "
		       "the same file system state", pid, what, path, dev, ino,
		       (uint64_t)st.st_dev, (uint64_t)st.st_ino);
		return -ESTALE;
	}
	return 0;
}

/* cwd and root, as late as possible: after the chroot, paths the restore
 * still opens in the child (mapped files, /proc/self) would no longer
 * resolve; and before creds.c drops CAP_SYS_CHROOT.  chdir first: the cwd
 * may lie outside the new root, and chroot leaves the cwd alone. */
static int misc_inject_late(struct restore_ctx *c, struct restore_task *t)
{
	const TaskMisc *m = t->priv[MOD_MISC];
	int r;

	if (!m)
		return 0;
	if (fs_shared(t))
		goto verify;    /* set by the owner of its fs info, finished before it */
	size_t lc = strlen(m->cwd) + 1, lr = strlen(m->root) + 1;
	if (lc + lr > t->t.scratch_size) {
		pr_err("pid %d: cwd/root paths too long for the scratch area", t->pid);
		return -ENAMETOOLONG;
	}
	r = tracee_write(&t->t, t->t.scratch, m->cwd, lc);
	if (r < 0)
		return r;
	r = tracee_write(&t->t, t->t.scratch + lc, m->root, lr);
	if (r < 0)
		return r;
	if (!m->has_cwd_ghost) {   /* else done in misc_prepare */
		r = MISC_STEP(t, "cwd: chdir", __NR_chdir, t->t.scratch);
		if (r < 0)
			return r;
	}
	if (strcmp(m->root, "/")) {
		r = MISC_STEP(t, "root: chroot", __NR_chroot, t->t.scratch + lc);
		if (r < 0)
			return r;
	}
verify:
	if (mnt_restore_foreign(c, t->pid))
		return 0;   /* new mounts (tmpfs): other inode numbers */
	if (m->has_cwd_ghost) {
		struct stat st;
		if (fstat(ghost_fd(c, m->cwd_ghost), &st) < 0)
			return pr_errno(-errno, "pid %d: cwd (%s): fstat of the recreated directory", t->pid,
					m->cwd);
		r = verify_fs_dir(t->pid, "cwd", m->cwd, st.st_dev, st.st_ino);
	} else {
		r = verify_fs_dir(t->pid, "cwd", m->cwd, m->cwd_dev, m->cwd_ino);
	}
	if (r < 0)
		return r;
	return verify_fs_dir(t->pid, "root", m->root, m->root_dev, m->root_ino);
}

/* What .prepare does natively, for a task that never runs crest's code: one
 * sharing another's address space, created by a clone3 injected into its
 * creator (restore_vm.c), stopped; its fs info is its creator's (CLONE_FS).
 * The name is injected, the rest set from crest on its pid. */
int misc_prepare_injected(struct restore_ctx *c, struct restore_task *t)
{
	const TaskMisc *m = t->priv[MOD_MISC];
	char comm[16] = { 0 };
	int r;

	if (!m)
		return 0;
	strncpy(comm, m->comm, sizeof(comm) - 1);
	r = tracee_write(&t->t, t->t.scratch, comm, sizeof(comm));
	if (r == 0)
		r = MISC_STEP(t, "comm: prctl(PR_SET_NAME)", __NR_prctl, PR_SET_NAME, t->t.scratch);
	if (r == 0)
		r = prepare_oom_score_adj(t->pid, t->pid, m->oom_score_adj);
	if (r == 0)
		r = prepare_sched(t->pid, t->pid, m);
	return r;
}

static pid_t parent_of(pid_t pid)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (proc_read(pid, "status", &buf, &len) < 0)
		return -1;
	const char *v = proc_status_field(buf, "PPid");
	return v ? atoi(v) : -1;
}

int misc_restore_dumpable(struct restore_ctx *c, struct restore_task *t)
{
	const TaskMisc *m = t->priv[MOD_MISC];
	long ret;
	int r;

	if (!m)
		return 0;

	if (m->pdeath_sig) {
		if (c->o->detach && parent_of(t->pid) == getpid()) {
			pr_warn("pid %d: parent-death signal %u not restored: the task's parent is "
				"crest, which exits right away with -d; restore without -d to keep it",
				t->pid, m->pdeath_sig);
		} else {
			r = MISC_STEP(t, "parent-death signal: prctl(PR_SET_PDEATHSIG)", __NR_prctl,
				      PR_SET_PDEATHSIG, m->pdeath_sig);
			if (r < 0)
				return r;
		}
	}

	if (m->dumpable <= 1) {
		r = MISC_STEP(t, "dumpable: prctl(PR_SET_DUMPABLE)", __NR_prctl, PR_SET_DUMPABLE,
			      m->dumpable);
		return r < 0 ? r : 0;
	}
	/* 2 (SUID_DUMP_ROOT) cannot be set by prctl; the credential change sets
	 * it from fs.suid_dumpable, as it did originally */
	r = INJECT(&t->t, &ret, __NR_prctl, PR_GET_DUMPABLE);
	if (r < 0)
		return r;
	if (ret != (long)m->dumpable) {
		pr_err("pid %d: dumpable: the task had %u (suid-root), it is %ld after restoring "
		       "its credentials: check the fs.suid_dumpable sysctl", t->pid, m->dumpable, ret);
		return -EINVAL;
	}
	return 0;
}

static void misc_free(struct restore_task *t)
{
	if (t->priv[MOD_MISC]) {
		protobuf_c_message_free_unpacked(t->priv[MOD_MISC], NULL);
		t->priv[MOD_MISC] = NULL;
	}
}

const struct crest_module misc_module = {
	.name = "misc",
	.dump = misc_dump,
	.load = misc_load,
	.prepare = misc_prepare,
	.inject = misc_inject,
	.inject_late = misc_inject_late,
	.free = misc_free,
};
