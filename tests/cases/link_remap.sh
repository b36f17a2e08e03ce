# The seed's example, verbatim (python3 os calls are the bare syscalls):
#   a_fd = open("a"); link("a", "b"); unlink("a"); creat("a"); <dump>; write(a_fd, "bar")
# Without --link-remap the dump fails, names the option and leaves the
# process running.  With it, after each of two restores a_fd is the inode
# "b" names (the write lands in "b"), not the new "a", not a copy, and /proc
# shows it as "<dir>/a (deleted)".  `crest gc` then removes the link; a
# restore afterwards fails clearly.  (Sourced by tests/run.)
trap '"$CREST" gc -D "$IMG" >/dev/null 2>&1' EXIT
t_py_prog <<'PY'
import os
from tcase import d, t_main

a_fd = os.open("a", os.O_RDWR | os.O_CREAT, 0o644)       # a_fd = open("a")
os.write(a_fd, b"foo-foo")
os.link("a", "b")                                          # link("a", "b")
os.unlink("a")                                             # unlink("a")
new_a = os.open("a", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)   # creat("a")
want_name = d + "/a (deleted)"

def check():
    errs = []
    os.lseek(a_fd, 0, os.SEEK_SET)
    os.write(a_fd, b"bar")                                 # write(a_fd, "bar")
    with open("b", "rb") as f:
        got = f.read()
    if got != b"bar-foo":
        errs.append("b holds %r, expected b'bar-foo' (the write through a_fd did not land in b)" % got)
    if os.stat("a").st_size != 0:
        errs.append("the new a has %d bytes: the write landed there" % os.stat("a").st_size)
    fa, sb, sa = os.fstat(a_fd), os.stat("b"), os.stat("a")
    if (fa.st_dev, fa.st_ino) != (sb.st_dev, sb.st_ino):
        errs.append("a_fd is inode %d, b is %d: not the same file" % (fa.st_ino, sb.st_ino))
    if fa.st_ino == sa.st_ino:
        errs.append("a_fd is the new a")
    name = os.readlink("/proc/self/fd/%d" % a_fd)
    if name != want_name:
        errs.append("/proc shows a_fd as %r, expected %r" % (name, want_name))
    if os.fstat(new_a).st_ino != sa.st_ino:
        errs.append("the creat() fd is not the new a any more")
    return errs

t_main(check, check)
PY

# without --link-remap: a clear error naming the option, the process untouched
t_dump
[ "$RC" = 0 ] && fail "dump of a renamed-over open file succeeded without --link-remap"
last_out "$TDIR/dump.log" | grep -q -- '--link-remap' ||
	fail "the refused dump does not name --link-remap: $(last_out "$TDIR/dump.log" | grep -i error | head -n 2)"
note "refused: $(last_out "$TDIR/dump.log" | grep -m1 error)"
t_expect_running "after the refused dump"
t_check

t_dump_and_gone --link-remap
remap=$(last_out "$TDIR/dump.log" | sed -n 's/.*kept through the link \(.*\)$/\1/p' | head -n 1)
[ -n "$remap" ] && [ -f "$remap" ] || fail "no remap link found after the dump ('$remap')"
case "$remap" in */.crest-remap/*) ;; *) fail "remap link $remap is not in a .crest-remap dir" ;; esac
perm=$(stat -c '%a %u' "$(dirname "$remap")")
[ "$perm" = "700 0" ] || fail "remap dir $(dirname "$remap") has mode/owner '$perm', expected '700 0'"
note "remap link $remap"
t_restore_rounds 2
[ -f "$remap" ] || fail "the restores removed the remap link $remap"

run_crest "$TDIR/gc.log" 30 gc -D "$IMG" -v
[ "$RC" = 0 ] || fail "crest gc failed: $(rc_msg "$RC")"
[ -e "$remap" ] && fail "crest gc left the remap link $remap"
[ -e "$(dirname "$remap")" ] && fail "crest gc left the remap dir $(dirname "$remap")"
t_restore
[ "$RC" = 0 ] && fail "restore after crest gc succeeded"
last_out "$TDIR/restore.log" | grep -q 'crest gc' || fail "restore after gc: no message pointing at crest gc"
t_expect_gone "after the restore that could not work"
true
