# redis-server (Debian's, no persistence, on a free loopback port) started
# by a python3 program of the tree that keeps a client connection to it
# (RESP by hand): keys set before the dump (one of 1 MiB) are there after
# each restore, read over the same connection (same local port, never
# reconnected), a counter goes on from its value; a redis-cli outside the
# tree is served too.  (Sourced by tests/run.)
command -v redis-server >/dev/null || fail "redis-server not installed (scripts/deps.sh)"
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "$PORT" > "$TDIR/port"
t_py_prog <<'PY'
import ctypes, os, signal, socket, subprocess, time
from tcase import d, t_main
def die_with_parent():     # the runner kills only the root between restores
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
port = int(open(os.path.join(d, "port")).read())
srv = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "no", "--daemonize", "no", "--dir", d,
                        "--logfile", os.path.join(d, "redis.log")],
                       stdin=subprocess.DEVNULL, close_fds=True, preexec_fn=die_with_parent)
for i in range(200):
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        break
    except OSError:
        time.sleep(0.05)
local = c.getsockname()
buf = b""
def cmd(*args):
    global buf
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    c.sendall(out)
    def line():
        global buf
        while b"\r\n" not in buf:
            buf += c.recv(65536)
        l, buf = buf.split(b"\r\n", 1)
        return l
    l = line()
    if l[:1] == b"$":
        n = int(l[1:])
        if n < 0:
            return None
        while len(buf) < n + 2:
            buf += c.recv(1 << 20)
        v, buf = buf[:n], buf[n + 2:]
        return v
    if l[:1] == b":":
        return int(l[1:])
    return l[1:]
BIG = os.urandom(1 << 20)
cmd("SET", "key1", "value one")
cmd("SET", "big", BIG)
state = {"n": cmd("INCR", "counter")}
def check():
    e = []
    if c.getsockname() != local:
        e.append("the client connection is not the same")
    if cmd("GET", "key1") != b"value one":
        e.append("key1 lost")
    if cmd("GET", "big") != BIG:
        e.append("the 1 MiB value differs")
    n = cmd("INCR", "counter")
    if n != state["n"] + 1:
        e.append("counter %r, expected %d" % (n, state["n"] + 1))
    state["n"] = n
    if cmd("PING") != b"PONG":
        e.append("no PONG")
    return e
t_main(check, check, sleep=0.01)
PY
outside() {
	local v
	v=$(timeout 10 redis-cli -h 127.0.0.1 -p "$PORT" get key1 2>&1) || fail "redis-cli outside the tree: $v"
	[ "$v" = "value one" ] || fail "redis-cli outside the tree got '$v'"
}
outside
t_dump_and_gone
for round in 1 2; do
	t_expect_restore_ok
	t_expect_restored "$DUMP_PROGRESS"
	outside
	t_check
	t_kill
done
