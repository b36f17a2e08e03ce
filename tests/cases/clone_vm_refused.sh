# A process sharing its parent's address space (clone(CLONE_VM|SIGCHLD)
# without CLONE_THREAD) but not its fd table: crest recreates such
# processes only as LinuxThreads made them (with CLONE_FILES and CLONE_FS),
# so the dump must fail with a message naming both pids and saying that the
# address space is shared without being threads, and leave both running,
# untraced, the child still writing into the parent's memory.
# (Sourced by tests/run.)
cat > "$TDIR/vm_prog.c" <<'CEOF'
#include "t.h"
#include "tproc.h"
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile long beats;     /* written by the child, in the parent's memory */

static long rsys(long nr, long a, long b)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return ret;
}

static int child_main(void *arg)
{
	struct timespec nap = { 0, 5000000 };
	(void)arg;
	rsys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		beats++;
		rsys(SYS_nanosleep, (long)&nap, 0);
	}
	return 0;
}

static int check(void *arg)
{
	long b = beats;
	(void)arg;
	for (int i = 0; i < 400 && beats == b; i++)
		tp_sleep_ms(5);
	if (beats == b) {
		t_fail("the child no longer writes into the parent's memory");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char *stack;

	t_init(argc, argv);
	stack = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED || clone(child_main, stack + 65536, CLONE_VM | SIGCHLD, NULL) < 0)
		t_die("clone(CLONE_VM): %m");
	t_run(check, 0);
}
CEOF
t_build_c vm_prog

t_start_prog "$TDIR/vm_prog"
t_wait_looping
CHILD=$(echo $(cat /proc/$PID/task/$PID/children 2>/dev/null))
[ -n "$CHILD" ] || fail "no child"
t_dump
[ "$RC" = 0 ] && fail "the dump succeeded although pid $CHILD shares pid $PID's address space but not its fd table"
case "$RC" in 124|137) fail "the dump timed out" ;; esac
out=$(last_out "$TDIR/dump.log" | grep -i error)
echo "$out" | grep -q "pid $CHILD shares the address space of pid $PID without being threads" ||
	fail "the error does not name both pids and say the address space is shared without being threads: $out"
echo "$out" | grep -q "CLONE_FILES" || fail "the error does not say what is missing (CLONE_FILES): $out"
for p in $PID $CHILD; do
	alive "$p" || fail "pid $p died after the refused dump"
	tr=$(tracer_of "$p")
	[ "$tr" = 0 ] || fail "pid $p still traced by $tr after the refused dump"
done
t_expect_running "after the refused dump"
t_check
kill -9 "$PID"
