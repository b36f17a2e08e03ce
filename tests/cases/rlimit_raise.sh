# A hard limit above crest's own cannot be granted without CAP_SYS_RESOURCE:
# restoring the rlimits program (RLIMIT_NOFILE hard 777) from a crest whose
# hard limit is 500 must fail before anything is created, naming the
# resource and both values; a normal restore afterwards still works.
# (Sourced by tests/run.)
if [ $(( 0x$(awk '/^CapEff:/ {print $2}' /proc/self/status) >> 24 & 1 )) = 1 ]; then
	note "crest has CAP_SYS_RESOURCE here: raising is allowed, nothing to test"
	exit 0
fi
t_need_bin rlimits
t_start_prog rlimits
t_wait_looping
t_dump_and_gone

REAL_CREST=$CREST
CREST=$(command -v prlimit) || fail "prlimit(1) not installed"
run_crest "$TDIR/restore.log" "$RESTORE_TIMEOUT" --nofile=100:500 "$REAL_CREST" restore -D "$IMG" -d -v
CREST=$REAL_CREST
[ "$RC" != 0 ] || fail "restore with a too low hard RLIMIT_NOFILE succeeded"
alive "$PID" && fail "pid $PID exists after the failed restore"
msg=$(last_run restore.log | grep 'RLIMIT_NOFILE' | head -n 1)
case "$msg" in
*"777"*"500"*) note "refused: $msg" ;;
*) fail "no clear RLIMIT_NOFILE message: $(last_run restore.log | grep -i error | head -n 2)" ;;
esac

t_restore_rounds 1
true
