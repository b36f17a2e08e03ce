/* Named FIFOs opened by path come back with their openers, buffered bytes
 * and pipe size:
 *  fifo1: fd 20 read-write, fd 21 read-only non-blocking, fd 22 write-only,
 *         a child's own reader (fd 23); 15 bytes buffered; pipe size 8192;
 *  fifo2: the child's reader (fd 24), our writer (fd 25), 3 bytes buffered;
 *  a plain pipe (fds 26/27) sized 16384.
 * The check: the fd links, access modes and O_NONBLOCK; one inode for all
 * openers (the child's too); F_GETPIPE_SZ; FIONREAD; the bytes (copied with
 * tee, not consumed); then a byte written through fd 22 comes out of fd 21
 * after the buffered ones (and the bytes are put back). */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define DATA "hello fifo data"
static int child;
static char p1[4096], p2[4096];

static int fd_is(int pid, int fd, const char *path, int acc, int nonblock)
{
	char want[4200], got[4200];
	struct stat a, b;
	int r = 0;

	snprintf(want, sizeof(want), "%s", path);
	if (!tp_fd_readlink(pid, fd, got, sizeof(got)) || strcmp(got, want)) {
		t_fail("pid %d fd %d: links to %s, expected %s", pid, fd, got, want);
		r = -1;
	}
	snprintf(got, sizeof(got), "/proc/%d/fd/%d", pid, fd);
	if (stat(got, &a) || stat(path, &b) || a.st_ino != b.st_ino || !S_ISFIFO(a.st_mode)) {
		t_fail("pid %d fd %d: not the FIFO %s (inode)", pid, fd, path);
		r = -1;
	}
	if (pid == getpid()) {
		int fl = fcntl(fd, F_GETFL);
		if ((fl & O_ACCMODE) != acc || !!(fl & O_NONBLOCK) != nonblock) {
			t_fail("fd %d: flags 0%o, expected access %d%s", fd, fl, acc, nonblock ? " nonblock" : "");
			r = -1;
		}
	}
	return r;
}

static int expect_int(const char *what, int got, int want)
{
	if (got != want) {
		t_fail("%s: %d, expected %d", what, got, want);
		return -1;
	}
	return 0;
}

static int check(void *arg)
{
	int r = 0, n = 0, pp[2];
	char buf[64] = { 0 };

	r |= fd_is(getpid(), 20, p1, O_RDWR, 0);
	r |= fd_is(getpid(), 21, p1, O_RDONLY, 1);
	r |= fd_is(getpid(), 22, p1, O_WRONLY, 0);
	r |= fd_is(child, 23, p1, 0, 0);
	r |= fd_is(child, 24, p2, 0, 0);
	r |= fd_is(getpid(), 25, p2, O_WRONLY, 0);
	r |= expect_int("fifo1 F_GETPIPE_SZ", fcntl(20, F_GETPIPE_SZ), 8192);
	r |= expect_int("fifo2 F_GETPIPE_SZ", fcntl(25, F_GETPIPE_SZ), 65536);
	r |= expect_int("pipe F_GETPIPE_SZ", fcntl(26, F_GETPIPE_SZ), 16384);
	ioctl(20, FIONREAD, &n);
	r |= expect_int("fifo1 bytes buffered", n, (int)strlen(DATA));
	n = 0;
	ioctl(25, FIONREAD, &n);
	r |= expect_int("fifo2 bytes buffered", n, 3);
	if (pipe2(pp, O_NONBLOCK) || tee(20, pp[1], sizeof(buf), SPLICE_F_NONBLOCK) != (ssize_t)strlen(DATA) ||
	    read(pp[0], buf, sizeof(buf) - 1) != (ssize_t)strlen(DATA) || strcmp(buf, DATA)) {
		t_fail("fifo1 holds \"%s\", expected \"%s\"", buf, DATA);
		r = -1;
	}
	close(pp[0]);
	close(pp[1]);
	/* the ends are connected: what fd 22 writes comes out of fd 21 */
	memset(buf, 0, sizeof(buf));
	if (write(22, "X", 1) != 1 || read(21, buf, sizeof(buf) - 1) != (ssize_t)strlen(DATA) + 1 ||
	    strcmp(buf, DATA "X")) {
		t_fail("read \"%s\" from fd 21 after writing X to fd 22, expected \"%s\"", buf, DATA "X");
		r = -1;
	}
	while (read(21, buf, sizeof(buf)) > 0)
		;
	if (write(22, DATA, strlen(DATA)) != (ssize_t)strlen(DATA))
		t_die("cannot put the data back: %m");
	return r;
}

static void at(int fd, int n)
{
	if (fd < 0 || dup2(fd, n) != n)
		t_die("fd %d: %m", n);
	close(fd);
}

int main(int argc, char **argv)
{
	int pp[2];

	t_init(argc, argv);
	snprintf(p1, sizeof(p1), "%s/fifo1", t_dir());
	snprintf(p2, sizeof(p2), "%s/fifo2", t_dir());
	unlink(p1);
	unlink(p2);
	if (mkfifo(p1, 0600) || mkfifo(p2, 0640))
		t_die("mkfifo: %m");
	at(open(p1, O_RDWR), 20);
	at(open(p1, O_RDONLY | O_NONBLOCK), 21);
	at(open(p1, O_WRONLY), 22);
	if (fcntl(20, F_SETPIPE_SZ, 8192) != 8192)
		t_die("F_SETPIPE_SZ: %m");
	if (write(22, DATA, strlen(DATA)) != (ssize_t)strlen(DATA))
		t_die("write: %m");
	if (pipe(pp))
		t_die("pipe: %m");
	at(pp[0], 26);
	at(pp[1], 27);
	if (fcntl(26, F_SETPIPE_SZ, 16384) != 16384)
		t_die("F_SETPIPE_SZ: %m");
	int ready[2];
	if (pipe(ready))
		t_die("pipe: %m");
	child = tp_fork();
	if (child < 0)
		t_die("fork: %m");
	if (child == 0) {
		for (int i = 20; i <= 27; i++)
			close(i);
		close(ready[0]);
		at(open(p1, O_RDONLY | O_NONBLOCK), 23);
		at(open(p2, O_RDONLY | O_NONBLOCK), 24);
		close(ready[1]);
		tp_idle();
	}
	close(ready[1]);
	char c;
	if (read(ready[0], &c, 1) != 0)
		t_die("child setup");
	close(ready[0]);
	at(open(p2, O_WRONLY), 25);
	if (write(25, "two", 3) != 3)
		t_die("write fifo2: %m");
	t_run(check, NULL);
}
