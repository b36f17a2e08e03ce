/* SPDX-License-Identifier: MIT */
/* Logging.  Every message says which pid and which resource it is about. */
#ifndef CREST_LOG_H
#define CREST_LOG_H

#include <errno.h>
#include "crest.h"

struct log_cfg {
	int verbosity;          /* stderr/log_fn level */
	int fd;                 /* log file in the image dir, all levels, or -1 */
	int extra_fd;           /* --log-file, or -1 */
	int err_fd;             /* stderr moved away (restored child), or -1 */
	crest_log_fn fn;
	void *data;
};

/* Set up logging for one operation (API entry); log_end closes the files. */
void log_begin(const struct crest_opts *o, int dirfd, const char *name);
void log_end(void);
/* In a restored child: move the log fds (and a copy of stderr) to >= min so
 * that the task's own fds can take the low numbers. */
void log_move_fds(int min);

/* A helper process's error, which it printed already: only kept as this
 * thread's last error (crest_last_error). */
void log_note_error(const char *msg);

void log_msg(enum crest_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_err(fmt, ...) log_msg(CREST_LOG_ERROR, fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) log_msg(CREST_LOG_WARN, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) log_msg(CREST_LOG_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) log_msg(CREST_LOG_DEBUG, fmt, ##__VA_ARGS__)
/* Log with strerror(-err) appended; evaluates to err (negative errno). */
#define pr_errno(err, fmt, ...) ({ int _e = (err); pr_err(fmt ": %s", ##__VA_ARGS__, strerror(-_e)); _e; })

#include <string.h>

#endif
