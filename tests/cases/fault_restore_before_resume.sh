# CREST_FAULT=restore-before-resume: the restore must fail and leave
# no process at the pid; then the normal path works.
# (Sourced by tests/run.)
t_case_fault_restore restore-before-resume
