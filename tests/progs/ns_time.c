/* A time namespace with offsets (CLOCK_MONOTONIC +100000 s, CLOCK_BOOTTIME
 * +200000 s): the process makes it and forks the tested child into it (the
 * child answers the checks).  After each restore the child is in a time
 * namespace that is not crest's, with the same offsets, its clocks never
 * went back, and the vdso (whose vvar page crest moved) reads the same
 * time as the raw syscall: the namespace's, not the host's. */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NSEC 1000000000LL

static char offsets[256];
static int64_t last_mono, last_boot;

static int64_t raw_ns(clockid_t clk)
{
	struct timespec ts;
	syscall(SYS_clock_gettime, clk, &ts);
	return (int64_t)ts.tv_sec * NSEC + ts.tv_nsec;
}

static int check(void *arg)
{
	char now[256] = "";
	int64_t m = t_now_ns(CLOCK_MONOTONIC), b = t_now_ns(CLOCK_BOOTTIME);
	int64_t rm = raw_ns(CLOCK_MONOTONIC), rb = raw_ns(CLOCK_BOOTTIME);

	t_read_file("/proc/self/timens_offsets", now, sizeof(now));
	if (strcmp(now, offsets))
		t_fail("timens_offsets now '%s', was '%s'", now, offsets);
	if (m < 100000 * NSEC || b < 200000 * NSEC)
		t_fail("clocks without their offsets: monotonic %lld s, boottime %lld s",
		       (long long)(m / NSEC), (long long)(b / NSEC));
	if (rm - m > NSEC || m - rm > NSEC || rb - b > NSEC || b - rb > NSEC)
		t_fail("vdso and syscall disagree: monotonic %lld / %lld ns, boottime %lld / %lld ns",
		       (long long)m, (long long)rm, (long long)b, (long long)rb);
	if (m < last_mono || b < last_boot)
		t_fail("clocks went back: monotonic %lld -> %lld, boottime %lld -> %lld",
		       (long long)last_mono, (long long)m, (long long)last_boot, (long long)b);
	last_mono = m;
	last_boot = b;
	return 0;
}

int main(int argc, char **argv)
{
	int fd, pid, st;
	const char *off = "monotonic 100000 0\nboottime 200000 0\n";

	t_init(argc, argv);
	if (unshare(CLONE_NEWTIME) < 0)
		t_die("unshare(CLONE_NEWTIME): %s", strerror(errno));
	fd = open("/proc/self/timens_offsets", O_WRONLY);
	if (fd < 0 || write(fd, off, strlen(off)) != (ssize_t)strlen(off))
		t_die("timens_offsets: %s", strerror(errno));
	close(fd);
	pid = tp_fork();
	if (pid == 0) {
		t_read_file("/proc/self/timens_offsets", offsets, sizeof(offsets));
		t_run(check, NULL);
	}
	for (;;)
		if (waitpid(pid, &st, 0) == pid)
			return 1;
}
