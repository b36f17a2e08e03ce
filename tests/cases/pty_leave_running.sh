# dump --leave-running of pty_pair: crest reads the bytes queued in each
# pty (reading consumes them) and puts them straight back, so the program
# that goes on finds every queue, line by line, as it was (the check after
# the dump reads and compares them all); then a restore from that image
# finds them too.  (Sourced by tests/run.)
t_need_bin pty_pair
t_start_prog pty_pair
t_wait_looping
t_dump_leave_running
t_kill
wait_gone "$PID" "$GONE_TIMEOUT" || fail "pid $PID still there"
t_restore_rounds 1
