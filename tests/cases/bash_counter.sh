# A bash loop keeps counting from where it was after restore (the counter
# file never goes back below the dump-time value, never restarts from 1, and
# moves on), twice from the same images.  The tree is bash and its
# short-lived `sleep 0.1` children.  (Sourced by tests/run.)
cnt() { local v; v=$(cat "$TDIR/F" 2>/dev/null); [[ "$v" =~ ^[0-9]+$ ]] && echo "$v"; }
group_gone() { # pgid: wait until no process is left in the group
	local i
	for ((i = 0; i < 200; i++)); do
		ps -o pid= -g "$1" >/dev/null 2>&1 || return 0
		sleep 0.05
	done
	return 1
}
t_start_prog bash -c 'i=0; while :; do i=$((i+1)); echo $i > F; sleep 0.1; done'
for ((i = 0; i < 100; i++)); do
	v=$(cnt)
	[ -n "$v" ] && [ "$v" -ge 10 ] && break
	sleep 0.1
done
[ "${v:-0}" -ge 10 ] || fail "bash is not counting (F='$(cat F 2>/dev/null)')"
t_expect_dump_ok
t_expect_gone "after the dump"
at_dump=$(cnt)
[ -n "$at_dump" ] || at_dump=$v
note "counter at dump: $at_dump"
for round in 1 2; do
	echo "$at_dump" > F
	t_expect_restore_ok
	max=$at_dump
	for ((i = 0; i < 30; i++)); do
		sleep 0.1
		v=$(cnt) || continue
		[ "$v" -lt "$at_dump" ] && fail "round $round: counter went back to $v after restore (it was $at_dump at dump time): bash started afresh?"
		[ "$v" -gt "$max" ] && max=$v
	done
	[ "$max" -ge $((at_dump + 5)) ] ||
		fail "round $round: counter at $max 3 s after restore, want >= $((at_dump + 5)) (dump-time value $at_dump; state '$(pid_state "$PID")')"
	tr=$(tracer_of "$PID")
	[ "$tr" = 0 ] || fail "round $round: bash still traced by $tr"
	note "round $round: counted from $at_dump to $max"
	kill -9 -- -"$PID" 2>/dev/null
	wait_gone "$PID" "$GONE_TIMEOUT" || fail "round $round: pid $PID still exists after kill -9"
	group_gone "$PID" || fail "round $round: processes left in group $PID"
done
true
