# A restore that fails after the deleted files were recreated
# (CREST_FAULT=restore-after-fork, restore-before-resume) leaves nothing
# behind: no recreated file, no temporary name, the file that took a
# deleted file's name untouched; the images still restore afterwards.
# (Sourced by tests/run.)
t_need_bin ghost_file
t_start_prog ghost_file
t_wait_looping
t_dump_and_gone
for step in restore-after-fork restore-before-resume; do
	FAULT=$step t_restore
	[ "$RC" = 0 ] && fail "restore with CREST_FAULT=$step succeeded"
	t_expect_fault_hit "$TDIR/restore.log" "$step"
	t_expect_gone "after the failed restore ($step)"
	left=$(ls -A "$TDIR" | grep -E 'crest-ghost|^sparse$|^attrs$|^dir$|^gone$')
	[ -z "$left" ] && [ "$(cat "$TDIR/reused")" = "the new file" ] ||
		fail "after the failed restore ($step): left behind '$left', reused holds '$(cat "$TDIR/reused")'"
done
t_restore_rounds 1
