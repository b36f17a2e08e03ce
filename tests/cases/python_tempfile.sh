# python3 keeps data in tempfile.TemporaryFile() (O_TMPFILE: a file that never
# had a name, /proc shows "/tmp/#<ino> (deleted)"): after each restore the
# data is all there, the position is where it was, the name /proc shows is
# the same, and the file still has no name.  (Sourced by tests/run.)
command -v python3 >/dev/null || fail "python3 not installed"
cat > "$TDIR/prog.py" <<'PY'
import hashlib, os, sys, tempfile, time
d = os.environ["CREST_T_DIR"]
os.chdir(d)
def wr(name, s):
    tmp = "%s.tmp.%d" % (name, os.getpid())
    with open(tmp, "w") as f:
        f.write(s)
    os.rename(tmp, name)
tf = tempfile.TemporaryFile()
data = os.urandom(3 << 20)
tf.write(data)
tf.seek(12345)
tf.flush()
digest = hashlib.sha256(data).hexdigest()
name = os.readlink("/proc/self/fd/%d" % tf.fileno())
def check():
    e = []
    pos = tf.tell()
    if pos != 12345:
        e.append("position %d, expected 12345" % pos)
    got = os.pread(tf.fileno(), len(data) + 1, 0)
    if hashlib.sha256(got).hexdigest() != digest:
        e.append("content differs (%d bytes read)" % len(got))
    n = os.readlink("/proc/self/fd/%d" % tf.fileno())
    if n != name:
        e.append("/proc shows %r, expected %r" % (n, name))
    if os.fstat(tf.fileno()).st_nlink != 0:
        e.append("the temporary file has a name now")
    return e
wr("pid", "%d\n" % os.getpid())
e = check()
if e or not name.endswith(" (deleted)"):
    wr("result-0", "BAD-PRECHECK: %s %r\n" % ("; ".join(e), name))
    sys.exit(1)
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
t_cr_cycle "" ""
