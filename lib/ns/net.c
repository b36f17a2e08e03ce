/* SPDX-License-Identifier: MIT */
/*
 * Network namespaces, as far as a container without traffic needs them:
 * the namespace itself and lo (up or down, mtu, its addresses).  Any other
 * device fails the dump, named.  Read at dump through rtnetlink inside the
 * namespace (a child of crest, ns_dump_in); at restore the holder sets lo
 * up in the fresh namespace (which adds 127.0.0.1/8 and ::1), then removes
 * the addresses that were not there and adds those that are missing.
 * (Devices, routes, rules and sysctls of network namespaces are for the
 * network module to add here.)
 */
#include <net/if.h>   /* (before the linux headers: libc-compat) */
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include "util/log.h"
#include "util/util.h"
#include "ns.h"

#define NL_BUF 32768

struct nl_req {
	struct nlmsghdr h;
	union {
		struct ifinfomsg ifi;
		struct ifaddrmsg ifa;
	};
	char attrs[64];
};

static int nl_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	return fd < 0 ? -errno : fd;
}

/* Send a request; for a dump call fn on every message, else wait for the ack. */
static int nl_talk(int fd, struct nl_req *req, int (*fn)(struct nlmsghdr *h, void *arg), void *arg)
{
	static __thread uint32_t seq;
	_cleanup_free_ char *buf = malloc(NL_BUF);
	/* (NLM_F_EXCL has NLM_F_MATCH's bit: a dump is a GET with both dump bits) */
	bool dump = (req->h.nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP && !(req->h.nlmsg_flags & NLM_F_CREATE);

	if (!buf)
		return -ENOMEM;
	req->h.nlmsg_seq = ++seq;
	req->h.nlmsg_flags |= NLM_F_REQUEST | (dump ? 0 : NLM_F_ACK);
	if (send(fd, req, req->h.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(fd, buf, NL_BUF, 0);
		if (n < 0)
			return -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != req->h.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);
				return e->error;
			}
			if (fn) {
				int r = fn(h, arg);
				if (r < 0)
					return r;
			}
		}
	}
}

static void nl_attr(struct nl_req *req, int type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)req + NLMSG_ALIGN(req->h.nlmsg_len));
	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	req->h.nlmsg_len = NLMSG_ALIGN(req->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

struct net_dump {
	const struct ns_dump_one *ns;
	NetNs *n;
	int lo;
	NetAddr **addrs;
	size_t nr;
};

static int on_link(struct nlmsghdr *h, void *arg)
{
	struct net_dump *d = arg;
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = IFLA_PAYLOAD(h);
	const char *name = "?";
	uint32_t mtu = 0;

	if (h->nlmsg_type != RTM_NEWLINK)
		return 0;
	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_IFNAME)
			name = RTA_DATA(a);
		else if (a->rta_type == IFLA_MTU)
			mtu = *(uint32_t *)RTA_DATA(a);
	}
	if (ifi->ifi_type != ARPHRD_LOOPBACK || strcmp(name, "lo")) {
		pr_err("pid %d: its net namespace %llu has the device %s (ifindex %d, type %u): only lo "
		       "is restored yet; remove it before the dump, or dump a tree without its own net "
		       "namespace", d->ns->pid, (unsigned long long)d->ns->ino, name, ifi->ifi_index,
		       ifi->ifi_type);
		return -ENOTSUP;
	}
	d->lo = ifi->ifi_index;
	d->n->lo_up = ifi->ifi_flags & IFF_UP;
	d->n->has_lo_mtu = true;
	d->n->lo_mtu = mtu;
	return 0;
}

static int on_addr(struct nlmsghdr *h, void *arg)
{
	struct net_dump *d = arg;
	struct ifaddrmsg *ifa = NLMSG_DATA(h);
	int len = IFA_PAYLOAD(h);
	void *local = NULL, *address = NULL;
	uint32_t flags = ifa->ifa_flags;
	NetAddr *na, **n;
	size_t alen = ifa->ifa_family == AF_INET ? 4 : 16;

	if (h->nlmsg_type != RTM_NEWADDR || (int)ifa->ifa_index != d->lo ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return 0;
	for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFA_LOCAL && RTA_PAYLOAD(a) >= alen)
			local = RTA_DATA(a);
		else if (a->rta_type == IFA_ADDRESS && RTA_PAYLOAD(a) >= alen)
			address = RTA_DATA(a);
		else if (a->rta_type == IFA_FLAGS)
			flags = *(uint32_t *)RTA_DATA(a);
	}
	if (!local)
		local = address;
	if (!local)
		return 0;
	na = xzalloc(sizeof(*na) + alen);
	n = realloc(d->addrs, (d->nr + 1) * sizeof(*n));
	if (!na || !n) {
		free(na);
		return -ENOMEM;
	}
	d->addrs = n;
	net_addr__init(na);
	na->family = ifa->ifa_family;
	na->prefixlen = ifa->ifa_prefixlen;
	na->local.data = (uint8_t *)(na + 1);
	na->local.len = alen;
	memcpy(na->local.data, local, alen);
	na->has_flags = na->has_scope = true;
	na->flags = flags;
	na->scope = ifa->ifa_scope;
	d->addrs[d->nr++] = na;
	return 0;
}

/* in a child of crest inside the namespace */
static int read_net(struct dump_ctx *c, const struct ns_dump_one *ns, void *arg, uint8_t **out, size_t *len)
{
	NetNs n = NET_NS__INIT;
	struct net_dump d = { .ns = ns, .n = &n, .lo = -1 };
	struct nl_req req;
	_cleanup_close_ int fd = nl_open();
	int r;

	if (fd < 0)
		return pr_errno(fd, "pid %d: rtnetlink socket in its net namespace", ns->pid);
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	req.h.nlmsg_type = RTM_GETLINK;
	req.h.nlmsg_flags = NLM_F_DUMP;
	r = nl_talk(fd, &req, on_link, &d);
	if (r == -ENOTSUP)
		return r;
	if (r < 0)
		return pr_errno(r, "pid %d: listing the devices of its net namespace", ns->pid);
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	req.h.nlmsg_type = RTM_GETADDR;
	req.h.nlmsg_flags = NLM_F_DUMP;
	r = nl_talk(fd, &req, on_addr, &d);
	if (r < 0) {
		pr_errno(r, "pid %d: listing the addresses of lo in its net namespace", ns->pid);
		goto out;
	}
	n.lo_addr = d.addrs;
	n.n_lo_addr = d.nr;
	*len = net_ns__get_packed_size(&n);
	*out = malloc(*len + 1);
	if (!*out) {
		r = -ENOMEM;
		goto out;
	}
	net_ns__pack(&n, *out);
out:
	for (size_t i = 0; i < d.nr; i++)
		free(d.addrs[i]);
	free(d.addrs);
	return r;
}

static int net_dump(struct dump_ctx *c, struct ns_dump_one *ns)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0;
	int r = ns_dump_in(c, ns, read_net, NULL, &buf, &len);

	if (r < 0)
		return r;
	ns->img->net = net_ns__unpack(NULL, len, buf);
	if (!ns->img->net) {
		pr_err("pid %d: the state of its net namespace came back unreadable", ns->pid);
		return -EIO;
	}
	pr_info("pid %d: net namespace %llu: lo %s, %zu addresses", ns->pid, (unsigned long long)ns->ino,
		ns->img->net->lo_up ? "up" : "down", ns->img->net->n_lo_addr);
	return 0;
}

static void net_dump_free(Namespace *img)
{
	if (img->net)
		net_ns__free_unpacked(img->net, NULL);
	img->net = NULL;
}

static int net_load(struct restore_ctx *c, const Namespace *ns)
{
	if (!ns->net)
		goto bad;
	for (size_t i = 0; i < ns->net->n_lo_addr; i++) {
		const NetAddr *a = ns->net->lo_addr[i];
		if (!((a->family == AF_INET && a->local.len == 4 && a->prefixlen <= 32) ||
		      (a->family == AF_INET6 && a->local.len == 16 && a->prefixlen <= 128)))
			goto bad;
	}
	return 0;
bad:
	pr_err("image ns.img is corrupt: net namespace %u", ns->id);
	return -EBADMSG;
}

struct cur_addr {
	NetAddr a;
	uint8_t addr[16];
};

struct addr_list {
	struct cur_addr *a;
	size_t nr;
	int lo;
};

static int on_cur_addr(struct nlmsghdr *h, void *arg)
{
	struct addr_list *l = arg;
	struct ifaddrmsg *ifa = NLMSG_DATA(h);
	int len = IFA_PAYLOAD(h);
	size_t alen = ifa->ifa_family == AF_INET ? 4 : 16;
	void *local = NULL, *address = NULL;
	struct cur_addr *n;

	if (h->nlmsg_type != RTM_NEWADDR || (int)ifa->ifa_index != l->lo ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return 0;
	for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFA_LOCAL && RTA_PAYLOAD(a) >= alen)
			local = RTA_DATA(a);
		else if (a->rta_type == IFA_ADDRESS && RTA_PAYLOAD(a) >= alen)
			address = RTA_DATA(a);
	}
	if (!local)
		local = address;
	if (!local)
		return 0;
	n = realloc(l->a, (l->nr + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	l->a = n;
	n = &l->a[l->nr++];
	net_addr__init(&n->a);
	n->a.family = ifa->ifa_family;
	n->a.prefixlen = ifa->ifa_prefixlen;
	n->a.local.len = alen;
	memcpy(n->addr, local, alen);
	n->a.has_scope = true;
	n->a.scope = ifa->ifa_scope;
	return 0;
}

static bool same_addr(const NetAddr *a, const NetAddr *b)
{
	return a->family == b->family && a->prefixlen == b->prefixlen && a->local.len == b->local.len &&
	       a->local.data && b->local.data && !memcmp(a->local.data, b->local.data, a->local.len);
}

static int change_addr(int fd, int type, int lo, const NetAddr *a, const Namespace *ns)
{
	struct nl_req req;
	char txt[INET6_ADDRSTRLEN] = "?";
	/* (secondary: the kernel decides; permanent: what a user's address is) */
	uint32_t flags = ((a->has_flags ? a->flags : 0) & ~IFA_F_SECONDARY) | IFA_F_NODAD;
	int r;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	req.h.nlmsg_type = type;
	req.h.nlmsg_flags = type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0;
	req.ifa.ifa_family = a->family;
	req.ifa.ifa_prefixlen = a->prefixlen;
	req.ifa.ifa_index = lo;
	req.ifa.ifa_scope = a->has_scope ? a->scope : 0;
	nl_attr(&req, IFA_LOCAL, a->local.data, a->local.len);
	nl_attr(&req, IFA_ADDRESS, a->local.data, a->local.len);
	if (type == RTM_NEWADDR)
		nl_attr(&req, IFA_FLAGS, &flags, sizeof(flags));
	r = nl_talk(fd, &req, NULL, NULL);
	if (r < 0) {
		inet_ntop(a->family, a->local.data, txt, sizeof(txt));
		return pr_errno(r, "pid %d: %s address %s/%u on lo in its net namespace", ns->pid,
				type == RTM_NEWADDR ? "adding" : "removing", txt, a->prefixlen);
	}
	return 0;
}

/* in the holder, inside the fresh namespace */
static int net_create(struct restore_ctx *c, const Namespace *ns)
{
	const NetNs *n = ns->net;
	struct ifreq ifr;
	struct addr_list cur = { 0 };
	struct nl_req req;
	_cleanup_close_ int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	_cleanup_close_ int fd = nl_open();
	int r = 0;

	if (sk < 0 || fd < 0)
		return pr_errno(sk < 0 ? -errno : fd, "pid %d: sockets in its new net namespace", ns->pid);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(sk, SIOCGIFINDEX, &ifr) < 0)
		return pr_errno(-errno, "pid %d: no lo in its new net namespace", ns->pid);
	cur.lo = ifr.ifr_ifindex;
	if (n->has_lo_mtu && n->lo_mtu) {
		ifr.ifr_mtu = (int)n->lo_mtu;
		if (ioctl(sk, SIOCSIFMTU, &ifr) < 0)
			return pr_errno(-errno, "pid %d: setting the mtu of lo to %u", ns->pid, n->lo_mtu);
	}
	if (n->lo_up) {
		if (ioctl(sk, SIOCGIFFLAGS, &ifr) < 0)
			return pr_errno(-errno, "pid %d: flags of lo", ns->pid);
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(sk, SIOCSIFFLAGS, &ifr) < 0)
			return pr_errno(-errno, "pid %d: setting lo up in its new net namespace", ns->pid);
	}
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	req.h.nlmsg_type = RTM_GETADDR;
	req.h.nlmsg_flags = NLM_F_DUMP;
	r = nl_talk(fd, &req, on_cur_addr, &cur);
	if (r < 0) {
		pr_errno(r, "pid %d: listing the addresses of lo in its new net namespace", ns->pid);
		goto out;
	}
	for (size_t i = 0; i < cur.nr; i++)
		cur.a[i].a.local.data = cur.a[i].addr;   /* (the array has stopped moving) */
	for (size_t i = 0; i < cur.nr && r == 0; i++) {
		bool want = false;
		for (size_t k = 0; k < n->n_lo_addr && !want; k++)
			want = same_addr(&cur.a[i].a, n->lo_addr[k]);
		if (!want)
			r = change_addr(fd, RTM_DELADDR, cur.lo, &cur.a[i].a, ns);
	}
	for (size_t k = 0; k < n->n_lo_addr && r == 0; k++) {
		bool have = false;
		for (size_t i = 0; i < cur.nr && !have; i++)
			have = same_addr(&cur.a[i].a, n->lo_addr[k]);
		if (!have)
			r = change_addr(fd, RTM_NEWADDR, cur.lo, n->lo_addr[k], ns);
	}
out:
	free(cur.a);
	return r;
}

const struct ns_kind_ops net_ns_ops = {
	.dump = net_dump,
	.dump_free = net_dump_free,
	.load = net_load,
	.create = net_create,
};
