/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the unix socket tests (header only, static): send a list of
 * messages, take a queue out and compare it with the list (message
 * boundaries for datagrams and seqpackets, the bytes for streams), names;
 * a child process that does its part of a check on request (SIGUSR1, the
 * answer in the file "child-ack" of the test dir).
 */
#ifndef CREST_TUNIX_H
#define CREST_TUNIX_H

#include "t.h"
#include "tproc.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct tu_msg {
	const void *data;
	size_t len;
};

static inline int tu_type(int fd)
{
	int v = -1;
	socklen_t l = sizeof(v);
	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l) < 0 ? -1 : v;
}

static inline socklen_t tu_addr(struct sockaddr_un *a, const char *name, int abstract)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (abstract) {
		size_t n = strlen(name);
		memcpy(a->sun_path + 1, name, n);
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	}
	strncpy(a->sun_path, name, sizeof(a->sun_path) - 1);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path) + 1);
}

/* Each message in one send (to: NULL for the connected peer). */
static inline int tu_send(int fd, const struct tu_msg *m, size_t n, const struct sockaddr_un *to,
			  socklen_t tolen)
{
	for (size_t i = 0; i < n; i++) {
		ssize_t r = sendto(fd, m[i].data, m[i].len, MSG_DONTWAIT | MSG_NOSIGNAL,
				   (const struct sockaddr *)to, to ? tolen : 0);
		if (r != (ssize_t)m[i].len) {
			t_fail("send of message %zu (%zu bytes) on fd %d: %zd (%s)", i, m[i].len, fd, r,
			       r < 0 ? strerror(errno) : "short");
			return -1;
		}
	}
	return 0;
}

/* Take the queue out: exactly these messages (datagrams/seqpackets one by
 * one, a stream as the same bytes), then nothing more. */
static inline int tu_expect(int fd, const struct tu_msg *m, size_t n, const char *what)
{
	static char buf[1 << 20];
	int type = tu_type(fd);
	ssize_t r;

	if (type == SOCK_STREAM) {
		size_t total = 0, off = 0;
		for (size_t i = 0; i < n; i++)
			total += m[i].len;
		while (off < total) {
			r = recv(fd, buf + off, total - off, MSG_DONTWAIT);
			if (r <= 0) {
				t_fail("%s: %zu of %zu bytes queued (%s)", what, off, total,
				       r < 0 ? strerror(errno) : "end of stream");
				return -1;
			}
			off += (size_t)r;
		}
		off = 0;
		for (size_t i = 0; i < n; i++) {
			if (memcmp(buf + off, m[i].data, m[i].len)) {
				t_fail("%s: bytes of part %zu differ", what, i);
				return -1;
			}
			off += m[i].len;
		}
	} else {
		for (size_t i = 0; i < n; i++) {
			r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
			if (r != (ssize_t)m[i].len || memcmp(buf, m[i].data, m[i].len)) {
				t_fail("%s: message %zu is %zd bytes (%s), expected %zu bytes '%.20s'", what, i, r,
				       r < 0 ? strerror(errno) : "differs", m[i].len, (const char *)m[i].data);
				return -1;
			}
		}
	}
	r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (r > 0 || (r < 0 && errno != EAGAIN)) {
		t_fail("%s: more in the queue than expected (%zd, %s)", what, r, r < 0 ? strerror(errno) : "");
		return -1;
	}
	return 0;
}

/* An address of length l as "@abstract", "/path" or "" (unnamed) */
static inline const char *tu_addr_name(const struct sockaddr_un *a, socklen_t l, char *out, size_t size)
{
	size_t n = l > offsetof(struct sockaddr_un, sun_path) ? l - offsetof(struct sockaddr_un, sun_path) : 0;

	if (!n)
		snprintf(out, size, "%s", "");
	else if (a->sun_path[0] == 0)
		snprintf(out, size, "@%.*s", (int)n - 1, a->sun_path + 1);
	else
		snprintf(out, size, "%.*s", (int)strnlen(a->sun_path, n), a->sun_path);
	return out;
}

/* getsockname/getpeername as "@abstract", "/path" or "" (unnamed) */
static inline const char *tu_name(int fd, int peer, char *out, size_t size)
{
	struct sockaddr_un a;
	socklen_t l = sizeof(a);

	if ((peer ? getpeername(fd, (struct sockaddr *)&a, &l) : getsockname(fd, (struct sockaddr *)&a, &l)) < 0) {
		snprintf(out, size, "<%s>", strerror(errno));
		return out;
	}
	return tu_addr_name(&a, l, out, size);
}

/* The child's part of a check, on request: the parent calls tu_ask_child,
 * which sends SIGUSR1 and waits for "<n> OK\n" in "child-ack"; the child
 * (tu_child_serve) runs its step and writes "<n> OK" or "<n> BAD".
 * tu_catch_requests() before the fork installs the SIGUSR1 handler. */
static volatile sig_atomic_t tu_go;
static void tu_on_usr1(int sig) { (void)sig; tu_go = 1; }

static inline void tu_catch_requests(void)
{
	struct sigaction sa = { .sa_handler = tu_on_usr1 };

	sigaction(SIGUSR1, &sa, NULL);
}

/* The child's life: n requests were answered before (the parent's count at
 * the fork); step(arg) != 0 answers BAD */
static inline __attribute__((noreturn)) void tu_child_serve(int n, int (*step)(void *arg), void *arg)
{
	char msg[64];

	for (;;) {
		if (tu_go) {
			int bad;
			tu_go = 0;
			n++;
			bad = step(arg);
			snprintf(msg, sizeof(msg), "%d %s\n", n, bad ? "BAD" : "OK");
			t_write_file("child-ack", msg, strlen(msg));
		}
		tp_sleep_ms(5);
	}
}

/* Request number ++*req from the child (up to 10 s): 0 when it answers OK */
static inline int tu_ask_child(int child, int *req)
{
	char want[64], ack[256];

	unlink("child-ack");
	(*req)++;
	snprintf(want, sizeof(want), "%d OK\n", *req);
	kill(child, SIGUSR1);
	ack[0] = 0;
	for (int i = 0; i < 2000; i++) {
		if (t_read_file("child-ack", ack, sizeof(ack)) > 0)
			break;
		tp_sleep_ms(5);
	}
	if (strcmp(ack, want)) {
		t_fail("child answered '%s', expected '%.*s' (see its stderr)", ack, (int)strlen(want) - 1, want);
		return -1;
	}
	return 0;
}

#endif
