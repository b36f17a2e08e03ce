/* SPDX-License-Identifier: MIT */
/* Which message each image file holds, by file-name prefix. */
#include <string.h>
#include "image.h"
#include "inventory.pb-c.h"
#include "core.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "creds.pb-c.h"
#include "files.pb-c.h"
#include "misc.pb-c.h"
#include "rlimit.pb-c.h"
#include "signal.pb-c.h"
#include "timer.pb-c.h"
#include "shmem.pb-c.h"
#include "pstree.pb-c.h"
#include "ghost.pb-c.h"
#include "sk-unix.pb-c.h"
#include "sk-inet.pb-c.h"
#include "seccomp.pb-c.h"
#include "tty.pb-c.h"
#include "ns.pb-c.h"
#include "track.pb-c.h"
#include "mnt.pb-c.h"

static const struct {
	const char *prefix;
	const ProtobufCMessageDescriptor *d;
} img_kinds[] = {
	{ "inventory", &inventory__descriptor },
	{ "core-", &task_core__descriptor },
	{ "mm-", &mm__descriptor },
	{ "pagemap-", &page_map__descriptor },
	{ "creds-", &creds__descriptor },
	{ "files-", &files__descriptor },
	{ "misc-", &task_misc__descriptor },
	{ "rlimit-", &rlimits__descriptor },
	{ "signal-", &task_signals__descriptor },
	{ "timer-", &task_timers__descriptor },
	{ "shmem.", &shmem_objs__descriptor },
	{ "pstree.", &pstree__descriptor },
	{ "ghost.", &ghost_objs__descriptor },
	{ "sk-unix.", &unix_sks__descriptor },
	{ "netlock.", &net_lock__descriptor },
	{ "seccomp-", &seccomp__descriptor },
	{ "tty.", &ttys__descriptor },
	{ "ns.", &namespaces__descriptor },
	{ "track.", &tracker__descriptor },
	{ "mnt.", &mnt_nss__descriptor },
};

const ProtobufCMessageDescriptor *img_descriptor_for(const char *filename)
{
	size_t n = strlen(filename);
	if (n < 4 || strcmp(filename + n - 4, ".img"))
		return NULL;
	for (size_t i = 0; i < sizeof(img_kinds) / sizeof(img_kinds[0]); i++)
		if (!strncmp(filename, img_kinds[i].prefix, strlen(img_kinds[i].prefix)))
			return img_kinds[i].d;
	return NULL;
}
