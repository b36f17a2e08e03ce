# A process holding an fd crest cannot restore (an eventfd at fd 7): the
# dump must fail with a message naming the pid, the fd and what it is, and
# leave the process running untouched (its check still passes).
# (Sourced by tests/run in the test's subshell; TDIR, IMG, helpers are set.)

cat > "$TDIR/evfd.c" <<'CEOF'
#include "t.h"
#include <sys/eventfd.h>
#include <unistd.h>

static int check(void *arg)
{
	uint64_t v = 0;
	if (write(7, &(uint64_t){ 1 }, 8) != 8 || read(7, &v, 8) != 8 || v != 6) {
		t_fail("eventfd at fd 7 does not count as before (read %llu)", (unsigned long long)v);
		return -1;
	}
	if (write(7, &(uint64_t){ 5 }, 8) != 8) {
		t_fail("eventfd: write failed");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int fd;

	t_init(argc, argv);
	fd = eventfd(5, EFD_CLOEXEC);
	if (fd < 0 || dup2(fd, 7) != 7)
		t_die("eventfd: %m");
	close(fd);
	t_run(check, 0);
}
CEOF
cc -O1 -g -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE -I"$REPO/tests/lib" -o "$TDIR/evfd" \
	"$TDIR/evfd.c" "$REPO"/tests/lib/*.c -lrt -lpthread 2> "$TDIR/cc.log" ||
	fail "cannot build the helper: $(head -c 300 "$TDIR/cc.log")"

t_start_prog "$TDIR/evfd"
t_wait_looping
t_dump
[ "$RC" = 0 ] && fail "dump of a process with an eventfd succeeded"
case "$RC" in 124|137) fail "dump timed out" ;; esac
last_run "$TDIR/dump.log" > "$TDIR/.dl"
grep -q "pid $PID" "$TDIR/.dl" || fail "the dump error does not name pid $PID"
grep -q "fd 7" "$TDIR/.dl" || fail "the dump error does not name fd 7"
grep -q "eventfd" "$TDIR/.dl" || fail "the dump error does not say eventfd"
grep -q "not supported" "$TDIR/.dl" || fail "the dump error does not say it is not supported"
t_expect_running "after the failed dump"
t_check
kill -9 "$PID"
