/* An interactive bash on a pty keeps its jobs: the root holds the master
 * and runs `bash -i` on the slave (its own session, the pty its controlling
 * terminal), which started `sleep 1000 &` (a background job, running) and
 * `sleep 1001`, stopped with ^Z.  The check types `jobs -l` and reads the
 * screen: job 1 Running, job 2 Stopped, each with its pid; the stopped sleep
 * is in state T, the other in S, each in its own process group, and the
 * terminal's foreground group is bash's.  After a restore it also types
 * `fg %1`, then ^C, and bash must report the job gone. */
// crest-test: mode=cr
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <termios.h>
#include <unistd.h>

#define MFD 20

static pid_t bash_pid, bg_pid, st_pid;
static int mark, checks;
static char screen[65536];

/* Type cmd + "; echo MARK<n>" and read the screen until MARK<n> is printed. */
static int run(const char *cmd, char *out, size_t len)
{
	char line[256], want[32];
	size_t got = 0;
	int64_t end = t_now_ns(CLOCK_MONOTONIC) + 8000000000LL;

	mark++;
	snprintf(line, sizeof(line), "%s%s echo MARK%d\n", cmd, cmd[strlen(cmd) - 1] == '&' ? "" : ";",
		 mark);
	snprintf(want, sizeof(want), "\nMARK%d", mark);
	if (write(MFD, line, strlen(line)) != (ssize_t)strlen(line))
		return -1;
	out[0] = 0;
	while (t_now_ns(CLOCK_MONOTONIC) < end && got + 1 < len) {
		struct pollfd p = { .fd = MFD, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t n = read(MFD, out + got, len - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		out[got] = 0;
		if (strstr(out, want))
			return 0;
	}
	return -1;
}

static int state_of(pid_t p, int *pgid)
{
	char path[64], buf[512], *s;
	char st = '?';

	snprintf(path, sizeof(path), "/proc/%d/stat", p);
	if (t_read_file(path, buf, sizeof(buf)) <= 0 || !(s = strrchr(buf, ')')))
		return '?';
	sscanf(s + 2, "%c %*d %d", &st, pgid);
	return st;
}

/* "[1]- 1234 Running   sleep 1000 &" */
static int job_line(const char *scr, int job, pid_t pid, const char *state, const char *cmd)
{
	char want[32];
	const char *l;

	snprintf(want, sizeof(want), "[%d]", job);
	for (l = strstr(scr, want); l; l = strstr(l + 1, want)) {
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l);
		char buf[256], num[16];
		snprintf(buf, sizeof(buf), "%.*s", (int)(n < 255 ? n : 255), l);
		snprintf(num, sizeof(num), " %d ", pid);
		if (strstr(buf, num) && strstr(buf, state) && strstr(buf, cmd))
			return 0;
	}
	t_fail("no '[%d] %d %s ... %s' line in `jobs -l`: %s", job, pid, state, cmd, scr);
	return -1;
}

static int check(void *arg)
{
	int bad = 0, pg_bg = 0, pg_st = 0, pg_bash = 0, fg = -1;

	checks++;
	if (state_of(bg_pid, &pg_bg) != 'S' || state_of(st_pid, &pg_st) != 'T' ||
	    state_of(bash_pid, &pg_bash) == '?') {
		t_fail("states: background sleep %c, stopped sleep %c, expected S and T",
		       state_of(bg_pid, &pg_bg), state_of(st_pid, &pg_st));
		bad = -1;
	}
	if (pg_bg != bg_pid || pg_st != st_pid || pg_bash != bash_pid) {
		t_fail("groups: bash %d, sleeps %d %d: expected each its own", pg_bash, pg_bg, pg_st);
		bad = -1;
	}
	if (ioctl(MFD, TIOCGPGRP, &fg) < 0 || fg != bash_pid) {
		t_fail("foreground group %d, expected bash's %d", fg, bash_pid);
		bad = -1;
	}
	if (run("jobs -l", screen, sizeof(screen)) < 0) {
		t_fail("bash does not answer: %s", screen);
		return -1;
	}
	bad |= job_line(screen, 1, bg_pid, "Running", "sleep 1000");
	bad |= job_line(screen, 2, st_pid, "Stopped", "sleep 1001");
	if (checks > 1 && !bad) {
		/* the background job to the foreground, then ^C */
		char c = 3;
		if (write(MFD, "fg %1\n", 6) != 6)
			t_fail("write: %m");
		usleep(300000);
		if (write(MFD, &c, 1) != 1)
			t_fail("write: %m");
		int pg, st = 0;
		for (int i = 0; i < 100 && (st = state_of(bg_pid, &pg)) != '?' && st != 'Z'; i++)
			usleep(20000);
		if (st != '?' && st != 'Z') {
			t_fail("after fg %%1 and ^C, sleep 1000 (pid %d) is still there (state %c)", bg_pid, st);
			bad = -1;
		}
		if (run("echo alive", screen, sizeof(screen)) < 0) {
			t_fail("bash does not answer after the ^C: %s", screen);
			bad = -1;
		}
	}
	return bad;
}

int main(int argc, char **argv)
{
	int m;
	char c = 0x1a, *p;

	t_init(argc, argv);
	m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || dup2(m, MFD) != MFD)
		t_die("posix_openpt: %m");
	close(m);
	bash_pid = fork();
	if (bash_pid < 0)
		t_die("fork: %m");
	if (bash_pid == 0) {
		char path[64];
		int s;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* (started with & by a script, the test ignores SIGINT and SIGQUIT:
		 * bash would keep them ignored for its jobs) */
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		snprintf(path, sizeof(path), "%s", ptsname(MFD));
		setsid();
		s = open(path, O_RDWR);
		if (s < 0)
			_exit(1);
		dup2(s, 0);
		dup2(s, 1);
		dup2(s, 2);
		close(s);
		close(MFD);
		setenv("PS1", "$ ", 1);
		setenv("TERM", "dumb", 1);
		execlp("bash", "bash", "--norc", "--noprofile", "-i", (char *)NULL);
		_exit(127);
	}
	if (run("true", screen, sizeof(screen)) < 0)
		t_die("bash does not start: %s", screen);
	if (run("sleep 1000 &", screen, sizeof(screen)) < 0 || !(p = strstr(screen, "[1] ")))
		t_die("sleep 1000 &: %s", screen);
	bg_pid = atoi(p + 4);
	if (write(MFD, "sleep 1001\n", 11) != 11)
		t_die("write: %m");
	usleep(300000);
	if (write(MFD, &c, 1) != 1)
		t_die("write: %m");
	usleep(300000);
	if (run("echo STOPPED=$!", screen, sizeof(screen)) < 0)
		t_die("^Z: %s", screen);
	if (run("jobs -p %2", screen, sizeof(screen)) < 0)
		t_die("jobs -p: %s", screen);
	/* the pid is the line after the command's echo */
	for (p = screen; (p = strchr(p, '\n')); p++)
		if (atoi(p + 1) > 0) {
			st_pid = atoi(p + 1);
			break;
		}
	if (bg_pid <= 0 || st_pid <= 0)
		t_die("job pids %d %d: %s", bg_pid, st_pid, screen);
	t_run(check, NULL);
}
