/* SPDX-License-Identifier: MIT */
/*
 * Credentials: real/effective/saved/fs uids and gids, supplementary groups,
 * the five capability sets, securebits and no_new_privs.
 *
 * Dump: /proc/PID/status, plus PR_GET_SECUREBITS injected into the task.
 * A task in seccomp mode (strict or filter) fails the dump: not supported.
 *
 * Restore: the child was forked from crest and is still root with crest's
 * capabilities until inject_late, where (as the very last module) the
 * identity is switched in an order that never loses a privilege a later
 * step still needs:
 *
 *   1. securebits KEEP_CAPS|NO_SETUID_FIXUP: the id changes keep every cap
 *   2. setgroups, setresgid, setfsgid, setresuid, setfsuid
 *   3. capset: inheritable := dumped, permitted/effective unchanged (raising
 *      inheritable must happen before the bounding set shrinks: the kernel
 *      only allows new inheritable bits that are in the bounding set)
 *   4. PR_CAPBSET_DROP of every cap not in the dumped bounding set
 *   5. PR_CAP_AMBIENT_RAISE of the dumped ambient set (needs the cap in
 *      permitted and inheritable; before securebits, which may forbid it)
 *   6. final securebits (needs CAP_SETPCAP, so before capset drops it)
 *   7. capset with the dumped effective/permitted/inheritable (only lowers)
 *   8. PR_SET_NO_NEW_PRIVS
 *
 * Then the result is read back from /proc/PID/status and compared.
 * The uid change resets dumpable and the parent-death signal: misc.c
 * restores those afterwards (misc_restore_dumpable).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include "task.h"
#include "image.h"
#include "log.h"
#include "util.h"
#include "creds.h"
#include "creds.pb-c.h"

#define CREDS_MAX_GROUPS 65536

struct proc_creds {
	uint32_t uid[4], gid[4];        /* real, effective, saved, fs */
	uint32_t *groups;
	size_t ngroups;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	bool no_new_privs;
	int seccomp;
};

static void proc_creds_free(struct proc_creds *p)
{
	free(p->groups);
	p->groups = NULL;
}

/* Value of "Name:" in a status buffer, or NULL. */
static const char *status_field(const char *buf, const char *name)
{
	size_t n = strlen(name);
	for (const char *l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, name, n) && l[n] == ':')
			return l + n + 1;
	return NULL;
}

static int parse_ids(const char *buf, const char *name, uint32_t ids[4])
{
	const char *v = status_field(buf, name);
	if (!v || sscanf(v, "%" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32,
			 &ids[0], &ids[1], &ids[2], &ids[3]) != 4)
		return -EBADMSG;
	return 0;
}

static int parse_cap(const char *buf, const char *name, uint64_t *cap)
{
	const char *v = status_field(buf, name);
	if (!v || sscanf(v, "%" SCNx64, cap) != 1)
		return -EBADMSG;
	return 0;
}

static int parse_groups(const char *buf, struct proc_creds *p)
{
	const char *v = status_field(buf, "Groups");
	if (!v)
		return -EBADMSG;
	size_t cap = 16;
	p->groups = malloc(cap * sizeof(*p->groups));
	if (!p->groups)
		return -ENOMEM;
	p->ngroups = 0;
	for (;;) {
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v < '0' || *v > '9')
			break;
		char *end;
		unsigned long g = strtoul(v, &end, 10);
		if (p->ngroups == CREDS_MAX_GROUPS)
			return -EBADMSG;
		if (p->ngroups == cap) {
			uint32_t *n = realloc(p->groups, 2 * cap * sizeof(*n));
			if (!n)
				return -ENOMEM;
			p->groups = n;
			cap *= 2;
		}
		p->groups[p->ngroups++] = (uint32_t)g;
		v = end;
	}
	return 0;
}

/* Parse the identity lines of /proc/PID/status.  Logs on failure. */
static int read_proc_creds(pid_t pid, struct proc_creds *p)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	memset(p, 0, sizeof(*p));
	r = proc_read(pid, "status", &buf, &len);
	if (r < 0)
		return pr_errno(r, "pid %d: creds: cannot read /proc/%d/status", pid, pid);
	if (parse_ids(buf, "Uid", p->uid) || parse_ids(buf, "Gid", p->gid) ||
	    parse_cap(buf, "CapInh", &p->cap_inh) || parse_cap(buf, "CapPrm", &p->cap_prm) ||
	    parse_cap(buf, "CapEff", &p->cap_eff) || parse_cap(buf, "CapBnd", &p->cap_bnd) ||
	    parse_cap(buf, "CapAmb", &p->cap_amb)) {
		pr_err("pid %d: creds: unexpected format of /proc/%d/status", pid, pid);
		return -EBADMSG;
	}
	r = parse_groups(buf, p);
	if (r < 0) {
		proc_creds_free(p);
		return pr_errno(r, "pid %d: creds: cannot parse Groups of /proc/%d/status", pid, pid);
	}
	const char *v = status_field(buf, "NoNewPrivs");
	p->no_new_privs = v && atoi(v) != 0;
	v = status_field(buf, "Seccomp");
	p->seccomp = v ? atoi(v) : 0;
	return 0;
}

static int cap_last_cap(void)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (read_file_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", &buf, &len) < 0)
		return CAP_LAST_CAP;
	int v = atoi(buf);
	return v > 0 && v < 64 ? v : CAP_LAST_CAP;
}

int creds_check_seccomp(pid_t pid)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = proc_read(pid, "status", &buf, &len);
	if (r < 0)
		return pr_errno(r, "pid %d: creds: cannot read /proc/%d/status", pid, pid);
	const char *v = status_field(buf, "Seccomp");
	int mode = v ? atoi(v) : 0;
	if (mode != 0) {
		pr_err("pid %d: seccomp mode %d (%s) is active: checkpointing seccomp-confined "
		       "tasks is not supported yet", pid, mode, mode == 1 ? "strict" : "filter");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* ---------------------------------------------------------------- dump */

static int creds_dump(struct dump_ctx *c, struct dump_task *t)
{
	struct proc_creds p;
	char name[IMG_NAME_MAX];
	long ret;
	int r;

	r = read_proc_creds(t->pid, &p);
	if (r < 0)
		return r;
	if (p.seccomp != 0) {
		pr_err("pid %d: seccomp mode %d (%s) is active: checkpointing seccomp-confined "
		       "tasks is not supported yet", t->pid, p.seccomp,
		       p.seccomp == 1 ? "strict" : "filter");
		proc_creds_free(&p);
		return -EOPNOTSUPP;
	}

	r = INJECT(&t->t, &ret, __NR_prctl, PR_GET_SECUREBITS);
	if (r < 0) {
		proc_creds_free(&p);
		return r;
	}
	if (ret < 0) {
		proc_creds_free(&p);
		return pr_errno((int)ret, "pid %d: creds: prctl(PR_GET_SECUREBITS) in the task", t->pid);
	}

	Creds m = CREDS__INIT;
	m.uid = p.uid[0]; m.euid = p.uid[1]; m.suid = p.uid[2]; m.fsuid = p.uid[3];
	m.gid = p.gid[0]; m.egid = p.gid[1]; m.sgid = p.gid[2]; m.fsgid = p.gid[3];
	m.n_groups = p.ngroups;
	m.groups = p.groups;
	m.cap_inh = p.cap_inh;
	m.cap_prm = p.cap_prm;
	m.cap_eff = p.cap_eff;
	m.cap_bnd = p.cap_bnd;
	m.cap_amb = p.cap_amb;
	m.securebits = (uint32_t)ret;
	m.no_new_privs = p.no_new_privs;
	m.has_cap_last_cap = true;
	m.cap_last_cap = (uint32_t)cap_last_cap();

	pr_debug("pid %d: creds: uid %u/%u/%u/%u gid %u/%u/%u/%u, %zu groups, caps inh %#" PRIx64
		 " prm %#" PRIx64 " eff %#" PRIx64 " bnd %#" PRIx64 " amb %#" PRIx64
		 ", securebits %#x, no_new_privs %d", t->pid,
		 m.uid, m.euid, m.suid, m.fsuid, m.gid, m.egid, m.sgid, m.fsgid, p.ngroups,
		 m.cap_inh, m.cap_prm, m.cap_eff, m.cap_bnd, m.cap_amb, m.securebits, m.no_new_privs);

	snprintf(name, sizeof(name), "creds-%d.img", t->pid);
	r = img_write(c->dirfd, name, &m.base);
	proc_creds_free(&p);
	return r;
}

/* ---------------------------------------------------------------- restore */

static int creds_load(struct restore_ctx *c, struct restore_task *t)
{
	char name[IMG_NAME_MAX];
	ProtobufCMessage *msg;
	struct proc_creds self;
	int r;

	snprintf(name, sizeof(name), "creds-%d.img", t->pid);
	r = img_read(c->dirfd, name, &creds__descriptor, &msg, false);
	if (r < 0)
		return r;
	Creds *m = (Creds *)msg;
	t->priv[MOD_CREDS] = m;

	if (m->n_groups > CREDS_MAX_GROUPS) {
		pr_err("pid %d: creds: image has %zu supplementary groups (max %d)", t->pid,
		       m->n_groups, CREDS_MAX_GROUPS);
		return -EBADMSG;
	}
	if (m->cap_amb & ~(m->cap_prm & m->cap_inh) || m->cap_eff & ~m->cap_prm) {
		pr_err("pid %d: creds: inconsistent capability sets in %s", t->pid, name);
		return -EBADMSG;
	}

	/* The child starts with crest's capabilities: it can only keep or drop. */
	r = read_proc_creds(getpid(), &self);
	if (r < 0)
		return r;
	proc_creds_free(&self);
	uint64_t miss_bnd = m->cap_bnd & ~self.cap_bnd;
	uint64_t miss_prm = m->cap_prm & ~self.cap_prm;
	uint64_t miss_inh = m->cap_inh & ~(self.cap_bnd | self.cap_inh);
	if (miss_bnd || miss_prm || miss_inh) {
		pr_err("pid %d: creds: the task had capabilities crest itself lacks "
		       "(bounding %#" PRIx64 ", permitted %#" PRIx64 ", inheritable %#" PRIx64
		       "); they cannot be granted: run crest with these capabilities "
		       "(e.g. outside the container that drops them)",
		       t->pid, miss_bnd, miss_prm, miss_inh);
		return -EPERM;
	}
	if (!(self.cap_eff & (1ULL << CAP_SETPCAP)) || !(self.cap_eff & (1ULL << CAP_SETUID)) ||
	    !(self.cap_eff & (1ULL << CAP_SETGID))) {
		pr_err("pid %d: creds: crest needs CAP_SETPCAP, CAP_SETUID and CAP_SETGID to "
		       "restore credentials (has %#" PRIx64 ")", t->pid, self.cap_eff);
		return -EPERM;
	}
	return 0;
}

/* One injected syscall of the sequence; logs the failing step. */
#define CREDS_STEP(t, what, nr, ...) ({                                            \
	long _ret;                                                                 \
	int _r = INJECT(&(t)->t, &_ret, nr, __VA_ARGS__);                          \
	if (_r == 0 && _ret < 0) {                                                 \
		_r = (int)_ret;                                                    \
		pr_err("pid %d: creds: %s failed: %s", (t)->pid, what, strerror(-_r)); \
	}                                                                          \
	_r < 0 ? _r : (int)MIN(_ret, (long)INT32_MAX);                             \
})

static int capset_inject(struct restore_task *t, const char *what, uint64_t eff,
			 uint64_t prm, uint64_t inh)
{
	struct {
		struct __user_cap_header_struct hdr;
		struct __user_cap_data_struct data[2];
	} buf;
	memset(&buf, 0, sizeof(buf));
	buf.hdr.version = _LINUX_CAPABILITY_VERSION_3;
	buf.hdr.pid = 0;
	for (int i = 0; i < 2; i++) {
		buf.data[i].effective = (uint32_t)(eff >> (32 * i));
		buf.data[i].permitted = (uint32_t)(prm >> (32 * i));
		buf.data[i].inheritable = (uint32_t)(inh >> (32 * i));
	}
	int r = tracee_write(&t->t, t->t.scratch, &buf, sizeof(buf));
	if (r < 0)
		return r;
	r = CREDS_STEP(t, what, __NR_capset, t->t.scratch, t->t.scratch + sizeof(buf.hdr));
	return r < 0 ? r : 0;
}

static int set_fsid(struct restore_task *t, long nr, const char *what, uint32_t id)
{
	long ret;
	int r = INJECT(&t->t, &ret, nr, id);
	if (r < 0)
		return r;
	/* setfs[ug]id returns the previous value; an invalid id only reads it */
	r = INJECT(&t->t, &ret, nr, (uint32_t)-1);
	if (r < 0)
		return r;
	if ((uint32_t)ret != id) {
		pr_err("pid %d: creds: %s(%u) failed (still %u)", t->pid, what, id, (uint32_t)ret);
		return -EPERM;
	}
	return 0;
}

static int creds_verify(struct restore_task *t, const Creds *m)
{
	struct proc_creds p;
	int r = read_proc_creds(t->pid, &p);
	if (r < 0)
		return r;
	uint32_t uid[4] = { m->uid, m->euid, m->suid, m->fsuid };
	uint32_t gid[4] = { m->gid, m->egid, m->sgid, m->fsgid };
	bool groups_ok = p.ngroups == m->n_groups &&
		(!p.ngroups || !memcmp(p.groups, m->groups, p.ngroups * sizeof(uint32_t)));
	proc_creds_free(&p);
	if (memcmp(uid, p.uid, sizeof(uid)) || memcmp(gid, p.gid, sizeof(gid)) || !groups_ok ||
	    p.cap_inh != m->cap_inh || p.cap_prm != m->cap_prm || p.cap_eff != m->cap_eff ||
	    p.cap_bnd != m->cap_bnd || p.cap_amb != m->cap_amb ||
	    p.no_new_privs != m->no_new_privs) {
		pr_err("pid %d: creds: restored credentials differ from the image: uid %u/%u/%u/%u "
		       "gid %u/%u/%u/%u caps inh %#" PRIx64 " prm %#" PRIx64 " eff %#" PRIx64
		       " bnd %#" PRIx64 " amb %#" PRIx64 " nnp %d%s", t->pid,
		       p.uid[0], p.uid[1], p.uid[2], p.uid[3], p.gid[0], p.gid[1], p.gid[2], p.gid[3],
		       p.cap_inh, p.cap_prm, p.cap_eff, p.cap_bnd, p.cap_amb, p.no_new_privs,
		       groups_ok ? "" : ", groups differ");
		return -EIO;
	}
	return 0;
}

static int creds_inject_late(struct restore_ctx *c, struct restore_task *t)
{
	const Creds *m = t->priv[MOD_CREDS];
	struct proc_creds cur;
	int r;

	if (!m)
		return 0;
	r = read_proc_creds(t->pid, &cur);
	if (r < 0)
		return r;
	proc_creds_free(&cur);

	/* 1. keep every capability across the id changes */
	r = CREDS_STEP(t, "prctl(PR_SET_SECUREBITS, KEEP_CAPS|NO_SETUID_FIXUP)", __NR_prctl,
		       PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_NO_SETUID_FIXUP);
	if (r < 0)
		return r;

	/* 2. ids */
	size_t glen = m->n_groups * sizeof(uint32_t);
	if (glen > t->t.scratch_size) {
		pr_err("pid %d: creds: %zu supplementary groups do not fit the scratch area",
		       t->pid, m->n_groups);
		return -E2BIG;
	}
	if (glen) {
		r = tracee_write(&t->t, t->t.scratch, m->groups, glen);
		if (r < 0)
			return r;
	}
	r = CREDS_STEP(t, "setgroups", __NR_setgroups, m->n_groups, t->t.scratch);
	if (r < 0)
		return r;
	r = CREDS_STEP(t, "setresgid", __NR_setresgid, m->gid, m->egid, m->sgid);
	if (r < 0)
		return r;
	r = set_fsid(t, __NR_setfsgid, "setfsgid", m->fsgid);
	if (r < 0)
		return r;
	r = CREDS_STEP(t, "setresuid", __NR_setresuid, m->uid, m->euid, m->suid);
	if (r < 0)
		return r;
	r = set_fsid(t, __NR_setfsuid, "setfsuid", m->fsuid);
	if (r < 0)
		return r;

	/* 3. inheritable set while the bounding set is still full */
	r = capset_inject(t, "capset (inheritable)", cur.cap_eff, cur.cap_prm, m->cap_inh);
	if (r < 0)
		return r;

	/* 4. bounding set */
	int last = cap_last_cap();
	for (int cap = 0; cap <= last; cap++) {
		if (!(cur.cap_bnd & (1ULL << cap)) || (m->cap_bnd & (1ULL << cap)))
			continue;
		char what[64];
		snprintf(what, sizeof(what), "prctl(PR_CAPBSET_DROP, %d)", cap);
		r = CREDS_STEP(t, what, __NR_prctl, PR_CAPBSET_DROP, cap);
		if (r < 0)
			return r;
	}

	/* 5. ambient set */
	if (cur.cap_amb) {
		r = CREDS_STEP(t, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)", __NR_prctl, PR_CAP_AMBIENT,
			       PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
		if (r < 0)
			return r;
	}
	for (int cap = 0; cap < 64; cap++) {
		if (!(m->cap_amb & (1ULL << cap)))
			continue;
		char what[64];
		snprintf(what, sizeof(what), "prctl(PR_CAP_AMBIENT_RAISE, %d)", cap);
		r = CREDS_STEP(t, what, __NR_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
		if (r < 0)
			return r;
	}

	/* 6. final securebits (CAP_SETPCAP still effective) */
	char what[64];
	snprintf(what, sizeof(what), "prctl(PR_SET_SECUREBITS, %#x)", m->securebits);
	r = CREDS_STEP(t, what, __NR_prctl, PR_SET_SECUREBITS, m->securebits);
	if (r < 0)
		return r;

	/* 7. final capability sets */
	r = capset_inject(t, "capset", m->cap_eff, m->cap_prm, m->cap_inh);
	if (r < 0)
		return r;

	/* 8. no_new_privs (cannot be undone, so last) */
	if (m->no_new_privs) {
		r = CREDS_STEP(t, "prctl(PR_SET_NO_NEW_PRIVS)", __NR_prctl, PR_SET_NO_NEW_PRIVS,
			       1, 0, 0, 0);
		if (r < 0)
			return r;
	}

	r = creds_verify(t, m);
	if (r < 0)
		return r;
	pr_debug("pid %d: creds: restored uid %u gid %u, %zu groups", t->pid, m->uid, m->gid,
		 m->n_groups);
	return 0;
}

static void creds_free(struct restore_task *t)
{
	if (t->priv[MOD_CREDS]) {
		protobuf_c_message_free_unpacked(t->priv[MOD_CREDS], NULL);
		t->priv[MOD_CREDS] = NULL;
	}
}

const struct crest_module creds_module = {
	.name = "creds",
	.dump = creds_dump,
	.load = creds_load,
	.inject_late = creds_inject_late,
	.free = creds_free,
};
