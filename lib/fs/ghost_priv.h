/* SPDX-License-Identifier: MIT */
/* Shared by ghost.c (dump) and ghost_restore.c. */
#ifndef CREST_GHOST_PRIV_H
#define CREST_GHOST_PRIV_H

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "ghost.pb-c.h"

#define REMAP_DIR ".crest-remap"
/* In the image directory: every remap directory of the dump, one a line,
 * written as each is made (crest gc finds them if ghost.img is missing) */
#define REMAP_JOURNAL "remap-dirs"
#define COPY_BUF (1 << 20)

static inline const char *ghost_kind_name(int k)
{
	switch (k) {
	case GHOST_KIND__GHOST_REG: return "deleted file";
	case GHOST_KIND__GHOST_DIR: return "deleted directory";
	case GHOST_KIND__GHOST_FIFO: return "deleted FIFO";
	case GHOST_KIND__GHOST_REMAP: return "renamed-over file";
	case GHOST_KIND__GHOST_NAMED_FIFO: return "named FIFO";
	default: return "?";
	}
}

/* Open a path with no symlink anywhere in it (the paths crest makes and
 * the ones /proc shows are canonical: a symlink means someone swapped one
 * in). */
static inline int open_nofollow(int dirfd, const char *path, int flags)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC),
				.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

#endif
