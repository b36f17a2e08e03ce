# `python3 -m http.server`'s server (ThreadingHTTPServer, HTTP/1.1) in the
# tree, and a client of it in the same process with a keep-alive
# connection that is in the middle of a 4 MiB response when the dump comes
# (1 MiB read, the rest in flight: the server's thread blocked in its send).
# After each restore the client reads the rest of that response over the
# same connection (same local port) and checks it byte-exact, makes more
# requests on it, and a new client outside the tree is served too.
# (Sourced by tests/run.)
mkdir -p "$TDIR/www"
head -c $((4 << 20)) /dev/urandom > "$TDIR/www/big.bin"
echo "small file" > "$TDIR/www/small.txt"

t_py_prog <<'PY'
import hashlib, http.client, http.server, os, threading
from functools import partial
from tcase import d, t_main, wr
www = os.path.join(d, "www")
BIG = hashlib.sha256(open(os.path.join(www, "big.bin"), "rb").read()).hexdigest()
class H(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(H, directory=www))
threading.Thread(target=srv.serve_forever, daemon=True).start()
port = srv.server_address[1]
wr("port", "%d\n" % port)
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
conn.connect()
local = conn.sock.getsockname()
state = {"resp": None, "head": b""}
def start_big():
    conn.request("GET", "/big.bin")
    r = conn.getresponse()
    state["resp"], state["head"] = r, r.read(1 << 20)
def check():
    e = []
    if conn.sock is None or conn.sock.getsockname() != local:
        return ["the keep-alive connection is not the same one"]
    r = state["resp"]
    if r is not None:
        body = state["head"] + r.read()
        if len(body) != 4 << 20 or hashlib.sha256(body).hexdigest() != BIG:
            e.append("the response in flight came back with %d bytes, not byte-exact" % len(body))
    for i in range(3):
        conn.request("GET", "/small.txt")
        r = conn.getresponse()
        if r.status != 200 or r.read() != b"small file\n":
            e.append("request %d on the kept connection failed" % i)
    if conn.sock.getsockname() != local:
        e.append("the client reconnected")
    start_big()
    return e
t_main(check, check)
PY
read -r PORT < "$TDIR/port"

new_client() {
	local out
	out=$(timeout 20 python3 -c '
import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/small.txt" % sys.argv[1], timeout=10).read().decode().strip())' "$PORT") ||
		fail "client outside the tree: no answer from the server ($out)"
	[ "$out" = "small file" ] || fail "client outside the tree got '$out'"
}

new_client
t_dump_and_gone
for round in 1 2; do
	t_expect_restore_ok
	t_expect_restored "$DUMP_PROGRESS"
	new_client
	t_check
	t_kill
done
