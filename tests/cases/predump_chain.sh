# A pre-dump chain of a process whose memory keeps changing (predump_mem:
# random pages rewritten every 10 ms, pages dropped, a private file
# mapping's copied pages written and dropped, mappings replaced and grown):
# pre-dump 1 while it runs (its writes tracked from then on: userfaultfd
# write-protect, never one of its fds), pre-dump 2 with only the pages
# written since (zstd), then the dump that ends the chain; the restore
# follows the chain to images 2 and 1, twice.  The process checks every
# page against the seeds it keeps.  (Sourced by tests/run.)
t_need_bin predump_mem
t_start_prog predump_mem
t_wait_looping
C=$TDIR/chain
t_pre_dump "$C/1"
[ "$RC" = 0 ] || fail "pre-dump 1 failed: $(rc_msg "$RC"): $(last_out "$TDIR/dump.log" | grep error | head -c 300)"
t_expect_running "after pre-dump 1"
grep -q ' uw' "/proc/$PID/smaps" || fail "pre-dump 1 left no memory registered for write tracking (no 'uw' in smaps)"
ls -l "/proc/$PID/fd" | grep -q userfaultfd && fail "a userfaultfd is among the fds of pid $PID"
t_check
sleep 0.3
t_pre_dump "$C/2" --prev-images-dir ../1 --compress
[ "$RC" = 0 ] || fail "pre-dump 2 failed: $(rc_msg "$RC"): $(last_out "$TDIR/dump.log" | grep error | head -c 300)"
t_expect_running "after pre-dump 2"
ls -l "/proc/$PID/fd" | grep -q userfaultfd && fail "a userfaultfd is among the fds of pid $PID"
t_check
"$CREST" show --json "$C/2" > show2.json 2>/dev/null || fail "crest show of pre-dump 2 failed"
sleep 0.3
IMG=$C/3
t_dump_and_gone --prev-images-dir ../2 --track-mem
"$CREST" show --json "$IMG" > show3.json 2> show3.err || fail "crest show of the dump failed: $(head -c 300 show3.err)"
python3 - "$PID" show2.json show3.json > chain.out 2>&1 <<'PY' || fail "images: $(tail -n 1 chain.out)"
import json, os, sys
pid, s2, s3 = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
ch = s3["chain"]
assert len(ch) == 3 and not ch[0]["pre_dump"] and ch[1]["pre_dump"] and ch[2]["pre_dump"], "chain %r" % ch
for name, s in (("pre-dump 2", s2), ("dump", s3)):
    pm = s["images"]["pagemap-%s.img" % pid]
    assert pm.get("parent_pages", 0) > 1000, "%s: %r pages in the parent" % (name, pm.get("parent_pages"))
    assert pm["total_pages"] < 4096, "%s stores %d pages: not only the written ones" % (name, pm["total_pages"])
chunks = s2["images"]["pagemap-%s.img" % pid]["chunks"]
assert chunks and all("zstd" in c for c in chunks) is not None, "no chunks"
holder = s2["images"]["track.img"]["holder_pid"]
try:
    st = open("/proc/%d/stat" % holder).read().rsplit(")", 1)[1].split()[0]
except OSError:
    st = "gone"
assert st in ("gone", "Z", "X"), "the tracking holder %d still runs after the dump (state %s)" % (holder, st)
PY
t_restore_rounds 2
