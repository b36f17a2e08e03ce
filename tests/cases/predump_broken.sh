# Broken pre-dump chains are refused with a message, and the process runs
# on: a pre-dump from a parent whose tracking a later round took over, a
# dump whose parent is missing, a restore of a pre-dump; at restore, a
# parent replaced by another image (other dump id) or missing; crest show
# says the chain is broken.  The intact chain then restores.
# (Sourced by tests/run.)
t_start_loop
C=$TDIR/chain
t_pre_dump "$C/1"
[ "$RC" = 0 ] || fail "pre-dump 1 failed: $(rc_msg "$RC")"
t_pre_dump "$C/2" --prev-images-dir ../1
[ "$RC" = 0 ] || fail "pre-dump 2 failed: $(rc_msg "$RC")"
t_pre_dump "$C/x" --prev-images-dir ../1
[ "$RC" = 1 ] || fail "a pre-dump from a parent whose tracking was taken over: $(rc_msg "$RC"), want exit code 1"
last_out "$TDIR/dump.log" | grep -q "memory tracking of ../1 is gone" ||
	fail "no 'tracking is gone' message: $(grep error "$TDIR/.last" | head -c 300)"
t_expect_running "after the refused pre-dump"
IMG=$C/3
t_expect_dump_refused "with a missing parent" --prev-images-dir ../nope --track-mem
grep -q "parent image ../nope .*cannot be opened" "$TDIR/.dl" || fail "no message naming the missing parent"
t_expect_running "after the refused dump"
t_check
IMG=$C/1
t_restore
[ "$RC" = 1 ] || fail "restore of a pre-dump: $(rc_msg "$RC"), want exit code 1"
last_out "$TDIR/restore.log" | grep -q "holds a pre-dump" || fail "no 'holds a pre-dump' message"
t_expect_running "after the refused restore"
IMG=$C/3
t_dump_and_gone --prev-images-dir ../2 --track-mem
mv "$C/2" "$C/2.real"
cp -a "$C/1" "$C/2"
t_restore
[ "$RC" = 1 ] || fail "restore with a replaced parent: $(rc_msg "$RC"), want exit code 1"
last_out "$TDIR/restore.log" | grep -q "is not the image it was made from" || fail "no 'not the image it was made from' message"
alive "$PID" && fail "pid $PID runs after a refused restore"
rm -rf "$C/2"
t_restore
[ "$RC" = 1 ] || fail "restore with a missing parent: $(rc_msg "$RC"), want exit code 1"
last_out "$TDIR/restore.log" | grep -q "parent image .* is missing" || fail "no 'parent image is missing' message"
"$CREST" show "$IMG" > show.txt 2>&1 && fail "crest show of a broken chain exits 0"
grep -q "^chain: BROKEN" show.txt || fail "crest show does not say the chain is broken"
mv "$C/2.real" "$C/2"
t_restore_rounds 2
