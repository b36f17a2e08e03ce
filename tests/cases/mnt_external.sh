# A container (tests/lib/tct.sh) whose root is a bind of a host directory
# and with a host directory bound on /data, dumped with
# --external mnt[/data]:DATA.  Restored (twice) with --root naming a copy
# of the root directory and --external mnt[DATA]:<another directory>: the
# container runs on with its root and /data from those, each one a bind of
# the right host directory.  Without --external at restore, the restore is
# refused naming the key.  Nothing is left mounted.  (Sourced by tests/run.)
. "$REPO/tests/lib/tct.sh"
mkdir -p "$TDIR/rootdir" "$TDIR/data" "$TDIR/data2"
echo original > "$TDIR/rootdir/marker"
echo first > "$TDIR/data/which"
echo second > "$TDIR/data2/which"
CT_ROOT=$TDIR/rootdir
ct_start 'mkdir -p data && mount --bind '"$TDIR"'/data data'
[ "$(cat /proc/$PID/root/data/which)" = first ] || fail "no /data in the container"
at_dump=$(t_count "$CNT")
t_expect_dump_ok --external 'mnt[/data]:DATA'
t_expect_gone "after the dump"
grep -q 'ext_key: "DATA"' <("$CREST" show "$IMG") || fail "crest show has no external key DATA"
t_restore
[ "$RC" != 0 ] || fail "the restore without --external mnt[DATA]:... succeeded"
grep -q -- "--external mnt\[DATA\]:HOSTPATH" <(last_out "$TDIR/restore.log") ||
	fail "the refused restore does not name the key: $(cat "$TDIR/.last")"
rm -rf "$TDIR/rootdir2"
cp -a "$TDIR/rootdir" "$TDIR/rootdir2"
echo copy > "$TDIR/rootdir2/marker"
ct_check() {
	[ "$(cat /proc/$PID/root/marker)" = copy ] || fail "round $ROUND: the root is not --root's directory"
	[ "$(cat /proc/$PID/root/data/which)" = second ] || fail "round $ROUND: /data is not --external's directory"
	grep -q " $TDIR/rootdir2 / " /proc/$PID/mountinfo ||
		grep -q "^[0-9]* [0-9]* [0-9:]* [^ ]*/rootdir2 / " /proc/$PID/mountinfo ||
		fail "round $ROUND: the root mount is not a bind of rootdir2: $(head -3 /proc/$PID/mountinfo)"
}
ct_restore_rounds "$at_dump" --root "$TDIR/rootdir2" --external "mnt[DATA]:$TDIR/data2"
true
