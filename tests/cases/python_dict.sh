# A real program: python3 counting into a file (atomic writes) with a dict of
# 1e5 entries; on each check-N trigger the script itself verifies the dict
# checksum (and its pid) and answers result-N.  (Sourced by tests/run.)
command -v python3 >/dev/null || fail "python3 not installed"
cat > "$TDIR/prog.py" <<'PY'
import os, sys, time, zlib

d = os.environ["CREST_T_DIR"]

def path(name):
    return os.path.join(d, name)

def wr(name, s):
    tmp = path("%s.tmp.%d" % (name, os.getpid()))
    with open(tmp, "w") as f:
        f.write(s)
    os.rename(tmp, path(name))

big = {}
for i in range(100000):
    big["k%06d" % i] = (i * 2654435761) % 1000003 if i % 3 else "v%d" % (i * 7)

def checksum():
    h = 0
    for k, v in big.items():
        h = zlib.crc32(k.encode(), h)
        h = zlib.crc32(repr(v).encode(), h)
    return (len(big), h)

ref = checksum()
pid = os.getpid()
wr("pid", "%d\n" % pid)
if checksum() != ref or ref[0] != 100000:
    wr("result-0", "BAD-PRECHECK: checksum not stable\n")
    sys.exit(1)
wr("ready", "ready\n")
count = 0
last = 0.0
while True:
    count += 1
    now = time.monotonic()
    if now - last >= 0.02 or now < last:
        wr("progress", "%d\n" % count)
        last = now
        n = 1
        while os.path.exists(path("check-%d" % n)):
            if not os.path.exists(path("result-%d" % n)):
                errs = []
                c = checksum()
                if c != ref:
                    errs.append("dict checksum %r, want %r" % (c, ref))
                if os.getpid() != pid:
                    errs.append("getpid() %d, want %d" % (os.getpid(), pid))
                wr("result-%d" % n, "BAD: %s\n" % "; ".join(errs) if errs else "OK\n")
            n += 1
    time.sleep(0.01)
PY
t_start_prog python3 -u "$TDIR/prog.py"
t_wait_looping
t_cr_cycle "" ""
