# crest SIGKILLed in the middle of a restore (CREST_KILL_AT=N: at the Nth
# kill point, every ptrace step of the injections) leaves nothing: no
# process of the tree (the half-made tasks are traced with EXITKILL and have
# PDEATHSIG), no temporary ghost name; the images are untouched and the
# next restore works.  The tree: a thread, a pipe with data, a unix socket
# pair with a message, a ghost file, a POSIX timer, a child (fault_walk's
# program).  (Sourced by tests/run.)
t_need_bin fault_walk
t_start_prog fault_walk
t_wait_looping
CHILD=$(cat "$TDIR/child" 2>/dev/null)
[ -n "$CHILD" ] && alive "$CHILD" || fail "the child is not running"
t_dump_and_gone
wait_gone "$CHILD" "$GONE_TIMEOUT" || fail "child $CHILD still there after the dump"

export CREST_KILL_AT=1000000000
t_expect_restore_ok
unset CREST_KILL_AT
ALL=$(last_out "$TDIR/restore.log" | sed -n 's/.* \([0-9]*\) kill points passed (CREST_KILL_AT).*/\1/p' | tail -1)
[ -n "$ALL" ] && [ "$ALL" -gt 10 ] || fail "no kill point count in the restore log"
t_expect_restored "$DUMP_PROGRESS"
t_kill
wait_gone "$CHILD" "$GONE_TIMEOUT" || fail "child $CHILD still there"

tried=0
for n in 1 2 $(seq 5 $((ALL / 8 + 1)) "$ALL") "$ALL"; do
	export CREST_KILL_AT=$n
	t_restore
	unset CREST_KILL_AT
	if [ "$RC" = 0 ] && [ $((n + 200)) -gt "$ALL" ]; then
		# the number of kill points varies a little between restores (waits
		# for free pids): one that passed all of its own ends the walk
		kill -9 "$CHILD" 2>/dev/null
		t_kill
		wait_gone "$CHILD" "$GONE_TIMEOUT" || fail "child $CHILD still there"
		break
	fi
	[ "$RC" = 137 ] || fail "crest was not killed at kill point $n of the restore: $(rc_msg "$RC")"
	for p in "$PID" "$CHILD"; do
		wait_gone "$p" "$GONE_TIMEOUT" ||
			fail "pid $p left behind by crest killed at kill point $n of $ALL of a restore (state '$(pid_state "$p")')"
	done
	ls -a "$TDIR" | grep -q '^\.crest-ghost' &&
		fail "a temporary ghost name left behind by crest killed at kill point $n of a restore"
	tried=$((tried + 1))
done
note "restore: crest killed at $tried of $ALL kill points, nothing left each time"
echo "restore: crest killed at $tried of $ALL kill points" > "$TDIR/kill-points"
t_restore_rounds 2
