/* SPDX-License-Identifier: MIT */
/*
 * Unix domain sockets: restore (sk_unix.c has the dump and the design).
 *
 * crest reads sk-unix.img once (.load of the first task with a socket) and
 * checks, before anything is forked, that every path a listener or a bound
 * socket goes back to is free or holds a stale socket (nobody answers at
 * it); anything else there is never touched and fails the restore.
 *
 * In the child (.prepare, native, before the fd numbers are placed) the
 * creator of a cluster makes all its sockets, in this order:
 *  1. the sockets, and the connections: socketpair() for two unnamed ends;
 *     for an accepted end, a temporary listener bound to the accepted end's
 *     name (in a temporary directory used as root, so a path name never
 *     meets the real file system) that the other end connects to, then
 *     accept();
 *  2. names: a path that still led to the socket is bound again at that
 *     path (a stale socket file there is replaced); a path that was
 *     unlinked is bound, with the very same name, under a temporary root
 *     made next to where the file was, and that root is removed at the end,
 *     so the socket has its name and no file, as before; abstract names;
 *  3. listen() with the backlog;
 *  4. the receive queues, sent again in order by the peer, or for
 *     datagrams by their sender (a socket of the tree, or a temporary
 *     socket bound to the sender's name), with their SCM_CREDENTIALS;
 *  5. pending connections: each client connects to its listener again;
 *  6. datagram sockets connect to their peer (or to a socket closed at
 *     once, for a closed peer);
 *  7. shutdown, the other ends of closed peers closed, then the options.
 * The sockets other tasks hold are kept at keep fds (files.c) and taken by
 * them in .prepare2 (files_share.c).
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include "util/compat.h"
#include "fs/files_priv.h"
#include "image/image.h"
#include "util/log.h"
#include "pstree.pb-c.h"
#include "sk_unix.h"
#include "sk_unix_priv.h"
#include "sk_unix_rst.h"
#include "core/task.h"
#include "util/util.h"

/* ---------------------------------------------------------------- load */

static int check_img(UnixSks *img)
{
	for (size_t i = 0; i < img->n_sks; i++) {
		UnixSk *u = img->sks[i];
		bool bad = u->id != i || u->cluster >= img->n_sks ||
			   (u->type != SOCK_STREAM && u->type != SOCK_DGRAM && u->type != SOCK_SEQPACKET) ||
			   (u->has_name && u->name.len > SKUNIX_NAME_MAX) ||
			   (named(u) && !abstract(&u->name) && !u->fs_dir &&
			    u->name_kind == UNIX_SK_NAME_KIND__UNIXSK_PATH) ||
			   (u->peer_kind == UNIX_SK_PEER_KIND__UNIXSK_PEER_TREE &&
			    (!u->has_peer_id || u->peer_id >= img->n_sks ||
			     img->sks[u->peer_id]->creator_pid != u->creator_pid)) ||
			   (u->peer_kind == UNIX_SK_PEER_KIND__UNIXSK_PEER_EXTERNAL &&
			    (!u->has_peer_name || !u->peer_name.len || u->peer_name.len > SKUNIX_NAME_MAX)) ||
			   (u->has_pending_on && u->pending_on >= img->n_sks);
		for (size_t k = 0; !bad && k < u->n_pending; k++)
			bad = u->pending[k] >= img->n_sks || img->sks[u->pending[k]]->creator_pid != u->creator_pid;
		for (size_t k = 0; !bad && k < u->n_queue; k++)
			bad = !u->queue[k]->has_data ||
			      (u->queue[k]->has_sender && u->queue[k]->sender.len > SKUNIX_NAME_MAX);
		if (bad) {
			pr_err("sk-unix.img: socket %zu is inconsistent; the image is damaged", i);
			return -EBADMSG;
		}
	}
	return 0;
}

/* Before anything is forked: the path a socket is bound to again must be
 * free or a stale socket file (nobody answers there). */
static int precheck_path(const UnixSk *u)
{
	char path[PATH_MAX + SKUNIX_NAME_MAX], name[200];
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	_cleanup_close_ int p = -1;
	struct stat st;

	full_path(u, path, sizeof(path));
	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		pr_err("socket:[%" PRIu64 "] (unix %s) was bound to %s, which is now another file (mode "
		       "0%o): crest does not remove it; move it away to restore", u->ino,
		       skunix_type_name(u->type), path, st.st_mode);
		return -EEXIST;
	}
	if (strlen(path) >= sizeof(a.sun_path))
		return 0;       /* checked again where it is bound */
	strcpy(a.sun_path, path);
	p = socket(AF_UNIX, (int)u->type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (p < 0)
		return pr_errno(-errno, "socket");
	if (connect(p, (struct sockaddr *)&a, sizeof(a)) < 0 && errno == ECONNREFUSED)
		return 0;       /* stale: replaced at restore */
	pr_err("socket:[%" PRIu64 "] (unix %s, %s) was bound to %s, where a live socket answers now: "
	       "stop whatever listens there first", u->ino, skunix_type_name(u->type),
	       skr_name(u, name, sizeof(name)), path);
	return -EADDRINUSE;
}

static int load_img(struct restore_ctx *c)
{
	struct skunix_restore *sr;
	UnixSks *img = NULL;
	int r;

	r = img_read(c->dirfd, "sk-unix.img", &unix_sks__descriptor, (ProtobufCMessage **)&img, false);
	if (r < 0)
		return r;
	sr = xzalloc(sizeof(*sr));
	if (!sr) {
		protobuf_c_message_free_unpacked(&img->base, NULL);
		return -ENOMEM;
	}
	sr->img = img;
	c->skunix = sr;
	sr->r = calloc(img->n_sks + 1, sizeof(*sr->r));
	if (!sr->r)
		return -ENOMEM;
	for (size_t i = 0; i < img->n_sks; i++)
		sr->r[i] = (struct skr){ .fd = -1, .partner = -1, .troot = -1 };
	r = check_img(img);
	for (size_t i = 0; r == 0 && i < img->n_sks; i++) {
		UnixSk *u = img->sks[i];
		if (u->name_kind == UNIX_SK_NAME_KIND__UNIXSK_PATH && !u->accepted)
			r = precheck_path(u);
	}
	return r;
}

int skunix_load_desc(struct restore_ctx *c, struct restore_task *t, const FilesDesc *d, int fd)
{
	int r;

	if (!c->skunix) {
		r = load_img(c);
		if (r < 0)
			return r;
	}
	if (!d->has_unixsk_id || d->unixsk_id >= c->skunix->img->n_sks ||
	    SK(c->skunix, d->unixsk_id)->creator_pid != t->pid) {
		pr_err("pid %d: fd %d (%s): its unix socket is not in sk-unix.img or not made by this "
		       "task; the image is damaged", t->pid, fd, d->path ? d->path : "?");
		return -EBADMSG;
	}
	return 0;
}

void skunix_restore_fini(struct restore_ctx *c)
{
	struct skunix_restore *sr = c->skunix;

	if (!sr)
		return;
	if (sr->img)
		protobuf_c_message_free_unpacked(&sr->img->base, NULL);
	free(sr->r);
	free(sr);
	c->skunix = NULL;
}

/* ------------------------------------------------------- child: clusters */

/* Made with socketpair(): with its peer, or (closed peer) with a partner
 * that is closed at the end. */
static bool is_pair(struct skunix_restore *sr, const UnixSk *u)
{
	const UnixSk *v;

	if (u->peer_kind == UNIX_SK_PEER_KIND__UNIXSK_PEER_CLOSED)
		return u->type != SOCK_DGRAM ? !u->accepted : !named(u);
	if (u->peer_kind != UNIX_SK_PEER_KIND__UNIXSK_PEER_TREE)
		return false;
	v = SK(sr, u->peer_id);
	if (u->type != SOCK_DGRAM)
		return !u->accepted && !v->accepted;
	return v->peer_kind == UNIX_SK_PEER_KIND__UNIXSK_PEER_TREE && v->peer_id == u->id &&
	       !named(u) && !named(v);
}

static int pair(struct bctx *b, uint32_t type, int *x, int *y)
{
	int sp[2];

	if (socketpair(AF_UNIX, (int)type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp) < 0)
		return pr_errno(-errno, "pid %d: socketpair", b->t->pid);
	*x = skr_up(b, sp[0]);
	*y = skr_up(b, sp[1]);
	if (*x < 0 || *y < 0)
		return pr_errno(*x < 0 ? *x : *y, "pid %d: socketpair", b->t->pid);
	return 0;
}

/* 1. the sockets, connections made by socketpair() or accept() */
static int make_sockets(struct bctx *b, const uint32_t *m, size_t n)
{
	struct skunix_restore *sr = b->sr;
	int r;

	for (size_t i = 0; i < n; i++) {
		UnixSk *u = SK(sr, m[i]);
		struct skr *ru = &sr->r[u->id];

		if (ru->fd >= 0)
			continue;
		if (is_pair(sr, u) && u->peer_kind == UNIX_SK_PEER_KIND__UNIXSK_PEER_CLOSED) {
			r = pair(b, u->type, &ru->fd, &ru->partner);
		} else if (is_pair(sr, u)) {
			r = pair(b, u->type, &ru->fd, &sr->r[u->peer_id].fd);
		} else if (u->type != SOCK_DGRAM && u->peer_kind == UNIX_SK_PEER_KIND__UNIXSK_PEER_TREE) {
			UnixSk *v = SK(sr, u->peer_id), *a = u->accepted ? u : v, *cl = a == u ? v : u;
			int cfd = skr_mksock(b, cl->type), afd = -1;
			if (cfd < 0)
				return pr_errno(cfd, "pid %d: socket", b->t->pid);
			sr->r[cl->id].fd = cfd;
			r = named(cl) && !cl->accepted ? skr_bind_own(b, cl, cfd) : 0;
			if (r == 0)
				r = skr_make_accepted(b, a, cfd, &afd);
			sr->r[a->id].fd = afd;
		} else if (u->type != SOCK_DGRAM && u->peer_kind == UNIX_SK_PEER_KIND__UNIXSK_PEER_CLOSED) {
			/* accepted, its client closed */
			ru->partner = skr_mksock(b, u->type);
			r = ru->partner < 0 ? ru->partner : skr_make_accepted(b, u, ru->partner, &ru->fd);
		} else {
			ru->fd = skr_mksock(b, u->type);
			r = ru->fd < 0 ? pr_errno(ru->fd, "pid %d: socket", b->t->pid) : 0;
		}
		if (r < 0)
			return r;
	}
	/* 2. names, 3. listen */
	for (size_t i = 0; i < n; i++) {
		UnixSk *u = SK(sr, m[i]);
		bool bound_already = u->peer_kind == UNIX_SK_PEER_KIND__UNIXSK_PEER_TREE &&
				     u->type != SOCK_DGRAM && SK(sr, u->peer_id)->accepted;
		if (named(u) && !u->accepted && !bound_already) {
			r = skr_bind_own(b, u, sr->r[u->id].fd);
			if (r < 0)
				return r;
		}
		if (u->state == SK_LISTEN && listen(sr->r[u->id].fd, (int)u->backlog) < 0)
			return pr_errno(-errno, "pid %d: listen on socket:[%" PRIu64 "]", b->t->pid, u->ino);
	}
	return 0;
}

static void raise_sndbuf(int fd)
{
	int v = FILL_SNDBUF / 2;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v));
}

/* The sender of datagram m to u: a socket of the tree of that name, or an
 * unnamed one, or a temporary socket bound to that name (*tmp). */
static int dgram_sender(struct bctx *b, const UnixSkMsg *m, int *tmp)
{
	struct skunix_restore *sr = b->sr;
	struct place p = NOWHERE;
	int r, l;

	*tmp = -1;
	if (!m->has_sender || !m->sender.len) {
		if (b->tsend < 0) {
			b->tsend = skr_mksock(b, SOCK_DGRAM);
			if (b->tsend < 0)
				return pr_errno(b->tsend, "pid %d: socket", b->t->pid);
			raise_sndbuf(b->tsend);
		}
		return b->tsend;
	}
	for (size_t i = 0; i < sr->img->n_sks; i++) {
		UnixSk *s = SK(sr, (uint32_t)i);
		if (s->type == SOCK_DGRAM && named(s) && s->name.len == m->sender.len &&
		    !memcmp(s->name.data, m->sender.data, m->sender.len) && sr->r[i].fd >= 0) {
			raise_sndbuf(sr->r[i].fd);
			return sr->r[i].fd;
		}
	}
	*tmp = skr_mksock(b, SOCK_DGRAM);
	if (*tmp < 0)
		return pr_errno(*tmp, "pid %d: socket", b->t->pid);
	raise_sndbuf(*tmp);
	if (!abstract(&m->sender)) {
		int i = skr_troot_new(b, NULL);
		if (i < 0)
			return i;
		p = skr_troot_place(b, i);
	}
	r = skr_enter(&p);
	if (r == 0)
		r = skr_bind_at(*tmp, &m->sender, true);
	l = skr_leave(b, &p);
	if (r < 0) {
		char name[200];
		return pr_errno(r, "pid %d: cannot bind a socket to %s to send a queued datagram from it",
				b->t->pid, skunix_name_str(m->sender.data, m->sender.len, name, sizeof(name)));
	}
	return l < 0 ? l : *tmp;
}

/* 4. the receive queues, in order */
static int fill_queues(struct bctx *b, const uint32_t *m, size_t n)
{
	struct skunix_restore *sr = b->sr;
	char name[200];
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		UnixSk *u = SK(sr, m[i]);
		struct skr *ru = &sr->r[u->id];
		_cleanup_close_ int opened = -1;
		struct place p;
		int sfd;

		if (!u->n_queue)
			continue;
		if (u->type != SOCK_DGRAM || is_pair(sr, u)) {
			sfd = u->peer_kind == UNIX_SK_PEER_KIND__UNIXSK_PEER_TREE ? sr->r[u->peer_id].fd
										  : ru->partner;
			if (sfd < 0)
				return pr_errno(-EINVAL, "pid %d: socket:[%" PRIu64 "]: no peer to refill its "
						"queue from", b->t->pid, u->ino);
			raise_sndbuf(sfd);
			for (size_t k = 0; k < u->n_queue && r == 0; k++)
				r = skr_send_one(b, sfd, u->queue[k], NULL, u->type == SOCK_STREAM);
			if (r < 0)
				return pr_errno(r, "pid %d: socket:[%" PRIu64 "] (unix %s): cannot refill its "
						"queue", b->t->pid, u->ino, skunix_type_name(u->type));
			continue;
		}
		r = skr_own_place(b, u, &p, &opened);
		for (size_t k = 0; k < u->n_queue && r == 0; k++) {
			int tmp = -1, l;
			sfd = dgram_sender(b, u->queue[k], &tmp);
			if (sfd < 0) {
				r = sfd;
				break;
			}
			r = skr_enter(&p);
			if (r == 0)
				r = skr_send_one(b, sfd, u->queue[k], &u->name, false);
			l = skr_leave(b, &p);
			if (tmp >= 0)
				close(tmp);
			if (r == -EAGAIN)
				pr_err("pid %d: socket:[%" PRIu64 "] (%s): its queue of %zu datagrams does not "
				       "fit (net.unix.max_dgram_qlen)", b->t->pid, u->ino,
				       skr_name(u, name, sizeof(name)), u->n_queue);
			else if (r < 0)
				pr_errno(r, "pid %d: socket:[%" PRIu64 "] (%s): cannot refill its queue",
					 b->t->pid, u->ino, skr_name(u, name, sizeof(name)));
			if (r == 0)
				r = l;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* 5. pending connections, 6. datagram peers */
static int connect_all(struct bctx *b, const uint32_t *m, size_t n)
{
	struct skunix_restore *sr = b->sr;
	char name[200];
	int r = 0, l;

	for (size_t i = 0; i < n; i++) {
		UnixSk *u = SK(sr, m[i]);
		_cleanup_close_ int opened = -1;
		struct place p;

		if (u->state == SK_LISTEN && u->n_pending) {
			r = skr_own_place(b, u, &p, &opened);
			if (r < 0)
				return r;
			r = skr_enter(&p);
			for (size_t k = 0; k < u->n_pending && r == 0; k++)
				r = skr_connect_to(sr->r[u->pending[k]].fd, &u->name);
			l = skr_leave(b, &p);
			if (r < 0)
				return pr_errno(r, "pid %d: cannot connect the %zu pending clients to %s again",
						b->t->pid, u->n_pending, skr_name(u, name, sizeof(name)));
			if (l < 0)
				return l;
		}
		if (u->type != SOCK_DGRAM || is_pair(sr, u))
			continue;
		if (u->peer_kind == UNIX_SK_PEER_KIND__UNIXSK_PEER_TREE) {
			UnixSk *v = SK(sr, u->peer_id);
			r = skr_own_place(b, v, &p, &opened);
			if (r < 0)
				return r;
			r = skr_enter(&p);
			if (r == 0)
				r = skr_connect_to(sr->r[u->id].fd, &v->name);
			l = skr_leave(b, &p);
			if (r < 0)
				return pr_errno(r, "pid %d: cannot connect socket:[%" PRIu64 "] to %s again",
						b->t->pid, u->ino, skr_name(v, name, sizeof(name)));
			if (l < 0)
				return l;
		} else if (u->peer_kind == UNIX_SK_PEER_KIND__UNIXSK_PEER_EXTERNAL) {
			r = skr_connect_to(sr->r[u->id].fd, &u->peer_name);
			if (r < 0)
				return pr_errno(r, "pid %d: cannot connect socket:[%" PRIu64 "] to %s (outside "
						"the tree) again", b->t->pid, u->ino,
						skunix_name_str(u->peer_name.data, u->peer_name.len, name,
								sizeof(name)));
		} else if (u->peer_kind == UNIX_SK_PEER_KIND__UNIXSK_PEER_CLOSED) {
			/* connected to a socket that is closed at once */
			struct sockaddr_un a = { .sun_family = AF_UNIX };
			socklen_t al = sizeof(a);
			_cleanup_close_ int z = skr_mksock(b, SOCK_DGRAM);
			if (z < 0 || bind(z, (struct sockaddr *)&a, sizeof(sa_family_t)) < 0 ||
			    getsockname(z, (struct sockaddr *)&a, &al) < 0 ||
			    connect(sr->r[u->id].fd, (struct sockaddr *)&a, al) < 0)
				return pr_errno(-errno, "pid %d: socket:[%" PRIu64 "]: cannot connect it to a "
						"closed peer", b->t->pid, u->ino);
		}
	}
	return 0;
}

static void setopt(struct bctx *b, const UnixSk *u, int fd, int opt, const char *oname, int v)
{
	if (setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v)) < 0)
		pr_warn("pid %d: socket:[%" PRIu64 "]: cannot set %s to %d: %s", b->t->pid, u->ino, oname,
			v, strerror(errno));
}

/* 7. shutdown, closed peers, options */
static int finish_sockets(struct bctx *b, const uint32_t *m, size_t n)
{
	struct skunix_restore *sr = b->sr;

	for (size_t i = 0; i < n; i++) {
		UnixSk *u = SK(sr, m[i]);
		struct skr *ru = &sr->r[u->id];
		int how = u->shutdown == 3 ? SHUT_RDWR : u->shutdown == 2 ? SHUT_WR : SHUT_RD;
		if (u->shutdown && shutdown(ru->fd, how) < 0 && errno != ENOTCONN)
			return pr_errno(-errno, "pid %d: socket:[%" PRIu64 "]: shutdown", b->t->pid, u->ino);
		if (ru->partner >= 0)
			close(TAKE_FD(ru->partner));
	}
	for (size_t i = 0; i < n; i++) {
		UnixSk *u = SK(sr, m[i]);
		int fd = sr->r[u->id].fd;
		struct timeval tv;
		if (u->has_sndbuf)
			setopt(b, u, fd, SO_SNDBUFFORCE, "SO_SNDBUF", (int)(u->sndbuf / 2));
		if (u->has_rcvbuf)
			setopt(b, u, fd, SO_RCVBUFFORCE, "SO_RCVBUF", (int)(u->rcvbuf / 2));
		if (u->passcred)
			setopt(b, u, fd, SO_PASSCRED, "SO_PASSCRED", 1);
		if (u->passsec)
			setopt(b, u, fd, SO_PASSSEC, "SO_PASSSEC", 1);
		if (u->passpidfd)
			setopt(b, u, fd, SO_PASSPIDFD, "SO_PASSPIDFD", 1);
		if (u->has_peek_off && u->peek_off >= 0)
			setopt(b, u, fd, SO_PEEK_OFF, "SO_PEEK_OFF", u->peek_off);
		if (u->has_rcvlowat && u->rcvlowat != 1)
			setopt(b, u, fd, SO_RCVLOWAT, "SO_RCVLOWAT", u->rcvlowat);
		if (u->has_rcvtimeo_us) {
			tv = (struct timeval){ (time_t)(u->rcvtimeo_us / 1000000), (suseconds_t)(u->rcvtimeo_us % 1000000) };
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		}
		if (u->has_sndtimeo_us) {
			tv = (struct timeval){ (time_t)(u->sndtimeo_us / 1000000), (suseconds_t)(u->sndtimeo_us % 1000000) };
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		}
	}
	return 0;
}

static int build(struct bctx *b, const uint32_t *m, size_t n)
{
	int r = make_sockets(b, m, n);

	if (r == 0)
		r = fill_queues(b, m, n);
	if (r == 0)
		r = connect_all(b, m, n);
	if (r == 0)
		r = finish_sockets(b, m, n);
	return r;
}

int skunix_prepare(struct restore_ctx *c, struct restore_task *t, int base)
{
	struct skunix_restore *sr = c->skunix;
	struct bctx b = { .c = c, .t = t, .sr = sr, .base = base, .root = -1, .cwd = -1, .tsend = -1 };
	_cleanup_free_ uint32_t *m = NULL;
	size_t total = 0;
	int r = 0;

	if (!sr)
		return 0;
	for (size_t i = 0; i < sr->img->n_sks; i++)
		total += SK(sr, (uint32_t)i)->creator_pid == t->pid;
	if (!total)
		return 0;
	m = calloc(total, sizeof(*m));
	b.root = skr_up(&b, open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
	b.cwd = skr_up(&b, open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (!m || b.root < 0 || b.cwd < 0) {
		r = pr_errno(!m ? -ENOMEM : -EBADF, "pid %d: making its unix sockets", t->pid);
		goto out;
	}
	for (size_t k = 0; r == 0 && k < sr->img->n_sks; k++) {
		size_t nm = 0;
		if (SK(sr, (uint32_t)k)->creator_pid != t->pid || SK(sr, (uint32_t)k)->cluster != k)
			continue;
		for (size_t j = 0; j < sr->img->n_sks; j++)
			if (SK(sr, (uint32_t)j)->cluster == k && SK(sr, (uint32_t)j)->creator_pid == t->pid)
				m[nm++] = (uint32_t)j;
		r = build(&b, m, nm);
	}
	if (r == 0)
		pr_debug("pid %d: %zu unix sockets made", t->pid, total);
out:
	skr_troots_remove(&b);
	if (b.tsend >= 0)
		close(b.tsend);
	if (b.root >= 0)
		close(b.root);
	if (b.cwd >= 0)
		close(b.cwd);
	return r;
}

int skunix_open(struct restore_ctx *c, struct restore_task *t, int fd, const FilesDesc *d)
{
	struct skunix_restore *sr = c->skunix;
	int n;

	if (!sr || !d->has_unixsk_id || d->unixsk_id >= sr->img->n_sks || sr->r[d->unixsk_id].fd < 0) {
		pr_err("pid %d: fd %d (%s): its unix socket was not made", t->pid, fd, d->path ? d->path : "?");
		return -EBADMSG;
	}
	n = TAKE_FD(sr->r[d->unixsk_id].fd);
	if (fcntl(n, F_SETFL, (int)(d->flags & O_NONBLOCK)) < 0) {
		int e = -errno;
		close(n);
		return pr_errno(e, "pid %d: fd %d (%s): cannot set its flags", t->pid, fd, d->path);
	}
	return n;
}

void skunix_prepare_end(struct restore_ctx *c, struct restore_task *t)
{
	struct skunix_restore *sr = c->skunix;

	(void)t;
	if (!sr)
		return;
	for (size_t i = 0; i < sr->img->n_sks; i++) {
		if (sr->r[i].fd >= 0)
			close(TAKE_FD(sr->r[i].fd));
		if (sr->r[i].partner >= 0)
			close(TAKE_FD(sr->r[i].partner));
	}
}
