/* SPDX-License-Identifier: MIT */
/*
 * Time namespaces: the CLOCK_MONOTONIC and CLOCK_BOOTTIME offsets
 * (/proc/PID/timens_offsets).  The fresh namespace gets the same offsets,
 * so its clocks go on like the host's (the time away counts, as on the
 * host), unless that would make them go back (restored after a reboot):
 * then the offset is raised so that they go on from their dump-time value.
 * A task enters it with setns() while it is still single-threaded and
 * before its address space is swapped in: the kernel then serves the
 * namespace's vvar page to the vdso, which crest moves to its dumped
 * address like any vvar (the fault handler goes by page offset).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "util/log.h"
#include "util/util.h"
#include "ns.h"

#define NSEC 1000000000LL

static int64_t clock_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * NSEC + ts.tv_nsec;
}

static int time_dump(struct dump_ctx *c, struct ns_dump_one *ns)
{
	_cleanup_free_ char *buf = NULL;
	TimeNs *t = xzalloc(sizeof(*t));
	int r;

	if (!t)
		return -ENOMEM;
	time_ns__init(t);
	ns->img->time = t;
	r = proc_read(ns->pid, "timens_offsets", &buf, NULL);
	if (r < 0)
		return pr_errno(r, "pid %d: cannot read its time namespace offsets (/proc/%d/timens_offsets)",
				ns->pid, ns->pid);
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char name[16];
		long long s, n;
		if (sscanf(l, "%15s %lld %lld", name, &s, &n) != 3)
			continue;
		if (!strcmp(name, "monotonic") || !strcmp(name, "1")) {
			t->monotonic_sec = s;
			t->monotonic_nsec = n;
		} else if (!strcmp(name, "boottime") || !strcmp(name, "7")) {
			t->boottime_sec = s;
			t->boottime_nsec = n;
		}
	}
	t->has_monotonic_at_dump = t->has_boottime_at_dump = true;
	t->monotonic_at_dump = clock_ns(CLOCK_MONOTONIC) + t->monotonic_sec * NSEC + t->monotonic_nsec;
	t->boottime_at_dump = clock_ns(CLOCK_BOOTTIME) + t->boottime_sec * NSEC + t->boottime_nsec;
	pr_info("pid %d: time namespace %" PRIu64 ": offsets monotonic %lld.%09lld s, boottime %lld.%09lld s",
		ns->pid, ns->ino, (long long)t->monotonic_sec, (long long)t->monotonic_nsec,
		(long long)t->boottime_sec, (long long)t->boottime_nsec);
	return 0;
}

static void time_dump_free(Namespace *img)
{
	free(img->time);
	img->time = NULL;
}

static int time_load(struct restore_ctx *c, const Namespace *ns)
{
	const TimeNs *t = ns->time;
	if (!t || t->monotonic_nsec < 0 || t->monotonic_nsec >= NSEC || t->boottime_nsec < 0 ||
	    t->boottime_nsec >= NSEC) {
		pr_err("image ns.img is corrupt: time namespace %u", ns->id);
		return -EBADMSG;
	}
	return 0;
}

/* The offset for clk: the dumped one, or more if the clock would go back. */
static void offset_for(clockid_t clk, int64_t sec, int64_t nsec, bool has_at, int64_t at,
		       long long *osec, long long *onsec)
{
	int64_t off = sec * NSEC + nsec, now = clock_ns(clk);

	if (has_at && now + off < at)
		off = at - now;
	*osec = off / NSEC;
	*onsec = off % NSEC;
	if (*onsec < 0) {
		*onsec += NSEC;
		(*osec)--;
	}
}

/* in the holder, after unshare(CLONE_NEWTIME): its children's namespace,
 * which nobody has entered yet (offsets can only be set until then) */
static int time_create(struct restore_ctx *c, const Namespace *ns)
{
	const TimeNs *t = ns->time;
	long long ms, mn, bs, bn;
	char buf[160];
	int fd, n, r = 0;

	offset_for(CLOCK_MONOTONIC, t->monotonic_sec, t->monotonic_nsec, t->has_monotonic_at_dump,
		   t->monotonic_at_dump, &ms, &mn);
	offset_for(CLOCK_BOOTTIME, t->boottime_sec, t->boottime_nsec, t->has_boottime_at_dump,
		   t->boottime_at_dump, &bs, &bn);
	if (ms != t->monotonic_sec || bs != t->boottime_sec)
		pr_warn("pid %d: its time namespace's clocks would go back (a reboot since the dump?): "
			"offsets raised to monotonic %lld s, boottime %lld s so that they go on from "
			"their dump-time values", ns->pid, ms, bs);
	n = snprintf(buf, sizeof(buf), "monotonic %lld %lld\nboottime %lld %lld\n", ms, mn, bs, bn);
	fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, n) != n)
		r = pr_errno(-errno, "pid %d: cannot set the offsets of its time namespace "
			     "(monotonic %lld.%09lld s, boottime %lld.%09lld s)", ns->pid, ms, mn, bs, bn);
	if (fd >= 0)
		close(fd);
	return r;
}

const struct ns_kind_ops time_ns_ops = {
	.dump = time_dump,
	.dump_free = time_dump_free,
	.load = time_load,
	.create = time_create,
};
