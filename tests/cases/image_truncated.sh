# core-<pid>.img truncated to half its size: restore must fail with exit code
# 1 and say corrupt/truncated, not crash, leave no process; the intact copy
# of the images still restores.  (Sourced by tests/run.)
t_case_bad_image truncate
