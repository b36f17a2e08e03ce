# epoll registrations whose fd number was closed or reused since:
#  - restored: a pipe registered as fd 20, dup'ed to fd 9, fd 20 closed; a
#    second pipe registered as fd 22, dup'ed to fd 10, fd 22 replaced by
#    /dev/null.  After restore (twice) both still report, with their data,
#    fd 20 is closed, fd 22 is /dev/null, and fdinfo shows the registrations
#    under fds 20 and 22 as before;
#  - refused: the registered file is held only by a child (the task has no
#    fd of it left): the dump fails, naming the pid, the epoll fd and fd 20,
#    and the process runs on untouched.  (Sourced by tests/run.)
cat > "$TDIR/stale.c" <<'CEOF'
#include "t.h"
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static int refused;

static int check(void *arg)
{
	struct epoll_event ev[4];
	char info[4096], link[64] = "";
	int n = epoll_wait(8, ev, 4, 0), seen = 0, r = 0;

	for (int i = 0; i < n; i++)
		seen |= ev[i].data.u64 == 0x5eed ? 1 : ev[i].data.u64 == 0xbeef ? 2 : 4;
	if (seen != (refused ? 1 : 3)) {
		t_fail("epoll fd 8 reports %d items (mask %d), expected the pipes", n, seen);
		r = -1;
	}
	if (refused)
		return r;
	if (fcntl(20, F_GETFD) != -1 || readlink("/proc/self/fd/22", link, sizeof(link) - 1) < 0 ||
	    strcmp(link, "/dev/null")) {
		t_fail("fd 20 open or fd 22 not /dev/null (%s)", link);
		r = -1;
	}
	if (t_read_file("/proc/self/fdinfo/8", info, sizeof(info)) < 0 || !strstr(info, "tfd:       20 ") ||
	    !strstr(info, "tfd:       22 ")) {
		t_fail("fdinfo of the epoll fd: %s", info);
		r = -1;
	}
	return r;
}

int main(int argc, char **argv)
{
	int p[2], q[2], ep;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x5eed };
	struct epoll_event ev2 = { .events = EPOLLIN, .data.u64 = 0xbeef };

	t_init(argc, argv);
	refused = argc > 1;
	if (pipe(p) || dup2(p[0], 20) != 20 || dup2(p[1], 21) != 21 || close(p[0]) || close(p[1]))
		t_die("setup: %m");
	ep = epoll_create1(0);
	if (ep < 0 || dup2(ep, 8) != 8 || close(ep))
		t_die("setup: %m");
	if (epoll_ctl(8, EPOLL_CTL_ADD, 20, &ev) || write(21, "x", 1) != 1)
		t_die("setup: %m");
	if (refused) {
		/* only a child keeps the registered pipe end */
		if (fork() == 0) {
			for (;;)
				pause();
		}
		close(20);
		t_run(check, 0);
	}
	if (dup2(20, 9) != 9 || close(20))
		t_die("setup: %m");
	if (pipe(q) || dup2(q[0], 22) != 22 || dup2(q[1], 23) != 23 || close(q[0]) || close(q[1]))
		t_die("setup: %m");
	if (epoll_ctl(8, EPOLL_CTL_ADD, 22, &ev2) || write(23, "y", 1) != 1 || dup2(22, 10) != 10)
		t_die("setup: %m");
	int dn = open("/dev/null", O_RDONLY);
	if (dn < 0 || dup2(dn, 22) != 22 || close(dn))
		t_die("setup: %m");
	t_run(check, 0);
}
CEOF
t_build_c stale

t_start_prog "$TDIR/stale" refused
t_wait_looping
t_expect_dump_refused "a process with an epoll registration of a file only its child holds"
grep -q "pid $PID: fd 8 (epoll) has a registration made as fd 20, but fd 20 is closed" "$TDIR/.dl" ||
	fail "the dump error does not name pid $PID, epoll fd 8 and fd 20: $(grep error "$TDIR/.dl" | head -c 300)"
t_expect_running "after the failed dump"
t_check
kill -9 -- -"$PID"
wait_gone "$PID" "$GONE_TIMEOUT" || fail "pid $PID still there"
rm -f "$TDIR"/check-* "$TDIR"/result-* "$TDIR/ready" "$TDIR/pid" "$TDIR/progress"
NCHECK=0

t_start_prog "$TDIR/stale"
t_wait_looping
t_cr_cycle "" ""
