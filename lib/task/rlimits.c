/* SPDX-License-Identifier: MIT */
/*
 * Resource limits.
 *
 * Dump: prlimit64(0, res, NULL, buf) injected into the task for every
 * resource (reading them from outside with prlimit(pid) needs
 * CAP_SYS_RESOURCE for a task of another uid).
 *
 * Restore (inject, the child is still root with crest's limits):
 * prlimit64(0, res, new, NULL) injected.  A hard limit above crest's own
 * cannot be granted without CAP_SYS_RESOURCE: that is caught already at
 * load time when crest lacks the capability.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include "core/task.h"
#include "image/image.h"
#include "util/log.h"
#include "util/util.h"
#include "rlimit.pb-c.h"

#define RLIM_INF64 (~0ULL)

struct rlimit64_k {
	uint64_t cur, max;
};

static const char *const rlimit_names[] = {
	[RLIMIT_CPU] = "RLIMIT_CPU",
	[RLIMIT_FSIZE] = "RLIMIT_FSIZE",
	[RLIMIT_DATA] = "RLIMIT_DATA",
	[RLIMIT_STACK] = "RLIMIT_STACK",
	[RLIMIT_CORE] = "RLIMIT_CORE",
	[RLIMIT_RSS] = "RLIMIT_RSS",
	[RLIMIT_NPROC] = "RLIMIT_NPROC",
	[RLIMIT_NOFILE] = "RLIMIT_NOFILE",
	[RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK",
	[RLIMIT_AS] = "RLIMIT_AS",
	[RLIMIT_LOCKS] = "RLIMIT_LOCKS",
	[RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
	[RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE",
	[RLIMIT_NICE] = "RLIMIT_NICE",
	[RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",
	[RLIMIT_RTTIME] = "RLIMIT_RTTIME",
};
#define NR_RLIMITS ((unsigned)ARRAY_SIZE(rlimit_names))

static const char *rl_name(unsigned res)
{
	return res < NR_RLIMITS && rlimit_names[res] ? rlimit_names[res] : "RLIMIT_?";
}

/* "unlimited" or the number, in a caller buffer */
static const char *rl_val(char *buf, size_t n, uint64_t v)
{
	if (v == RLIM_INF64)
		snprintf(buf, n, "unlimited");
	else
		snprintf(buf, n, "%" PRIu64, v);
	return buf;
}

/* ---------------------------------------------------------------- dump */

static int rlimit_dump(struct dump_ctx *c, struct dump_task *t)
{
	RlimitEntry ents[NR_RLIMITS];
	RlimitEntry *ptrs[NR_RLIMITS];
	Rlimits m = RLIMITS__INIT;
	char name[IMG_NAME_MAX];
	long ret;
	int r;

	for (unsigned res = 0; res < NR_RLIMITS; res++) {
		struct rlimit64_k rl;

		r = INJECT(&t->t, &ret, __NR_prlimit64, 0, res, 0, t->t.scratch);
		if (r < 0)
			return r;
		if (ret < 0)
			return pr_errno((int)ret, "pid %d: rlimit %s: prlimit64 in the task", t->pid,
					rl_name(res));
		r = tracee_read(&t->t, t->t.scratch, &rl, sizeof(rl));
		if (r < 0)
			return r;
		rlimit_entry__init(&ents[res]);
		ents[res].resource = res;
		ents[res].cur = rl.cur;
		ents[res].max = rl.max;
		ptrs[res] = &ents[res];
		pr_debug("pid %d: rlimit %s: %" PRIu64 " / %" PRIu64, t->pid, rl_name(res),
			 rl.cur, rl.max);
	}
	m.n_limits = NR_RLIMITS;
	m.limits = ptrs;
	snprintf(name, sizeof(name), "rlimit-%d.img", t->pid);
	return img_write(c->dirfd, name, &m.base);
}

/* ---------------------------------------------------------------- restore */

/* Does crest have CAP_SYS_RESOURCE in its effective set? */
static bool have_sys_resource(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	return data[CAP_SYS_RESOURCE / 32].effective & (1U << (CAP_SYS_RESOURCE % 32));
}

static int rlimit_load(struct restore_ctx *c, struct restore_task *t)
{
	char name[IMG_NAME_MAX];
	ProtobufCMessage *msg;
	int r;

	snprintf(name, sizeof(name), "rlimit-%d.img", t->pid);
	r = img_read(c->dirfd, name, &rlimits__descriptor, &msg, false);
	if (r < 0)
		return r;
	Rlimits *m = (Rlimits *)msg;
	t->priv[MOD_RLIMIT] = m;

	bool cap = have_sys_resource();
	for (size_t i = 0; i < m->n_limits; i++) {
		const RlimitEntry *e = m->limits[i];
		struct rlimit64_k own;
		char a[32], b[32];

		if (e->resource >= NR_RLIMITS) {
			pr_err("pid %d: rlimit: unknown resource %u in %s", t->pid, e->resource, name);
			return -EBADMSG;
		}
		if (e->cur > e->max) {
			pr_err("pid %d: rlimit %s: soft limit above hard limit in %s", t->pid,
			       rl_name(e->resource), name);
			return -EBADMSG;
		}
		if (cap)
			continue;
		if (syscall(SYS_prlimit64, 0, e->resource, NULL, &own) < 0)
			return pr_errno(-errno, "pid %d: rlimit %s: prlimit64 on crest", t->pid,
					rl_name(e->resource));
		if (e->max > own.max) {
			pr_err("pid %d: rlimit %s: hard limit %s wanted, but crest's own is %s and "
			       "raising it needs CAP_SYS_RESOURCE, which crest lacks: run crest with "
			       "a hard limit of at least %s (or with CAP_SYS_RESOURCE)", t->pid,
			       rl_name(e->resource), rl_val(a, sizeof(a), e->max),
			       rl_val(b, sizeof(b), own.max), a);
			return -EPERM;
		}
	}
	return 0;
}

static int rlimit_inject(struct restore_ctx *c, struct restore_task *t)
{
	const Rlimits *m = t->priv[MOD_RLIMIT];
	long ret;
	int r;

	if (!m)
		return 0;
	for (size_t i = 0; i < m->n_limits; i++) {
		const RlimitEntry *e = m->limits[i];
		struct rlimit64_k rl = { e->cur, e->max }, now;
		char a[32], b[32], x[32], y[32];

		r = tracee_write(&t->t, t->t.scratch, &rl, sizeof(rl));
		if (r < 0)
			return r;
		r = INJECT(&t->t, &ret, __NR_prlimit64, 0, e->resource, t->t.scratch, 0);
		if (r < 0)
			return r;
		if (ret == 0)
			continue;
		if (ret != -EPERM)
			return pr_errno((int)ret, "pid %d: rlimit %s: setting %s / %s", t->pid,
					rl_name(e->resource), rl_val(a, sizeof(a), e->cur),
					rl_val(b, sizeof(b), e->max));
		/* what the task has now, for the message */
		if (syscall(SYS_prlimit64, t->pid, e->resource, NULL, &now) < 0)
			now.cur = now.max = 0;
		pr_err("pid %d: rlimit %s: cannot set %s / %s (soft / hard): only %s / %s "
		       "available; raising a hard limit needs CAP_SYS_RESOURCE%s", t->pid,
		       rl_name(e->resource), rl_val(a, sizeof(a), e->cur),
		       rl_val(b, sizeof(b), e->max), rl_val(x, sizeof(x), now.cur),
		       rl_val(y, sizeof(y), now.max),
		       e->resource == RLIMIT_NOFILE ? " (and RLIMIT_NOFILE is capped by fs.nr_open)" : "");
		return -EPERM;
	}
	pr_debug("pid %d: rlimit: %zu limits restored", t->pid, m->n_limits);
	return 0;
}

static void rlimit_free(struct restore_task *t)
{
	if (t->priv[MOD_RLIMIT]) {
		protobuf_c_message_free_unpacked(t->priv[MOD_RLIMIT], NULL);
		t->priv[MOD_RLIMIT] = NULL;
	}
}

const struct crest_module rlimit_module = {
	.name = "rlimits",
	.dump = rlimit_dump,
	.load = rlimit_load,
	.inject = rlimit_inject,
	.free = rlimit_free,
};
