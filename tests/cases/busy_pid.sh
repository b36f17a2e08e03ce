# Restore while the pid is still taken (after a --leave-running dump, the
# original process is alive): the restore must fail, name the pid, and leave
# the live process alone; once it is gone the restore works.
# (Sourced by tests/run.)
t_need_bin loop
t_start_prog loop
t_wait_looping
# the restored counter starts from the dump-time value, at least this much
DUMP_PROGRESS=$(progress)
t_expect_dump_ok --leave-running
t_expect_running "after dump --leave-running"
t_check
rm -f ready pid
t_restore
[ "$RC" = 0 ] && fail "restore succeeded while pid $PID is taken by a live process"
case "$RC" in 124|137) fail "restore with a busy pid timed out" ;; esac
last_out restore.log | grep -v '^###' | grep -qw "$PID" ||
	fail "the restore error does not name pid $PID"
t_expect_running "after the failed restore (the live process must be left alone)"
t_check
t_kill
t_restore_rounds 1
