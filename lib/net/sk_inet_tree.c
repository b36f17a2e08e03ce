/* SPDX-License-Identifier: MIT */
/*
 * AF_INET / AF_INET6 sockets of the whole tree (dump side; sk_inet.c reads
 * each socket).  Once every task is dumped (tasks frozen):
 *
 *  - every established connection must have its peer in the tree (both
 *    ends are restored independently in TCP_REPAIR mode), or the dump runs
 *    with --tcp-established (the restore must then happen where the peer
 *    can still reach the same addresses);
 *  - a listener's connections not accepted yet are sockets no fd reaches:
 *    crest accepts them from its own reference of the listener, in queue
 *    order, and reads them in repair mode (what the client sent that waits
 *    there).  Their clients must be sockets of the tree: the restore makes
 *    each such connection again for real (the listener's restorer connects
 *    a socket from the client's address and sends that data), so it is in
 *    the accept queue again, in order, with the same bytes.  The client's
 *    description is therefore restored by the listener's restorer (at a
 *    "keep" fd when that task does not hold it itself) and taken from it by
 *    every holder (files_share.c).
 *
 * At the end of the dump (skinet_dump_done): if the tree was killed, crest
 * closes its references: the connections are still in repair mode, so they
 * go without a FIN or RST (no TIME_WAIT either).  Otherwise (a failed dump,
 * --leave-running) everything is put back: the connections taken from a
 * listener are made again from their clients' sockets (silently
 * disconnected in repair mode, then connected for real and refilled), and
 * repair mode is switched off without a window probe.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include "fs/files_priv.h"
#include "util/log.h"
#include "sk_inet.h"
#include "sk_inet_dump.h"
#include "sk_inet_priv.h"
#include "core/task.h"
#include "util/util.h"

static bool addr_eq(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
	return a->len == b->len && !memcmp(a->data, b->data, a->len);
}

static bool is_any(const ProtobufCBinaryData *a)
{
	for (size_t i = 0; i < a->len; i++)
		if (a->data[i])
			return false;
	return true;
}

/* The socket of the tree whose local end is (addr, port) and remote end
 * (raddr, rport). */
static struct isk *find_conn(struct skinet_dump *sd, uint32_t family, const ProtobufCBinaryData *addr,
			     uint32_t port, const ProtobufCBinaryData *raddr, uint32_t rport)
{
	for (size_t i = 0; i < sd->n; i++) {
		InetSk *k = sd->sk[i]->pb;
		if (k->family == family && k->proto == IPPROTO_TCP && k->state == ISK_ESTABLISHED &&
		    k->src_port == port && k->dst_port == rport && addr_eq(&k->src_addr, addr) &&
		    addr_eq(&k->dst_addr, raddr))
			return sd->sk[i];
	}
	return NULL;
}

/* ------------------------------------------------ descriptions, owners */

/* The description of socket k that its owner restores: (task, file). */
static int owner_of(struct dstate **tasks, size_t n, const InetSk *k, size_t *ot, size_t *of)
{
	for (size_t t = 0; t < n; t++)
		for (size_t i = 0; i < tasks[t]->nr_files; i++) {
			struct dfile *f = &tasks[t]->files[i];
			if (f->pb.kind == FILES_KIND__FILES_INETSK && f->pb.inetsk == k &&
			    !f->pb.has_owner_pid && !f->pb.has_keep_fd) {
				*ot = t;
				*of = i;
				return 0;
			}
		}
	return -ENOENT;
}

static int grow_files(struct dstate *s)
{
	if (s->nr_files < s->cap_files)
		return 0;
	size_t cap = s->cap_files ? s->cap_files * 2 : 8;
	struct dfile *n = realloc(s->files, cap * sizeof(*n));
	if (!n)
		return pr_errno(-ENOMEM, "pid %d: sockets", s->pid);
	s->files = n;
	s->cap_files = cap;
	return 0;
}

/* The client c of a connection waiting on listener l is restored by l's
 * restorer: move its description there (at a keep fd if that task does not
 * hold it). */
static int move_to_listener(struct dstate **tasks, size_t n, struct isk *l, struct isk *c)
{
	size_t lt, lf, ct, cf;
	struct dstate *ls;
	struct dfile *k;
	int keep, r;

	if (owner_of(tasks, n, l->pb, &lt, &lf) < 0 || owner_of(tasks, n, c->pb, &ct, &cf) < 0) {
		pr_err("pid %d: fd %d: the restorer of socket:[%" PRIu64 "] or of its client socket:[%"
		       PRIu64 "] is not found", l->pid, l->fd, l->pb->ino, c->pb->ino);
		return -EINVAL;
	}
	if (lt == ct)
		return 0;       /* the listener's restorer holds the client too */
	ls = tasks[lt];
	r = grow_files(ls);
	if (r < 0)
		return r;
	k = &ls->files[ls->nr_files];
	*k = tasks[ct]->files[cf];
	k->pb.id = (uint32_t)ls->nr_files;
	k->pb.path = strdup(tasks[ct]->files[cf].pb.path ? tasks[ct]->files[cf].pb.path : "socket");
	if (!k->pb.path)
		return pr_errno(-ENOMEM, "pid %d: sockets", ls->pid);
	k->lfd = -1;
	k->defer_err = NULL;
	k->grp_task = k->grp_file = k->own_task = k->own_file = -1;
	k->pb.has_owner_pid = k->pb.has_owner_fd = false;
	k->pb.has_keep_fd = true;
	k->pb.keep_fd = k->fd = keep = ls->max_fd + 1 + ls->nr_keep++;
	ls->nr_files++;
	for (size_t t = 0; t < n; t++)
		for (size_t i = 0; i < tasks[t]->nr_files; i++) {
			struct dfile *f = &tasks[t]->files[i];
			if (f->pb.kind != FILES_KIND__FILES_INETSK || f->pb.inetsk != c->pb || f == k)
				continue;
			r = fshare_need_visible(ls, tasks[t], f);
			if (r < 0)
				return r;
			f->pb.has_owner_pid = f->pb.has_owner_fd = true;
			f->pb.owner_pid = ls->pid;
			f->pb.owner_fd = keep;
		}
	pr_debug("pid %d: keeps socket:[%" PRIu64 "] (a client of its listener fd %d) at fd %d for pid %d",
		 ls->pid, c->pb->ino, l->fd, keep, c->pid);
	return 0;
}

/* --------------------------------------------- connections not accepted */

/* The connections waiting in listener l's accept queue (sock_diag: sockets
 * no fd holds, on the listener's address): each must come from a client of
 * the tree. */
static int check_pending(struct skinet_dump *sd, struct isk *l, size_t *count)
{
	const struct ind_ns *ns = &sd->ns[l->ns];
	InetSk *k = l->pb;
	size_t alen = k->family == AF_INET ? 4 : 16, found = 0;
	char desc[200], who[64];

	isk_what(k, desc, sizeof(desc));
	for (size_t i = 0; i < ns->n && ns->e[i].ino == 0; i++) {
		const struct ind *e = &ns->e[i];
		ProtobufCBinaryData src = { alen, (uint8_t *)e->src }, dst = { alen, (uint8_t *)e->dst };
		if (e->proto != IPPROTO_TCP || e->family != k->family || e->sport != k->src_port ||
		    (!is_any(&k->src_addr) && !addr_eq(&src, &k->src_addr)))
			continue;
		if (e->state != ISK_ESTABLISHED)
			continue;       /* orphans, TIME_WAIT, handshakes: not in the queue */
		isk_addr_str(k->family, e->dst, alen, e->dport, who, sizeof(who));
		if (!find_conn(sd, k->family, &dst, e->dport, &src, e->sport)) {
			pr_err("pid %d: fd %d is %s, which has a connection not accepted yet from %s, a client "
			       "outside the dumped tree: not supported yet (dump the client too, or let the "
			       "program accept it first)", l->pid, l->fd, desc, who);
			return -ENOTSUP;
		}
		found++;
	}
	if (found != l->de->rqueue) {
		pr_err("pid %d: fd %d is %s: %u connections wait to be accepted, sock_diag shows %zu: "
		       "not supported yet", l->pid, l->fd, desc, l->de->rqueue, found);
		return -ENOTSUP;
	}
	*count = found;
	return 0;
}

static int read_accepted(struct isk *l, int s, struct isk *cl, const char *desc)
{
	InetSk *ck = cl->pb;
	InetSkTcp *ct = ck->tcp;
	int inq = 0, outq = 0, v;
	unsigned q = TCP_RECV_QUEUE;
	socklen_t len = sizeof(v);
	_cleanup_free_ uint8_t *buf = NULL;
	uint32_t una, skip, tail;
	size_t got = 0;

	if (ioctl(s, SIOCINQ, &inq) < 0 || ioctl(s, SIOCOUTQ, &outq) < 0 ||
	    setsockopt(s, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) < 0 ||
	    getsockopt(s, IPPROTO_TCP, TCP_QUEUE_SEQ, &v, &len) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): reading a connection not accepted yet", l->pid,
				l->fd, desc);
	if (outq || (ct && ct->rcvq.len)) {
		pr_err("pid %d: fd %d (%s): a connection not accepted yet has data queued towards its "
		       "client: not supported", l->pid, l->fd, desc);
		return -ENOTSUP;
	}
	una = ct ? ct->snd_seq - (uint32_t)ct->sndq.len : 0;
	skip = (uint32_t)v - una;
	if (!ct || skip > ct->sndq.len)
		skip = ct ? (uint32_t)ct->sndq.len : 0;
	tail = ct ? (uint32_t)ct->sndq.len - skip : 0;
	buf = malloc((size_t)inq + tail + 1);
	if (!buf)
		return -ENOMEM;
	while (got < (size_t)inq) {
		ssize_t n = recv(s, buf, (size_t)inq, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (size_t)n != (size_t)inq)
			return pr_errno(n < 0 ? -errno : -EIO, "pid %d: fd %d (%s): reading the %d bytes a "
					"connection not accepted yet holds", l->pid, l->fd, desc, inq);
		got = (size_t)n;
	}
	if (tail)
		memcpy(buf + got, ct->sndq.data + skip, tail);
	free(ck->pending_data.data);
	ck->pending_data.data = TAKE_PTR(buf);
	ck->pending_data.len = got + tail;
	ck->has_pending_data = ck->has_pending_client = true;
	ck->pending_client = true;
	ck->has_peer_ino = false;
	pr_info("pid %d: fd %d (%s): a connection not accepted yet from pid %d fd %d, %zu bytes waiting",
		l->pid, l->fd, desc, cl->pid, cl->fd, got + tail);
	return 0;
}

/* Take the waiting connections out of l (crest accepts them, in queue
 * order) and record them with their clients. */
static int take_pending(struct skinet_dump *sd, struct isk *l, size_t count)
{
	InetSk *k = l->pb;
	char desc[200];
	int r;

	isk_what(k, desc, sizeof(desc));
	l->acc = calloc(count + 1, sizeof(*l->acc));
	l->acc_client = calloc(count + 1, sizeof(*l->acc_client));
	k->pending = calloc(count + 1, sizeof(*k->pending));
	if (!l->acc || !l->acc_client || !k->pending)
		return pr_errno(-ENOMEM, "pid %d: fd %d (%s)", l->pid, l->fd, desc);
	for (size_t i = 0; i < count; i++) {
		struct pollfd p = { .fd = l->lfd, .events = POLLIN };
		struct sockaddr_storage ss, ls;
		socklen_t sl = sizeof(ss), ll = sizeof(ls);
		ProtobufCBinaryData pa, la;
		uint32_t pport, lport;
		struct isk *cl;
		int s;

		if (poll(&p, 1, 0) != 1) {
			pr_err("pid %d: fd %d (%s): its connection %zu of %zu not accepted yet is gone", l->pid,
			       l->fd, desc, i + 1, count);
			return -EAGAIN;
		}
		s = accept4(l->lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (s < 0)
			return pr_errno(-errno, "pid %d: fd %d (%s): accepting its connections not accepted "
					"yet to read them", l->pid, l->fd, desc);
		l->acc[l->nr_acc++] = s;
		r = isk_repair(s, 1);
		if (r < 0)
			return pr_errno(r, "pid %d: fd %d (%s): TCP_REPAIR on a connection not accepted yet",
					l->pid, l->fd, desc);
		if (getsockname(s, (struct sockaddr *)&ls, &ll) < 0)
			return pr_errno(-errno, "pid %d: fd %d (%s): getsockname", l->pid, l->fd, desc);
		if (ss.ss_family == AF_INET) {
			pa = (ProtobufCBinaryData){ 4, (uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr };
			la = (ProtobufCBinaryData){ 4, (uint8_t *)&((struct sockaddr_in *)&ls)->sin_addr };
			pport = ntohs(((struct sockaddr_in *)&ss)->sin_port);
			lport = ntohs(((struct sockaddr_in *)&ls)->sin_port);
		} else {
			pa = (ProtobufCBinaryData){ 16, (uint8_t *)&((struct sockaddr_in6 *)&ss)->sin6_addr };
			la = (ProtobufCBinaryData){ 16, (uint8_t *)&((struct sockaddr_in6 *)&ls)->sin6_addr };
			pport = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
			lport = ntohs(((struct sockaddr_in6 *)&ls)->sin6_port);
		}
		cl = find_conn(sd, k->family, &pa, pport, &la, lport);
		if (!cl || cl->pb->pending_client) {
			pr_err("pid %d: fd %d (%s): a connection not accepted yet has no client in the tree",
			       l->pid, l->fd, desc);
			return -ENOTSUP;
		}
		l->acc_client[i] = cl;
		r = read_accepted(l, s, cl, desc);
		if (r < 0)
			return r;
		k->pending[k->n_pending++] = cl->pb->ino;
	}
	return 0;
}

int skinet_dump_tree(struct dump_ctx *c, struct dstate **tasks, size_t n)
{
	struct skinet_dump *sd = c->skinet;
	int r;

	if (!sd)
		return 0;
	/* listeners: their connections not accepted yet */
	for (size_t i = 0; i < sd->n; i++) {
		struct isk *l = sd->sk[i];
		size_t count = 0;
		if (l->pb->state != ISK_LISTEN || !l->de->rqueue)
			continue;
		r = check_pending(sd, l, &count);
		if (r == 0)
			r = take_pending(sd, l, count);
		for (size_t k = 0; r == 0 && k < l->nr_acc; k++)
			r = move_to_listener(tasks, n, l, l->acc_client[k]);
		if (r < 0)
			return r;
	}
	/* connections: the peer in the tree, or --tcp-established */
	for (size_t i = 0; i < sd->n; i++) {
		struct isk *u = sd->sk[i], *p;
		InetSk *k = u->pb;
		char desc[200];
		if (k->proto != IPPROTO_TCP || k->state != ISK_ESTABLISHED || k->pending_client)
			continue;
		p = find_conn(sd, k->family, &k->dst_addr, k->dst_port, &k->src_addr, k->src_port);
		if (p) {
			k->has_peer_ino = true;
			k->peer_ino = p->pb->ino;
			continue;
		}
		isk_what(k, desc, sizeof(desc));
		if (k->tcp && k->tcp->fin_rcvd) {
			pr_err("pid %d: fd %d is %s, a TCP connection that received its peer's FIN (%s) from "
			       "a peer outside the dumped tree: not supported yet (the FIN cannot be received "
			       "again)", u->pid, u->fd, desc, isk_state_name(k->tcp->state));
			return -ENOTSUP;
		}
		if (!c->o->tcp_established) {
			pr_err("pid %d: fd %d is %s, a TCP connection whose peer is not in the dumped tree: "
			       "dump with --tcp-established to keep it (the restore must then run where the "
			       "peer can still reach this address)", u->pid, u->fd, desc);
			return -ENOTSUP;
		}
		pr_info("pid %d: fd %d is %s, a connection with a peer outside the tree "
			"(--tcp-established)", u->pid, u->fd, desc);
	}
	return netlock_write(&sd->lock, c->dirfd);
}

/* ------------------------------------------------------- end of the dump */

static int wait_fd(int fd, short ev, int ms)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r == 1 ? 0 : r == 0 ? -ETIMEDOUT : -errno;
}

/* Connect the client cl (its socket, silently disconnected) to its
 * listener again for real and send what waited there. */
static int put_back_one(struct isk *cl)
{
	InetSk *k = cl->pb;
	struct sockaddr_storage ss;
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	socklen_t sl;
	int fd = cl->lfd, one = 1, old = 0, err = 0, r;
	socklen_t l = sizeof(old);
	size_t off = 0;

	if (connect(fd, &unspec, sizeof(unspec)) < 0)
		return -errno;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);     /* ECONNABORTED: cleared */
	r = isk_repair(fd, 0);
	if (r < 0)
		return r;
	cl->repair = false;
	l = sizeof(old);
	getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &old, &l);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sl = isk_sockaddr(k->family, k->src_addr.data, k->src_addr.len, k->src_port, &ss);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &old, sizeof(old));
	sl = isk_sockaddr(k->family, k->dst_addr.data, k->dst_addr.len, k->dst_port, &ss);
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		if (errno != EINPROGRESS)
			return -errno;
		r = wait_fd(fd, POLLOUT, 2000);
		if (r < 0)
			return r;
		l = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0 || err)
			return -(err ? err : errno);
	}
	while (off < k->pending_data.len) {
		ssize_t n = send(fd, k->pending_data.data + off, k->pending_data.len - off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN) {
			r = wait_fd(fd, POLLOUT, 2000);
			if (r < 0)
				return r;
			continue;
		}
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

static void isk_free(struct isk *u)
{
	for (size_t i = 0; i < u->nr_acc; i++)
		if (u->acc[i] >= 0)
			close(u->acc[i]);
	free(u->acc);
	free(u->acc_client);
	if (u->lfd >= 0)
		close(u->lfd);
	isk_pb_free(u->pb);
	free(u);
}

void skinet_dump_done(struct dump_ctx *c, bool killed)
{
	struct skinet_dump *sd = c->skinet;

	if (!sd)
		return;
	if (!killed) {
		/* the connections taken from the listeners go back, in order */
		for (size_t i = 0; i < sd->n; i++) {
			struct isk *l = sd->sk[i];
			char desc[200];
			for (size_t k = 0; k < l->nr_acc; k++) {
				struct isk *cl = l->acc_client[k];
				int r;
				close(l->acc[k]);   /* in repair mode: without a packet */
				l->acc[k] = -1;
				if (!cl)
					continue;
				r = put_back_one(cl);
				if (r < 0)
					pr_err("pid %d: fd %d (%s): cannot make its connection not accepted yet "
					       "from pid %d fd %d again: %s; the client sees it closed", l->pid,
					       l->fd, isk_what(l->pb, desc, sizeof(desc)), cl->pid, cl->fd,
					       strerror(-r));
			}
		}
		for (size_t i = 0; i < sd->n; i++) {
			struct isk *u = sd->sk[i];
			char desc[200];
			if (u->repair && isk_repair(u->lfd, 0) < 0)
				pr_err("pid %d: fd %d (%s): cannot switch TCP_REPAIR off again: %s", u->pid, u->fd,
				       isk_what(u->pb, desc, sizeof(desc)), strerror(errno));
		}
	}
	netlock_drop(&sd->lock, killed);    /* after the put-back: a kept tree's lock goes */
	for (size_t i = 0; i < sd->n; i++)
		isk_free(sd->sk[i]);
	for (size_t i = 0; i < sd->nr_ns; i++)
		free(sd->ns[i].e);
	free(sd->ns);
	free(sd->sk);
	free(sd);
	c->skinet = NULL;
}
