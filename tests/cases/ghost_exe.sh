# A program whose executable was deleted while it runs (a rebuilt binary):
# the executable is kept as a ghost file (once, with the mappings of it) and
# after each restore /proc/PID/exe reads "<dir>/prog (deleted)" again, with
# nothing left at that path.  (Sourced by tests/run.)
t_need_bin loop
cp "$BIN/loop" "$TDIR/prog" || fail "cannot copy the test program"
t_start_prog "$TDIR/prog"
t_wait_looping
rm -f "$TDIR/prog"
want="$TDIR/prog (deleted)"
t_dump_and_gone
for round in 1 2; do
	t_expect_restore_ok
	t_expect_restored "$DUMP_PROGRESS"
	got=$(readlink /proc/$PID/exe)
	[ "$got" = "$want" ] || fail "restore $round: /proc/$PID/exe is '$got', expected '$want'"
	[ -e "$TDIR/prog" ] && fail "restore $round: $TDIR/prog exists again"
	t_kill
done
true
