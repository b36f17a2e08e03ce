/* SPDX-License-Identifier: MIT */
/*
 * Credentials: real/effective/saved/fs uids and gids, supplementary groups,
 * the five capability sets, securebits and no_new_privs.
 *
 * Dump: /proc/PID/status, plus PR_GET_SECUREBITS injected into the task.
 * seccomp is seccomp.c's (installed before the credentials at restore).
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
 *
 * Threads: credentials belong to each thread (glibc's setuid() & co.
 * broadcast a change to every thread, raw syscalls do not).  The dump
 * reads every thread's /proc/PID/task/TID/status and securebits (injected
 * into that thread); a thread whose credentials differ from the main
 * thread's gets its own image, creds-TID.img.  At restore the threads are
 * clones of the main thread made while it was still root (restore_threads.c),
 * so each one gets its credentials (its own image, else the main thread's)
 * by the same sequence injected into that very thread (.inject_thread),
 * then read back from /proc/PID/task/TID/status.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include "core/task.h"
#include "image/image.h"
#include "util/log.h"
#include "util/util.h"
#include "creds.pb-c.h"

#define CREDS_MAX_GROUPS 65536

struct proc_creds {
	uint32_t uid[4], gid[4];        /* real, effective, saved, fs */
	uint32_t *groups;
	size_t ngroups;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	bool no_new_privs;
};

static void proc_creds_free(struct proc_creds *p)
{
	free(p->groups);
	p->groups = NULL;
}

static int parse_ids(const char *buf, const char *name, uint32_t ids[4])
{
	const char *v = proc_status_field(buf, name);
	if (!v || sscanf(v, "%" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32,
			 &ids[0], &ids[1], &ids[2], &ids[3]) != 4)
		return -EBADMSG;
	return 0;
}

static int parse_cap(const char *buf, const char *name, uint64_t *cap)
{
	const char *v = proc_status_field(buf, name);
	if (!v || sscanf(v, "%" SCNx64, cap) != 1)
		return -EBADMSG;
	return 0;
}

static int parse_groups(const char *buf, struct proc_creds *p)
{
	const char *v = proc_status_field(buf, "Groups");
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

/* Parse the identity lines of /proc/PID/status (tid == pid or 0), or of
 * /proc/PID/task/TID/status.  Logs on failure. */
static int read_proc_creds(pid_t pid, pid_t tid, struct proc_creds *p)
{
	_cleanup_free_ char *buf = NULL;
	char name[64];
	size_t len;
	int r;

	memset(p, 0, sizeof(*p));
	if (tid && tid != pid)
		snprintf(name, sizeof(name), "task/%d/status", tid);
	else
		snprintf(name, sizeof(name), "status");
	r = proc_read(pid, name, &buf, &len);
	if (r < 0)
		return pr_errno(r, "pid %d: creds: cannot read /proc/%d/%s", pid, pid, name);
	if (parse_ids(buf, "Uid", p->uid) || parse_ids(buf, "Gid", p->gid) ||
	    parse_cap(buf, "CapInh", &p->cap_inh) || parse_cap(buf, "CapPrm", &p->cap_prm) ||
	    parse_cap(buf, "CapEff", &p->cap_eff) || parse_cap(buf, "CapBnd", &p->cap_bnd) ||
	    parse_cap(buf, "CapAmb", &p->cap_amb)) {
		pr_err("pid %d: creds: unexpected format of /proc/%d/%s", pid, pid, name);
		return -EBADMSG;
	}
	r = parse_groups(buf, p);
	if (r < 0) {
		proc_creds_free(p);
		return pr_errno(r, "pid %d: creds: cannot parse Groups of /proc/%d/%s", pid, pid, name);
	}
	const char *v = proc_status_field(buf, "NoNewPrivs");
	p->no_new_privs = v && atoi(v) != 0;
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

/* The image form of p and securebits; m->groups points into p. */
static void creds_to_pb(const struct proc_creds *p, uint32_t securebits, Creds *m)
{
	creds__init(m);
	m->uid = p->uid[0]; m->euid = p->uid[1]; m->suid = p->uid[2]; m->fsuid = p->uid[3];
	m->gid = p->gid[0]; m->egid = p->gid[1]; m->sgid = p->gid[2]; m->fsgid = p->gid[3];
	m->n_groups = p->ngroups;
	m->groups = p->groups;
	m->cap_inh = p->cap_inh;
	m->cap_prm = p->cap_prm;
	m->cap_eff = p->cap_eff;
	m->cap_bnd = p->cap_bnd;
	m->cap_amb = p->cap_amb;
	m->securebits = securebits;
	m->no_new_privs = p->no_new_privs;
}

/* ---------------------------------------------------------------- dump */

/* Credentials of one thread (tid == pid: the main one), stopped as tr, into
 * m; m->groups points into p, which the caller frees (also on failure). */
static int creds_collect(pid_t pid, pid_t tid, struct tracee *tr, struct proc_creds *p, Creds *m)
{
	long ret;
	int r;

	r = read_proc_creds(pid, tid, p);
	if (r < 0)
		return r;
	r = INJECT(tr, &ret, __NR_prctl, PR_GET_SECUREBITS);
	if (r < 0)
		return r;
	if (ret < 0)
		return pr_errno((int)ret, "pid %d: creds: prctl(PR_GET_SECUREBITS) in thread %d", pid, tid);

	creds_to_pb(p, (uint32_t)ret, m);
	m->has_cap_last_cap = true;
	m->cap_last_cap = (uint32_t)cap_last_cap();
	pr_debug("pid %d: creds of %d: uid %u/%u/%u/%u gid %u/%u/%u/%u, %zu groups, caps inh %#"
		 PRIx64 " prm %#" PRIx64 " eff %#" PRIx64 " bnd %#" PRIx64 " amb %#" PRIx64
		 ", securebits %#x, no_new_privs %d", pid, tid,
		 m->uid, m->euid, m->suid, m->fsuid, m->gid, m->egid, m->sgid, m->fsgid, p->ngroups,
		 m->cap_inh, m->cap_prm, m->cap_eff, m->cap_bnd, m->cap_amb, m->securebits,
		 m->no_new_privs);
	return 0;
}

static bool creds_same(const Creds *a, const Creds *b)
{
	return a->uid == b->uid && a->euid == b->euid && a->suid == b->suid && a->fsuid == b->fsuid &&
	       a->gid == b->gid && a->egid == b->egid && a->sgid == b->sgid && a->fsgid == b->fsgid &&
	       a->n_groups == b->n_groups &&
	       (!a->n_groups || !memcmp(a->groups, b->groups, a->n_groups * sizeof(*a->groups))) &&
	       a->cap_inh == b->cap_inh && a->cap_prm == b->cap_prm && a->cap_eff == b->cap_eff &&
	       a->cap_bnd == b->cap_bnd && a->cap_amb == b->cap_amb &&
	       a->securebits == b->securebits && a->no_new_privs == b->no_new_privs;
}

static int creds_dump(struct dump_ctx *c, struct dump_task *t)
{
	struct proc_creds p;
	Creds m;
	char name[IMG_NAME_MAX];
	int r;

	r = creds_collect(t->pid, t->pid, &t->t, &p, &m);
	if (r == 0) {
		snprintf(name, sizeof(name), "creds-%d.img", t->pid);
		r = img_write(c->dirfd, name, &m.base);
	}
	/* the other threads: an image of their own where they differ */
	for (size_t i = 0; i < t->nr_threads && r == 0; i++) {
		struct dump_thread *th = &t->threads[i];
		struct proc_creds tp;
		Creds tm;

		if (!th->t.syscall_ip)   /* injection through the main thread's gadget */
			tracee_share_gadget(&th->t, &t->t);
		r = creds_collect(t->pid, th->tid, &th->t, &tp, &tm);
		if (r == 0 && !creds_same(&m, &tm)) {
			pr_info("pid %d: thread %d has credentials of its own (uid %u/%u/%u/%u gid "
				"%u/%u/%u/%u, %zu groups, caps eff %#" PRIx64 " bnd %#" PRIx64 ")",
				t->pid, th->tid, tm.uid, tm.euid, tm.suid, tm.fsuid, tm.gid, tm.egid,
				tm.sgid, tm.fsgid, tm.n_groups, tm.cap_eff, tm.cap_bnd);
			snprintf(name, sizeof(name), "creds-%d.img", th->tid);
			r = img_write(c->dirfd, name, &tm.base);
		}
		proc_creds_free(&tp);
	}
	proc_creds_free(&p);
	return r;
}

/* ---------------------------------------------------------------- restore */

struct creds_restore {
	Creds *main;
	Creds **thr;        /* per other thread: its own image, or NULL (the main's) */
	size_t nr_thr;
};

/* An image's credentials must be consistent and grantable by crest. */
static int check_image(pid_t pid, const char *name, const Creds *m, const struct proc_creds *self)
{
	if (m->n_groups > CREDS_MAX_GROUPS) {
		pr_err("pid %d: creds: %s has %zu supplementary groups (max %d)", pid, name,
		       m->n_groups, CREDS_MAX_GROUPS);
		return -EBADMSG;
	}
	if (m->cap_amb & ~(m->cap_prm & m->cap_inh) || m->cap_eff & ~m->cap_prm) {
		pr_err("pid %d: creds: inconsistent capability sets in %s", pid, name);
		return -EBADMSG;
	}
	/* The child starts with crest's capabilities: it can only keep or drop. */
	uint64_t miss_bnd = m->cap_bnd & ~self->cap_bnd;
	uint64_t miss_prm = m->cap_prm & ~self->cap_prm;
	uint64_t miss_inh = m->cap_inh & ~(self->cap_bnd | self->cap_inh);
	if (miss_bnd || miss_prm || miss_inh) {
		pr_err("pid %d: creds: the task had capabilities crest itself lacks (%s: "
		       "bounding %#" PRIx64 ", permitted %#" PRIx64 ", inheritable %#" PRIx64
		       "); they cannot be granted: run crest with these capabilities "
		       "(e.g. outside the container that drops them)",
		       pid, name, miss_bnd, miss_prm, miss_inh);
		return -EPERM;
	}
	return 0;
}

static int creds_load(struct restore_ctx *c, struct restore_task *t)
{
	char name[IMG_NAME_MAX];
	ProtobufCMessage *msg;
	struct proc_creds self;
	struct creds_restore *cr;
	int r;

	cr = xzalloc(sizeof(*cr));
	if (!cr)
		return -ENOMEM;
	t->priv[MOD_CREDS] = cr;
	r = read_proc_creds(getpid(), 0, &self);
	if (r < 0)
		return r;
	proc_creds_free(&self);
	if (!(self.cap_eff & (1ULL << CAP_SETPCAP)) || !(self.cap_eff & (1ULL << CAP_SETUID)) ||
	    !(self.cap_eff & (1ULL << CAP_SETGID))) {
		pr_err("pid %d: creds: crest needs CAP_SETPCAP, CAP_SETUID and CAP_SETGID to "
		       "restore credentials (has %#" PRIx64 ")", t->pid, self.cap_eff);
		return -EPERM;
	}

	snprintf(name, sizeof(name), "creds-%d.img", t->pid);
	r = img_read(c->dirfd, name, &creds__descriptor, &msg, false);
	if (r < 0)
		return r;
	cr->main = (Creds *)msg;
	r = check_image(t->pid, name, cr->main, &self);
	if (r < 0)
		return r;

	cr->thr = calloc(t->nr_thread_tids + 1, sizeof(*cr->thr));
	if (!cr->thr)
		return -ENOMEM;
	cr->nr_thr = t->nr_thread_tids;
	for (size_t i = 0; i < t->nr_thread_tids; i++) {
		snprintf(name, sizeof(name), "creds-%d.img", t->thread_tids[i]);
		r = img_read(c->dirfd, name, &creds__descriptor, &msg, true);
		if (r == -ENOENT)
			continue;   /* the main thread's credentials */
		if (r < 0)
			return r;
		cr->thr[i] = (Creds *)msg;
		r = check_image(t->pid, name, cr->thr[i], &self);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The thread credentials are given to: any thread of a restored task. */
struct creds_target {
	struct tracee *t;   /* stopped, injection ready */
	pid_t pid, tid;     /* tid == pid: the main thread */
	char who[48];       /* "pid P" or "pid P: thread T", for messages */
};

static void target_init(struct creds_target *x, struct tracee *tr, pid_t pid, pid_t tid)
{
	x->t = tr;
	x->pid = pid;
	x->tid = tid;
	if (tid == pid)
		snprintf(x->who, sizeof(x->who), "pid %d", pid);
	else
		snprintf(x->who, sizeof(x->who), "pid %d: thread %d", pid, tid);
}

/* One injected syscall of the sequence; logs the failing step. */
#define CREDS_STEP(x, what, nr, ...) ({                                            \
	long _ret;                                                                 \
	int _r = INJECT((x)->t, &_ret, nr, __VA_ARGS__);                           \
	if (_r == 0 && _ret < 0) {                                                 \
		_r = (int)_ret;                                                    \
		pr_err("%s: creds: %s failed: %s", (x)->who, what, strerror(-_r)); \
	}                                                                          \
	_r < 0 ? _r : (int)MIN(_ret, (long)INT32_MAX);                             \
})

static int capset_inject(struct creds_target *x, const char *what, uint64_t eff,
			 uint64_t prm, uint64_t inh)
{
	struct {
		struct __user_cap_header_struct hdr;
		struct __user_cap_data_struct data[2];
	} buf;
	memset(&buf, 0, sizeof(buf));
	buf.hdr.version = _LINUX_CAPABILITY_VERSION_3;
	buf.hdr.pid = 0;   /* the calling thread */
	for (int i = 0; i < 2; i++) {
		buf.data[i].effective = (uint32_t)(eff >> (32 * i));
		buf.data[i].permitted = (uint32_t)(prm >> (32 * i));
		buf.data[i].inheritable = (uint32_t)(inh >> (32 * i));
	}
	int r = tracee_write(x->t, x->t->scratch, &buf, sizeof(buf));
	if (r < 0)
		return r;
	r = CREDS_STEP(x, what, __NR_capset, x->t->scratch, x->t->scratch + sizeof(buf.hdr));
	return r < 0 ? r : 0;
}

static int set_fsid(struct creds_target *x, long nr, const char *what, uint32_t id)
{
	long ret;
	int r = INJECT(x->t, &ret, nr, id);
	if (r < 0)
		return r;
	/* setfs[ug]id returns the previous value; an invalid id only reads it */
	r = INJECT(x->t, &ret, nr, (uint32_t)-1);
	if (r < 0)
		return r;
	if ((uint32_t)ret != id) {
		pr_err("%s: creds: %s(%u) failed (still %u)", x->who, what, id, (uint32_t)ret);
		return -EPERM;
	}
	return 0;
}

static int get_securebits(struct creds_target *x, uint32_t *bits)
{
	long ret;
	int r = INJECT(x->t, &ret, __NR_prctl, PR_GET_SECUREBITS);
	if (r < 0)
		return r;
	if (ret < 0)
		return pr_errno((int)ret, "%s: creds: prctl(PR_GET_SECUREBITS)", x->who);
	*bits = (uint32_t)ret;
	return 0;
}

/* The thread's credentials now (read back from /proc and the thread). */
static int creds_now(struct creds_target *x, struct proc_creds *p, Creds *m)
{
	uint32_t bits = 0;
	int r = read_proc_creds(x->pid, x->tid, p);
	if (r == 0)
		r = get_securebits(x, &bits);
	if (r < 0)
		return r;
	creds_to_pb(p, bits, m);
	return 0;
}

static int creds_verify(struct creds_target *x, const Creds *m)
{
	struct proc_creds p;
	Creds now;
	int r = creds_now(x, &p, &now);
	if (r < 0) {
		proc_creds_free(&p);
		return r;
	}
	bool groups_ok = now.n_groups == m->n_groups &&
		(!now.n_groups || !memcmp(now.groups, m->groups, now.n_groups * sizeof(uint32_t)));
	bool same = creds_same(&now, m);
	proc_creds_free(&p);
	if (!same) {
		pr_err("%s: creds: restored credentials differ from the image: uid %u/%u/%u/%u "
		       "gid %u/%u/%u/%u caps inh %#" PRIx64 " prm %#" PRIx64 " eff %#" PRIx64
		       " bnd %#" PRIx64 " amb %#" PRIx64 " securebits %#x nnp %d%s", x->who,
		       now.uid, now.euid, now.suid, now.fsuid, now.gid, now.egid, now.sgid, now.fsgid,
		       now.cap_inh, now.cap_prm, now.cap_eff, now.cap_bnd, now.cap_amb, now.securebits,
		       now.no_new_privs, groups_ok ? "" : ", groups differ");
		return -EIO;
	}
	return 0;
}

/* Give one thread (still with crest's root credentials) the credentials m,
 * every syscall injected into that thread, then check them. */
static int creds_apply(struct creds_target *x, const Creds *m)
{
	struct proc_creds cur;
	int r;

	r = read_proc_creds(x->pid, x->tid, &cur);
	if (r < 0)
		return r;
	proc_creds_free(&cur);

	/* 1. keep every capability across the id changes */
	r = CREDS_STEP(x, "prctl(PR_SET_SECUREBITS, KEEP_CAPS|NO_SETUID_FIXUP)", __NR_prctl,
		       PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_NO_SETUID_FIXUP);
	if (r < 0)
		return r;

	/* 2. ids */
	size_t glen = m->n_groups * sizeof(uint32_t);
	if (glen > x->t->scratch_size) {
		pr_err("%s: creds: %zu supplementary groups do not fit the scratch area",
		       x->who, m->n_groups);
		return -E2BIG;
	}
	if (glen) {
		r = tracee_write(x->t, x->t->scratch, m->groups, glen);
		if (r < 0)
			return r;
	}
	r = CREDS_STEP(x, "setgroups", __NR_setgroups, m->n_groups, x->t->scratch);
	if (r < 0)
		return r;
	r = CREDS_STEP(x, "setresgid", __NR_setresgid, m->gid, m->egid, m->sgid);
	if (r < 0)
		return r;
	r = set_fsid(x, __NR_setfsgid, "setfsgid", m->fsgid);
	if (r < 0)
		return r;
	r = CREDS_STEP(x, "setresuid", __NR_setresuid, m->uid, m->euid, m->suid);
	if (r < 0)
		return r;
	r = set_fsid(x, __NR_setfsuid, "setfsuid", m->fsuid);
	if (r < 0)
		return r;

	/* 3. inheritable set while the bounding set is still full */
	r = capset_inject(x, "capset (inheritable)", cur.cap_eff, cur.cap_prm, m->cap_inh);
	if (r < 0)
		return r;

	/* 4. bounding set */
	int last = cap_last_cap();
	for (int cap = 0; cap <= last; cap++) {
		if (!(cur.cap_bnd & (1ULL << cap)) || (m->cap_bnd & (1ULL << cap)))
			continue;
		char what[64];
		snprintf(what, sizeof(what), "prctl(PR_CAPBSET_DROP, %d)", cap);
		r = CREDS_STEP(x, what, __NR_prctl, PR_CAPBSET_DROP, cap);
		if (r < 0)
			return r;
	}

	/* 5. ambient set */
	if (cur.cap_amb) {
		r = CREDS_STEP(x, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)", __NR_prctl, PR_CAP_AMBIENT,
			       PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
		if (r < 0)
			return r;
	}
	for (int cap = 0; cap < 64; cap++) {
		if (!(m->cap_amb & (1ULL << cap)))
			continue;
		char what[64];
		snprintf(what, sizeof(what), "prctl(PR_CAP_AMBIENT_RAISE, %d)", cap);
		r = CREDS_STEP(x, what, __NR_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
		if (r < 0)
			return r;
	}

	/* 6. final securebits (CAP_SETPCAP still effective) */
	char what[64];
	snprintf(what, sizeof(what), "prctl(PR_SET_SECUREBITS, %#x)", m->securebits);
	r = CREDS_STEP(x, what, __NR_prctl, PR_SET_SECUREBITS, m->securebits);
	if (r < 0)
		return r;

	/* 7. final capability sets */
	r = capset_inject(x, "capset", m->cap_eff, m->cap_prm, m->cap_inh);
	if (r < 0)
		return r;

	/* 8. no_new_privs (cannot be undone, so last) */
	if (m->no_new_privs) {
		r = CREDS_STEP(x, "prctl(PR_SET_NO_NEW_PRIVS)", __NR_prctl, PR_SET_NO_NEW_PRIVS,
			       1, 0, 0, 0);
		if (r < 0)
			return r;
	}

	r = creds_verify(x, m);
	if (r < 0)
		return r;
	pr_debug("%s: creds: restored uid %u gid %u, %zu groups", x->who, m->uid, m->gid,
		 m->n_groups);
	return 0;
}

static int creds_inject_late(struct restore_ctx *c, struct restore_task *t)
{
	const struct creds_restore *cr = t->priv[MOD_CREDS];
	struct creds_target x;

	if (!cr || !cr->main)
		return 0;
	target_init(&x, &t->t, t->pid, t->pid);
	return creds_apply(&x, cr->main);
}

/* A thread was cloned from the main thread while that was still root: it
 * gets its own credentials, or the main thread's, through syscalls injected
 * into it (the kernel changes the calling thread's credentials only). */
static int creds_inject_thread(struct restore_ctx *c, struct restore_task *t, size_t i,
			       struct tracee *th)
{
	const struct creds_restore *cr = t->priv[MOD_CREDS];
	struct creds_target x;
	struct proc_creds p;
	Creds now;
	int r;

	if (!cr || !cr->main || i >= cr->nr_thr)
		return 0;
	const Creds *m = cr->thr[i] ? cr->thr[i] : cr->main;
	target_init(&x, th, t->pid, th->pid);
	r = creds_now(&x, &p, &now);
	bool same = r == 0 && creds_same(&now, m);
	proc_creds_free(&p);
	if (r < 0)
		return r;
	if (same)
		return 0;   /* e.g. a root process: nothing to change */
	return creds_apply(&x, m);
}

static void creds_free(struct restore_task *t)
{
	struct creds_restore *cr = t->priv[MOD_CREDS];

	if (!cr)
		return;
	if (cr->main)
		protobuf_c_message_free_unpacked(&cr->main->base, NULL);
	for (size_t i = 0; i < cr->nr_thr; i++)
		if (cr->thr[i])
			protobuf_c_message_free_unpacked(&cr->thr[i]->base, NULL);
	free(cr->thr);
	free(cr);
	t->priv[MOD_CREDS] = NULL;
}

const struct crest_module creds_module = {
	.name = "creds",
	.dump = creds_dump,
	.load = creds_load,
	.inject_late = creds_inject_late,
	.inject_thread = creds_inject_thread,
	.free = creds_free,
};
