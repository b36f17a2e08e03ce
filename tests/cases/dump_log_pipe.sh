# `crest dump -vv --leave-running 2>&1 | head -n 2`: the reader of crest's
# log goes away after two lines, in the middle of the per-task dump.  crest
# must not die of SIGPIPE half-way through a syscall injected into a task
# (the task would run on from the injection gadget with its registers
# changed and crash): the dump completes, the 30-process tree keeps running
# untraced and passes its check, and the images restore it.
# (Sourced by tests/run.)
t_need_bin tree_30
t_start_prog tree_30
t_wait_looping
DUMP_PROGRESS=$(progress)
rm -rf "$IMG"
mkdir -p "$IMG"
echo "### $(date +%T) crest dump -t $PID -D $IMG -vv --leave-running 2>&1 | head -n 2" >> "$TDIR/dump.log"
timeout -k 5 "$DUMP_TIMEOUT" "$CREST" dump -t "$PID" -D "$IMG" -vv --leave-running 2>&1 | head -n 2 >> "$TDIR/dump.log"
RC=${PIPESTATUS[0]}
echo "### exit $RC" >> "$TDIR/dump.log"
[ "$RC" = 0 ] || fail "crest dump with its log cut off exited with $RC (141: killed by SIGPIPE)"
[ "$(grep -c '^crest' "$TDIR/dump.log")" = 2 ] || fail "head did not cut the log after 2 lines"
t_expect_running "after the dump whose log was cut off"
t_check
rm -f "$TDIR/ready" "$TDIR/pid"
t_stash_tmp
t_kill
t_restore_rounds 1
