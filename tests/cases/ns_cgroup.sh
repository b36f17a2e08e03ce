# A cgroup namespace rooted in a cgroup2 directory made for the test, with
# a child in a cgroup below it (tests/bin/ns_cgroup): dumped and restored
# twice; both tasks see the same /proc/self/cgroup from inside, and from
# outside they are in the test's cgroups again.  The directories are
# removed at the end.  (Sourced by tests/run.)
t_need_bin ns_cgroup
CG2=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
[ -n "$CG2" ] || fail "no cgroup2 mount"
own=$(awk -F: '$1 == 0 {print $3}' /proc/self/cgroup)
CG=$CG2${own%/}/crest-test-$$
mkdir -p "$CG/inner" || fail "cannot make $CG"
# (whatever is still in them is the test's: a failed run leaves its tasks)
cleanup_cg() {
	local p i
	for p in $(cat "$CG/inner/cgroup.procs" "$CG/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	for ((i = 0; i < 100; i++)); do
		rmdir "$CG/inner" "$CG" 2>/dev/null
		[ -d "$CG" ] || return 0
		sleep 0.05
	done
}
trap cleanup_cg EXIT
t_start_prog ns_cgroup "$CG"
t_wait_looping
kid=$(cat "$CG/inner/cgroup.procs")
[ -n "$kid" ] || fail "the child is not in $CG/inner"
t_dump_and_gone
wait_gone "$kid" "$GONE_TIMEOUT" || fail "pid $kid still exists after the dump"
for round in 1 2; do
	t_expect_restore_ok
	t_expect_restored "$DUMP_PROGRESS"
	grep -qx "$PID" "$CG/cgroup.procs" || fail "round $round: pid $PID is not in $CG"
	grep -qx "$kid" "$CG/inner/cgroup.procs" || fail "round $round: pid $kid is not in $CG/inner"
	[ "$(readlink /proc/$PID/ns/cgroup)" != "$(readlink /proc/self/ns/cgroup)" ] ||
		fail "round $round: pid $PID is in crest's cgroup namespace"
	t_kill
	wait_gone "$kid" "$GONE_TIMEOUT" || fail "round $round: pid $kid still exists after kill -9"
done
cleanup_cg
true
