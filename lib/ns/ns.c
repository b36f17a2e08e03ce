/* SPDX-License-Identifier: MIT */
/*
 * The namespaces of the tree other than pid namespaces: which task is in
 * which, checked and recorded at dump, made fresh in holder processes and
 * entered by every task at restore.  The kinds' own state: uts.c, ipc.c,
 * net.c, time.c (and the mount namespaces' seam: ns.h).
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "image/image.h"
#include "util/log.h"
#include "util/util.h"
#include "ns.h"

static const struct {
	const char *name;
	int flag;
	const struct ns_kind_ops *ops;
	const char *what;   /* for messages */
} kinds[NSK_MAX] = {
	[NSK_MNT] = { "mnt", CLONE_NEWNS, &mnt_ns_ops, "mount" },
	[NSK_UTS] = { "uts", CLONE_NEWUTS, &uts_ns_ops, "uts" },
	[NSK_IPC] = { "ipc", CLONE_NEWIPC, &ipc_ns_ops, "ipc" },
	[NSK_NET] = { "net", CLONE_NEWNET, &net_ns_ops, "net" },
	[NSK_CGROUP] = { "cgroup", CLONE_NEWCGROUP, &cgroup_ns_ops, "cgroup" },
	[NSK_TIME] = { "time", CLONE_NEWTIME, &time_ns_ops, "time" },
};

const char *ns_kind_name(enum ns_kind k)
{
	return k < NSK_MAX ? kinds[k].name : "?";
}

static int ns_ino(const char *path, uint64_t *ino)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	*ino = st.st_ino;
	return 0;
}

/* ------------------------------------------------------------------ dump */

struct ns_dump {
	struct ns_dump_one *ns;
	size_t nr;
	int (*task_ns)[NSK_MAX];   /* per task of c->tasks: index in ns, or -1 (crest's) */
	uint64_t own[NSK_MAX];
};

static struct ns_dump *dump_state(struct dump_ctx *c)
{
	return c->mod[MOD_NS];
}

const struct ns_dump_one *ns_dump_task_ns(struct dump_ctx *c, pid_t pid, enum ns_kind k)
{
	struct ns_dump *d = dump_state(c);

	if (!d || k >= NSK_MAX)
		return NULL;
	for (size_t i = 0; i < c->nr_tasks; i++)
		if (c->tasks[i]->pid == pid)
			return d->task_ns[i][k] < 0 ? NULL : &d->ns[d->task_ns[i][k]];
	return NULL;
}

static int add_ns(struct ns_dump *d, enum ns_kind k, uint64_t ino, pid_t pid)
{
	struct ns_dump_one *n;

	for (size_t i = 0; i < d->nr; i++)
		if (d->ns[i].kind == k && d->ns[i].ino == ino)
			return (int)i;
	n = realloc(d->ns, (d->nr + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	d->ns = n;
	d->ns[d->nr] = (struct ns_dump_one){ .id = d->nr, .kind = k, .ino = ino, .pid = pid };
	return (int)d->nr++;
}

static int task_ns_inos(pid_t pid, pid_t tid, uint64_t *inos)
{
	char path[96];

	for (int k = 0; k < NSK_MAX; k++) {
		int r;
		if (tid)
			snprintf(path, sizeof(path), "/proc/%d/task/%d/ns/%s", pid, tid, kinds[k].name);
		else
			snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, kinds[k].name);
		r = ns_ino(path, &inos[k]);
		if (r < 0)
			return pr_errno(r, "pid %d: cannot read its namespaces (%s)", pid, path);
	}
	return 0;
}

/* A process outside the tree in a namespace of the tree would lose it. */
static int check_outsiders(struct dump_ctx *c, struct ns_dump *d)
{
	DIR *dir;
	struct dirent *de;
	int r = 0;
	bool used[NSK_MAX] = { false };

	for (size_t i = 0; i < d->nr; i++)
		used[d->ns[i].kind] = true;
	dir = opendir("/proc");
	if (!dir)
		return pr_errno(-errno, "cannot list /proc");
	while (r == 0 && (de = readdir(dir))) {
		char *e, path[96];
		long pid = strtol(de->d_name, &e, 10);
		bool mine = false;

		if (*e || pid <= 0 || pid == getpid())
			continue;
		for (size_t i = 0; i < c->nr_tasks && !mine; i++)
			mine = c->tasks[i]->pid == pid;
		if (mine)
			continue;
		for (int k = 0; k < NSK_MAX && r == 0; k++) {
			uint64_t ino = 0;
			if (!used[k])
				continue;
			snprintf(path, sizeof(path), "/proc/%ld/ns/%s", pid, kinds[k].name);
			if (ns_ino(path, &ino) < 0)
				continue;
			for (size_t i = 0; i < d->nr; i++) {
				if (d->ns[i].kind != (enum ns_kind)k || d->ns[i].ino != ino)
					continue;
				_cleanup_free_ char *comm = NULL;
				proc_read(pid, "comm", &comm, NULL);
				if (comm && *comm && comm[strlen(comm) - 1] == '\n')
					comm[strlen(comm) - 1] = 0;
				pr_err("pid %ld (%s) is not in the dumped tree but shares the %s namespace "
				       "%" PRIu64 " of pid %d: the dump would take that namespace away from "
				       "it; dump a tree that holds every process of the namespace (their "
				       "common ancestor)", pid, comm ? comm : "?", kinds[k].what, ino,
				       d->ns[i].pid);
				r = -EBUSY;
				break;
			}
		}
	}
	closedir(dir);
	return r;
}

int ns_dump_check(struct dump_ctx *c)
{
	struct ns_dump *d = xzalloc(sizeof(*d));
	uint64_t own_user = 0, inos[NSK_MAX] = { 0 }, tinos[NSK_MAX] = { 0 };
	int r;

	if (!d)
		return -ENOMEM;
	c->mod[MOD_NS] = d;
	d->task_ns = calloc(c->nr_tasks + 1, sizeof(*d->task_ns));
	if (!d->task_ns)
		return -ENOMEM;
	r = task_ns_inos(getpid(), 0, d->own);
	if (r == 0)
		r = ns_ino("/proc/self/ns/user", &own_user);
	if (r < 0)
		return pr_errno(r, "cannot read crest's own namespaces");
	for (size_t i = 0; i < c->nr_tasks; i++) {
		struct dump_task *t = c->tasks[i];
		char path[64];
		uint64_t ino = 0;

		for (int k = 0; k < NSK_MAX; k++)
			d->task_ns[i][k] = -1;
		if (t->zombie)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/user", t->pid);
		if ((r = ns_ino(path, &ino)) < 0)
			return pr_errno(r, "pid %d: cannot read its user namespace", t->pid);
		if (ino != own_user) {
			pr_err("pid %d is in a user namespace (inode %" PRIu64 ") other than crest's: "
			       "nested user namespaces are not supported yet; dump it from inside that "
			       "user namespace", t->pid, ino);
			return -ENOTSUP;
		}
		r = task_ns_inos(t->pid, 0, inos);
		if (r < 0)
			return r;
		snprintf(path, sizeof(path), "/proc/%d/ns/time_for_children", t->pid);
		if ((r = ns_ino(path, &ino)) < 0)
			return pr_errno(r, "pid %d: cannot read its time namespace for children", t->pid);
		/* unshare --time: the children made since are in the new one and
		 * come back there; later forks of the restored task land in its
		 * own (setns cannot give back one without the other) */
		if (ino != inos[NSK_TIME])
			pr_warn("pid %d: its children's time namespace (inode %" PRIu64 ", after "
				"unshare(CLONE_NEWTIME)) is not its own: its children of the dump come back "
				"in theirs, but what it forks after the restore is in its own", t->pid, ino);
		for (size_t k = 0; k < t->nr_threads; k++) {
			r = task_ns_inos(t->pid, t->threads[k].tid, tinos);
			if (r < 0)
				return r;
			for (int n = 0; n < NSK_MAX; n++)
				if (tinos[n] != inos[n]) {
					pr_err("pid %d: its thread %d is in another %s namespace (inode %" PRIu64
					       ") than the main thread (%" PRIu64 "): not supported",
					       t->pid, t->threads[k].tid, kinds[n].what, tinos[n], inos[n]);
					return -ENOTSUP;
				}
		}
		for (int k = 0; k < NSK_MAX; k++) {
			if (inos[k] == d->own[k])
				continue;
			if (!kinds[k].ops || !kinds[k].ops->dump) {
				pr_err("pid %d is in a %s namespace (inode %" PRIu64 ") other than crest's: "
				       "%s namespaces are not supported yet; run it in crest's %s namespace",
				       t->pid, kinds[k].what, inos[k], kinds[k].what, kinds[k].what);
				return -ENOTSUP;
			}
			r = add_ns(d, k, inos[k], t->pid);
			if (r < 0)
				return r;
			d->task_ns[i][k] = r;
		}
	}
	/* a process sharing another's address space is made by an injected
	 * clone3 in that one (restore_vm.c): it gets its namespaces */
	for (size_t i = 0; i < c->nr_tasks; i++) {
		struct dump_task *t = c->tasks[i];
		if (!t->vm_owner)
			continue;
		for (size_t j = 0; j < c->nr_tasks; j++) {
			if (c->tasks[j]->pid != t->vm_owner)
				continue;
			for (int k = 0; k < NSK_MAX; k++)
				if (d->task_ns[i][k] != d->task_ns[j][k]) {
					pr_err("pid %d shares the address space of pid %d but is in another %s "
					       "namespace: not supported", t->pid, t->vm_owner, kinds[k].what);
					return -ENOTSUP;
				}
		}
	}
	for (size_t i = 0; i < d->nr; i++)
		pr_info("pid %d: in %s namespace %" PRIu64 " (not crest's): recreated at restore",
			d->ns[i].pid, kinds[d->ns[i].kind].what, d->ns[i].ino);
	return d->nr ? check_outsiders(c, d) : 0;
}

/* ns_dump_in / ns_restore_in: a child of crest does the work in the
 * namespace and answers with one frame: status, length, then the result
 * (or the error message, which the child has logged already). */
#define HELPER_TIMEOUT_MS 60000

struct frame {
	int32_t status;
	uint32_t len;
};

static void send_frame(int fd, int status, const void *data, size_t len)
{
	struct frame f = { status, (uint32_t)len };
	if (status < 0) {
		data = crest_last_error();
		f.len = (uint32_t)strlen(data);
	}
	if (write_full(fd, &f, sizeof(f)) == 0 && f.len)
		write_full(fd, data, f.len);
}

/* Read the child's frame; *out gets the payload (malloc'd) or NULL. */
static int recv_frame(int fd, pid_t child, const char *what, uint8_t **out, size_t *len)
{
	struct frame f;
	_cleanup_free_ uint8_t *buf = NULL;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int r;

	/* a helper that hangs (a kind's callback) must not hang crest */
	while ((r = poll(&pfd, 1, HELPER_TIMEOUT_MS)) < 0 && errno == EINTR)
		;
	if (r == 0) {
		pr_err("%s: the helper process did not answer within %d s", what, HELPER_TIMEOUT_MS / 1000);
		return -ETIMEDOUT;
	}
	r = read_full(fd, &f, sizeof(f));
	if (r < 0) {
		pr_err("%s: the helper process died without an answer", what);
		return -ECHILD;
	}
	buf = malloc(f.len + 1);
	if (!buf)
		return -ENOMEM;
	if (f.len && read_full(fd, buf, f.len) < 0) {
		pr_err("%s: the helper process's answer is truncated", what);
		return -EIO;
	}
	buf[f.len] = 0;
	if (f.status < 0) {
		log_note_error((char *)buf);   /* the helper printed it */
		return f.status;
	}
	(void)child;
	if (out) {
		*out = TAKE_PTR(buf);
		*len = f.len;
	}
	return 0;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
}

int ns_dump_in(struct dump_ctx *c, const struct ns_dump_one *ns, ns_in_fn fn, void *arg,
	       uint8_t **out, size_t *len)
{
	char path[64], what[96];
	int p[2], r;
	pid_t pid;

	snprintf(what, sizeof(what), "pid %d: %s namespace %" PRIu64, ns->pid, kinds[ns->kind].what, ns->ino);
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", ns->pid, kinds[ns->kind].name);
	if (pipe2(p, O_CLOEXEC) < 0)
		return pr_errno(-errno, "%s: pipe", what);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return pr_errno(-errno, "%s: fork of a helper", what);
	}
	if (pid == 0) {
		uint8_t *buf = NULL;
		size_t n = 0;
		int fd;

		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, kinds[ns->kind].flag) < 0)
			r = pr_errno(-errno, "%s: cannot enter it to read its state", what);
		else
			r = fn(c, ns, arg, &buf, &n);
		send_frame(p[1], r, buf, n);
		_exit(0);
	}
	close(p[1]);
	r = recv_frame(p[0], pid, what, out, len);
	close(p[0]);
	reap(pid);
	return r;
}

static void dump_free(struct ns_dump *d, Namespace **imgs)
{
	for (size_t i = 0; imgs && i < d->nr; i++) {
		if (!imgs[i])
			continue;
		const struct ns_kind_ops *ops = kinds[imgs[i]->kind].ops;
		if (ops && ops->dump_free)
			ops->dump_free(imgs[i]);
		free(imgs[i]);
	}
	free(imgs);
}

static int ns_dump_fini(struct dump_ctx *c, bool ok)
{
	struct ns_dump *d = dump_state(c);
	Namespaces img = NAMESPACES__INIT;
	Namespace **ns = NULL;
	NsTask *tasks = NULL, **ptasks = NULL;
	uint32_t *ids = NULL;
	char **cgbufs = NULL;
	int r = 0;

	if (!d)
		return 0;
	if (!ok || !d->nr)
		goto out;
	ns = calloc(d->nr, sizeof(*ns));
	tasks = calloc(c->nr_tasks, sizeof(*tasks));
	ptasks = calloc(c->nr_tasks, sizeof(*ptasks));
	ids = calloc(c->nr_tasks * NSK_MAX, sizeof(*ids));
	cgbufs = calloc(c->nr_tasks, sizeof(*cgbufs));
	if (!ns || !tasks || !ptasks || !ids || !cgbufs) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < d->nr; i++) {
		ns[i] = xzalloc(sizeof(**ns));
		if (!ns[i]) {
			r = -ENOMEM;
			goto out;
		}
		namespace__init(ns[i]);
		ns[i]->id = d->ns[i].id;
		ns[i]->kind = (NsKind)d->ns[i].kind;
		ns[i]->ino = d->ns[i].ino;
		ns[i]->pid = d->ns[i].pid;
		d->ns[i].img = ns[i];
		r = kinds[d->ns[i].kind].ops->dump(c, &d->ns[i]);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < c->nr_tasks; i++) {
		NsTask *t = &tasks[img.n_tasks];
		if (c->tasks[i]->zombie)
			continue;
		ns_task__init(t);
		t->pid = c->tasks[i]->pid;
		t->ns = &ids[i * NSK_MAX];
		for (int k = 0; k < NSK_MAX; k++)
			if (d->task_ns[i][k] >= 0)
				t->ns[t->n_ns++] = (uint32_t)d->task_ns[i][k];
		ptasks[img.n_tasks++] = t;
		if (d->task_ns[i][NSK_CGROUP] >= 0) {
			/* its cgroups, joined again before it enters the namespace */
			size_t n = 0;
			char *buf = NULL;
			r = proc_read(t->pid, "cgroup", &buf, NULL);
			if (r < 0) {
				pr_errno(r, "pid %d: reading /proc/%d/cgroup", t->pid, t->pid);
				goto out;
			}
			cgbufs[i] = buf;
			for (char *l = buf; *l; l++)
				n += *l == '\n';
			t->cgroup = calloc(n + 1, sizeof(char *));
			if (!t->cgroup) {
				r = -ENOMEM;
				goto out;
			}
			for (char *l = buf, *e; l && *l; l = e ? e + 1 : NULL) {
				e = strchr(l, '\n');
				if (e)
					*e = 0;
				if (*l)
					t->cgroup[t->n_cgroup++] = l;
			}
		}
	}
	img.ns = ns;
	img.n_ns = d->nr;
	img.tasks = ptasks;
	r = img_write(c->dirfd, "ns.img", &img.base);
out:
	dump_free(d, ns);
	for (size_t i = 0; tasks && i < img.n_tasks; i++)
		free(tasks[i].cgroup);
	for (size_t i = 0; cgbufs && i < c->nr_tasks; i++)
		free(cgbufs[i]);
	free(cgbufs);
	free(tasks);
	free(ptasks);
	free(ids);
	free(d->ns);
	free(d->task_ns);
	free(d);
	c->mod[MOD_NS] = NULL;
	return r;
}

/* --------------------------------------------------------------- restore */

struct ns_restore {
	Namespaces *img;
	int *fds;                  /* per namespace: crest's fd of it, inherited by the tasks */
	int own[NSK_MAX];          /* crest's own, for kinds the tree uses (-1: none) */
	int (*task_ns)[NSK_MAX];   /* per task of c->tasks: index in img->ns, or -1 */
	const NsTask **task_img;   /* per task of c->tasks: its entry, or NULL */
	char ***cg_dirs;           /* per task: the directories of its NsTask.cgroup */
};

static struct ns_restore *rst_state(struct restore_ctx *c)
{
	return c->mod[MOD_NS];
}

int ns_load(struct restore_ctx *c)
{
	struct ns_restore *s = xzalloc(sizeof(*s));
	Namespaces *img = NULL;
	int r;

	if (!s)
		return -ENOMEM;
	c->mod[MOD_NS] = s;
	for (int k = 0; k < NSK_MAX; k++)
		s->own[k] = -1;
	s->task_ns = calloc(c->nr_tasks + 1, sizeof(*s->task_ns));
	s->task_img = calloc(c->nr_tasks + 1, sizeof(*s->task_img));
	s->cg_dirs = calloc(c->nr_tasks + 1, sizeof(*s->cg_dirs));
	if (!s->task_ns || !s->task_img || !s->cg_dirs)
		return -ENOMEM;
	for (size_t i = 0; i < c->nr_tasks; i++)
		for (int k = 0; k < NSK_MAX; k++)
			s->task_ns[i][k] = -1;
	r = img_read(c->dirfd, "ns.img", &namespaces__descriptor, (ProtobufCMessage **)&img, true);
	if (r == -ENOENT)
		return 0;   /* every task in crest's namespaces */
	if (r < 0)
		return r;
	s->img = img;
	s->fds = fd_table_new(img->n_ns);
	if (!s->fds)
		return -ENOMEM;
	for (size_t i = 0; i < img->n_ns; i++) {
		const Namespace *ns = img->ns[i];
		if (ns->id != i || (unsigned)ns->kind >= NSK_MAX) {
			pr_err("image ns.img is corrupt: namespace %zu", i);
			return -EBADMSG;
		}
		const struct ns_kind_ops *ops = kinds[ns->kind].ops;
		if (!ops || !ops->create) {
			pr_err("pid %d was in a %s namespace of its own: this crest cannot recreate %s "
			       "namespaces", ns->pid, kinds[ns->kind].what, kinds[ns->kind].what);
			return -ENOTSUP;
		}
		if (ops->load && (r = ops->load(c, ns)) < 0)
			return r;
	}
	for (size_t i = 0; i < img->n_tasks; i++) {
		const NsTask *t = img->tasks[i];
		size_t idx;
		for (idx = 0; idx < c->nr_tasks && c->tasks[idx]->pid != t->pid; idx++)
			;
		if (idx == c->nr_tasks) {
			pr_err("image ns.img is corrupt: pid %d is not in the tree", t->pid);
			return -EBADMSG;
		}
		s->task_img[idx] = t;
		if (t->n_cgroup && !(s->cg_dirs[idx] = calloc(t->n_cgroup, sizeof(char *))))
			return -ENOMEM;
		for (size_t k = 0; k < t->n_cgroup; k++)
			if ((r = cgroupns_dir_of(t->pid, t->cgroup[k], &s->cg_dirs[idx][k])) < 0)
				return r;
		for (size_t k = 0; k < t->n_ns; k++) {
			if (t->ns[k] >= img->n_ns || s->task_ns[idx][img->ns[t->ns[k]]->kind] >= 0) {
				pr_err("image ns.img is corrupt: the namespaces of pid %d", t->pid);
				return -EBADMSG;
			}
			s->task_ns[idx][img->ns[t->ns[k]]->kind] = (int)t->ns[k];
		}
	}
	return 0;
}

const Namespace *ns_restore_task_ns(struct restore_ctx *c, pid_t pid, enum ns_kind k)
{
	struct ns_restore *s = rst_state(c);

	if (!s || !s->img || k >= NSK_MAX)
		return NULL;
	for (size_t i = 0; i < c->nr_tasks; i++)
		if (c->tasks[i]->pid == pid)
			return s->task_ns[i][k] < 0 ? NULL : s->img->ns[s->task_ns[i][k]];
	return NULL;
}

int ns_restore_fd(struct restore_ctx *c, uint32_t id)
{
	struct ns_restore *s = rst_state(c);
	return s && s->img && id < s->img->n_ns ? s->fds[id] : -1;
}

static int fd_above(int fd, int floor)
{
	int n = fcntl(fd, F_DUPFD_CLOEXEC, floor);
	int e = errno;
	close(fd);
	errno = e;
	return n;
}

/* One namespace, made by a holder (see ns.h). */
static int make_ns(struct restore_ctx *c, struct ns_restore *s, size_t i, int floor)
{
	const Namespace *ns = s->img->ns[i];
	const struct ns_kind_ops *ops = kinds[ns->kind].ops;
	char what[96], path[64];
	int p[2], q[2], r;
	pid_t pid;

	snprintf(what, sizeof(what), "pid %d: its %s namespace", ns->pid, kinds[ns->kind].what);
	if (pipe2(p, O_CLOEXEC) < 0)
		return pr_errno(-errno, "%s: pipe", what);
	if (pipe2(q, O_CLOEXEC) < 0) {
		r = pr_errno(-errno, "%s: pipe", what);
		close(p[0]);
		close(p[1]);
		return r;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		r = pr_errno(-errno, "%s: fork of a holder", what);
		close(p[0]);
		close(p[1]);
		close(q[0]);
		close(q[1]);
		return r;
	}
	if (pid == 0) {
		char x;
		close(p[0]);
		close(q[1]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		r = ops->pre_create ? ops->pre_create(c, ns) : 0;
		if (r == 0 && unshare(kinds[ns->kind].flag) < 0)
			r = pr_errno(-errno, "%s: cannot make a new one (unshare)", what);
		if (r == 0)
			r = ops->create(c, ns);
		send_frame(p[1], r, NULL, 0);
		/* until crest has opened the namespace */
		while (read(q[0], &x, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(p[1]);
	close(q[0]);
	r = recv_frame(p[0], pid, what, NULL, NULL);
	close(p[0]);
	if (r == 0) {
		int fd;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid,
			 ns->kind == NS_KIND__NS_TIME ? "time_for_children" : kinds[ns->kind].name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			fd = fd_above(fd, floor);
		if (fd < 0)
			r = pr_errno(-errno, "%s: cannot open the new one (%s)", what, path);
		s->fds[i] = fd;
	}
	if (r == 0 && ops->created)
		r = ops->created(c, ns, pid, floor);
	close(q[1]);
	reap(pid);
	if (r == 0)
		pr_info("%s: made anew", what);
	return r;
}

int ns_restore_create(struct restore_ctx *c, int floor)
{
	struct ns_restore *s = rst_state(c);
	int r;

	if (!s || !s->img)
		return 0;
	for (size_t i = 0; i < s->img->n_ns; i++) {
		enum ns_kind k = (enum ns_kind)s->img->ns[i]->kind;
		char path[64];
		int fd;

		if (s->own[k] < 0) {
			/* a task of the tree may stay in crest's, under a parent in the new one */
			snprintf(path, sizeof(path), "/proc/self/ns/%s", kinds[k].name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd >= 0)
				fd = fd_above(fd, floor);
			if (fd < 0)
				return pr_errno(-errno, "cannot open crest's own %s namespace", kinds[k].what);
			s->own[k] = fd;
		}
		r = make_ns(c, s, i, floor);
		if (r < 0)
			return r;
		if (cancelled(c->o))
			return -ECANCELED;
	}
	return 0;
}

int ns_restore_enter(struct restore_ctx *c, struct restore_task *t)
{
	struct ns_restore *s = rst_state(c);
	int want[NSK_MAX];
	/* the mount namespace last: after it, paths resolve in it */
	static const enum ns_kind order[] = { NSK_UTS, NSK_IPC, NSK_NET, NSK_CGROUP, NSK_TIME, NSK_MNT };

	if (!s || !s->img)
		return 0;
	for (int k = 0; k < NSK_MAX; k++) {
		int idx = s->task_ns[t->idx][k];
		char path[64];
		struct stat a, b;

		want[k] = idx >= 0 ? s->fds[idx] : s->own[k];
		if (want[k] < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/self/ns/%s", kinds[k].name);
		if (fstat(want[k], &a) < 0 || stat(path, &b) < 0)
			return pr_errno(-errno, "pid %d: cannot compare its %s namespace", t->pid, kinds[k].what);
		if (a.st_ino == b.st_ino)
			want[k] = -1;   /* inherited */
	}
	/* its cgroups before its cgroup namespace (cgroup.c); a migration costs
	 * an RCU grace period or so: skip those it is in already, which it can
	 * tell while its view is crest's (full paths) */
	if (s->task_ns[t->idx][NSK_CGROUP] >= 0 && s->task_img[t->idx]) {
		_cleanup_free_ char *cur = NULL;
		struct stat a, b;
		bool crest_view = s->own[NSK_CGROUP] >= 0 && fstat(s->own[NSK_CGROUP], &a) == 0 &&
				  stat("/proc/self/ns/cgroup", &b) == 0 && a.st_ino == b.st_ino;
		if (crest_view && read_file_at(AT_FDCWD, "/proc/self/cgroup", &cur, NULL) < 0)
			cur = NULL;
		for (size_t i = 0; i < s->task_img[t->idx]->n_cgroup; i++) {
			const char *line = s->task_img[t->idx]->cgroup[i], *at;
			size_t n = strlen(line);
			int r;
			if (cur && (at = strstr(cur, line)) && (at == cur || at[-1] == '\n') &&
			    (at[n] == '\n' || !at[n]))
				continue;
			r = cgroupns_join(t->pid, line, s->cg_dirs[t->idx][i]);
			if (r < 0)
				return r;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		enum ns_kind k = order[i];
		if (want[k] >= 0 && setns(want[k], kinds[k].flag) < 0)
			return pr_errno(-errno, "pid %d: cannot enter its %s namespace (setns)", t->pid,
					kinds[k].what);
	}
	return 0;
}

int ns_restore_finish(struct restore_ctx *c)
{
	struct ns_restore *s = rst_state(c);
	int r;

	if (!s || !s->img)
		return 0;
	for (size_t i = 0; i < s->img->n_ns; i++) {
		const Namespace *ns = s->img->ns[i];
		const struct ns_kind_ops *ops = kinds[ns->kind].ops;
		if (ops->finish && (r = ops->finish(c, ns, s->fds[i])) < 0)
			return r;
	}
	return 0;
}

int ns_restore_in(struct restore_ctx *c, uint32_t id,
		  int (*fn)(struct restore_ctx *c, const Namespace *ns, void *arg), void *arg)
{
	struct ns_restore *s = rst_state(c);
	const Namespace *ns;
	char what[96];
	int p[2], r;
	pid_t pid;

	if (!s || !s->img || id >= s->img->n_ns)
		return -EINVAL;
	ns = s->img->ns[id];
	snprintf(what, sizeof(what), "pid %d: its %s namespace", ns->pid, kinds[ns->kind].what);
	if (pipe2(p, O_CLOEXEC) < 0)
		return pr_errno(-errno, "%s: pipe", what);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return pr_errno(-errno, "%s: fork of a helper", what);
	}
	if (pid == 0) {
		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setns(s->fds[id], kinds[ns->kind].flag) < 0)
			r = pr_errno(-errno, "%s: cannot enter it (setns)", what);
		else
			r = fn(c, ns, arg);
		send_frame(p[1], r, NULL, 0);
		_exit(0);
	}
	close(p[1]);
	r = recv_frame(p[0], pid, what, NULL, NULL);
	close(p[0]);
	reap(pid);
	return r;
}

static void ns_restore_fini(struct restore_ctx *c)
{
	struct ns_restore *s = rst_state(c);

	if (!s)
		return;
	/* (before the image: task_img points into it) */
	for (size_t i = 0; s->cg_dirs && i < c->nr_tasks; i++) {
		for (size_t k = 0; s->cg_dirs[i] && s->task_img[i] && k < s->task_img[i]->n_cgroup; k++)
			free(s->cg_dirs[i][k]);
		free(s->cg_dirs[i]);
	}
	free(s->cg_dirs);
	for (int k = 0; k < NSK_MAX; k++) {
		if (s->own[k] >= 0)
			close(s->own[k]);
		if (kinds[k].ops && kinds[k].ops->restore_free)
			kinds[k].ops->restore_free(c);
	}
	if (s->img)
		fd_table_free(s->fds, s->img->n_ns);
	if (s->img)
		protobuf_c_message_free_unpacked(&s->img->base, NULL);
	free(s->task_ns);
	free(s->task_img);
	free(s);
	c->mod[MOD_NS] = NULL;
}

const struct crest_module ns_module = {
	.name = "ns",
	.dump_fini = ns_dump_fini,
	.restore_fini = ns_restore_fini,
};
