# dump --leave-running: the process keeps going (not stopped, not traced) and
# passes its check; then it is killed and restored from the images (twice).
# (Sourced by tests/run.)
t_need_bin loop
t_start_prog loop
t_wait_looping
t_expect_dump_ok --leave-running
t_expect_running "after dump --leave-running"
t_check
DUMP_PROGRESS=$(progress)
rm -f ready pid
t_kill
t_restore_rounds 2
