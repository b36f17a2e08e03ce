# A real program: python3 counting into a file (atomic writes) with a dict of
# 1e5 entries; on each check-N trigger the script itself verifies the dict
# checksum (and its pid) and answers result-N.  (Sourced by tests/run.)
t_py_prog <<'PY'
import os, zlib
from tcase import t_main

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

def precheck():
    return [] if checksum() == ref and ref[0] == 100000 else ["checksum not stable"]

def check():
    errs = []
    c = checksum()
    if c != ref:
        errs.append("dict checksum %r, want %r" % (c, ref))
    if os.getpid() != pid:
        errs.append("getpid() %d, want %d" % (os.getpid(), pid))
    return errs

t_main(check, precheck)
PY
t_cr_cycle "" ""
