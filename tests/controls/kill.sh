#!/bin/bash
# Negative control for tests/run: "dump" kills the process, "restore" does
# nothing.  Every test must FAIL with it: tests/run --crest tests/controls/kill.sh
# shellcheck source=lib/args.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/args.sh"
case "$cmd" in
dump) mkdir -p "$dir"; [ -n "$pid" ] && kill -9 "$pid" ;;
esac
exit 0
