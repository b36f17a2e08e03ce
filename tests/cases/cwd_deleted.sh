# A task whose cwd was deleted cannot be checkpointed yet: the dump must fail
# naming the cwd and leave the task running.  (task_misc works in "sub".)
# (Sourced by tests/run.)
t_need_bin task_misc
t_start_prog task_misc
t_wait_looping
rmdir "$TDIR/sub" || fail "cannot remove the program's cwd"
t_dump
[ "$RC" != 0 ] || fail "dump of a task with a deleted cwd succeeded"
msg=$(last_run dump.log | grep 'error: pid .*cwd' | head -n 1)
[ -n "$msg" ] || fail "dump failed without naming the cwd: $(last_run dump.log | grep -i error | head -n 2)"
note "refused: $msg"
t_expect_running "after the refused dump"
t_kill
true
