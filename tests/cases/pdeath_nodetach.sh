# Parent-death signal of the root task, restored WITHOUT -d: crest stays the
# parent, so the signal (SIGUSR2) must be back, and it must fire when crest
# dies (kill -9 of crest -> the program's handler writes "got-usr2").
# (Sourced by tests/run.)
t_need_bin pdeath
t_start_prog pdeath
t_wait_looping
t_dump_and_gone
rm -f got-usr2
echo 12 > expect-pdeath

echo "### $(date +%T) crest restore -D $IMG -v (no -d, background)" >> restore.log
"$CREST" restore -D "$IMG" -v >> restore.log 2>&1 &
CP=$!
echo "$CP" >> "$ROOT/.crest-pids"
note "crest restore (no -d) running as $CP"
for ((i = 0; i < RESTORE_TIMEOUT * 20; i++)); do
	alive "$PID" && [ "$(tracer_of "$PID")" = 0 ] && break
	kill -0 "$CP" 2>/dev/null || fail "crest restore exited: $(tail -n 3 restore.log)"
	sleep 0.05
done
alive "$PID" || fail "pid $PID not restored"
t_wait_progress "$DUMP_PROGRESS"
t_check
[ -e got-usr2 ] && fail "SIGUSR2 arrived while crest was alive"

kill -9 "$CP"
wait "$CP" 2>/dev/null
for ((i = 0; i < 100; i++)); do
	[ -e got-usr2 ] && break
	sleep 0.05
done
[ -e got-usr2 ] || fail "no SIGUSR2 after crest (the parent) died"
note "SIGUSR2 delivered after crest died"
t_check
t_kill
true
