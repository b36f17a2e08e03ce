/* SPDX-License-Identifier: MIT */
/*
 * Mount namespaces, restore side.  mnt.img is read before anything is
 * forked.  Each namespace is built by mnt_build() in a holder process that
 * has just unshare()d a mount namespace (ns.c): it makes every mount it
 * inherited from crest private first (nothing it does can propagate into
 * crest's namespace), then makes every mount of the image as a detached
 * mount with the new mount API (fsopen/fsconfig/fsmount for new file
 * systems, open_tree(OPEN_TREE_CLONE) for binds), fills tmpfs from its
 * archive, attaches each one with move_mount onto its parent's own fd
 * (so a mount covered by a later one still gets its children), sets the
 * per-mount flags (mount_setattr), then the propagation (MS_SHARED, peer
 * groups joined with MOVE_MOUNT_SET_GROUP, MS_SLAVE, MS_UNBINDABLE), and
 * finally pivot_root()s into the tree's root and drops crest's mounts.
 *
 * proc mounts need the restored pid namespace they showed, which exists
 * only once the tasks are forked: the build mounts a proc of crest's pid
 * namespace there (the restore's own /proc/self uses work with it), and
 * mnt_finish_in(), once the tasks exist and before they run, in a helper
 * that entered the namespace, replaces it (and what was mounted under it)
 * by a proc for the restored pid namespace (fsconfig "pidns").
 */
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <linux/mount.h>
#include "util/compat.h"
#include "image/image.h"
#include "mnt.pb-c.h"
#include "util/log.h"
#include "mnt.h"
#include "util/util.h"


/* A mount whose fd the tasks need (a file reopened in it, covered). */
struct need {
	uint64_t ns_ino;
	uint32_t old_id;
	int fd;            /* crest's, at or above the floor (-1 until taken) */
};

/* what a builder sends crest: its fd holding mount old_id (0: the end) */
struct took {
	uint32_t old_id;
	int32_t fd;
};

struct mnt_restore {
	bool loaded;
	MntNss *img;
	struct need *need;
	size_t nneed;
	int pipe[2];       /* builders -> crest (made at load when needed) */
};

static struct mnt_restore *get_r(struct restore_ctx *c)
{
	struct mnt_restore *m = c->mod[MOD_MNT];
	int r;

	if (m && m->loaded)
		return m;
	if (!m) {
		m = xzalloc(sizeof(*m));
		if (!m)
			return NULL;
		m->pipe[0] = m->pipe[1] = -1;
		c->mod[MOD_MNT] = m;
	}
	r = img_read(c->dirfd, "mnt.img", &mnt_nss__descriptor, (ProtobufCMessage **)&m->img, true);
	if (r < 0 && r != -ENOENT)
		return NULL;
	m->loaded = true;
	return m;
}

const MntNs *mnt_restore_ns_of(struct restore_ctx *c, pid_t pid)
{
	struct mnt_restore *m = get_r(c);

	if (!m || !m->img)
		return NULL;
	for (size_t i = 0; i < m->img->n_ns; i++)
		for (size_t k = 0; k < m->img->ns[i]->n_pids; k++)
			if (m->img->ns[i]->pids[k] == pid)
				return m->img->ns[i];
	return NULL;
}

const MntNs *mnt_restore_ns_by_ino(struct restore_ctx *c, uint64_t ino)
{
	struct mnt_restore *m = get_r(c);

	if (!m || !m->img)
		return NULL;
	for (size_t i = 0; i < m->img->n_ns; i++)
		if (m->img->ns[i]->ino == ino)
			return m->img->ns[i];
	return NULL;
}

bool mnt_restore_foreign(struct restore_ctx *c, pid_t pid)
{
	return mnt_restore_ns_of(c, pid) != NULL;
}

/* --external mnt[KEY]:VALUE */
static const char *ext_value(const struct crest_opts *o, const char *key)
{
	size_t l = strlen(key);

	for (size_t i = 0; i < o->n_external; i++) {
		const char *e = o->external[i];
		if (!strncmp(e, "mnt[", 4) && !strncmp(e + 4, key, l) && !strncmp(e + 4 + l, "]:", 2))
			return e + 6 + l;
	}
	return NULL;
}

static int find_idx(const MntNs *ns, uint64_t id)
{
	for (size_t i = 0; i < ns->n_mounts; i++)
		if (ns->mounts[i]->id == id)
			return (int)i;
	return -1;
}

static int find_old(const MntNs *ns, uint32_t old_id)
{
	for (size_t i = 0; i < ns->n_mounts; i++)
		if (ns->mounts[i]->old_id == old_id)
			return (int)i;
	return -1;
}

/* Is entry i, or a mount it is under, one of redo[]? */
static bool under(const MntNs *ns, size_t i, const bool *redo)
{
	for (int k = (int)i; k >= 0; k = find_idx(ns, ns->mounts[k]->parent))
		if (redo[k])
			return true;
	return false;
}

/* Is ns the namespace of the tree's root task (the one --root is for)? */
static bool root_ns(struct restore_ctx *c, const MntNs *ns)
{
	for (size_t k = 0; c->nr_tasks && k < ns->n_pids; k++)
		if (ns->pids[k] == c->tasks[0]->pid)
			return true;
	return false;
}

/* The source of an external mount now: --root for the root, --external,
 * or where crest saw it at dump. */
static const char *ext_source(struct restore_ctx *c, const MntNs *ns, const MntEntry *m, bool top,
			      bool *checked)
{
	*checked = false;
	if (top && c->o->root && root_ns(c, ns))
		return c->o->root;
	if (m->ext_key)
		return ext_value(c->o, m->ext_key);
	*checked = true;
	return m->host_path;
}

int mnt_restore_load(struct restore_ctx *c, struct restore_task *t)
{
	struct mnt_restore *m = get_r(c);
	const MntNs *ns;

	if (!m)
		return -EBADMSG;
	ns = mnt_restore_ns_of(c, t->pid);
	if (!ns)
		return 0;
	if (!mnt_ns_glued()) {
		pr_err("pid %d: it lived in a mount namespace of its own (%zu mounts, see crest show): "
		       "restoring mount namespaces is not supported yet", t->pid, ns->n_mounts);
		return -ENOTSUP;
	}
	if (ns->pids[0] != t->pid)
		return 0;
	if (c->o->root && root_ns(c, ns) && ns->n_mounts && ns->mounts[0]->kind != MNT_KIND__MNT_EXTERNAL) {
		pr_err("pid %d: --root %s: the root of its mount namespace was a %s mount made anew at "
		       "restore (tmpfs: its files are in the image), not a host directory: restore without "
		       "--root", t->pid, c->o->root, ns->mounts[0]->fstype);
		return -EINVAL;
	}
	/* once per namespace: what the build will need is there */
	for (size_t i = 0; i < ns->n_mounts; i++) {
		const MntEntry *e = ns->mounts[i];
		bool checked;
		if (e->kind > MNT_KIND__MNT_EXTERNAL || (e->kind == MNT_KIND__MNT_BIND &&
		    (!e->has_bind_of || find_idx(ns, e->bind_of) < 0 || find_idx(ns, e->bind_of) >= (int)i)) ||
		    (e->kind == MNT_KIND__MNT_TMPFS && (!e->content || !e->has_content_size))) {
			pr_err("image mnt.img is corrupt: mount %u on %s", e->old_id, e->mountpoint);
			return -EBADMSG;
		}
		if (e->kind == MNT_KIND__MNT_EXTERNAL) {
			const char *src = ext_source(c, ns, e, i == 0, &checked);
			struct stat st;
			if (!src) {
				pr_err("pid %d: mount %u on %s was dumped as external (key %s): say where it is "
				       "now with --external mnt[%s]:HOSTPATH", t->pid, e->old_id, e->mountpoint,
				       e->ext_key, e->ext_key);
				return -ENOENT;
			}
			if (stat(src, &st) < 0)
				return pr_errno(-errno, "pid %d: mount %u on %s comes from %s", t->pid, e->old_id,
						e->mountpoint, src);
			if (checked && e->has_host_dev && st.st_dev != e->host_dev) {
				pr_err("pid %d: mount %u on %s comes from %s, which is on another file system "
				       "now (device %u:%u, was %u:%u): give its source with --external "
				       "mnt[KEY]:HOSTPATH (dump with --external mnt[%s]:KEY)", t->pid, e->old_id,
				       e->mountpoint, src, major(st.st_dev), minor(st.st_dev), e->dev_major,
				       e->dev_minor, e->mountpoint);
				return -ESTALE;
			}
		}
	}
	return 0;
}

static void close_pipe(struct mnt_restore *m)
{
	for (int i = 0; i < 2; i++)
		if (m->pipe[i] >= 0) {
			close(m->pipe[i]);
			m->pipe[i] = -1;
		}
}

int mnt_restore_need(struct restore_ctx *c, pid_t pid, int fd, uint32_t mnt_id, const char *rel)
{
	struct mnt_restore *m = get_r(c);
	const MntNs *ns = mnt_restore_ns_of(c, pid);
	bool found = false;

	for (size_t i = 0; ns && i < ns->n_mounts && !found; i++)
		found = ns->mounts[i]->old_id == mnt_id;
	if (!m || !found || !rel || !*rel || rel[0] == '/') {
		pr_err("image files-%d.img is corrupt: fd %d is in mount %u, which its mount namespace lacks",
		       pid, fd, mnt_id);
		return -EBADMSG;
	}
	for (size_t i = 0; i < m->nneed; i++)
		if (m->need[i].ns_ino == ns->ino && m->need[i].old_id == mnt_id)
			return 0;
	struct need *n = realloc(m->need, (m->nneed + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	m->need = n;
	m->need[m->nneed++] = (struct need){ .ns_ino = ns->ino, .old_id = mnt_id, .fd = -1 };
	if (m->pipe[0] < 0 && pipe2(m->pipe, O_CLOEXEC) < 0)
		return pr_errno(-errno, "pid %d: fd %d: pipe", pid, fd);
	return 0;
}

int mnt_restore_openat(struct restore_ctx *c, pid_t pid, uint32_t mnt_id, const char *rel, int flags)
{
	struct mnt_restore *m = get_r(c);
	const MntNs *ns = mnt_restore_ns_of(c, pid);

	for (size_t i = 0; m && ns && i < m->nneed; i++)
		if (m->need[i].ns_ino == ns->ino && m->need[i].old_id == mnt_id && m->need[i].fd >= 0) {
			int fd = openat(m->need[i].fd, rel, flags);
			if (fd < 0)
				pr_errno(-errno, "pid %d: %s inside mount %u (covered): cannot open it", pid, rel,
					 mnt_id);
			return fd < 0 ? -errno : fd;
		}
	pr_err("pid %d: no fd of mount %u to open %s in", pid, mnt_id, rel);
	return -ENOENT;
}

/* In the builder: the fds of the mounts the tasks need, to crest. */
static int send_needed(struct restore_ctx *c, const MntNs *ns, const int *fds)
{
	struct mnt_restore *m = c->mod[MOD_MNT];
	struct took end = { 0, -1 };

	if (!m || m->pipe[1] < 0)
		return 0;
	for (size_t i = 0; i < m->nneed; i++) {
		int k;
		if (m->need[i].ns_ino != ns->ino || (k = find_old(ns, m->need[i].old_id)) < 0)
			continue;
		struct took t = { m->need[i].old_id, fcntl(fds[k], F_DUPFD_CLOEXEC, 3) };
		if (t.fd < 0 || write(m->pipe[1], &t, sizeof(t)) != sizeof(t))
			return pr_errno(-EIO, "mount %u: handing its fd to crest", t.old_id);
	}
	return write(m->pipe[1], &end, sizeof(end)) == sizeof(end) ? 0 : -EIO;
}

int mnt_restore_take(struct restore_ctx *c, uint64_t ns_ino, pid_t holder, int floor)
{
	struct mnt_restore *m = c->mod[MOD_MNT];
	struct took t;
	int pidfd, r = 0;

	if (!m || m->pipe[0] < 0)
		return 0;
	pidfd = (int)syscall(SYS_pidfd_open, holder, 0);
	if (pidfd < 0)
		return pr_errno(-errno, "mount namespace %llu: pidfd of its builder", (unsigned long long)ns_ino);
	while (r == 0 && read(m->pipe[0], &t, sizeof(t)) == sizeof(t) && t.fd >= 0) {
		for (size_t i = 0; i < m->nneed; i++) {
			int fd;
			if (m->need[i].ns_ino != ns_ino || m->need[i].old_id != t.old_id)
				continue;
			fd = (int)syscall(SYS_pidfd_getfd, pidfd, t.fd, 0);
			if (fd >= 0) {
				m->need[i].fd = fcntl(fd, F_DUPFD_CLOEXEC, floor);
				close(fd);
			}
			if (fd < 0 || m->need[i].fd < 0)
				r = pr_errno(-errno, "mount %u: taking its fd from the builder", t.old_id);
		}
	}
	close(pidfd);
	/* every namespace built (they are made one after the other): the pipe
	 * must not reach the tasks */
	bool all = true;
	for (size_t i = 0; i < m->nneed; i++)
		all = all && m->need[i].fd >= 0;
	if (all)
		close_pipe(m);
	return r;
}

void mnt_restore_fini(struct restore_ctx *c)
{
	struct mnt_restore *m = c->mod[MOD_MNT];

	if (!m)
		return;
	close_pipe(m);
	for (size_t i = 0; i < m->nneed; i++)
		if (m->need[i].fd >= 0)
			close(m->need[i].fd);
	free(m->need);
	if (m->img)
		protobuf_c_message_free_unpacked(&m->img->base, NULL);
	free(m);
	c->mod[MOD_MNT] = NULL;
}

/* ------------------------------------------------------------ building */

static int fs_new(const MntEntry *m, const char *type, int *fsfd_out, int pidns_fd)
{
	_cleanup_close_ int fs = (int)syscall(SYS_fsopen, type, FSOPEN_CLOEXEC);
	int mfd;

	if (fs < 0)
		return pr_errno(-errno, "mount %u on %s: fsopen(%s)", m->old_id, m->mountpoint, type);
	if (m->source && syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", m->source, 0) < 0)
		return pr_errno(-errno, "mount %u on %s: source %s", m->old_id, m->mountpoint, m->source);
	if (pidns_fd >= 0 && syscall(SYS_fsconfig, fs, FSCONFIG_SET_FD, "pidns", NULL, pidns_fd) < 0)
		return pr_errno(-errno, "mount %u on %s: proc for its pid namespace (fsconfig pidns, "
				"Linux 6.17)", m->old_id, m->mountpoint);
	for (size_t i = 0; i < m->n_opts; i++) {
		_cleanup_free_ char *k = xstrdup(m->opts[i]);
		char *v;
		long r;
		if (!k)
			return -ENOMEM;
		v = strchr(k, '=');
		if (v) {
			*v++ = 0;
			r = syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, k, v, 0);
		} else {
			r = syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, k, NULL, 0);
		}
		if (r < 0)
			return pr_errno(-errno, "mount %u on %s (%s): option %s", m->old_id, m->mountpoint, type,
					m->opts[i]);
	}
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return pr_errno(-errno, "mount %u on %s: cannot make a new %s", m->old_id, m->mountpoint, type);
	mfd = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
	if (mfd < 0)
		return pr_errno(-errno, "mount %u on %s: fsmount (%s)", m->old_id, m->mountpoint, type);
	if (fsfd_out)
		*fsfd_out = TAKE_FD(fs);
	return mfd;
}

static const char *fstype_of(MntKind k, const MntEntry *m)
{
	switch (k) {
	case MNT_KIND__MNT_TMPFS: return "tmpfs";
	case MNT_KIND__MNT_PROC: return "proc";
	case MNT_KIND__MNT_SYSFS: return "sysfs";
	case MNT_KIND__MNT_DEVPTS: return "devpts";
	case MNT_KIND__MNT_MQUEUE: return "mqueue";
	case MNT_KIND__MNT_CGROUP2: return "cgroup2";
	default: return m->fstype;
	}
}

/* A detached mount for entry i. */
static int make_one(struct restore_ctx *c, const MntNs *ns, size_t i, int *fds, int pidns_fd)
{
	const MntEntry *m = ns->mounts[i];
	int mfd, fsfd = -1, r;
	bool checked;

	switch (m->kind) {
	case MNT_KIND__MNT_BIND: {
		int src = fds[find_idx(ns, m->bind_of)];
		mfd = (int)syscall(SYS_open_tree, src, *m->bind_path ? m->bind_path : "",
				   OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (*m->bind_path ? 0 : AT_EMPTY_PATH));
		if (mfd < 0)
			return pr_errno(-errno, "mount %u on %s: bind of %s inside mount %llu", m->old_id,
					m->mountpoint, m->bind_path, (unsigned long long)m->bind_of);
		return mfd;
	}
	case MNT_KIND__MNT_EXTERNAL: {
		const char *src = ext_source(c, ns, m, i == 0, &checked);
		mfd = (int)syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (mfd < 0)
			return pr_errno(-errno, "mount %u on %s: bind of %s", m->old_id, m->mountpoint, src);
		return mfd;
	}
	case MNT_KIND__MNT_TMPFS: {
		char what[PATH_MAX + 64];
		mfd = fs_new(m, "tmpfs", &fsfd, -1);
		if (mfd < 0)
			return mfd;
		snprintf(what, sizeof(what), "tmpfs mount %u on %s", m->old_id, m->mountpoint);
		r = mnt_tmpfs_load(mfd, c->dirfd, m->content, what, m->content_size, m->content_checksum);
		if (r == 0 && (m->sb_flags & MS_RDONLY) &&
		    (syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0 ||
		     syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0) < 0))
			r = pr_errno(-errno, "%s: making it read-only", what);
		close(fsfd);
		if (r < 0) {
			close(mfd);
			return r;
		}
		return mfd;
	}
	default:
		return fs_new(m, fstype_of(m->kind, m), NULL, m->kind == MNT_KIND__MNT_PROC ? pidns_fd : -1);
	}
}

/* Attach entry i under its parent (fds[parent], by the mount point's path
 * inside it: exact even when the parent is covered). */
static int attach(const MntNs *ns, size_t i, int *fds)
{
	const MntEntry *m = ns->mounts[i];
	int p = find_idx(ns, m->parent);
	const MntEntry *pm = ns->mounts[p];
	size_t pl = strlen(pm->mountpoint);
	const char *rel = m->mountpoint;

	if (!strcmp(pm->mountpoint, "/"))
		rel += strspn(rel, "/");
	else if (!strncmp(rel, pm->mountpoint, pl) && (rel[pl] == '/' || !rel[pl]))
		rel += pl + strspn(rel + pl, "/");
	else {
		pr_err("image mnt.img is corrupt: mount %u on %s is not under its parent's %s", m->old_id,
		       m->mountpoint, pm->mountpoint);
		return -EBADMSG;
	}
	if (syscall(SYS_move_mount, fds[i], "", fds[p], rel,
		    MOVE_MOUNT_F_EMPTY_PATH | (*rel ? 0 : MOVE_MOUNT_T_EMPTY_PATH)) < 0)
		return pr_errno(-errno, "mount %u on %s: attaching it under mount %u (%s)", m->old_id,
				m->mountpoint, pm->old_id, pm->mountpoint);
	return 0;
}

static int set_attr(const MntEntry *m, int fd)
{
	const uint64_t mask = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
			      MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW;
	struct mount_attr a = { .attr_set = m->attr & mask, .attr_clr = mask };

	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
		return pr_errno(-errno, "mount %u on %s: flags %#llx", m->old_id, m->mountpoint,
				(unsigned long long)m->attr);
	return 0;
}

static int set_prop(const MntEntry *m, int fd, uint64_t prop)
{
	struct mount_attr a = { .propagation = prop };

	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
		return pr_errno(-errno, "mount %u on %s: propagation %#llx", m->old_id, m->mountpoint,
				(unsigned long long)prop);
	return 0;
}

static int join_group(const MntEntry *from, int ffd, const MntEntry *m, int fd)
{
	if (syscall(SYS_move_mount, ffd, "", fd, "",
		    MOVE_MOUNT_SET_GROUP | MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return pr_errno(-errno, "mount %u on %s: joining the peer group of mount %u on %s", m->old_id,
				m->mountpoint, from->old_id, from->mountpoint);
	return 0;
}

/* Propagation of the mounts not deferred (done[] false) or only of those
 * (deferred pass): masters before their slaves, the first mount of a peer
 * group made shared, the others joined to it. */
static int propagation(const MntNs *ns, int *fds, const bool *skip)
{
	size_t n = ns->n_mounts;
	_cleanup_free_ bool *done = calloc(n ? n : 1, sizeof(bool));
	bool progress = true;

	if (!done)
		return -ENOMEM;
	while (progress) {
		progress = false;
		for (size_t i = 0; i < n; i++) {
			const MntEntry *m = ns->mounts[i];
			int first = -1, master = -1, r;
			if (done[i] || skip[i] || fds[i] < 0)
				continue;
			for (size_t k = 0; k < n && m->has_peer_group; k++)
				if (ns->mounts[k]->has_peer_group && ns->mounts[k]->peer_group == m->peer_group &&
				    fds[k] >= 0) {
					first = (int)k;
					break;
				}
			for (size_t k = 0; k < n && m->has_master; k++)
				if (ns->mounts[k]->has_peer_group && ns->mounts[k]->peer_group == m->master &&
				    fds[k] >= 0) {
					master = (int)k;
					break;
				}
			if (first >= 0 && first != (int)i) {
				if (!done[first])
					continue;
				r = join_group(ns->mounts[first], fds[first], m, fds[i]);
			} else {
				r = 0;
				if (master >= 0) {
					if (!done[master])
						continue;
					r = join_group(ns->mounts[master], fds[master], m, fds[i]);
					if (r == 0)
						r = set_prop(m, fds[i], MS_SLAVE);
				} else if (m->has_master) {
					pr_warn("mount %u on %s: its master (peer group %llu) is not in the "
						"namespace: restored private", m->old_id, m->mountpoint,
						(unsigned long long)m->master);
				}
				if (r == 0 && first == (int)i)
					r = set_prop(m, fds[i], MS_SHARED);
			}
			if (r == 0 && (m->propagation & MS_UNBINDABLE))
				r = set_prop(m, fds[i], MS_UNBINDABLE);
			if (r < 0)
				return r;
			done[i] = true;
			progress = true;
		}
	}
	return 0;
}

int mnt_build(struct restore_ctx *c, const MntNs *ns)
{
	size_t n = ns->n_mounts;
	int *fds = fd_table_new(n ? n : 1);
	_cleanup_free_ bool *skip = calloc(n ? n : 1, sizeof(bool));
	int r = 0;

	if (!fds || !skip) {
		fd_table_free(fds, n);
		return -ENOMEM;
	}
	/* nothing of what follows may reach crest's namespace */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		r = pr_errno(-errno, "mount namespace %llu: making the holder's mounts private",
			     (unsigned long long)ns->ino);
		goto out;
	}
	if (!n || find_idx(ns, ns->mounts[0]->parent) >= 0) {
		pr_err("image mnt.img is corrupt: namespace %llu has no root mount", (unsigned long long)ns->ino);
		r = -EBADMSG;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (i && find_idx(ns, ns->mounts[i]->parent) < 0) {
			pr_err("mount %u on %s: its parent is outside the namespace's tree: not supported",
			       ns->mounts[i]->old_id, ns->mounts[i]->mountpoint);
			r = -ENOTSUP;
			goto out;
		}
		fds[i] = make_one(c, ns, i, fds, -1);
		if (fds[i] < 0) {
			r = fds[i];
			goto out;
		}
		if (i == 0) {
			/* on top of the holder's root, to pivot_root into it at the end */
			if (syscall(SYS_move_mount, fds[0], "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0) {
				r = pr_errno(-errno, "mount %u on /: attaching the root", ns->mounts[0]->old_id);
				goto out;
			}
		} else {
			r = attach(ns, i, fds);
			if (r < 0)
				goto out;
		}
	}
	for (size_t i = n; i-- > 0;)   /* children first: a ro parent does not matter then */
		if (!skip[i] && (r = set_attr(ns->mounts[i], fds[i])) < 0)
			goto out;
	r = propagation(ns, fds, skip);
	if (r < 0)
		goto out;
	r = send_needed(c, ns, fds);
	if (r < 0)
		goto out;
	if (fchdir(fds[0]) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 ||
	    chdir("/") < 0) {
		r = pr_errno(-errno, "mount namespace %llu: pivot_root into its root", (unsigned long long)ns->ino);
		goto out;
	}
out:
	fd_table_free(fds, n);
	return r;
}

/* In a helper inside the namespace (after the tasks are forked): each proc
 * mount for another pid namespace than crest's (pidns_fds[i] >= 0) is made
 * again for it, with what was mounted under it, by path. */
int mnt_finish_in(struct restore_ctx *c, const MntNs *ns, const int *pidns_fds)
{
	size_t n = ns->n_mounts;
	int *fds = fd_table_new(n ? n : 1);
	_cleanup_free_ bool *redo = calloc(n ? n : 1, sizeof(bool));
	_cleanup_free_ bool *skip = calloc(n ? n : 1, sizeof(bool));
	int r = 0;

	if (!fds || !redo || !skip) {
		fd_table_free(fds, n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		redo[i] = ns->mounts[i]->kind == MNT_KIND__MNT_PROC && pidns_fds[i] >= 0;
	for (size_t i = 0; i < n; i++) {
		const MntEntry *m = ns->mounts[i];
		skip[i] = !under(ns, i, redo);
		if (skip[i])
			continue;
		if (redo[i] && umount2(m->mountpoint, MNT_DETACH) < 0) {
			r = pr_errno(-errno, "mount %u on %s: removing the proc of crest's pid namespace",
				     m->old_id, m->mountpoint);
			goto out;
		}
		fds[i] = make_one(c, ns, i, fds, pidns_fds[i]);
		if (fds[i] < 0) {
			r = fds[i];
			goto out;
		}
		if (syscall(SYS_move_mount, fds[i], "", AT_FDCWD, m->mountpoint, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
			r = pr_errno(-errno, "mount %u on %s: attaching it", m->old_id, m->mountpoint);
			goto out;
		}
		r = set_attr(m, fds[i]);
		if (r < 0)
			goto out;
	}
	r = propagation(ns, fds, skip);
out:
	fd_table_free(fds, n);
	return r;
}
