/* A named FIFO removed while open, with its writer and its reader in the
 * process and bytes buffered in it: after restore both fds are one FIFO
 * again, shown as "<dir>/fifo (deleted)", the buffered bytes are there in
 * order, and what is written at one end comes out at the other. */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define MSG "buffered before the dump"

struct st {
	int rd, wr;
	char name[4200];
};

static int check(void *arg)
{
	struct st *s = arg;
	struct stat a, b;
	char buf[256];
	int avail = -1, bad = 0;
	ssize_t n;

	if (fstat(s->rd, &a) < 0 || fstat(s->wr, &b) < 0) {
		t_fail("fstat: %m");
		return -1;
	}
	if (!S_ISFIFO(a.st_mode) || a.st_ino != b.st_ino || a.st_dev != b.st_dev || a.st_nlink) {
		t_fail("the two ends are not one removed FIFO (inodes %lu/%lu, nlink %lu)",
		       (unsigned long)a.st_ino, (unsigned long)b.st_ino, (unsigned long)a.st_nlink);
		bad = -1;
	}
	if ((fcntl(s->rd, F_GETFL) & O_ACCMODE) != O_RDONLY || (fcntl(s->wr, F_GETFL) & O_ACCMODE) != O_WRONLY ||
	    !(fcntl(s->rd, F_GETFL) & O_NONBLOCK)) {
		t_fail("access modes/flags changed: rd 0%o wr 0%o", fcntl(s->rd, F_GETFL), fcntl(s->wr, F_GETFL));
		bad = -1;
	}
	bad |= tp_expect_fd_link(0, s->rd, s->name, "read end");
	bad |= tp_expect_fd_link(0, s->wr, s->name, "write end");
	if (ioctl(s->rd, FIONREAD, &avail) < 0 || avail != (int)strlen(MSG)) {
		t_fail("%d bytes buffered, expected %zu", avail, strlen(MSG));
		return -1;
	}
	/* take the bytes out, check, put them back (the check runs again) */
	n = read(s->rd, buf, sizeof(buf));
	if (n != (ssize_t)strlen(MSG) || memcmp(buf, MSG, strlen(MSG))) {
		t_fail("read %zd bytes '%.*s', expected '%s'", n, n > 0 ? (int)n : 0, buf, MSG);
		bad = -1;
	}
	if (write(s->wr, MSG, strlen(MSG)) != (ssize_t)strlen(MSG)) {
		t_fail("write to the FIFO: %m");
		bad = -1;
	}
	return bad;
}

int main(int argc, char **argv)
{
	static struct st s;

	t_init(argc, argv);
	if (mkfifo("fifo", 0640) < 0)
		t_die("mkfifo: %m");
	s.rd = open("fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	s.wr = open("fifo", O_WRONLY | O_CLOEXEC);
	if (s.rd < 0 || s.wr < 0 || write(s.wr, MSG, strlen(MSG)) != (ssize_t)strlen(MSG) ||
	    unlink("fifo") < 0)
		t_die("fifo: %m");
	snprintf(s.name, sizeof(s.name), "%s/fifo (deleted)", t_dir());
	t_run(check, &s);
}
