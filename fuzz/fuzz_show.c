/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target over crest's image reading: the input's first byte picks
 * an image name (and --json), the rest is the payload; the harness writes it
 * behind a valid header (magic, version, length, XXH3 checksum: random bytes
 * would all stop at the checksum) into a directory of its own, and runs
 * crest_show(), which reads, verifies and unpacks every image and prints
 * every field.  Build and run: make fuzz-run (FUZZ_TIME=seconds).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#include "crest.h"
#include "image/image.h"

static const char *const names[] = {
	"inventory.img", "pstree.img", "core-100.img", "mm-100.img", "pagemap-100.img",
	"files-100.img", "ghost.img", "sk-unix.img", "signal-100.img", "timer-100.img",
	"creds-100.img", "rlimit-100.img", "misc-100.img", "shmem-100.img", "anonfd-100.img",
	"pages-100.img",
};
#define NR_NAMES (sizeof(names) / sizeof(names[0]))

static char dir[64];
static FILE *sink;

static void remove_dir(void)
{
	rmdir(dir);   /* empty: each input's file is removed after it */
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "/tmp/crest-fuzz.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	atexit(remove_dir);
	sink = fopen("/dev/null", "w");
	if (!sink)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct img_hdr h = { .version = CREST_IMG_VERSION, .hdr_size = sizeof(h) };
	char path[128];
	const char *name;
	int fd;

	if (size < 1)
		return 0;
	name = names[(data[0] & 0x7f) % NR_NAMES];
	memcpy(h.magic, CREST_IMG_MAGIC, 4);
	h.payload_len = size - 1;
	h.checksum = XXH3_64bits(data + 1, size - 1);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (write(fd, &h, sizeof(h)) != (ssize_t)sizeof(h) ||
	    write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	close(fd);
	crest_show(dir, data[0] & 0x80, sink);
	unlink(path);
	return 0;
}
