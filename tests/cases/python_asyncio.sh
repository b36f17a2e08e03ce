# A real program: python3 running an asyncio event loop (asyncio.run: epoll
# selector, its self-pipe socketpair).  A ticker coroutine counts
# (asyncio.sleep: epoll_wait timeouts), and on every tick writes 1 to an
# eventfd and a byte to a pipe; two loop readers (add_reader: epoll
# registrations whose data is the fd) take them.  A SIGUSR1 handler
# (loop.add_signal_handler: set_wakeup_fd on the socketpair) counts signals.
# After the restore the loop keeps counting and the readers keep firing; on
# each check-N the script verifies that nothing was lost or doubled (what the
# readers took plus what is still in the eventfd / pipe equals the count) and
# that a SIGUSR1 it sends itself reaches the handler.  (Sourced by tests/run.)
t_py_prog <<'PY'
import asyncio, fcntl, os, signal, struct, termios
from tcase import answer, path, precheck_or_exit, wr

st = {"count": 0, "ev": 0, "pipe": 0, "sig": 0}
efd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
r, w = os.pipe()
os.set_blocking(r, False)

def on_efd():
    try:
        st["ev"] += os.eventfd_read(efd)
    except BlockingIOError:
        pass

def on_pipe():
    try:
        st["pipe"] += len(os.read(r, 65536))
    except BlockingIOError:
        pass

async def ticker():
    while True:
        st["count"] += 1
        os.eventfd_write(efd, 1)
        os.write(w, b"x")
        await asyncio.sleep(0.005)

def verify(pid, ep):
    errs = []
    # take what the readers have not taken yet, then everything must add up
    try:
        ev_left = os.eventfd_read(efd)
    except BlockingIOError:
        ev_left = 0
    st["ev"] += ev_left
    inpipe = struct.unpack("i", fcntl.ioctl(r, termios.FIONREAD, b"\0" * 4))[0]
    if st["ev"] != st["count"]:
        errs.append("eventfd: readers took %d, count %d" % (st["ev"], st["count"]))
    if st["pipe"] + inpipe != st["count"]:
        errs.append("pipe: readers took %d + %d buffered, count %d" % (st["pipe"], inpipe, st["count"]))
    if os.getpid() != pid:
        errs.append("getpid() %d, want %d" % (os.getpid(), pid))
    link = os.readlink("/proc/self/fd/%d" % ep)
    if link != "anon_inode:[eventpoll]":
        errs.append("the selector's fd %d is %s" % (ep, link))
    return errs

def on_usr1():
    st["sig"] += 1

async def main():
    loop = asyncio.get_running_loop()
    ep = loop._selector.fileno()
    pid = os.getpid()
    loop.add_reader(efd, on_efd)
    loop.add_reader(r, on_pipe)
    loop.add_signal_handler(signal.SIGUSR1, on_usr1)
    loop.create_task(ticker())
    os.kill(pid, signal.SIGUSR1)
    await asyncio.sleep(0.1)
    errs = verify(pid, ep)
    if st["sig"] != 1 or st["count"] < 10:
        errs.append("signals %d, count %d after 0.1 s" % (st["sig"], st["count"]))
    precheck_or_exit(errs)
    wr("pid", "%d\n" % pid)
    wr("ready", "ready\n")
    n = 1
    while True:
        c0, e0, p0 = st["count"], st["ev"], st["pipe"]
        await asyncio.sleep(0.02)
        wr("progress", "%d\n" % st["count"])
        while os.path.exists(path("check-%d" % n)):
            if not os.path.exists(path("result-%d" % n)):
                c0, e0, p0, s0 = st["count"], st["ev"], st["pipe"], st["sig"]
                os.kill(pid, signal.SIGUSR1)
                await asyncio.sleep(0.3)
                errs = verify(pid, ep)
                if st["sig"] != s0 + 1:
                    errs.append("SIGUSR1 handler ran %d times, want 1" % (st["sig"] - s0))
                if st["count"] < c0 + 10:
                    errs.append("count went from %d to %d in 0.3 s" % (c0, st["count"]))
                if st["ev"] < e0 + 10 or st["pipe"] < p0 + 10:
                    errs.append("readers: eventfd %d -> %d, pipe %d -> %d in 0.3 s" % (e0, st["ev"], p0, st["pipe"]))
                answer(n, errs)
            n += 1

asyncio.run(main())
PY
t_cr_cycle "" ""
