/* SPDX-License-Identifier: MIT */
/* Internals of the inet socket dump: sk_inet.c (sock_diag, one socket) and
 * sk_inet_tree.c (the sockets of the tree together, the end of the dump). */
#ifndef CREST_SK_INET_DUMP_H
#define CREST_SK_INET_DUMP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "netlock.h"
#include "sk_inet_priv.h"

struct ind {                    /* one inet socket of a net namespace (inet_diag) */
	uint32_t ino;
	uint8_t family, proto, state;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;      /* host order */
	uint32_t rqueue, wqueue;    /* listener: accept queue length, backlog */
};

struct ind_ns {
	uint64_t ino;               /* the net namespace */
	struct ind *e;              /* sorted by ino (0: sockets no fd holds) */
	size_t n, cap;
};

struct isk {                    /* one inet socket of the tree */
	InetSk *pb;                 /* the record (every description of it points here) */
	const struct ind *de;       /* its sock_diag entry */
	size_t ns;
	pid_t pid;                  /* first holder, for messages */
	int fd;
	int lfd;                    /* crest's reference (kept to the end of the dump) */
	bool repair;                /* put in TCP_REPAIR mode by the dump */
	/* listener: connections accepted from it by crest to read them */
	int *acc;                   /* crest's fds (in repair mode) */
	struct isk **acc_client;    /* their clients */
	size_t nr_acc;
};

struct skinet_dump {
	struct netlock lock;        /* netlock.c: connections with outside peers */
	struct ind_ns *ns;
	size_t nr_ns;
	struct isk **sk;
	size_t n, cap;
};

struct isk *isk_find(struct skinet_dump *sd, uint64_t ino);
/* TCP_REPAIR on/off (off: without a window probe) */
int isk_repair(int fd, int on);
void isk_pb_free(InetSk *k);

#endif
