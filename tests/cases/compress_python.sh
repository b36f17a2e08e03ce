# --compress on a real program: python3 with a dict of 2e5 strings; the
# pages are stored as zstd chunks (the image must be much smaller than the
# memory it holds), zero pages recorded, not stored; restored twice, the
# script verifies the dict itself.  (Sourced by tests/run.)
t_py_prog <<'PY'
import os, zlib
from tcase import t_main

big = {}
for i in range(200000):
    big["key-%07d" % i] = "value %d of the dict, %s" % (i * 7, "x" * (i % 40))

def checksum():
    h = 0
    for k, v in big.items():
        h = zlib.crc32(k.encode(), h)
        h = zlib.crc32(v.encode(), h)
    return (len(big), h)

ref = checksum()

def check():
    c = checksum()
    return [] if c == ref else ["dict checksum %r, want %r" % (c, ref)]

t_main(check, lambda: [] if checksum() == ref else ["checksum not stable"])
PY
t_dump_and_gone --compress
"$CREST" show --json "$IMG" > show.json 2> show.err || fail "crest show failed: $(head -c 300 show.err)"
python3 - "$PID" show.json "$IMG" > cmp.out 2>&1 <<'PY' || fail "compressed images: $(tail -n 1 cmp.out)"
import json, os, sys
pid, d, img = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
assert d["images"]["inventory.img"].get("compress"), "inventory does not say compress"
pm = d["images"]["pagemap-%s.img" % pid]
z = [c for c in pm["chunks"] if c.get("zstd")]
assert z, "no zstd chunk"
size = os.path.getsize(os.path.join(img, "pages-%s.img" % pid))
raw = pm["total_pages"] * 4096
assert size < raw * 0.5, "pages file %d bytes for %d bytes of pages" % (size, raw)
PY
t_restore_rounds 2
