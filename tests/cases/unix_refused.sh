# Sockets crest refuses, each with a message naming the pid, the fd, the
# socket and the reason, the process left running untouched (its check
# passes after the failed dump):
#   inet    an AF_INET raw socket: "not supported yet", naming the family;
#   rights  a unix socket with a file descriptor queued in it (SCM_RIGHTS);
#   peer    a socketpair end whose other end is held by the parent, outside
#           the dumped tree (only the child is dumped);
#   pending a listener with a connection not accepted yet whose client is
#           held by the parent, outside the dumped tree.
# (Sourced by tests/run.)
cat > "$TDIR/refuse.c" <<'CEOF'
#include "t.h"
#include "tproc.h"
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

static int check(void *arg)
{
	char link[64] = "";
	(void)arg;
	if (readlink("/proc/self/fd/7", link, sizeof(link) - 1) < 0 || strncmp(link, "socket:[", 8)) {
		t_fail("fd 7 is '%s', not the socket", link);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int sp[2], fd = -1, pid;

	t_init(argc, argv);
	if (!strcmp(mode, "inet")) {
		fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);   /* TCP and UDP are restored */
	} else if (!strcmp(mode, "rights")) {
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		char c[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { "x", 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c, .msg_controllen = sizeof(c) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0 || nul < 0)
			t_die("socketpair: %m");
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &nul, sizeof(int));
		if (sendmsg(sp[0], &mh, 0) != 1)
			t_die("sendmsg: %m");
		close(nul);
		fd = sp[1];
	} else if (!strcmp(mode, "peer") || !strcmp(mode, "pending")) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		snprintf(a.sun_path, sizeof(a.sun_path), "%s/refuse.sock", t_dir());
		unlink(a.sun_path);
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
			t_die("socketpair: %m");
		pid = fork();
		if (pid < 0)
			t_die("fork: %m");
		if (pid > 0) {
			/* the parent, outside the dumped tree: holds the other end, or
			 * connects to the child's listener and never gets accepted */
			close(sp[1]);
			if (!strcmp(mode, "pending")) {
				close(sp[0]);
				for (int i = 0; i < 2000 && access("listening", F_OK); i++)
					tp_sleep_ms(5);
				fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
				if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
					t_die("connect: %m");
				t_write_file("connected", "1\n", 2);
			}
			for (;;)
				pause();
		}
		close(sp[0]);
		fd = sp[1];
		if (!strcmp(mode, "pending")) {
			close(sp[1]);
			fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4) < 0)
				t_die("listen: %m");
			t_write_file("listening", "1\n", 2);
			for (int i = 0; i < 2000 && access("connected", F_OK); i++)
				tp_sleep_ms(5);
		}
		t_write_file("child", "1\n", 2);
	}
	if (fd < 0 || dup3(fd, 7, O_CLOEXEC) != 7)
		t_die("%s: %m", mode);
	close(fd);
	t_run(check, 0);
}
CEOF
t_build_c refuse

# mode, then the words the dump error must contain
refused() {
	local mode=$1 parent= w
	shift
	rm -f "$TDIR/child" "$TDIR/listening" "$TDIR/connected"
	t_start_prog "$TDIR/refuse" "$mode"
	NCHECK=0
	t_wait_looping
	if [ -e "$TDIR/child" ]; then
		parent=$PID
		PID=$(tr -d " " < /proc/$parent/task/$parent/children)
		[ -n "$PID" ] || fail "$mode: no child"
	fi
	t_dump
	[ "$RC" = 0 ] && fail "$mode: the dump succeeded"
	case "$RC" in 124|137) fail "$mode: the dump timed out" ;; esac
	last_run "$TDIR/dump.log" | grep 'error' > "$TDIR/.err"
	for w in "pid $PID" "fd 7" "$@"; do
		w=${w//PARENT/$parent}
		grep -qF -- "$w" "$TDIR/.err" || fail "$mode: the dump error does not say '$w': $(head -c 400 "$TDIR/.err")"
	done
	note "$mode: $(head -c 300 "$TDIR/.err")"
	t_expect_running "after the failed dump ($mode)"
	t_check
	kill -9 "$PID" ${parent:+"$parent"} 2>/dev/null
	wait_gone "$PID" "$GONE_TIMEOUT"
}

refused inet "AF_INET socket" "not supported yet"
refused rights "SCM_RIGHTS" "socket:["
refused peer "socket:[" "held by pid PARENT" "outside the dumped tree"
refused pending "refuse.sock" "not accepted yet" "held by pid PARENT" "outside the dumped tree"
