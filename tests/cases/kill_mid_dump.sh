# crest SIGKILLed in the middle of a dump (with and without --leave-running)
# must not hurt the tree: at kill points spread over the whole dump
# (CREST_KILL_AT=N: crest kills itself at the Nth ptrace step or phase
# boundary) and at a few random instants (kill -9 after a delay), every
# task of a two-process tree with threads runs on untraced and not stopped,
# its /proc/PID/maps exactly as before (no scratch mapping left), it passes
# its own check (registers, masks, pending signals, memory, every thread and
# the child moving on), and no inventory.img was written.  Then the usual
# dump and two restores.  (Sourced by tests/run.)
t_need_bin kill_mid_dump
t_start_prog kill_mid_dump
t_wait_looping
CHILD=$(cat "$TDIR/child" 2>/dev/null)
[ -n "$CHILD" ] && alive "$CHILD" || fail "the child is not running"

maps_now() { cat /proc/"$PID"/maps /proc/"$CHILD"/maps 2>/dev/null; }
maps_now > "$TDIR/maps0"

tree_ok() { # what [no-inventory]
	local p t s tr
	for p in "$PID" "$CHILD"; do
		alive "$p" || fail "pid $p died $1 (dmesg may say why)"
		for t in /proc/"$p"/task/*; do
			s=$(pid_state "$p/task/${t##*/}")
			tr=$(awk '/^TracerPid:/ {print $2}' "$t"/status 2>/dev/null)
			[ "${tr:-0}" = 0 ] || fail "thread ${t##*/} of pid $p still traced by $tr $1"
			case "$s" in t|T) fail "thread ${t##*/} of pid $p stopped (state $s) $1" ;; esac
		done
	done
	maps_now > "$TDIR/maps1"
	cmp -s "$TDIR/maps0" "$TDIR/maps1" ||
		fail "/proc/PID/maps changed $1: $(diff "$TDIR/maps0" "$TDIR/maps1" | head -c 300)"
	[ -n "${2:-}" ] && [ -e "$IMG/inventory.img" ] && fail "inventory.img exists $1"
	t_expect_running "$1"
	t_check
}

# how many kill points a whole dump --leave-running passes, and a plain dump
# before its kill phase
export CREST_KILL_AT=1000000000
t_dump --leave-running
unset CREST_KILL_AT
[ "$RC" = 0 ] || fail "dump --leave-running failed: $(rc_msg "$RC")"
rm -f "$IMG/inventory.img"
ALL=$(last_out "$TDIR/dump.log" | sed -n 's/.* \([0-9]*\) kill points passed (CREST_KILL_AT).*/\1/p' | tail -1)
PLAIN=$(last_out "$TDIR/dump.log" | sed -n 's/.* \([0-9]*\) kill points passed before the kill phase.*/\1/p' | tail -1)
[ -n "$ALL" ] && [ -n "$PLAIN" ] && [ "$ALL" -gt 20 ] || fail "no kill point count in the dump log"
note "kill points: $ALL with --leave-running, $PLAIN before the kill phase"
tree_ok "after dump --leave-running"

# the first 8 (seize, first injections), ~16 spread over the rest, the
# last 6 (parking and detaching)
POINTS=$(
	seq 1 8
	step=$((ALL / 16 + 1))
	seq 9 "$step" $((ALL - 6))
	seq $((ALL - 5)) "$ALL"
)
tried=0
for n in $POINTS; do
	mode=--leave-running
	[ $((tried % 2)) = 1 ] && [ $((n + 40)) -le "$PLAIN" ] && mode=
	export CREST_KILL_AT=$n
	# shellcheck disable=SC2086
	t_dump $mode
	unset CREST_KILL_AT
	if [ "$RC" = 0 ] && [ -n "$mode" ] && [ $((n + 40)) -gt "$ALL" ]; then
		# (this dump passed fewer kill points than the counting one: done)
		rm -f "$IMG/inventory.img"
		tree_ok "after a dump that passed fewer than $n kill points"
		break
	fi
	[ "$RC" = 137 ] || fail "crest was not killed at kill point $n (${mode:-plain dump}): $(rc_msg "$RC")"
	# (from kill point PLAIN on, inventory.img is written: a complete image)
	tree_ok "after crest was killed at kill point $n of $ALL (${mode:-plain dump})" \
		"$([ "$n" -lt "$PLAIN" ] && echo no-inventory)"
	tried=$((tried + 1))
done

# random instants: kill -9 after 0..45 ms (the dump takes longer)
for ms in 0 5 12 22 35; do
	rm -rf "$IMG"
	mkdir -p "$IMG"
	"$CREST" dump -t "$PID" -D "$IMG" --leave-running >> "$TDIR/dump.log" 2>&1 &
	cp=$!
	echo "$cp" >> "$ROOT/.crest-pids"
	sleep "0.0$(printf %02d "$ms")"
	kill -9 "$cp" 2>/dev/null
	wait "$cp" 2>/dev/null
	tree_ok "after crest was killed $ms ms into a dump"
	tried=$((tried + 1))
done
note "crest killed at $tried points, the tree survived each"
echo "$tried kill points survived ($ALL in a whole dump)" > "$TDIR/kill-points"

t_cr_cycle "" ""
