# --ghost-limit: a deleted file with more data than the limit fails the dump
# with a message naming the option, and the process runs on unharmed; under
# the limit it dumps (holes do not count: 1 GiB apparent, ~96 KiB of data,
# and the image stays that small) and restores twice.  (Sourced by tests/run.)
t_need_bin ghost_file
t_start_prog ghost_file
t_wait_looping
t_dump --ghost-limit 64K
[ "$RC" = 0 ] && fail "dump over --ghost-limit 64K succeeded"
msg=$(last_out "$TDIR/dump.log" | grep -m1 'error:.*--ghost-limit')
[ -n "$msg" ] || fail "the refused dump does not name --ghost-limit: $(last_out "$TDIR/dump.log" | grep -i error | head -n 2)"
note "refused: $msg"
ls "$IMG"/ghostdata-* >/dev/null 2>&1 && fail "the failed dump left ghost data in $IMG"
t_expect_running "after the refused dump"
t_check
t_dump_and_gone --ghost-limit 1M
size=$(cat "$IMG"/ghostdata-*.img | wc -c)
[ "$size" -lt $((1 << 20)) ] || fail "ghost data images hold $size bytes for ~96 KiB of data"
note "ghost data: $size bytes"
t_restore_rounds 2
