#!/usr/bin/env bash
# The crest demo: start a counter, checkpoint it, restore it, watch it go on.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x ./crest ] && [ -x build/counter ] || make -s crest build/counter
work=$(mktemp -d /tmp/crest-demo.XXXXXX)
log=$work/counter.log
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# own session, no inherited fds beyond stdio (crest refuses fds leading outside)
(
	for fd in /proc/$BASHPID/fd/*; do
		n=${fd##*/}
		[ "$n" -gt 2 ] && eval "exec $n>&-"
	done
	exec setsid build/counter "$log" </dev/null >/dev/null 2>&1
) &
pid=$!
disown "$pid" 2>/dev/null || true
echo "== started counter, pid $pid (64 MiB of memory, ticks once a second)"
sleep 3.2
tail -n 2 "$log"

echo "== crest dump -t $pid -D $work/img"
./crest dump -t "$pid" -D "$work/img"
echo "   dumped: $(du -sh "$work/img" | cut -f1) of images; pid $pid is gone:"
for _ in $(seq 100); do [ -d /proc/$pid ] || break; sleep 0.05; done
[ -d /proc/$pid ] && echo "   (still a zombie)" || echo "   /proc/$pid does not exist"
sleep 2
echo "== crest restore -D $work/img -d"
./crest restore -D "$work/img" -d
echo "   pid $pid runs again: $(cat /proc/$pid/comm)"
sleep 3.2
tail -n 4 "$log"
echo "== the tick count went on from where it was, same pid, memory intact"
./crest show "$work/img" | head -n 20 || true
