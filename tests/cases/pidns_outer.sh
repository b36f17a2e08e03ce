# A dump from the host of a tree whose root is the init of a pid namespace
# two levels down, in a namespace that has processes outside the tree:
#
#   unshare (host) ─ bash: pid 1 of ns A ─┬─ sleep 1001          (ns A, not dumped)
#                                         └─ unshare ─ pidns_deep 3: pid 1 of ns B (the root)
#                                                        └─ 3 more levels below, 2 tasks each
#
# The dump names pidns_deep; the restore (twice from the same images) puts it
# back into ns A, which still lives, at its pid on every level (host, ns A,
# ns B = 1) and recreates ns B and everything below fresh.  Every task checks
# its getpid(), getppid() and NSpid (pidns_deep), the root's namespace must
# be a child of ns A again, and ns A's own processes stay untouched.  Then
# a plain member of ns A (not an init) is dumped alone and comes back into
# ns A; once ns A is gone, its restore fails and says why.  (Sourced by
# tests/run.)
t_need_bin pidns_deep
children() { local c; c=$(cat /proc/$1/task/$1/children 2>/dev/null); echo $c; }
nspid() { awk '/^NSpid:/ {$1=""; print substr($0, 2)}' /proc/$1/status 2>/dev/null; }
# inode of the parent of pid's pid namespace
ns_parent() {
	python3 - "$1" <<'PY'
import fcntl, os, sys
fd = os.open("/proc/%s/ns/pid" % sys.argv[1], os.O_RDONLY)
p = fcntl.ioctl(fd, 0xb702)   # NS_GET_PARENT
print(os.fstat(p).st_ino)
PY
}
ns_ino() { stat -L -c %i /proc/$1/ns/pid; }

t_start_prog unshare --pid --fork bash -c "sleep 1001 & unshare --pid --fork $BIN/pidns_deep 3 & while :; do sleep 1; done"
OUTER=$PID
ROOTP= NSA= SLEEPER=
for ((i = 0; i < 200; i++)); do
	NSA=$(children "$OUTER")
	for k in $(children "$NSA"); do
		grep -qa '^sleep.1001' /proc/$k/cmdline 2>/dev/null && SLEEPER=$k
		grep -qa '^unshare' /proc/$k/cmdline 2>/dev/null && ROOTP=$(children "$k")
	done
	[ -n "$ROOTP" ] && [ -n "$SLEEPER" ] && [ -f "$TDIR/ready" ] && break
	[ -f "$TDIR/result-0" ] && fail "pre-check: $(head -c 400 "$TDIR/result-0")"
	sleep 0.05
done
[ -f "$TDIR/ready" ] && [ -n "$ROOTP" ] && [ -n "$SLEEPER" ] || fail "the tree did not come up (ns A init '$NSA', root '$ROOTP')"
set -- $(nspid "$ROOTP")
[ $# = 3 ] && [ "$3" = 1 ] || fail "root $ROOTP: NSpid '$*', want 3 levels ending in 1"
[ "$(nspid "$NSA" | awk '{print $2}')" = 1 ] || fail "bash is not pid 1 of ns A"
[ "$(ns_parent "$ROOTP")" = "$(ns_ino "$NSA")" ] || fail "the root's namespace is not a child of ns A"
note "ns A: init $NSA, outsider $SLEEPER; root $ROOTP NSpid $(nspid "$ROOTP")"
sleeper_before="$(nspid "$SLEEPER") $(awk '{print $4}' /proc/$SLEEPER/stat)"

PID=$ROOTP
# progress moving (pidns_deep's loop)
for ((i = 0; i < 100; i++)); do
	v=$(progress)
	[ -n "$v" ] && [ "$v" -ge 10 ] && break
	sleep 0.05
done
[ "${v:-0}" -ge 10 ] || fail "the root is not looping"
t_dump_and_gone
for round in 1 2; do
	t_expect_restore_ok
	t_expect_restored "$DUMP_PROGRESS"
	[ "$(ns_parent "$PID")" = "$(ns_ino "$NSA")" ] ||
		fail "round $round: the restored root's pid namespace is not a child of ns A"
	[ "$(nspid "$SLEEPER") $(awk '{print $4}' /proc/$SLEEPER/stat)" = "$sleeper_before" ] ||
		fail "round $round: the outsider $SLEEPER changed"
	alive "$NSA" || fail "round $round: ns A's init $NSA is gone"
	note "round $round: root $PID NSpid $(nspid "$PID"), in ns A again"
	t_kill
done
# A task of ns A that is not its init, dumped alone (sleep 1001, session
# led by ns A's init, outside the dump: --shell-job): back into ns A at its
# pids on both levels.
PID=$SLEEPER
before=$(nspid "$SLEEPER")
t_dump --shell-job
[ "$RC" = 0 ] || fail "dump of $SLEEPER (pid 2 of ns A) failed: $(rc_msg "$RC")"
t_expect_gone "after the dump"
t_restore --shell-job
[ "$RC" = 0 ] || fail "restore of $SLEEPER into ns A failed: $(rc_msg "$RC")"
alive "$SLEEPER" || fail "pid $SLEEPER not alive after restore"
[ "$(nspid "$SLEEPER")" = "$before" ] || fail "sleep 1001: NSpid '$(nspid "$SLEEPER")', want '$before'"
[ "$(ns_ino "$SLEEPER")" = "$(ns_ino "$NSA")" ] || fail "sleep 1001 is not in ns A after restore"
grep -qa '^sleep.1001' /proc/$SLEEPER/cmdline || fail "pid $SLEEPER is not sleep 1001"
note "sleep 1001 back in ns A: NSpid $(nspid "$SLEEPER")"
kill -9 "$NSA" "$OUTER" 2>/dev/null   # ns A goes with its init
wait_gone "$NSA" "$GONE_TIMEOUT" || fail "ns A's init $NSA still exists after kill -9"
wait_gone "$SLEEPER" "$GONE_TIMEOUT" || fail "pid $SLEEPER still exists after its namespace went"
# ns A is gone: the restore cannot give sleep its pid there, and says so
t_restore --shell-job
[ "$RC" = 0 ] && fail "restored $SLEEPER although its pid namespace is gone"
last_out "$TDIR/restore.log" | grep -q "outside the dump .* no longer exists" ||
	fail "restore without ns A: no reason given: $(last_out "$TDIR/restore.log" | grep error | head -n 1)"
wait_gone "$SLEEPER" 1 || fail "pid $SLEEPER exists after the failed restore"
true
