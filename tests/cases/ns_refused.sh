# Namespaces crest refuses, each dump failing with a message that names the
# pid and the namespace, the process left running: a task in a user
# namespace other than crest's, and a uts namespace of the tree that a
# process outside the tree shares (it would lose it), and an attached SysV
# segment of crest's own ipc namespace, a POSIX message queue.  (Sourced by
# tests/run.)
t_start_prog unshare --user --map-root-user sleep 1000
for ((i = 0; i < 100; i++)); do
	[ "$(readlink /proc/$PID/ns/user)" != "$(readlink /proc/self/ns/user)" ] && break
	sleep 0.05
done
t_expect_dump_refused "a task in a user namespace"
grep -q "pid $PID is in a user namespace .* nested user namespaces are not supported yet" "$TDIR/.dl" ||
	fail "no refusal naming the user namespace: $(grep error "$TDIR/.dl" | head -n 1)"
alive "$PID" || fail "the refused dump killed pid $PID"
t_kill

t_start_prog unshare --uts sleep 1000
for ((i = 0; i < 100; i++)); do
	[ "$(readlink /proc/$PID/ns/uts)" != "$(readlink /proc/self/ns/uts)" ] && break
	sleep 0.05
done
CREST_T_DIR=$TDIR nsenter -t "$PID" -u sleep 1001 </dev/null >/dev/null 2>&1 &
OUT=$!
for ((i = 0; i < 100; i++)); do
	[ "$(readlink /proc/$OUT/ns/uts)" = "$(readlink /proc/$PID/ns/uts)" ] && break
	sleep 0.05
done
t_expect_dump_refused "a uts namespace shared with a process outside the tree"
grep -q "pid $OUT (sleep) is not in the dumped tree but shares the uts namespace" "$TDIR/.dl" ||
	fail "no refusal naming the outsider $OUT: $(grep error "$TDIR/.dl" | head -n 1)"
alive "$PID" || fail "the refused dump killed pid $PID"
kill -9 "$OUT"
t_kill
# An attached SysV segment of crest's own ipc namespace (its other users
# would be out of the dump): refused, naming the mapping and the remedy.
cat > "$TDIR/attach.c" <<'C'
#include <sys/shm.h>
#include <unistd.h>
int main(void)
{
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	char *p = shmat(id, 0, 0);
	shmctl(id, IPC_RMID, 0);   /* gone with the process */
	if (p == (void *)-1)
		return 1;
	p[0] = 1;
	for (;;)
		pause();
}
C
t_build_c attach
t_start_prog "$TDIR/attach"
for ((i = 0; i < 100; i++)); do grep -q SYSV /proc/$PID/maps 2>/dev/null && break; sleep 0.05; done
t_expect_dump_refused "an attached SysV segment of crest's ipc namespace"
grep -q "pid $PID: memory .* is the SysV shared memory segment .* of crest's own ipc namespace: not supported" "$TDIR/.dl" ||
	fail "no refusal naming the SysV segment: $(grep error "$TDIR/.dl" | head -n 1)"
alive "$PID" || fail "the refused dump killed pid $PID"
t_kill
# A POSIX message queue in the tree's own ipc namespace: refused by name.
cat > "$TDIR/mq.c" <<'C'
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <unistd.h>
int main(void)
{
	mqd_t q;
	if (unshare(CLONE_NEWIPC) < 0 || (q = mq_open("/crest-q", O_CREAT | O_RDWR, 0600, NULL)) < 0)
		return 1;
	mq_close(q);   /* the queue stays, in the namespace only */
	(void)!write(1, "ok\n", 3);
	for (;;)
		pause();
}
C
t_build_c mq
t_start_prog "$TDIR/mq"
for ((i = 0; i < 100; i++)); do grep -q ok "$TDIR/stdout" 2>/dev/null && break; sleep 0.05; done
t_expect_dump_refused "a POSIX message queue"
grep -q "pid $PID: its ipc namespace has the POSIX message queue /crest-q: POSIX message queues are not supported yet" "$TDIR/.dl" ||
	fail "no refusal naming the POSIX message queue: $(grep error "$TDIR/.dl" | head -n 1)"
alive "$PID" || fail "the refused dump killed pid $PID"
t_kill
true
