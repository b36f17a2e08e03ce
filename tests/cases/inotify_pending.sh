# inotify events queued and not read yet cannot be kept (reading them would
# take them from the program): the dump must fail, naming the pid, the fd
# and the reason, and leave the process running untouched.  Once the program
# has read them (its check does), the dump and restores work, with the wd;
# with the watched directory gone, the restore fails and says so.
# (Sourced by tests/run.)
cat > "$TDIR/pend.c" <<'CEOF'
#include "t.h"
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

static int wd;

static int check(void *arg)
{
	char buf[4096] __attribute__((aligned(8)));
	struct pollfd p = { .fd = 6, .events = POLLIN };
	struct inotify_event *e = (void *)buf;
	int fd = open("dir/f", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	close(fd);
	unlink("dir/f");
	/* the first events: dir/pending (before the dump), then dir/f */
	if (poll(&p, 1, 1000) != 1 || read(6, buf, sizeof(buf)) <= 0 || e->wd != wd ||
	    !(e->mask & IN_CREATE)) {
		t_fail("no IN_CREATE event with wd %d", wd);
		return -1;
	}
	while (read(6, buf, sizeof(buf)) > 0)
		;
	return 0;
}

int main(int argc, char **argv)
{
	int in;

	t_init(argc, argv);
	in = inotify_init1(IN_NONBLOCK);
	if (mkdir("dir", 0700) || dup2(in, 6) != 6 || close(in))
		t_die("setup: %m");
	wd = inotify_add_watch(6, "dir", IN_CREATE);
	if (wd < 0 || close(open("dir/pending", O_CREAT | O_WRONLY | O_CLOEXEC, 0600)))
		t_die("setup: %m");
	t_run(check, 0);
}
CEOF
t_build_c pend

t_start_prog "$TDIR/pend"
t_wait_looping
# the pre-check read the first events; queue one more
: > "$TDIR/dir/another"
t_expect_dump_refused "a process with unread inotify events"
grep -q "pid $PID: fd 6 (inotify) has [0-9]* bytes of events the program has not read yet" "$TDIR/.dl" ||
	fail "the dump error does not name pid $PID, fd 6 and the unread events: $(grep error "$TDIR/.dl" | head -c 300)"
t_expect_running "after the failed dump"
t_check
t_cr_cycle "" ""
# the watched directory is gone: the restore fails before anything is made,
# says which watch, and leaves no process
rm -rf "$TDIR/dir"
t_restore
[ "$RC" = 0 ] && fail "restore with the watched directory gone succeeded"
last_out "$TDIR/restore.log" | grep -q "pid $PID: fd 6 (inotify): watch 1: the watched inode [0-9]* ($TDIR/dir at dump) is gone" ||
	fail "the restore error does not name the watch: $(last_out "$TDIR/restore.log" | grep error | head -c 300)"
wait_gone "$PID" "$GONE_TIMEOUT" || fail "pid $PID exists after the failed restore"
