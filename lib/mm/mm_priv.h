/* SPDX-License-Identifier: MIT */
#ifndef CREST_MM_PRIV_H
#define CREST_MM_PRIV_H
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"

/* Vma.madv bits, from smaps VmFlags */
enum {
	CREST_MADV_DONTDUMP = 1 << 0,
	CREST_MADV_HUGEPAGE = 1 << 1,
	CREST_MADV_NOHUGEPAGE = 1 << 2,
	CREST_MADV_LOCKED = 1 << 3,
	CREST_MADV_DONTFORK = 1 << 4,
	CREST_MADV_WIPEONFORK = 1 << 5,
	CREST_MADV_MERGEABLE = 1 << 6,
	CREST_MADV_LOCKONFAULT = 1 << 7,
	CREST_MADV_SEQ = 1 << 8,
	CREST_MADV_RANDOM = 1 << 9,
};
#endif
