# Restore while the pid is still taken (after a --leave-running dump, the
# original process is alive): the restore must fail, name the pid, and leave
# the live process alone; once it is gone the restore works.
# (Sourced by tests/run.)
t_start_loop
t_dump_leave_running
t_restore
[ "$RC" = 0 ] && fail "restore succeeded while pid $PID is taken by a live process"
case "$RC" in 124|137) fail "restore with a busy pid timed out" ;; esac
last_out restore.log | grep -v '^###' | grep -qw "$PID" ||
	fail "the restore error does not name pid $PID"
t_expect_running "after the failed restore (the live process must be left alone)"
t_check
t_kill
t_restore_rounds 1
