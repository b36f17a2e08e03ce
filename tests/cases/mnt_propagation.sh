# Propagation inside a container (tests/lib/tct.sh): a shared tmpfs on /pa
# with a peer bind on /pb, a slave bind of it on /sl, an unbindable tmpfs on
# /ub and a private one on /pr.  After restore (twice): mountinfo is
# equivalent (shared, master, unbindable where they were), and mounts made
# then in the container's namespace propagate as before: /pa/new to /pb and
# /sl, /sl/own to nowhere, /pr/x to nowhere; /ub still cannot be bound.
# (Sourced by tests/run.)
. "$REPO/tests/lib/tct.sh"
ct_start '
mkdir -p pa pb sl ub pr
mount -t tmpfs ta pa && mount --make-shared pa && mount --bind pa pb &&
mount --bind pa sl && mount --make-slave sl &&
mount -t tmpfs tu ub && mount --make-unbindable ub &&
mount -t tmpfs tp pr && mkdir pa/new pa/own pr/x || exit 1
'
mi_before=$(ct_mounts)
note "mounts before the dump:"$'\n'"$mi_before"
echo "$mi_before" | grep -q ' / /pb .*shared' || fail "no shared /pb: $mi_before"
echo "$mi_before" | grep -q ' / /sl .*master' || fail "no slave /sl: $mi_before"
echo "$mi_before" | grep -q ' / /ub .*unbindable' || fail "no unbindable /ub: $mi_before"
at_dump=$(t_count "$CNT")
t_expect_dump_ok
t_expect_gone "after the dump"
in_ct() { nsenter -t "$PID" -m -- "$@"; }
is_mnt() { awk -v p="$1" '$5 == p { f = 1 } END { exit !f }' /proc/$PID/mountinfo; }
ct_check() {
	local mi
	mi=$(ct_mounts)
	[ "$mi" = "$mi_before" ] || fail "round $ROUND: mountinfo differs: $(diff <(echo "$mi_before") <(echo "$mi") | grep '^[<>]' | tr '\n' ';')"
	in_ct mount -t tmpfs n1 /pa/new || fail "round $ROUND: mount on /pa/new failed"
	is_mnt /pb/new || fail "round $ROUND: /pa/new did not propagate to its peer /pb"
	is_mnt /sl/new || fail "round $ROUND: /pa/new did not propagate to the slave /sl"
	in_ct mount -t tmpfs n2 /sl/own || fail "round $ROUND: mount on /sl/own failed"
	is_mnt /pa/own && fail "round $ROUND: /sl/own propagated back to its master /pa"
	in_ct mount -t tmpfs n3 /pr/x || fail "round $ROUND: mount on /pr/x failed"
	[ "$(awk '$5 ~ /x$/' /proc/$PID/mountinfo | wc -l)" = 1 ] || fail "round $ROUND: /pr/x propagated"
	in_ct mount --bind /ub /pr 2>/dev/null && fail "round $ROUND: /ub could be bound (not unbindable)"
	true
}
ct_restore_rounds "$at_dump"
true
