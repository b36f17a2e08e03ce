# A mount namespace made inside a container (tests/lib/tct.sh): the init
# starts a child with `unshare -m` that mounts a tmpfs on /t/n (only in its
# namespace) and keeps a file open there.  After restore (twice): the child
# is in a mount namespace of its own again, other than the init's, with the
# tmpfs on /t/n and its file, which the init's namespace does not have.
# (Sourced by tests/run.)
. "$REPO/tests/lib/tct.sh"
ct_start '' 'mkdir -p /dev /t/n && mknod /dev/null c 1 3 && echo outer > /t/n/f || exit 1
unshare -m --propagation private sh -c "exec </dev/null >/dev/null 2>&1; mount -t tmpfs nest /t/n && echo inner > /t/n/f && exec 6</t/n/f && : > /t/n/ready && exec sleep 1000" </dev/null >/dev/null 2>&1 &
for i in 1 2 3 4 5 6 7 8 9 10; do [ -n "$(ls /proc/*/root/t/n/ready 2>/t/err)" ] && break; sleep 0.2; done'
kid=
for p in $(cat /proc/$PID/task/$PID/children); do
	grep -qa "^sleep.1000" /proc/$p/cmdline 2>/dev/null && kid=$p
done
[ -n "$kid" ] || fail "no child in a nested namespace"
[ "$(readlink /proc/$kid/ns/mnt)" != "$(readlink /proc/$PID/ns/mnt)" ] || fail "the child shares the init's mount namespace"
at_dump=$(t_count "$CNT")
t_expect_dump_ok
t_expect_gone "after the dump"
ct_check() {
	alive "$kid" || fail "round $ROUND: the child $kid is not back"
	[ "$(readlink /proc/$kid/ns/mnt)" != "$(readlink /proc/$PID/ns/mnt)" ] || fail "round $ROUND: the child shares the init's mount namespace"
	[ "$(cat /proc/$kid/root/t/n/f)" = inner ] || fail "round $ROUND: the child's /t/n is not its tmpfs"
	[ "$(cat /proc/$PID/root/t/n/f)" = outer ] || fail "round $ROUND: the init's /t/n changed"
	[ "$(cat /proc/$kid/fd/6)" = inner ] || fail "round $ROUND: the child's fd 6 is not its file"
}
ct_restore_rounds "$at_dump"
true
