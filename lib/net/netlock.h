/* SPDX-License-Identifier: MIT */
/*
 * The network lock (netlock.c): an nftables table in crest's net namespace
 * whose rules drop what a peer outside the tree sends to a dumped TCP
 * connection, from the moment crest reads the connection until the restore
 * is done, so that the kernel never answers the peer with a reset while
 * the process is away.  Its name is kept in netlock.img.
 */
#ifndef CREST_NETLOCK_H
#define CREST_NETLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

struct netlock {
	char table[64];         /* "" until the first rule */
	char **rules;
	size_t n;
};

/* Drop what (raddr, rport) sends to (laddr, lport); the table is made with
 * the first rule.  0 or -errno (logged). */
int netlock_add(struct netlock *l, uint32_t family, const uint8_t *laddr, uint32_t lport,
		const uint8_t *raddr, uint32_t rport);
/* Write netlock.img (nothing without a lock). */
int netlock_write(struct netlock *l, int dirfd);
/* Forget the lock; remove the table too unless keep (the tree was killed:
 * the lock stays until the restore). */
void netlock_drop(struct netlock *l, bool keep);
/* Remove the lock named in dirfd's netlock.img (restore end, crest gc):
 * 0 when there is none or it is gone. */
int netlock_release(int dirfd, const char *why);
/* crest check: how many crest lock tables are present (left by dumps),
 * their names in why (-errno if they cannot be listed, why says why). */
int netlock_count(char *why, size_t size);

#endif
