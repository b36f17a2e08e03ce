/* One deleted file open in two processes (each with its own open of it, and
 * the child with a MAP_SHARED mapping of it): after restore both hold the
 * same single inode.  The child echoes, through its own fd, the request
 * byte at offset 0 to offset 1; the parent writes a new request through
 * its fd and must see the echo through its own mapping.  Both show the
 * file as "<dir>/shared (deleted)". */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

struct st {
	int fd;
	volatile unsigned char *map;
	pid_t child;
	int child_fd;
	char name[4200];
	unsigned char token;
};

static int check(void *arg)
{
	struct st *s = arg;
	char p[64];
	struct stat a, b;
	int bad = 0;

	bad |= tp_expect_fd_link(getpid(), s->fd, s->name, "parent fd");
	bad |= tp_expect_fd_link((int)s->child, s->child_fd, s->name, "child fd");
	snprintf(p, sizeof(p), "/proc/%d/fd/%d", (int)s->child, s->child_fd);
	if (fstat(s->fd, &a) < 0 || stat(p, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
		t_fail("the parent's and the child's fds are not one inode");
		bad = -1;
	}
	/* a request through the parent's fd, echoed by the child through its
	 * own fd, seen in the parent's shared mapping */
	unsigned char tok = (unsigned char)(s->map[1] + 1);
	if (tok == 0)
		tok = 1;
	if (pwrite(s->fd, &tok, 1, 0) != 1) {
		t_fail("pwrite: %m");
		return -1;
	}
	for (int i = 0; i < 300 && s->map[1] != tok; i++)
		usleep(10000);
	if (s->map[1] != tok) {
		t_fail("the child did not echo request %u (offset 1 holds %u): not one file", tok, s->map[1]);
		bad = -1;
	}
	return bad;
}

static void child_loop(int fd)
{
	unsigned char req = 0, last = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		if (pread(fd, &req, 1, 0) == 1 && req != last) {
			if (pwrite(fd, &req, 1, 1) != 1)
				_exit(1);
			last = req;
		}
		usleep(5000);
	}
}

int main(int argc, char **argv)
{
	static struct st s;
	int pfd[2];

	t_init(argc, argv);
	s.fd = open("shared", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (s.fd < 0 || ftruncate(s.fd, 4096) < 0 || pipe(pfd) < 0)
		t_die("create: %m");
	s.child = fork();
	if (s.child < 0)
		t_die("fork: %m");
	if (s.child == 0) {
		int fd;
		close(s.fd);    /* its own open of the file, not the parent's */
		fd = open("shared", O_RDWR | O_CLOEXEC);
		if (fd < 0 || fd != 3)
			_exit(2);
		if (write(pfd[1], "x", 1) != 1)
			_exit(2);
		close(pfd[0]);
		close(pfd[1]);
		child_loop(fd);
	}
	char c;
	if (read(pfd[0], &c, 1) != 1)
		t_die("child did not start");
	close(pfd[0]);
	close(pfd[1]);
	s.child_fd = 3;
	s.map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, s.fd, 0);
	if (s.map == MAP_FAILED || unlink("shared") < 0)
		t_die("map/unlink: %m");
	snprintf(s.name, sizeof(s.name), "%s/shared (deleted)", t_dir());
	t_run(check, &s);
}
