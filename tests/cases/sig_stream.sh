# A stream of signals while the tree is dumped with --leave-running (three
# times): a sender outside the tree queues SIGRTMIN+1 with increasing values
# every ~0.2 ms and SIGUSR1 with increasing values as fast as they are
# acknowledged; the receiver checks every value is the next one (none lost,
# none twice); at the end every signal sent has arrived.  Then the usual
# dump and two restores.
# (Sourced by tests/run.)
t_need_bin sig_stream
t_start_prog sig_stream
t_wait_looping
cat > "$TDIR/sender.c" <<'CEOF'
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static long ack(void) { long v = -1; FILE *f = fopen("usr1-ack", "r"); if (f) { if (fscanf(f, "%ld", &v) != 1) v = -1; fclose(f); } return v; }
int main(int argc, char **argv)
{
	pid_t pid = atoi(argv[1]);
	long rt = 0, usr1 = 0;
	for (long i = 0; access("stop", F_OK) != 0; i++) {
		union sigval v = { .sival_int = (int)(rt + 1) };
		if (sigqueue(pid, SIGRTMIN + 1, v) == 0)
			rt++;
		else if (errno != EAGAIN)
			return 2;
		if (i % 8 == 0 && ack() == usr1) {
			v.sival_int = (int)(usr1 + 1);
			if (sigqueue(pid, SIGUSR1, v) == 0)
				usr1++;
		}
		usleep(200);
	}
	FILE *f = fopen("sent.tmp", "w");
	fprintf(f, "%ld %ld\n", rt, usr1);
	fclose(f);
	rename("sent.tmp", "sent");
	return 0;
}
CEOF
t_build_c sender
( cd "$TDIR" && exec setsid ./sender "$PID" </dev/null >/dev/null 2>&1 ) &
SENDER=$!
for i in 1 2 3; do
	sleep 0.3
	t_expect_dump_ok --leave-running
	t_expect_running "after dump --leave-running $i under a stream of signals"
	t_check
done
: > "$TDIR/stop"
for ((i = 0; i < 100; i++)); do [ -f "$TDIR/sent" ] && break; sleep 0.05; done
[ -f "$TDIR/sent" ] || fail "the sender did not stop"
read -r srt susr1 < "$TDIR/sent"
[ "$srt" -gt 100 ] && [ "$susr1" -gt 5 ] || fail "too few signals sent ($srt RT, $susr1 SIGUSR1)"
for ((i = 0; i < 100; i++)); do
	read -r grt gusr1 < "$TDIR/got" 2>/dev/null
	[ "${grt:-}" = "$srt" ] && [ "${gusr1:-}" = "$susr1" ] && break
	sleep 0.05
done
[ "${grt:-}" = "$srt" ] && [ "${gusr1:-}" = "$susr1" ] ||
	fail "sent $srt SIGRTMIN+1 and $susr1 SIGUSR1, received ${grt:-?} and ${gusr1:-?}"
t_check
note "$srt SIGRTMIN+1 and $susr1 SIGUSR1 sent across 3 dumps, each received once"
kill "$SENDER" 2>/dev/null
t_cr_cycle "" ""
