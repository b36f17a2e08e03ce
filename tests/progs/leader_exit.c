/* A process whose main thread has called pthread_exit() while another
 * thread runs on (/proc/PID/stat shows the leader as a zombie).  Used by
 * tests/cases/leader_exited.sh: the dump must refuse it by name and leave it
 * running, not take it for a zombie process. */
// crest-test: mode=case
#include "t.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static int check(void *arg)
{
	(void)arg;
	return 0;
}

static void *worker(void *arg)
{
	char tid[32];
	(void)arg;
	/* the runner watches this thread (the leader's /proc state is Z) */
	int n = snprintf(tid, sizeof(tid), "%ld\n", (long)syscall(SYS_gettid));
	if (t_write_file("tid", tid, (size_t)n) < 0)
		t_die("cannot write tid");
	t_run(check, NULL);
}

int main(int argc, char **argv)
{
	pthread_t t;

	t_init(argc, argv);
	if (pthread_create(&t, NULL, worker, NULL))
		t_die("pthread_create failed");
	pthread_exit(NULL);
}
