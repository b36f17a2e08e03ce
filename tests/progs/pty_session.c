/* A session with a pty as its controlling terminal comes back with it:
 * the root holds the master; its child L leads a session whose controlling
 * terminal is the slave; in it F (foreground group), B (a background
 * group) and N, which gave the terminal up (TIOCNOTTY).  The check compares
 * each task's session, group and controlling terminal (/proc/PID/stat),
 * the terminal's session and foreground group (TIOCGSID, TIOCGPGRP), and,
 * after a restore, types ^C: only F's group gets SIGINT.  F also holds
 * /dev/tty, reopened by that name once its terminal is back. */
// crest-test: mode=cr
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define MFD 20
#define SFD 21
#define DEVTTY_FD 22

struct who { const char *name; pid_t pid; int pgid, sid, tty_nr; };
static struct who w[4];   /* L, F, B, N */
static int checks, sync_pipe[2];

static int stat_of(pid_t pid, int *pgid, int *sid, int *tty_nr)
{
	char path[64], buf[512], *p;
	long n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	n = t_read_file(path, buf, sizeof(buf));
	if (n <= 0 || !(p = strrchr(buf, ')')))
		return -1;
	return sscanf(p + 2, "%*c %*d %d %d %d", pgid, sid, tty_nr) == 3 ? 0 : -1;
}

static const char *name;

static void on_int(int sig)
{
	char f[32];
	snprintf(f, sizeof(f), "%s-int", name);
	t_write_file(f, "1\n", 2);
}

/* a member of L's session: sleeps; reports SIGINT in a file */
static void member(const char *n)
{
	name = n;
	t_on_signal(SIGINT, on_int, 0);
	close(sync_pipe[0]);
	close(sync_pipe[1]);
	for (;;)
		pause();
}

static pid_t fork_member(const char *n, int own_group, int notty)
{
	pid_t p = fork();
	if (p < 0)
		t_die("fork: %m");
	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (own_group)
			setpgid(0, 0);
		if (notty && ioctl(SFD, TIOCNOTTY) < 0)
			t_die("TIOCNOTTY: %m");
		/* F: /dev/tty, its controlling terminal, opened by that name */
		if (!strcmp(n, "F") && dup2(open("/dev/tty", O_RDWR), DEVTTY_FD) != DEVTTY_FD)
			t_die("/dev/tty: %m");
		close(SFD);
		member(n);
	}
	if (own_group)
		setpgid(p, p);
	return p;
}

static int check(void *arg)
{
	int bad = 0, v;

	checks++;
	for (int i = 0; i < 4; i++) {
		int pg, sid, tn;
		if (stat_of(w[i].pid, &pg, &sid, &tn) < 0) {
			t_fail("%s (pid %d): cannot read its stat", w[i].name, w[i].pid);
			bad = -1;
			continue;
		}
		if (pg != w[i].pgid || sid != w[i].sid || tn != w[i].tty_nr) {
			t_fail("%s (pid %d): group %d session %d tty %#x, expected %d %d %#x", w[i].name,
			       w[i].pid, pg, sid, tn, w[i].pgid, w[i].sid, w[i].tty_nr);
			bad = -1;
		}
	}
	char path[64], link[64];
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", w[1].pid, DEVTTY_FD);
	ssize_t ln = readlink(path, link, sizeof(link) - 1);
	if (ln != 8 || memcmp(link, "/dev/tty", 8)) {
		t_fail("F's fd %d is not /dev/tty (%zd)", DEVTTY_FD, ln);
		bad = -1;
	}
	if (ioctl(MFD, TIOCGSID, &v) < 0 || v != w[0].pid) {
		t_fail("the terminal's session is %d, expected %d (L)", v, w[0].pid);
		bad = -1;
	}
	if (ioctl(MFD, TIOCGPGRP, &v) < 0 || v != w[1].pgid) {
		t_fail("the terminal's foreground group is %d, expected %d (F)", v, w[1].pgid);
		bad = -1;
	}
	if (checks > 1) {
		char c = 3, buf[8];
		unlink("F-int");
		unlink("B-int");
		if (write(MFD, &c, 1) != 1)
			t_fail("write ^C: %m");
		for (int i = 0; i < 200 && t_read_file("F-int", buf, sizeof(buf)) < 0; i++)
			usleep(5000);
		usleep(50000);
		if (t_read_file("F-int", buf, sizeof(buf)) < 0) {
			t_fail("^C did not reach the foreground group");
			bad = -1;
		}
		if (t_read_file("B-int", buf, sizeof(buf)) >= 0) {
			t_fail("^C reached the background group");
			bad = -1;
		}
	}
	return bad;
}

int main(int argc, char **argv)
{
	int m, s, tn;
	pid_t l;

	t_init(argc, argv);
	m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || dup2(m, MFD) != MFD)
		t_die("posix_openpt: %m");
	close(m);
	if (pipe(sync_pipe) < 0)
		t_die("pipe: %m");
	l = fork();
	if (l < 0)
		t_die("fork: %m");
	if (l == 0) {
		char path[64];
		pid_t f, b, n;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(path, sizeof(path), "%s", ptsname(MFD));
		close(MFD);
		if (setsid() < 0)
			t_die("setsid: %m");
		s = open(path, O_RDWR);   /* without O_NOCTTY: our controlling terminal */
		if (s < 0 || dup2(s, SFD) != SFD)
			t_die("open %s: %m", path);
		close(s);
		f = fork_member("F", 1, 0);
		b = fork_member("B", 1, 0);
		n = fork_member("N", 0, 1);
		if (tcsetpgrp(SFD, f) < 0)
			t_die("tcsetpgrp: %m");
		pid_t pids[3] = { f, b, n };
		if (write(sync_pipe[1], pids, sizeof(pids)) != sizeof(pids))
			t_die("sync: %m");
		name = "L";
		t_on_signal(SIGINT, on_int, 0);
		close(sync_pipe[0]);
		close(sync_pipe[1]);
		for (;;)
			pause();
	}
	pid_t pids[3];
	close(sync_pipe[1]);
	if (read(sync_pipe[0], pids, sizeof(pids)) != sizeof(pids))
		t_die("sync: %m");
	close(sync_pipe[0]);
	usleep(100000);   /* N's TIOCNOTTY */
	w[0] = (struct who){ .name = "L", .pid = l };
	w[1] = (struct who){ .name = "F", .pid = pids[0] };
	w[2] = (struct who){ .name = "B", .pid = pids[1] };
	w[3] = (struct who){ .name = "N", .pid = pids[2] };
	for (int i = 0; i < 4; i++)
		if (stat_of(w[i].pid, &w[i].pgid, &w[i].sid, &w[i].tty_nr) < 0)
			t_die("stat of %s: %m", w[i].name);
	tn = w[0].tty_nr;
	if (!tn || w[1].tty_nr != tn || w[2].tty_nr != tn || w[3].tty_nr != 0 || w[1].pgid == w[0].pgid)
		t_die("unexpected setup: tty_nr %#x %#x %#x %#x", w[0].tty_nr, w[1].tty_nr, w[2].tty_nr,
		      w[3].tty_nr);
	t_run(check, NULL);
}
