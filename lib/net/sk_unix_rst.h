/* SPDX-License-Identifier: MIT */
/* Internals of the unix socket restore: sk_unix_restore.c (loading, the
 * clusters) and sk_unix_names.c (names, temporary roots, socket calls). */
#ifndef CREST_SK_UNIX_RST_H
#define CREST_SK_UNIX_RST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "sk_unix_priv.h"
#include "core/task.h"
#include "util/util.h"

#define FILL_SNDBUF (32 << 20)  /* a sender's buffer while it refills a queue */

struct skr {                    /* one socket, in the child that makes it */
	int fd;                 /* the socket (above base), -1 */
	int partner;            /* other end of a closed peer, closed at the end */
	int troot;              /* UNIXSK_GONE: its temporary root, -1 */
};

struct skunix_restore {
	UnixSks *img;
	struct skr *r;          /* per id (each child has its own copy) */
};

struct troot {                  /* a temporary directory used as root */
	int pdfd;               /* its parent (closed at the end unless dirfd) */
	int dfd;
	char name[80];
};

struct bctx {                   /* making the clusters of one task */
	struct restore_ctx *c;
	struct restore_task *t;
	struct skunix_restore *sr;
	int base;
	int root, cwd;          /* the child's root and cwd, to come back to */
	struct troot *tr;
	size_t ntr;
	int tsend;              /* unnamed temporary datagram sender, -1 */
};

/* Where a name resolves: in the child's own root (dfd -1), under a
 * directory used as root (absolute names), or from a directory as cwd. */
struct place {
	int dfd;
	bool root;
};


#define NOWHERE ((struct place){ -1, false })

static inline UnixSk *SK(struct skunix_restore *sr, uint32_t id)
{
	return sr->img->sks[id];
}

static inline bool named(const UnixSk *u)
{
	return u->has_name && u->name.len;
}

static inline bool abstract(const ProtobufCBinaryData *n)
{
	return n->len && n->data[0] == 0;
}

static inline const char *skr_name(const UnixSk *u, char *buf, size_t size)
{
	return skunix_name_str(u->name.data, u->name.len, buf, size);
}

static inline socklen_t mkaddr(struct sockaddr_un *a, const ProtobufCBinaryData *n)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path, n->data, MIN(n->len, sizeof(a->sun_path)));
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + MIN(n->len, sizeof(a->sun_path)));
}

/* A path name as a C string. */
static inline const char *path_of(const ProtobufCBinaryData *n, char *buf)
{
	size_t l = strnlen((const char *)n->data, n->len);
	memcpy(buf, n->data, l);
	buf[l] = 0;
	return buf;
}

/* pathname pair for messages/prechecks: fs_dir + name as crest sees it */
static inline void full_path(const UnixSk *u, char *out, size_t size)
{
	char p[SKUNIX_NAME_MAX + 1];
	const char *d = u->fs_dir ? u->fs_dir : "/";
	path_of(&u->name, p);
	if (p[0] == '/')
		snprintf(out, size, "%s%s", strcmp(d, "/") ? d : "", p);
	else
		snprintf(out, size, "%s/%s", d, p);
}

int skr_up(struct bctx *b, int fd);
int skr_mksock(struct bctx *b, uint32_t type);
int skr_enter(const struct place *p);
int skr_leave(struct bctx *b, const struct place *p);
int skr_troot_new(struct bctx *b, const char *parent);
void skr_troots_remove(struct bctx *b);
struct place skr_troot_place(struct bctx *b, int i);
int skr_own_place(struct bctx *b, const UnixSk *u, struct place *p, int *opened);
int skr_bind_at(int fd, const ProtobufCBinaryData *n, bool mkdirs);
int skr_connect_to(int fd, const ProtobufCBinaryData *n);
int skr_bind_own(struct bctx *b, const UnixSk *u, int fd);
int skr_make_accepted(struct bctx *b, const UnixSk *a, int cfd, int *afd);
int skr_send_one(struct bctx *b, int fd, const UnixSkMsg *m, const ProtobufCBinaryData *to,
		    bool stream);

#endif
