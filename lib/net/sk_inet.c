/* SPDX-License-Identifier: MIT */
/*
 * AF_INET / AF_INET6 sockets: dump of one socket (part of the files module;
 * the record goes into the socket's FilesDesc, images/sk-inet.proto;
 * restore in sk_inet_restore.c, the tree-wide part in sk_inet_tree.c).
 *
 * Per socket fd (skinet_classify, from files_kinds.c, task frozen, crest
 * holds the socket through pidfd_getfd): the kernel's view of every TCP and
 * UDP socket of its net namespace comes from sock_diag (inet_diag through
 * libmnl, one dump per namespace: state, addresses, a listener's backlog and
 * accept queue length, and the sockets no fd holds: connections not
 * accepted yet); the names from getsockname/getpeername; every option of
 * the table in sk_inet_priv.h whose value differs from a new socket's.  An
 * established connection is read in TCP_REPAIR mode (sequence numbers, both
 * queues without consuming them, MSS, window scale, SACK, timestamps, the
 * window); it stays in repair mode until the dump ends, so that killing the
 * tree closes it without a packet (a FIN or RST would reach the peer and
 * leave a TIME_WAIT socket on the address the restore needs).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <libmnl/libmnl.h>
#include "util/compat.h"
#include "fs/files_priv.h"
#include "util/log.h"
#include "sk_inet.h"
#include "sk_inet_dump.h"
#include "sk_inet_priv.h"
#include "core/task.h"
#include "util/util.h"

#ifndef SIOCOUTQNSD
#define SIOCOUTQNSD 0x894B
#endif
#ifndef TCP_REPAIR_OFF_NO_WP
#define TCP_REPAIR_OFF_NO_WP -1
#endif

#define QUEUE_LIMIT (64u << 20)  /* sanity bound of one queue */

/* ------------------------------------------------ sock_diag of a net ns */

static int cmp_ind(const void *a, const void *b)
{
	const struct ind *x = a, *y = b;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static const struct ind *ind_find(const struct ind_ns *ns, uint32_t ino)
{
	struct ind key = { .ino = ino };
	return ino ? bsearch(&key, ns->e, ns->n, sizeof(*ns->e), cmp_ind) : NULL;
}

static int diag_cb(const struct nlmsghdr *h, void *data)
{
	struct ind_ns *ns = data;
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(h);
	struct ind *e;

	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || mnl_nlmsg_get_payload_len(h) < sizeof(*m))
		return MNL_CB_OK;
	if (ns->n == ns->cap) {
		size_t nc = ns->cap ? ns->cap * 2 : 64;
		struct ind *n = realloc(ns->e, nc * sizeof(*n));
		if (!n) {
			errno = ENOMEM;
			return MNL_CB_ERROR;
		}
		ns->e = n;
		ns->cap = nc;
	}
	e = &ns->e[ns->n++];
	memset(e, 0, sizeof(*e));
	e->ino = m->idiag_inode;
	e->family = m->idiag_family;
	e->state = m->idiag_state;
	e->sport = ntohs(m->id.idiag_sport);
	e->dport = ntohs(m->id.idiag_dport);
	memcpy(e->src, m->id.idiag_src, 16);
	memcpy(e->dst, m->id.idiag_dst, 16);
	e->rqueue = m->idiag_rqueue;
	e->wqueue = m->idiag_wqueue;
	return MNL_CB_OK;
}

/* Every socket of one family and protocol, appended to ns. */
static int diag_one(struct mnl_socket *nl, struct ind_ns *ns, int family, int proto)
{
	size_t bsz = 1 << 16;
	_cleanup_free_ char *buf = malloc(bsz);
	struct inet_diag_req_v2 *r;
	struct nlmsghdr *h;
	unsigned seq = (unsigned)(family * 1000 + proto), portid;
	size_t first = ns->n;
	ssize_t n;
	int ret = MNL_CB_OK;

	if (!buf)
		return -ENOMEM;
	h = mnl_nlmsg_put_header(buf);
	h->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	h->nlmsg_seq = seq;
	r = mnl_nlmsg_put_extra_header(h, sizeof(*r));
	r->sdiag_family = (uint8_t)family;
	r->sdiag_protocol = (uint8_t)proto;
	r->idiag_states = ~0u;
	if (mnl_socket_sendto(nl, h, h->nlmsg_len) < 0)
		return -errno;
	portid = mnl_socket_get_portid(nl);
	while ((n = mnl_socket_recvfrom(nl, buf, bsz)) > 0) {
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, diag_cb, ns);
		if (ret <= MNL_CB_STOP)
			break;
	}
	if (n < 0 || ret == MNL_CB_ERROR)
		return -(errno ? errno : EIO);
	for (size_t i = first; i < ns->n; i++)
		ns->e[i].proto = (uint8_t)proto;
	return 0;
}

static int ns_ino(const char *path, uint64_t *ino)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	*ino = st.st_ino;
	return 0;
}

/* The sock_diag view of the net namespace of socket lfd (listed once). */
static int ns_for(struct skinet_dump *sd, pid_t pid, int fd, int lfd, const char *link, size_t *idx)
{
	_cleanup_close_ int nsfd = -1, self = -1;
	struct mnl_socket *nl = NULL;
	char path[64];
	uint64_t tns = 0, own = 0;
	struct ind_ns *ns;
	struct stat st;
	int r;

	nsfd = ioctl(lfd, SIOCGSKNS);
	if (nsfd < 0 || fstat(nsfd, &st) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): cannot find its net namespace (SIOCGSKNS)",
				pid, fd, link);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	if ((r = ns_ino(path, &tns)) < 0 || (r = ns_ino("/proc/thread-self/ns/net", &own)) < 0)
		return pr_errno(r, "pid %d: cannot read the net namespaces", pid);
	if (st.st_ino != tns) {
		pr_err("pid %d: fd %d is %s, a socket of another net namespace than the task's: not "
		       "supported yet", pid, fd, link);
		return -ENOTSUP;
	}
	for (size_t i = 0; i < sd->nr_ns; i++)
		if (sd->ns[i].ino == st.st_ino) {
			*idx = i;
			return 0;
		}
	ns = realloc(sd->ns, (sd->nr_ns + 1) * sizeof(*ns));
	if (!ns)
		return pr_errno(-ENOMEM, "sock_diag");
	sd->ns = ns;
	ns = &sd->ns[sd->nr_ns];
	memset(ns, 0, sizeof(*ns));
	ns->ino = st.st_ino;
	sd->nr_ns++;
	if (st.st_ino != own) {
		/* a netlink socket lives in the namespace it was made in */
		self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self < 0 || setns(nsfd, CLONE_NEWNET) < 0)
			return pr_errno(-errno, "pid %d: cannot enter its net namespace to list its sockets",
					pid);
	}
	nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	r = nl ? 0 : -errno;
	if (self >= 0 && setns(self, CLONE_NEWNET) < 0) {
		if (nl)
			mnl_socket_close(nl);
		return pr_errno(-errno, "cannot go back to crest's net namespace");
	}
	if (r < 0)
		return pr_errno(r, "socket(NETLINK_SOCK_DIAG)");
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		r = -errno;
	if (r == 0)
		r = diag_one(nl, ns, AF_INET, IPPROTO_TCP);
	if (r == 0)
		r = diag_one(nl, ns, AF_INET6, IPPROTO_TCP);
	if (r == 0)
		r = diag_one(nl, ns, AF_INET, IPPROTO_UDP);
	if (r == 0)
		r = diag_one(nl, ns, AF_INET6, IPPROTO_UDP);
	mnl_socket_close(nl);
	if (r < 0) {
		pr_err("sock_diag refused to list the TCP/UDP sockets: %s; crest needs CONFIG_INET_DIAG "
		       "(modprobe tcp_diag udp_diag)", strerror(-r));
		return r;
	}
	qsort(ns->e, ns->n, sizeof(*ns->e), cmp_ind);
	*idx = sd->nr_ns - 1;
	return 0;
}

/* ------------------------------------------------------------ helpers */

struct isk *isk_find(struct skinet_dump *sd, uint64_t ino)
{
	for (size_t i = 0; sd && i < sd->n; i++)
		if (sd->sk[i]->pb->ino == ino)
			return sd->sk[i];
	return NULL;
}

int isk_repair(int fd, int on)
{
	int v = on ? 1 : TCP_REPAIR_OFF_NO_WP;
	return setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &v, sizeof(v)) < 0 ? -errno : 0;
}

void isk_pb_free(InetSk *k)
{
	if (!k)
		return;
	free(k->src_addr.data);
	free(k->dst_addr.data);
	for (size_t i = 0; i < k->n_opts; i++) {
		free(k->opts[i]->what);
		free(k->opts[i]);
	}
	free(k->opts);
	free(k->bind_dev);
	free(k->congestion);
	if (k->tcp) {
		free(k->tcp->sndq.data);
		free(k->tcp->rcvq.data);
		free(k->tcp);
	}
	free(k->pending);
	free(k->pending_data.data);
	for (size_t i = 0; i < k->n_queue; i++) {
		free(k->queue[i]->data.data);
		free(k->queue[i]->src_addr.data);
		free(k->queue[i]);
	}
	free(k->queue);
	free(k);
}

bool skinet_is_inet(int lfd)
{
	int dom = -1;
	socklen_t l = sizeof(dom);
	return getsockopt(lfd, SOL_SOCKET, SO_DOMAIN, &dom, &l) == 0 && (dom == AF_INET || dom == AF_INET6);
}

static int opt_int(int fd, int level, int name, int *v)
{
	socklen_t l = sizeof(*v);
	*v = 0;
	return getsockopt(fd, level, name, v, &l) < 0 ? -errno : 0;
}

static int set_bytes(ProtobufCBinaryData *b, protobuf_c_boolean *has, const void *p, size_t n)
{
	b->data = malloc(n ? n : 1);
	if (!b->data)
		return -ENOMEM;
	memcpy(b->data, p, n);
	b->len = n;
	if (has)
		*has = true;
	return 0;
}

static int set_addr(InetSk *k, const struct sockaddr_storage *ss, bool dst)
{
	const void *a;
	size_t n;
	uint32_t port;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;
		a = &s4->sin_addr;
		n = 4;
		port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const void *)ss;
		a = &s6->sin6_addr;
		n = 16;
		port = ntohs(s6->sin6_port);
	}
	if (dst) {
		k->has_dst_port = true;
		k->dst_port = port;
		return set_bytes(&k->dst_addr, &k->has_dst_addr, a, n);
	}
	k->has_src_port = true;
	k->src_port = port;
	return set_bytes(&k->src_addr, &k->has_src_addr, a, n);
}

static int add_opt(InetSk *k, const struct isk_optdef *o, int v)
{
	InetSkOpt *x = xzalloc(sizeof(*x)), **n;

	if (!x)
		return -ENOMEM;
	inet_sk_opt__init(x);
	x->level = (uint32_t)o->level;
	x->name = (uint32_t)o->name;
	x->value = v;
	x->what = strdup(o->what);
	n = realloc(k->opts, (k->n_opts + 1) * sizeof(*n));
	if (!n || !x->what) {
		free(x->what);
		free(x);
		return -ENOMEM;
	}
	k->opts = n;
	k->opts[k->n_opts++] = x;
	return 0;
}

/* Every option of the table that differs from a new socket's. */
static int dump_opts(InetSk *k, int lfd, pid_t pid, int fd, const char *desc)
{
	bool conn = k->state != ISK_CLOSE && k->state != ISK_LISTEN;
	_cleanup_close_ int fresh = socket((int)k->family, (int)k->type | SOCK_CLOEXEC, (int)k->proto);
	struct timeval tv;
	struct linger lg;
	char buf[64];
	socklen_t l;
	int r;

	if (fresh < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): cannot make a new socket to compare options "
				"with", pid, fd, desc);
	for (size_t i = 0; i < ARRAY_SIZE(isk_opts); i++) {
		const struct isk_optdef *o = &isk_opts[i];
		int v, dv;
		if (!isk_optdef_applies(o, (int)k->family, (int)k->proto, conn))
			continue;
		if (opt_int(lfd, o->level, o->name, &v) < 0 || opt_int(fresh, o->level, o->name, &dv) < 0)
			continue;       /* not known to this kernel */
		if (v == dv)
			continue;
		if (o->level == IPPROTO_TCP && o->name == TCP_MAXSEG && (v < 88 || v > 32767))
			continue;       /* not a value the program set */
		/* the kernel doubles SO_SNDBUF/SO_RCVBUF (and reports that) */
		if (o->level == SOL_SOCKET && (o->name == SO_SNDBUF || o->name == SO_RCVBUF))
			v /= 2;
		r = add_opt(k, o, v);
		if (r < 0)
			return pr_errno(r, "pid %d: fd %d (%s): options", pid, fd, desc);
	}
	l = sizeof(lg);
	if (getsockopt(lfd, SOL_SOCKET, SO_LINGER, &lg, &l) == 0 && lg.l_onoff) {
		k->has_linger_on = k->has_linger_sec = true;
		k->linger_on = true;
		k->linger_sec = (uint32_t)lg.l_linger;
	}
	l = sizeof(tv);
	if (getsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, &l) == 0 && (tv.tv_sec || tv.tv_usec)) {
		k->has_rcvtimeo_us = true;
		k->rcvtimeo_us = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
	}
	l = sizeof(tv);
	if (getsockopt(lfd, SOL_SOCKET, SO_SNDTIMEO, &tv, &l) == 0 && (tv.tv_sec || tv.tv_usec)) {
		k->has_sndtimeo_us = true;
		k->sndtimeo_us = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
	}
	l = sizeof(buf);
	memset(buf, 0, sizeof(buf));
	if (getsockopt(lfd, SOL_SOCKET, SO_BINDTODEVICE, buf, &l) == 0 && l > 0 && buf[0]) {
		k->bind_dev = strndup(buf, sizeof(buf) - 1);
		if (!k->bind_dev)
			return -ENOMEM;
	}
	if (k->proto == IPPROTO_TCP) {
		char dflt[64] = "";
		l = sizeof(buf);
		memset(buf, 0, sizeof(buf));
		socklen_t dl = sizeof(dflt);
		if (getsockopt(lfd, IPPROTO_TCP, TCP_CONGESTION, buf, &l) == 0 &&
		    getsockopt(fresh, IPPROTO_TCP, TCP_CONGESTION, dflt, &dl) == 0 &&
		    strncmp(buf, dflt, sizeof(buf))) {
			k->congestion = strndup(buf, sizeof(buf) - 1);
			if (!k->congestion)
				return -ENOMEM;
		}
	}
	return 0;
}

static int peek_queue(int lfd, int queue, size_t len, ProtobufCBinaryData *out, protobuf_c_boolean *has)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t got = 0;

	if (setsockopt(lfd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &queue, sizeof(queue)) < 0)
		return -errno;
	if (!len)
		return 0;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	while (got < len) {
		ssize_t n = recv(lfd, buf + got, len - got, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0 || got)
			break;          /* a peek starts at the head again */
		got = (size_t)n;
	}
	if (got != len)
		return -EIO;
	out->data = TAKE_PTR(buf);
	out->len = len;
	*has = true;
	return 0;
}

/* An established connection, read in repair mode (left on: see top). */
static int dump_tcp_conn(struct isk *u, int lfd, pid_t pid, int fd, const char *desc, uint32_t state)
{
	InetSkTcp *tc = xzalloc(sizeof(*tc));
	struct tcp_repair_window w;
	struct tcp_info ti;
	socklen_t l;
	int outq = 0, unsent = 0, inq = 0, v, r;
	unsigned q;

	if (!tc)
		return -ENOMEM;
	inet_sk_tcp__init(tc);
	u->pb->tcp = tc;
	if (state != ISK_ESTABLISHED) {
		tc->has_state = tc->has_fin_sent = tc->has_fin_rcvd = true;
		tc->state = state;
		tc->fin_sent = state == ISK_FIN_WAIT1 || state == ISK_FIN_WAIT2 || state == ISK_LAST_ACK ||
			       state == ISK_CLOSING;
		tc->fin_rcvd = state == ISK_CLOSE_WAIT || state == ISK_LAST_ACK || state == ISK_CLOSING;
		pr_info("pid %d: fd %d (%s) is half-closed (%s): restored established, then its FINs again",
			pid, fd, desc, isk_state_name(state));
	}
	r = isk_repair(lfd, 1);
	if (r < 0)
		return pr_errno(r, "pid %d: fd %d (%s): cannot put the connection in TCP_REPAIR mode "
				"(crest needs CAP_NET_ADMIN)", pid, fd, desc);
	u->repair = true;
	if (ioctl(lfd, SIOCOUTQ, &outq) < 0 || ioctl(lfd, SIOCOUTQNSD, &unsent) < 0 ||
	    ioctl(lfd, SIOCINQ, &inq) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): SIOCOUTQ/SIOCINQ", pid, fd, desc);
	if ((unsigned)outq > QUEUE_LIMIT || (unsigned)inq > QUEUE_LIMIT) {
		pr_err("pid %d: fd %d (%s): more than %u MiB queued: not supported", pid, fd, desc,
		       QUEUE_LIMIT >> 20);
		return -EFBIG;
	}
	q = TCP_SEND_QUEUE;
	l = sizeof(v);
	if (setsockopt(lfd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) < 0 ||
	    getsockopt(lfd, IPPROTO_TCP, TCP_QUEUE_SEQ, &v, &l) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): TCP_QUEUE_SEQ of the send queue", pid, fd, desc);
	tc->snd_seq = (uint32_t)v;
	q = TCP_RECV_QUEUE;
	l = sizeof(v);
	if (setsockopt(lfd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) < 0 ||
	    getsockopt(lfd, IPPROTO_TCP, TCP_QUEUE_SEQ, &v, &l) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): TCP_QUEUE_SEQ of the receive queue", pid, fd,
				desc);
	tc->rcv_seq = (uint32_t)v;
	r = peek_queue(lfd, TCP_RECV_QUEUE, (size_t)inq, &tc->rcvq, &tc->has_rcvq);
	if (r < 0)
		return pr_errno(r, "pid %d: fd %d (%s): reading its %d received bytes (MSG_PEEK)", pid, fd,
				desc, inq);
	r = peek_queue(lfd, TCP_SEND_QUEUE, (size_t)outq, &tc->sndq, &tc->has_sndq);
	if (r < 0)
		return pr_errno(r, "pid %d: fd %d (%s): reading its %d bytes queued to send (MSG_PEEK)", pid,
				fd, desc, outq);
	q = TCP_NO_QUEUE;
	setsockopt(lfd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q));
	tc->has_unsent = true;
	tc->unsent = (uint32_t)unsent;
	if (opt_int(lfd, IPPROTO_TCP, TCP_MAXSEG, &v) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): TCP_MAXSEG", pid, fd, desc);
	tc->mss = (uint32_t)v;
	l = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(lfd, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): TCP_INFO", pid, fd, desc);
	tc->has_wscale_ok = tc->has_sack_ok = tc->has_tstamp_ok = true;
	tc->wscale_ok = !!(ti.tcpi_options & TCPI_OPT_WSCALE);
	tc->sack_ok = !!(ti.tcpi_options & TCPI_OPT_SACK);
	tc->tstamp_ok = !!(ti.tcpi_options & TCPI_OPT_TIMESTAMPS);
	if (tc->wscale_ok) {
		tc->has_snd_wscale = tc->has_rcv_wscale = true;
		tc->snd_wscale = ti.tcpi_snd_wscale;
		tc->rcv_wscale = ti.tcpi_rcv_wscale;
	}
	if (tc->tstamp_ok && opt_int(lfd, IPPROTO_TCP, TCP_TIMESTAMP, &v) == 0) {
		tc->has_timestamp = true;
		tc->timestamp = (uint32_t)v;
	}
	l = sizeof(w);
	if (getsockopt(lfd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, &l) < 0 && state == ISK_ESTABLISHED)
		return pr_errno(-errno, "pid %d: fd %d (%s): TCP_REPAIR_WINDOW", pid, fd, desc);
	if (l == sizeof(w) && (state == ISK_ESTABLISHED || w.snd_wnd || w.rcv_wnd)) {
	tc->has_snd_wl1 = tc->has_snd_wnd = tc->has_max_window = tc->has_rcv_wnd = tc->has_rcv_wup = true;
	tc->snd_wl1 = w.snd_wl1;
	tc->snd_wnd = w.snd_wnd;
	tc->max_window = w.max_window;
	tc->rcv_wnd = w.rcv_wnd;
	tc->rcv_wup = w.rcv_wup;
	}
	if (opt_int(lfd, SOL_SOCKET, SO_SNDBUF, &v) == 0) {
		tc->has_sndbuf = true;
		tc->sndbuf = (uint32_t)v;
	}
	if (opt_int(lfd, SOL_SOCKET, SO_RCVBUF, &v) == 0) {
		tc->has_rcvbuf = true;
		tc->rcvbuf = (uint32_t)v;
	}
	pr_debug("pid %d: fd %d (%s): seq snd %u rcv %u, %d bytes to send (%d unsent), %d received, "
		 "mss %u", pid, fd, desc, tc->snd_seq, tc->rcv_seq, outq, unsent, inq, tc->mss);
	return 0;
}

/* A UDP socket's receive queue, copied without consuming it: SO_PEEK_OFF
 * from 0 and MSG_PEEK until it is exhausted, one datagram per call, with
 * its sender; then the peek offset is put back. */
static int dump_udp_queue(InetSk *k, int lfd, pid_t pid, int fd, const char *desc)
{
	_cleanup_free_ uint8_t *buf = malloc(1 << 16);
	int old = -1, zero = 0, r = 0;
	size_t total = 0;

	if (!buf)
		return -ENOMEM;
	if (opt_int(lfd, SOL_SOCKET, SO_PEEK_OFF, &old) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): SO_PEEK_OFF: cannot read its queue without "
				"consuming it", pid, fd, desc);
	for (;;) {
		struct sockaddr_storage from;
		struct iovec iov = { buf, 1 << 16 };
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
				     .msg_iovlen = 1 };
		InetSkDgram *g, **q;
		ssize_t n = recvmsg(lfd, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			r = pr_errno(-errno, "pid %d: fd %d (%s): reading its queue (MSG_PEEK)", pid, fd, desc);
			break;
		}
		if (n > 1 << 16 || (total += (size_t)n) > QUEUE_LIMIT) {
			pr_err("pid %d: fd %d (%s): more than %u MiB queued: not supported", pid, fd, desc,
			       QUEUE_LIMIT >> 20);
			r = -EFBIG;
			break;
		}
		g = xzalloc(sizeof(*g));
		q = g ? realloc(k->queue, (k->n_queue + 1) * sizeof(*q)) : NULL;
		if (!q) {
			free(g);
			r = -ENOMEM;
			break;
		}
		inet_sk_dgram__init(g);
		k->queue = q;
		k->queue[k->n_queue++] = g;
		if (set_bytes(&g->data, NULL, buf, (size_t)n) < 0) {
			r = -ENOMEM;
			break;
		}
		if (from.ss_family == AF_INET || from.ss_family == AF_INET6) {
			InetSk tmp = INET_SK__INIT;
			if (set_addr(&tmp, &from, false) < 0) {
				r = -ENOMEM;
				break;
			}
			g->src_addr = tmp.src_addr;
			g->has_src_addr = true;
			g->has_src_port = true;
			g->src_port = tmp.src_port;
		}
		if (n == 0) {
			/* an empty datagram does not move the peek offset */
			pr_err("pid %d: fd %d (%s): an empty datagram is queued: not supported yet", pid, fd,
			       desc);
			r = -ENOTSUP;
			break;
		}
	}
	if (setsockopt(lfd, SOL_SOCKET, SO_PEEK_OFF, &old, sizeof(old)) < 0 && r == 0)
		r = pr_errno(-errno, "pid %d: fd %d (%s): cannot put SO_PEEK_OFF back to %d", pid, fd,
			     desc, old);
	if (r == 0 && k->n_queue)
		pr_debug("pid %d: fd %d (%s): %zu datagrams (%zu bytes) queued", pid, fd, desc, k->n_queue,
			 total);
	return r;
}

static const char *fam_name(int f)
{
	return f == AF_INET ? "AF_INET" : "AF_INET6";
}

static int add_socket(struct dump_ctx *c, struct skinet_dump *sd, struct dstate *s, struct dfile *f,
		      const char *link, const struct stat *st, struct isk **out)
{
	pid_t pid = s->pid;
	int fd = f->fd, fam = -1, type = -1, proto = -1, r;
	struct sockaddr_storage ss;
	char desc[200];
	socklen_t l;
	size_t nsi = 0;
	uint32_t tstate = ISK_ESTABLISHED;
	struct isk *u;
	InetSk *k;

	if (opt_int(f->lfd, SOL_SOCKET, SO_DOMAIN, &fam) < 0 || opt_int(f->lfd, SOL_SOCKET, SO_TYPE, &type) < 0 ||
	    opt_int(f->lfd, SOL_SOCKET, SO_PROTOCOL, &proto) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): getsockopt(SO_DOMAIN/SO_TYPE/SO_PROTOCOL)", pid,
				fd, link);
	if (type == SOCK_RAW) {
		pr_err("pid %d: fd %d is %s, an %s socket (raw, protocol %d): not supported yet", pid, fd,
		       link, fam_name(fam), proto);
		return -ENOTSUP;
	}
	if (!(type == SOCK_STREAM && proto == IPPROTO_TCP) && !(type == SOCK_DGRAM && proto == IPPROTO_UDP)) {
		pr_err("pid %d: fd %d is %s, an %s socket of type %d, protocol %d (not TCP or UDP): not "
		       "supported yet", pid, fd, link, fam_name(fam), type, proto);
		return -ENOTSUP;
	}
	r = ns_for(sd, pid, fd, f->lfd, link, &nsi);
	if (r < 0)
		return r;
	if (sd->n == sd->cap) {
		size_t cap = sd->cap ? sd->cap * 2 : 16;
		struct isk **n = realloc(sd->sk, cap * sizeof(*n));
		if (!n)
			return pr_errno(-ENOMEM, "pid %d: fd %d", pid, fd);
		sd->sk = n;
		sd->cap = cap;
	}
	u = xzalloc(sizeof(*u));
	k = u ? xzalloc(sizeof(*k)) : NULL;
	if (!k) {
		free(u);
		return -ENOMEM;
	}
	inet_sk__init(k);
	u->pb = k;
	u->lfd = -1;
	u->pid = pid;
	u->fd = fd;
	u->ns = nsi;
	sd->sk[sd->n++] = u;
	k->family = (uint32_t)fam;
	k->type = (uint32_t)type;
	k->proto = (uint32_t)proto;
	k->ino = st->st_ino;
	u->lfd = fcntl(f->lfd, F_DUPFD_CLOEXEC, 3);
	if (u->lfd < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): dup", pid, fd, link);
	/* the state as the socket sees it (sock_diag does not list sockets
	 * that were never bound, and shows bound ones as BOUND_INACTIVE) */
	if (proto == IPPROTO_TCP) {
		struct tcp_info ti;
		socklen_t tl = sizeof(ti);
		memset(&ti, 0, sizeof(ti));
		if (getsockopt(f->lfd, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0)
			return pr_errno(-errno, "pid %d: fd %d (%s): TCP_INFO", pid, fd, link);
		k->state = ti.tcpi_state;
		if (k->state == ISK_CLOSE && ti.tcpi_options) {   /* options negotiated: it was connected */
			pr_err("pid %d: fd %d is %s, a TCP socket whose connection is over (closed or reset; "
			       "the program still holds it): not supported yet", pid, fd, link);
			return -ENOTSUP;
		}
	} else {
		/* UDP: connected or not */
		struct sockaddr_storage ps;
		socklen_t pl = sizeof(ps);
		k->state = getpeername(f->lfd, (struct sockaddr *)&ps, &pl) == 0 ? ISK_ESTABLISHED : ISK_CLOSE;
	}
	u->de = ind_find(&sd->ns[nsi], (uint32_t)st->st_ino);
	if (!u->de && k->state == ISK_LISTEN) {
		pr_err("pid %d: fd %d is %s, a listening %s socket that sock_diag does not list", pid, fd,
		       link, isk_proto_name(k->proto));
		return -ENOENT;
	}
	l = sizeof(ss);
	if (getsockname(f->lfd, (struct sockaddr *)&ss, &l) < 0 || (r = set_addr(k, &ss, false)) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): getsockname", pid, fd, link);
	l = sizeof(ss);
	if (getpeername(f->lfd, (struct sockaddr *)&ss, &l) == 0 && (r = set_addr(k, &ss, true)) < 0)
		return pr_errno(r, "pid %d: fd %d (%s)", pid, fd, link);
	isk_what(k, desc, sizeof(desc));
	if (proto == IPPROTO_UDP) {
		k->has_bound = true;
		k->bound = k->src_port != 0;
		r = dump_opts(k, f->lfd, pid, fd, desc);
		if (r == 0)
			r = dump_udp_queue(k, f->lfd, pid, fd, desc);
		if (r < 0)
			return r;
		*out = u;
		return 0;
	}
	switch (k->state) {
	case ISK_LISTEN:
		k->has_backlog = k->has_bound = true;
		k->bound = true;
		k->backlog = u->de->wqueue;
		break;
	case ISK_CLOSE:
		k->has_bound = true;
		k->bound = k->src_port != 0;
		if (k->has_dst_addr) {
			pr_err("pid %d: fd %d is %s, a TCP socket whose connection is closed: not supported "
			       "yet", pid, fd, desc);
			return -ENOTSUP;
		}
		break;
	case ISK_ESTABLISHED:
	case ISK_FIN_WAIT1:
	case ISK_FIN_WAIT2:
	case ISK_CLOSE_WAIT:
	case ISK_LAST_ACK:
	case ISK_CLOSING:
		/* half-closed ones are made established, then closed again */
		tstate = k->state;
		k->state = ISK_ESTABLISHED;
		k->has_bound = true;
		k->bound = true;
		break;
	default:
		pr_err("pid %d: fd %d is %s, a TCP socket in state %s: not supported yet (listening, "
		       "unconnected and established TCP sockets are)", pid, fd, desc, isk_state_name(k->state));
		return -ENOTSUP;
	}
	r = dump_opts(k, f->lfd, pid, fd, desc);
	if (r < 0)
		return r;
	if (k->state == ISK_ESTABLISHED && c->o->tcp_established) {
		/* its peer may be outside: nothing it sends may be lost (acked
		 * here after the read) or answered with a reset later */
		uint64_t own = 0;
		if (ns_ino("/proc/thread-self/ns/net", &own) < 0 || own != sd->ns[nsi].ino) {
			pr_err("pid %d: fd %d is %s, a connection in another net namespace than crest's: "
			       "--tcp-established cannot lock it yet", pid, fd, desc);
			return -ENOTSUP;
		}
		r = netlock_add(&sd->lock, k->family, k->src_addr.data, k->src_port, k->dst_addr.data,
				k->dst_port);
		if (r < 0)
			return r;
		k->has_locked = k->locked = true;
	}
	if (k->state == ISK_ESTABLISHED) {
		r = dump_tcp_conn(u, u->lfd, pid, fd, desc, tstate);
		if (r < 0)
			return r;
	}
	(void)c;
	pr_debug("pid %d: fd %d is %s, %s", pid, fd, desc, isk_state_name(k->state));
	*out = u;
	return 0;
}

int skinet_classify(struct dump_ctx *c, struct dstate *s, struct dfile *f, const char *link,
		    const struct stat *st)
{
	struct skinet_dump *sd = c->skinet;
	struct isk *u;
	int r;

	if (!sd) {
		sd = c->skinet = xzalloc(sizeof(*sd));
		if (!sd)
			return -ENOMEM;
	}
	u = isk_find(sd, st->st_ino);
	if (!u) {
		r = add_socket(c, sd, s, f, link, st, &u);
		if (r < 0)
			return r;
	}
	f->pb.kind = FILES_KIND__FILES_INETSK;
	f->pb.inetsk = u->pb;       /* owned by c->skinet (freed by skinet_dump_done) */
	f->pb.path = strdup(link);
	if (!f->pb.path)
		return pr_errno(-ENOMEM, "pid %d: fd %d", s->pid, f->fd);
	return 0;
}
