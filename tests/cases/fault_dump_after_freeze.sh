# CREST_FAULT=dump-after-freeze: the dump must fail and leave
# the process running and passing its check; then the normal path works.
# (Sourced by tests/run.)
t_case_fault_dump dump-after-freeze
