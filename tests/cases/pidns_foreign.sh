# Foreign task refusal: the dumped root is the init of a pid namespace (sh,
# pid 1 under `unshare --pid --fork`), and a process from outside entered
# that namespace (nsenter: setns + fork; its parent stays outside).  The
# dump must fail, name the foreign pid and say why, and leave the whole
# tree (and the foreign task) running, untraced.  (Sourced by tests/run.)
cnt() { local v; v=$(cat "$TDIR/cnt" 2>/dev/null); [[ "$v" =~ ^[0-9]+$ ]] && echo "$v"; }
children() { local c; c=$(cat /proc/$1/task/$1/children 2>/dev/null); echo $c; }
t_start_prog unshare --pid --fork sh -c 'sleep 1000 & i=0; while :; do i=$((i+1)); echo $i > cnt; sleep 0.1; done'
for ((i = 0; i < 100; i++)); do
	v=$(cnt)
	[ -n "$v" ] && [ "$v" -ge 5 ] && break
	sleep 0.1
done
[ "${v:-0}" -ge 5 ] || fail "the sh loop is not counting"
UNSHARE=$PID
INIT=$(children "$UNSHARE")
[ -n "$INIT" ] && [ "$(awk '/^NSpid:/ {print $3}' /proc/$INIT/status)" = 1 ] ||
	fail "no pid-namespace init under unshare ($INIT)"
SLEEPER=
for k in $(children "$INIT"); do
	grep -qa '^sleep.1000' /proc/$k/cmdline 2>/dev/null && SLEEPER=$k
done
[ -n "$SLEEPER" ] || fail "no 'sleep 1000' under the namespace init"
# the foreign task: nsenter forks it inside the namespace and stays outside
(
	cd "$TDIR" || exit 1
	for fd in /proc/$BASHPID/fd/*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] && eval "exec $fd>&-"
	done
	CREST_T_DIR=$TDIR setsid nsenter --pid=/proc/$INIT/ns/pid -- sleep 1001 </dev/null >/dev/null 2>&1 &
)
FOREIGN=
for ((i = 0; i < 100; i++)); do
	[ -n "$FOREIGN" ] && break
	sleep 0.05
	for p in $(pgrep -x sleep); do
		grep -qa '^sleep.1001' /proc/$p/cmdline 2>/dev/null &&
			[ "$(readlink /proc/$p/ns/pid)" = "$(readlink /proc/$INIT/ns/pid)" ] && FOREIGN=$p
	done
done
[ -n "$FOREIGN" ] || fail "could not start the foreign task"
fparent=$(awk '{print $4}' /proc/$FOREIGN/stat)
note "init $INIT, foreign $FOREIGN (parent $fparent, NSpid $(awk '/^NSpid:/ {$1=""; print}' /proc/$FOREIGN/status))"
PID=$INIT
t_dump
[ "$RC" = 0 ] && fail "dump of the namespace init $INIT succeeded although pid $FOREIGN (entered from outside) lives in its namespace"
case "$RC" in 124|137) fail "the dump timed out" ;; esac
out=$(last_out dump.log | grep -v '^###')
echo "$out" | grep -qw "$FOREIGN" || fail "the dump error does not name the foreign pid $FOREIGN: $(echo "$out" | grep -i error | head -n 2)"
echo "$out" | grep -qiE 'namespace' || fail "the dump error does not say why (pid namespace): $(echo "$out" | grep -i error | head -n 2)"
note "refused: $(echo "$out" | grep -i error | head -n 1)"
# unharmed: everyone alive, not stopped, not traced, the loop goes on
for p in $UNSHARE $INIT $SLEEPER $FOREIGN; do
	alive "$p" || fail "pid $p died after the refused dump"
	s=$(pid_state "$p")
	case "$s" in T|t) fail "pid $p is stopped (state $s) after the refused dump" ;; esac
	tr=$(tracer_of "$p")
	[ "$tr" = 0 ] || fail "pid $p still traced by $tr after the refused dump"
done
v0=$(cnt)
sleep 1
v1=$(cnt)
[ -n "$v0" ] && [ -n "$v1" ] && [ "$v1" -gt "$v0" ] || fail "the sh loop stopped counting after the refused dump ($v0 -> $v1)"
kill -9 "$FOREIGN" 2>/dev/null
kill -9 -- -"$UNSHARE" 2>/dev/null
wait_gone "$INIT" "$GONE_TIMEOUT" || fail "pid $INIT still exists after kill -9"
true
