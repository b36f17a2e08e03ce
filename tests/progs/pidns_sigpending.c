/* Pending signals of tasks in a nested pid namespace.  C is pid 1 of a new
 * namespace, with every signal blocked: a SIGUSR1 it sigqueue()d to itself
 * and the SIGCHLD of its exited child G (a zombie) wait in its shared queue;
 * its thread T has a SIGUSR2 from tgkill() in its private queue.  The
 * restore queues them again from inside the namespace, by the ids the
 * namespace gives (1 and T's inner tid, not the host's: the kernel refuses
 * a SIGCHLD or SI_TKILL siginfo that a task queues to anyone but itself).
 * The root checks through /proc: the three signals pending where they were,
 * G still a zombie of C, C still pid 1 of its namespace. */
// crest-test: mode=cr
#include "tproc.h"

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>

static int c_pid;   /* host pids */

static volatile pid_t t_vtid;

static void *thread_main(void *arg)
{
	t_vtid = (pid_t)syscall(SYS_gettid);
	for (;;)
		pause();
	return NULL;
}

static __attribute__((noreturn)) void c_main(void)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	pthread_t th;
	if (pthread_create(&th, NULL, thread_main, NULL))
		_exit(2);
	while (!t_vtid)
		tp_sleep_ms(1);
	if (syscall(SYS_tgkill, getpid(), t_vtid, SIGUSR2) < 0)
		_exit(3);
	union sigval v = { .sival_int = 42 };
	if (sigqueue(getpid(), SIGUSR1, v) < 0)
		_exit(4);
	if (fork() == 0)
		_exit(7);
	tp_idle();
}

/* The hex mask of a "Key:" line of /proc/PID[/task/TID]/status. */
static unsigned long long pend_mask(const char *path, const char *key)
{
	char buf[4096];
	if (t_read_file(path, buf, sizeof(buf)) <= 0)
		return ~0ULL;
	const char *p = strstr(buf, key);
	return p ? strtoull(p + strlen(key), NULL, 16) : ~0ULL;
}

#define BIT(s) (1ULL << ((s) - 1))

static int find_thread(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", c_pid);
	DIR *d = opendir(path);
	struct dirent *e;
	int tid = -1;
	while (d && (e = readdir(d)))
		if (atoi(e->d_name) > 0 && atoi(e->d_name) != c_pid)
			tid = atoi(e->d_name);
	if (d)
		closedir(d);
	return tid;
}

static int check(void *arg)
{
	char path[96], buf[256];
	int bad = 0;
	struct tp_stat st;

	if (tp_read_stat(c_pid, &st) < 0 || st.n_nspid != 2 || st.nspid[1] != 1) {
		t_fail("C (pid %d) is gone or not pid 1 of its namespace", c_pid);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/status", c_pid);
	unsigned long long shd = pend_mask(path, "\nShdPnd:");
	if (shd != (BIT(SIGUSR1) | BIT(SIGCHLD))) {
		t_fail("C: shared pending %#llx, expected SIGUSR1 and SIGCHLD (%#llx)", shd,
		       BIT(SIGUSR1) | BIT(SIGCHLD));
		bad = 1;
	}
	int tid = find_thread();
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", c_pid, tid);
	unsigned long long prv = tid > 0 ? pend_mask(path, "\nSigPnd:") : ~0ULL;
	if (prv != BIT(SIGUSR2)) {
		t_fail("C's thread %d: private pending %#llx, expected SIGUSR2 (%#llx)", tid, prv,
		       BIT(SIGUSR2));
		bad = 1;
	}
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", c_pid, c_pid);
	int g = t_read_file(path, buf, sizeof(buf)) > 0 ? atoi(buf) : -1;
	if (g <= 0 || tp_read_stat(g, &st) < 0 || st.state != 'Z' || st.ppid != c_pid) {
		t_fail("C's child G (%d) is not a zombie of C", g);
		bad = 1;
	}
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	t_init(argc, argv);
	if (unshare(CLONE_NEWPID) < 0)
		t_die("unshare(CLONE_NEWPID): %m");
	c_pid = tp_fork();
	if (c_pid < 0)
		t_die("fork: %m");
	if (c_pid == 0)
		c_main();
	/* ready once T's SIGUSR2 and G's SIGCHLD are pending */
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", c_pid);
	for (int i = 0; i < 2000; i++) {
		if ((pend_mask(path, "\nShdPnd:") & BIT(SIGCHLD)) && find_thread() > 0)
			break;
		tp_sleep_ms(5);
	}
	t_run(check, NULL);
}
