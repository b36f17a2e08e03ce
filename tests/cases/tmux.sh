# A tmux server (Debian's tmux) with an interactive bash in its one pane,
# on its own socket in the test dir, started with clean fds: after each of
# two restores from one image, `tmux capture-pane` shows the same screen,
# keys sent with send-keys reach bash (a new command runs and prints), and
# bash's history still has the commands typed before the dump.  The tree
# is the server (pty master, unix listener) and bash (session leader on the
# pty's slave, its controlling terminal).  (Sourced by tests/run.)
command -v tmux >/dev/null || fail "tmux is not installed (scripts/deps.sh)"
SOCK=$TDIR/sock
tm() { timeout 10 tmux -S "$SOCK" "$@"; }
(
	cd "$TDIR" || exit 1
	for fd in /proc/$BASHPID/fd/*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] && eval "exec $fd>&-"
	done
	CREST_T_DIR=$TDIR HOME=$TDIR PS1='$ ' exec setsid timeout 10 tmux -S "$SOCK" -f /dev/null \
		new-session -d -x 80 -y 24 "bash --norc --noprofile -i" </dev/null >/dev/null 2>&1
) || fail "cannot start tmux"
PID=$(tm display -p '#{pid}') || fail "no tmux server on $SOCK"
BASH_PID=$(tm display -p '#{pane_pid}')
note "tmux server $PID, bash $BASH_PID"
wait_screen() { # text: capture-pane shows it (5 s)
	local i
	for i in $(seq 100); do
		tm capture-pane -p | grep -q -- "$1" && return 0
		sleep 0.05
	done
	return 1
}
tm send-keys "echo first-\$((6*7))" Enter
wait_screen "^first-42" || fail "bash did not run the first command: $(tm capture-pane -p | head -c 300)"
tm send-keys "cd /tmp && echo second-\$((6*9))" Enter
wait_screen "^second-54" || fail "bash did not run the second command"
tm capture-pane -p > "$TDIR/screen-before"
t_dump
[ "$RC" = 0 ] || fail "dump failed: $(last_out "$TDIR/dump.log" | grep error | head -c 300)"
wait_gone "$PID" "$GONE_TIMEOUT" || fail "tmux server still there after the dump"
wait_gone "$BASH_PID" "$GONE_TIMEOUT" || fail "bash still there after the dump"
for round in 1 2; do
	t_restore
	[ "$RC" = 0 ] || fail "round $round: restore failed: $(last_out "$TDIR/restore.log" | grep error | head -c 300)"
	alive "$PID" || fail "round $round: tmux server not alive"
	alive "$BASH_PID" || fail "round $round: bash not alive"
	tm capture-pane -p > "$TDIR/screen-$round" || fail "round $round: capture-pane failed"
	cmp -s "$TDIR/screen-before" "$TDIR/screen-$round" ||
		fail "round $round: the screen differs: $(diff "$TDIR/screen-before" "$TDIR/screen-$round" | head -c 300)"
	tm send-keys "echo round-\$((100+$round)) in \$PWD" Enter
	wait_screen "^round-10$round in /tmp" || fail "round $round: new keys did not reach bash: $(tm capture-pane -p | tail -c 300)"
	tm send-keys "history" Enter
	wait_screen "[0-9]  cd /tmp && echo second" ||
		fail "round $round: bash's history lost the commands before the dump: $(tm capture-pane -p | tail -c 300)"
	note "round $round: same screen, new command ran, history kept"
	kill -9 "$PID" "$BASH_PID" 2>/dev/null
	wait_gone "$PID" "$GONE_TIMEOUT" || fail "round $round: tmux server still there after kill -9"
	wait_gone "$BASH_PID" "$GONE_TIMEOUT" || fail "round $round: bash still there after kill -9"
done
rm -f "$SOCK"
true
