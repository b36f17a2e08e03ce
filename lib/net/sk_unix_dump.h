/* SPDX-License-Identifier: MIT */
/* Internals of the unix socket dump: sk_unix.c (sock_diag, one socket) and
 * sk_unix_tree.c (the sockets of the tree together). */
#ifndef CREST_SK_UNIX_DUMP_H
#define CREST_SK_UNIX_DUMP_H

#include <stdbool.h>
#include <stdint.h>
#include "fs/files_priv.h"
#include "sk_unix_priv.h"

struct skd {                    /* one unix socket of a net namespace */
	uint32_t ino, peer, type, state;
	uint32_t name_len;
	uint8_t name[SKUNIX_NAME_MAX];
	bool has_vfs;
	uint64_t vfs_dev, vfs_ino;  /* st_dev encoding */
	uint32_t *icons;            /* listener: clients of pending connections */
	uint32_t nr_icons;
	uint32_t wq;                /* listener: backlog */
	uint32_t wmem;              /* bytes (truesize) it sent that nobody read yet */
	uint8_t shutdown;
};

struct skd_ns {
	uint64_t ino;               /* the net namespace */
	struct skd *e;              /* sorted by ino */
	size_t n;
};

struct holder {
	struct dstate *s;
	size_t f;                   /* index in s->files */
};

struct sku {                    /* one socket of the tree */
	UnixSk pb;                  /* the image record (id = index) */
	const struct skd *de;
	size_t ns;                  /* index in skunix_dump.ns */
	pid_t pid;                  /* first holder, for messages */
	int fd;
	int uf;                     /* union-find parent (clusters) */
	struct holder *h;
	size_t nh;
	bool pair;                  /* made with socketpair() with its peer */
	bool has_peer;              /* getpeername() works: a peer, alive or closed */
};

struct skunix_dump {
	struct skd_ns *ns;
	size_t nr_ns;
	struct sku **sk;
	size_t n, cap;
};

const struct skd *skd_find(const struct skd_ns *ns, uint32_t ino);
/* "socket:[ino] (unix stream, /path)" */
const char *skunix_what(const struct sku *u, char *buf, size_t size);

#endif
