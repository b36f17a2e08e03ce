# A real program under a seccomp filter: python3 with a filter that kills
# the process on prctl(2), a syscall crest itself injects at dump and at
# restore (PR_GET_SECUREBITS, PR_SET_PDEATHSIG...).  The dump suspends the
# filter for crest's injections, the restore installs it last: the program
# goes on after both, and the filter still acts (a forked child calling
# prctl dies of SIGSYS).  (Sourced by tests/run.)
t_py_prog <<'PY'
import ctypes, os, signal, struct
from tcase import t_main
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
pid = os.getpid()

def check():
    errs = []
    st = open("/proc/self/status").read()
    if "\nSeccomp:\t2\n" not in st or "\nSeccomp_filters:\t1\n" not in st:
        errs.append("not in seccomp filter mode with 1 filter")
    if os.getpid() != pid:
        errs.append("getpid() %d, want %d" % (os.getpid(), pid))
    c = os.fork()
    if c == 0:
        libc.prctl(U(15), U(0), U(0), U(0), U(0))            # PR_SET_NAME: killed
        os._exit(0)
    _, s = os.waitpid(c, 0)
    if not os.WIFSIGNALED(s) or os.WTERMSIG(s) != signal.SIGSYS:
        errs.append("a child calling prctl was not killed by SIGSYS (status %#x)" % s)
    return errs

t_main(check, check)
PY
grep -q '^Seccomp:[[:space:]]*2' /proc/$PID/status || fail "the program is not in seccomp filter mode"
t_cr_cycle "" ""
