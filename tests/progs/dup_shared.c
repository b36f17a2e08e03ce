/* dup'ed fds come back sharing one open file description: a file fd, its
 * dup (not cloexec) and a dup at fd 50 share the position; a second,
 * separate open of the same file does not.  A dup'ed pipe read end shares
 * its status flags (O_NONBLOCK set on one shows on the other). */
// crest-test: mode=cr
#include "t.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define POS 100
#define OTHER_POS 300
#define HIGH_FD 50

struct st {
	int a, b, c;        /* one description */
	int other;          /* separate open of the same file */
	int pr, pr2, pw;    /* pipe read end and its dup */
};

static int expect_pos(const char *what, int fd, off_t want)
{
	off_t p = lseek(fd, 0, SEEK_CUR);
	if (p != want) {
		t_fail("%s (fd %d): position %lld, expected %lld", what, fd, (long long)p, (long long)want);
		return -1;
	}
	return 0;
}

static int check(void *arg)
{
	struct st *s = arg;
	int bad = 0, fa, fb;

	bad |= expect_pos("fd", s->a, POS);
	bad |= expect_pos("its dup", s->b, POS);
	bad |= expect_pos("its dup at 50", s->c, POS);
	bad |= expect_pos("separate open", s->other, OTHER_POS);
	if (bad)
		return -1;
	/* move one: the dups follow, the separate open does not */
	lseek(s->b, 2000, SEEK_SET);
	bad |= expect_pos("fd after moving its dup", s->a, 2000);
	bad |= expect_pos("dup at 50 after moving its sibling", s->c, 2000);
	bad |= expect_pos("separate open after moving the dup", s->other, OTHER_POS);
	lseek(s->a, POS, SEEK_SET);

	if ((fcntl(s->a, F_GETFD) & FD_CLOEXEC) != FD_CLOEXEC || (fcntl(s->b, F_GETFD) & FD_CLOEXEC) ||
	    (fcntl(s->c, F_GETFD) & FD_CLOEXEC) != FD_CLOEXEC) {
		t_fail("FD_CLOEXEC is not per fd as set: %d %d %d", fcntl(s->a, F_GETFD),
		       fcntl(s->b, F_GETFD), fcntl(s->c, F_GETFD));
		bad = -1;
	}

	fa = fcntl(s->pr, F_GETFL);
	fcntl(s->pr, F_SETFL, fa | O_NONBLOCK);
	fb = fcntl(s->pr2, F_GETFL);
	fcntl(s->pr, F_SETFL, fa);
	if (!(fb & O_NONBLOCK)) {
		t_fail("pipe read end and its dup do not share their flags");
		bad = -1;
	}
	if (fa & O_NONBLOCK) {
		t_fail("pipe read end has O_NONBLOCK, it should not");
		bad = -1;
	}
	return bad;
}

int main(int argc, char **argv)
{
	static struct st s;
	static char buf[4096];
	int p[2], fd;

	t_init(argc, argv);
	fd = open("shared.bin", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, sizeof(buf)) != sizeof(buf))
		t_die("shared.bin: %m");
	s.a = fd;
	s.b = dup(fd);
	s.c = fcntl(fd, F_DUPFD_CLOEXEC, HIGH_FD);
	s.other = open("shared.bin", O_RDONLY | O_CLOEXEC);
	if (s.b < 0 || s.c != HIGH_FD || s.other < 0)
		t_die("dup: %m");
	lseek(s.a, POS, SEEK_SET);
	lseek(s.other, OTHER_POS, SEEK_SET);
	if (pipe2(p, O_CLOEXEC) < 0)
		t_die("pipe: %m");
	s.pr = p[0];
	s.pw = p[1];
	s.pr2 = dup(s.pr);
	t_run(check, &s);
}
