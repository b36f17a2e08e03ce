# CREST_FAULT=dump-before-kill: the dump must fail and leave
# the process running and passing its check; then the normal path works.
# (Sourced by tests/run.)
t_case_fault_dump dump-before-kill
