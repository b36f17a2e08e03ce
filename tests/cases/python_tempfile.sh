# python3 keeps data in tempfile.TemporaryFile() (O_TMPFILE: a file that never
# had a name, /proc shows "/tmp/#<ino> (deleted)"): after each restore the
# data is all there, the position is where it was, the name /proc shows is
# the same, and the file still has no name.  (Sourced by tests/run.)
t_py_prog <<'PY'
import hashlib, os, tempfile
from tcase import t_main
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
def precheck():
    e = check()
    return e + ["/proc shows %r" % name] if e or not name.endswith(" (deleted)") else []
t_main(check, precheck)
PY
t_cr_cycle "" ""
