# A container-ish tree: `unshare --uts --ipc --net --pid --fork` running
# tests/bin/ns_container as pid 1 of its pid namespace (hostname, SysV shm
# attached and marked for removal, semaphores, a message queue, lo up with
# addresses; a child sharing everything), in crest's mount namespace.
# Dumped, restored twice with --pidfile: the program checks everything from
# inside; from outside, the three tasks share their uts/ipc/net namespaces,
# which are not crest's, the pidfile holds the root's pid and crest's
# hostname is untouched.  A restore failing at its last step leaves no
# process and no namespace.  (Sourced by tests/run.)
t_need_bin ns_container
children() { local c; c=$(cat /proc/$1/task/$1/children 2>/dev/null); echo $c; }
nslinks() { local k; for k in uts ipc net; do readlink /proc/$1/ns/$k; done | tr '\n' ' '; }
host_name=$(hostname)
t_start_prog unshare --uts --ipc --net --pid --fork "$BIN/ns_container"
INIT= KID=
for ((i = 0; i < 200; i++)); do
	[ -f "$TDIR/result-0" ] && fail "pre-check: $(head -c 400 "$TDIR/result-0")"
	INIT=$(children "$PID")
	[ -n "$INIT" ] && KID=$(children "$INIT")
	[ -f "$TDIR/ready" ] && [ -n "$KID" ] && break
	alive "$PID" || fail "unshare exited before ready"
	sleep 0.05
done
[ -f "$TDIR/ready" ] && [ -n "$KID" ] || fail "the container did not come up"
for ((i = 0; i < 100; i++)); do v=$(progress); [ -n "$v" ] && [ "$v" -ge 10 ] && break; sleep 0.05; done
own=$(nslinks self)
t_dump_and_gone
wait_gone "$INIT" "$GONE_TIMEOUT" || fail "pid $INIT still exists after the dump"
wait_gone "$KID" "$GONE_TIMEOUT" || fail "pid $KID still exists after the dump"
[ -s "$IMG/ns.img" ] || fail "no ns.img in the images"
"$CREST" show "$IMG" | grep -q 'hostname: "crest-ct"' || fail "crest show does not print the hostname"
"$CREST" show --json "$IMG" | grep -q '"NS_IPC"' || fail "crest show --json does not print the ipc namespace"
# a failed restore leaves no process and no namespace behind: nothing on
# the machine is in a uts namespace named crest-ct
ct_left() {
	local p l own_uts
	own_uts=$(readlink /proc/self/ns/uts)
	for p in /proc/[0-9]*; do
		l=$(readlink "$p/ns/uts" 2>/dev/null) || continue
		[ "$l" = "$own_uts" ] && continue
		[ "$(nsenter -t "${p#/proc/}" -u hostname 2>/dev/null)" = crest-ct ] && echo "${p#/proc/}"
	done
}
[ -z "$(ct_left)" ] || fail "a process is left in the container's uts namespace after the dump: $(ct_left)"
FAULT=restore-before-resume t_restore
[ "$RC" = 0 ] && fail "the restore with CREST_FAULT=restore-before-resume succeeded"
for p in $PID $INIT $KID; do
	wait_gone "$p" "$GONE_TIMEOUT" || fail "pid $p exists after the failed restore"
done
left=$(ct_left)
[ -z "$left" ] || fail "the failed restore left processes in the container's uts namespace: $left"
for round in 1 2; do
	rm -f "$TDIR/ct.pid"
	t_expect_restore_ok --pidfile "$TDIR/ct.pid"
	[ "$(cat "$TDIR/ct.pid" 2>/dev/null)" = "$PID" ] ||
		fail "round $round: --pidfile holds '$(cat "$TDIR/ct.pid" 2>/dev/null)', want $PID"
	t_expect_restored "$DUMP_PROGRESS"
	a=$(nslinks "$PID") b=$(nslinks "$INIT") c=$(nslinks "$KID")
	[ "$a" = "$b" ] && [ "$b" = "$c" ] || fail "round $round: the tasks do not share their namespaces: '$a' '$b' '$c'"
	for k in $b; do
		case " $own " in *" $k "*) fail "round $round: $k is crest's own" ;; esac
	done
	[ "$(hostname)" = "$host_name" ] || fail "round $round: crest's hostname changed to $(hostname)"
	note "round $round: namespaces $b"
	kill -9 -- -"$PID" 2>/dev/null
	for p in $PID $INIT $KID; do
		wait_gone "$p" "$GONE_TIMEOUT" || fail "round $round: pid $p still exists after kill -9"
	done
	rm -f "$TDIR/progress"
done
true
