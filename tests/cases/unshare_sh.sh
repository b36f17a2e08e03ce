# A tree started with `unshare --pid --fork sh -c '...'`: the unshare process
# (host namespace, it unshared and forked), sh as pid 1 of the new pid
# namespace, and sh's children (two long sleeps, the counting loop's short
# sleeps).  After restore (twice from the same images): every long-lived
# task has its pid, ppid, pgid, sid and NSpid, sh is pid 1 of a namespace
# shared with its children and not with unshare, and the counter moves on
# from where it was.  (Sourced by tests/run.)
# "pid ppid pgid sid state NSpid..." of a pid
describe() {
	local s n
	s=$(cat /proc/$1/stat 2>/dev/null) || return 1
	s=${s##*) }
	n=$(awk '/^NSpid:/ {$1=""; print}' /proc/$1/status 2>/dev/null)
	set -- $1 $s
	# R, S or D is a live task's moment, not its state: the loop's sh is
	# sampled running now and then
	local st=$2
	case "$st" in R|S|D) st=live ;; esac
	echo "$1 $3 $4 $5 $st NSpid$n"
}
children() { local c; c=$(cat /proc/$1/task/$1/children 2>/dev/null); echo $c; }
# the tree without the short-lived children (the loop's sleep 0.1, or sh's
# fork of it before its exec): unshare, sh and the two long sleeps
snapshot() {
	local sh k
	describe "$PID"
	sh=$(children "$PID")
	[ -n "$sh" ] || return 0
	describe "$sh"
	for k in $(children "$sh"); do
		grep -qa '^sleep.100[01]' /proc/$k/cmdline 2>/dev/null || continue
		describe "$k"
	done
}
t_start_prog unshare --pid --fork sh -c 'sleep 1000 & sleep 1001 & i=0; while :; do i=$((i+1)); echo $i > cnt; sleep 0.1; done'
t_wait_counting "$TDIR/cnt" "the sh loop"
before=$(snapshot)
note "tree before the dump:"$'\n'"$before"
[ "$(echo "$before" | wc -l)" = 4 ] || fail "unexpected tree: $before"
sh=$(children "$PID")
[ "$(awk '/^NSpid:/ {print $3}' /proc/$sh/status)" = 1 ] || fail "sh is not pid 1 of its namespace"
t_expect_dump_ok
t_expect_gone "after the dump"
at_dump=$(t_count "$TDIR/cnt")
at_dump=${at_dump:-$COUNT}
for round in 1 2; do
	echo "$at_dump" > cnt
	t_expect_restore_ok
	t_expect_counting_on "$TDIR/cnt" "$at_dump" "round $round"
	now=$(snapshot)
	[ "$now" = "$before" ] || fail "round $round: tree after restore differs: $(diff <(echo "$before") <(echo "$now") | grep '^[<>]' | tr '\n' ';')"
	[ "$(readlink /proc/$sh/ns/pid)" != "$(readlink /proc/$PID/ns/pid)" ] || fail "round $round: sh shares unshare's pid namespace"
	for k in $(children "$sh"); do
		kns=$(readlink /proc/$k/ns/pid) || continue   # a short sleep that just exited
		[ "$kns" = "$(readlink /proc/$sh/ns/pid)" ] ||
			fail "round $round: sh's child $k is not in sh's pid namespace"
	done
	[ "$(readlink /proc/$PID/ns/pid_for_children)" = "$(readlink /proc/$sh/ns/pid)" ] ||
		fail "round $round: unshare's pid_for_children is not sh's namespace"
	for k in $PID $sh; do
		tr=$(tracer_of "$k")
		[ "$tr" = 0 ] || fail "round $round: pid $k still traced by $tr"
	done
	note "round $round OK, counted from $at_dump to $COUNT_MAX"
	kill -9 -- -"$PID" 2>/dev/null
	wait_gone "$PID" "$GONE_TIMEOUT" || fail "round $round: pid $PID still exists after kill -9"
	wait_gone "$sh" "$GONE_TIMEOUT" || fail "round $round: pid $sh still exists after kill -9"
	t_group_gone "$PID" || fail "round $round: processes left in group $PID"
done
true
