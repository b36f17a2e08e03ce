/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the credential tests (header only, static): the identity
 * lines of /proc/self/status (Uid, Gid, Groups, Cap*, NoNewPrivs) and the
 * securebits, recorded before the dump and compared after; capset(2) of
 * the calling thread with 64-bit sets.
 */
#ifndef CREST_TCREDS_H
#define CREST_TCREDS_H

#include "t.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>

static const char *const tcr_fields[] = {
	"Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:",
	"NoNewPrivs:",
};
#define TCR_NF (sizeof(tcr_fields) / sizeof(tcr_fields[0]))

struct tcr_ids {
	char line[TCR_NF][512];  /* the status lines, without their newline */
	int securebits;
};

/* 0 / -1 (status unreadable, errno set) */
static inline int tcr_read(struct tcr_ids *ids)
{
	char line[512];
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	for (size_t i = 0; i < TCR_NF; i++)
		ids->line[i][0] = 0;
	while (fgets(line, sizeof(line), f)) {
		for (size_t i = 0; i < TCR_NF; i++)
			if (!strncmp(line, tcr_fields[i], strlen(tcr_fields[i]))) {
				line[strcspn(line, "\n")] = 0;
				snprintf(ids->line[i], sizeof(ids->line[i]), "%s", line);
			}
	}
	fclose(f);
	ids->securebits = prctl(PR_GET_SECUREBITS);
	return 0;
}

/* Record the identity (dies if unreadable) and log it */
static inline void tcr_record(struct tcr_ids *ids)
{
	if (tcr_read(ids) < 0)
		t_die("cannot read /proc/self/status: %s", strerror(errno));
	for (size_t i = 0; i < TCR_NF; i++)
		t_log("%s", ids->line[i]);
}

/* The identity of now against `before`: t_fail for each difference; 0 / -1 */
static inline int tcr_compare(const struct tcr_ids *before)
{
	struct tcr_ids now;
	int bad = 0;

	if (tcr_read(&now) < 0) {
		t_fail("cannot read /proc/self/status: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < TCR_NF; i++)
		if (strcmp(now.line[i], before->line[i])) {
			t_fail("'%s', expected '%s'", now.line[i], before->line[i]);
			bad = 1;
		}
	if (now.securebits != before->securebits) {
		t_fail("securebits %#x, expected %#x", now.securebits, before->securebits);
		bad = 1;
	}
	return bad ? -1 : 0;
}

/* capset(2) of the calling thread: effective, permitted, inheritable */
static inline void tcr_capset(uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	for (int i = 0; i < 2; i++) {
		d[i].effective = (uint32_t)(eff >> (32 * i));
		d[i].permitted = (uint32_t)(prm >> (32 * i));
		d[i].inheritable = (uint32_t)(inh >> (32 * i));
	}
	if (syscall(SYS_capset, &h, d) < 0)
		t_die("capset(eff %#llx prm %#llx inh %#llx): %s", (unsigned long long)eff,
		      (unsigned long long)prm, (unsigned long long)inh, strerror(errno));
}

#endif
