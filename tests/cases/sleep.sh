# A real program: `sleep 1000` keeps sleeping after restore (alive, state S,
# same pid and command line, 1 s later), twice from the same images.
# (Sourced by tests/run.)
t_start_prog sleep 1000
sleep 0.3
alive "$PID" || fail "sleep did not start"
cmd=$(tr '\0' ' ' < /proc/$PID/cmdline)
[ "$cmd" = "sleep 1000 " ] || fail "unexpected cmdline '$cmd'"
t_expect_dump_ok
t_expect_gone "after the dump"
for round in 1 2; do
	t_expect_restore_ok
	sleep 1
	alive "$PID" || fail "round $round: pid $PID gone 1 s after restore (state '$(pid_state "$PID")')"
	st=$(pid_state "$PID")
	[ "$st" = S ] || fail "round $round: state '$st', want S"
	now=$(tr '\0' ' ' < /proc/$PID/cmdline)
	[ "$now" = "$cmd" ] || fail "round $round: cmdline '$now', want '$cmd'"
	tr=$(tracer_of "$PID")
	[ "$tr" = 0 ] || fail "round $round: still traced by $tr"
	t_kill
done
