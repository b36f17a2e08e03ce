# The runner's protocol for the python3 programs of tests/cases (written
# with t_py_prog, see tests/run): files in the test dir (CREST_T_DIR, also
# the cwd) written as <name>.tmp.<pid> + rename; "pid", then "ready" (or
# "result-0" with BAD-PRECHECK), "progress" moving, and "result-N" (OK or
# BAD: why) for every "check-N" the runner creates.
import os
import sys
import time

d = os.environ["CREST_T_DIR"]
os.chdir(d)


def path(name):
    return os.path.join(d, name)


def wr(name, s):
    tmp = path("%s.tmp.%d" % (name, os.getpid()))
    with open(tmp, "w") as f:
        f.write(s)
    os.rename(tmp, path(name))


def answer(n, errs):
    wr("result-%d" % n, "BAD: %s\n" % "; ".join(errs) if errs else "OK\n")


def precheck_or_exit(errs):
    if errs:
        wr("result-0", "BAD-PRECHECK: %s\n" % "; ".join(errs))
        sys.exit(1)


def t_main(check, precheck=None, tick=None, sleep=0.01):
    """Write "pid", run precheck() (a list of errors: none, or the program
    ends with result-0), write "ready", then loop for ever: tick() if given,
    every 20 ms progress and answers check() (a list of errors) to new
    checks."""
    wr("pid", "%d\n" % os.getpid())
    if precheck:
        precheck_or_exit(precheck())
    wr("ready", "ready\n")
    count, last = 0, 0.0
    while True:
        count += 1
        if tick:
            tick()
        now = time.monotonic()
        if now - last >= 0.02 or now < last:
            wr("progress", "%d\n" % count)
            last = now
            n = 1
            while os.path.exists(path("check-%d" % n)):
                if not os.path.exists(path("result-%d" % n)):
                    answer(n, check())
                n += 1
        time.sleep(sleep)
