# TCP connections with a peer outside the dumped tree (a python3 client the
# runner starts): the server (python3, in the tree) has accepted one client
# and holds another connection not accepted yet on a second listener.
#  - the dump fails on the connection not accepted yet (its client is
#    outside), then, once the server took it, on the established one
#    (naming --tcp-established); the tree runs on and the client's
#    connection still works after each refusal;
#  - with --tcp-established the dump succeeds, and the network lock (an
#    nftables table, `crest check` lists it) keeps the connection: what the
#    client sends while the server is away is dropped, not answered with a
#    reset, and the restored server answers it over the same connection,
#    byte-exact; the lock is gone after the restore.  One restore only:
#    killing the restored server closes the connection for real.
# (Sourced by tests/run.)
command -v python3 >/dev/null || fail "python3 not installed"
cat > "$TDIR/client.py" <<'PY'
import os, socket, sys, time
port, tag, d = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), timeout=20)
n = 0
def rt(msg):
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        part = s.recv(len(msg) - len(got))
        if not part:
            raise Exception("connection closed")
        got += part
    if got != msg:
        raise Exception("echo %r for %r" % (got, msg))
if tag == "echo":
    rt(b"hello")
open(os.path.join(d, "client-%s-up" % tag), "w").write("1\n")
end = time.time() + 60
while time.time() < end:
    go = os.path.join(d, "client-%s-go-%d" % (tag, n + 1))
    if os.path.exists(go):
        n += 1
        try:
            rt(b"round %d " % n * 1000)
            r = "OK"
        except Exception as e:
            r = "BAD %s" % e
        open(os.path.join(d, "client-%s-%d" % (tag, n)), "w").write(r + "\n")
    time.sleep(0.02)
PY

t_py_prog <<'PY'
import os, select, socket
from tcase import t_main, wr
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0)); srv.listen(4)
idle = socket.socket(); idle.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); idle.bind(("127.0.0.1", 0)); idle.listen(4)
wr("port", "%d %d\n" % (srv.getsockname()[1], idle.getsockname()[1]))
conns = []
def tick():
    if select.select([srv], [], [], 0)[0]:
        c, _ = srv.accept(); c.setblocking(False); conns.append(c)
    if os.path.exists("take-idle") and select.select([idle], [], [], 0)[0]:
        c, _ = idle.accept(); c.close()
    for c in conns:
        try:
            data = c.recv(65536)
        except BlockingIOError:
            continue
        if data:
            c.setblocking(True); c.sendall(data); c.setblocking(False)
t_main(lambda: [], tick=tick, sleep=0.005)
PY
read -r PORT IDLE < "$TDIR/port"

client_round() { # tag n
	local i
	: > "$TDIR/client-$1-go-$2"
	for ((i = 0; i < 200; i++)); do
		[ -s "$TDIR/client-$1-$2" ] && break
		sleep 0.05
	done
	[ "$(cat "$TDIR/client-$1-$2" 2>/dev/null)" = OK ] ||
		fail "client outside the tree, round $2: '$(cat "$TDIR/client-$1-$2" 2>/dev/null)'"
	note "client $1 round $2 OK"
}
wait_up() { # tag
	local i
	for ((i = 0; i < 200; i++)); do
		[ -f "$TDIR/client-$1-up" ] && return 0
		sleep 0.05
	done
	fail "client $1 did not connect"
}

CREST_T_DIR=$TDIR timeout 60 python3 "$TDIR/client.py" "$PORT" echo "$TDIR" &
CREST_T_DIR=$TDIR timeout 60 python3 "$TDIR/client.py" "$IDLE" idle "$TDIR" &
wait_up echo
wait_up idle

t_expect_dump_refused "a listener with a connection from outside not accepted yet"
grep -q "connection not accepted yet from 127.0.0.1:.*a client outside the dumped tree" "$TDIR/.dl" ||
	fail "the refusal does not name the client outside: $(grep error "$TDIR/.dl" | head -2)"
t_expect_running "after the refused dump"
client_round echo 1

: > "$TDIR/take-idle"
sleep 0.3
t_expect_dump_refused "a connection with a peer outside the tree"
grep -q "peer is not in the dumped tree: dump with --tcp-established" "$TDIR/.dl" ||
	fail "the refusal does not name --tcp-established: $(grep error "$TDIR/.dl" | head -2)"
t_expect_running "after the refused dump"
client_round echo 2

t_dump_and_gone --tcp-established
# the network lock holds: what the client sends now is dropped (it
# retransmits) instead of being answered with a reset
LOCK=$("$CREST" show "$IMG" --json | /usr/bin/python3 -c 'import json, sys
print(json.load(sys.stdin)["images"]["netlock.img"]["table"])') || fail "no netlock.img in the image"
"$CREST" check > "$TDIR/check.out" 2>&1
grep -q "^MISSING.*no network lock left.*table inet $LOCK" "$TDIR/check.out" ||
	fail "no network lock $LOCK after the dump: $(grep "network lock" "$TDIR/check.out")"
: > "$TDIR/client-echo-go-3"
sleep 0.5
t_expect_restore_ok
t_expect_restored "$DUMP_PROGRESS"
client_round echo 3
client_round echo 4
"$CREST" check > "$TDIR/check.out" 2>&1
grep -q "table inet $LOCK" "$TDIR/check.out" &&
	fail "the network lock outlived the restore: $(grep "network lock" "$TDIR/check.out")"
true
