/* SPDX-License-Identifier: MIT */
/* Shared by the dump (sk_inet.c, sk_inet_tree.c) and the restore
 * (sk_inet_restore.c) of AF_INET/AF_INET6 sockets: the integer options
 * crest carries over, names for messages, addresses. */
#ifndef CREST_SK_INET_PRIV_H
#define CREST_SK_INET_PRIV_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "sk-inet.pb-c.h"

/* TCP states (include/net/tcp_states.h) */
#define ISK_ESTABLISHED 1
#define ISK_SYN_SENT 2
#define ISK_FIN_WAIT1 4
#define ISK_FIN_WAIT2 5
#define ISK_CLOSE 7
#define ISK_CLOSE_WAIT 8
#define ISK_LAST_ACK 9
#define ISK_LISTEN 10
#define ISK_CLOSING 11

static inline const char *isk_state_name(uint32_t s)
{
	static const char *const n[] = { "?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
					 "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK",
					 "LISTEN", "CLOSING", "NEW_SYN_RECV" };
	return s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

/* An integer option crest carries over when it differs from a new socket's.
 * pre: set before bind() (it changes what bind/listen do). */
struct isk_optdef {
	int level, name;
	const char *what;
	bool pre;
	bool tcp, udp;          /* for which protocols */
	bool v4, v6;            /* for which families */
	bool not_conn;          /* not for an established connection (the kernel
				   reports what the connection negotiated) */
};

#ifndef TCP_FASTOPEN_CONNECT
#define TCP_FASTOPEN_CONNECT 30
#endif
#ifndef TCP_FASTOPEN_NO_COOKIE
#define TCP_FASTOPEN_NO_COOKIE 34
#endif
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static const struct isk_optdef isk_opts[] = {
	{ SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", true, true, true, true, true, false },
	{ SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT", true, true, true, true, true, false },
	{ SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE", false, true, false, true, true, false },
	{ SOL_SOCKET, SO_BROADCAST, "SO_BROADCAST", false, false, true, true, true, false },
	{ SOL_SOCKET, SO_OOBINLINE, "SO_OOBINLINE", false, true, false, true, true, false },
	{ SOL_SOCKET, SO_PRIORITY, "SO_PRIORITY", false, true, true, true, true, false },
	{ SOL_SOCKET, SO_MARK, "SO_MARK", true, true, true, true, true, false },
	{ SOL_SOCKET, SO_RCVLOWAT, "SO_RCVLOWAT", false, true, true, true, true, false },
	{ SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF", false, true, true, true, true, true },
	{ SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF", false, true, true, true, true, true },
	{ SOL_SOCKET, SO_TIMESTAMP, "SO_TIMESTAMP", false, true, true, true, true, false },
	{ IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", false, true, false, true, true, false },
	{ IPPROTO_TCP, TCP_CORK, "TCP_CORK", false, true, false, true, true, false },
	{ IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE", false, true, false, true, true, false },
	{ IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL", false, true, false, true, true, false },
	{ IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT", false, true, false, true, true, false },
	{ IPPROTO_TCP, TCP_DEFER_ACCEPT, "TCP_DEFER_ACCEPT", false, true, false, true, true, false },
	{ IPPROTO_TCP, TCP_FASTOPEN, "TCP_FASTOPEN", false, true, false, true, true, false },
	{ IPPROTO_TCP, TCP_FASTOPEN_CONNECT, "TCP_FASTOPEN_CONNECT", false, true, false, true, true, false },
	{ IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT", false, true, false, true, true, false },
	{ IPPROTO_TCP, TCP_NOTSENT_LOWAT, "TCP_NOTSENT_LOWAT", false, true, false, true, true, false },
	{ IPPROTO_TCP, TCP_MAXSEG, "TCP_MAXSEG", true, true, false, true, true, true },
	{ IPPROTO_TCP, TCP_WINDOW_CLAMP, "TCP_WINDOW_CLAMP", false, true, false, true, true, true },
	{ IPPROTO_TCP, TCP_SYNCNT, "TCP_SYNCNT", false, true, false, true, true, false },
	{ IPPROTO_TCP, TCP_LINGER2, "TCP_LINGER2", false, true, false, true, true, false },
	{ IPPROTO_TCP, TCP_QUICKACK, "TCP_QUICKACK", false, true, false, true, true, true },
	{ IPPROTO_IP, IP_TOS, "IP_TOS", false, true, true, true, false, false },
	{ IPPROTO_IP, IP_TTL, "IP_TTL", false, true, true, true, false, false },
	{ IPPROTO_IP, IP_FREEBIND, "IP_FREEBIND", true, true, true, true, true, false },
	{ IPPROTO_IP, IP_TRANSPARENT, "IP_TRANSPARENT", true, true, true, true, true, false },
	{ IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, "IP_BIND_ADDRESS_NO_PORT", true, true, true, true, true, false },
	{ IPPROTO_IP, IP_RECVERR, "IP_RECVERR", false, true, true, true, false, false },
	{ IPPROTO_IP, IP_PKTINFO, "IP_PKTINFO", false, false, true, true, false, false },
	{ IPPROTO_IP, IP_RECVTOS, "IP_RECVTOS", false, false, true, true, false, false },
	{ IPPROTO_IP, IP_MTU_DISCOVER, "IP_MTU_DISCOVER", false, true, true, true, false, false },
	{ IPPROTO_IP, IP_MULTICAST_TTL, "IP_MULTICAST_TTL", false, false, true, true, false, false },
	{ IPPROTO_IP, IP_MULTICAST_LOOP, "IP_MULTICAST_LOOP", false, false, true, true, false, false },
	{ IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY", true, true, true, false, true, false },
	{ IPPROTO_IPV6, IPV6_TCLASS, "IPV6_TCLASS", false, true, true, false, true, false },
	{ IPPROTO_IPV6, IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS", false, true, true, false, true, false },
	{ IPPROTO_IPV6, IPV6_RECVPKTINFO, "IPV6_RECVPKTINFO", false, false, true, false, true, false },
	{ IPPROTO_IPV6, IPV6_RECVERR, "IPV6_RECVERR", false, true, true, false, true, false },
	{ IPPROTO_IPV6, IPV6_MULTICAST_HOPS, "IPV6_MULTICAST_HOPS", false, false, true, false, true, false },
	{ IPPROTO_IPV6, IPV6_MULTICAST_LOOP, "IPV6_MULTICAST_LOOP", false, false, true, false, true, false },
};

static inline const struct isk_optdef *isk_optdef_find(uint32_t level, uint32_t name)
{
	for (size_t i = 0; i < sizeof(isk_opts) / sizeof(isk_opts[0]); i++)
		if ((uint32_t)isk_opts[i].level == level && (uint32_t)isk_opts[i].name == name)
			return &isk_opts[i];
	return NULL;
}

static inline bool isk_optdef_applies(const struct isk_optdef *o, int family, int proto, bool conn)
{
	if (proto == IPPROTO_TCP ? !o->tcp : !o->udp)
		return false;
	if (family == AF_INET ? !o->v4 : !o->v6)
		return false;
	return !(conn && o->not_conn);
}

static inline const char *isk_proto_name(uint32_t proto)
{
	return proto == IPPROTO_TCP ? "TCP" : proto == IPPROTO_UDP ? "UDP" : "?";
}

/* "127.0.0.1:80", "[::1]:80" */
static inline const char *isk_addr_str(uint32_t family, const uint8_t *a, size_t alen, uint32_t port,
				       char *out, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (a && alen == (family == AF_INET ? 4u : 16u))
		inet_ntop((int)family, a, ip, sizeof(ip));
	snprintf(out, size, family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
	return out;
}

/* A sockaddr for the address a/alen and port. */
static inline socklen_t isk_sockaddr(uint32_t family, const uint8_t *a, size_t alen, uint32_t port,
				     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (a && alen == 4)
			memcpy(&s4->sin_addr, a, 4);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons((uint16_t)port);
	if (a && alen == 16)
		memcpy(&s6->sin6_addr, a, 16);
	return sizeof(*s6);
}

/* "socket:[123] (TCP 127.0.0.1:80 -> 127.0.0.1:4000)" */
static inline const char *isk_what(const InetSk *k, char *buf, size_t size)
{
	char s[64], d[64];

	isk_addr_str(k->family, k->src_addr.data, k->src_addr.len, k->src_port, s, sizeof(s));
	if (k->has_dst_addr && k->dst_port) {
		isk_addr_str(k->family, k->dst_addr.data, k->dst_addr.len, k->dst_port, d, sizeof(d));
		snprintf(buf, size, "socket:[%llu] (%s%s %s -> %s)", (unsigned long long)k->ino,
			 isk_proto_name(k->proto), k->family == AF_INET6 ? "v6" : "", s, d);
	} else {
		snprintf(buf, size, "socket:[%llu] (%s%s %s%s)", (unsigned long long)k->ino,
			 isk_proto_name(k->proto), k->family == AF_INET6 ? "v6" : "", s,
			 k->state == ISK_LISTEN ? ", listening" : "");
	}
	return buf;
}

#endif
