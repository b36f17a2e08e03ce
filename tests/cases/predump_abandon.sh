# A pre-dump chain that is abandoned: `crest gc -D DIR` ends its memory
# tracking (no memory registered any more, the holder gone), as does
# --track-timeout; the process runs on normally, no userfaultfd ever among
# its fds, and a plain dump of it afterwards restores.  (Sourced by tests/run.)
t_need_bin predump_mem
t_start_prog predump_mem
t_wait_looping
C=$TDIR/chain
untracked() { # seconds: wait until no memory of $PID is registered
	local i
	for ((i = 0; i < $1 * 20; i++)); do
		grep -q ' uw' "/proc/$PID/smaps" || return 0
		sleep 0.05
	done
	return 1
}
t_pre_dump "$C/1"
[ "$RC" = 0 ] || fail "pre-dump 1 failed: $(rc_msg "$RC")"
t_pre_dump "$C/2" --prev-images-dir ../1
[ "$RC" = 0 ] || fail "pre-dump 2 failed: $(rc_msg "$RC")"
grep -q ' uw' "/proc/$PID/smaps" || fail "no memory registered for tracking after pre-dump 2"
run_crest "$TDIR/gc.log" 30 gc -D "$C/2" -v
[ "$RC" = 0 ] || fail "crest gc failed: $(rc_msg "$RC")"
untracked 3 || fail "memory still registered (uw) 3 s after crest gc"
ls -l "/proc/$PID/fd" | grep -q userfaultfd && fail "a userfaultfd is among the fds of pid $PID"
t_expect_running "after crest gc"
t_check
t_pre_dump "$C/4" --track-timeout 1
[ "$RC" = 0 ] || fail "pre-dump with --track-timeout failed: $(rc_msg "$RC")"
grep -q ' uw' "/proc/$PID/smaps" || fail "no memory registered for tracking after the pre-dump"
untracked 5 || fail "memory still registered (uw) 5 s after a pre-dump with --track-timeout 1"
t_expect_running "after the tracking timed out"
t_check
t_dump_and_gone
t_restore_rounds 1
