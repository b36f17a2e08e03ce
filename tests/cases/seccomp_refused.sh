# A task under a seccomp filter cannot be checkpointed yet: the dump must
# fail, say why (seccomp), and leave the task running untouched.  The filter
# kills the process on prctl(2), a syscall crest injects: the check must
# come before any injection (creds_check_seccomp() right after the seize).
# (Sourced by tests/run.)
cat > prog.py <<'PY'
import ctypes, os, struct, time
libc = ctypes.CDLL(None, use_errno=True)
U = ctypes.c_ulong
# ld nr; jeq __NR_prctl ? KILL_PROCESS : ALLOW
insns = [(0x20, 0, 0, 0), (0x15, 0, 1, 157), (0x06, 0, 0, 0x80000000), (0x06, 0, 0, 0x7fff0000)]
code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in insns))
class Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
prog = Fprog(len(insns), ctypes.addressof(code))
if libc.prctl(U(38), U(1), U(0), U(0), U(0)) != 0:          # PR_SET_NO_NEW_PRIVS
    raise SystemExit("no_new_privs: errno %d" % ctypes.get_errno())
if libc.prctl(U(22), U(2), ctypes.byref(prog), U(0), U(0)) != 0:   # PR_SET_SECCOMP, FILTER
    raise SystemExit("seccomp: errno %d" % ctypes.get_errno())
open("ready", "w").write("ready\n")
n = 0
while True:
    n += 1
    with open("progress.tmp", "w") as f:
        f.write("%d\n" % n)
    os.rename("progress.tmp", "progress")
    time.sleep(0.02)
PY
t_start_prog python3 "$TDIR/prog.py"
t_wait_looping
grep -q '^Seccomp:[[:space:]]*2' /proc/$PID/status || fail "the program is not in seccomp filter mode"
t_dump
[ "$RC" != 0 ] || fail "dump of a seccomp-confined task succeeded"
last_run dump.log | grep -q 'seccomp mode' || fail "dump failed without naming seccomp: $(last_run dump.log | grep -i error | head -n 2)"
t_expect_running "after the refused dump"
note "dump refused: $(last_run dump.log | grep 'seccomp mode' | head -n 1)"
t_kill
true
