# A chrooted task whose cwd lies below its root: after a restore its root
# and cwd are the same directories (path and inode), and it keeps running
# (it counts into /count inside its root, i.e. jail/count here).
# (Sourced by tests/run.)
mkdir -p jail/d/e
cat > prog.py <<'PY'
import os, sys, time
os.chroot(sys.argv[1])
os.chdir("/d/e")
n = 0
while True:
    n += 1
    with open("/count.tmp", "w") as f:
        f.write("%d\n" % n)
    os.rename("/count.tmp", "/count")
    time.sleep(0.02)
PY
t_start_prog python3 "$TDIR/prog.py" "$TDIR/jail"
count() { local v; v=$(cat jail/count 2>/dev/null); [[ "$v" =~ ^[0-9]+$ ]] && echo "$v" || echo 0; }
wait_count() { # above
	for ((i = 0; i < 200; i++)); do
		[ "$(count)" -gt "$1" ] && return 0
		sleep 0.05
	done
	fail "the program does not count past $1 (state '$(pid_state "$PID")')"
}
wait_count 5
[ "$(readlink /proc/$PID/root)" = "$TDIR/jail" ] || fail "not chrooted: root $(readlink /proc/$PID/root)"
t_dump_and_gone
before=$(count)
for round in 1 2; do
	t_expect_restore_ok
	root=$(readlink /proc/$PID/root) cwd=$(readlink /proc/$PID/cwd)
	[ "$root" = "$TDIR/jail" ] || fail "round $round: root $root, expected $TDIR/jail"
	[ "$cwd" = "$TDIR/jail/d/e" ] || fail "round $round: cwd $cwd, expected $TDIR/jail/d/e"
	[ "$(stat -Lc %d:%i /proc/$PID/cwd)" = "$(stat -c %d:%i jail/d/e)" ] || fail "round $round: cwd inode differs"
	wait_count "$before"
	note "round $round: root $root cwd $cwd, counting"
	t_kill
	rm -f jail/count
done
true
