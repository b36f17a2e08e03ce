# The dump reads socket queues without taking anything out of them: after
# `crest dump --leave-running` of tests/bin/unix_pair (socketpairs with data
# queued both ways, message boundaries, shutdown, closed peers, ends in two
# processes), the process runs on and its check (which takes every queue out
# and compares it) passes; a second dump of the same process then restores
# with the same queues.  (Sourced by tests/run.)
t_need_bin unix_pair
t_start_prog unix_pair
t_wait_looping
t_expect_dump_ok --leave-running
t_expect_running "after dump --leave-running"
t_check
t_dump_and_gone
t_restore_rounds 1
