/* SPDX-License-Identifier: MIT */
/*
 * Image chains: a dump (or pre-dump) made with --prev-images-dir names its
 * parent in inventory.img (path relative to its own directory, and the
 * parent's dump id); pages unchanged since the parent stay there.
 */
#ifndef CREST_CHAIN_H
#define CREST_CHAIN_H

#include <stddef.h>
#include <stdint.h>
#include "inventory.pb-c.h"

#define CHAIN_MAX 64

struct img_chain {
	size_t n;            /* levels: 0 is the directory itself */
	int *fds;            /* fds[0] is the caller's (not closed) */
	char **names;        /* for messages: the path as given, then "DIR/parent"... */
	Inventory **inv;     /* inv[0] is the caller's (not freed) */
};

/* Follow the parent links from dirfd (whose inventory is inv); every
 * parent must be there with the dump id the child recorded.  Logged. */
int img_chain_open(int dirfd, const char *dir, Inventory *inv, struct img_chain **out);
void img_chain_free(struct img_chain *ch);

#endif
