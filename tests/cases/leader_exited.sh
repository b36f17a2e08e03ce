# A process whose main thread exited with pthread_exit() while another thread
# runs on: /proc shows its leader as a zombie, but the process is alive.  The
# dump must not take it for a zombie (that would lose the running thread at
# restore): it refuses with a message naming the pid and the reason, and
# leaves the process running.  The runner's liveness checks look at the
# running thread (its tid), the dump at the process.  (Sourced by tests/run.)
t_need_bin leader_exit
t_start_prog leader_exit
DPID=$PID
for ((i = 0; i < 100; i++)); do [ -s tid ] && break; sleep 0.05; done
TID=$(cat tid 2>/dev/null) || fail "the worker thread wrote no tid"
for ((i = 0; i < 200; i++)); do v=$(progress); [ -n "$v" ] && [ "$v" -ge 10 ] && break; sleep 0.05; done
[ -n "$v" ] && [ "$v" -ge 10 ] || fail "program not looping (progress '$(progress)')"
grep -q '^State:[[:space:]]*Z' /proc/$DPID/status || fail "the leader of $DPID is not a zombie: $(grep State /proc/$DPID/status)"
t_dump
[ "$RC" != 0 ] && last_run dump.log | grep -q 'main thread has exited' ||
	fail "dump of a process with an exited main thread: rc $RC, $(last_run dump.log | grep -i error | head -n 2)"
note "refused: $(last_run dump.log | grep 'main thread has exited' | head -n 1)"
PID=$TID
t_expect_running "after the refused dump"
t_check
PID=$DPID
t_kill
true
