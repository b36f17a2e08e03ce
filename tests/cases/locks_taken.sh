# A lock the restore cannot take again fails it by name, and leaves no
# process behind (tests/bin/locks, its files in the test dir):
#  - another process holds a flock() on "locked": the restore fails naming
#    fd 20, the flock() lock and the file;
#  - another process holds a POSIX lock on bytes 120-129: it fails naming the
#    POSIX write lock on bytes 100-149 and the holder's pid;
# once the locks are free it restores (twice).  (Sourced by tests/run.)
t_need_bin locks
command -v flock >/dev/null || fail "flock(1) not installed"
t_start_prog locks
t_wait_looping
t_dump_and_gone

flock -o -x -n "$TDIR/locked" sleep 60 &
HP=$!
for ((i = 0; i < 100; i++)); do grep -q "FLOCK.*WRITE $HP " /proc/locks && break; sleep 0.05; done
t_restore
kill "$HP" 2>/dev/null
wait "$HP" 2>/dev/null
[ "$RC" != 0 ] || fail "restore succeeded while another process held the flock()"
last_out "$TDIR/restore.log" | grep -q "fd 20 (.*/locked): cannot take its write flock() lock again: another process holds a conflicting lock" ||
	fail "the restore error does not name the flock: $(last_out "$TDIR/restore.log" | grep error | head -c 300)"
wait_gone "$PID" "$GONE_TIMEOUT" || fail "pid $PID exists after the failed restore"

python3 -c '
import fcntl, time
f = open("locked", "r+")
fcntl.lockf(f, fcntl.LOCK_EX, 10, 120)
open("held", "w").close()
time.sleep(60)' &
HP=$!
for ((i = 0; i < 200; i++)); do [ -e "$TDIR/held" ] && break; sleep 0.05; done
t_restore
kill "$HP" 2>/dev/null
wait "$HP" 2>/dev/null
[ "$RC" != 0 ] || fail "restore succeeded while another process held a POSIX lock"
last_out "$TDIR/restore.log" | grep -q "fd 21 (.*/locked): cannot take its write POSIX lock on bytes 100-149 again: pid $HP holds a conflicting lock" ||
	fail "the restore error does not name the POSIX lock and its holder: $(last_out "$TDIR/restore.log" | grep error | head -c 300)"
wait_gone "$PID" "$GONE_TIMEOUT" || fail "pid $PID exists after the failed restore"
note "refused: $(last_out "$TDIR/restore.log" | grep error | head -n 1)"

t_restore_rounds 2
