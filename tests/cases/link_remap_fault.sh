# A dump that fails after its remap links were made (CREST_FAULT=dump-after-remap)
# removes every link and its per-dump directory, and leaves the process
# running and unchanged.  (Sourced by tests/run.)
command -v python3 >/dev/null || fail "python3 not installed"
cat > "$TDIR/prog.py" <<'PY'
import os, sys, time
d = os.environ["CREST_T_DIR"]
os.chdir(d)
def wr(name, s):
    tmp = "%s.tmp.%d" % (name, os.getpid())
    with open(tmp, "w") as f:
        f.write(s)
    os.rename(tmp, name)
a_fd = os.open("a", os.O_RDWR | os.O_CREAT, 0o644)
os.write(a_fd, b"data")
os.link("a", "b"); os.unlink("a")
os.close(os.open("a", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644))
def check():
    ok = os.fstat(a_fd).st_ino == os.stat("b").st_ino and os.pread(a_fd, 4, 0) == b"data"
    return [] if ok else ["a_fd is not b's inode with its data"]
wr("pid", "%d\n" % os.getpid())
wr("ready", "ready\n")
count, last = 0, 0.0
while True:
    count += 1
    now = time.monotonic()
    if now - last >= 0.02:
        wr("progress", "%d\n" % count)
        last = now
        n = 1
        while os.path.exists("check-%d" % n):
            if not os.path.exists("result-%d" % n):
                e = check()
                wr("result-%d" % n, "BAD: %s\n" % "; ".join(e) if e else "OK\n")
            n += 1
    time.sleep(0.01)
PY
t_start_prog python3 -u "$TDIR/prog.py"
t_wait_looping
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
