/* SPDX-License-Identifier: MIT */
/*
 * Bytes queued in a pty, put back into its line discipline (tty module):
 * at dump, into the live pty right after crest read them (reading consumes
 * them); at restore, into the new one.  TIOCSTI feeds the line discipline
 * synchronously; echo, signals and input processing are off meanwhile, and
 * in canonical mode the bytes the line editor would act on are quoted with
 * VLNEXT, so every line comes back as it was.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include "tty_priv.h"
#include "util/log.h"
#include "util/util.h"

/* The termios for putting bytes back into an input queue: no input
 * processing, echo or signals; canonical as it was, with IEXTEN so that
 * VLNEXT can quote the bytes the line editor would act on. */
static void inject_termios(const struct ktermios2 *real, struct ktermios2 *t)
{
	*t = *real;
	t->c_iflag = 0;
	t->c_lflag &= ~(uint32_t)(ECHO | ECHOE | ECHOK | ECHONL | ECHOCTL | ECHOKE | ECHOPRT | ISIG |
				  TOSTOP | FLUSHO | PENDIN);
	if (t->c_lflag & ICANON) {
		t->c_lflag |= IEXTEN;
		if (!t->c_cc[VLNEXT])
			t->c_cc[VLNEXT] = 'V' & 0x1f;
	} else {
		t->c_lflag &= ~(uint32_t)IEXTEN;
	}
}

static bool cc_is(const struct ktermios2 *t, int i, uint8_t c)
{
	return t->c_cc[i] && t->c_cc[i] == c;
}

/* Does the canonical line editor act on c (under inject_termios)? */
static bool canon_special(const struct ktermios2 *t, uint8_t c)
{
	return c == '\n' || cc_is(t, VERASE, c) || cc_is(t, VKILL, c) || cc_is(t, VEOF, c) ||
	       cc_is(t, VEOL, c) || cc_is(t, VEOL2, c) || cc_is(t, VWERASE, c) ||
	       cc_is(t, VREPRINT, c) || cc_is(t, VLNEXT, c);
}

static bool line_end(const struct ktermios2 *t, uint8_t c)
{
	return c == '\n' || cc_is(t, VEOL, c) || cc_is(t, VEOL2, c);
}

static int sti(int fd, uint8_t c)
{
	return ioctl(fd, TIOCSTI, &c) < 0 ? -errno : 0;
}

/* Feed bytes to the line discipline of fd (t: the termios in effect, from
 * inject_termios).  kind: 0 raw, 1 a complete canonical line (its last
 * byte ends it; without a line end it was ended by VEOF), 2 the canonical
 * line being typed. */
static int sti_bytes(int fd, const struct ktermios2 *t, const uint8_t *p, size_t n, int kind)
{
	size_t body = n;
	int r = 0;

	if (kind == 1 && n && line_end(t, p[n - 1]))
		body = n - 1;
	for (size_t i = 0; r == 0 && i < body; i++) {
		if (kind && canon_special(t, p[i]))
			r = sti(fd, t->c_cc[VLNEXT]);
		if (r == 0)
			r = sti(fd, p[i]);
	}
	if (r == 0 && kind == 1)
		r = body < n ? sti(fd, p[n - 1]) : sti(fd, t->c_cc[VEOF]);
	return r;
}

/* "tty-index:" of /proc/PID/fdinfo/FD, or -1. */
long tty_fdinfo_index(pid_t pid, const char *fd)
{
	char name[64];
	_cleanup_free_ char *buf = NULL;
	const char *p;

	snprintf(name, sizeof(name), "fdinfo/%s", fd);
	if (proc_read(pid, name, &buf, NULL) < 0 || !(p = strstr(buf, "tty-index:")))
		return -1;
	return strtol(p + 10, NULL, 10);
}

bool tty_link_is_ptmx(const char *l)
{
	size_t n = strlen(l);
	return n >= 5 && !strcmp(l + n - 5, "/ptmx");
}

/* Put the queues read from p back (dump: into the live pty; restore: into
 * the new one).  slave: a slave description (-1: none). */
int tty_put_back(int mfd, int slave, const struct ktermios2 *real, const TtyPty *pb, pid_t pid)
{
	struct ktermios2 t;
	bool canon = real->c_lflag & ICANON;
	int r = 0;

	if (slave >= 0 && (pb->n_to_slave || pb->has_to_slave_partial)) {
		inject_termios(real, &t);
		if (ioctl(mfd, CREST_TCSETS2, &t) < 0)
			return pr_errno(-errno, "pid %d: pty %u: TCSETS2", pid, pb->index);
		for (size_t i = 0; r == 0 && i < pb->n_to_slave; i++)
			r = sti_bytes(slave, &t, pb->to_slave[i].data, pb->to_slave[i].len, canon ? 1 : 0);
		if (r == 0 && pb->has_to_slave_partial)
			r = sti_bytes(slave, &t, pb->to_slave_partial.data, pb->to_slave_partial.len, 2);
		if (ioctl(mfd, CREST_TCSETS2, real) < 0 && r == 0)
			r = -errno;
		if (r < 0)
			return pr_errno(r, "pid %d: pty %u: putting back the %zu line(s) queued for the slave "
					"(TIOCSTI, needs CAP_SYS_ADMIN)", pid, pb->index, pb->n_to_slave);
	}
	for (size_t i = 0; pb->has_to_master && i < pb->to_master.len && r == 0; i++)
		r = sti(mfd, pb->to_master.data[i]);
	if (r < 0)
		return pr_errno(r, "pid %d: pty %u: putting back the %zu bytes queued for the master (TIOCSTI)",
				pid, pb->index, pb->to_master.len);
	return 0;
}

