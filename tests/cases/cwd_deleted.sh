# A task whose cwd was removed: the dump keeps the directory (ghost.c) and
# each restore gives the task a removed directory again, shown by /proc as
# exactly "<dir>/sub (deleted)", with nothing left under that name.
# (task_misc works in "sub"; its own check compares getcwd(), which fails
# for a removed cwd, so this case checks /proc instead.)  (Sourced by tests/run.)
t_need_bin task_misc
t_start_prog task_misc
t_wait_looping
chmod 0715 "$TDIR/sub" || fail "cannot chmod the program's cwd"
rmdir "$TDIR/sub" || fail "cannot remove the program's cwd"
want="$TDIR/sub (deleted)"
[ "$(readlink /proc/$PID/cwd)" = "$want" ] || fail "before the dump /proc shows '$(readlink /proc/$PID/cwd)'"
t_dump_and_gone
for round in 1 2; do
	t_expect_restore_ok
	t_wait_progress "$DUMP_PROGRESS"
	got=$(readlink /proc/$PID/cwd)
	[ "$got" = "$want" ] || fail "restore $round: /proc/$PID/cwd is '$got', expected '$want'"
	mode=$(stat -L -c %a /proc/$PID/cwd)
	[ "$mode" = 715 ] || fail "restore $round: the cwd has mode $mode, expected 715"
	[ -e "$TDIR/sub" ] && fail "restore $round: $TDIR/sub exists again"
	ls -A "$TDIR" | grep -q crest-ghost && fail "restore $round: a temporary name is left in $TDIR"
	t_kill
done
true
