# A fault at every step (CREST_FAULT_N=N fails the Nth fallible operation:
# an injected syscall, a read or write of a task's memory, an image read or
# write, a seize, an allocation through xzalloc), walked over a dump and a
# restore of a small tree (a thread, a pipe with data, a unix socket pair
# with a message queued, a ghost file, a POSIX timer, a child): each failed
# dump leaves the tree running as before (untraced, same maps, its check
# passes, no inventory.img); each failed restore leaves no process of the
# tree and no temporary ghost name behind.  Every k-th N is walked so that
# the dump walk stays around 20 runs, the restore walk around 10.  Then two good restores.
# (Sourced by tests/run.)
t_need_bin fault_walk
t_start_prog fault_walk
t_wait_looping
CHILD=$(cat "$TDIR/child" 2>/dev/null)
[ -n "$CHILD" ] && alive "$CHILD" || fail "the child is not running"
maps_now() { cat /proc/"$PID"/maps /proc/"$CHILD"/maps 2>/dev/null; }
maps_now > "$TDIR/maps0"

tree_ok() { # what
	local p t tr
	for p in "$PID" "$CHILD"; do
		alive "$p" || fail "pid $p died $1"
		for t in /proc/"$p"/task/*; do
			tr=$(awk '/^TracerPid:/ {print $2}' "$t"/status 2>/dev/null)
			[ "${tr:-0}" = 0 ] || fail "thread ${t##*/} of pid $p still traced by $tr $1"
		done
	done
	maps_now > "$TDIR/maps1"
	cmp -s "$TDIR/maps0" "$TDIR/maps1" ||
		fail "/proc/PID/maps changed $1: $(diff "$TDIR/maps0" "$TDIR/maps1" | head -c 300)"
	[ -e "$IMG/inventory.img" ] && fail "inventory.img exists $1"
	t_expect_running "$1"
	t_check
}

ops_in() { # log: the number of fallible operations the last run passed
	last_out "$1" | sed -n 's/.* \([0-9]*\) fallible operations passed (CREST_FAULT_N).*/\1/p' | tail -1
}

expect_fault_hit() { # log n
	last_out "$1" | grep -q "fault injected at fallible operation $2 " ||
		fail "CREST_FAULT_N=$2 was not reached (no 'fault injected' message; RC $RC)"
}

# ---- dump
export CREST_FAULT_N=1000000000
t_dump --leave-running
unset CREST_FAULT_N
[ "$RC" = 0 ] || fail "dump --leave-running failed: $(rc_msg "$RC")"
DOPS=$(ops_in "$TDIR/dump.log")
[ -n "$DOPS" ] && [ "$DOPS" -gt 10 ] || fail "no count of fallible operations in the dump log"
rm -f "$IMG/inventory.img"
tree_ok "after dump --leave-running"
step=$((DOPS / 18 + 1))
walked=0
for n in $(seq 1 "$step" "$DOPS") "$DOPS"; do
	mode=--leave-running
	# (a plain dump has fewer operations: no parking)
	[ $((walked % 3)) = 1 ] && [ $((n + 60)) -lt "$DOPS" ] && mode=
	export CREST_FAULT_N=$n
	# shellcheck disable=SC2086
	t_dump $mode
	unset CREST_FAULT_N
	case "$RC" in 124|137) fail "dump with CREST_FAULT_N=$n timed out" ;; esac
	if [ "$RC" = 0 ] && [ -n "$mode" ] && ! last_out "$TDIR/dump.log" | grep -q "fault injected"; then
		# (fewer operations than in the counting run: the walk is over)
		rm -f "$IMG/inventory.img"
		tree_ok "after the dump that passed all its operations ($n)"
		walked=$((walked + 1))
		break
	fi
	expect_fault_hit "$TDIR/dump.log" "$n"
	if [ "$RC" = 0 ]; then
		# only a failed parking is recovered from (the return chain): the dump is complete
		last_out "$TDIR/dump.log" | grep -q "detached without parking" ||
			fail "dump with CREST_FAULT_N=$n (${mode:-plain}) succeeded"
		rm -f "$IMG/inventory.img"
	fi
	tree_ok "after a dump failed at fallible operation $n of $DOPS (${mode:-plain dump})"
	walked=$((walked + 1))
done
note "dump: $walked of $DOPS fault points walked (every $step)"

# ---- restore
t_dump_and_gone
export CREST_FAULT_N=1000000000
t_expect_restore_ok
unset CREST_FAULT_N
ROPS=$(ops_in "$TDIR/restore.log")
[ -n "$ROPS" ] && [ "$ROPS" -gt 10 ] || fail "no count of fallible operations in the restore log"
t_expect_restored "$DUMP_PROGRESS"
kill -9 "$CHILD" 2>/dev/null
t_kill
wait_gone "$CHILD" "$GONE_TIMEOUT" || fail "child $CHILD still there"
rstep=$((ROPS / 10 + 1))
rwalked=0
for n in $(seq 1 "$rstep" "$ROPS") "$ROPS"; do
	export CREST_FAULT_N=$n
	t_restore
	unset CREST_FAULT_N
	case "$RC" in 124|137) fail "restore with CREST_FAULT_N=$n timed out" ;; esac
	if [ "$RC" = 0 ]; then
		# the number of operations varies a little between restores (waits
		# for free pids): a restore that passed all of its own ends the walk
		last_out "$TDIR/restore.log" | grep -q "fault injected" &&
			fail "restore with CREST_FAULT_N=$n succeeded despite the fault"
		kill -9 "$CHILD" 2>/dev/null
		t_kill
		wait_gone "$CHILD" "$GONE_TIMEOUT" || fail "child $CHILD still there"
		rwalked=$((rwalked + 1))
		break
	fi
	expect_fault_hit "$TDIR/restore.log" "$n"
	for p in "$PID" "$CHILD"; do
		wait_gone "$p" "$GONE_TIMEOUT" ||
			fail "pid $p left behind by a restore failed at fallible operation $n (state '$(pid_state "$p")')"
	done
	ls -a "$TDIR" | grep -q '^\.crest-ghost' &&
		fail "a temporary ghost name left behind by a restore failed at fallible operation $n"
	rwalked=$((rwalked + 1))
done
note "restore: $rwalked of $ROPS fault points walked (every $rstep)"
echo "dump: $walked of $DOPS fault points walked; restore: $rwalked of $ROPS" > "$TDIR/fault-points"
t_restore_rounds 2
