/* SPDX-License-Identifier: MIT */
/* Shared by sk_unix.c (dump) and sk_unix_restore.c (restore). */
#ifndef CREST_SK_UNIX_PRIV_H
#define CREST_SK_UNIX_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "sk-unix.pb-c.h"

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif

#define SKUNIX_NAME_MAX 108     /* sizeof(sun_path) */

/* TCP states the unix sockets use */
#define SK_ESTABLISHED 1
#define SK_CLOSE 7
#define SK_LISTEN 10

static inline const char *skunix_type_name(uint32_t type)
{
	switch (type) {
	case SOCK_STREAM: return "stream";
	case SOCK_DGRAM: return "dgram";
	case SOCK_SEQPACKET: return "seqpacket";
	default: return "?";
	}
}

/* A socket name for messages: "/path", "@abstract" (non-printable bytes as
 * \xNN), or "unnamed". */
static inline const char *skunix_name_str(const uint8_t *name, size_t len, char *out, size_t size)
{
	size_t o = 0, i = 0;

	if (!len || !size) {
		snprintf(out, size, "unnamed");
		return out;
	}
	if (name[0] == 0) {
		out[o++] = '@';
		i = 1;
	} else {
		len = strnlen((const char *)name, len);     /* a path: up to its NUL */
	}
	for (; i < len && o + 5 < size; i++) {
		if (name[i] >= 0x20 && name[i] < 0x7f)
			out[o++] = (char)name[i];
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", name[i]);
	}
	out[o < size ? o : size - 1] = 0;
	return out;
}

#endif
