/* SPDX-License-Identifier: MIT */
/*
 * Timers of a process: the three itimers and the POSIX timers.  Both belong
 * to the thread group, so only the group leader dumps/restores them.
 *
 * Dump: getitimer() injected for each itimer.  A periodic ITIMER_REAL that
 * has fired reads value 0 until its SIGALRM is dequeued (the kernel re-arms
 * it then): it is kept, with value 0, and restored with 1 us so that it
 * fires into the restored pending SIGALRM.  POSIX timers are listed by
 * /proc/PID/timers (id, signal and sigev_value, notification kind and
 * target, clock); their remaining time and interval come from an injected
 * timer_gettime(), the overrun count from timer_getoverrun() (informative:
 * it cannot be set back).  The kernel reports an armed timer that has
 * expired but is not yet re-armed (its signal pending) as 1 ns remaining,
 * so restoring the remaining time as is makes it fire at once.
 *
 * Restore (.inject): setitimer(); for POSIX timers the task switches on
 * PR_TIMER_CREATE_RESTORE_IDS, so that timer_create() takes the id from
 * *created_timer_id, creates each timer with its old id, switches the mode
 * off again and arms the timers relative to now with their remaining time.
 * What is lost: TIMER_ABSTIME (an absolute CLOCK_REALTIME timer becomes
 * relative, so it does not follow clock changes) and the overrun count.
 */
#include <signal.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include "util/compat.h"
#include "image/image.h"
#include "util/log.h"
#include "signals.h"
#include "core/task.h"
#include "timer.pb-c.h"
#include "util/util.h"

#define NSEC 1000000000ULL
#define MAX_TIMERS 4096

/* struct sigevent as the kernel reads it (64 bytes). */
struct ksigevent {
	uint64_t value;
	int32_t signo;
	int32_t notify;
	int32_t tid;
	int32_t pad[11];
};

struct kitimerspec {
	int64_t interval_sec, interval_nsec;
	int64_t value_sec, value_nsec;
};

struct kitimerval {
	int64_t interval_sec, interval_usec;
	int64_t value_sec, value_usec;
};

#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif

static const char *const itimer_names[] = { "ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF" };

/* ---------------------------------------------------------------- dump -- */

static int dump_itimers(struct dump_task *t, TaskTimers *tt, ITimer *its, ITimer **ptrs)
{
	struct tracee *tr = &t->t;
	for (int which = 0; which < 3; which++) {
		struct kitimerval v;
		long ret;
		int r = INJECT(tr, &ret, __NR_getitimer, which, tr->scratch);
		if (r < 0)
			return r;
		if (ret < 0)
			return pr_errno((int)ret, "pid %d: %s: getitimer failed", t->pid, itimer_names[which]);
		r = tracee_read(tr, tr->scratch, &v, sizeof(v));
		if (r < 0)
			return r;
		/* A periodic ITIMER_REAL that has fired reads value 0 until its
		 * SIGALRM is dequeued: the kernel re-arms it only then.  Keep
		 * it (value 0, its interval); the SIGALRM is in the pending set. */
		int fired = which == ITIMER_REAL && (v.interval_sec || v.interval_usec);
		if (!v.value_sec && !v.value_usec && !fired)
			continue;   /* disarmed */
		ITimer *it = &its[tt->n_itimers];
		itimer__init(it);
		it->which = which;
		it->value_us = (uint64_t)v.value_sec * 1000000 + v.value_usec;
		it->interval_us = (uint64_t)v.interval_sec * 1000000 + v.interval_usec;
		ptrs[tt->n_itimers++] = it;
		pr_debug("pid %d: %s: value %lu us, interval %lu us", t->pid, itimer_names[which],
			 (unsigned long)it->value_us, (unsigned long)it->interval_us);
	}
	return 0;
}

static void free_posix(PosixTimer **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * Parse /proc/PID/timers:
 *   ID: 3
 *   signal: 35/00005eed0000beef
 *   notify: signal/pid.812        (or none/..., or .../tid.N for SIGEV_THREAD_ID)
 *   ClockID: 1
 */
static int parse_proc_timers(pid_t pid, PosixTimer ***out, size_t *n_out)
{
	_cleanup_free_ char *buf = NULL;
	size_t len, n = 0;
	PosixTimer **v = NULL, *cur = NULL;
	const char *badline = "";
	int r = proc_read(pid, "timers", &buf, &len);
	if (r < 0)
		return pr_errno(r, "pid %d: cannot read /proc/%d/timers (kernel without "
				"CONFIG_CHECKPOINT_RESTORE?)", pid, pid);

	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "ID: ", 4)) {
			if (n >= MAX_TIMERS) {
				pr_err("pid %d: more than %d POSIX timers: not supported", pid, MAX_TIMERS);
				r = -E2BIG;
				goto fail;
			}
			PosixTimer **nv = realloc(v, (n + 1) * sizeof(*v));
			cur = calloc(1, sizeof(*cur));
			if (!nv || !cur) {
				if (nv)
					v = nv;
				free(cur);
				r = -ENOMEM;
				goto fail;
			}
			v = nv;
			posix_timer__init(cur);
			cur->id = (int32_t)strtol(line + 4, NULL, 10);
			v[n++] = cur;
		} else if (!cur) {
			continue;
		} else if (!strncmp(line, "signal: ", 8)) {
			char *end;
			cur->signo = (int32_t)strtol(line + 8, &end, 10);
			if (*end != '/') {
				badline = line;
				goto bad;
			}
			cur->sigval = strtoull(end + 1, NULL, 16);
		} else if (!strncmp(line, "notify: ", 8)) {
			const char *k = line + 8, *slash = strchr(k, '/');
			if (!slash) {
				badline = line;
				goto bad;
			}
			if (!strncmp(k, "signal/", 7))
				cur->notify = SIGEV_SIGNAL;
			else if (!strncmp(k, "none/", 5))
				cur->notify = SIGEV_NONE;
			else if (!strncmp(k, "thread/", 7))
				cur->notify = SIGEV_THREAD;   /* raw syscall: the kernel signals */
			else {
				pr_err("pid %d: POSIX timer %d: notification \"%s\" is not supported", pid,
				       cur->id, k);
				r = -EOPNOTSUPP;
				goto fail;
			}
			if (!strncmp(slash + 1, "tid.", 4)) {
				cur->notify |= SIGEV_THREAD_ID;
				cur->has_notify_tid = true;
				cur->notify_tid = (int32_t)strtol(slash + 5, NULL, 10);
			}
		} else if (!strncmp(line, "ClockID: ", 9)) {
			cur->clock = (int32_t)strtol(line + 9, NULL, 10);
		}
	}
	*out = v;
	*n_out = n;
	return 0;
bad:
	pr_err("pid %d: cannot parse /proc/%d/timers line \"%s\"", pid, pid, badline);
	r = -EINVAL;
fail:
	free_posix(v, n);
	return r;
}

static int dump_posix(struct dump_task *t, TaskTimers *tt)
{
	struct tracee *tr = &t->t;
	int r = parse_proc_timers(t->pid, &tt->posix, &tt->n_posix);
	if (r < 0)
		return r;
	for (size_t i = 0; i < tt->n_posix; i++) {
		PosixTimer *p = tt->posix[i];
		struct kitimerspec s;
		long ret;
		/* Restored in the leader's inject phase: only the leader can be
		 * the target thread then. */
		if (p->has_notify_tid && p->notify_tid != t->pid) {
			pr_err("pid %d: POSIX timer %d signals thread %d (SIGEV_THREAD_ID), not the main "
			       "thread: not supported", t->pid, p->id, p->notify_tid);
			return -EOPNOTSUPP;
		}
		r = INJECT(tr, &ret, __NR_timer_gettime, p->id, tr->scratch);
		if (r < 0)
			return r;
		if (ret < 0)
			return pr_errno((int)ret, "pid %d: POSIX timer %d: timer_gettime failed", t->pid, p->id);
		r = tracee_read(tr, tr->scratch, &s, sizeof(s));
		if (r < 0)
			return r;
		p->value_ns = (uint64_t)s.value_sec * NSEC + s.value_nsec;
		p->interval_ns = (uint64_t)s.interval_sec * NSEC + s.interval_nsec;
		r = INJECT(tr, &ret, __NR_timer_getoverrun, p->id);
		if (r < 0)
			return r;
		if (ret >= 0) {
			p->has_overrun = true;
			p->overrun = (int32_t)ret;
		}
		pr_debug("pid %d: POSIX timer %d: clock %d notify %d signal %d value %#lx, "
			 "remaining %lu ns, interval %lu ns", t->pid, p->id, p->clock, p->notify, p->signo,
			 (unsigned long)p->sigval, (unsigned long)p->value_ns, (unsigned long)p->interval_ns);
	}
	return 0;
}

static int timers_dump(struct dump_ctx *c, struct dump_task *t)
{
	TaskTimers tt = TASK_TIMERS__INIT;
	ITimer its[3], *itp[3];
	char name[IMG_NAME_MAX];
	int r;

	pid_t tgid = task_tgid(t->pid);
	if (tgid < 0)
		return tgid;
	if (tgid != t->pid)
		return 0;   /* timers are the thread group's: the leader has them */

	tt.itimers = itp;
	r = dump_itimers(t, &tt, its, itp);
	if (r < 0)
		return r;
	r = dump_posix(t, &tt);
	if (r == 0) {
		snprintf(name, sizeof(name), "timer-%d.img", t->pid);
		r = img_write(c->dirfd, name, &tt.base);
	}
	if (r == 0)
		pr_info("pid %d: timers: %zu itimers armed, %zu POSIX timers", t->pid, tt.n_itimers,
			tt.n_posix);
	free_posix(tt.posix, tt.n_posix);
	return r;
}

/* ------------------------------------------------------------- restore -- */

static int timers_load(struct restore_ctx *c, struct restore_task *t)
{
	ProtobufCMessage *m = NULL;
	char name[IMG_NAME_MAX];

	snprintf(name, sizeof(name), "timer-%d.img", t->pid);
	/* Only thread group leaders have one. */
	int r = img_read(c->dirfd, name, &task_timers__descriptor, &m, true);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	TaskTimers *tt = (TaskTimers *)m;
	for (size_t i = 0; i < tt->n_itimers; i++) {
		if (tt->itimers[i]->which > ITIMER_PROF) {
			pr_err("pid %d: %s: bad itimer kind %u", t->pid, name, tt->itimers[i]->which);
			goto bad;
		}
	}
	for (size_t i = 0; i < tt->n_posix; i++) {
		PosixTimer *p = tt->posix[i];
		int mode = p->notify & ~SIGEV_THREAD_ID;
		if (p->id < 0 || (mode != SIGEV_SIGNAL && mode != SIGEV_NONE && mode != SIGEV_THREAD)) {
			pr_err("pid %d: %s: bad POSIX timer %d (notify %d)", t->pid, name, p->id, p->notify);
			goto bad;
		}
	}
	t->priv[MOD_TIMERS] = tt;
	return 0;
bad:
	protobuf_c_message_free_unpacked(m, NULL);
	return -EBADMSG;
}

static int restore_itimers(struct restore_task *t, TaskTimers *tt)
{
	struct tracee *tr = &t->t;
	for (size_t i = 0; i < tt->n_itimers; i++) {
		ITimer *it = tt->itimers[i];
		/* value 0 with an interval: it had fired, its SIGALRM still
		 * pending.  setitimer() cannot leave it that way (value 0
		 * disarms); 1 us makes it fire at once into the pending
		 * SIGALRM, which coalesces, and re-arms at its dequeue. */
		uint64_t value_us = it->value_us ? it->value_us : 1;
		struct kitimerval v = {
			.interval_sec = it->interval_us / 1000000,
			.interval_usec = it->interval_us % 1000000,
			.value_sec = value_us / 1000000,
			.value_usec = value_us % 1000000,
		};
		long ret;
		int r = tracee_write(tr, tr->scratch, &v, sizeof(v));
		if (r < 0)
			return r;
		r = INJECT(tr, &ret, __NR_setitimer, it->which, tr->scratch, 0);
		if (r < 0)
			return r;
		if (ret < 0)
			return pr_errno((int)ret, "pid %d: %s: setitimer (value %lu us, interval %lu us) failed",
					t->pid, itimer_names[it->which], (unsigned long)it->value_us,
					(unsigned long)it->interval_us);
	}
	return 0;
}

static int restore_ids_mode(struct restore_task *t, int on)
{
	long ret;
	int r = INJECT(&t->t, &ret, __NR_prctl, PR_TIMER_CREATE_RESTORE_IDS,
		       on ? PR_TIMER_CREATE_RESTORE_IDS_ON : PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0, 0);
	if (r < 0)
		return r;
	if (ret < 0) {
		if (ret == -EINVAL && on)
			pr_err("pid %d: POSIX timers: the kernel lacks PR_TIMER_CREATE_RESTORE_IDS "
			       "(Linux >= 6.15 needed to restore timer ids)", t->pid);
		else
			pr_errno((int)ret, "pid %d: POSIX timers: prctl(PR_TIMER_CREATE_RESTORE_IDS, %s) failed",
				 t->pid, on ? "ON" : "OFF");
		return (int)ret;
	}
	return 0;
}

static int create_one(struct restore_task *t, PosixTimer *p)
{
	struct tracee *tr = &t->t;
	struct ksigevent ev = {
		.value = p->sigval,
		.signo = p->signo,
		.notify = p->notify,
	};
	if (p->has_notify_tid) {
		/* the leader, by the tid its own pid namespace gives it */
		pid_t vtgid, vtid;
		int r = task_vids(t->pid, &vtgid, &vtid);
		if (r < 0)
			return r;
		ev.tid = vtid;
	}
	int32_t id = p->id;
	long ret;
	unsigned long ev_addr = tr->scratch, id_addr = tr->scratch + sizeof(ev);
	int r = tracee_write(tr, ev_addr, &ev, sizeof(ev));
	if (r == 0)
		r = tracee_write(tr, id_addr, &id, sizeof(id));
	if (r < 0)
		return r;
	r = INJECT(tr, &ret, __NR_timer_create, p->clock, ev_addr, id_addr);
	if (r < 0)
		return r;
	if (ret < 0)
		return pr_errno((int)ret, "pid %d: POSIX timer %d: timer_create (clock %d, notify %d, "
				"signal %d) failed", t->pid, p->id, p->clock, p->notify, p->signo);
	r = tracee_read(tr, id_addr, &id, sizeof(id));
	if (r < 0)
		return r;
	if (id != p->id) {
		pr_err("pid %d: POSIX timer %d: the kernel gave id %d instead", t->pid, p->id, id);
		return -EEXIST;
	}
	return 0;
}

static int arm_one(struct restore_task *t, PosixTimer *p)
{
	struct tracee *tr = &t->t;
	struct kitimerspec s = {
		.interval_sec = p->interval_ns / NSEC,
		.interval_nsec = p->interval_ns % NSEC,
		.value_sec = p->value_ns / NSEC,
		.value_nsec = p->value_ns % NSEC,
	};
	long ret;
	if (!p->value_ns && !p->interval_ns)
		return 0;   /* disarmed: timer_create left it so */
	/* A disarmed timer reads as 0/0; an armed one that has expired (its
	 * signal not yet delivered) as 1 ns.  Should a kernel ever report 0 with
	 * an interval, it is armed and due: fire it at once. */
	if (!p->value_ns)
		s.value_nsec = 1;
	int r = tracee_write(tr, tr->scratch, &s, sizeof(s));
	if (r < 0)
		return r;
	r = INJECT(tr, &ret, __NR_timer_settime, p->id, 0, tr->scratch, 0);
	if (r < 0)
		return r;
	if (ret < 0)
		return pr_errno((int)ret, "pid %d: POSIX timer %d: timer_settime (remaining %lu ns, "
				"interval %lu ns) failed", t->pid, p->id, (unsigned long)p->value_ns,
				(unsigned long)p->interval_ns);
	return 0;
}

static int restore_posix(struct restore_task *t, TaskTimers *tt)
{
	int r, r2;
	if (!tt->n_posix)
		return 0;
	r = restore_ids_mode(t, 1);
	if (r < 0)
		return r;
	for (size_t i = 0; i < tt->n_posix && r == 0; i++)
		r = create_one(t, tt->posix[i]);
	r2 = restore_ids_mode(t, 0);
	if (r < 0)
		return r;
	if (r2 < 0)
		return r2;
	for (size_t i = 0; i < tt->n_posix; i++) {
		r = arm_one(t, tt->posix[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int timers_inject(struct restore_ctx *c, struct restore_task *t)
{
	TaskTimers *tt = t->priv[MOD_TIMERS];
	int r;
	if (!tt)
		return 0;
	r = restore_posix(t, tt);
	if (r < 0)
		return r;
	r = restore_itimers(t, tt);
	if (r < 0)
		return r;
	pr_debug("pid %d: timers: %zu itimers, %zu POSIX timers restored", t->pid, tt->n_itimers,
		 tt->n_posix);
	return 0;
}

static void timers_free(struct restore_task *t)
{
	if (t->priv[MOD_TIMERS])
		protobuf_c_message_free_unpacked(t->priv[MOD_TIMERS], NULL);
	t->priv[MOD_TIMERS] = NULL;
}

const struct crest_module timers_module = {
	.name = "timers",
	.dump = timers_dump,
	.load = timers_load,
	.inject = timers_inject,
	.free = timers_free,
};
