# A pty of a devpts instance other than crest's /dev/pts (a container's
# own) is refused by name, and the process runs on.  The pty is made by a
# child in a private mount namespace of its own, which mounts a new devpts
# instance, opens a pty in it, passes both ends to its parent (SCM_RIGHTS)
# and sleeps (its namespace keeps the instance mounted): the parent, in
# crest's mount namespace, is dumped.
# (Sourced by tests/run.)
t_start_prog /usr/bin/python3 -c '
import os, socket, subprocess, time
a, b = socket.socketpair()
child = r"""
import os, socket, array
s = socket.socket(fileno=FD)
m, t = os.openpty()
s.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [m, t]))])
os.close(m); os.close(t); s.close()
import time
time.sleep(1000)
"""
subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c",
    "mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts && exec /usr/bin/python3 -c \"$0\"",
    child.replace("FD", str(b.fileno()))], pass_fds=[b.fileno()], stdin=subprocess.DEVNULL)
msg, anc, _, _ = a.recvmsg(1, socket.CMSG_SPACE(8))
fds = list(__import__("array").array("i", anc[0][2]))
a.close(); b.close()
open("pts", "w").write(os.readlink("/proc/self/fd/%d" % fds[1]))
while True:
    time.sleep(1)
'
for i in $(seq 250); do
	[ -s "$TDIR/pts" ] && break
	sleep 0.02
done
[ -s "$TDIR/pts" ] || fail "the program did not get its pty: $(tail -c 300 "$TDIR/stderr")"
t_expect_dump_refused "a pty of another devpts instance"
grep -q "pid $PID: fd [0-9]* (/dev/ptmx): pty [0-9]* lives in another devpts instance (dev [0-9:]*) than crest's /dev/pts" "$TDIR/.dl" ||
	fail "the error does not name the pty's instance: $(grep error "$TDIR/.dl" | head -c 300)"
alive "$PID" || fail "the program is gone after the refused dump"
[ "$(tracer_of "$PID")" = 0 ] || fail "the program is still traced"
true
