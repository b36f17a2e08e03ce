/* Two processes sharing ONE fd table (clone(CLONE_FILES) without
 * CLONE_THREAD) still share it after restore: kcmp(KCMP_FILES) says so, and
 * every change one makes is seen by the other: the child opens a file and
 * the parent finds it at the number the child got; the child closes it and
 * it is gone for the parent; the child dup2()s and the parent sees the new
 * fd; the parent dup2()s and closes, and the child sees that.  The fd the
 * child opened before the dump is in the parent's table, the parent's
 * descriptions keep their position.  The fs info is not shared (no
 * CLONE_FS) and must stay separate.  The child only acts on commands
 * carried by signals (tcmd.h). */
// crest-test: mode=cr
#include "t.h"
#include "tcmd.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FD_A 7          /* a.txt, opened by the parent */
#define FD_A_DUP 40     /* its dup, by the parent */
#define A_POS 123

struct st {
	int root, child;
	int pre_fd;             /* opened by the child before the dump */
	ino_t a_ino, pre_ino;
	unsigned round;
};

static long kcmp(int p1, int p2, int type, int a, int b)
{
	return syscall(SYS_kcmp, p1, p2, type, a, b);
}

static int call(struct st *s, int op, int arg, const char *what)
{
	int res = -1;
	if (tc_call(s->child, op, arg, &res) < 0) {
		t_fail("the child (pid %d) does not answer (%s)", s->child, what);
		return -1000;
	}
	return res;
}

static int check(void *arg)
{
	struct st *s = arg;
	char buf[600], want[600];
	struct stat st;
	int me = getpid(), fd, r;

	s->round++;
	if (kcmp(me, s->child, KCMP_FILES, 0, 0) != 0) {
		t_fail("parent %d and child %d do not share one fd table (kcmp KCMP_FILES: %ld)", me,
		       s->child, kcmp(me, s->child, KCMP_FILES, 0, 0));
		return -1;
	}
	if (kcmp(me, s->child, KCMP_FS, 0, 0) == 0) {
		t_fail("parent and child share their fs info, which they did not");
		return -1;
	}
	if (lseek(FD_A, 0, SEEK_CUR) != A_POS || kcmp(me, me, KCMP_FILE, FD_A, FD_A_DUP) != 0) {
		t_fail("fd %d at %lld (want %d) or fd %d not its dup", FD_A,
		       (long long)lseek(FD_A, 0, SEEK_CUR), A_POS, FD_A_DUP);
		return -1;
	}
	if (fstat(s->pre_fd, &st) < 0 || st.st_ino != s->pre_ino) {
		t_fail("fd %d, opened by the child before the dump, is not child-0.txt in the parent (%s)",
		       s->pre_fd, tp_fd_readlink(me, s->pre_fd, buf, sizeof(buf)));
		return -1;
	}
	/* the child opens: the parent has it at that number */
	fd = call(s, TC_FD_OPEN, (int)s->round, "open");
	if (fd < 0) {
		t_fail("the child could not open a file: %s", strerror(-fd));
		return -1;
	}
	snprintf(want, sizeof(want), "%s/child-%u.txt", t_dir(), s->round);
	if (fcntl(fd, F_GETFD) < 0 || strcmp(tp_fd_readlink(me, fd, buf, sizeof(buf)), want)) {
		t_fail("the child opened %s at fd %d; the parent's fd %d is '%s'", want, fd, fd, buf);
		return -1;
	}
	/* the child closes it: gone for the parent */
	r = call(s, TC_FD_CLOSE, fd, "close");
	if (r != 0 || fcntl(fd, F_GETFD) != -1 || errno != EBADF) {
		t_fail("the child closed fd %d (result %d); the parent still has it", fd, r);
		return -1;
	}
	/* the child dup2()s: the parent sees it */
	r = call(s, TC_FD_DUP2, FD_A << 8 | 50, "dup2");
	if (r != 0 || kcmp(me, me, KCMP_FILE, FD_A, 50) != 0) {
		t_fail("the child did dup2(%d, 50) (result %d); the parent's fd 50 is '%s'", FD_A, r,
		       tp_fd_readlink(me, 50, buf, sizeof(buf)));
		return -1;
	}
	/* the parent dup2()s and closes: the child sees both */
	if (dup2(FD_A, 51) != 51) {
		t_fail("dup2: %m");
		return -1;
	}
	r = call(s, TC_FD_INO, 51, "fstat");
	if (r != (int)(s->a_ino & 0x3fffffff) || call(s, TC_FD_POS, 51, "lseek") != A_POS) {
		t_fail("the parent did dup2(%d, 51); the child's fd 51 is another file (%d)", FD_A, r);
		return -1;
	}
	close(50);
	close(51);
	r = call(s, TC_FD_INO, 50, "fstat");
	if (r != -EBADF) {
		t_fail("the parent closed fd 50; the child still has it (%d)", r);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct st s;
	struct stat st;
	int fd;

	t_init(argc, argv);
	tc_fd_prefix = "child";
	tc_root_init();
	s.root = getpid();
	fd = open("a.txt", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || dup2(fd, FD_A) != FD_A || dup2(FD_A, FD_A_DUP) != FD_A_DUP)
		t_die("a.txt: %m");
	close(fd);
	if (ftruncate(FD_A, 4096) < 0 || lseek(FD_A, A_POS, SEEK_SET) != A_POS || fstat(FD_A, &st) < 0)
		t_die("a.txt: %m");
	s.a_ino = st.st_ino;
	s.child = tc_clone(CLONE_FILES);
	if (s.child < 0)
		t_die("clone(CLONE_FILES): %m");
	if (s.child == 0)
		tc_serve(s.root, tc_fd_handle);
	if (tc_wait(s.child, NULL, 5000) < 0)
		t_die("the child does not say hello");
	/* before the dump, the child opens a file: it is in the parent's table */
	s.pre_fd = call(&s, TC_FD_OPEN, 0, "open");
	if (s.pre_fd < 0 || fstat(s.pre_fd, &st) < 0)
		t_die("the child's pre-dump open: %d", s.pre_fd);
	s.pre_ino = st.st_ino;
	t_run(check, &s);
}
