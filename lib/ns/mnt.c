/* SPDX-License-Identifier: MIT */
/*
 * Mount namespaces, dump side.  For every mount namespace of the tree that
 * is not crest's own, the first task found in it makes crest record its
 * mount tree (listmount + statmount on that namespace's id; mountinfo is not
 * needed on kernels that have them, which `crest check` asks for), then:
 *
 *  - a short-lived helper joins the namespace (setns) and hands crest an
 *    O_PATH fd of its root, through which the paths /proc shows for the
 *    tasks' files are checked as the tasks see them; for every mount it
 *    checks whether it can be reached by its mount point (not covered by
 *    another mount) and stats its root; it archives tmpfs content from a
 *    detached clone of the mount (open_tree: no submounts in the way) and
 *    reads which pid namespace a proc mount shows;
 *  - every mount gets its kind: a mount of a file system seen earlier in the
 *    namespace is a bind of it; a file system crest's namespace also has is
 *    external (bound again from crest's view at restore), unless it is a
 *    pseudo file system that is made fresh; tmpfs gets its content saved;
 *    anything else is refused by name;
 *  - propagation that leaves the dumped namespaces (a peer group or master
 *    shared with crest's namespace) is refused, naming both mounts.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/mount.h>
#include "util/compat.h"
#include "image/image.h"
#include "mnt.pb-c.h"
#include "util/log.h"
#include "mnt.h"
#include "util/util.h"

#define MNT_IMG "mnt.img"

/* a mount of crest's own namespace */
struct host_mnt {
	uint64_t id, peer, master;
	uint32_t old_id;
	uint32_t maj, min;
	char *root, *mp;
};

struct ns_d {
	uint64_t ino;
	int root_fd;
	MntNs pb;
	int32_t *pids;
	size_t npids;
};

struct mnt_dump {
	uint64_t self_ino;
	bool host_done;
	struct host_mnt *host;
	size_t nhost;
	struct ns_d *ns;
	size_t nns;
};

/* ------------------------------------------------------------- helpers */

static int ns_ino_of(pid_t pid, uint64_t *ino)
{
	char p[64];
	struct stat st;

	if (pid)
		snprintf(p, sizeof(p), "/proc/%d/ns/mnt", pid);
	else
		snprintf(p, sizeof(p), "/proc/self/ns/mnt");
	if (stat(p, &st) < 0)
		return -errno;
	*ino = st.st_ino;
	return 0;
}

/* statmount(id) of namespace nsid (0: crest's) into *buf (grown). */
static int sm_get(uint64_t id, uint64_t nsid, uint64_t mask, struct crest_statmount **buf, size_t *cap)
{
	for (;;) {
		struct mnt_id_req req = { .size = nsid ? MNT_ID_REQ_SIZE_VER1 : MNT_ID_REQ_SIZE_VER0,
					  .mnt_id = id, .param = mask, .mnt_ns_id = nsid };
		if (!*buf) {
			*cap = 8192;
			*buf = malloc(*cap);
			if (!*buf)
				return -ENOMEM;
		}
		if (syscall(SYS_statmount, &req, *buf, *cap, 0) == 0)
			return 0;
		if (errno != EOVERFLOW)
			return -errno;
		free(*buf);
		*buf = NULL;
		*cap *= 2;
		void *n = malloc(*cap);
		if (!n)
			return -ENOMEM;
		*buf = n;
	}
}

/* Every mount id of namespace nsid (0: crest's), ascending. */
static int list_mounts(uint64_t nsid, uint64_t **out, size_t *n)
{
	size_t cap = 0;
	uint64_t last = 0;

	*out = NULL;
	*n = 0;
	for (;;) {
		struct mnt_id_req req = { .size = nsid ? MNT_ID_REQ_SIZE_VER1 : MNT_ID_REQ_SIZE_VER0,
					  .mnt_id = LSMT_ROOT, .param = last, .mnt_ns_id = nsid };
		if (cap - *n < 256) {
			cap = cap ? cap * 2 : 512;
			uint64_t *nb = realloc(*out, cap * sizeof(**out));
			if (!nb)
				return -ENOMEM;
			*out = nb;
		}
		long k = syscall(SYS_listmount, &req, *out + *n, cap - *n, 0);
		if (k < 0)
			return -errno;
		*n += (size_t)k;
		if (k == 0 || (size_t)k < 256)
			return 0;
		last = (*out)[*n - 1];
	}
}

static char *sm_str(const struct crest_statmount *s, uint64_t bit, uint32_t off)
{
	return (s->mask & bit) ? xstrdup(s->str + off) : NULL;
}

/* "/a/b" inside root "/a" -> "b" ("" for the root itself); NULL if not inside. */
static const char *path_inside(const char *path, const char *root)
{
	size_t l = strlen(root);

	if (!strcmp(root, "/"))
		return path + strspn(path, "/");
	if (strncmp(path, root, l) || (path[l] && path[l] != '/'))
		return NULL;
	return path + l + strspn(path + l, "/");
}

static const char *rel(const char *p)
{
	p += strspn(p, "/");
	return *p ? p : ".";
}

static int load_host(struct mnt_dump *d)
{
	_cleanup_free_ uint64_t *ids = NULL;
	_cleanup_free_ struct crest_statmount *s = NULL;
	size_t n, cap = 0;
	int r;

	if (d->host_done)
		return 0;
	r = list_mounts(0, &ids, &n);
	if (r < 0)
		return pr_errno(r, "listmount of crest's own mount namespace (Linux 6.8 or later is needed)");
	d->host = calloc(n ? n : 1, sizeof(*d->host));
	if (!d->host)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		r = sm_get(ids[i], 0, STATMOUNT_SB_BASIC | STATMOUNT_MNT_BASIC | STATMOUNT_MNT_ROOT |
				   STATMOUNT_MNT_POINT, &s, &cap);
		if (r == -ENOENT)
			continue;   /* gone meanwhile */
		if (r < 0)
			return pr_errno(r, "statmount of mount %llu of crest's mount namespace",
					(unsigned long long)ids[i]);
		struct host_mnt *h = &d->host[d->nhost++];
		h->id = s->mnt_id;
		h->old_id = s->mnt_id_old;
		h->maj = s->sb_dev_major;
		h->min = s->sb_dev_minor;
		h->peer = (s->mnt_propagation & MS_SHARED) ? s->mnt_peer_group : 0;
		h->master = (s->mnt_propagation & MS_SLAVE) ? s->mnt_master : 0;
		h->root = xstrdup(s->str + s->mnt_root);
		h->mp = xstrdup(s->str + s->mnt_point);
		if (!h->root || !h->mp)
			return -ENOMEM;
	}
	d->host_done = true;
	return 0;
}

/* --external mnt[NAME]:VALUE -> VALUE, or NULL */
static const char *ext_value(const struct crest_opts *o, const char *name)
{
	size_t l = strlen(name);

	for (size_t i = 0; i < o->n_external; i++) {
		const char *e = o->external[i];
		if (!strncmp(e, "mnt[", 4) && !strncmp(e + 4, name, l) && !strncmp(e + 4 + l, "]:", 2))
			return e + 6 + l;
	}
	return NULL;
}

/* ------------------------------------------------------- the ns helper */

/* What the helper found for one mount. */
struct probe {
	int32_t r;          /* 0, or -errno of the tmpfs archive */
	int32_t reachable;  /* its mount point leads to it */
	uint64_t dev, ino;  /* its root (reachable only) */
	uint64_t size, sum; /* tmpfs archive */
	uint64_t pidns;     /* proc: inode of the pid namespace of its pid 1 */
};

static int send_fd(int sock, int fd)
{
	char c = 0;
	struct iovec iov = { &c, 1 };
	union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			     .msg_controllen = sizeof(u.b) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	memset(&u, 0, sizeof(u));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) < 0 ? -errno : 0;
}

static int recv_fd(int sock)
{
	char c;
	struct iovec iov = { &c, 1 };
	union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			     .msg_controllen = sizeof(u.b) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) <= 0)
		return -EIO;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -EIO;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static void probe_one(struct dump_ctx *c, const MntNs *ns, const MntEntry *m, bool save, struct probe *p)
{
	struct statx sx;
	const char *mp = m->mountpoint;

	memset(p, 0, sizeof(*p));
	if (syscall(SYS_statx, AT_FDCWD, mp, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_INO | STATX_MNT_ID,
		    &sx) == 0 && (sx.stx_mask & STATX_MNT_ID) && sx.stx_mnt_id == m->old_id) {
		p->reachable = 1;
		p->dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
		p->ino = sx.stx_ino;
	}
	if (m->kind == MNT_KIND__MNT_PROC && p->reachable) {
		char path[PATH_MAX], link[64];
		ssize_t l;
		unsigned long long ino;
		snprintf(path, sizeof(path), "%s/1/ns/pid", mp);
		l = readlink(path, link, sizeof(link) - 1);
		if (l > 0) {
			link[l] = 0;
			if (sscanf(link, "pid:[%llu]", &ino) == 1)
				p->pidns = ino;
		}
	}
	if (!save)
		return;
	if (!p->reachable) {
		pr_err("pid %d: tmpfs mount %u on %s is covered by another mount: its files cannot be "
		       "read; not supported (unmount what covers it before dumping)", ns->pids[0], m->old_id, mp);
		p->r = -ENOTSUP;
		return;
	}
	_cleanup_close_ int mfd = (int)syscall(SYS_open_tree, AT_FDCWD, mp,
					       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
	/* an unbindable mount cannot be cloned: read it where it is (the
	 * archive does not cross into its submounts) */
	if (mfd < 0 && errno == EINVAL && (m->propagation & MS_UNBINDABLE))
		mfd = open(mp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0) {
		p->r = pr_errno(-errno, "pid %d: tmpfs mount %u on %s: open_tree", ns->pids[0], m->old_id, mp);
		return;
	}
	char what[PATH_MAX + 64];
	snprintf(what, sizeof(what), "tmpfs mount %u on %s", m->old_id, mp);
	p->r = mnt_tmpfs_save(mfd, c->dirfd, m->content, what, &p->size, &p->sum);
}

/* In a child that joins the namespace: its root fd, then one probe per
 * mount (tmpfs content saved). */
static int run_helper(struct dump_ctx *c, struct ns_d *n, int nsfd, struct probe *pr)
{
	int sv[2], st;
	pid_t pid;
	int r = 0;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return pr_errno(-errno, "socketpair");
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return pr_errno(-errno, "fork of the mount namespace helper");
	}
	if (pid == 0) {
		close(sv[0]);
		signal(SIGPIPE, SIG_DFL);
		if (setns(nsfd, CLONE_NEWNS) < 0) {
			pr_err("pid %d: cannot join its mount namespace: %s", n->pids[0], strerror(errno));
			_exit(2);
		}
		int rfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rfd < 0 || send_fd(sv[1], rfd) < 0)
			_exit(3);
		for (size_t i = 0; i < n->pb.n_mounts; i++) {
			struct probe p;
			const MntEntry *m = n->pb.mounts[i];
			probe_one(c, &n->pb, m, m->kind == MNT_KIND__MNT_TMPFS, &p);
			if (write(sv[1], &p, sizeof(p)) != sizeof(p))
				_exit(4);
		}
		_exit(0);
	}
	close(sv[1]);
	n->root_fd = recv_fd(sv[0]);
	if (n->root_fd < 0)
		r = -EIO;
	for (size_t i = 0; r == 0 && i < n->pb.n_mounts; i++)
		if (read(sv[0], &pr[i], sizeof(pr[i])) != sizeof(pr[i]))
			r = -EIO;
	close(sv[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (r < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		if (WIFEXITED(st) && WEXITSTATUS(st) == 2)
			return -EPERM;   /* logged by the helper */
		return pr_errno(r < 0 ? r : -EIO, "pid %d: the helper in its mount namespace failed (status %#x)",
				n->pids[0], st);
	}
	return 0;
}

/* ------------------------------------------------------------ the tree */

static void entry_free(MntEntry *m)
{
	if (!m)
		return;
	free(m->mountpoint);
	free(m->fstype);
	free(m->source);
	free(m->root);
	free(m->sb_opts);
	for (size_t i = 0; i < m->n_opts; i++)
		free(m->opts[i]);
	free(m->opts);
	free(m->bind_path);
	free(m->host_path);
	free(m->ext_key);
	free(m->content);
	free(m);
}

static MntEntry *entry_from_sm(const struct crest_statmount *s)
{
	MntEntry *m = xzalloc(sizeof(*m));

	if (!m)
		return NULL;
	mnt_entry__init(m);
	m->id = s->mnt_id;
	m->parent = s->mnt_parent_id;
	m->old_id = s->mnt_id_old;
	m->mountpoint = sm_str(s, STATMOUNT_MNT_POINT, s->mnt_point);
	m->fstype = sm_str(s, STATMOUNT_FS_TYPE, s->fs_type);
	m->source = sm_str(s, STATMOUNT_SB_SOURCE, s->sb_source);
	m->root = sm_str(s, STATMOUNT_MNT_ROOT, s->mnt_root);
	m->sb_opts = sm_str(s, STATMOUNT_MNT_OPTS, s->mnt_opts);
	m->dev_major = s->sb_dev_major;
	m->dev_minor = s->sb_dev_minor;
	m->attr = s->mnt_attr;
	m->sb_flags = s->sb_flags;
	m->propagation = s->mnt_propagation;
	if (s->mnt_propagation & MS_SHARED) {
		m->has_peer_group = true;
		m->peer_group = s->mnt_peer_group;
	}
	if (s->mnt_propagation & MS_SLAVE) {
		m->has_master = true;
		m->master = s->mnt_master;
	}
	if ((s->mask & STATMOUNT_OPT_ARRAY) && s->opt_num) {
		const char *o = s->str + s->opt_array;
		m->opts = calloc(s->opt_num, sizeof(*m->opts));
		if (!m->opts)
			goto oom;
		for (uint32_t i = 0; i < s->opt_num; i++) {
			m->opts[i] = xstrdup(o);
			if (!m->opts[i])
				goto oom;
			m->n_opts++;
			o += strlen(o) + 1;
		}
	}
	if (!m->mountpoint || !m->fstype || !m->root)
		goto oom;
	return m;
oom:
	entry_free(m);
	return NULL;
}

/* Parents before children (each sibling list in id order: the order the
 * mounts were made in, so an overmount comes after what it covers). */
static int order_tree(MntEntry **in, size_t n, MntEntry ***out)
{
	MntEntry **o = calloc(n ? n : 1, sizeof(*o));
	bool *done = calloc(n ? n : 1, sizeof(*done));
	size_t k = 0;

	if (!o || !done) {
		free(o);
		free(done);
		return -ENOMEM;
	}
	/* tops: parent not in the list */
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		for (size_t j = 0; j < n && !found; j++)
			found = j != i && in[j]->id == in[i]->parent;
		if (!found) {
			o[k++] = in[i];
			done[i] = true;
		}
	}
	/* breadth first: every pass appends the children of what is placed */
	for (size_t head = 0; head < k; head++)
		for (size_t i = 0; i < n; i++)
			if (!done[i] && in[i]->parent == o[head]->id) {
				o[k++] = in[i];
				done[i] = true;
			}
	free(done);
	*out = o;
	return k == n ? 0 : -EINVAL;
}

static bool is_pseudo(const char *t, MntKind *k)
{
	static const struct { const char *t; MntKind k; } kinds[] = {
		{ "proc", MNT_KIND__MNT_PROC }, { "sysfs", MNT_KIND__MNT_SYSFS },
		{ "devpts", MNT_KIND__MNT_DEVPTS }, { "mqueue", MNT_KIND__MNT_MQUEUE },
		{ "cgroup2", MNT_KIND__MNT_CGROUP2 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(t, kinds[i].t)) {
			*k = kinds[i].k;
			return true;
		}
	return false;
}

/* Where crest sees the files of mount m (same device, its root inside the
 * host mount's root): a malloc'd path, or NULL. */
static char *host_path_of(struct mnt_dump *d, const MntEntry *m)
{
	for (size_t i = 0; i < d->nhost; i++) {
		struct host_mnt *h = &d->host[i];
		const char *in;
		char *p;
		if (h->maj != m->dev_major || h->min != m->dev_minor)
			continue;
		in = path_inside(m->root, h->root);
		if (!in)
			continue;
		if (xasprintf(&p, "%s%s%s", h->mp, (*in && strcmp(h->mp, "/")) ? "/" : "", in) < 0)
			return NULL;
		return p;
	}
	return NULL;
}

static struct host_mnt *host_peer(struct mnt_dump *d, uint64_t group)
{
	for (size_t i = 0; i < d->nhost; i++)
		if (d->host[i].peer == group)
			return &d->host[i];
	return NULL;
}

/* The kind of every mount, first pass (before the helper probes them). */
static int classify(struct dump_ctx *c, struct mnt_dump *d, struct ns_d *n, pid_t pid)
{
	MntNs *ns = &n->pb;

	for (size_t i = 0; i < ns->n_mounts; i++) {
		MntEntry *m = ns->mounts[i];
		MntKind k;
		const char *key = ext_value(c->o, m->mountpoint);
		char name[IMG_NAME_MAX];

		if (m->has_peer_group) {
			struct host_mnt *h = host_peer(d, m->peer_group);
			if (h) {
				pr_err("pid %d: mount %u on %s is shared (peer group %llu) with mount %llu on %s "
				       "in crest's mount namespace: mounts would propagate out of the restored "
				       "tree; make it private or slave first (mount --make-private %s)", pid,
				       m->old_id, m->mountpoint, (unsigned long long)m->peer_group,
				       (unsigned long long)h->old_id, h->mp, m->mountpoint);
				return -ENOTSUP;
			}
		}
		if (m->has_master) {
			struct host_mnt *h = host_peer(d, m->master);
			if (h) {
				pr_err("pid %d: mount %u on %s is a slave of peer group %llu, whose mount %llu is "
				       "on %s in crest's mount namespace: the restored mount could not receive "
				       "from it; make it private first (mount --make-private %s)", pid, m->old_id,
				       m->mountpoint, (unsigned long long)m->master, (unsigned long long)h->old_id,
				       h->mp, m->mountpoint);
				return -ENOTSUP;
			}
		}
		if (key) {
			m->kind = MNT_KIND__MNT_EXTERNAL;
			m->ext_key = xstrdup(key);
			if (!m->ext_key)
				return -ENOMEM;
			continue;
		}
		/* a file system made earlier in this namespace: a bind of it */
		for (size_t j = 0; j < i; j++) {
			MntEntry *e = ns->mounts[j];
			const char *in;
			if (e->dev_major != m->dev_major || e->dev_minor != m->dev_minor ||
			    e->kind == MNT_KIND__MNT_BIND)
				continue;
			in = path_inside(m->root, e->root);
			if (!in)
				continue;
			m->kind = MNT_KIND__MNT_BIND;
			m->has_bind_of = true;
			m->bind_of = e->id;
			m->bind_path = xstrdup(in);
			if (!m->bind_path)
				return -ENOMEM;
			break;
		}
		if (m->kind == MNT_KIND__MNT_BIND)
			continue;
		if (is_pseudo(m->fstype, &k)) {
			m->kind = k;
			continue;
		}
		m->host_path = host_path_of(d, m);
		if (m->host_path) {
			m->kind = MNT_KIND__MNT_EXTERNAL;
			continue;
		}
		if (!strcmp(m->fstype, "tmpfs")) {
			if (strcmp(m->root, "/")) {
				pr_err("pid %d: tmpfs mount %u on %s shows only %s of its file system, whose "
				       "root no mount shows: not supported", pid, m->old_id, m->mountpoint, m->root);
				return -ENOTSUP;
			}
			m->kind = MNT_KIND__MNT_TMPFS;
			snprintf(name, sizeof(name), "mnt-tmpfs-%u-%u.img", ns->id, m->old_id);
			m->content = xstrdup(name);
			if (!m->content)
				return -ENOMEM;
			continue;
		}
		pr_err("pid %d: mount %u on %s (%s %s, root %s, device %u:%u) is not in crest's mount "
		       "namespace and crest cannot make it again: mark it external at dump "
		       "(--external mnt[%s]:KEY) and say where it comes from at restore "
		       "(--external mnt[KEY]:HOSTPATH)", pid, m->old_id, m->mountpoint, m->fstype,
		       m->source ? m->source : "-", m->root, m->dev_major, m->dev_minor, m->mountpoint);
		return -ENOTSUP;
	}
	return 0;
}

/* After the probes: results into the entries, checks of external mounts. */
static int apply_probes(struct dump_ctx *c, struct ns_d *n, const struct probe *pr, pid_t pid)
{
	for (size_t i = 0; i < n->pb.n_mounts; i++) {
		MntEntry *m = n->pb.mounts[i];
		const struct probe *p = &pr[i];
		struct stat st;

		if (p->r < 0)
			return p->r;   /* logged by the helper */
		switch (m->kind) {
		case MNT_KIND__MNT_TMPFS:
			m->has_content_size = m->has_content_checksum = true;
			m->content_size = p->size;
			m->content_checksum = p->sum;
			break;
		case MNT_KIND__MNT_PROC:
			if (!p->pidns) {
				pr_err("pid %d: proc mount %u on %s: cannot tell which pid namespace it shows "
				       "(no pid 1 in it, or covered by another mount): not supported", pid,
				       m->old_id, m->mountpoint);
				return -ENOTSUP;
			}
			m->has_pidns_ino = m->has_pidns_task = true;
			m->pidns_ino = p->pidns;
			if (stat("/proc/self/ns/pid", &st) == 0 && st.st_ino == p->pidns)
				break;   /* crest's own: pidns_task 0 */
			for (size_t k = 0; k < c->nr_tasks && !m->pidns_task; k++)
				if (c->tasks[k]->pidns_ino == p->pidns && !c->tasks[k]->zombie)
					m->pidns_task = c->tasks[k]->pid;
			if (!m->pidns_task) {
				pr_err("pid %d: proc mount %u on %s shows pid namespace %llu, which is neither "
				       "crest's nor one a task of the tree is in: not supported", pid, m->old_id,
				       m->mountpoint, (unsigned long long)p->pidns);
				return -ENOTSUP;
			}
			break;
		case MNT_KIND__MNT_EXTERNAL:
			if (!m->host_path)
				break;
			if (stat(m->host_path, &st) < 0 || (uint32_t)major(st.st_dev) != m->dev_major ||
			    (uint32_t)minor(st.st_dev) != m->dev_minor || (p->reachable && st.st_ino != p->ino)) {
				pr_err("pid %d: mount %u on %s (%s, root %s): its files are not at %s in crest's "
				       "mount namespace (covered, or another file there): mark it external "
				       "(--external mnt[%s]:KEY)", pid, m->old_id, m->mountpoint, m->fstype,
				       m->root, m->host_path, m->mountpoint);
				return -ENOTSUP;
			}
			m->has_host_dev = m->has_host_ino = true;
			m->host_dev = st.st_dev;
			m->host_ino = st.st_ino;
			break;
		default:
			break;
		}
	}
	return 0;
}

static int load_ns(struct dump_ctx *c, struct mnt_dump *d, struct ns_d *n, pid_t pid)
{
	char p[64];
	_cleanup_close_ int nsfd = -1;
	_cleanup_free_ uint64_t *ids = NULL;
	_cleanup_free_ struct crest_statmount *s = NULL;
	_cleanup_free_ MntEntry **raw = NULL;
	_cleanup_free_ struct probe *pr = NULL;
	size_t nids = 0, cap = 0, nraw = 0;
	uint64_t nsid = 0;
	int r;

	r = load_host(d);
	if (r < 0)
		return r;
	snprintf(p, sizeof(p), "/proc/%d/ns/mnt", pid);
	nsfd = open(p, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return pr_errno(-errno, "pid %d: cannot open %s", pid, p);
	if (ioctl(nsfd, NS_GET_MNTNS_ID, &nsid) < 0)
		return pr_errno(-errno, "pid %d: the id of its mount namespace (NS_GET_MNTNS_ID, Linux 6.11)", pid);
	r = list_mounts(nsid, &ids, &nids);
	if (r < 0)
		return pr_errno(r, "pid %d: listmount of its mount namespace", pid);
	raw = calloc(nids ? nids : 1, sizeof(*raw));
	if (!raw)
		return -ENOMEM;
	for (size_t i = 0; i < nids; i++) {
		r = sm_get(ids[i], nsid, STATMOUNT_SB_BASIC | STATMOUNT_MNT_BASIC | STATMOUNT_MNT_ROOT |
				   STATMOUNT_MNT_POINT | STATMOUNT_FS_TYPE | STATMOUNT_MNT_OPTS |
				   STATMOUNT_SB_SOURCE | STATMOUNT_OPT_ARRAY, &s, &cap);
		if (r < 0) {
			r = pr_errno(r, "pid %d: statmount of mount %llu of its mount namespace", pid,
				     (unsigned long long)ids[i]);
			goto fail;
		}
		raw[nraw] = entry_from_sm(s);
		if (!raw[nraw]) {
			r = -ENOMEM;
			goto fail;
		}
		nraw++;
	}
	r = order_tree(raw, nraw, &n->pb.mounts);
	if (r < 0) {
		if (r == -EINVAL)
			pr_err("pid %d: the mounts of its namespace do not form a tree", pid);
		goto fail;
	}
	n->pb.n_mounts = nraw;
	nraw = 0;
	r = classify(c, d, n, pid);
	if (r < 0)
		return r;
	pr = calloc(n->pb.n_mounts ? n->pb.n_mounts : 1, sizeof(*pr));
	if (!pr)
		return -ENOMEM;
	r = run_helper(c, n, nsfd, pr);
	if (r < 0)
		return r;
	r = apply_probes(c, n, pr, pid);
	if (r < 0)
		return r;
	pr_info("pid %d: mount namespace %llu: %zu mounts", pid, (unsigned long long)n->ino, n->pb.n_mounts);
	return 0;
fail:
	for (size_t i = 0; i < nraw; i++)
		entry_free(raw[i]);
	return r;
}

static struct mnt_dump *get_d(struct dump_ctx *c)
{
	struct mnt_dump *d = c->mod[MOD_MNT];

	if (d)
		return d;
	d = xzalloc(sizeof(*d));
	if (!d)
		return NULL;
	if (ns_ino_of(0, &d->self_ino) < 0) {
		free(d);
		return NULL;
	}
	c->mod[MOD_MNT] = d;
	return d;
}

/* The namespace record of pid, made (and its tree recorded) on first use;
 * NULL in *out for crest's own namespace. */
static int task_ns(struct dump_ctx *c, pid_t pid, struct ns_d **out)
{
	struct mnt_dump *d = get_d(c);
	uint64_t ino;
	struct ns_d *n;
	int r;

	*out = NULL;
	if (!d)
		return -ENOMEM;
	r = ns_ino_of(pid, &ino);
	if (r < 0)
		return pr_errno(r, "pid %d: cannot read its mount namespace (/proc/%d/ns/mnt)", pid, pid);
	if (ino == d->self_ino)
		return 0;
	for (size_t i = 0; i < d->nns; i++)
		if (d->ns[i].ino == ino) {
			*out = &d->ns[i];
			return d->ns[i].root_fd >= 0 ? 0 : -EIO;
		}
	n = realloc(d->ns, (d->nns + 1) * sizeof(*d->ns));
	if (!n)
		return -ENOMEM;
	d->ns = n;
	n = &d->ns[d->nns];
	memset(n, 0, sizeof(*n));
	mnt_ns__init(&n->pb);
	n->ino = ino;
	n->root_fd = -1;
	n->pb.id = (uint32_t)d->nns;
	n->pb.ino = ino;
	n->pids = malloc(sizeof(*n->pids));
	if (!n->pids)
		return -ENOMEM;
	n->pids[0] = pid;
	n->npids = 1;
	n->pb.pids = n->pids;
	n->pb.n_pids = 1;
	d->nns++;
	r = load_ns(c, d, n, pid);
	if (r < 0)
		return r;
	*out = n;
	return 0;
}

int mnt_dump_rootfd(struct dump_ctx *c, pid_t pid)
{
	struct ns_d *n;
	int r = task_ns(c, pid, &n);

	if (r < 0)
		return r;
	return n ? n->root_fd : AT_FDCWD;
}

int mnt_dump_task_ns(struct dump_ctx *c, pid_t pid)
{
	struct ns_d *n;
	return task_ns(c, pid, &n);
}

bool mnt_dump_foreign(struct dump_ctx *c, pid_t pid)
{
	struct ns_d *n;
	return task_ns(c, pid, &n) == 0 && n;
}

int mnt_dump_stat(struct dump_ctx *c, pid_t pid, const char *path, struct stat *st, bool nofollow)
{
	int fd = mnt_dump_rootfd(c, pid);

	if (fd < 0 && fd != AT_FDCWD)
		return fd;
	if (fd == AT_FDCWD)
		return (nofollow ? lstat(path, st) : stat(path, st)) < 0 ? -errno : 0;
	if (path[0] != '/')
		return -ENOENT;
	return fstatat(fd, rel(path), st, nofollow ? AT_SYMLINK_NOFOLLOW : 0) < 0 ? -errno : 0;
}

int mnt_dump_covered(struct dump_ctx *c, pid_t pid, int fd, const char *path, uint32_t *mnt_id, char **rel)
{
	struct ns_d *n;
	struct statx sx;
	int r = task_ns(c, pid, &n);

	if (r < 0)
		return r;
	if (!n || path[0] != '/' ||
	    syscall(SYS_statx, fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0 || !(sx.stx_mask & STATX_MNT_ID))
		return 0;
	for (size_t i = 0; i < n->pb.n_mounts; i++) {
		const MntEntry *m = n->pb.mounts[i];
		const char *in;
		if (m->old_id != sx.stx_mnt_id)
			continue;
		in = path_inside(path, m->mountpoint);
		if (!in)
			return 0;
		*rel = xstrdup(*in ? in : ".");
		if (!*rel)
			return -ENOMEM;
		*mnt_id = m->old_id;
		pr_info("pid %d: %s is on mount %u (%s), covered since: reopened in it", pid, path, m->old_id,
			m->mountpoint);
		return 1;
	}
	return 0;
}

int mnt_dump_unreachable(struct dump_ctx *c, pid_t pid, const char *what, const char *path, int fd)
{
	struct mnt_dump *d = get_d(c);
	struct statx sx;
	const char *where = NULL;
	bool known = false;

	if (d && load_host(d) == 0 &&
	    syscall(SYS_statx, fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) == 0 && (sx.stx_mask & STATX_MNT_ID)) {
		known = true;
		for (size_t i = 0; i < d->nhost; i++)
			if (d->host[i].old_id == sx.stx_mnt_id)
				where = d->host[i].mp;
	}
	for (size_t i = 0; known && !where && d && i < d->nns; i++)
		for (size_t k = 0; k < d->ns[i].pb.n_mounts; k++)
			if (d->ns[i].pb.mounts[k]->old_id == sx.stx_mnt_id) {
				pr_err("pid %d: %s (%s) is on mount %llu (%s) of another mount namespace of the tree "
				       "(pid %d's): a file opened across mount namespaces is not supported yet; "
				       "open it again inside the task's own namespace", pid, what, path,
				       (unsigned long long)sx.stx_mnt_id, d->ns[i].pb.mounts[k]->mountpoint,
				       d->ns[i].pids[0]);
				return -ENOTSUP;
			}
	if (known && !where) {
		pr_err("pid %d: %s (%s) is on mount %llu, which is in none of the tree's mount namespaces "
		       "nor in crest's (unmounted since it was opened, e.g. the old root of a pivot_root): "
		       "the task could not reach it after a restore; close it before the dump, or open it "
		       "through a mount of the task's namespace (a bind marked --external "
		       "mnt[MOUNTPOINT]:KEY)", pid, what, path, (unsigned long long)sx.stx_mnt_id);
	} else if (where) {
		pr_err("pid %d: %s (%s) is on mount %llu (%s in crest's mount namespace), which is in none "
		       "of the tree's mount namespaces: the task could not reach it after a restore; close "
		       "it before the dump, or bind its directory into the task's namespace and mark that "
		       "mount --external mnt[MOUNTPOINT]:KEY", pid, what, path, (unsigned long long)sx.stx_mnt_id,
		       where);
	} else {
		pr_err("pid %d: %s (%s) is not reachable in the task's mount namespace (deleted, replaced, "
		       "or on a mount of another namespace): not supported", pid, what, path);
	}
	return -ENOTSUP;
}

/* crest show: each namespace's tree, one line a mount, children under their
 * parent (in stacking order), indented by depth */
static void show_one(FILE *out, const MntNs *ns, size_t k, int depth)
{
	static const char *const kinds[] = { "tmpfs (archived)", "proc (made anew)", "sysfs (made anew)",
		"devpts (made anew)", "mqueue (made anew)", "cgroup2 (made anew)", "bind", "external" };
	const MntEntry *m = ns->mounts[k];

	fprintf(out, "    %*s%s  %s %s, root %s, %s%s%s%s%s%s%s%s", depth * 2, "", m->mountpoint, m->fstype,
		m->source ? m->source : "-", m->root, m->kind < ARRAY_SIZE(kinds) ? kinds[m->kind] : "?",
		m->host_path ? " of " : "", m->host_path ? m->host_path : "", m->ext_key ? " key " : "",
		m->ext_key ? m->ext_key : "", (m->attr & MOUNT_ATTR_RDONLY) ? ", ro" : "",
		(m->propagation & MS_UNBINDABLE) ? ", unbindable" : "", m->has_master ? ", slave" : "");
	if (m->has_peer_group)
		fprintf(out, ", shared:%llu", (unsigned long long)m->peer_group);
	fputc('\n', out);
	if (depth > 64)
		return;
	for (size_t j = 0; j < ns->n_mounts; j++)
		if (j != k && ns->mounts[j]->parent == m->id)
			show_one(out, ns, j, depth + 1);
}

void mnt_show_tree(FILE *out, const ProtobufCMessage *msg)
{
	const MntNss *all = (const MntNss *)msg;

	for (size_t i = 0; i < all->n_ns; i++) {
		const MntNs *ns = all->ns[i];
		fprintf(out, "  mount tree of namespace %llu (%zu mounts):\n", (unsigned long long)ns->ino,
			ns->n_mounts);
		for (size_t k = 0; k < ns->n_mounts; k++) {
			bool top = true;
			for (size_t j = 0; j < ns->n_mounts && top; j++)
				top = ns->mounts[j]->id != ns->mounts[k]->parent;
			if (top)
				show_one(out, ns, k, 0);
		}
	}
}

/* ------------------------------------------------------------- module */

static int mnt_dump(struct dump_ctx *c, struct dump_task *t)
{
	struct ns_d *n;
	int r = task_ns(c, t->pid, &n);

	if (r < 0 || !n)
		return r;
	for (size_t i = 0; i < n->npids; i++)
		if (n->pids[i] == t->pid)
			return 0;
	int32_t *p = realloc(n->pids, (n->npids + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	p[n->npids++] = t->pid;
	n->pids = p;
	n->pb.pids = p;
	n->pb.n_pids = n->npids;
	return 0;
}

static void mnt_dump_free(struct mnt_dump *d)
{
	for (size_t i = 0; i < d->nhost; i++) {
		free(d->host[i].root);
		free(d->host[i].mp);
	}
	free(d->host);
	for (size_t i = 0; i < d->nns; i++) {
		struct ns_d *n = &d->ns[i];
		for (size_t k = 0; k < n->pb.n_mounts; k++)
			entry_free(n->pb.mounts[k]);
		free(n->pb.mounts);
		free(n->pids);
		if (n->root_fd >= 0)
			close(n->root_fd);
	}
	free(d->ns);
	free(d);
}

static int mnt_dump_fini(struct dump_ctx *c, bool ok)
{
	struct mnt_dump *d = c->mod[MOD_MNT];
	int r = 0;

	if (!d)
		return 0;
	if (ok && d->nns) {
		MntNss all = MNT_NSS__INIT;
		MntNs **list = calloc(d->nns, sizeof(*list));
		if (!list) {
			r = -ENOMEM;
		} else {
			for (size_t i = 0; i < d->nns; i++)
				list[i] = &d->ns[i].pb;
			all.ns = list;
			all.n_ns = d->nns;
			r = img_write(c->dirfd, MNT_IMG, &all.base);
			free(list);
		}
	}
	if (!ok || r < 0)
		for (size_t i = 0; i < d->nns; i++)
			for (size_t k = 0; k < d->ns[i].pb.n_mounts; k++)
				if (d->ns[i].pb.mounts[k]->content)
					unlinkat(c->dirfd, d->ns[i].pb.mounts[k]->content, 0);
	mnt_dump_free(d);
	c->mod[MOD_MNT] = NULL;
	return r;
}

const struct crest_module mnt_module = {
	.name = "mnt",
	.dump = mnt_dump,
	.dump_fini = mnt_dump_fini,
	.load = mnt_restore_load,        /* mnt_restore.c */
	.restore_fini = mnt_restore_fini,
};
