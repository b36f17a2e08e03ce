/* SPDX-License-Identifier: MIT */
/*
 * Process tree, dump side: find every descendant of the root through
 * /proc/PID/task/TID/children, seize each with ptrace as it is found, and
 * rescan until a pass finds nothing new: a task that forked while crest was
 * seizing its parent is caught, and once every task is stopped nothing can
 * fork any more.  Zombies are recorded, not seized.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/nsfs.h>
#include <linux/kcmp.h>
#include <sys/syscall.h>
#include "image/image.h"
#include "util/log.h"
#include "ns/pidns.h"
#include "pstree.h"
#include "share.h"
#include "util/util.h"

static struct dump_task *find_dumped(struct dump_ctx *c, pid_t pid)
{
	for (size_t i = 0; i < c->nr_tasks; i++)
		if (c->tasks[i]->pid == pid)
			return c->tasks[i];
	return NULL;
}

void dump_task_free(struct dump_task *t)
{
	if (!t)
		return;
	tracee_close(&t->t);
	if (t->pidfd >= 0)
		close(t->pidfd);
	for (int i = 0; i < MOD_MAX; i++)
		free(t->priv[i]);
	for (size_t i = 0; i < t->nr_threads; i++)
		tracee_close(&t->threads[i].t);
	free(t->threads);
	free(t->nspid);
	free(t);
}

static bool has_thread(struct dump_task *t, pid_t tid)
{
	if (tid == t->pid)
		return true;
	for (size_t i = 0; i < t->nr_threads; i++)
		if (t->threads[i].tid == tid)
			return true;
	return false;
}

/* How long a dump waits for a vfork child to exec before it gives up. */
#define VFORK_WAIT_MS 2000

/* The state letter of thread tid of pid ('?' if unreadable). */
static char thread_state(pid_t pid, pid_t tid)
{
	_cleanup_free_ char *buf = NULL;
	char name[64], *p;

	snprintf(name, sizeof(name), "task/%d/stat", tid);
	if (proc_read(pid, name, &buf, NULL) < 0 || !(p = strrchr(buf, ')')) || !p[1])
		return '?';
	return p[2];
}

/* A child of thread tid that shares its address space: a vfork child that
 * has not exec'd yet (0: none). */
static pid_t vfork_child(pid_t pid, pid_t tid)
{
	_cleanup_free_ char *kids = NULL;
	char name[64];

	snprintf(name, sizeof(name), "task/%d/children", tid);
	if (proc_read(pid, name, &kids, NULL) < 0)
		return 0;
	for (char *p = kids; *p;) {
		char *e;
		long k = strtol(p, &e, 10);
		if (e == p)
			break;
		p = e;
		if (syscall(SYS_kcmp, pid, (pid_t)k, KCMP_VM, 0, 0) == 0)
			return (pid_t)k;
	}
	return 0;
}

/* A thread blocked in vfork() sleeps until its child execs or exits, and no
 * ptrace request stops it meanwhile: seizing it would hang.  Wait a bounded
 * time for the exec (a shell's vfork+exec takes microseconds), then refuse
 * before anything is seized. */
static int wait_vfork(pid_t pid, pid_t tid)
{
	uint64_t deadline = now_ns() + VFORK_WAIT_MS * 1000000ull;
	pid_t child = 0;
	char who[48];

	if (tid == pid)
		snprintf(who, sizeof(who), "pid %d", pid);
	else
		snprintf(who, sizeof(who), "pid %d (thread %d)", pid, tid);
	for (;;) {
		pid_t ch;
		if (thread_state(pid, tid) != 'D' || !(ch = vfork_child(pid, tid))) {
			if (child)
				pr_info("%s: its vfork child %d has exec'd or exited", who, child);
			return 0;
		}
		if (!child)
			pr_info("%s waits in vfork() for its child %d to exec: waiting up to %d ms", who, ch,
				VFORK_WAIT_MS);
		child = ch;
		if (now_ns() > deadline)
			break;
		usleep(5000);
	}
	pr_err("pid %d is a vfork child that has not exec'd yet; %s waits for it in vfork() (for "
	       "%d ms now) and cannot be stopped until it has: try again when pid %d has exec'd or "
	       "exited", child, who, VFORK_WAIT_MS, child);
	return -EBUSY;
}

/* Seize every thread of a process, rescanning until no new one shows up. */
static int seize_threads(struct dump_task *t)
{
	char path[64];
	bool added;
	int pass = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", t->pid);
	do {
		DIR *d = opendir(path);
		struct dirent *de;
		int r = 0;

		if (!d)
			return pr_errno(-errno, "pid %d: cannot list its threads", t->pid);
		added = false;
		while ((de = readdir(d)) && r == 0) {
			char *e;
			long tid = strtol(de->d_name, &e, 10);
			struct dump_thread *n;
			if (*e || tid <= 0 || has_thread(t, tid))
				continue;
			n = realloc(t->threads, (t->nr_threads + 1) * sizeof(*n));
			if (!n) {
				r = -ENOMEM;
				break;
			}
			t->threads = n;
			n = &t->threads[t->nr_threads];
			memset(n, 0, sizeof(*n));
			n->tid = tid;
			n->t.mem_fd = -1;
			r = wait_vfork(t->pid, (pid_t)tid);
			if (r == 0)
				r = tracee_seize(&n->t, tid);
			if (r == -ESRCH)
				r = 0;   /* exited meanwhile */
			else if (r == 0) {
				n->seized = true;
				t->nr_threads++;
				added = true;
			}
		}
		closedir(d);
		if (r < 0)
			return r;
		if (++pass > 100) {
			pr_err("pid %d: keeps creating threads while crest freezes it", t->pid);
			return -EAGAIN;
		}
	} while (added);
	return 0;
}

static int read_stat(struct dump_task *t, char *state)
{
	_cleanup_free_ char *buf = NULL;
	unsigned long long f[60] = { 0 };
	char *p;
	int r = proc_read(t->pid, "stat", &buf, NULL), i;

	if (r < 0)
		return r;
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	p += 2;
	*state = *p++;
	for (i = 4; i < 60 && *p; i++) {
		while (*p == ' ')
			p++;
		f[i] = strtoll(p, &p, 10);
	}
	t->ppid = (int)f[4];
	t->pgid = (int)f[5];
	t->sid = (int)f[6];
	t->exit_code = (int)f[52];
	return 0;
}

static int ns_ino(pid_t pid, const char *name, uint64_t *ino)
{
	char path[64];
	struct stat st;
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, name);
	if (stat(path, &st) < 0)
		return -errno;
	*ino = st.st_ino;
	return 0;
}

static int read_nspid(struct dump_task *t, long *threads)
{
	_cleanup_free_ char *status = NULL;
	char *p;
	int r = proc_read(t->pid, "status", &status, NULL);

	if (r < 0)
		return r;
	p = strstr(status, "\nThreads:");
	*threads = p ? strtol(p + 9, NULL, 10) : 1;
	p = strstr(status, "\nNSpid:");
	if (!p)
		return -EINVAL;
	p += 7;
	while (*p && *p != '\n') {
		char *e;
		long v = strtol(p, &e, 10);
		if (e == p)
			break;
		int *n = realloc(t->nspid, (t->n_nspid + 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		t->nspid = n;
		t->nspid[t->n_nspid++] = (int)v;
		p = e;
	}
	return 0;
}

static bool access_proc(pid_t pid)
{
	char path[32];
	snprintf(path, sizeof(path), "/proc/%d", pid);
	return access(path, F_OK) == 0;
}

static int add_task(struct dump_ctx *c, pid_t pid, struct dump_task *parent)
{
	struct dump_task *t = xzalloc(sizeof(*t)), **n;
	long threads = 1;
	char state;
	int r;

	if (!t)
		return -ENOMEM;
	t->pid = pid;
	t->pidfd = -1;
	t->t.mem_fd = -1;
	t->parent = parent;
	n = realloc(c->tasks, (c->nr_tasks + 1) * sizeof(*n));
	if (!n) {
		free(t);
		return -ENOMEM;
	}
	c->tasks = n;
	c->tasks[c->nr_tasks++] = t;

	r = read_stat(t, &state);
	if (r == 0)
		r = read_nspid(t, &threads);
	if (r == 0)
		r = ns_ino(pid, "pid", &t->pidns_ino);
	if (r == 0) {
		int rc = ns_ino(pid, "pid_for_children", &t->pidns_children_ino);
		/* ENOENT: it called unshare(CLONE_NEWPID) and has not forked
		 * yet (the new namespace has no init): a namespace of its own */
		if (rc == -ENOENT)
			t->pidns_children_ino = (uint64_t)-(long)pid;
		else if (rc < 0)
			t->pidns_children_ino = t->pidns_ino;
	}
	if (r < 0) {
		if (r == -ENOENT)
			pr_err("pid %d: no such process", pid);
		else
			pr_errno(r, "pid %d: cannot read its /proc entries", pid);
		return r == -ENOENT ? -ESRCH : r;
	}
	if ((state == 'Z' || state == 'X') && threads > 1) {
		pr_err("pid %d: its main thread has exited (pthread_exit) while %ld other threads run "
		       "on: such a process cannot be dumped yet", pid, threads - 1);
		return -ENOTSUP;
	}
	if (state == 'Z' || state == 'X') {
		if (!parent) {
			pr_err("pid %d is a zombie: nothing left to dump (its parent has to reap it)", pid);
			return -ESRCH;
		}
		t->zombie = true;
		return 0;
	}
	if (pid == getpid()) {
		pr_err("pid %d is crest itself", pid);
		return -EINVAL;
	}
	r = wait_vfork(pid, pid);
	if (r < 0)
		return r;
	r = tracee_seize(&t->t, pid);
	if (r == -ESRCH && parent) {
		/* It exited while crest stopped it: its parent is stopped, so it
		 * stays as a zombie (or is gone, if its parent ignores SIGCHLD). */
		if (read_stat(t, &state) == 0 && (state == 'Z' || state == 'X')) {
			pr_debug("pid %d exited while crest stopped it: dumped as a zombie", pid);
			t->zombie = true;
			return 0;
		}
		if (access_proc(pid)) {
			pr_err("pid %d: cannot seize it: it exited and is still there", pid);
			return -ESRCH;
		}
		pr_debug("pid %d exited and was reaped while crest stopped it", pid);
		c->nr_tasks--;
		dump_task_free(t);
		return 0;
	}
	if (r == -ESRCH)
		pr_err("pid %d: no such process (it exited)", pid);
	if (r < 0)
		return r;
	t->seized = true;
	t->stop_sig = t->t.group_stop;
	(void)threads;
	r = seize_threads(t);
	if (r < 0)
		return r;
	/* ppid/pgid/sid again, now that it cannot change them */
	return read_stat(t, &state);
}

/* Children of every thread of a task, appended to the tree. */
static int scan_children(struct dump_ctx *c, struct dump_task *t, bool *added)
{
	char path[64];
	_cleanup_close_ int dfd = -1;
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (t->zombie)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task", t->pid);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || !(d = fdopendir(dfd)))
		return pr_errno(-errno, "pid %d: cannot list its threads", t->pid);
	dfd = -1;
	while ((de = readdir(d)) && r == 0) {
		_cleanup_free_ char *kids = NULL;
		char name[300];
		if (de->d_name[0] == '.')
			continue;
		snprintf(name, sizeof(name), "task/%s/children", de->d_name);
		if (proc_read(t->pid, name, &kids, NULL) < 0)
			continue;
		for (char *p = kids; *p && r == 0;) {
			char *e;
			long k = strtol(p, &e, 10);
			if (e == p)
				break;
			p = e;
			if (!find_dumped(c, k)) {
				r = add_task(c, k, t);
				*added = true;
			}
		}
	}
	closedir(d);
	return r;
}

int pstree_freeze(struct dump_ctx *c, pid_t root)
{
	bool added;
	int r, pass = 0;

	r = add_task(c, root, NULL);
	if (r < 0)
		return r;
	do {
		added = false;
		for (size_t i = 0; i < c->nr_tasks; i++) {
			r = scan_children(c, c->tasks[i], &added);
			if (r < 0)
				return r;
		}
		if (++pass > 100) {
			pr_err("pid %d: the tree keeps changing while crest freezes it", root);
			return -EAGAIN;
		}
	} while (added);
	pr_info("pid %d: %zu processes frozen (%d scans)", root, c->nr_tasks, pass);
	return 0;
}

/* Every task of a pid namespace whose init is in the tree must be in the
 * tree too: scan /proc for members of those namespaces. */
static int check_foreign(struct dump_ctx *c)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int r = 0;

	if (!d)
		return pr_errno(-errno, "cannot list /proc");
	while ((de = readdir(d)) && r == 0) {
		char *e;
		long pid = strtol(de->d_name, &e, 10);
		uint64_t ino;
		if (*e || pid <= 0 || find_dumped(c, pid))
			continue;
		if (ns_ino(pid, "pid", &ino) < 0)
			continue;
		for (size_t i = 0; i < c->nr_tasks; i++) {
			struct dump_task *t = c->tasks[i];
			bool init = t->n_nspid > 1 && t->nspid[t->n_nspid - 1] == 1;
			if (!init || t->pidns_ino != ino)
				continue;
			_cleanup_free_ char *stat = NULL;
			int ppid = 0;
			if (proc_read(pid, "stat", &stat, NULL) == 0) {
				char *p = strrchr(stat, ')');
				if (p)
					sscanf(p + 2, "%*c %d", &ppid);
			}
			pr_err("pid %ld lives in the pid namespace of pid %d (its init, in the dump) but is "
			       "not a descendant of the dumped tree (its parent is %d: it entered the "
			       "namespace from outside, e.g. with setns): it would be lost; refusing",
			       pid, t->pid, ppid);
			r = -EPERM;
			break;
		}
	}
	closedir(d);
	return r;
}

static int kcmp_pids(pid_t a, pid_t b, int type)
{
	return (int)syscall(SYS_kcmp, a, b, type, 0, 0);
}

struct kcmp_ref {
	pid_t pid;
	int idx;                /* in tree order */
};

struct kcmp_sort {
	int type;
	int err;                /* errno of a failed kcmp */
};

/* kcmp orders the kernel objects (0 equal, 1 less, 2 greater): sort the
 * tasks by the object, tree order among equals. */
static int kcmp_cmp(const void *a, const void *b, void *arg)
{
	const struct kcmp_ref *x = a, *y = b;
	struct kcmp_sort *ks = arg;
	int r = x->pid == y->pid ? 0 : kcmp_pids(x->pid, y->pid, ks->type);

	if (r < 0 || r > 2) {
		if (!ks->err)
			ks->err = r < 0 ? errno : EINVAL;
		r = 0;
	}
	if (r == 0)
		return x->idx - y->idx;
	return r == 1 ? -1 : 1;
}

/* Resources that threads share, shared by two processes (an fd table, fs
 * info, an address space, signal handlers): grouped (share.c) and recreated
 * shared if a creation order gives them back. */
static int find_sharing(struct dump_ctx *c)
{
	static const int kcmp_type[SHARE_KINDS] = { [SHARE_FILES] = KCMP_FILES, [SHARE_FS] = KCMP_FS,
		[SHARE_VM] = KCMP_VM, [SHARE_SIGHAND] = KCMP_SIGHAND };
	_cleanup_free_ struct share_node *n = calloc(c->nr_tasks + 1, sizeof(*n));
	_cleanup_free_ struct share_plan *plan = calloc(c->nr_tasks + 1, sizeof(*plan));
	_cleanup_free_ struct kcmp_ref *refs = calloc(c->nr_tasks + 1, sizeof(*refs));
	struct dump_task *root = c->tasks[0];
	size_t nr = 0;

	if (!n || !plan || !refs)
		return -ENOMEM;
	/* the root's parent is outside the tree: what it shares with the root
	 * would be split by a dump of the tree */
	if (root->ppid > 0) {
		static const struct { int type; const char *what; } all[] = {
			{ KCMP_VM, "address space (CLONE_VM, e.g. a vfork child before exec)" },
			{ KCMP_FILES, "fd table (CLONE_FILES)" },
			{ KCMP_FS, "cwd/root/umask (CLONE_FS)" },
			{ KCMP_SIGHAND, "signal handlers (CLONE_SIGHAND)" },
		};
		for (size_t k = 0; k < ARRAY_SIZE(all); k++)
			if (kcmp_pids(root->pid, root->ppid, all[k].type) == 0) {
				pr_err("pid %d shares its %s with its parent %d, which is outside the dumped "
				       "tree: the sharing would be lost; dump from pid %d instead", root->pid,
				       all[k].what, root->ppid, root->ppid);
				return -ENOTSUP;
			}
	}
	for (size_t i = 0; i < c->nr_tasks; i++) {
		struct dump_task *t = c->tasks[i];

		n[i] = (struct share_node){ .pid = t->pid, .ppid = t->parent ? t->parent->pid : 0,
			.sid = t->sid, .pgid = t->pgid, .pidns = t->pidns_ino,
			.pidns_children = t->pidns_children_ino,
			.ns_init = t->n_nspid > 1 && t->nspid[t->n_nspid - 1] == 1, .zombie = t->zombie };
		for (int k = 0; k < SHARE_KINDS; k++)
			n[i].owner[k] = t->pid;
		if (!t->zombie)
			refs[nr++] = (struct kcmp_ref){ t->pid, (int)i };
	}
	/* per kind: sort by object; a run of equal objects is a group, owned by
	 * its first task in tree order (n log n kcmp calls, not n^2) */
	for (int k = 0; k < SHARE_KINDS; k++) {
		struct kcmp_sort ks = { kcmp_type[k], 0 };

		qsort_r(refs, nr, sizeof(*refs), kcmp_cmp, &ks);
		if (ks.err)
			return pr_errno(-ks.err, "kcmp(%s) between the processes of the tree failed; crest "
					"needs a kernel with CONFIG_KCMP (see `crest check`)", share_what(k));
		for (size_t a = 0, b; a < nr; a = b) {
			for (b = a + 1; b < nr && kcmp_pids(refs[a].pid, refs[b].pid, kcmp_type[k]) == 0; b++) {
				struct dump_task *t = c->tasks[refs[b].idx];
				pid_t *own[SHARE_KINDS] = { &t->files_owner, &t->fs_owner, &t->vm_owner,
							    &t->sighand_owner };
				n[refs[b].idx].owner[k] = *own[k] = refs[a].pid;
				pr_info("pid %d shares its %s with pid %d", t->pid, share_what(k), refs[a].pid);
			}
		}
	}
	return share_plan(n, c->nr_tasks, plan, NULL);
}

int pstree_check(struct dump_ctx *c)
{
	struct dump_task *root = c->tasks[0];
	int r;

	for (size_t i = 0; i < c->nr_tasks; i++) {
		struct dump_task *t = c->tasks[i];
		struct dump_task *p = t->parent;
		if (!p)
			continue;   /* at any depth: pidns.c records a namespace outside the tree */
		if (t->n_nspid < root->n_nspid) {
			pr_err("pid %d lives in an ancestor pid namespace of the dumped root %d: refusing",
			       t->pid, root->pid);
			return -EPERM;
		}
		if (t->pidns_ino != p->pidns_ino && t->pidns_ino != p->pidns_children_ino &&
		    !(t->n_nspid == p->n_nspid + 1 && t->nspid[t->n_nspid - 1] == 1)) {
			pr_err("pid %d: its pid namespace is neither its parent's (%d) nor one its parent "
			       "created: not supported", t->pid, p->pid);
			return -ENOTSUP;
		}
		if (t->n_nspid != p->n_nspid && t->n_nspid != p->n_nspid + 1) {
			pr_err("pid %d: pid namespace depth %zu under a parent of depth %zu: not supported",
			       t->pid, t->n_nspid, p->n_nspid);
			return -ENOTSUP;
		}
		if (t->ppid != p->pid) {
			pr_err("pid %d: its parent changed while crest froze the tree", t->pid);
			return -EAGAIN;
		}
	}
	r = find_sharing(c);
	if (r < 0)
		return r;
	return check_foreign(c);
}

int pstree_write(struct dump_ctx *c)
{
	Pstree img = PSTREE__INIT;
	_cleanup_free_ PstreeEntry *ents = calloc(c->nr_tasks + 1, sizeof(*ents));
	_cleanup_free_ PstreeEntry **pents = calloc(c->nr_tasks + 1, sizeof(*pents));
	_cleanup_free_ PstreeThread *ths = calloc(c->nr_tasks + 1, sizeof(*ths));
	_cleanup_free_ PstreeThread **pths = calloc(c->nr_tasks + 1, sizeof(*pths));
	_cleanup_free_ PidNs *ns = calloc(2 * c->nr_tasks + 1, sizeof(*ns));
	_cleanup_free_ PidNs **pns = calloc(2 * c->nr_tasks + 1, sizeof(*pns));
	size_t nns = 0;

	if (!ents || !pents || !ths || !pths || !ns || !pns)
		return -ENOMEM;
	/* namespaces: one id per distinct inode; parents found by level */
	for (size_t i = 0; i < c->nr_tasks; i++) {
		struct dump_task *t = c->tasks[i];
		uint64_t inos[2] = { t->pidns_ino, t->pidns_children_ino };
		for (int k = 0; k < 2; k++) {
			size_t j;
			for (j = 0; j < nns; j++)
				if (ns[j].ino == inos[k])
					break;
			if (j < nns)
				continue;
			pid_ns__init(&ns[nns]);
			ns[nns].id = nns;
			ns[nns].has_ino = true;
			ns[nns].ino = inos[k];
			ns[nns].level = t->n_nspid - 1 + k * (inos[1] != inos[0]);
			pns[nns] = &ns[nns];
			nns++;
		}
	}
	for (size_t j = 0; j < nns; j++) {
		/* parent: a namespace one level up held by a task or its parent */
		for (size_t i = 0; i < c->nr_tasks && !ns[j].has_parent; i++) {
			struct dump_task *t = c->tasks[i];
			uint64_t up = 0;
			if (t->pidns_ino == ns[j].ino && t->parent && t->parent->pidns_ino != t->pidns_ino)
				up = t->parent->pidns_ino;
			else if (t->pidns_children_ino == ns[j].ino && t->pidns_ino != ns[j].ino)
				up = t->pidns_ino;
			if (!up)
				continue;
			for (size_t k = 0; k < nns; k++)
				if (ns[k].ino == up) {
					ns[j].has_parent = true;
					ns[j].parent = k;
				}
		}
	}
	for (size_t i = 0; i < c->nr_tasks; i++) {
		struct dump_task *t = c->tasks[i];
		PstreeEntry *e = &ents[i];
		pstree_entry__init(e);
		e->pid = t->pid;
		e->ppid = t->parent ? t->parent->pid : 0;
		e->pgid = t->pgid;
		e->sid = t->sid;
		e->nspid = t->nspid;
		e->n_nspid = t->n_nspid;
		pstree_thread__init(&ths[i]);
		ths[i].tid = t->pid;
		ths[i].nstid = t->nspid;
		ths[i].n_nstid = t->n_nspid;
		pths[i] = &ths[i];
		e->threads = &pths[i];
		e->n_threads = 1;   /* the main thread; the others are listed in its core image */
		if (t->zombie) {
			e->has_zombie = e->zombie = true;
			e->has_exit_code = true;
			e->exit_code = t->exit_code;
			e->n_threads = 0;
		}
		if (t->stop_sig) {
			e->has_stop_sig = true;
			e->stop_sig = t->stop_sig;
		}
		if (t->files_owner) {
			e->has_files_owner = true;
			e->files_owner = t->files_owner;
		}
		if (t->fs_owner) {
			e->has_fs_owner = true;
			e->fs_owner = t->fs_owner;
		}
		if (t->vm_owner) {
			e->has_vm_owner = true;
			e->vm_owner = t->vm_owner;
		}
		if (t->sighand_owner) {
			e->has_sighand_owner = true;
			e->sighand_owner = t->sighand_owner;
		}
		for (size_t k = 0; k < nns; k++) {
			if (ns[k].ino == t->pidns_ino)
				e->pidns = k;
			if (ns[k].ino == t->pidns_children_ino)
				e->pidns_for_children = k;
		}
		pents[i] = e;
	}
	img.tasks = pents;
	img.n_tasks = c->nr_tasks;
	img.pidns = pns;
	img.n_pidns = nns;
	uint64_t outer[32];
	int r = pidns_dump_outer(c, outer, ARRAY_SIZE(outer), &img.n_outer_pidns);
	if (r < 0)
		return r;
	img.outer_pidns = outer;
	return img_write(c->dirfd, "pstree.img", &img.base);
}

int pstree_read(int dirfd, Pstree **out)
{
	Pstree *p = NULL;
	int r = img_read(dirfd, "pstree.img", &pstree__descriptor, (ProtobufCMessage **)&p, false);

	if (r < 0)
		return r;
	if (!p->n_tasks) {
		pr_err("image pstree.img is corrupt: no tasks");
		protobuf_c_message_free_unpacked(&p->base, NULL);
		return -EBADMSG;
	}
	for (size_t i = 0; i < p->n_tasks; i++) {
		PstreeEntry *e = p->tasks[i];
		bool parent_seen = i == 0;
		for (size_t j = 0; j < i && !parent_seen; j++)
			parent_seen = p->tasks[j]->pid == e->ppid;
		if (!parent_seen || e->n_nspid < 1 || e->pidns >= p->n_pidns ||
		    e->pidns_for_children >= p->n_pidns || e->nspid[0] != e->pid) {
			pr_err("image pstree.img is corrupt: entry %zu (pid %d) is inconsistent", i, e->pid);
			protobuf_c_message_free_unpacked(&p->base, NULL);
			return -EBADMSG;
		}
	}
	*out = p;
	return 0;
}
