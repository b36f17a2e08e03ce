# A byte flipped in the middle of core-<pid>.img: restore must fail with exit
# code 1 and say checksum/corrupt, not crash, leave no process; the intact
# copy of the images still restores.  (Sourced by tests/run.)
t_case_bad_image flip
