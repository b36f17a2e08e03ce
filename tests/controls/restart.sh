#!/bin/bash
# Negative control for tests/run: "dump" records the command line, cwd and
# environment and kills the process; "restore" starts the program afresh (at
# whatever pid it gets).  Every test must FAIL with it.
# shellcheck source=lib/args.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/args.sh"
case "$cmd" in
dump)
	mkdir -p "$dir"
	cp /proc/"$pid"/cmdline "$dir/cmdline" || exit 1
	cp /proc/"$pid"/environ "$dir/environ" || exit 1
	readlink /proc/"$pid"/cwd > "$dir/cwd" || exit 1
	kill -9 "$pid"
	;;
restore)
	[ -f "$dir/cmdline" ] || exit 0
	mapfile -d '' argv < "$dir/cmdline"
	mapfile -d '' envv < "$dir/environ"
	cd "$(cat "$dir/cwd")" || exit 1
	env -i "${envv[@]}" setsid "${argv[@]}" </dev/null >/dev/null 2>&1 &
	;;
esac
exit 0
