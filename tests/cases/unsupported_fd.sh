# A process holding an fd crest cannot restore (a userfaultfd at fd 7): the
# dump must fail with a message naming the pid, the fd and what it is, and
# leave the process running untouched (its check still passes).
# (Sourced by tests/run in the test's subshell; TDIR, IMG, helpers are set.)

cat > "$TDIR/evfd.c" <<'CEOF'
#include "t.h"
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int check(void *arg)
{
	char link[64] = "";
	if (readlink("/proc/self/fd/7", link, sizeof(link) - 1) < 0 || strcmp(link, "anon_inode:[userfaultfd]")) {
		t_fail("fd 7 is '%s', not the userfaultfd", link);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int fd;

	t_init(argc, argv);
	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (fd < 0 || dup2(fd, 7) != 7)
		t_die("userfaultfd: %m");
	close(fd);
	t_run(check, 0);
}
CEOF
t_build_c evfd

t_start_prog "$TDIR/evfd"
t_wait_looping
t_expect_dump_refused "a process with a userfaultfd"
grep -q "pid $PID" "$TDIR/.dl" || fail "the dump error does not name pid $PID"
grep -q "fd 7" "$TDIR/.dl" || fail "the dump error does not name fd 7"
grep -q "userfaultfd" "$TDIR/.dl" || fail "the dump error does not say userfaultfd"
grep -q "not supported" "$TDIR/.dl" || fail "the dump error does not say it is not supported"
t_expect_running "after the failed dump"
t_check
kill -9 "$PID"
