# crest check: exits 0 on this machine and reports "ok" for every feature
# crest needs to dump and restore.  (Sourced by tests/run.)
# the marker is inherited by every probe child crest forks
out=$(CREST_CHECK_MARK=$TDIR "$CREST" check 2>"$TDIR/check.err")
rc=$?
echo "$out" > "$TDIR/check.out"
[ "$rc" = 0 ] || fail "crest check exit $rc: $(grep -m3 '^MISSING' "$TDIR/check.out" | tr -s ' ' | tr '\n' ';')"
for f in "running as root" "ptrace SEIZE/INTERRUPT" "PTRACE_GETSIGMASK" \
	"pidfd_open + pidfd_getfd" "process_vm_readv/writev" "/proc/PID/map_files" \
	"kcmp" "clone3 with set_tid" "prctl PR_SET_MM_MAP"; do
	found=
	while IFS= read -r line; do
		[[ "$line" == "ok "*" $f "* ]] && { found=1; break; }
	done < "$TDIR/check.out"
	[ -n "$found" ] || fail "crest check: no 'ok' line for '$f'"
done
# every feature line is ok or MISSING, and the verdict comes last
bad=$(grep -cvE '^(ok|MISSING) |^crest can' "$TDIR/check.out")
[ "$bad" = 0 ] || fail "crest check: $bad malformed line(s)"
tail -n1 "$TDIR/check.out" | grep -q '^crest can checkpoint/restore here' ||
	fail "crest check: no positive verdict line"
# no probe child left behind (they carry the marker in their environment)
sleep 0.2
for p in /proc/[0-9]*; do
	tr '\0' '\n' 2>/dev/null < "$p/environ" | grep -qx "CREST_CHECK_MARK=$TDIR" &&
		fail "crest check left process ${p#/proc/} ($(tr '\0' ' ' < "$p/cmdline" 2>/dev/null))"
done
true
