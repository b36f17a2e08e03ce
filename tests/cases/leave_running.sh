# dump --leave-running: the process keeps going (not stopped, not traced) and
# passes its check; then it is killed and restored from the images (twice).
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
t_kill
t_restore_rounds 2
