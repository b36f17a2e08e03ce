# A container (tests/lib/tct.sh) whose init keeps a file of the host open
# (fd 7 on /etc/hostname, opened before pivot_root): in the container's
# mount namespace no path leads to it, so the dump is refused, naming the
# pid, the fd, the path, the mount it is on in crest's namespace and the
# remedy; the container runs on untouched.  (Sourced by tests/run.)
. "$REPO/tests/lib/tct.sh"
cp /etc/hostname "$TDIR/hostfile"
ct_start "exec 7<$TDIR/hostfile"
t_expect_dump_refused "a container holding a host file"
grep -q "pid $PID: fd 7 ($TDIR/hostfile) is on mount [0-9]*.* which is in none of the tree's mount namespaces" "$TDIR/.dl" ||
	fail "the refusal does not name the fd, its path and mount: $(cat "$TDIR/.dl")"
grep -q -- "--external mnt\[MOUNTPOINT\]:KEY" "$TDIR/.dl" || fail "the refusal names no remedy: $(cat "$TDIR/.dl")"
at=$(t_count "$CNT")
t_expect_counting_on "$CNT" "$at" "after the refused dump"
true
