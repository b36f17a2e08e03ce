# A parent blocked in vfork() cannot be stopped (PTRACE_INTERRUPT waits
# until its child execs or exits).  The tree: root R (the test loop) -> P,
# which vfork()s C; C sleeps before it execs.
#  1. While C sleeps, the dump must not hang: it waits a bounded time for the
#     exec, then fails naming C ("a vfork child that has not exec'd yet") and
#     P, and leaves all three running, untraced, P still in vfork().
#  2. C is told to exec in 1 s and the dump is started at once: it waits for
#     the exec and succeeds; the tree (P back from vfork, C exec'd) restores
#     twice and checks itself.
# (Sourced by tests/run.)
cat > "$TDIR/vfork_prog.c" <<'CEOF'
#include "t.h"
#include "tproc.h"
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

struct st { int p; };

static int child_of(int pid)
{
	char path[64], buf[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	return t_read_file(path, buf, sizeof(buf)) > 0 ? atoi(buf) : 0;
}

static int execd(int pid)
{
	char path[64], buf[256];
	long n;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	n = t_read_file(path, buf, sizeof(buf));
	for (long i = 0; i < n; i++)
		if (!strcmp(buf + i, "execd"))
			return 1;
	return 0;
}

static int check(void *arg)
{
	struct st *s = arg;
	struct tp_stat sp, sc;
	int c = child_of(s->p);
	int go = access("go", F_OK) == 0;

	if (tp_read_stat(s->p, &sp) < 0 || sp.ppid != getpid() || c <= 0 || tp_read_stat(c, &sc) < 0 ||
	    sc.ppid != s->p) {
		t_fail("the tree is not R %d -> P %d -> C %d", getpid(), s->p, c);
		return -1;
	}
	if (!go && (sp.state != 'D' || execd(c))) {
		t_fail("P %d should wait in vfork (state %c) for C %d, not exec'd yet (%d)", s->p,
		       sp.state, c, execd(c));
		return -1;
	}
	if (go && (sp.state == 'D' || !execd(c))) {
		t_fail("C %d should have exec'd (%d) and P %d be back from vfork (state %c)", c, execd(c),
		       s->p, sp.state);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct st s;
	struct tp_stat sp;

	if (argc > 1 && !strcmp(argv[1], "execd"))
		tp_idle();              /* C after its exec */
	t_init(argc, argv);
	s.p = tp_fork();
	if (s.p < 0)
		t_die("fork: %m");
	if (s.p == 0) {
		int c = vfork();
		if (c == 0) {
			/* C, in P's memory: only syscalls until the exec */
			struct timespec nap = { 0, 20000000 }, wait1 = { 1, 0 };
			prctl(PR_SET_PDEATHSIG, SIGKILL);   /* dies with P (kept across exec) */
			while (access("go", F_OK) < 0)
				nanosleep(&nap, NULL);
			nanosleep(&wait1, NULL);
			execl("/proc/self/exe", "vfork_prog", "execd", (char *)NULL);
			_exit(127);
		}
		tp_idle();              /* P, back from vfork */
	}
	for (int i = 0; i < 1000 && (tp_read_stat(s.p, &sp) < 0 || sp.state != 'D' || !child_of(s.p)); i++)
		tp_sleep_ms(5);
	t_run(check, &s);
}
CEOF
t_build_c vfork_prog

kids() { local c; c=$(cat /proc/$1/task/$1/children 2>/dev/null); echo $c; }
t_start_prog "$TDIR/vfork_prog"
t_wait_looping
P=$(kids "$PID")
C=$(kids "$P")
[ -n "$P" ] && [ -n "$C" ] || fail "no tree R $PID -> P '$P' -> C '$C'"
[ "$(pid_state "$P")" = D ] || fail "P $P is not waiting in vfork (state $(pid_state "$P"))"
note "R $PID, P $P (in vfork), C $C"

# 1. refused after a bounded wait, everything left running
t0=$(date +%s%N)
t_dump
t1=$(date +%s%N)
[ "$RC" = 0 ] && fail "the dump succeeded while P $P waited in vfork() for C $C"
case "$RC" in 124|137) fail "the dump hung (timed out)" ;; esac
ms=$(( (t1 - t0) / 1000000 ))
note "refused after $ms ms"
[ "$ms" -lt 15000 ] || fail "the refusal took $ms ms"
out=$(last_out "$TDIR/dump.log" | grep -i error)
echo "$out" | grep -q "pid $C is a vfork child that has not exec'd yet" ||
	fail "the error does not say that C $C is a vfork child that has not exec'd: $out"
echo "$out" | grep -q "pid $P waits for it" || fail "the error does not name P $P: $out"
for p in $PID $P $C; do
	alive "$p" || fail "pid $p died after the refused dump"
	tr=$(tracer_of "$p")
	[ "$tr" = 0 ] || fail "pid $p still traced by $tr after the refused dump"
done
[ "$(pid_state "$P")" = D ] || fail "P $P left vfork (state $(pid_state "$P")) though C did not exec"
t_expect_running "after the refused dump"
t_check

# 2. C execs in 1 s: the dump waits for it, then succeeds
: > "$TDIR/go"
t_dump_and_gone
last_out "$TDIR/dump.log" | grep -q "waits in vfork() for its child $C" ||
	fail "the dump did not wait for the vfork child (no 'waits in vfork()' in its log)"
last_out "$TDIR/dump.log" | grep -q "its vfork child $C has exec'd" ||
	fail "the dump log does not say that C $C exec'd"
t_restore_rounds 2
