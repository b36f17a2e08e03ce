# The TCP state of tests/bin/tcp_pending (3 connections not accepted yet
# with their data, an established connection with queues both ways, across
# two processes) survives a dump that fails late (CREST_FAULT=
# dump-before-kill: every image written, the connections not accepted yet
# already taken out of the listener to be read) and a dump --leave-running:
# the program's check (which accepts the 3 connections and checks their
# bytes and order) passes each time, so crest put every connection back.
# Then a normal dump and two restores.  (Sourced by tests/run.)
t_need_bin tcp_pending
t_start_prog tcp_pending
t_wait_looping
FAULT=dump-before-kill t_dump
[ "$RC" = 0 ] && fail "dump with CREST_FAULT=dump-before-kill succeeded"
t_expect_fault_hit "$TDIR/dump.log" dump-before-kill
t_expect_running "after the failed dump"
t_check
t_dump_leave_running
t_check
t_dump_and_gone
t_restore_rounds 2
