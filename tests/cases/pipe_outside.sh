# A pipe with an end outside the dumped tree: in `sleep 1000 | cat`, dumping
# only sleep (its stdout is the pipe cat reads) must fail with a message
# naming cat's pid, and leave sleep running, untraced.  (Sourced by tests/run.)
t_start_prog sh -c 'sleep 1000 | cat'
SH=$PID
# (wait until both children have exec'd: a forked child is "sh" for a while)
SLEEP= CAT= kids=
for i in $(seq 250); do
	kids=$(cat /proc/$SH/task/$SH/children 2>/dev/null)
	SLEEP= CAT=
	for k in $kids; do
		case "$(cat /proc/$k/comm 2>/dev/null)" in
		sleep) SLEEP=$k ;;
		cat) CAT=$k ;;
		esac
	done
	[ -n "$SLEEP" ] && [ -n "$CAT" ] && break
	sleep 0.02
done
[ -n "$SLEEP" ] && [ -n "$CAT" ] || fail "the pipeline did not start (children: $kids)"
PID=$SLEEP
t_dump
[ "$RC" != 0 ] || fail "the dump of sleep alone succeeded"
last_out "$TDIR/dump.log" | grep -q "also open in pid $CAT .*outside the dumped tree" ||
	fail "the dump error does not name cat (pid $CAT): $(last_out "$TDIR/dump.log" | grep error | head -c 300)"
alive "$SLEEP" || fail "sleep is gone after the failed dump"
st=$(pid_state "$SLEEP")
[ "$st" = S ] || fail "sleep is in state '$st' after the failed dump, want S"
tr=$(tracer_of "$SLEEP")
[ "$tr" = 0 ] || fail "sleep is still traced by $tr"
PID=$SH
