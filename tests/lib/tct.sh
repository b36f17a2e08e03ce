# Containers for the mount namespace tests (sourced by tests/cases/mnt_*.sh).
#
# ct_start [SETUP [INSIDE]]: `unshare -p --fork` makes a pid namespace whose
# init execs `unshare -m` (its own mount namespace, private), mounts a tmpfs
# "ctroot" as the container's root R with the host's /usr bound in (and the
# /bin /lib /lib64 /sbin symlinks), a tmpfs "tfiles" on /t, runs the shell
# snippet SETUP (cwd R, $R set: more mounts), pivot_root()s into R, mounts
# its own /proc, drops the old root, runs INSIDE (in the container), then
# execs a shell loop counting into /t/cnt with stdio on /t files.  With
# CT_ROOT set, the root is a bind of that host directory instead.  Sets
# PID (the container's init: the tree to dump), OUTER (unshare) and CNT
# (the counter as crest sees it).
# ct_mounts: the container's mountinfo without what may change at restore
# (mount ids, devices of new file systems, peer group numbers), sorted: a
# proc for a pid namespace of the tree is made last at restore (once that
# namespace exists), so it comes later in the list.
ct_start() {
	local setup=${1:-} inside=${2:-} i
	{
		echo 'R=$1'
		echo "CT_ROOT='${CT_ROOT:-}'"
		cat <<'EOF'
mount --make-rprivate / || exit 1
if [ -n "$CT_ROOT" ]; then mount --bind "$CT_ROOT" "$R" || exit 1
else mount -t tmpfs -o size=8m,mode=755 ctroot "$R" || exit 1
fi
for d in usr bin lib lib64 sbin; do
	if [ -L /$d ]; then [ -L "$R/$d" ] || ln -s "$(readlink /$d)" "$R/$d"
	elif [ -d /$d ]; then mkdir -p "$R/$d" && mount --bind /$d "$R/$d"
	fi
done
mkdir -p "$R/old" "$R/proc" "$R/t"
mount -t tmpfs -o size=2m,mode=1777 tfiles "$R/t" || exit 1
cd "$R" || exit 1
EOF
		echo "$setup"
		cat <<'EOF'
cd "$R" && pivot_root . old && cd / || exit 1
mount -t proc proc /proc || exit 1
umount -l /old && rmdir /old || exit 1
rm -f /t/cnt
EOF
		echo "$inside"
		cat <<'EOF'
: > /t/out
exec </t/out >/t/out 2>&1
exec sh -c 'i=0; while :; do i=$((i+1)); echo $i > /t/cnt.tmp; mv /t/cnt.tmp /t/cnt; sleep 0.1; done'
EOF
	} > "$TDIR/ct.sh"
	mkdir -p "$TDIR/root"
	t_start_prog unshare -p --fork sh -c 'exec setsid unshare -m --propagation private sh "$0/ct.sh" "$0/root"' "$TDIR"
	OUTER=$PID
	for i in $(seq 100); do
		PID=$(awk '{print $1}' /proc/$OUTER/task/$OUTER/children 2>/dev/null)
		[ -n "$PID" ] && [ -e /proc/$PID/root/t/cnt ] && break
		sleep 0.1
	done
	[ -n "$PID" ] && [ -e /proc/$PID/root/t/cnt ] || fail "the container did not start: $(cat "$TDIR"/stderr* 2>/dev/null | tail -3)"
	CNT=/proc/$PID/root/t/cnt
	t_wait_counting "$CNT" "the container's loop"
}

ct_mounts() {
	awk '{ sub(/^[0-9]+ [0-9]+ /, ""); if ($0 ~ / - (tmpfs|proc|devpts|mqueue|sysfs) /) $1 = "new";
	       gsub(/shared:[0-9]+/, "shared"); gsub(/master:[0-9]+/, "master"); print }' /proc/$PID/mountinfo |
		sort
}

# Restore twice; each time the count goes on from at_dump, ct_check (a
# function of the test, may be empty) passes, then the container is killed.
ct_restore_rounds() { # at_dump [restore opts...]
	local at=$1 round
	shift
	for round in 1 2; do
		t_expect_restore_ok "$@"
		t_expect_counting_on "$CNT" "$at" "round $round"
		[ "$(readlink /proc/$PID/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ] ||
			fail "round $round: the container is in crest's mount namespace"
		ROUND=$round
		ct_check
		note "round $round OK"
		kill -9 "$PID" 2>/dev/null
		wait_gone "$PID" "$GONE_TIMEOUT" || fail "round $round: pid $PID still exists after kill -9"
		sleep 1.5   # the loop's last sleep: reaped by pid 1 only now and then
	done
}
