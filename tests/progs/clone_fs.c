/* Two processes sharing ONE fs info (clone(CLONE_FS) without CLONE_THREAD:
 * cwd, root, umask) still share it after restore: kcmp(KCMP_FS) says so;
 * the child's chdir() and umask() are the parent's, and the parent's
 * chdir() is the child's.  Both were in a subdirectory with umask 027 at
 * dump time.  Their fd tables are not shared (no CLONE_FILES) and must stay
 * separate.  The child only acts on commands carried by signals (tcmd.h). */
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

enum { OP_CHDIR = 1, OP_UMASK, OP_CWD_INO, OP_GET_UMASK };

static const char *const dirs[] = { "work", "d1", "d2" };

struct st {
	int root, child;
	ino_t ino[3];
};

static int handle(int op, int arg)
{
	char path[600];
	struct stat st;
	mode_t m;

	switch (op) {
	case OP_CHDIR:
		snprintf(path, sizeof(path), "%s/%s", t_dir(), dirs[arg % 3]);
		return chdir(path) < 0 ? -errno : 0;
	case OP_UMASK:
		umask((mode_t)arg);
		return 0;
	case OP_CWD_INO:
		return stat(".", &st) < 0 ? -errno : (int)(st.st_ino & 0x3fffffff);
	case OP_GET_UMASK:
		m = umask(0);
		umask(m);
		return (int)m;
	}
	return -EINVAL;
}

static long kcmp(int p1, int p2, int type)
{
	return syscall(SYS_kcmp, p1, p2, type, 0, 0);
}

static int call(struct st *s, int op, int arg)
{
	int res = -1;
	if (tc_call(s->child, op, arg, &res) < 0) {
		t_fail("the child (pid %d) does not answer (op %d)", s->child, op);
		return -1000;
	}
	return res;
}

static int cwd_is(struct st *s, int d, const char *after)
{
	struct stat st;
	char buf[600];
	if (stat(".", &st) < 0 || st.st_ino != s->ino[d]) {
		t_fail("%s, the parent's cwd is %s, not %s/%s", after, getcwd(buf, sizeof(buf)) ? buf : "?",
		       t_dir(), dirs[d]);
		return -1;
	}
	return 0;
}

static mode_t get_umask(void)
{
	mode_t m = umask(0);
	umask(m);
	return m;
}

static int check(void *arg)
{
	struct st *s = arg;
	int me = getpid(), r;

	if (kcmp(me, s->child, KCMP_FS) != 0) {
		t_fail("parent %d and child %d do not share their fs info (kcmp KCMP_FS: %ld)", me,
		       s->child, kcmp(me, s->child, KCMP_FS));
		return -1;
	}
	if (kcmp(me, s->child, KCMP_FILES) == 0) {
		t_fail("parent and child share their fd table, which they did not");
		return -1;
	}
	if (cwd_is(s, 0, "at the check") < 0)
		return -1;
	if (get_umask() != 027 || call(s, OP_GET_UMASK, 0) != 027) {
		t_fail("umask %03o (parent), %03o (child), want 027", get_umask(), call(s, OP_GET_UMASK, 0));
		return -1;
	}
	/* the child moves: so does the parent */
	if ((r = call(s, OP_CHDIR, 2)) != 0) {
		t_fail("the child's chdir failed: %d", r);
		return -1;
	}
	if (cwd_is(s, 2, "after the child's chdir") < 0)
		return -1;
	/* the parent moves: so does the child */
	if (chdir(t_dir()) < 0 || chdir("d1") < 0) {
		t_fail("chdir: %m");
		return -1;
	}
	if ((r = call(s, OP_CWD_INO, 0)) != (int)(s->ino[1] & 0x3fffffff)) {
		t_fail("the parent moved to d1; the child's cwd is another directory (%d)", r);
		return -1;
	}
	/* the child's umask is the parent's */
	call(s, OP_UMASK, 077);
	if (get_umask() != 077) {
		t_fail("the child set umask 077; the parent's is %03o", get_umask());
		return -1;
	}
	call(s, OP_UMASK, 027);
	call(s, OP_CHDIR, 0);
	return cwd_is(s, 0, "after the child's chdir back") < 0 || get_umask() != 027 ? -1 : 0;
}

int main(int argc, char **argv)
{
	static struct st s;
	struct stat st;

	t_init(argc, argv);
	tc_root_init();
	s.root = getpid();
	for (int i = 0; i < 3; i++) {
		if ((mkdir(dirs[i], 0755) < 0 && errno != EEXIST) || stat(dirs[i], &st) < 0)
			t_die("mkdir %s: %m", dirs[i]);
		s.ino[i] = st.st_ino;
	}
	s.child = tc_clone(CLONE_FS);
	if (s.child < 0)
		t_die("clone(CLONE_FS): %m");
	if (s.child == 0)
		tc_serve(s.root, handle);
	if (tc_wait(s.child, NULL, 5000) < 0)
		t_die("the child does not say hello");
	/* the child takes both into work/ with umask 027 */
	if (call(&s, OP_CHDIR, 0) != 0 || call(&s, OP_UMASK, 027) != 0)
		t_die("the child's chdir/umask failed");
	t_run(check, &s);
}
