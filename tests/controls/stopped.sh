#!/bin/bash
# Negative control for tests/run: "dump" leaves the process SIGSTOPped,
# "restore" does nothing.  Every test must FAIL with it.
# shellcheck source=lib/args.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/args.sh"
case "$cmd" in
dump) mkdir -p "$dir"; [ -n "$pid" ] && kill -STOP "$pid" ;;
esac
exit 0
