# A forking TCP server in python3 (what socketserver.ForkingTCPServer
# does): the parent listens and hands each accepted connection to a child,
# which inherits the listener too and echoes; a client process of the tree
# keeps its connection open, with a request queued at the handler.  After
# each restore the handler answers the queued request and more over the
# same connection, and the listener (one socket held by both processes)
# still accepts.  (Sourced by tests/run.)
t_py_prog <<'PY'
import os, signal, socket, time, ctypes
from tcase import t_main
def die_with_parent():
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0)); srv.listen(8)
port = srv.getsockname()[1]
kids = []
def serve_one():
    c, _ = srv.accept()
    pid = os.fork()
    if pid == 0:
        die_with_parent()
        while True:
            data = c.recv(4096)
            if not data:
                os._exit(0)
            c.sendall(data.upper())
    c.close()
    kids.append(pid)
cli = socket.socket()
cli.connect(("127.0.0.1", port))
serve_one()
cli.sendall(b"queued request")     # waits at the handler until it reads
def check():
    e = []
    cli.settimeout(10)
    got = b""
    while len(got) < 14:
        got += cli.recv(64)
    if got != b"QUEUED REQUEST":
        e.append("the queued request came back as %r" % got)
    cli.sendall(b"ping"); got = cli.recv(64)
    if got != b"PING":
        e.append("ping came back as %r" % got)
    # the shared listener still accepts: a second client, its own handler
    c2 = socket.create_connection(("127.0.0.1", port), timeout=10)
    serve_one()
    c2.sendall(b"two"); r = c2.recv(16); c2.close()
    if r != b"TWO":
        e.append("a new connection got %r" % r)
    k = kids.pop(); os.kill(k, signal.SIGKILL); os.waitpid(k, 0)   # (it holds a copy of c2)
    cli.sendall(b"queued request")
    return e
t_main(check, check)
PY
t_dump_and_gone
t_restore_rounds 2
