/* A child stopped with SIGSTOP stays stopped after restore (state T, not
 * traced: its name, which it changes every 10 ms while running, does not
 * move), and continues on SIGCONT (the name moves again).  The check
 * stops it again afterwards (the pre-check runs before the dump). */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int child;

static int check(void *arg)
{
	struct tp_stat a, b;
	int moved = 0;

	if (tp_read_stat(child, &a) < 0) {
		t_fail("child %d is gone", child);
		return -1;
	}
	if (a.state != 'T' || a.tracer || a.ppid != getpid()) {
		t_fail("child %d: state %c tracer %d ppid %d, want stopped (T), untraced, child of %d",
		       child, a.state, a.tracer, a.ppid, getpid());
		return -1;
	}
	tp_sleep_ms(150);
	if (tp_read_stat(child, &b) < 0 || b.state != 'T' || strcmp(a.comm, b.comm)) {
		t_fail("child %d runs while stopped (state %c, name %s -> %s)", child, b.state, a.comm,
		       b.comm);
		return -1;
	}
	kill(child, SIGCONT);
	for (int i = 0; i < 300 && !moved; i++) {
		tp_sleep_ms(10);
		moved = tp_read_stat(child, &b) == 0 && strcmp(a.comm, b.comm) != 0;
	}
	if (!moved)
		t_fail("child %d does not run after SIGCONT (state %c, name %s)", child, b.state, b.comm);
	kill(child, SIGSTOP);
	if (tp_wait_state(child, "T", 3000) < 0)
		t_fail("child %d does not stop again on SIGSTOP", child);
	return moved ? 0 : -1;
}

int main(int argc, char **argv)
{
	t_init(argc, argv);
	child = tp_fork();
	if (child < 0)
		t_die("fork: %s", strerror(errno));
	if (child == 0) {
		char name[16];
		for (unsigned n = 0;; n++) {
			snprintf(name, sizeof(name), "stp-%u", n % 100000);
			prctl(PR_SET_NAME, name);
			tp_sleep_ms(10);
		}
	}
	tp_sleep_ms(50);
	kill(child, SIGSTOP);
	if (tp_wait_state(child, "T", 5000) < 0)
		t_die("child %d does not stop", child);
	t_run(check, NULL);
}
