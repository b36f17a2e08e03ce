/* Parent-death signal.  The program sets PR_SET_PDEATHSIG(SIGUSR2) with a
 * counting handler.  A restored root task's parent is crest: with
 * `restore -d` crest exits at once, which would fire the signal, so crest
 * drops it (with a warning) and the plain C/R cycle expects 0 after a
 * restore.  tests/cases/pdeath_nodetach.sh restores without -d, where the
 * signal must be back and must fire when crest dies; it writes the expected
 * value to "expect-pdeath".  The work loop writes "got-usr2" once the signal
 * arrived. */
// crest-test: mode=cr
#include "t.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>

static volatile sig_atomic_t usr2;
static int usr2_written;

static void on_usr2(int sig)
{
	usr2++;
}

static void work(void *arg)
{
	char buf[32];
	if (usr2 != usr2_written) {
		int n = snprintf(buf, sizeof(buf), "%d\n", (int)usr2);
		if (t_write_file("got-usr2", buf, (size_t)n) == 0)
			usr2_written = usr2;
	}
}

static int check(void *arg)
{
	char buf[32];
	static int ncheck;
	int want = SIGUSR2, got = -1;

	if (ncheck++ == 0)
		;               /* pre-check: as set */
	else if (t_read_file("expect-pdeath", buf, sizeof(buf)) > 0)
		want = atoi(buf);
	else if (t_read_file("ready", buf, sizeof(buf)) < 0)
		want = 0;       /* restored with -d (the runner removed "ready") */
	if (prctl(PR_GET_PDEATHSIG, &got, 0, 0, 0) < 0) {
		t_fail("PR_GET_PDEATHSIG: %s", strerror(errno));
		return -1;
	}
	if (got != want) {
		t_fail("parent-death signal %d, expected %d", got, want);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa;

	t_init(argc, argv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGUSR2, &sa, NULL) < 0)
		t_die("sigaction: %s", strerror(errno));
	if (prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0) < 0)
		t_die("PR_SET_PDEATHSIG: %s", strerror(errno));
	t_set_work(work, NULL);
	t_run(check, NULL);
}
