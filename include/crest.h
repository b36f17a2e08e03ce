/* SPDX-License-Identifier: MIT */
/*
 * libcrest: checkpoint/restore of Linux processes.
 *
 * Every entry point returns 0 or a negative errno.  On failure the reason was
 * logged once (through the log callback, stderr by default, and the log file
 * in the image directory); crest_last_error() returns that message.
 * Nothing here calls exit().
 */
#ifndef CREST_H
#define CREST_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CREST_VERSION "0.1.0"

enum crest_log_level {
	CREST_LOG_ERROR = 0,
	CREST_LOG_WARN = 1,
	CREST_LOG_INFO = 2,
	CREST_LOG_DEBUG = 3,
};

typedef void (*crest_log_fn)(enum crest_log_level lvl, const char *msg, void *data);

/* Options shared by every operation. Zero-initialise, then set what you need. */
struct crest_opts {
	const char *images_dir;   /* -D: image directory */
	pid_t pid;                /* -t: dump: root of the tree */
	bool leave_running;       /* dump: let the tree continue after the dump */
	bool shell_job;           /* tty stdio / session outside the tree are ours */
	bool detach;              /* restore -d: do not wait for the restored tree */
	int verbosity;            /* stderr level: CREST_LOG_* (default WARN) */
	const char *log_file;     /* extra log file (the image dir log is always kept) */
	crest_log_fn log_fn;      /* optional: receives every message at or below verbosity */
	void *log_data;
	int pid_wait_ms;          /* restore: how long to wait for a busy pid (default 5000) */
	/* Optional: set *cancel non-zero (e.g. from a signal handler) to stop a
	 * dump or restore at the next safe point; it then fails with -ECANCELED
	 * and cleans up as for any failure. */
	volatile int *cancel;
	/* dump: most data a deleted-but-open file may hold to be kept in the
	 * image (0: 64 MiB); holes do not count */
	unsigned long long ghost_limit;
	/* dump: keep files that were replaced while open (their name now leads
	 * elsewhere) through a hard link in <mount root>/.crest-remap/ */
	bool link_remap;
	/* restore: write the restored root's pid (as crest sees it) to this file */
	const char *pidfile;
	/* pre-dump, dump: the previous image of a chain, relative to images_dir
	 * (as CRIU's --prev-images-dir); only the pages written since are stored */
	const char *prev_images_dir;
	/* dump: end a pre-dump chain (implied by prev_images_dir) */
	bool track_mem;
	/* pre-dump, dump: pages stored zstd-compressed, per 256 KiB chunk */
	bool compress;
	/* pre-dump: seconds the tracking waits for the next round (0: 600) */
	unsigned track_timeout;
	/* dump: keep TCP connections whose peer is outside the tree (the
	 * restore must run where the peer can still reach the addresses) */
	bool tcp_established;
	/* --external: dump "mnt[MOUNTPOINT]:KEY" (that mount is supplied from
	 * outside at restore), restore "mnt[KEY]:HOSTPATH" (it is HOSTPATH now) */
	const char *const *external;
	size_t n_external;
	const char *root;         /* restore --root: the root of the tree's mount namespace */
};

int crest_dump(const struct crest_opts *o);

/* Copy the memory of the tree into images_dir while it keeps running (it
 * is stopped only to find and reset the pages written since the parent,
 * prev_images_dir); tracks the writes until the next round.  Restore from
 * the dump that ends the chain (crest_dump with prev_images_dir). */
int crest_pre_dump(const struct crest_opts *o);

/* On success *root_pid is the restored root task.  With o->detach false
 * the caller owns it as a child and should wait for it
 * (crest_restore_wait does that and forwards SIGINT/SIGTERM). */
int crest_restore(const struct crest_opts *o, pid_t *root_pid);
int crest_restore_wait(pid_t root, int *exit_status);

/* Print every image of a directory (json: one JSON document). */
int crest_show(const char *images_dir, bool json, FILE *out);

/* Remove what a dump left outside its image directory (the --link-remap
 * links): the images can no longer be restored afterwards. */
int crest_gc(const struct crest_opts *o);

/* Check the kernel features crest needs; prints a report to out. */
int crest_check(const struct crest_opts *o, FILE *out);

/* The message of the last error logged in this thread ("" if none). */
const char *crest_last_error(void);

#ifdef __cplusplus
}
#endif
#endif
