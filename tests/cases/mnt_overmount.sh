# An overmounted file (the seed's `mount /dev/foo /bar; open /bar/baz;
# mount /dev/qux /bar`): in a container (tests/lib/tct.sh) a host directory
# is bound on /bar, the init opens /bar/baz read-write on fd 5 and seeks to
# 3, then a tmpfs is mounted on /bar over it.  /bar/baz now leads nowhere;
# the fd is dumped with its own mount and reopened in it.  After restore
# (twice): fd 5 reads the covered file from offset 3 and /proc shows it as
# /bar/baz, the tmpfs still covers /bar, mountinfo is equivalent.
# (Sourced by tests/run.)
. "$REPO/tests/lib/tct.sh"
mkdir -p "$TDIR/lower"
echo "abcdefgh" > "$TDIR/lower/baz"
ct_start 'mkdir -p bar && mount --bind '"$TDIR"'/lower bar' \
	'exec 5<>/bar/baz && dd bs=1 count=3 of=/t/x <&5 2>/t/x2 && mount -t tmpfs upper /bar || exit 1'
[ "$(awk '/^pos:/ {print $2}' /proc/$PID/fdinfo/5)" = 3 ] || fail "fd 5 is not at offset 3: $(cat /proc/$PID/fdinfo/5)"
[ -e /proc/$PID/root/bar/baz ] && fail "/bar/baz is not covered"
mi_before=$(ct_mounts)
at_dump=$(t_count "$CNT")
t_expect_dump_ok
t_expect_gone "after the dump"
ct_check() {
	local mi
	[ "$(readlink /proc/$PID/fd/5)" = /bar/baz ] || fail "round $ROUND: fd 5 is $(readlink /proc/$PID/fd/5)"
	[ "$(awk '/^pos:/ {print $2}' /proc/$PID/fdinfo/5)" = 3 ] || fail "round $ROUND: fd 5 not at offset 3"
	[ "$(cat /proc/$PID/fd/5)" = abcdefgh ] || fail "round $ROUND: fd 5 is not the covered file"
	[ -e /proc/$PID/root/bar/baz ] && fail "round $ROUND: /bar/baz is not covered any more"
	mi=$(ct_mounts)
	[ "$mi" = "$mi_before" ] || fail "round $ROUND: mountinfo differs: $(diff <(echo "$mi_before") <(echo "$mi") | grep '^[<>]' | tr '\n' ';')"
}
ct_restore_rounds "$at_dump"
true
