# crest itself inside a pid namespace: `unshare --pid --fork --mount-proc`
# runs a small driver (bash, pid 1 of the new namespace, with a /proc of
# that namespace) that starts pidns_nested (4 more nested namespaces,
# processes at every level, an unshare without fork) and runs `crest dump`
# and `crest restore` inside the namespace when the runner asks.  After each
# restore (twice from the same images): pidns_nested's own check (getpid,
# getppid and NSpid of every task as the namespace's /proc shows them,
# which tasks share a namespace), every task's NSpid seen from the host
# equal below the host level (crest inside cannot name host pids: that one
# is new), progress past the dump.  Then the driver exits and takes its
# namespace with it.  Last: crest in a pid namespace that still has the
# host's /proc refuses to work, and says why.  (Sourced by tests/run.)
t_need_bin pidns_nested
W=$TDIR/w
mkdir -p "$W"
cat > "$TDIR/inner.sh" <<'EOF'
# inside: $1 test dir, $2 crest, $3 workload.  Commands: cmd-N -> rc-N
T=$1 CREST=$2
cd "$T/w" || exit 1
CREST_T_DIR=$T/w setsid "$3" </dev/null >"$T/w/stdout" 2>"$T/w/stderr" &
echo $! > "$T/wpid.tmp" && mv "$T/wpid.tmp" "$T/wpid"
n=0
while :; do
	if [ -f "$T/cmd-$((n + 1))" ]; then
		n=$((n + 1))
		case "$(cat "$T/cmd-$n")" in
		quit) exit 0 ;;
		dump)
			echo "### $(date +%T) CREST_FAULT= crest dump (inside)" >> "$T/dump.log"
			timeout -k 5 60 "$CREST" dump -t "$(cat "$T/wpid")" -D "$T/img" -v >> "$T/dump.log" 2>&1
			echo $? > "$T/rc-$n" ;;
		restore)
			echo "### $(date +%T) CREST_FAULT= crest restore (inside)" >> "$T/restore.log"
			timeout -k 5 60 "$CREST" restore -D "$T/img" -d -v >> "$T/restore.log" 2>&1
			echo $? > "$T/rc-$n" ;;
		gone)   # the workload's pid is free in here
			for ((i = 0; i < 200; i++)); do [ -e /proc/$(cat "$T/wpid") ] || break; sleep 0.05; done
			[ ! -e /proc/$(cat "$T/wpid") ]; echo $? > "$T/rc-$n" ;;
		esac
	fi
	sleep 0.05
done
EOF
NCMD=0
inside() { # command: run it in the namespace, RC = its exit code
	local i
	NCMD=$((NCMD + 1))
	echo "$1" > "$TDIR/cmd-$NCMD"
	for ((i = 0; i < 90 * 20; i++)); do
		[ -f "$TDIR/rc-$NCMD" ] && break
		alive "$PID" || fail "the namespace driver died during '$1'"
		sleep 0.05
	done
	[ -f "$TDIR/rc-$NCMD" ] || fail "'$1' inside the namespace: no answer in 90 s"
	RC=$(cat "$TDIR/rc-$NCMD")
	note "inside: $1 -> $RC"
}
children() { local c; c=$(cat /proc/$1/task/$1/children 2>/dev/null); echo $c; }
nspid() { awk '/^NSpid:/ {$1=""; print substr($0, 2)}' /proc/$1/status 2>/dev/null; }
# every task of the tree under host pid $1: "name NSpid-below-the-host ppid-inside"
snapshot() {
	local q=("$1") p name n
	while [ ${#q[@]} -gt 0 ]; do
		p=${q[0]}
		q=("${q[@]:1}")
		name=$(cut -d: -f1 /proc/$p/comm 2>/dev/null) || continue
		n=$(nspid "$p")
		echo "$name ${n#* }"
		q+=($(children "$p"))
	done | sort
}
wcheck() { # ask pidns_nested to check itself (W/check-N -> W/result-N)
	local i r
	WCHECK=$((${WCHECK:-0} + 1))
	: > "$W/check-$WCHECK"
	for ((i = 0; i < CHECK_TIMEOUT * 20; i++)); do
		[ -f "$W/result-$WCHECK" ] && break
		sleep 0.05
	done
	r=$(head -c 600 "$W/result-$WCHECK" 2>/dev/null)
	[ "$r" = OK ] || fail "$1: check $WCHECK: ${r:-no answer}"
}
wprogress() { local v; v=$(cat "$W/progress" 2>/dev/null); [[ "$v" =~ ^[0-9]+$ ]] && echo "$v"; }

t_start_prog unshare --pid --fork --mount-proc bash "$TDIR/inner.sh" "$TDIR" "$CREST" "$BIN/pidns_nested"
DRIVER=
for ((i = 0; i < READY_TIMEOUT * 20; i++)); do
	[ -f "$W/result-0" ] && fail "pre-check: $(head -c 400 "$W/result-0")"
	[ -f "$W/ready" ] && [ -f "$TDIR/wpid" ] && break
	alive "$PID" || fail "the driver exited"
	sleep 0.05
done
[ -f "$W/ready" ] || fail "pidns_nested not ready"
DRIVER=$(children "$PID")
[ "$(nspid "$DRIVER" | awk '{print $2}')" = 1 ] || fail "the driver is not pid 1 of its namespace"
WPID=$(cat "$TDIR/wpid")
host_root() { # the workload's root, by its pid inside
	local k
	for k in $(children "$DRIVER"); do
		[ "$(nspid "$k" | awk '{print $2}')" = "$WPID" ] && echo "$k"
	done
}
ROOTH=$(host_root)
[ -n "$ROOTH" ] || fail "no task at pid $WPID inside the namespace"
for ((i = 0; i < 100; i++)); do
	v=$(wprogress)
	[ -n "$v" ] && [ "$v" -ge 10 ] && break
	sleep 0.05
done
[ "${v:-0}" -ge 10 ] || fail "pidns_nested is not looping"
wcheck "before the dump"
before=$(snapshot "$ROOTH")
note "inside pid $WPID = host $ROOTH; tree:"$'\n'"$before"
[ "$(echo "$before" | wc -l)" = 10 ] || fail "unexpected tree: $before"

inside dump
[ "$RC" = 0 ] || fail "dump inside the namespace failed: $(rc_msg "$RC")"
wait_gone "$ROOTH" "$GONE_TIMEOUT" || fail "pid $ROOTH still exists after the dump"
at_dump=$(wprogress)
rm -f "$W/ready" "$W/pid" "$W/progress"
for round in 1 2; do
	inside gone
	[ "$RC" = 0 ] || fail "round $round: pid $WPID still taken inside the namespace"
	inside restore
	[ "$RC" = 0 ] || fail "round $round: restore inside the namespace failed: $(rc_msg "$RC")"
	ROOTH=$(host_root)
	[ -n "$ROOTH" ] || fail "round $round: no task at pid $WPID inside the namespace after restore"
	for ((i = 0; i < PROGRESS_TIMEOUT * 20; i++)); do
		v=$(wprogress)
		[ -n "$v" ] && [ "$v" -gt "${at_dump:-0}" ] && break
		sleep 0.05
	done
	[ -n "$v" ] && [ "$v" -gt "${at_dump:-0}" ] || fail "round $round: no progress past $at_dump ($v)"
	wcheck "round $round"
	[ -e "$W/ready" ] && fail "round $round: pidns_nested was started afresh"
	now=$(snapshot "$ROOTH")
	[ "$now" = "$before" ] || fail "round $round: tree after restore differs: $(diff <(echo "$before") <(echo "$now") | grep '^[<>]' | tr '\n' ';')"
	note "round $round OK: root $WPID inside, host pid $ROOTH"
	kill -9 "$ROOTH"
	wait_gone "$ROOTH" "$GONE_TIMEOUT" || fail "round $round: pid $ROOTH still exists after kill -9"
	rm -f "$W/progress"
done
NCMD=$((NCMD + 1))
echo quit > "$TDIR/cmd-$NCMD"
wait_gone "$PID" "$GONE_TIMEOUT" || fail "the driver's unshare $PID still exists after quit"
# crest in a pid namespace whose /proc is still the host's: refused, saying why
mkdir -p "$TDIR/img-x"
out=$(timeout -k 5 30 unshare --pid --fork "$CREST" dump -t 999999 -D "$TDIR/img-x" 2>&1) &&
	fail "crest dumped from a pid namespace with the host's /proc"
echo "$out" | grep -q "/proc does not show crest's own pid namespace" ||
	fail "crest with the host's /proc in a pid namespace: no reason given: $(echo "$out" | head -n 3)"
out=$(timeout -k 5 30 unshare --pid --fork "$CREST" restore -D "$TDIR/img-x" 2>&1) &&
	fail "crest restored from a pid namespace with the host's /proc"
echo "$out" | grep -q "/proc does not show crest's own pid namespace" ||
	fail "crest restore with the host's /proc in a pid namespace: no reason given: $(echo "$out" | head -n 3)"
note "refused with the host's /proc: $(echo "$out" | head -n 1 | cut -c1-120)"

true
