/* SPDX-License-Identifier: MIT */
/*
 * crest check: probe the kernel features crest relies on, one line each.
 *
 * Every probe really exercises the feature (on a forked child when it
 * needs a second process) instead of trusting version numbers.  Children
 * are always killed and reaped before the probe returns.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <linux/kcmp.h>
#include <linux/userfaultfd.h>
#include <linux/sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "util/compat.h"
#include "crest.h"
#include "net/netlock.h"
#include <netinet/in.h>
#include <netinet/tcp.h>
#include "util/log.h"
#include "util/util.h"

struct check {
	FILE *out;
	unsigned n_missing_required;
	char missing[512];          /* names of the missing required features */
};

/* One report line.  why: what failed (only printed when missing). */
static void report(struct check *c, bool ok, bool required, const char *name,
		   const char *meaning, const char *why)
{
	fprintf(c->out, "%-7s %-34s %s%s%s%s\n", ok ? "ok" : "MISSING", name,
		required ? "" : "[optional] ", meaning, ok || !why ? "" : " -- ", ok || !why ? "" : why);
	if (ok)
		pr_debug("check: %s: ok", name);
	else
		pr_info("check: %s: missing%s%s", name, why ? ": " : "", why ? why : "");
	if (!ok && required) {
		size_t l = strlen(c->missing);
		c->n_missing_required++;
		snprintf(c->missing + l, sizeof(c->missing) - l, "%s%s", l ? ", " : "", name);
	}
}

/* why-strings: small fixed buffers, filled with the failing call and errno */
#define WHY_LEN 160
__attribute__((format(printf, 2, 3)))
static void set_why(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, WHY_LEN, fmt, ap);
	va_end(ap);
}
#define SET_WHY set_why

/* ------------------------------------------------------------ children */

static volatile uint64_t probe_marker = 0x6372657374636b31ULL;  /* "crestck1" */

/* A child that only waits to be looked at; dies with us. */
static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	return pid;
}

/* Kill and reap pid, whether or not it is traced by us. */
static void kill_reap(pid_t pid)
{
	int st;

	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
		;
}

/* Run fn in a forked child; returns its exit code, or -errno. */
static int run_in_child(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(fn(arg) & 0xff);
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			kill_reap(pid);
			return -ECHILD;
		}
	}
	if (!WIFEXITED(st))
		return -EINTR;
	return WEXITSTATUS(st);
}

/* Wait (up to ~2 s) for a ptrace event stop of pid. */
static int wait_event_stop(pid_t pid)
{
	for (int i = 0; i < 2000; i++) {
		int st;
		pid_t r = waitpid(pid, &st, __WALL | WNOHANG);

		if (r < 0 && errno != EINTR)
			return -errno;
		if (r == pid) {
			if (WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_STOP)
				return 0;
			if (!WIFSTOPPED(st))
				return -ESRCH;
			/* some other stop: let it go on and keep waiting */
			ptrace(PTRACE_CONT, pid, 0, 0);
		}
		usleep(1000);
	}
	return -ETIMEDOUT;
}

/* ---------------------------------------------------------------- probes */

static void check_root(struct check *c)
{
	char why[WHY_LEN] = "";
	_cleanup_free_ char *status = NULL;
	uint64_t eff = 0;
	size_t len;
	bool ok = geteuid() == 0;

	if (!ok)
		SET_WHY(why, "euid is %u: run crest as root", (unsigned)geteuid());
	if (proc_read(getpid(), "status", &status, &len) == 0) {
		const char *p = strstr(status, "\nCapEff:");
		if (p)
			eff = strtoull(p + 8, NULL, 16);
	}
	if (ok && status) {
		static const struct { int cap; const char *name; } need[] = {
			{ 19, "CAP_SYS_PTRACE" }, { 1, "CAP_DAC_OVERRIDE" }, { 2, "CAP_DAC_READ_SEARCH" },
			{ 6, "CAP_SETGID" }, { 7, "CAP_SETUID" }, { 0, "CAP_CHOWN" }, { 3, "CAP_FOWNER" },
		};
		for (size_t i = 0; i < ARRAY_SIZE(need); i++) {
			if (!(eff & (1ULL << need[i].cap))) {
				ok = false;
				SET_WHY(why, "root without %s in the effective capability set", need[i].name);
				break;
			}
		}
		/* map_files and set_tid: either is enough (CHECKPOINT_RESTORE since 5.9) */
		if (ok && !(eff & (1ULL << 21)) && !(eff & (1ULL << 40))) {
			ok = false;
			SET_WHY(why, "root without CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE");
		}
	}
	report(c, ok, true, "running as root", "ptrace any task, read map_files, pick pids", why);
	/* Informational: crest must work without it (containers drop it). */
	report(c, status && (eff & (1ULL << 24)), false, "CAP_SYS_RESOURCE",
	       "not needed: crest restores mm fields with PR_SET_MM_MAP",
	       "dropped from the capability set (fine)");
}

static void check_with_child(struct check *c)
{
	char why[WHY_LEN];
	_cleanup_close_ int probe_fd = -1;
	_cleanup_close_ int pidfd = -1;
	pid_t self = getpid(), child;
	bool ok;

	/* an fd the child inherits: for kcmp and pidfd_getfd */
	probe_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	probe_marker = 0x6372657374636b31ULL;
	child = spawn_sleeper();
	if (child < 0) {
		SET_WHY(why, "fork: %s", strerror(errno));
		report(c, false, true, "ptrace SEIZE/INTERRUPT", "stop tasks without signals", why);
		return;
	}

	/* ptrace: seize, interrupt, sigmask, rseq */
	{
		int r;

		ok = false;
		if (ptrace(PTRACE_SEIZE, child, 0, 0) < 0) {
			SET_WHY(why, "PTRACE_SEIZE: %s (Yama ptrace_scope? seccomp?)", strerror(errno));
		} else if (ptrace(PTRACE_INTERRUPT, child, 0, 0) < 0) {
			SET_WHY(why, "PTRACE_INTERRUPT: %s", strerror(errno));
		} else if ((r = wait_event_stop(child)) < 0) {
			SET_WHY(why, "no PTRACE_EVENT_STOP after PTRACE_INTERRUPT: %s", strerror(-r));
		} else {
			ok = true;
		}
		report(c, ok, true, "ptrace SEIZE/INTERRUPT", "stop tasks without sending them signals", why);

		if (ok) {
			uint64_t mask = ~0ULL;
			struct __ptrace_rseq_configuration rc;
			long n;

			ok = ptrace(PTRACE_GETSIGMASK, child, sizeof(mask), &mask) == 0;
			if (!ok)
				SET_WHY(why, "PTRACE_GETSIGMASK: %s", strerror(errno));
			report(c, ok, true, "PTRACE_GETSIGMASK", "read/set the blocked mask of a stopped task", why);

			memset(&rc, 0, sizeof(rc));
			n = ptrace(PTRACE_GET_RSEQ_CONFIGURATION, child, sizeof(rc), &rc);
			ok = n > 0;
			if (!ok)
				SET_WHY(why, "PTRACE_GET_RSEQ_CONFIGURATION: %s", strerror(errno));
			else
				pr_debug("check: child %d rseq at 0x%" PRIx64 " size %u", child,
					 (uint64_t)rc.rseq_abi_pointer, rc.rseq_abi_size);
			report(c, ok, false, "PTRACE_GET_RSEQ_CONFIGURATION",
			       "dump the rseq area that glibc >= 2.35 registers in every thread", why);

			ok = ptrace(PTRACE_SETOPTIONS, child, 0, PTRACE_O_SUSPEND_SECCOMP) == 0;
			if (!ok)
				SET_WHY(why, "PTRACE_O_SUSPEND_SECCOMP: %s (needs CAP_SYS_ADMIN and "
					"CONFIG_CHECKPOINT_RESTORE)", strerror(errno));
			ptrace(PTRACE_SETOPTIONS, child, 0, 0);
			report(c, ok, false, "PTRACE_O_SUSPEND_SECCOMP",
			       "dump and restore tasks under seccomp (strict or filter mode)", why);
		} else {
			report(c, false, true, "PTRACE_GETSIGMASK", "read/set the blocked mask of a stopped task",
			       "not tested: ptrace does not work");
			report(c, false, false, "PTRACE_GET_RSEQ_CONFIGURATION",
			       "dump the rseq area that glibc >= 2.35 registers in every thread",
			       "not tested: ptrace does not work");
		}
	}

	/* pidfd_open + pidfd_getfd (ptrace stopped or not, both must work) */
	ok = false;
	pidfd = syscall(SYS_pidfd_open, child, 0);
	if (pidfd < 0) {
		SET_WHY(why, "pidfd_open: %s", strerror(errno));
	} else if (probe_fd < 0) {
		SET_WHY(why, "cannot open /proc/self/exe to have an fd to steal");
	} else {
		int fd = syscall(SYS_pidfd_getfd, pidfd, probe_fd, 0);
		if (fd < 0) {
			SET_WHY(why, "pidfd_getfd: %s", strerror(errno));
		} else {
			ok = true;
			close(fd);
		}
	}
	report(c, ok, true, "pidfd_open + pidfd_getfd", "take copies of a task's file descriptors", why);

	/* process_vm_readv/writev on the marker variable */
	{
		uint64_t v = 0, nv = 0x6372657374636b32ULL;
		struct iovec l = { &v, sizeof(v) };
		struct iovec r = { (void *)&probe_marker, sizeof(v) };

		ok = false;
		if (process_vm_readv(child, &l, 1, &r, 1, 0) != sizeof(v)) {
			SET_WHY(why, "process_vm_readv: %s", strerror(errno));
		} else if (v != probe_marker) {
			SET_WHY(why, "process_vm_readv read 0x%" PRIx64 ", expected 0x%" PRIx64, v,
				(uint64_t)probe_marker);
		} else {
			l.iov_base = &nv;
			if (process_vm_writev(child, &l, 1, &r, 1, 0) != sizeof(v)) {
				SET_WHY(why, "process_vm_writev: %s", strerror(errno));
			} else {
				l.iov_base = &v;
				if (process_vm_readv(child, &l, 1, &r, 1, 0) != sizeof(v) || v != nv)
					SET_WHY(why, "process_vm_writev did not change the child's memory");
				else
					ok = true;
			}
		}
		report(c, ok, true, "process_vm_readv/writev", "copy task memory in bulk", why);
	}

	/* /proc/PID/map_files: readlink and open of a file mapping */
	{
		char path[64], target[PATH_MAX];
		_cleanup_close_ int dfd = -1;
		int dfd2 = -1;
		DIR *d = NULL;

		ok = false;
		SET_WHY(why, "no file mapping found in /proc/%d/map_files", child);
		snprintf(path, sizeof(path), "/proc/%d/map_files", child);
		dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			SET_WHY(why, "open %s: %s", path, strerror(errno));
		} else if ((dfd2 = fcntl(dfd, F_DUPFD_CLOEXEC, 3)) < 0 || !(d = fdopendir(dfd2))) {
			SET_WHY(why, "opendir %s: %s", path, strerror(errno));
			if (dfd2 >= 0)
				close(dfd2);
		} else {
			struct dirent *de;
			while ((de = readdir(d))) {
				ssize_t n;
				int fd;

				if (de->d_name[0] == '.')
					continue;
				n = readlinkat(dfd, de->d_name, target, sizeof(target) - 1);
				if (n < 0) {
					SET_WHY(why, "readlink %s/%s: %s", path, de->d_name, strerror(errno));
					break;
				}
				fd = openat(dfd, de->d_name, O_RDONLY | O_CLOEXEC);
				if (fd < 0) {
					SET_WHY(why, "open %s/%s: %s", path, de->d_name, strerror(errno));
					break;
				}
				close(fd);
				ok = true;
				break;
			}
			closedir(d);
		}
		report(c, ok, true, "/proc/PID/map_files", "identify and reopen mapped files", why);
	}

	/* kcmp: the inherited fd is the same file in both */
	ok = false;
	if (probe_fd < 0) {
		SET_WHY(why, "cannot open /proc/self/exe to compare");
	} else {
		long r = syscall(SYS_kcmp, self, child, KCMP_FILE, probe_fd, probe_fd);
		if (r < 0)
			SET_WHY(why, "kcmp: %s (kernel without CONFIG_KCMP?)", strerror(errno));
		else if (r != 0)
			SET_WHY(why, "kcmp says an inherited fd differs (%ld)", r);
		else
			ok = true;
	}
	report(c, ok, true, "kcmp", "find files, fs, sighand shared between tasks", why);

	kill_reap(child);
}

/* clone3 with set_tid on a pid that is free now. */
static void check_set_tid(struct check *c)
{
	char why[WHY_LEN] = "no free pid found to try";
	_cleanup_free_ char *buf = NULL;
	long last = 0, max = 32768;
	bool ok = false;

	if (read_file_at(AT_FDCWD, "/proc/sys/kernel/ns_last_pid", &buf, NULL) == 0)
		last = strtol(buf, NULL, 10);
	free(buf);
	buf = NULL;
	if (read_file_at(AT_FDCWD, "/proc/sys/kernel/pid_max", &buf, NULL) == 0)
		max = strtol(buf, NULL, 10);
	if (max < 1000)
		max = 32768;

	for (int attempt = 0; attempt < 16; attempt++) {
		pid_t want = last + 1000 + attempt * 977;
		struct clone_args ca;
		char p[32];
		long r;

		if (want >= max)
			want = 300 + want % (max - 300);
		snprintf(p, sizeof(p), "/proc/%d", want);
		if (access(p, F_OK) == 0)
			continue;
		memset(&ca, 0, sizeof(ca));
		ca.exit_signal = SIGCHLD;
		ca.set_tid = (uintptr_t)&want;
		ca.set_tid_size = 1;
		r = syscall(SYS_clone3, &ca, sizeof(ca));
		if (r == 0)
			_exit(0);       /* child: nothing to do */
		if (r > 0) {
			int st;
			while (waitpid(r, &st, 0) < 0 && errno == EINTR)
				;
			if (r == want)
				ok = true;
			else
				SET_WHY(why, "clone3 gave pid %ld instead of %d", r, want);
			break;
		}
		if (errno == EEXIST)
			continue;
		SET_WHY(why, "clone3(set_tid=%d): %s%s", want, strerror(errno),
			errno == EPERM ? " (needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE over the pid namespace)" :
			errno == ENOSYS || errno == E2BIG ? " (kernel older than 5.5)" : "");
		break;
	}
	report(c, ok, true, "clone3 with set_tid", "restore each task at its original pid", why);
}

struct mm_probe {
	struct prctl_mm_map map;
};

static int mm_map_child(void *arg)
{
	struct mm_probe *p = arg;

	p->map.brk = syscall(SYS_brk, 0);
	if (prctl(PR_SET_MM, PR_SET_MM_MAP, &p->map, sizeof(p->map), 0) < 0)
		return errno;
	return 0;
}

/* PR_SET_MM_MAP: size query, then a real call (same values) in a child. */
static void check_mm_map(struct check *c)
{
	char why[WHY_LEN] = "";
	_cleanup_free_ char *stat = NULL;
	struct mm_probe p;
	unsigned int size = 0;
	bool ok = false;

	memset(&p, 0, sizeof(p));
	if (prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, &size, 0, 0) < 0) {
		SET_WHY(why, "PR_SET_MM_MAP_SIZE: %s (kernel without CONFIG_CHECKPOINT_RESTORE?)", strerror(errno));
	} else if (size != sizeof(struct prctl_mm_map)) {
		SET_WHY(why, "kernel's prctl_mm_map is %u bytes, crest's %zu", size, sizeof(struct prctl_mm_map));
	} else if (proc_read(getpid(), "stat", &stat, NULL) < 0 || !strrchr(stat, ')')) {
		SET_WHY(why, "cannot read /proc/self/stat");
	} else {
		/* fields after "(comm)": 3 state ... 26 startcode 27 endcode
		 * 28 startstack ... 45 start_data 46 end_data 47 start_brk
		 * 48 arg_start 49 arg_end 50 env_start 51 env_end */
		unsigned long long v[64] = { 0 };
		char *s = strrchr(stat, ')') + 2;
		int field = 3, r;

		while (*s && field < 52) {
			char *end;
			if (field > 3)
				v[field] = strtoull(s, &end, 10);
			else
				end = s + 1;
			s = *end ? end + 1 : end;
			field++;
		}
		p.map.start_code = v[26];
		p.map.end_code = v[27];
		p.map.start_stack = v[28];
		p.map.start_data = v[45];
		p.map.end_data = v[46];
		p.map.start_brk = v[47];
		p.map.arg_start = v[48];
		p.map.arg_end = v[49];
		p.map.env_start = v[50];
		p.map.env_end = v[51];
		p.map.exe_fd = (uint32_t)-1;
		r = run_in_child(mm_map_child, &p);
		if (r == 0)
			ok = true;
		else if (r > 0)
			SET_WHY(why, "PR_SET_MM_MAP with the current values: %s", strerror(r));
		else
			SET_WHY(why, "probe child failed: %s", strerror(-r));
	}
	report(c, ok, true, "prctl PR_SET_MM_MAP", "restore brk, arg/env, auxv without CAP_SYS_RESOURCE", why);
}

static void check_pagemap_scan(struct check *c)
{
	char why[WHY_LEN] = "";
	_cleanup_close_ int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	long ps = sysconf(_SC_PAGESIZE);
	struct page_region reg[4];
	struct pm_scan_arg a;
	char *m;
	bool ok = false;
	long n;

	m = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fd < 0 || m == MAP_FAILED) {
		SET_WHY(why, "%s: %s", fd < 0 ? "open /proc/self/pagemap" : "mmap", strerror(errno));
		goto out;
	}
	m[ps] = 1;
	m[2 * ps] = 1;
	memset(&a, 0, sizeof(a));
	memset(reg, 0, sizeof(reg));
	a.size = sizeof(a);
	a.start = (uintptr_t)m;
	a.end = (uintptr_t)m + 4 * ps;
	a.vec = (uintptr_t)reg;
	a.vec_len = ARRAY_SIZE(reg);
	a.category_mask = PAGE_IS_PRESENT;
	a.return_mask = PAGE_IS_PRESENT;
	n = ioctl(fd, PAGEMAP_SCAN, &a);
	if (n < 0)
		SET_WHY(why, "ioctl PAGEMAP_SCAN: %s (kernel older than 6.7)", strerror(errno));
	else if (n != 1 || reg[0].start != (uintptr_t)m + ps || reg[0].end != (uintptr_t)m + 3 * ps)
		SET_WHY(why, "PAGEMAP_SCAN returned %ld regions, not the 2 pages touched", n);
	else
		ok = true;
out:
	if (m != MAP_FAILED)
		munmap(m, 4 * ps);
	report(c, ok, false, "PAGEMAP_SCAN ioctl", "find present pages in one call", why);
}

/* What crest pre-dump tracks writes with (mm/track.c): a userfaultfd in
 * write-protect async mode, read and reset by PAGEMAP_SCAN. */
static void check_uffd_wp_async(struct check *c)
{
	char why[WHY_LEN] = "";
	_cleanup_close_ int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int uffd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	long ps = sysconf(_SC_PAGESIZE);
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED };
	struct page_region reg[4];
	struct pm_scan_arg a;
	bool ok = false;
	long n;
	char *m = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (pm < 0 || uffd < 0 || m == MAP_FAILED) {
		SET_WHY(why, "%s: %s", uffd < 0 ? "userfaultfd" : pm < 0 ? "open /proc/self/pagemap" : "mmap",
			strerror(errno));
		goto out;
	}
	struct uffdio_register r = { .range = { (uintptr_t)m, 4 * ps }, .mode = UFFDIO_REGISTER_MODE_WP };
	struct uffdio_writeprotect wp = { .range = r.range, .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	if (ioctl(uffd, UFFDIO_API, &api) < 0) {
		SET_WHY(why, "UFFDIO_API WP_ASYNC|WP_UNPOPULATED: %s (kernel older than 6.7)", strerror(errno));
		goto out;
	}
	if (ioctl(uffd, UFFDIO_REGISTER, &r) < 0 || ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) < 0) {
		SET_WHY(why, "UFFDIO_REGISTER/WRITEPROTECT: %s", strerror(errno));
		goto out;
	}
	m[2 * ps] = 1;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC;
	a.start = (uintptr_t)m;
	a.end = (uintptr_t)m + 4 * ps;
	a.vec = (uintptr_t)reg;
	a.vec_len = ARRAY_SIZE(reg);
	a.category_mask = PAGE_IS_WRITTEN;
	a.return_mask = PAGE_IS_WRITTEN;
	n = ioctl(pm, PAGEMAP_SCAN, &a);
	if (n < 0)
		SET_WHY(why, "PAGEMAP_SCAN PM_SCAN_WP_MATCHING: %s", strerror(errno));
	else if (n != 1 || reg[0].start != (uintptr_t)m + 2 * ps || reg[0].end != (uintptr_t)m + 3 * ps)
		SET_WHY(why, "PAGEMAP_SCAN found %ld written regions, not the one page written", n);
	else
		ok = true;
out:
	if (m != MAP_FAILED)
		munmap(m, 4 * ps);
	report(c, ok, false, "userfaultfd write-protect async", "track writes between pre-dumps (crest pre-dump)",
	       why);
}

static int soft_dirty_child(void *arg)
{
	long ps = sysconf(_SC_PAGESIZE);
	volatile char *m = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	int cr = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	uint64_t e;

	if (m == MAP_FAILED || fd < 0 || cr < 0)
		return errno ? errno : EIO;
	m[0] = 1;
	if (write(cr, "4", 1) != 1)
		return errno;
	m[0] = 2;
	if (pread(fd, &e, sizeof(e), (uintptr_t)m / ps * sizeof(e)) != sizeof(e))
		return errno ? errno : EIO;
	return (e >> 55) & 1 ? 0 : 255;
}

static void check_soft_dirty(struct check *c)
{
	char why[WHY_LEN] = "";
	int r = run_in_child(soft_dirty_child, NULL);

	if (r == 255)
		SET_WHY(why, "kernel does not track soft-dirty bits (no CONFIG_MEM_SOFT_DIRTY)");
	else if (r > 0)
		SET_WHY(why, "clear_refs/pagemap: %s", strerror(r));
	else if (r < 0)
		SET_WHY(why, "probe child failed: %s", strerror(-r));
	report(c, r == 0, false, "soft-dirty page tracking",
	       "incremental dumps; crest does not need it (pre-dump tracks writes with userfaultfd)", why);
}

static void check_misc(struct check *c)
{
	char why[WHY_LEN] = "";
	bool ok;
	int fd;

	ok = prctl(PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0, 0) == 0;
	if (!ok)
		SET_WHY(why, "prctl(PR_TIMER_CREATE_RESTORE_IDS): %s (kernel older than 6.17)", strerror(errno));
	report(c, ok, false, "PR_TIMER_CREATE_RESTORE_IDS", "restore POSIX timers with their original ids", why);

	ok = access("/proc/self/ns/time", F_OK) == 0;
	if (!ok)
		SET_WHY(why, "/proc/self/ns/time: %s (kernel older than 5.6 or no CONFIG_TIME_NS)", strerror(errno));
	report(c, ok, false, "time namespaces", "shift monotonic/boottime clocks of a restored tree", why);

	fd = memfd_create("crest-check", MFD_CLOEXEC);
	ok = fd >= 0;
	if (!ok)
		SET_WHY(why, "memfd_create: %s", strerror(errno));
	else
		close(fd);
	report(c, ok, false, "memfd_create", "restore memfd and shared anonymous memory", why);

	fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	ok = fd >= 0;
	if (!ok)
		SET_WHY(why, "userfaultfd: %s%s", strerror(errno),
			errno == EPERM ? " (vm.unprivileged_userfaultfd=0 and no CAP_SYS_PTRACE)" : "");
	else
		close(fd);
	report(c, ok, false, "userfaultfd", "lazy memory restore (not used yet)", why);

	/* listmount + statmount of the first mount we see */
	{
		struct mnt_id_req req;
		uint64_t ids[16];
		_cleanup_free_ char *sm = malloc(4096);
		long n;

		ok = false;
		memset(&req, 0, sizeof(req));
		req.size = MNT_ID_REQ_SIZE_VER0;
		req.mnt_id = LSMT_ROOT;
		n = syscall(SYS_listmount, &req, ids, ARRAY_SIZE(ids), 0);
		if (n < 0) {
			SET_WHY(why, "listmount: %s%s", strerror(errno), errno == ENOSYS ? " (kernel older than 6.8)" : "");
		} else if (n == 0) {
			SET_WHY(why, "listmount returned no mounts");
		} else if (!sm) {
			SET_WHY(why, "out of memory");
		} else {
			req.mnt_id = ids[0];
			req.param = STATMOUNT_SB_BASIC;
			if (syscall(SYS_statmount, &req, sm, 4096, 0) < 0)
				SET_WHY(why, "statmount: %s", strerror(errno));
			else
				ok = true;
		}
		report(c, ok, false, "listmount/statmount", "read the mount tree by mount id", why);
	}
}

/* anonymous-inode fds (anonfd.c, epoll.c) */
static void check_anonfd(struct check *c)
{
	char why[WHY_LEN] = "";
	int tfd, ep, ev;
	uint64_t ticks = 3, got = 0;
	bool ok;

	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	ok = tfd >= 0 && ioctl(tfd, _IOW('T', 0, uint64_t) /* TFD_IOC_SET_TICKS */, &ticks) == 0 &&
	     read(tfd, &got, sizeof(got)) == sizeof(got) && got == ticks;
	if (!ok)
		SET_WHY(why, "timerfd TFD_IOC_SET_TICKS: %s (no CONFIG_CHECKPOINT_RESTORE?)",
			tfd < 0 ? "timerfd_create failed" : strerror(errno));
	if (tfd >= 0)
		close(tfd);
	report(c, ok, false, "TFD_IOC_SET_TICKS", "restore a timerfd's unread expirations", why);

	ep = epoll_create1(EPOLL_CLOEXEC);
	ev = eventfd(0, EFD_CLOEXEC);
	ok = false;
	if (ep >= 0 && ev >= 0) {
		struct epoll_event e = { .events = EPOLLIN };
		struct kcmp_epoll_slot slot = { .efd = (__u32)ep, .tfd = (__u32)ev };
		ok = epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e) == 0 &&
		     syscall(SYS_kcmp, getpid(), getpid(), KCMP_EPOLL_TFD, ev, &slot) == 0;
	}
	if (!ok)
		SET_WHY(why, "kcmp(KCMP_EPOLL_TFD): %s", strerror(errno));
	if (ep >= 0)
		close(ep);
	if (ev >= 0)
		close(ev);
	report(c, ok, false, "kcmp KCMP_EPOLL_TFD", "dump epoll instances (checks each registration)", why);
}

/* TCP connections (net/sk_inet*.c) and a network lock left behind */
static void check_net(struct check *c)
{
	char why[WHY_LEN] = "";
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	bool ok = s >= 0 && setsockopt(s, IPPROTO_TCP, TCP_REPAIR, &one, sizeof(one)) == 0;

	if (!ok)
		SET_WHY(why, "TCP_REPAIR: %s (needs CAP_NET_ADMIN)", strerror(errno));
	if (s >= 0)
		close(s);
	report(c, ok, false, "TCP_REPAIR", "dump and restore established TCP connections", why);
	char locks[WHY_LEN * 2];
	int n = netlock_count(locks, sizeof(locks));
	report(c, n == 0, false, "no network lock left", "no crest_lock_ nftables table (net/netlock.c)",
	       locks);
}

int crest_check(const struct crest_opts *o, FILE *out)
{
	struct crest_opts def = { .verbosity = CREST_LOG_WARN };
	struct check c = { .out = out };
	int ret = 0;

	if (!out)
		return -EINVAL;
	log_begin(o ? o : &def, -1, NULL);
	pr_debug("check: probing kernel features (pid %d)", getpid());

	check_root(&c);
	check_with_child(&c);
	check_set_tid(&c);
	check_mm_map(&c);
	check_pagemap_scan(&c);
	check_uffd_wp_async(&c);
	check_soft_dirty(&c);
	check_misc(&c);
	check_anonfd(&c);
	check_net(&c);

	if (c.n_missing_required) {
		fprintf(out, "crest cannot checkpoint/restore here: missing %s\n", c.missing);
		pr_err("check: %u required feature(s) missing: %s; crest cannot dump or restore on this system",
		       c.n_missing_required, c.missing);
		ret = -ENOTSUP;
	} else {
		fprintf(out, "crest can checkpoint/restore here (optional features marked MISSING are not needed)\n");
	}
	fflush(out);
	log_end();
	return ret;
}
