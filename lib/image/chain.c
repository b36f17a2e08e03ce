/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include "chain.h"
#include "image.h"
#include "util/log.h"
#include "util/util.h"

void img_chain_free(struct img_chain *ch)
{
	if (!ch)
		return;
	for (size_t i = 1; i < ch->n; i++) {
		close(ch->fds[i]);
		if (ch->inv[i])
			protobuf_c_message_free_unpacked(&ch->inv[i]->base, NULL);
	}
	for (size_t i = 0; i < ch->n; i++)
		free(ch->names[i]);
	free(ch->fds);
	free(ch->names);
	free(ch->inv);
	free(ch);
}

int img_chain_open(int dirfd, const char *dir, Inventory *inv, struct img_chain **out)
{
	struct img_chain *ch = xzalloc(sizeof(*ch));
	int r = 0;

	if (!ch)
		return -ENOMEM;
	ch->fds = calloc(CHAIN_MAX + 1, sizeof(int));
	ch->names = calloc(CHAIN_MAX + 1, sizeof(char *));
	ch->inv = calloc(CHAIN_MAX + 1, sizeof(Inventory *));
	if (!ch->fds || !ch->names || !ch->inv || !(ch->names[0] = xstrdup(dir))) {
		img_chain_free(ch);
		return -ENOMEM;
	}
	ch->fds[0] = dirfd;
	ch->inv[0] = inv;
	ch->n = 1;
	while (ch->inv[ch->n - 1]->parent) {
		Inventory *child = ch->inv[ch->n - 1];
		const char *cname = ch->names[ch->n - 1];
		Inventory *pinv = NULL;
		char *pname = NULL;
		int fd;

		if (ch->n == CHAIN_MAX) {
			pr_err("image %s: a chain of more than %d images", dir, CHAIN_MAX);
			r = -ELOOP;
			break;
		}
		if ((child->parent[0] == '/' ? xasprintf(&pname, "%s", child->parent)
					     : xasprintf(&pname, "%s/%s", cname, child->parent)) < 0) {
			r = -ENOMEM;
			break;
		}
		fd = openat(ch->fds[ch->n - 1], child->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			r = pr_errno(-errno, "image %s: its parent image %s is missing (the chain is broken)", cname,
				     pname);
			free(pname);
			break;
		}
		r = img_read(fd, "inventory.img", &inventory__descriptor, (ProtobufCMessage **)&pinv, true);
		if (r == -ENOENT)
			pr_err("image %s: its parent %s holds no complete image (no inventory.img): the chain is "
			       "broken", cname, pname);
		if (r == 0 && (!pinv->has_dump_id || !child->has_parent_id || pinv->dump_id != child->parent_id)) {
			pr_err("image %s: its parent %s is not the image it was made from (dump id %#llx, expected "
			       "%#llx): the chain is broken", cname, pname,
			       (unsigned long long)(pinv->has_dump_id ? pinv->dump_id : 0),
			       (unsigned long long)child->parent_id);
			r = -ESTALE;
		}
		if (r < 0) {
			if (pinv)
				protobuf_c_message_free_unpacked(&pinv->base, NULL);
			close(fd);
			free(pname);
			break;
		}
		ch->fds[ch->n] = fd;
		ch->names[ch->n] = pname;
		ch->inv[ch->n] = pinv;
		ch->n++;
	}
	if (r < 0) {
		img_chain_free(ch);
		return r;
	}
	*out = ch;
	return 0;
}
