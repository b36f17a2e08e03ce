# A python3 program with unix sockets: socket.socketpair() with data queued
# both ways, and a small server listening on a path in the test dir that
# answers any client ("hello N" -> "world N"), with one client connection
# of its own open (data queued both ways).  After each restore: the queued
# data is intact, the old connection works, and a NEW client started by the
# runner (another python3, outside the tree) is served.  (Sourced by
# tests/run.)

# a client outside the tree: must get its answer
new_client() {
	local out
	out=$(timeout 20 python3 - "$TDIR/py.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b"hello " + sys.argv[2].encode())
print(s.recv(64).decode())
PY
	) || fail "client outside the tree: no answer from the server ($out)"
	[ "$out" = "world $1" ] || fail "client outside the tree got '$out', expected 'world $1'"
	note "client outside the tree: $out"
}

t_py_prog <<'PY'
import os, select, socket, time
from tcase import d, t_main
A2B, B2A = b"queued from a " * 100, b"queued from b"
REQ, RESP = b"old client request", b"old server response"
a, b = socket.socketpair()
a.sendall(A2B)
b.sendall(B2A)
path = os.path.join(d, "py.sock")
if os.path.exists(path):
    os.unlink(path)
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(8)
cli = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
cli.connect(path)
conn, _ = srv.accept()
cli.sendall(REQ)
conn.sendall(RESP)
for s in (a, b, cli, conn):
    s.setblocking(False)
srv.setblocking(False)
served = 0
def take(s, n):
    got = b""
    while len(got) < n:
        try:
            part = s.recv(n - len(got))
        except BlockingIOError:
            break
        if not part:
            break
        got += part
    return got
def check():
    e = []
    for s, want, name in ((b, A2B, "socketpair b"), (a, B2A, "socketpair a"),
                          (conn, REQ, "accepted conn"), (cli, RESP, "client")):
        got = take(s, len(want) + 1)
        if got != want:
            e.append("%s: %d bytes queued, expected %d" % (name, len(got), len(want)))
    if srv.getsockname() != path:
        e.append("server bound to %r" % srv.getsockname())
    # both ways over the old connection, then put everything back
    cli.sendall(b"ping")
    time.sleep(0.01)
    if take(conn, 5) != b"ping":
        e.append("old connection: ping lost")
    a.sendall(A2B); b.sendall(B2A); cli.sendall(REQ); conn.sendall(RESP)
    return e
def serve():
    global served
    while select.select([srv], [], [], 0)[0]:
        c, _ = srv.accept()
        c.settimeout(5)
        try:
            msg = c.recv(64)
            if msg.startswith(b"hello "):
                c.sendall(b"world " + msg[6:])
                served += 1
        except OSError:
            pass
        c.close()
t_main(check, check, tick=serve, sleep=0.005)
PY
new_client before
t_dump_and_gone
for round in 1 2; do
	t_expect_restore_ok
	t_expect_restored "$DUMP_PROGRESS"
	new_client "after-$round"
	t_check
	t_kill
done
