#!/bin/bash
# Negative control for tests/run: "dump" kills the process, "restore" does
# nothing.  Every test must FAIL with it: tests/run --crest tests/controls/kill.sh
cmd=$1; shift
pid= dir=
while [ $# -gt 0 ]; do
	case "$1" in
	-t) pid=$2; shift 2 ;;
	-D) dir=$2; shift 2 ;;
	*) shift ;;
	esac
done
case "$cmd" in
dump) mkdir -p "$dir"; [ -n "$pid" ] && kill -9 "$pid" ;;
esac
exit 0
