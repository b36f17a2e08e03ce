# CREST_FAULT=restore-after-fork: the restore must fail and leave
# no process at the pid; then the normal path works.
# (Sourced by tests/run.)
t_case_fault_restore restore-after-fork
