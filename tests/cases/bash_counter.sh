# A bash loop keeps counting from where it was after restore (the counter
# file never goes back below the dump-time value, never restarts from 1, and
# moves on), twice from the same images.  The tree is bash and its
# short-lived `sleep 0.1` children.  (Sourced by tests/run.)
t_start_prog bash -c 'i=0; while :; do i=$((i+1)); echo $i > F; sleep 0.1; done'
t_wait_counting "$TDIR/F" bash
t_expect_dump_ok
t_expect_gone "after the dump"
at_dump=$(t_count "$TDIR/F")
[ -n "$at_dump" ] || at_dump=$COUNT
note "counter at dump: $at_dump"
for round in 1 2; do
	echo "$at_dump" > F
	t_expect_restore_ok
	t_expect_counting_on "$TDIR/F" "$at_dump" "round $round"
	tr=$(tracer_of "$PID")
	[ "$tr" = 0 ] || fail "round $round: bash still traced by $tr"
	note "round $round: counted from $at_dump to $COUNT_MAX"
	kill -9 -- -"$PID" 2>/dev/null
	wait_gone "$PID" "$GONE_TIMEOUT" || fail "round $round: pid $PID still exists after kill -9"
	t_group_gone "$PID" || fail "round $round: processes left in group $PID"
done
true
