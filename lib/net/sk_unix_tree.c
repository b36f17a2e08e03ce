/* SPDX-License-Identifier: MIT */
/*
 * Unix domain sockets of the whole tree, at dump (sk_unix.c has the header
 * comment): once every task is dumped, every peer and pending client is
 * looked up among the sockets of the tree, the sockets that depend on each
 * other are grouped in clusters, each cluster gets its creator task, and
 * sk-unix.img is written.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "fs/files_priv.h"
#include "image/image.h"
#include "util/log.h"
#include "sk_unix.h"
#include "sk_unix_dump.h"
#include "core/task.h"
#include "util/util.h"

static struct sku *tree_sk(struct skunix_dump *sd, size_t ns, uint32_t ino)
{
	for (size_t i = 0; ino && i < sd->n; i++)
		if (sd->sk[i]->pb.ino == ino && sd->sk[i]->ns == ns)
			return sd->sk[i];
	return NULL;
}

static bool in_tree(struct dump_ctx *c, pid_t p)
{
	for (size_t i = 0; i < c->nr_tasks; i++)
		if (c->tasks[i]->pid == p)
			return true;
	return false;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* A process outside the tree holding one of the sockets inos[] (sorted):
 * 1 and who (pid, fd, ino), 0 if none. */
static int holder_outside(struct dump_ctx *c, const uint64_t *inos, size_t n, pid_t *hp, int *hfd,
			  uint64_t *hino)
{
	pid_t self = getpid();
	struct dirent *de;
	int found = 0;
	DIR *proc = opendir("/proc");

	if (!proc)
		return pr_errno(-errno, "cannot list /proc to look for other holders of the sockets");
	while (!found && (de = readdir(proc))) {
		char path[64], buf[64];
		struct dirent *fe;
		DIR *fdd;
		int dfd;
		pid_t p = (pid_t)atoi(de->d_name);

		if (p <= 0 || p == self || in_tree(c, p))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", p);
		dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			continue;
		fdd = fdopendir(dfd);
		if (!fdd) {
			close(dfd);
			continue;
		}
		while (!found && (fe = readdir(fdd))) {
			ssize_t len;
			uint64_t ino;
			if (fe->d_name[0] == '.')
				continue;
			len = readlinkat(dirfd(fdd), fe->d_name, buf, sizeof(buf) - 1);
			if (len <= 8)
				continue;
			buf[len] = 0;
			if (strncmp(buf, "socket:[", 8))
				continue;
			ino = strtoull(buf + 8, NULL, 10);
			if (!bsearch(&ino, inos, n, sizeof(*inos), cmp_u64))
				continue;
			*hp = p;
			*hfd = atoi(fe->d_name);
			*hino = ino;
			found = 1;
		}
		closedir(fdd);
	}
	closedir(proc);
	return found;
}

/* "held by pid X (fd Y), outside the dumped tree" or "held by no process" */
static int who_holds(struct dump_ctx *c, uint64_t ino, char *buf, size_t size)
{
	pid_t hp = 0;
	int hfd = -1, r;
	uint64_t hino;

	r = holder_outside(c, &ino, 1, &hp, &hfd, &hino);
	if (r < 0)
		return r;
	if (r)
		snprintf(buf, size, "held by pid %d (fd %d), outside the dumped tree", hp, hfd);
	else
		snprintf(buf, size, "held by no process (being passed, or closed)");
	return 0;
}

static int collect_holders(struct skunix_dump *sd, struct dstate **tasks, size_t n)
{
	for (size_t t = 0; t < n; t++)
		for (size_t i = 0; i < tasks[t]->nr_files; i++) {
			struct dfile *f = &tasks[t]->files[i];
			struct sku *u;
			struct holder *h;
			if (f->pb.kind != FILES_KIND__FILES_UNIXSK || !f->pb.has_unixsk_id ||
			    f->pb.unixsk_id >= sd->n)
				continue;
			u = sd->sk[f->pb.unixsk_id];
			h = realloc(u->h, (u->nh + 1) * sizeof(*h));
			if (!h)
				return pr_errno(-ENOMEM, "unix sockets");
			u->h = h;
			h[u->nh++] = (struct holder){ tasks[t], i };
		}
	return 0;
}

/* Nobody outside the tree may hold a socket of the tree. */
static int check_outside(struct dump_ctx *c, struct skunix_dump *sd)
{
	_cleanup_free_ uint64_t *inos = calloc(sd->n + 1, sizeof(*inos));
	pid_t hp = 0;
	int hfd = -1, r;
	uint64_t hino = 0;
	char desc[256];

	if (!inos)
		return -ENOMEM;
	for (size_t i = 0; i < sd->n; i++)
		inos[i] = sd->sk[i]->pb.ino;
	qsort(inos, sd->n, sizeof(*inos), cmp_u64);
	r = holder_outside(c, inos, sd->n, &hp, &hfd, &hino);
	if (r <= 0)
		return r;
	for (size_t i = 0; i < sd->n; i++)
		if (sd->sk[i]->pb.ino == hino) {
			struct sku *u = sd->sk[i];
			pr_err("pid %d: fd %d is %s, which is also open in pid %d (fd %d), outside the "
			       "dumped tree: dump a process tree that holds every copy of it", u->pid, u->fd,
			       skunix_what(u, desc, sizeof(desc)), hp, hfd);
		}
	return -ENOTSUP;
}

/* The listener of the net namespace that has ino among its pending clients. */
static const struct skd *listener_of(const struct skd_ns *ns, uint32_t ino)
{
	for (size_t i = 0; i < ns->n; i++)
		for (uint32_t k = 0; k < ns->e[i].nr_icons; k++)
			if (ns->e[i].icons[k] == ino)
				return &ns->e[i];
	return NULL;
}

static bool same_name(const struct skd *a, const struct skd *b)
{
	if (!a->name_len || a->name_len != b->name_len)
		return false;
	if (a->name[0] != 0 && a->has_vfs && b->has_vfs)
		return a->vfs_dev == b->vfs_dev && a->vfs_ino == b->vfs_ino;
	return !memcmp(a->name, b->name, a->name_len);
}

/* A named connected socket carrying the name of a listener (or of another
 * socket sharing its file): it was accepted. */
static bool name_is_listeners(const struct skd_ns *ns, const struct skd *x)
{
	for (size_t i = 0; i < ns->n; i++) {
		const struct skd *e = &ns->e[i];
		if (e != x && e->type == x->type && same_name(e, x) &&
		    (e->state == SK_LISTEN || x->name[0] != 0))
			return true;
	}
	return false;
}

static int refuse_peer(struct dump_ctx *c, struct sku *u, uint64_t peer, const char *why)
{
	char desc[256], who[128];
	int r = who_holds(c, peer, who, sizeof(who));

	if (r < 0)
		return r;
	pr_err("pid %d: fd %d is %s, %s socket:[%" PRIu64 "] %s: dump a process tree that holds "
	       "both ends", u->pid, u->fd, skunix_what(u, desc, sizeof(desc)), why, peer, who);
	return -ENOTSUP;
}

static int resolve_peer(struct dump_ctx *c, struct skunix_dump *sd, struct sku *u)
{
	const struct skd_ns *ns = &sd->ns[u->ns];
	const struct skd *de = u->de, *pe = skd_find(ns, de->peer);
	struct sku *v = tree_sk(sd, u->ns, de->peer);
	char desc[256];

	if (u->pb.state == SK_LISTEN || u->pb.has_pending_on)
		return 0;
	u->pb.has_peer_kind = true;
	if (de->peer) {
		u->pb.has_peer_ino = true;
		u->pb.peer_ino = de->peer;
	}
	if (v) {
		if (u->pb.type != SOCK_DGRAM && v->de->peer != de->ino) {
			pr_err("pid %d: fd %d is %s, connected to socket:[%u], which is connected to "
			       "socket:[%u]: inconsistent, try again", u->pid, u->fd,
			       skunix_what(u, desc, sizeof(desc)), de->peer, v->de->peer);
			return -EAGAIN;
		}
		u->pb.peer_kind = UNIX_SK_PEER_KIND__UNIXSK_PEER_TREE;
		u->pb.has_peer_id = true;
		u->pb.peer_id = v->pb.id;
		return 0;
	}
	if (u->pb.type != SOCK_DGRAM) {
		const struct skd *l;
		if (u->pb.state != SK_ESTABLISHED) {
			if (u->pb.state == SK_CLOSE)
				return 0;
			pr_err("pid %d: fd %d is %s in state %u: not supported yet", u->pid, u->fd,
			       skunix_what(u, desc, sizeof(desc)), u->pb.state);
			return -ENOTSUP;
		}
		if (pe)
			return refuse_peer(c, u, de->peer, "connected to");
		l = listener_of(ns, de->ino);
		if (l) {
			/* the listeners of the tree took theirs already */
			char who[128];
			int r = who_holds(c, l->ino, who, sizeof(who));
			if (r < 0)
				return r;
			pr_err("pid %d: fd %d is %s, a connection not accepted yet by the listening "
			       "socket:[%u] %s: dump a process tree that holds the listener", u->pid, u->fd,
			       skunix_what(u, desc, sizeof(desc)), l->ino, who);
			return -ENOTSUP;
		}
		u->pb.peer_kind = UNIX_SK_PEER_KIND__UNIXSK_PEER_CLOSED;
		return 0;
	}
	/* datagram */
	if (pe) {
		char name[SKUNIX_NAME_MAX + 1];
		struct stat st;
		if (!pe->name_len)
			return refuse_peer(c, u, de->peer, "connected to the unnamed");
		if (pe->name[0] != 0) {
			memcpy(name, pe->name, pe->name_len);
			name[pe->name_len] = 0;
			if (!pe->has_vfs || stat(name, &st) < 0 || st.st_dev != pe->vfs_dev ||
			    st.st_ino != pe->vfs_ino)
				return refuse_peer(c, u, de->peer, "connected to the socket whose name no "
						   "longer leads to it,");
		}
		u->pb.peer_kind = UNIX_SK_PEER_KIND__UNIXSK_PEER_EXTERNAL;
		u->pb.has_peer_name = true;
		u->pb.peer_name.data = malloc(pe->name_len);
		if (!u->pb.peer_name.data)
			return -ENOMEM;
		memcpy(u->pb.peer_name.data, pe->name, pe->name_len);
		u->pb.peer_name.len = pe->name_len;
		pr_info("pid %d: fd %d is %s, connected to socket:[%u] (%s) outside the tree: it will be "
			"connected to that name again", u->pid, u->fd, skunix_what(u, desc, sizeof(desc)), pe->ino,
			skunix_name_str(pe->name, pe->name_len, name, sizeof(name)));
		return 0;
	}
	u->pb.peer_kind = u->has_peer ? UNIX_SK_PEER_KIND__UNIXSK_PEER_CLOSED : UNIX_SK_PEER_KIND__UNIXSK_PEER_NONE;
	return 0;
}

/* A listener's pending connections: their clients must be in the tree,
 * without data sent yet (that sits in a socket no fd reaches). */
static int resolve_pending(struct dump_ctx *c, struct skunix_dump *sd, struct sku *l)
{
	char desc[256], cdesc[256], who[128];
	int r;

	for (uint32_t k = 0; k < l->de->nr_icons; k++) {
		uint32_t ino = l->de->icons[k];
		struct sku *v = tree_sk(sd, l->ns, ino);
		uint32_t *p;

		if (!v) {
			r = who_holds(c, ino, who, sizeof(who));
			if (r < 0)
				return r;
			pr_err("pid %d: fd %d is %s, listening with a connection not accepted yet from "
			       "socket:[%u] %s: not supported", l->pid, l->fd, skunix_what(l, desc, sizeof(desc)),
			       ino, who);
			return -ENOTSUP;
		}
		if (v->de->wmem) {
			pr_err("pid %d: fd %d is %s, a connection to %s not accepted yet, with data sent on "
			       "it already: not supported yet", v->pid, v->fd, skunix_what(v, cdesc, sizeof(cdesc)),
			       skunix_what(l, desc, sizeof(desc)));
			return -ENOTSUP;
		}
		p = realloc(l->pb.pending, (l->pb.n_pending + 1) * sizeof(*p));
		if (!p)
			return -ENOMEM;
		l->pb.pending = p;
		p[l->pb.n_pending++] = v->pb.id;
		v->pb.has_pending_on = true;
		v->pb.pending_on = l->pb.id;
	}
	return 0;
}

static int uf_find(struct skunix_dump *sd, int i)
{
	while (sd->sk[i]->uf != i)
		i = sd->sk[i]->uf = sd->sk[sd->sk[i]->uf]->uf;
	return i;
}

static void uf_union(struct skunix_dump *sd, int a, int b)
{
	a = uf_find(sd, a);
	b = uf_find(sd, b);
	if (a != b)
		sd->sk[MAX(a, b)]->uf = MIN(a, b);
}

/* Which end of a connection was accepted (made again by accept() on a
 * socket of its name); pairs of unnamed ends are made with socketpair(). */
static int roles(struct dump_ctx *c, struct skunix_dump *sd)
{
	char desc[256];

	for (size_t i = 0; i < sd->n; i++) {
		struct sku *u = sd->sk[i], *v, *a = NULL;
		const struct skd_ns *ns = &sd->ns[u->ns];
		if (u->pb.peer_kind == UNIX_SK_PEER_KIND__UNIXSK_PEER_CLOSED && u->pb.type != SOCK_DGRAM &&
		    u->de->name_len && (u->pb.name_kind != UNIX_SK_NAME_KIND__UNIXSK_PATH ||
					name_is_listeners(ns, u->de)))
			a = u;
		/* an unnamed datagram socket whose peer was closed: a socketpair
		 * whose other end sends its queue, then is closed */
		if (u->pb.peer_kind == UNIX_SK_PEER_KIND__UNIXSK_PEER_CLOSED && u->pb.type == SOCK_DGRAM &&
		    !u->de->name_len)
			u->pair = true;
		if (u->pb.peer_kind == UNIX_SK_PEER_KIND__UNIXSK_PEER_TREE) {
			v = sd->sk[u->pb.peer_id];
			uf_union(sd, (int)u->pb.id, (int)v->pb.id);
			if (u->pb.type == SOCK_DGRAM) {
				u->pair = v->pb.peer_kind == UNIX_SK_PEER_KIND__UNIXSK_PEER_TREE &&
					  v->pb.peer_id == u->pb.id && !u->de->name_len && !v->de->name_len;
				if (!u->pair && !v->de->name_len) {
					pr_err("pid %d: fd %d is %s, connected to the unnamed socket:[%" PRIu64
					       "], which is not connected back: not supported yet", u->pid,
					       u->fd, skunix_what(u, desc, sizeof(desc)), v->pb.ino);
					return -ENOTSUP;
				}
				continue;
			}
			if (v->pb.id < u->pb.id)
				continue;       /* one decision per connection */
			if (!u->de->name_len && !v->de->name_len)
				u->pair = v->pair = true;
			else if (!v->de->name_len)
				a = u;
			else if (!u->de->name_len)
				a = v;
			else
				a = name_is_listeners(ns, v->de) && !name_is_listeners(ns, u->de) ? v : u;
		}
		if (!a)
			continue;
		a->pb.has_accepted = a->pb.accepted = true;
		if (a->de->name[0] == 0) {
			/* an abstract name: the socket that restores the connection takes the
			 * name for a moment; its listener must be one of the tree */
			for (size_t k = 0; k < ns->n; k++) {
				const struct skd *e = &ns->e[k];
				struct sku *l;
				if (e->state != SK_LISTEN || !same_name(e, a->de))
					continue;
				l = tree_sk(sd, a->ns, e->ino);
				if (!l) {
					char who[128];
					int r = who_holds(c, e->ino, who, sizeof(who));
					if (r < 0)
						return r;
					pr_err("pid %d: fd %d is %s, a connection accepted from the listening "
					       "socket:[%u] %s: not supported yet", a->pid, a->fd,
					       skunix_what(a, desc, sizeof(desc)), e->ino, who);
					return -ENOTSUP;
				}
				uf_union(sd, (int)a->pb.id, (int)l->pb.id);
			}
		}
	}
	return 0;
}

static bool tree_pid(struct dump_ctx *c, pid_t p)
{
	return p > 0 && in_tree(c, p);
}

/* Can every message be put back?  Datagrams come from their sender: the
 * socketpair peer, a named socket of the tree (same cluster), or a
 * temporary socket of the same name (a path, or an abstract name nobody
 * holds). */
static int check_queues(struct dump_ctx *c, struct skunix_dump *sd)
{
	char desc[256], name[160];

	for (size_t i = 0; i < sd->n; i++) {
		struct sku *u = sd->sk[i];
		const struct skd_ns *ns = &sd->ns[u->ns];
		bool dgram = u->pb.type == SOCK_DGRAM;

		for (size_t k = 0; k < u->pb.n_queue; k++) {
			UnixSkMsg *m = u->pb.queue[k];
			if (m->has_cred_pid && !tree_pid(c, m->cred_pid)) {
				pr_err("pid %d: fd %d is %s: a message in its queue carries the credentials "
				       "of pid %d (SCM_CREDENTIALS, SO_PASSCRED), which is not a process of "
				       "the dumped tree: cannot be carried", u->pid, u->fd,
				       skunix_what(u, desc, sizeof(desc)), m->cred_pid);
				return -ENOTSUP;
			}
			if (!dgram) {
				if (u->pb.peer_kind != UNIX_SK_PEER_KIND__UNIXSK_PEER_TREE &&
				    u->pb.peer_kind != UNIX_SK_PEER_KIND__UNIXSK_PEER_CLOSED) {
					pr_err("pid %d: fd %d is %s, with data queued but no peer: not "
					       "supported", u->pid, u->fd, skunix_what(u, desc, sizeof(desc)));
					return -ENOTSUP;
				}
				continue;
			}
			if (u->pair) {
				if (m->has_sender && m->sender.len) {
					pr_err("pid %d: fd %d is %s: a datagram queued from %s, not from its "
					       "socketpair peer: not supported yet", u->pid, u->fd,
					       skunix_what(u, desc, sizeof(desc)),
					       skunix_name_str(m->sender.data, m->sender.len, name, sizeof(name)));
					return -ENOTSUP;
				}
				continue;
			}
			if (!u->de->name_len) {
				pr_err("pid %d: fd %d is %s: datagrams are queued in it, but it has no name "
				       "to send them to again: not supported yet", u->pid, u->fd,
				       skunix_what(u, desc, sizeof(desc)));
				return -ENOTSUP;
			}
			if (!m->has_sender || !m->sender.len)
				continue;
			/* the sender is a socket of the tree? */
			for (size_t j = 0; j < sd->n; j++) {
				struct sku *s = sd->sk[j];
				if (s->ns == u->ns && s->pb.type == SOCK_DGRAM && s->de->name_len == m->sender.len &&
				    !memcmp(s->de->name, m->sender.data, m->sender.len)) {
					uf_union(sd, (int)u->pb.id, (int)s->pb.id);
					goto next;
				}
			}
			if (m->sender.data[0] == 0) {
				for (size_t j = 0; j < ns->n; j++)
					if (ns->e[j].name_len == m->sender.len &&
					    !memcmp(ns->e[j].name, m->sender.data, m->sender.len)) {
						pr_err("pid %d: fd %d is %s: a datagram queued from %s, a name "
						       "held outside the dumped tree: cannot be sent again from that "
						       "name", u->pid, u->fd, skunix_what(u, desc, sizeof(desc)),
						       skunix_name_str(m->sender.data, m->sender.len, name,
								       sizeof(name)));
						return -ENOTSUP;
					}
			}
next:;
		}
	}
	return 0;
}

static int depth(const struct dstate *s)
{
	return s->t->n_nspid ? (int)s->t->n_nspid : 1;
}

/* A new description in the creator that holds socket u for other tasks at a
 * keep fd (above its own fds); returns that fd. */
static int add_keep(struct dstate *cs, const struct dfile *model)
{
	struct dfile *k;

	if (cs->nr_files == cs->cap_files) {
		size_t cap = cs->cap_files ? cs->cap_files * 2 : 8;
		struct dfile *n = realloc(cs->files, cap * sizeof(*n));
		if (!n)
			return pr_errno(-ENOMEM, "pid %d: unix sockets", cs->pid);
		cs->files = n;
		cs->cap_files = cap;
	}
	k = &cs->files[cs->nr_files];
	memset(k, 0, sizeof(*k));
	k->pb = model->pb;
	k->pb.path = strdup(model->pb.path ? model->pb.path : "socket");
	if (!k->pb.path)
		return pr_errno(-ENOMEM, "pid %d: unix sockets", cs->pid);
	k->pb.id = (uint32_t)cs->nr_files;
	k->pb.has_owner_pid = k->pb.has_owner_fd = false;
	k->lfd = -1;
	k->dev = model->dev;
	k->ino = model->ino;
	k->grp_task = k->grp_file = k->own_task = k->own_file = -1;
	k->pb.has_keep_fd = true;
	k->pb.keep_fd = k->fd = cs->max_fd + 1 + cs->nr_keep++;
	cs->nr_files++;
	return k->fd;
}

/* Each cluster: its creator (the deepest holder, first in tree order), the
 * keep fds, and where every other holder takes its socket from. */
static int assign(struct skunix_dump *sd)
{
	for (size_t i = 0; i < sd->n; i++) {
		struct sku *u = sd->sk[i];
		if (!u->nh) {
			pr_err("socket:[%" PRIu64 "]: no holder left in the tree", u->pb.ino);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < sd->n; i++) {
		int root = uf_find(sd, (int)i);
		struct dstate *cs = NULL;
		if ((size_t)root != i)
			continue;
		for (size_t j = 0; j < sd->n; j++) {
			struct sku *u = sd->sk[j];
			if (uf_find(sd, (int)j) != root)
				continue;
			for (size_t h = 0; h < u->nh; h++) {
				struct dstate *s = u->h[h].s;
				if (!cs || depth(s) > depth(cs) || (depth(s) == depth(cs) && s->idx < cs->idx))
					cs = s;
			}
		}
		for (size_t j = 0; j < sd->n; j++) {
			struct sku *u = sd->sk[j];
			int src = -1;
			if (uf_find(sd, (int)j) != root)
				continue;
			u->pb.creator_pid = cs->pid;
			u->pb.cluster = (uint32_t)root;
			for (size_t h = 0; h < u->nh; h++)
				if (u->h[h].s == cs) {
					struct dfile *f = &cs->files[u->h[h].f];
					f->pb.has_owner_pid = f->pb.has_owner_fd = false;
					if (src < 0)
						src = f->fd;
				}
			if (src < 0) {
				src = add_keep(cs, &u->h[0].s->files[u->h[0].f]);
				if (src < 0)
					return src;
				pr_debug("pid %d: keeps socket:[%" PRIu64 "] at fd %d for pid %d", cs->pid,
					 u->pb.ino, src, u->h[0].s->pid);
			}
			for (size_t h = 0; h < u->nh; h++) {
				struct dstate *s = u->h[h].s;
				struct dfile *f = &s->files[u->h[h].f];
				int r;
				if (s == cs)
					continue;
				r = fshare_need_visible(cs, s, f);
				if (r < 0)
					return r;
				f->pb.has_owner_pid = f->pb.has_owner_fd = true;
				f->pb.owner_pid = cs->pid;
				f->pb.owner_fd = src;
			}
		}
	}
	return 0;
}

static int write_image(struct dump_ctx *c, struct skunix_dump *sd)
{
	_cleanup_free_ UnixSk **p = calloc(sd->n + 1, sizeof(*p));
	UnixSks img = UNIX_SKS__INIT;
	size_t q = 0;
	int r;

	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < sd->n; i++) {
		p[i] = &sd->sk[i]->pb;
		q += p[i]->n_queue;
	}
	img.n_sks = sd->n;
	img.sks = p;
	r = img_write(c->dirfd, "sk-unix.img", &img.base);
	if (r < 0)
		return r;
	pr_info("%zu unix sockets, %zu queued messages", sd->n, q);
	return 0;
}

int skunix_dump_tree(struct dump_ctx *c, struct dstate **tasks, size_t n)
{
	struct skunix_dump *sd = c->skunix;
	int r;

	if (!sd || !sd->n)
		return 0;
	r = collect_holders(sd, tasks, n);
	if (r == 0)
		r = check_outside(c, sd);
	for (size_t i = 0; r == 0 && i < sd->n; i++)
		if (sd->sk[i]->pb.state == SK_LISTEN)
			r = resolve_pending(c, sd, sd->sk[i]);
	for (size_t i = 0; r == 0 && i < sd->n; i++)
		r = resolve_peer(c, sd, sd->sk[i]);
	for (size_t i = 0; r == 0 && i < sd->n; i++) {
		struct sku *u = sd->sk[i];
		for (size_t k = 0; k < u->pb.n_pending; k++)
			uf_union(sd, (int)u->pb.id, (int)u->pb.pending[k]);
	}
	if (r == 0)
		r = roles(c, sd);
	if (r == 0)
		r = check_queues(c, sd);
	if (r == 0)
		r = assign(sd);
	if (r == 0)
		r = write_image(c, sd);
	return r;
}
