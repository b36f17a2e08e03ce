/* SPDX-License-Identifier: MIT */
/*
 * Image files.  Each image is one protobuf message behind a fixed header:
 *
 *   magic "CRST" | u32 format version | u32 header size | u32 reserved
 *   u64 payload length | u64 XXH3-64 of the payload
 *
 * Files are written to "<name>.tmp" and renamed, so a dump that dies never
 * leaves a half image under its real name.  Memory pages live in a raw,
 * page-aligned "pages-<pid>.img" described by "pagemap-<pid>.img".
 */
#ifndef CREST_IMAGE_H
#define CREST_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#define CREST_IMG_MAGIC "CRST"
#define CREST_IMG_VERSION 2   /* 2: pages in checksummed chunks, image chains */

struct img_hdr {
	char magic[4];
	uint32_t version;
	uint32_t hdr_size;
	uint32_t reserved;
	uint64_t payload_len;
	uint64_t checksum;
} __attribute__((packed));

/* Write msg to dirfd/name (atomically). 0 or -errno, logged. */
int img_write(int dirfd, const char *name, const ProtobufCMessage *msg);
/* printf-style name helper: img_name(buf, "core-%d.img", pid) */
#define IMG_NAME_MAX 64

/* Read and verify dirfd/name. -ENOENT if missing (not logged when optional),
 * -EBADMSG if corrupt/truncated (logged with the reason). Free with
 * protobuf_c_message_free_unpacked(*out, NULL). */
int img_read(int dirfd, const char *name, const ProtobufCMessageDescriptor *d,
	     ProtobufCMessage **out, bool optional);

/* Raw read of header+payload without decoding (for show). */
int img_read_raw(int dirfd, const char *name, uint8_t **payload, size_t *len);

/* Which message a file holds, from its name prefix ("core-12.img" -> Core).
 * NULL for files that are not protobuf images (pages, logs). */
const ProtobufCMessageDescriptor *img_descriptor_for(const char *filename);

/* The image directory as an O_DIRECTORY fd (created, mode 0700, first when
 * create is set: dump); -errno, logged. */
int open_images_dir(const char *dir, bool create);

#endif
