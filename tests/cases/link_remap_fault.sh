# A dump that fails after its remap links were made (CREST_FAULT=dump-after-remap)
# removes every link and its per-dump directory, and leaves the process
# running and unchanged.  (Sourced by tests/run.)
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
FAULT=dump-after-remap t_dump --link-remap
[ "$RC" = 0 ] && fail "dump with CREST_FAULT=dump-after-remap succeeded"
t_expect_fault_hit "$TDIR/dump.log" dump-after-remap
dir=$(last_out "$TDIR/dump.log" | sed -n 's/.*remap links of this dump go to \(.*\)$/\1/p' | head -n 1)
[ -n "$dir" ] || fail "the dump made no remap dir before the fault"
[ -e "$dir" ] && fail "the failed dump left its remap dir $dir: $(ls -A "$dir")"
last_out "$TDIR/dump.log" | grep -q "remap links in .* removed" || fail "the failed dump did not say it removed its links"
note "remap dir $dir removed"
t_expect_running "after the failed dump"
t_check
t_kill
true
