# crest show: human and JSON views of a real dump; a corrupted image is
# reported with its reason while the other files are still shown.
# (Sourced by tests/run.)
t_need_bin regs_basic
t_start_prog regs_basic
t_wait_looping
t_dump_and_gone

"$CREST" show "$IMG" > show.txt 2> show.err || fail "crest show exit $?: $(head -c 300 show.err)"
grep -q "^inventory.img: Inventory" show.txt || fail "show: no inventory.img line"
grep -q "^core-$PID.img: TaskCore" show.txt || fail "show: no core-$PID.img line"
grep -qE "^ +rip: 0x[0-9a-f]+$" show.txt || fail "show: no hex rip line"
grep -qE "^[0-9]+ files: [0-9]+ images, [0-9]+ other, 0 unreadable$" show.txt || fail "show: bad summary line"

"$CREST" show "$IMG" --json > show.json 2> showj.err || fail "crest show --json exit $?: $(head -c 300 showj.err)"
python3 - "$PID" show.json <<'PY' || fail "show --json: $(tail -n1 showj.py.err)"
import json, sys
pid, path = sys.argv[1], sys.argv[2]
try:
    d = json.load(open(path))
    imgs, other = d["images"], d["other_files"]
    assert d["format_version"] == 2, "format_version %r" % d["format_version"]
    assert imgs["inventory.img"]["root_pid"] == int(pid), "root_pid"
    core = imgs["core-%s.img" % pid]
    assert core["pid"] == int(pid) and core["regs"]["rip"] > 0, "core"
    assert isinstance(core["xsave"], str) and len(core["xsave"]) >= 1024, "xsave hex"
    assert d["errors"] == {}, "errors %r" % d["errors"]
    for name, v in other.items():
        assert isinstance(v["size"], int), name
except Exception as e:
    open("showj.py.err", "w").write("%s: %s\n" % (type(e).__name__, e))
    sys.exit(1)
PY

# corrupt a copy: flip a payload byte of core, truncate inventory
rm -rf bad && cp -a "$IMG" bad
python3 - bad/core-$PID.img bad/inventory.img <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[40] ^= 0x5a
open(sys.argv[1], "wb").write(b)
b = open(sys.argv[2], "rb").read(); open(sys.argv[2], "wb").write(b[:10])
PY
"$CREST" show bad > bad.txt 2> bad.err && fail "crest show of a corrupt directory exited 0"
grep -q "^core-$PID.img: ERROR: .*checksum" bad.txt || fail "show: corrupt core not reported: $(grep core- bad.txt | head -2)"
grep -q "^inventory.img: ERROR: .*truncated" bad.txt || fail "show: truncated inventory not reported"
grep -qE "^[0-9]+ files: .* 2 unreadable$" bad.txt || fail "show: bad summary: $(tail -n1 bad.txt)"
grep -q "^mm-$PID.img: Mm" bad.txt || fail "show: stopped at the first corrupt image"
"$CREST" show bad --json > bad.json 2>/dev/null && fail "crest show --json of a corrupt directory exited 0"
python3 -c '
import json, sys
d = json.load(open("bad.json"))
assert set(d["errors"]) == {"core-%s.img" % sys.argv[1], "inventory.img"}, d["errors"]
assert d["format_version"] is None
assert "mm-%s.img" % sys.argv[1] in d["images"]
' "$PID" 2> badj.err || fail "show --json of a corrupt directory: $(tail -n1 badj.err)"
true
