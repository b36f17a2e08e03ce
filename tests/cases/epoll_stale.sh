# An epoll registration crest cannot recreate: the program registered a pipe
# as fd 20, dup'ed it to fd 9 and closed fd 20 (the pipe stays registered,
# under a number that is now closed).  The dump must fail, naming the pid, the
# epoll fd and fd 20, and leave the process running untouched (check passes).
# (Sourced by tests/run.)
cat > "$TDIR/stale.c" <<'CEOF'
#include "t.h"
#include <sys/epoll.h>
#include <unistd.h>

static int check(void *arg)
{
	struct epoll_event ev;
	/* the pipe (fd 9) has a byte: the registration still reports it */
	if (epoll_wait(8, &ev, 1, 0) != 1 || ev.data.u64 != 0x5eed) {
		t_fail("epoll fd 8 does not report the pipe");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int p[2], ep;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x5eed };

	t_init(argc, argv);
	/* pipe read end at 20, write end at 21, epoll at 8 */
	if (pipe(p) || dup2(p[0], 20) != 20 || dup2(p[1], 21) != 21 || close(p[0]) || close(p[1]))
		t_die("setup: %m");
	ep = epoll_create1(0);
	if (ep < 0 || dup2(ep, 8) != 8 || close(ep))
		t_die("setup: %m");
	/* registered as fd 20, then moved to fd 9 */
	if (epoll_ctl(8, EPOLL_CTL_ADD, 20, &ev) || dup2(20, 9) != 9 || close(20) ||
	    write(21, "x", 1) != 1)
		t_die("setup: %m");
	t_run(check, 0);
}
CEOF
t_build_c stale

t_start_prog "$TDIR/stale"
t_wait_looping
t_expect_dump_refused "a process with a stale epoll registration"
grep -q "pid $PID: fd 8 (epoll) has a registration made as fd 20, but fd 20 is closed" "$TDIR/.dl" ||
	fail "the dump error does not name pid $PID, epoll fd 8 and fd 20: $(grep error "$TDIR/.dl" | head -c 300)"
t_expect_running "after the failed dump"
t_check
kill -9 "$PID"
