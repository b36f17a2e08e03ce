/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the TCP/UDP socket tests (header only, static): sockets on
 * loopback (127.0.0.1, ::1) with free ports, options, a byte stream whose
 * every byte is a function of its position (tt_pattern), exact sends and
 * receives with a timeout.
 */
#ifndef CREST_TTCP_H
#define CREST_TTCP_H

#include "t.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static inline socklen_t tt_addr(int family, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;
		s->sin_family = AF_INET;
		s->sin_port = htons((uint16_t)port);
		s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*s);
	}
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
	s->sin6_family = AF_INET6;
	s->sin6_port = htons((uint16_t)port);
	s->sin6_addr = in6addr_loopback;
	return sizeof(*s);
}

static inline int tt_port(int fd, int peer)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	if ((peer ? getpeername(fd, (struct sockaddr *)&ss, &l) : getsockname(fd, (struct sockaddr *)&ss, &l)) < 0)
		return -1;
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static inline int tt_getopt(int fd, int level, int name)
{
	int v = -12345;
	socklen_t l = sizeof(v);
	getsockopt(fd, level, name, &v, &l);
	return v;
}

static inline void tt_setopt(int fd, int level, int name, int v, const char *what)
{
	if (setsockopt(fd, level, name, &v, sizeof(v)) < 0)
		t_die("setsockopt(%s, %d): %m", what, v);
}

/* A socket bound to loopback port 0 (a free one). */
static inline int tt_bound(int family)
{
	struct sockaddr_storage ss;
	socklen_t l = tt_addr(family, 0, &ss);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, l) < 0)
		t_die("bind to loopback: %m");
	return fd;
}

static inline int tt_listener(int family, int backlog)
{
	int fd = tt_bound(family);
	if (listen(fd, backlog) < 0)
		t_die("listen: %m");
	return fd;
}

/* A client connected to loopback port; -1 (t_fail) on error. */
static inline int tt_connect(int family, int port)
{
	struct sockaddr_storage ss;
	socklen_t l = tt_addr(family, port, &ss);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, l) < 0) {
		t_fail("connect to port %d: %m", port);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static inline int tt_accept(int l, int ms)
{
	struct pollfd p = { .fd = l, .events = POLLIN };

	if (poll(&p, 1, ms) != 1)
		return -1;
	return accept4(l, NULL, NULL, SOCK_CLOEXEC);
}

/* Exactly n bytes within ms: 0, or t_fail and -1. */
static inline int tt_recv_exact(int fd, void *buf, size_t n, int ms, const char *what)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;
		if (poll(&p, 1, ms) != 1) {
			t_fail("%s: %zu of %zu bytes within %d ms", what, got, n, ms);
			return -1;
		}
		r = recv(fd, (char *)buf + got, n - got, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0) {
			t_fail("%s: %s after %zu of %zu bytes", what, r < 0 ? strerror(errno) : "end of stream",
			       got, n);
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

static inline int tt_send_all(int fd, const void *buf, size_t n, const char *what)
{
	size_t off = 0;

	while (off < n) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t r = send(fd, (const char *)buf + off, n - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (poll(&p, 1, 5000) != 1) {
				t_fail("%s: cannot send (%zu of %zu bytes)", what, off, n);
				return -1;
			}
			continue;
		}
		if (r < 0) {
			t_fail("%s: send: %m", what);
			return -1;
		}
		off += (size_t)r;
	}
	return 0;
}

/* Nothing more to read right now (0), else t_fail. */
static inline int tt_expect_empty(int fd, const char *what)
{
	char c;
	ssize_t r = recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);

	if (r < 0 && errno == EAGAIN)
		return 0;
	t_fail("%s: %s", what, r == 0 ? "end of stream" : r > 0 ? "more data than sent" : strerror(errno));
	return -1;
}

/* The byte at position pos of stream `seed` */
static inline uint8_t tt_pattern(uint64_t seed, uint64_t pos)
{
	uint64_t x = (pos / 8) * 0x9E3779B97F4A7C15ull ^ seed;
	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 32;
	return (uint8_t)(x >> ((pos % 8) * 8));
}

#endif
