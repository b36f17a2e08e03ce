/* SPDX-License-Identifier: MIT */
/*
 * crest test library: a test program records its state, calls t_run(check),
 * and the runner (tests/run) checkpoints/restores it and asks it to verify
 * itself through trigger files in $CREST_T_DIR:
 *
 *   pid          written by t_init()
 *   ready        written once the pre-check passed (result-0 on failure)
 *   progress     loop counter, rewritten every ~20 ms
 *   check-N      created by the runner; the program answers with
 *   result-N     "OK\n" or "BAD: <messages>\n"
 *
 * Every file is written atomically (temp file + rename) and no fd stays open
 * between writes, so the library adds no state of its own to the process.
 */
#ifndef CREST_T_H
#define CREST_T_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Reads CREST_T_DIR (the per-test dir; "." when unset, for manual runs),
 * chdir()s there, writes "pid". */
void t_init(int argc, char **argv);

/* Record one mismatch; use inside a check function.  Also printed on stderr. */
void t_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* 0 = all as expected; else call t_fail(...) and return -1. */
typedef int (*t_check_fn)(void *arg);

/* Optional: called on every loop iteration. */
void t_set_work(void (*fn)(void *arg), void *arg);

/* Pre-check, "ready", then loop forever answering check-N triggers. */
void t_run(t_check_fn check, void *arg) __attribute__((noreturn));

/* ---- helpers ---- */

/* Debug line on stderr, prefixed with the program name and pid. */
void t_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Setup failed before t_run (not a crest bug): write result-0 "BAD-PRECHECK:
 * <msg>" and exit 1. */
void t_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Fast 64-bit hash of a buffer (not cryptographic). */
uint64_t t_hash(const void *p, size_t n);

/* Fill a buffer with a reproducible pseudo-random pattern from seed. */
void t_fill(void *p, size_t n, uint64_t seed);

/* Index of the first byte that differs from t_fill(seed) or -1 (as ssize). */
long t_verify_fill(const void *p, size_t n, uint64_t seed);

/* splitmix64 step: *state advances, returns the next value. */
uint64_t t_rand(uint64_t *state);

/* clock_gettime(clk) in nanoseconds. */
int64_t t_now_ns(clockid_t clk);

/* Watch a counter that a periodic timer's handler bumps for ~500 ms: it must
 * move at one per period_us (within 30%).  0, or t_fail(WHAT ...) and -1. */
/* sigaction(sig) with handler fn, flags, an empty sa_mask; t_die on error. */
void t_on_signal(int sig, void (*fn)(int), int flags);

int t_check_rate(const volatile unsigned long *ticks, long period_us, const char *what);

/* Write a file in the test dir (or an absolute path) atomically (temp file
 * + rename). 0 / -1. */
int t_write_file(const char *name, const char *data, size_t len);

/* Read a whole file in the test dir (or an absolute path) into buf (NUL-terminated, truncated to
 * size-1).  Returns the length or -1. */
long t_read_file(const char *name, char *buf, size_t size);

/* Absolute path of the test dir. */
const char *t_dir(void);

/* Page size. */
size_t t_page_size(void);

#endif
