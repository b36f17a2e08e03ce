/* A file description shared by a parent and its child (inherited across
 * fork) stays ONE description after restore: same position, and when the
 * child writes through it (through its own dup at another number) the
 * parent's offset moves.  The parent also has a dup of it (fd 50) and a
 * separate open of the same file that must stay separate.  Sharing is
 * checked exactly with kcmp(KCMP_FILE) across the two processes. */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHUNK 100
#define HIGH_FD 50
#define CHILD_DUP 40
#define OTHER_POS 7

struct st {
	int child;
	int fd;                 /* the shared description (both processes) */
	int pdup;               /* parent: its dup at 50 */
	int other;              /* parent: a separate open */
	off_t pos;              /* expected position of the shared description */
};

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static __attribute__((noreturn)) void child_main(int fd)
{
	static char buf[CHUNK];

	/* the child writes through a dup at its own number */
	if (dup2(fd, CHILD_DUP) != CHILD_DUP)
		_exit(1);
	memset(buf, 'c', sizeof(buf));
	for (;;) {
		if (go) {
			go = 0;
			if (write(CHILD_DUP, buf, sizeof(buf)) != sizeof(buf))
				_exit(2);
		}
		tp_sleep_ms(5);
	}
}

static long kcmp_file(int pid1, int pid2, int fd1, int fd2)
{
	return syscall(SYS_kcmp, pid1, pid2, KCMP_FILE, fd1, fd2);
}

static off_t child_pos(int child, int fd)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", child, fd);
	if (t_read_file(path, buf, sizeof(buf)) <= 0 || !(p = strstr(buf, "pos:")))
		return -1;
	return (off_t)strtoll(p + 4, NULL, 10);
}

static int check(void *arg)
{
	struct st *s = arg;
	int me = getpid(), bad = 0;
	off_t p;

	if (kcmp_file(me, s->child, s->fd, s->fd) != 0 ||
	    kcmp_file(me, s->child, s->fd, CHILD_DUP) != 0) {
		t_fail("parent fd %d and child fds %d/%d are not one file description (kcmp: %ld %ld)",
		       s->fd, s->fd, CHILD_DUP, kcmp_file(me, s->child, s->fd, s->fd),
		       kcmp_file(me, s->child, s->fd, CHILD_DUP));
		bad = -1;
	}
	if (kcmp_file(me, me, s->fd, s->pdup) != 0) {
		t_fail("parent fd %d and its dup %d are not one file description", s->fd, s->pdup);
		bad = -1;
	}
	if (kcmp_file(me, s->child, s->other, s->fd) == 0 || kcmp_file(me, me, s->other, s->fd) == 0) {
		t_fail("the separate open (fd %d) became the shared description", s->other);
		bad = -1;
	}
	if ((p = lseek(s->fd, 0, SEEK_CUR)) != s->pos || (p = child_pos(s->child, CHILD_DUP)) != s->pos) {
		t_fail("position %lld (parent) / %lld (child), expected %lld",
		       (long long)lseek(s->fd, 0, SEEK_CUR), (long long)child_pos(s->child, CHILD_DUP),
		       (long long)s->pos);
		return -1;
	}
	if ((p = lseek(s->other, 0, SEEK_CUR)) != OTHER_POS) {
		t_fail("separate open at %lld, expected %d", (long long)p, OTHER_POS);
		bad = -1;
	}
	/* the child writes: the parent's offset (and its dup's) must move */
	kill(s->child, SIGUSR1);
	for (int i = 0; i < 400 && lseek(s->fd, 0, SEEK_CUR) != s->pos + CHUNK; i++)
		tp_sleep_ms(5);
	p = lseek(s->pdup, 0, SEEK_CUR);
	if (p != s->pos + CHUNK) {
		t_fail("after the child wrote %d bytes the parent's offset is %lld, expected %lld", CHUNK,
		       (long long)p, (long long)(s->pos + CHUNK));
		return -1;
	}
	s->pos = p;
	/* and the other way round: the parent seeks, the child sees it */
	s->pos += 3;
	lseek(s->fd, s->pos, SEEK_SET);
	if ((p = child_pos(s->child, CHILD_DUP)) != s->pos) {
		t_fail("the parent moved to %lld, the child is at %lld", (long long)s->pos, (long long)p);
		bad = -1;
	}
	if (lseek(s->other, 0, SEEK_CUR) != OTHER_POS) {
		t_fail("the separate open moved with the shared description");
		bad = -1;
	}
	return bad;
}

int main(int argc, char **argv)
{
	static struct st s;
	struct sigaction sa = { .sa_handler = on_usr1 };
	int pid;

	t_init(argc, argv);
	sigaction(SIGUSR1, &sa, NULL);
	s.fd = open("shared.txt", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (s.fd < 0)
		t_die("shared.txt: %m");
	s.pos = 1000;
	lseek(s.fd, s.pos, SEEK_SET);
	pid = tp_fork();
	if (pid < 0)
		t_die("fork: %m");
	if (pid == 0)
		child_main(s.fd);
	s.child = pid;
	s.pdup = fcntl(s.fd, F_DUPFD_CLOEXEC, HIGH_FD);
	s.other = open("shared.txt", O_RDONLY | O_CLOEXEC);
	if (s.pdup != HIGH_FD || s.other < 0)
		t_die("dup/open: %m");
	lseek(s.other, OTHER_POS, SEEK_SET);
	/* wait for the child's dup */
	for (int i = 0; i < 400 && kcmp_file(getpid(), pid, s.fd, CHILD_DUP) != 0; i++)
		tp_sleep_ms(5);
	t_run(check, &s);
}
