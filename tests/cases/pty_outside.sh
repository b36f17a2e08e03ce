# A pty with an end outside the dumped tree is refused by name, and the
# tree runs on, untraced:
#  1. sleep on the slave of a pty whose master python3 holds (pty.fork()):
#     dumping sleep alone names the master's holder;
#  2. a process holding a pty master and its slave while another process
#     outside the tree opened the slave by path: the dump names it.
# (Sourced by tests/run.)
PY=/usr/bin/python3
t_start_prog $PY -c '
import os, pty, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp("sleep", ["sleep", "1000"])
open("child", "w").write("%d\n" % pid)
while True:
    time.sleep(1)
'
HOLDER=$PID
for i in $(seq 250); do
	KID=$(cat "$TDIR/child" 2>/dev/null)
	[ -n "$KID" ] && [ "$(cat /proc/$KID/comm 2>/dev/null)" = sleep ] && break
	sleep 0.02
done
[ "$(cat /proc/$KID/comm 2>/dev/null)" = sleep ] || fail "the pty child did not start"
PTS=$(readlink /proc/$KID/fd/0)
PID=$KID
t_expect_dump_refused "sleep on a pty whose master is outside"
grep -q "pid $KID: fd 0 is the terminal $PTS and its master is held by pid $HOLDER (python3) fd [0-9]*, outside the tree" "$TDIR/.dl" ||
	fail "case 1: the error does not name the master's holder $HOLDER: $(grep error "$TDIR/.dl" | head -c 300)"
alive "$KID" || fail "case 1: sleep is gone after the failed dump"
[ "$(tracer_of "$KID")" = 0 ] || fail "case 1: sleep is still traced"
kill -9 "$KID" "$HOLDER" 2>/dev/null

# 2. pty_pair holds four ptys; another process opens A's slave by path
t_need_bin pty_pair
t_start_prog pty_pair
t_wait_ready
PTS=$(readlink /proc/$PID/fd/21)
( exec 0<&- 1>&- 2>&-; CREST_T_DIR=$TDIR exec setsid sleep 1000 <"$PTS" >/dev/null 2>&1 ) &
OUT=$!
for i in $(seq 250); do
	[ "$(readlink /proc/$OUT/fd/0 2>/dev/null)" = "$PTS" ] && [ "$(cat /proc/$OUT/comm)" = sleep ] && break
	sleep 0.02
done
[ "$(readlink /proc/$OUT/fd/0 2>/dev/null)" = "$PTS" ] || fail "the outside sleep does not hold $PTS"
t_expect_dump_refused "a pty whose slave is open outside"
grep -q "pid $PID: fd 20 is the master of $PTS, whose slave pid $OUT outside the dumped tree holds (fd 0)" "$TDIR/.dl" ||
	fail "case 2: the error does not name pid $OUT: $(grep error "$TDIR/.dl" | head -c 300)"
t_expect_running "after the refused dump"
t_check
kill -9 "$OUT" 2>/dev/null
true
