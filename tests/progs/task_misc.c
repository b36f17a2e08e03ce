/* Miscellaneous task state survives a checkpoint: cwd in a subdir of the test
 * dir, umask 027, comm "crest-misc", SCHED_BATCH with nice 5, oom_score_adj
 * 500, dumpable 0, THP disabled, child subreaper, and the main thread's
 * registrations: glibc's rseq area (still registered: registering it again
 * gives EBUSY, and the kernel keeps its cpu_id current), the robust futex
 * list and the clear_child_tid address.  (The parent-death signal is in
 * misc_pdeath.c: the restored root task's parent is crest, which exits.) */
// crest-test: mode=cr
#include "t.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define COMM "crest-misc"
#define NICE 5
#define OOM 500

static char cwd_before[PATH_MAX];
static void *robust_before;
static size_t robust_len_before;
static unsigned long tid_addr_before;

static int read_int(const char *path)
{
	char buf[64] = "";
	FILE *f = fopen(path, "re");
	if (!f)
		return INT32_MIN;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return atoi(buf);
}

static unsigned status_umask(void)
{
	char line[256];
	unsigned m = 07777;
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return m;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Umask:", 6))
			m = (unsigned)strtoul(line + 6, NULL, 8);
	fclose(f);
	return m;
}

#define EXPECT(cond, ...) do { if (!(cond)) { t_fail(__VA_ARGS__); bad = 1; } } while (0)

static int check(void *arg)
{
	char buf[PATH_MAX] = "";
	int bad = 0, v;

	EXPECT(getcwd(buf, sizeof(buf)) && !strcmp(buf, cwd_before), "cwd '%s', expected '%s'",
	       buf, cwd_before);
	unsigned um = status_umask();
	EXPECT(um == 027, "umask %03o, expected 027", um);

	FILE *f = fopen("/proc/self/comm", "re");
	buf[0] = 0;
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
	EXPECT(!strcmp(buf, COMM), "comm '%s', expected '%s'", buf, COMM);

	errno = 0;
	v = getpriority(PRIO_PROCESS, 0);
	EXPECT(v == NICE, "nice %d, expected %d", v, NICE);
	v = sched_getscheduler(0);
	EXPECT(v == SCHED_BATCH, "policy %d, expected SCHED_BATCH", v);
	v = read_int("/proc/self/oom_score_adj");
	EXPECT(v == OOM, "oom_score_adj %d, expected %d", v, OOM);
	v = prctl(PR_GET_DUMPABLE);
	EXPECT(v == 0, "dumpable %d, expected 0", v);
	v = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
	EXPECT(v == 1, "THP disable %d, expected 1", v);
	int sr = -1;
	prctl(PR_GET_CHILD_SUBREAPER, &sr);
	EXPECT(sr == 1, "child subreaper %d, expected 1", sr);

	void *head = NULL;
	size_t len = 0;
	syscall(SYS_get_robust_list, 0, &head, &len);
	EXPECT(head == robust_before && len == robust_len_before,
	       "robust list %p/%zu, expected %p/%zu", head, len, robust_before, robust_len_before);
	unsigned long ta = 0;
	prctl(PR_GET_TID_ADDRESS, &ta);
	EXPECT(ta == tid_addr_before, "clear_child_tid %#lx, expected %#lx", ta, tid_addr_before);

	if (__rseq_size > 0) {
		struct rseq *rs = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
		long r = syscall(SYS_rseq, rs, __rseq_size < 32 ? 32 : __rseq_size, 0, RSEQ_SIG);
		EXPECT(r < 0 && errno == EBUSY, "rseq area not registered (re-register: %ld, %s)",
		       r, strerror(errno));
		unsigned cpu = 0;
		syscall(SYS_getcpu, &cpu, NULL, NULL);
		int32_t rcpu = (int32_t)__atomic_load_n(&rs->cpu_id, __ATOMIC_RELAXED);
		/* we may migrate between the two reads: accept any valid cpu then */
		EXPECT(rcpu >= 0, "rseq cpu_id %d, expected a cpu (getcpu says %u)", rcpu, cpu);
	}
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	t_init(argc, argv);
	if (mkdir("sub", 0755) < 0 && errno != EEXIST)
		t_die("mkdir sub: %s", strerror(errno));
	if (chdir("sub") < 0 || !getcwd(cwd_before, sizeof(cwd_before)))
		t_die("chdir sub: %s", strerror(errno));
	umask(027);
	if (prctl(PR_SET_NAME, COMM, 0, 0, 0) < 0)
		t_die("PR_SET_NAME: %s", strerror(errno));
	struct sched_param sp = { 0 };
	if (sched_setscheduler(0, SCHED_BATCH, &sp) < 0)
		t_die("SCHED_BATCH: %s", strerror(errno));
	if (setpriority(PRIO_PROCESS, 0, NICE) < 0)
		t_die("setpriority: %s", strerror(errno));
	FILE *f = fopen("/proc/self/oom_score_adj", "we");
	if (!f || fprintf(f, "%d\n", OOM) < 0 || fclose(f) != 0)
		t_die("oom_score_adj: %s", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		t_die("PR_SET_DUMPABLE: %s", strerror(errno));
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0)
		t_die("PR_SET_THP_DISABLE: %s", strerror(errno));
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		t_die("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	syscall(SYS_get_robust_list, 0, &robust_before, &robust_len_before);
	if (prctl(PR_GET_TID_ADDRESS, &tid_addr_before, 0, 0, 0) < 0)
		t_die("PR_GET_TID_ADDRESS: %s", strerror(errno));
	t_log("cwd %s robust %p tid_addr %#lx rseq_size %u", cwd_before, robust_before,
	      tid_addr_before, __rseq_size);
	t_run(check, NULL);
}
