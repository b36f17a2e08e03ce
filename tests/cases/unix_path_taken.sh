# Restore of a listening unix socket (tests/bin/unix_listen, srv.sock in the
# test dir) whose path is taken when the restore runs:
#  - by a regular file: the restore fails before anything is made, says so,
#    leaves no process and does not touch the file (inode, content);
#  - by a live socket (a python3 listener outside): fails the same way;
# once the path is free again (or holds a stale socket file) it restores.
# (Sourced by tests/run.)
t_need_bin unix_listen
command -v python3 >/dev/null || fail "python3 not installed"
t_start_prog unix_listen
t_wait_looping
t_dump_and_gone
SOCK=$TDIR/srv.sock

rm -f "$SOCK"
echo "someone else's file" > "$SOCK"
ino=$(stat -c %i "$SOCK")
t_restore
[ "$RC" != 0 ] || fail "restore succeeded with a regular file at $SOCK"
last_out "$TDIR/restore.log" | grep -q "srv.sock, which is now another file.*crest does not remove it" ||
	fail "the restore error does not say the path is another file: $(last_out "$TDIR/restore.log" | grep error | head -c 300)"
[ "$(stat -c %i "$SOCK")" = "$ino" ] && [ "$(cat "$SOCK")" = "someone else's file" ] ||
	fail "the regular file at $SOCK was touched"
wait_gone "$PID" "$GONE_TIMEOUT" || fail "pid $PID exists after the failed restore"

rm -f "$SOCK"
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
open(sys.argv[1] + ".up", "w").close()
time.sleep(60)' "$SOCK" &
LP=$!
for ((i = 0; i < 200; i++)); do [ -e "$SOCK.up" ] && break; sleep 0.05; done
t_restore
kill "$LP" 2>/dev/null
wait "$LP" 2>/dev/null
[ "$RC" != 0 ] || fail "restore succeeded with a live socket at $SOCK"
last_out "$TDIR/restore.log" | grep -q "a live socket answers now" ||
	fail "the restore error does not say a live socket answers: $(last_out "$TDIR/restore.log" | grep error | head -c 300)"
wait_gone "$PID" "$GONE_TIMEOUT" || fail "pid $PID exists after the failed restore"

# the python listener is gone: a stale socket file is left, which is replaced
[ -S "$SOCK" ] || fail "no stale socket file at $SOCK"
rm -f "$SOCK.up"
t_restore_rounds 1
