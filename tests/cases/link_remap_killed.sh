# crest killed during a --link-remap dump after it made a remap link (and
# before ghost.img): the process runs on, the per-dump remap directory is
# noted in the image directory (remap-dirs), and `crest gc -D DIR` removes
# it with its links.  Killed at the link and a few kill points later; then
# the usual dump and two restores, and crest gc.
# (Sourced by tests/run.)
t_py_prog <<'PY'
import os
from tcase import t_main
a_fd = os.open("a", os.O_RDWR | os.O_CREAT, 0o644)
os.write(a_fd, b"data")
os.link("a", "b"); os.unlink("a")
os.close(os.open("a", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644))
def check():
    ok = os.fstat(a_fd).st_ino == os.stat("b").st_ino and os.pread(a_fd, 4, 0) == b"data"
    return [] if ok else ["a_fd is not b's inode with its data"]
t_main(check)
PY
export CREST_KILL_AT=1000000000
t_dump --link-remap --leave-running
unset CREST_KILL_AT
[ "$RC" = 0 ] || fail "dump --link-remap failed: $(rc_msg "$RC")"
AT=$(sed -n 's/.*kill point \([0-9]*\): remap link made.*/\1/p' "$IMG/dump.log" | head -n 1)
[ -n "$AT" ] || fail "no 'remap link made' kill point in the dump log"
"$CREST" gc -D "$IMG" >> "$TDIR/gc.log" 2>&1 || fail "crest gc of the complete dump failed"
t_expect_running "after the dump"
for n in "$AT" $((AT + 3)) $((AT + 40)); do
	export CREST_KILL_AT=$n
	t_dump --link-remap --leave-running
	unset CREST_KILL_AT
	[ "$RC" = 137 ] || fail "crest was not killed at kill point $n: $(rc_msg "$RC")"
	[ -e "$IMG/inventory.img" ] && fail "inventory.img after crest was killed at kill point $n"
	dir=$(last_out "$TDIR/dump.log" | sed -n 's/.*remap links of this dump go to \(.*\)$/\1/p' | head -n 1)
	[ -n "$dir" ] && [ -d "$dir" ] || fail "no remap directory left to test with (kill point $n)"
	grep -qxF "$dir" "$IMG/remap-dirs" 2>/dev/null || fail "$dir is not noted in remap-dirs"
	t_expect_running "after crest was killed at kill point $n"
	t_check
	"$CREST" gc -D "$IMG" >> "$TDIR/gc.log" 2>&1 || fail "crest gc after crest was killed at kill point $n failed"
	[ -e "$dir" ] && fail "crest gc left $dir: $(ls -A "$dir")"
	[ -e "$IMG/remap-dirs" ] && fail "crest gc left remap-dirs"
	note "kill point $n: $dir removed by crest gc"
done
t_cr_cycle "--link-remap" ""
"$CREST" gc -D "$IMG" >> "$TDIR/gc.log" 2>&1 || fail "crest gc of the last dump failed"
