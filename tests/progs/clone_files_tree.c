/* One fd table shared by three processes that are not parent and child of
 * each other only: the root clones A and B with CLONE_FILES and then leaves
 * the table (unshare(CLONE_FILES)); A clones D with CLONE_FILES.  So A and B
 * are siblings sharing a table their parent no longer uses, and D shares it
 * with its parent and its uncle.  After restore kcmp(KCMP_FILES) still
 * groups A, B and D, and not the root, parents are unchanged, and changes
 * travel: B opens a file, A and D see it and the root does not; A closes
 * it, B and D see that; D dup2()s and B sees it.  The helpers only act on
 * commands carried by signals (tcmd.h). */
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

#define FD_A 7          /* a.txt, opened by the root before cloning */

struct st {
	int root, a, b, d;
	unsigned round;
};

static int root_pid;

static long kcmp(int p1, int p2, int type)
{
	return syscall(SYS_kcmp, p1, p2, type, 0, 0);
}

static int call(int pid, int op, int arg)
{
	int res = -1;
	if (tc_call(pid, op, arg, &res) < 0) {
		t_fail("helper pid %d does not answer (op %d)", pid, op);
		return -1000;
	}
	return res;
}

static int ino_of(const char *name)
{
	struct stat st;
	return stat(name, &st) < 0 ? -errno : (int)(st.st_ino & 0x3fffffff);
}

static int check(void *arg)
{
	struct st *s = arg;
	struct tp_stat ta, tb, td;
	char name[64], buf[600];
	int fd, r, ino;

	s->round++;
	if (kcmp(s->a, s->b, KCMP_FILES) != 0 || kcmp(s->a, s->d, KCMP_FILES) != 0) {
		t_fail("A %d, B %d and D %d do not share one fd table (kcmp: %ld %ld)", s->a, s->b, s->d,
		       kcmp(s->a, s->b, KCMP_FILES), kcmp(s->a, s->d, KCMP_FILES));
		return -1;
	}
	if (kcmp(s->root, s->a, KCMP_FILES) == 0) {
		t_fail("the root shares the helpers' fd table; it had left it");
		return -1;
	}
	if (tp_read_stat(s->a, &ta) < 0 || tp_read_stat(s->b, &tb) < 0 || tp_read_stat(s->d, &td) < 0 ||
	    ta.ppid != s->root || tb.ppid != s->root || td.ppid != s->a) {
		t_fail("parents: A %d (want %d), B %d (want %d), D %d (want %d)", ta.ppid, s->root,
		       tb.ppid, s->root, td.ppid, s->a);
		return -1;
	}
	/* B opens: A and D see it, the root does not */
	fd = call(s->b, TC_FD_OPEN, (int)s->round);
	snprintf(name, sizeof(name), "b-%u.txt", s->round);
	ino = ino_of(name);
	if (fd < 0 || ino < 0) {
		t_fail("B could not open %s: %d", name, fd);
		return -1;
	}
	if ((r = call(s->a, TC_FD_INO, fd)) != ino || (r = call(s->d, TC_FD_INO, fd)) != ino) {
		t_fail("B opened %s at fd %d; A or D has another file there (%d)", name, fd, r);
		return -1;
	}
	snprintf(buf, sizeof(buf), "/proc/self/fd/%d", fd);
	{
		struct stat st;
		if (stat(buf, &st) == 0 && (int)(st.st_ino & 0x3fffffff) == ino) {
			t_fail("the root has B's new file at fd %d: its table is shared again", fd);
			return -1;
		}
	}
	/* A closes it: B and D see that */
	if ((r = call(s->a, TC_FD_CLOSE, fd)) != 0 || call(s->b, TC_FD_INO, fd) != -EBADF ||
	    call(s->d, TC_FD_INO, fd) != -EBADF) {
		t_fail("A closed fd %d (%d); B or D still has it", fd, r);
		return -1;
	}
	/* D dup2()s: B sees it; B closes it: A sees that */
	ino = ino_of("a.txt");
	if ((r = call(s->d, TC_FD_DUP2, FD_A << 8 | 60)) != 0 || (r = call(s->b, TC_FD_INO, 60)) != ino) {
		t_fail("D did dup2(%d, 60); B's fd 60 is not a.txt (%d)", FD_A, r);
		return -1;
	}
	if (call(s->b, TC_FD_CLOSE, 60) != 0 || (r = call(s->a, TC_FD_INO, 60)) != -EBADF) {
		t_fail("B closed fd 60; A still has it (%d)", r);
		return -1;
	}
	if (fcntl(FD_A, F_GETFD) < 0 || ino_of("/proc/self/fd/7") != ino) {
		t_fail("the root lost its fd %d", FD_A);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct st s;
	int fd, v;

	t_init(argc, argv);
	tc_fd_prefix = "b";
	tc_root_init();
	s.root = root_pid = getpid();
	fd = open("a.txt", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || dup2(fd, FD_A) != FD_A)
		t_die("a.txt: %m");
	close(fd);
	s.a = tc_clone(CLONE_FILES);
	if (s.a < 0)
		t_die("clone(CLONE_FILES): %m");
	if (s.a == 0) {
		/* A: D shares the table with it */
		int d = tc_clone(CLONE_FILES);
		if (d == 0)
			tc_serve(root_pid, tc_fd_handle);
		if (d < 0)
			_exit(1);
		tc_serve(root_pid, tc_fd_handle);
	}
	s.b = tc_clone(CLONE_FILES);
	if (s.b < 0)
		t_die("clone(CLONE_FILES): %m");
	if (s.b == 0)
		tc_serve(root_pid, tc_fd_handle);
	if (unshare(CLONE_FILES) < 0)
		t_die("unshare(CLONE_FILES): %m");
	for (int i = 0; i < 3; i++)
		if (tc_wait(0, &v, 5000) < 0 || v != TC_HELLO)
			t_die("the helpers do not say hello");
	{
		char kids[64];
		snprintf(kids, sizeof(kids), "/proc/%d/task/%d/children", s.a, s.a);
		if (t_read_file(kids, kids, sizeof(kids)) <= 0 || (s.d = atoi(kids)) <= 0)
			t_die("A has no child D");
	}
	t_run(check, &s);
}
