/* SPDX-License-Identifier: MIT */
/*
 * AF_INET / AF_INET6 sockets: restore (part of the files module; dump in
 * sk_inet.c and sk_inet_tree.c).  Everything runs natively in the task that
 * restores the description, in its net namespace:
 *
 *  - unconnected and listening sockets: socket(), the options that must come
 *    before bind (SO_REUSEADDR/REUSEPORT, IPV6_V6ONLY, SO_BINDTODEVICE...),
 *    bind() to the same address and port (SO_REUSEADDR is set for the bind
 *    itself, so that TIME_WAIT connections of an earlier run do not stop
 *    it), listen() with the backlog, the other options;
 *  - a listener's connections not accepted yet (.prepare, before any fd is
 *    opened): right after listen(), each client is made again by a real
 *    connect() from its address and port, in queue order, and sends what
 *    was waiting in the listener's end: the accept queue holds the same
 *    connections with the same bytes;
 *  - established connections: TCP_REPAIR: bind, the sequence numbers of
 *    both queues, connect() (no packet in repair mode), MSS, window scale,
 *    SACK and timestamps (TCP_REPAIR_OPTIONS), the connection's clock
 *    (TCP_TIMESTAMP), the received bytes (TCP_RECV_QUEUE), the window
 *    (TCP_REPAIR_WINDOW).  The connection stays in repair mode until every
 *    task is prepared (.prepare2): only then does the peer exist, so
 *    nothing can answer the first packet with a reset.  Repair is then
 *    switched off and the bytes that were queued to send (unacknowledged
 *    and unsent) are sent again from the first unacknowledged sequence
 *    number: what the peer already had, it drops as a duplicate.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include "fs/files_priv.h"
#include "util/log.h"
#include "sk_inet.h"
#include "netlock.h"
#include "sk_inet_priv.h"
#include "core/task.h"
#include "util/util.h"

#define CONNECT_WAIT_MS 3000    /* an address held by an old TIME_WAIT connection */

struct rsk_made {
	const FilesDesc *d;
	int fd;                 /* >= base; -1 once handed out */
};

struct rsk_conn {               /* a connection to take out of repair mode */
	const InetSk *k;
	int fd;                 /* its fd number in the task */
	uint64_t ino;           /* the socket made */
};

struct skinet_restore {
	struct rsk_made *made;
	size_t nr_made;
	struct rsk_conn *conn;
	size_t nr_conn;
};

static struct skinet_restore *rst(struct restore_ctx *c)
{
	if (!c->skinet)
		c->skinet = xzalloc(sizeof(*c->skinet));
	return c->skinet;
}

/* ------------------------------------------------------------------ load */

int skinet_load_desc(struct restore_ctx *c, struct restore_task *t, const FilesDesc *d, int fd)
{
	const InetSk *k = d->inetsk;
	size_t alen;

	(void)c;
	if (!k || (k->family != AF_INET && k->family != AF_INET6) ||
	    !((k->type == SOCK_STREAM && k->proto == IPPROTO_TCP) ||
	      (k->type == SOCK_DGRAM && k->proto == IPPROTO_UDP)))
		goto bad;
	alen = k->family == AF_INET ? 4 : 16;
	if ((k->has_src_addr && k->src_addr.len != alen) || (k->has_dst_addr && k->dst_addr.len != alen))
		goto bad;
	switch (k->state) {
	case ISK_LISTEN:
	case ISK_CLOSE:
		return 0;
	case ISK_ESTABLISHED:
		if (!k->has_dst_addr || (k->proto == IPPROTO_TCP && !k->tcp && !k->pending_client))
			goto bad;
		return 0;
	default:
		goto bad;
	}
bad:
	pr_err("pid %d: fd %d: files image: the inet socket record of %s is inconsistent; the image is "
	       "damaged", t->pid, fd, d->path ? d->path : "?");
	return -EBADMSG;
}

/* --------------------------------------------------------------- helpers */

static int move_up(int fd, int base)
{
	int n = fcntl(fd, F_DUPFD_CLOEXEC, base), e = errno;
	close(fd);
	return n < 0 ? -e : n;
}

static int opts_apply(pid_t pid, int fd, int sfd, const InetSk *k, bool pre, const char *desc)
{
	for (size_t i = 0; i < k->n_opts; i++) {
		const InetSkOpt *o = k->opts[i];
		const struct isk_optdef *def = isk_optdef_find(o->level, o->name);
		int v = o->value;
		if (!def || def->pre != pre)
			continue;
		if (setsockopt(sfd, (int)o->level, (int)o->name, &v, sizeof(v)) < 0)
			return pr_errno(-errno, "pid %d: fd %d (%s): setsockopt(%s, %d)", pid, fd, desc,
					def->what, v);
	}
	if (pre && k->bind_dev &&
	    setsockopt(sfd, SOL_SOCKET, SO_BINDTODEVICE, k->bind_dev, (socklen_t)strlen(k->bind_dev)) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): SO_BINDTODEVICE %s (the device must exist)", pid,
				fd, desc, k->bind_dev);
	if (pre)
		return 0;
	if (k->linger_on) {
		struct linger lg = { 1, (int)k->linger_sec };
		if (setsockopt(sfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
			return pr_errno(-errno, "pid %d: fd %d (%s): SO_LINGER", pid, fd, desc);
	}
	if (k->has_rcvtimeo_us || k->has_sndtimeo_us) {
		struct timeval r = { (time_t)(k->rcvtimeo_us / 1000000), (suseconds_t)(k->rcvtimeo_us % 1000000) };
		struct timeval s = { (time_t)(k->sndtimeo_us / 1000000), (suseconds_t)(k->sndtimeo_us % 1000000) };
		if ((k->has_rcvtimeo_us && setsockopt(sfd, SOL_SOCKET, SO_RCVTIMEO, &r, sizeof(r)) < 0) ||
		    (k->has_sndtimeo_us && setsockopt(sfd, SOL_SOCKET, SO_SNDTIMEO, &s, sizeof(s)) < 0))
			return pr_errno(-errno, "pid %d: fd %d (%s): SO_RCVTIMEO/SO_SNDTIMEO", pid, fd, desc);
	}
	if (k->congestion && setsockopt(sfd, IPPROTO_TCP, TCP_CONGESTION, k->congestion,
					(socklen_t)strlen(k->congestion)) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): TCP_CONGESTION %s (is the module loaded?)", pid,
				fd, desc, k->congestion);
	return 0;
}

static int opt_value(const InetSk *k, int level, int name, int dflt)
{
	for (size_t i = 0; i < k->n_opts; i++)
		if (k->opts[i]->level == (uint32_t)level && k->opts[i]->name == (uint32_t)name)
			return k->opts[i]->value;
	return dflt;
}

static int set_flags(pid_t pid, int fd, int sfd, const FilesDesc *d, const char *desc)
{
	if (fcntl(sfd, F_SETFL, d->flags & O_NONBLOCK) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): cannot set flags 0%o", pid, fd, desc, d->flags);
	return 0;
}

/* bind to the dumped address; SO_REUSEADDR for the bind itself (old
 * TIME_WAIT connections on the port), then the program's value again.
 * force: in repair mode for the bind (the port of a client, which an old
 * TIME_WAIT connection of an earlier restore of it may hold) */
static int bind_src(pid_t pid, int fd, int sfd, const InetSk *k, const char *desc, bool force)
{
	struct sockaddr_storage ss;
	socklen_t sl = isk_sockaddr(k->family, k->src_addr.data, k->src_addr.len, k->src_port, &ss);
	int one = 1, off = -1, v = opt_value(k, SOL_SOCKET, SO_REUSEADDR, 0), r = 0;
	char a[64];

	setsockopt(sfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (force)
		setsockopt(sfd, IPPROTO_TCP, TCP_REPAIR, &one, sizeof(one));
	r = bind(sfd, (struct sockaddr *)&ss, sl) < 0 ? -errno : 0;
	if (force && setsockopt(sfd, IPPROTO_TCP, TCP_REPAIR, &off, sizeof(off)) < 0 && r == 0)
		r = pr_errno(-errno, "pid %d: fd %d (%s): TCP_REPAIR off", pid, fd, desc);
	if (r < 0) {
		errno = -r;
		r = -errno;
		pr_err("pid %d: fd %d (%s): cannot bind to %s again: %s%s", pid, fd, desc,
		       isk_addr_str(k->family, k->src_addr.data, k->src_addr.len, k->src_port, a, sizeof(a)),
		       strerror(-r), r == -EADDRINUSE ? (v ? " (another socket holds it: stop its program "
		       "and restore again)" : " (another socket holds it, or connections of the port wait "
		       "in TIME_WAIT and the program did not set SO_REUSEADDR: stop the other program, or "
		       "wait a minute, and restore again)") : r == -EADDRNOTAVAIL ? " (the address is not on "
		       "this machine or namespace)" : "");
		return r;
	}
	setsockopt(sfd, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v));
	return 0;
}

static int wait_fd(int fd, short ev, int ms)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r == 1 ? 0 : r == 0 ? -ETIMEDOUT : -errno;
}

/* connect(), retried while an old TIME_WAIT connection holds the 4-tuple */
static int connect_dst(int sfd, const InetSk *k, bool nonblock)
{
	struct sockaddr_storage ss;
	socklen_t sl = isk_sockaddr(k->family, k->dst_addr.data, k->dst_addr.len, k->dst_port, &ss);
	uint64_t end = now_ns() + (uint64_t)CONNECT_WAIT_MS * 1000000;

	for (;;) {
		if (connect(sfd, (struct sockaddr *)&ss, sl) == 0)
			return 0;
		if (nonblock && errno == EINPROGRESS)
			return -EINPROGRESS;
		if (errno != EADDRNOTAVAIL || now_ns() > end)
			return -errno;
		usleep(50000);
	}
}

static int send_all(int sfd, const uint8_t *p, size_t len, int ms)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(sfd, p + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			int r = wait_fd(sfd, POLLOUT, ms);
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

/* ----------------------------------------------------------- the sockets */

/* Unconnected or listening. */
static int open_plain(pid_t pid, int fd, const FilesDesc *d, int base)
{
	const InetSk *k = d->inetsk;
	_cleanup_close_ int s = -1;
	char desc[200];
	int r;

	isk_what(k, desc, sizeof(desc));
	s = socket((int)k->family, (int)k->type | SOCK_CLOEXEC, (int)k->proto);
	if (s < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): socket", pid, fd, desc);
	r = opts_apply(pid, fd, s, k, true, desc);
	if (r == 0 && k->bound)
		r = bind_src(pid, fd, s, k, desc, false);
	if (r < 0)
		return r;
	if (k->state == ISK_LISTEN && listen(s, (int)k->backlog) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): listen(%u)", pid, fd, desc, k->backlog);
	r = opts_apply(pid, fd, s, k, false, desc);
	if (r == 0)
		r = set_flags(pid, fd, s, d, desc);
	if (r < 0)
		return r;
	r = move_up(TAKE_FD(s), base);
	if (r < 0)
		return pr_errno(r, "pid %d: fd %d (%s): cannot move it above fd %d", pid, fd, desc, base);
	pr_debug("pid %d: fd %d (%s) restored", pid, fd, desc);
	return r;
}

/* A client of a connection waiting in a listener's queue (the listener is
 * listening): connected for real, then what waited there is sent. */
static int open_pending_client(pid_t pid, int fd, const FilesDesc *d, int base)
{
	const InetSk *k = d->inetsk;
	_cleanup_close_ int s = -1;
	char desc[200];
	int r, err = 0;
	socklen_t l = sizeof(err);

	isk_what(k, desc, sizeof(desc));
	s = socket((int)k->family, (int)k->type | SOCK_CLOEXEC | SOCK_NONBLOCK, (int)k->proto);
	if (s < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): socket", pid, fd, desc);
	r = opts_apply(pid, fd, s, k, true, desc);
	if (r == 0)
		r = bind_src(pid, fd, s, k, desc, true);
	if (r < 0)
		return r;
	r = connect_dst(s, k, true);
	if (r == -EINPROGRESS) {
		r = wait_fd(s, POLLOUT, CONNECT_WAIT_MS);
		if (r == 0 && (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &l) < 0 || err))
			r = -(err ? err : errno);
	}
	if (r < 0)
		return pr_errno(r, "pid %d: fd %d (%s): cannot connect it to its listener again", pid, fd,
				desc);
	if (k->has_pending_data && k->pending_data.len) {
		r = send_all(s, k->pending_data.data, k->pending_data.len, CONNECT_WAIT_MS);
		if (r < 0)
			return pr_errno(r, "pid %d: fd %d (%s): cannot send the %zu bytes that waited in the "
					"listener again", pid, fd, desc, k->pending_data.len);
	}
	r = opts_apply(pid, fd, s, k, false, desc);
	if (r == 0)
		r = set_flags(pid, fd, s, d, desc);
	if (r < 0)
		return r;
	r = move_up(TAKE_FD(s), base);
	if (r < 0)
		return pr_errno(r, "pid %d: fd %d (%s): cannot move it above fd %d", pid, fd, desc, base);
	pr_debug("pid %d: fd %d (%s): connected to its listener again, %zu bytes sent", pid, fd, desc,
		 k->pending_data.len);
	return r;
}

/* ------------------------------------------------------------------ UDP */

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint32_t)(b[n - 1] << 8);
	return sum;
}

static bool v4mapped(const uint8_t *a)
{
	static const uint8_t pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	return !memcmp(a, pre, 12);
}

/* One datagram from (src, sport) to (dst, dport), sent through a raw
 * socket: it needs no socket bound at the sender's address (which a socket
 * of the tree may hold). */
static int raw_send(int family, const uint8_t *src, const uint8_t *dst, uint32_t sport, uint32_t dport,
		    const uint8_t *data, size_t len)
{
	_cleanup_close_ int raw = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	_cleanup_free_ uint8_t *pkt = malloc(len + 48);
	struct sockaddr_storage ss;
	struct udphdr uh = { .source = htons((uint16_t)sport), .dest = htons((uint16_t)dport),
			     .len = htons((uint16_t)(len + sizeof(uh))) };
	size_t hl;

	if (raw < 0)
		return -errno;
	if (!pkt)
		return -ENOMEM;
	if (family == AF_INET) {
		struct iphdr ih = { .version = 4, .ihl = 5, .ttl = 64, .protocol = IPPROTO_UDP,
				    .tot_len = htons((uint16_t)(len + sizeof(uh) + 20)) };
		memcpy(&ih.saddr, src, 4);
		memcpy(&ih.daddr, dst, 4);
		hl = sizeof(ih);
		memcpy(pkt, &ih, hl);       /* UDP checksum 0: none (IPv4) */
	} else {
		struct ip6_hdr ih = { 0 };
		uint32_t sum = 0, plen = (uint32_t)(len + sizeof(uh));
		uint8_t pseudo[8] = { 0 };
		ih.ip6_flow = htonl(6u << 28);
		ih.ip6_plen = htons((uint16_t)plen);
		ih.ip6_nxt = IPPROTO_UDP;
		ih.ip6_hops = 64;
		memcpy(&ih.ip6_src, src, 16);
		memcpy(&ih.ip6_dst, dst, 16);
		pseudo[0] = (uint8_t)(plen >> 24);
		pseudo[1] = (uint8_t)(plen >> 16);
		pseudo[2] = (uint8_t)(plen >> 8);
		pseudo[3] = (uint8_t)plen;
		pseudo[7] = IPPROTO_UDP;
		sum = csum_add(sum, src, 16);
		sum = csum_add(sum, dst, 16);
		sum = csum_add(sum, pseudo, 8);
		sum = csum_add(sum, &uh, sizeof(uh));
		sum = csum_add(sum, data, len);
		uh.check = htons(csum_fold(sum));
		if (!uh.check)
			uh.check = 0xffff;
		hl = sizeof(ih);
		memcpy(pkt, &ih, hl);
	}
	memcpy(pkt + hl, &uh, sizeof(uh));
	memcpy(pkt + hl + sizeof(uh), data, len);
	socklen_t sl = isk_sockaddr((uint32_t)family, dst, family == AF_INET ? 4 : 16, 0, &ss);
	if (sendto(raw, pkt, hl + sizeof(uh) + len, 0, (struct sockaddr *)&ss, sl) < 0)
		return -errno;
	return 0;
}

/* How many datagrams wait in s (peeked with SO_PEEK_OFF, then put back). */
static size_t udp_count(int s)
{
	int off = 0, old = -1;
	socklen_t ol = sizeof(old);
	size_t n = 0;
	uint8_t b[1];

	getsockopt(s, SOL_SOCKET, SO_PEEK_OFF, &old, &ol);
	setsockopt(s, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off));
	for (;;) {
		ssize_t m = recv(s, b, 1, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
		if (m <= 0)
			break;
		n++;
		off += (int)m;
		setsockopt(s, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off));
	}
	setsockopt(s, SOL_SOCKET, SO_PEEK_OFF, &old, sizeof(old));
	return n;
}

/* The datagrams that waited in the socket s, from their senders. */
static int udp_refill(pid_t pid, int fd, int s, const InetSk *k, const char *desc)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 }, lo6[16] = { [15] = 1 };
	uint8_t dst[16], dst4[4];
	int r;

	if (!k->n_queue)
		return 0;
	memcpy(dst, k->src_addr.data, k->src_addr.len);
	if (k->family == AF_INET && !memcmp(dst, (uint8_t[4]){ 0 }, 4))
		memcpy(dst, lo4, 4);
	if (k->family == AF_INET6 && !memcmp(dst, (uint8_t[16]){ 0 }, 16))
		memcpy(dst, lo6, 16);
	if (k->family == AF_INET6 && v4mapped(dst))
		memcpy(dst4, dst + 12, 4);
	else
		memcpy(dst4, lo4, 4);
	for (size_t i = 0; i < k->n_queue; i++) {
		const InetSkDgram *g = k->queue[i];
		size_t al = g->has_src_addr ? g->src_addr.len : 0;
		if (al != (k->family == AF_INET ? 4u : 16u)) {
			pr_err("pid %d: fd %d (%s): a queued datagram has no sender address; the image is "
			       "damaged", pid, fd, desc);
			return -EBADMSG;
		}
		if (k->family == AF_INET6 && v4mapped(g->src_addr.data))
			r = raw_send(AF_INET, g->src_addr.data + 12, dst4, g->src_port, k->src_port,
				     g->data.data, g->data.len);
		else
			r = raw_send((int)k->family, g->src_addr.data, dst, g->src_port, k->src_port,
				     g->data.data, g->data.len);
		if (r < 0)
			return pr_errno(r, "pid %d: fd %d (%s): refilling queued datagram %zu of %zu (raw "
					"socket; crest needs CAP_NET_RAW)", pid, fd, desc, i + 1, k->n_queue);
	}
	/* they travel through loopback: wait until all are there */
	for (int i = 0; i < 200; i++) {
		if (udp_count(s) >= k->n_queue)
			return 0;
		usleep(5000);
	}
	pr_err("pid %d: fd %d (%s): the %zu refilled datagrams did not all arrive (rp_filter, or a "
	       "firewall on loopback?)", pid, fd, desc, k->n_queue);
	return -EIO;
}

static int open_udp(pid_t pid, int fd, const FilesDesc *d, int base)
{
	const InetSk *k = d->inetsk;
	_cleanup_close_ int s = -1;
	char desc[200];
	int r;

	isk_what(k, desc, sizeof(desc));
	s = socket((int)k->family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (s < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): socket", pid, fd, desc);
	r = opts_apply(pid, fd, s, k, true, desc);
	if (r == 0 && k->bound)
		r = bind_src(pid, fd, s, k, desc, false);
	if (r < 0)
		return r;
	if (k->state == ISK_ESTABLISHED && (r = connect_dst(s, k, false)) < 0)
		return pr_errno(r, "pid %d: fd %d (%s): connect", pid, fd, desc);
	r = udp_refill(pid, fd, s, k, desc);
	if (r == 0)
		r = opts_apply(pid, fd, s, k, false, desc);
	if (r == 0)
		r = set_flags(pid, fd, s, d, desc);
	if (r < 0)
		return r;
	r = move_up(TAKE_FD(s), base);
	if (r < 0)
		return pr_errno(r, "pid %d: fd %d (%s): cannot move it above fd %d", pid, fd, desc, base);
	pr_debug("pid %d: fd %d (%s) restored, %zu datagrams queued", pid, fd, desc, k->n_queue);
	return r;
}

static int set_int(int s, int level, int name, int v)
{
	return setsockopt(s, level, name, &v, sizeof(v)) < 0 ? -errno : 0;
}

/* An established connection, in repair mode (left on until .prepare2). */
static int open_conn(struct restore_ctx *c, pid_t pid, int fd, const FilesDesc *d, int base)
{
	const InetSk *k = d->inetsk;
	const InetSkTcp *tc = k->tcp;
	struct skinet_restore *sr = rst(c);
	struct tcp_repair_opt ro[4];
	struct sockaddr_storage ss;
	_cleanup_close_ int s = -1;
	struct stat st;
	char desc[200];
	unsigned nro = 0;
	int r;
	/* a FIN takes a sequence number: without it, the connection is made
	 * established, and the FINs come again in .prepare2 */
	uint32_t snd_end = tc->snd_seq - (tc->fin_sent ? 1u : 0u);
	uint32_t rcv_end = tc->rcv_seq - (tc->fin_rcvd ? 1u : 0u);

	isk_what(k, desc, sizeof(desc));
	if (!sr)
		return -ENOMEM;
	s = socket((int)k->family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (s < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): socket", pid, fd, desc);
	if ((tc->has_sndbuf && tc->sndbuf && (r = set_int(s, SOL_SOCKET, SO_SNDBUFFORCE, (int)tc->sndbuf / 2)) < 0) ||
	    (tc->has_rcvbuf && tc->rcvbuf && (r = set_int(s, SOL_SOCKET, SO_RCVBUFFORCE, (int)tc->rcvbuf / 2)) < 0))
		return pr_errno(r, "pid %d: fd %d (%s): SO_SNDBUFFORCE/SO_RCVBUFFORCE", pid, fd, desc);
	/* before repair mode: SO_REUSEADDR would undo its forced reuse of the port */
	r = opts_apply(pid, fd, s, k, true, desc);
	if (r < 0)
		return r;
	r = set_int(s, IPPROTO_TCP, TCP_REPAIR, 1);
	if (r < 0)
		return pr_errno(r, "pid %d: fd %d (%s): TCP_REPAIR (crest needs CAP_NET_ADMIN)", pid, fd, desc);
	socklen_t sl = isk_sockaddr(k->family, k->src_addr.data, k->src_addr.len, k->src_port, &ss);
	if (bind(s, (struct sockaddr *)&ss, sl) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): bind in repair mode", pid, fd, desc);
	if ((r = set_int(s, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE)) < 0 ||
	    (r = set_int(s, IPPROTO_TCP, TCP_QUEUE_SEQ, (int)(snd_end - (uint32_t)tc->sndq.len))) < 0 ||
	    (r = set_int(s, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE)) < 0 ||
	    (r = set_int(s, IPPROTO_TCP, TCP_QUEUE_SEQ, (int)(rcv_end - (uint32_t)tc->rcvq.len))) < 0)
		return pr_errno(r, "pid %d: fd %d (%s): TCP_QUEUE_SEQ", pid, fd, desc);
	/* the MSS the connection uses (mss_cache) is computed at connect()
	 * from the clamp it has then (536 by default: the repair option comes
	 * too late); TCP_MAXSEG takes at most 32767 */
	if (tc->mss && (r = set_int(s, IPPROTO_TCP, TCP_MAXSEG, (int)MIN(tc->mss, 32767u))) < 0)
		return pr_errno(r, "pid %d: fd %d (%s): TCP_MAXSEG %u", pid, fd, desc, tc->mss);
	r = connect_dst(s, k, false);
	if (r < 0)
		return pr_errno(r, "pid %d: fd %d (%s): connect in repair mode", pid, fd, desc);
	ro[nro++] = (struct tcp_repair_opt){ 2 /* TCPOPT_MSS */, tc->mss };
	if (tc->wscale_ok)
		ro[nro++] = (struct tcp_repair_opt){ 3 /* TCPOPT_WINDOW */, tc->snd_wscale | (tc->rcv_wscale << 16) };
	if (tc->sack_ok)
		ro[nro++] = (struct tcp_repair_opt){ 4 /* TCPOPT_SACK_PERM */, 0 };
	if (tc->tstamp_ok)
		ro[nro++] = (struct tcp_repair_opt){ 8 /* TCPOPT_TIMESTAMP */, 0 };
	if (setsockopt(s, IPPROTO_TCP, TCP_REPAIR_OPTIONS, ro, nro * sizeof(ro[0])) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): TCP_REPAIR_OPTIONS", pid, fd, desc);
	if (tc->has_timestamp && (r = set_int(s, IPPROTO_TCP, TCP_TIMESTAMP, (int)tc->timestamp)) < 0)
		return pr_errno(r, "pid %d: fd %d (%s): TCP_TIMESTAMP", pid, fd, desc);
	if (tc->rcvq.len) {
		r = set_int(s, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE);
		for (size_t off = 0; r == 0 && off < tc->rcvq.len;) {
			ssize_t n = send(s, tc->rcvq.data + off, tc->rcvq.len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				r = n < 0 ? -errno : -EIO;
			else
				off += (size_t)n;
		}
		if (r < 0)
			return pr_errno(r, "pid %d: fd %d (%s): refilling the %zu received bytes", pid, fd, desc,
					tc->rcvq.len);
	}
	set_int(s, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE);
	if (tc->has_snd_wnd) {
		struct tcp_repair_window w = { tc->snd_wl1, tc->snd_wnd, tc->max_window, tc->rcv_wnd,
					       tc->rcv_wup };
		/* the window's marks counted the FIN received */
		if ((int32_t)(w.rcv_wup - rcv_end) > 0)
			w.rcv_wup = rcv_end;
		if ((int32_t)(w.snd_wl1 - (rcv_end + w.rcv_wnd)) > 0)
			w.snd_wl1 = rcv_end;
		if (setsockopt(s, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, sizeof(w)) < 0)
			return pr_errno(-errno, "pid %d: fd %d (%s): TCP_REPAIR_WINDOW", pid, fd, desc);
	}
	r = opts_apply(pid, fd, s, k, false, desc);
	if (r == 0)
		r = set_flags(pid, fd, s, d, desc);
	if (r < 0)
		return r;
	if (fstat(s, &st) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): fstat", pid, fd, desc);
	struct rsk_conn *nc = realloc(sr->conn, (sr->nr_conn + 1) * sizeof(*nc));
	if (!nc)
		return pr_errno(-ENOMEM, "pid %d: fd %d (%s)", pid, fd, desc);
	sr->conn = nc;
	sr->conn[sr->nr_conn++] = (struct rsk_conn){ k, fd, st.st_ino };
	r = move_up(TAKE_FD(s), base);
	if (r < 0)
		return pr_errno(r, "pid %d: fd %d (%s): cannot move it above fd %d", pid, fd, desc, base);
	pr_debug("pid %d: fd %d (%s): connection made in repair mode (seq %u/%u, %zu bytes received)",
		 pid, fd, desc, tc->snd_seq, tc->rcv_seq, tc->rcvq.len);
	return r;
}

/* ------------------------------------------------------- module entries */

static int add_made(struct skinet_restore *sr, const FilesDesc *d, int fd)
{
	struct rsk_made *n = realloc(sr->made, (sr->nr_made + 1) * sizeof(*n));
	if (!n) {
		close(fd);
		return -ENOMEM;
	}
	sr->made = n;
	sr->made[sr->nr_made++] = (struct rsk_made){ d, fd };
	return 0;
}

static int first_fd_of(const struct rstate *s, size_t i)
{
	const FilesDesc *d = s->img->descs[i];
	return d->has_keep_fd ? d->keep_fd : s->first_fd[i];
}

int skinet_prepare(struct restore_ctx *c, struct restore_task *t, int base)
{
	struct rstate *s = t->priv[MOD_FILES];
	struct skinet_restore *sr;
	Files *img;

	if (!s)
		return 0;
	img = s->img;
	for (size_t i = 0; i < img->n_descs; i++) {
		const FilesDesc *d = img->descs[i];
		const InetSk *k = d->inetsk;
		int fd = first_fd_of(s, i), r;

		if (d->kind != FILES_KIND__FILES_INETSK || !k || files_desc_remote(d) || fd < 0 ||
		    k->state != ISK_LISTEN || !k->n_pending)
			continue;
		sr = rst(c);
		if (!sr)
			return -ENOMEM;
		r = open_plain(t->pid, fd, d, base);
		if (r < 0 || (r = add_made(sr, d, r)) < 0)
			return r;
		/* its connections not accepted yet, in queue order */
		for (size_t p = 0; p < k->n_pending; p++) {
			size_t j;
			for (j = 0; j < img->n_descs; j++) {
				const FilesDesc *e = img->descs[j];
				if (e->kind == FILES_KIND__FILES_INETSK && e->inetsk && e->inetsk->pending_client &&
				    e->inetsk->ino == k->pending[p] && !files_desc_remote(e) &&
				    first_fd_of(s, j) >= 0)
					break;
			}
			if (j == img->n_descs) {
				pr_err("pid %d: fd %d: files image: the client socket:[%" PRIu64 "] of a connection "
				       "not accepted yet is not restored here; the image is damaged", t->pid, fd,
				       k->pending[p]);
				return -EBADMSG;
			}
			r = open_pending_client(t->pid, first_fd_of(s, j), img->descs[j], base);
			if (r < 0 || (r = add_made(sr, img->descs[j], r)) < 0)
				return r;
		}
	}
	return 0;
}

int skinet_open(struct restore_ctx *c, struct restore_task *t, int fd, const FilesDesc *d, int base)
{
	const InetSk *k = d->inetsk;
	struct skinet_restore *sr = c->skinet;

	for (size_t i = 0; sr && i < sr->nr_made; i++)
		if (sr->made[i].d == d && sr->made[i].fd >= 0)
			return TAKE_FD(sr->made[i].fd);
	if (k->proto == IPPROTO_UDP)
		return open_udp(t->pid, fd, d, base);
	if (k->state == ISK_ESTABLISHED) {
		if (k->pending_client) {
			pr_err("pid %d: fd %d (%s): the client of a connection not accepted yet, but its "
			       "listener is not restored here; the image is damaged", t->pid, fd, d->path);
			return -EBADMSG;
		}
		return open_conn(c, t->pid, fd, d, base);
	}
	return open_plain(t->pid, fd, d, base);
}

void skinet_prepare_end(struct restore_ctx *c, struct restore_task *t)
{
	struct skinet_restore *sr = c->skinet;

	(void)t;
	if (!sr)
		return;
	for (size_t i = 0; i < sr->nr_made; i++)
		if (sr->made[i].fd >= 0)
			close(sr->made[i].fd);
	free(sr->made);
	sr->made = NULL;
	sr->nr_made = 0;
}

int skinet_prepare2(struct restore_ctx *c, struct restore_task *t)
{
	struct skinet_restore *sr = c->skinet;

	for (size_t i = 0; sr && i < sr->nr_conn; i++) {
		const struct rsk_conn *x = &sr->conn[i];
		const InetSkTcp *tc = x->k->tcp;
		char desc[200];
		struct stat st;
		int r, v;

		isk_what(x->k, desc, sizeof(desc));
		if (fstat(x->fd, &st) < 0 || st.st_ino != x->ino) {
			pr_err("pid %d: fd %d (%s): not the connection crest made", t->pid, x->fd, desc);
			return -ESTALE;
		}
		r = set_int(x->fd, IPPROTO_TCP, TCP_REPAIR, 0);
		if (r < 0)
			return pr_errno(r, "pid %d: fd %d (%s): TCP_REPAIR off", t->pid, x->fd, desc);
		/* leaving repair mode resets SO_REUSEADDR */
		v = opt_value(x->k, SOL_SOCKET, SO_REUSEADDR, 0);
		if (v)
			set_int(x->fd, SOL_SOCKET, SO_REUSEADDR, v);
		if (tc->sndq.len) {
			r = send_all(x->fd, tc->sndq.data, tc->sndq.len, 5000);
			if (r < 0)
				return pr_errno(r, "pid %d: fd %d (%s): sending the %zu queued bytes again", t->pid,
						x->fd, desc, tc->sndq.len);
		}
		if (tc->fin_sent && shutdown(x->fd, SHUT_WR) < 0)
			return pr_errno(-errno, "pid %d: fd %d (%s): shutdown(SHUT_WR): its FIN again", t->pid,
					x->fd, desc);
		pr_debug("pid %d: fd %d (%s): connection live again, %zu bytes queued to send%s", t->pid,
			 x->fd, desc, tc->sndq.len, tc->fin_sent ? ", then its FIN" : "");
	}
	if (sr) {
		free(sr->conn);
		free(sr->made);
		free(sr);
		c->skinet = NULL;
	}
	return 0;
}

void skinet_restore_fini(struct restore_ctx *c)
{
	netlock_release(c->dirfd, "the restore is over");
	free(c->skinet);
	c->skinet = NULL;
}
