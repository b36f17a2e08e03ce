# dump --leave-running: the process keeps going (not stopped, not traced) and
# passes its check; then it is killed and restored from the images (twice).
# (Sourced by tests/run.)
t_start_loop
t_dump_leave_running
t_kill
t_restore_rounds 2
