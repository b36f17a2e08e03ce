# A shell pipeline dumped mid-run: `yes | head -c 3G | sha1sum > out` (sh
# and its three children, two pipes with data in flight, each end in another
# process).  Each restore (twice from the same images) must run it to the
# end with exactly the checksum of the same pipeline run without crest.
# (Sourced by tests/run.)
PIPELINE='yes | head -c 3G | sha1sum > out'

t_start_prog sh -c "$PIPELINE"
# running: the three children exist and data flows
nchildren() { wc -w < /proc/$PID/task/$PID/children 2>/dev/null; }
for i in $(seq 100); do
	[ "$(nchildren)" = 3 ] && break
	sleep 0.02
done
[ "$(nchildren)" = 3 ] ||
	fail "the pipeline did not start (children of $PID: $(cat /proc/$PID/task/$PID/children 2>/dev/null))"
sleep 1
[ -s "$TDIR/out" ] && fail "the pipeline finished before the dump: make it longer"
t_expect_dump_ok
t_expect_gone "after the dump"
last_out "$TDIR/dump.log" | grep -Eq "\([1-9][0-9]* restored by another task\)" ||
	fail "the dump log does not mention shared file descriptions"

# the reference, without crest
want=$(sh -c "yes | head -c 3G | sha1sum")
[ -n "$want" ] || fail "cannot run the reference pipeline"

for round in 1 2; do
	: > "$TDIR/out"   # same file (inode) as at dump, emptied
	t_expect_restore_ok
	wait_gone "$PID" 90 || fail "round $round: the pipeline did not finish within 90 s after restore"
	got=$(cat "$TDIR/out")
	[ "$got" = "$want" ] || fail "round $round: pipeline output '$got', want '$want'"
	note "round $round: $got"
done
