/* File locks are held again after restore, before the tree runs:
 *  fd 20: flock(LOCK_EX) on "locked", its description shared with a child;
 *  fd 21: POSIX read lock on bytes 10-19, write lock on 100-149;
 *  fd 22: OFD write lock on bytes 50-59;
 *  fd 23: read lease on "leased_r" (O_RDONLY); fd 24: write lease on
 *         "leased_w" (O_RDWR), whose break sends SIGIO to this process;
 *  the child: POSIX write lock on bytes 150-159 through its own fd 25.
 * The check compares the fdinfo "lock:" lines of every fd with the ones at
 * setup (a flock's pid is the process that restores the description: not
 * compared), then a fresh process (forked, new descriptions) must get
 * EWOULDBLOCK/EAGAIN for each lock and see the holders with F_GETLK /
 * F_OFD_GETLK; the leases are F_GETLEASE'd and, after restore, a
 * conflicting open must fail with EWOULDBLOCK and send this process SIGIO. */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

static char ref[5][1024];
static int child;
static volatile sig_atomic_t sigio;

static void on_io(int sig)
{
	sigio++;
}

/* the "lock:" lines of our fd, pids of FLOCK lines blanked */
static void lock_lines(int fd, char *out, size_t n)
{
	char path[64], buf[4096];
	size_t o = 0;

	out[0] = 0;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (t_read_file(path, buf, sizeof(buf)) < 0)
		return;
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
		if (strncmp(l, "lock:", 5))
			continue;
		char kind[16], a[16], type[16], rest[128];
		int pid;
		if (sscanf(l, "lock:\t%*d: %15s %15s %15s %d %127[^\n]", kind, a, type, &pid, rest) != 5)
			continue;
		if (!strcmp(kind, "FLOCK"))
			pid = 0;
		o += (size_t)snprintf(out + o, n - o, "%s %s %s %d %s|", kind, a, type, pid, rest);
		if (o >= n)
			break;
	}
}

static int setlk(int fd, int cmd, short type, off_t start, off_t len, struct flock *out)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	int r = fcntl(fd, cmd, &fl);
	if (out)
		*out = fl;
	return r;
}

/* In a fresh process: every lock must be held by us. 0 / bitmask of failures. */
static int probe(void)
{
	int bad = 0, fd = open("locked", O_RDWR | O_CLOEXEC), fd2 = open("locked", O_RDWR | O_CLOEXEC);
	struct flock fl;

	if (fd < 0 || fd2 < 0)
		return 1;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK)
		bad |= 2;
	if (setlk(fd, F_SETLK, F_WRLCK, 12, 1, NULL) == 0 || (errno != EAGAIN && errno != EACCES))
		bad |= 4;
	if (setlk(fd, F_GETLK, F_WRLCK, 10, 10, &fl) || fl.l_type != F_RDLCK || fl.l_pid != getppid() ||
	    fl.l_start != 10 || fl.l_len != 10)
		bad |= 8;
	if (setlk(fd, F_GETLK, F_WRLCK, 100, 50, &fl) || fl.l_type != F_WRLCK || fl.l_pid != getppid() ||
	    fl.l_start != 100 || fl.l_len != 50)
		bad |= 16;
	if (setlk(fd, F_GETLK, F_RDLCK, 150, 10, &fl) || fl.l_type != F_WRLCK || fl.l_pid != child)
		bad |= 32;
	if (setlk(fd2, F_OFD_GETLK, F_WRLCK, 50, 10, &fl) || fl.l_type != F_WRLCK || fl.l_pid != -1 ||
	    fl.l_start != 50 || fl.l_len != 10)
		bad |= 64;
	if (setlk(fd2, F_OFD_SETLK, F_RDLCK, 55, 1, NULL) == 0 || errno != EAGAIN)
		bad |= 128;
	if (setlk(fd, F_SETLK, F_WRLCK, 160, 10, NULL) != 0)    /* a free range */
		bad |= 256;
	return bad;
}

static int check(void *arg)
{
	static int calls;
	char now[1024];
	int r = 0, st;

	for (int i = 0; i < 5; i++) {
		lock_lines(20 + i, now, sizeof(now));
		if (strcmp(now, ref[i])) {
			t_fail("fd %d: locks \"%s\", expected \"%s\"", 20 + i, now, ref[i]);
			r = -1;
		}
	}
	if (fcntl(23, F_GETLEASE) != F_RDLCK || fcntl(24, F_GETLEASE) != F_WRLCK) {
		t_fail("leases %d/%d, expected read/write", fcntl(23, F_GETLEASE), fcntl(24, F_GETLEASE));
		r = -1;
	}
	pid_t p = fork();
	if (p == 0)
		_exit(probe());
	if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st)) {
		t_fail("another process could take a lock or saw the wrong holder (failures %#x)",
		       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		r = -1;
	}
	if (++calls > 1 && r == 0) {
		/* break the write lease: once only, after restore */
		p = fork();
		if (p == 0) {
			int fd = open("leased_w", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
			_exit(fd < 0 && errno == EWOULDBLOCK ? 0 : 1);
		}
		if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st)) {
			t_fail("an open of the write-leased file did not fail with EWOULDBLOCK");
			r = -1;
		}
		for (int k = 0; k < 200 && !sigio; k++)
			tp_sleep_ms(5);
		if (!sigio) {
			t_fail("no SIGIO for the lease break");
			r = -1;
		}
		fcntl(24, F_SETLEASE, F_UNLCK);
	}
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
	char data[200];
	int fd;

	t_init(argc, argv);
	memset(data, 'x', sizeof(data));
	if (t_write_file("locked", data, sizeof(data)) || t_write_file("leased_r", "r", 1) ||
	    t_write_file("leased_w", "w", 1))
		t_die("files: %m");
	t_on_signal(SIGIO, on_io, SA_RESTART);
	at(open("locked", O_RDWR), 20);
	at(open("locked", O_RDWR), 21);
	at(open("locked", O_RDWR), 22);
	at(open("leased_r", O_RDONLY), 23);
	at(open("leased_w", O_RDWR), 24);
	if (flock(20, LOCK_EX | LOCK_NB) || setlk(21, F_SETLK, F_RDLCK, 10, 10, NULL) ||
	    setlk(21, F_SETLK, F_WRLCK, 100, 50, NULL) || setlk(22, F_OFD_SETLK, F_WRLCK, 50, 10, NULL) ||
	    fcntl(23, F_SETLEASE, F_RDLCK) || fcntl(24, F_SETLEASE, F_WRLCK))
		t_die("locks: %m");
	child = tp_fork();
	if (child < 0)
		t_die("fork: %m");
	if (child == 0) {
		for (int i = 21; i <= 24; i++)
			close(i);
		fd = open("locked", O_RDWR);
		at(fd, 25);
		if (setlk(25, F_SETLK, F_WRLCK, 150, 10, NULL))
			_exit(1);
		tp_idle();
	}
	for (int k = 0; k < 1000; k++) {
		struct flock fl;
		if (setlk(21, F_GETLK, F_WRLCK, 150, 10, &fl) == 0 && fl.l_type == F_WRLCK)
			break;
		tp_sleep_ms(2);
	}
	for (int i = 0; i < 5; i++)
		lock_lines(20 + i, ref[i], sizeof(ref[i]));
	t_run(check, NULL);
}
