# tests/bin/unix_listen (listening unix sockets at a path and an abstract
# name, with accepted and pending connections), and after each restore a
# NEW client that the runner starts, outside the restored tree (python3),
# connects to the path and to the abstract name: the restored listeners
# accept it and answer, and the old connections still work (the program's
# check, see tests/progs/unix_listen.c).  (Sourced by tests/run.)
t_need_bin unix_listen
command -v python3 >/dev/null || fail "python3 not installed"
cat > "$TDIR/client.py" <<'PY'
import socket, sys
path, abstract, out = sys.argv[1], sys.argv[2], sys.argv[3]
res = []
for addr in (path, "\0" + abstract):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    try:
        s.connect(addr)
        s.sendall(b"hello")
        res.append(s.recv(16).decode())
    except Exception as e:
        res.append("error: %s" % e)
    s.close()
open(out, "w").write(" ".join(res) + "\n")
PY

# the runner's client: started, then the check makes the program serve it
outside_check() {
	local cp i
	rm -f "$TDIR/client-out"
	: > "$TDIR/outside"
	timeout 30 python3 "$TDIR/client.py" "$TDIR/srv.sock" "crest-listen-$PID" "$TDIR/client-out" &
	cp=$!
	t_check
	for ((i = 0; i < 600; i++)); do
		kill -0 "$cp" 2>/dev/null || break
		sleep 0.05
	done
	wait "$cp"
	rm -f "$TDIR/outside"
	[ "$(cat "$TDIR/client-out" 2>/dev/null)" = "world world" ] ||
		fail "client outside the tree: '$(cat "$TDIR/client-out" 2>/dev/null)', expected 'world world'"
	note "client outside the tree served"
}

t_start_prog unix_listen
t_wait_looping
outside_check
t_dump_and_gone
for round in 1 2; do
	t_expect_restore_ok
	alive "$PID" || fail "pid $PID not alive after restore"
	t_wait_progress "$DUMP_PROGRESS"
	outside_check
	t_check
	[ -e "$TDIR/ready" ] && fail "the program was started afresh (new ready file)"
	t_kill
done
