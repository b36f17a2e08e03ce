/* SPDX-License-Identifier: MIT */
/* Internals of the tty module shared by tty.c (dump), tty_restore.c and
 * tty_line.c (putting queued bytes back into a line discipline). */
#ifndef CREST_TTY_PRIV_H
#define CREST_TTY_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include "tty.pb-c.h"
#include "core/task.h"

/* struct termios2 as the kernel has it (asm/termbits.h clashes with glibc). */
#define TTY_NCCS 19
struct ktermios2 {
	uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
	uint8_t c_line;
	uint8_t c_cc[TTY_NCCS];
	uint32_t c_ispeed, c_ospeed;
};
#define CREST_TCGETS2 _IOR('T', 0x2A, struct ktermios2)
#define CREST_TCSETS2 _IOW('T', 0x2B, struct ktermios2)

#define PTS_MAJOR_FIRST 136
#define PTS_MAJOR_LAST 143
/* the devpts instance ptys are made in (the mount engineer's seam: a
 * container's own instance later) */
#define DEVPTS_DIR "/dev/pts"

/* "/dev/ptmx", "/dev/pts/ptmx"... */
bool tty_link_is_ptmx(const char *link);
/* "tty-index:" of /proc/PID/fdinfo/FD (a pty master), or -1. */
long tty_fdinfo_index(pid_t pid, const char *fd);
/* Put the queued bytes of pb back into a pty (dump: the live one; restore:
 * the new one) through TIOCSTI, with echo, signals and input processing
 * off meanwhile: mfd its master, slave a slave description (-1: none),
 * real the termios to leave it with.  pid for messages. */
int tty_put_back(int mfd, int slave, const struct ktermios2 *real, const TtyPty *pb, pid_t pid);

/* tty_restore.c: the module's restore hooks */
int tty_prepare(struct restore_ctx *c, struct restore_task *t);
int tty_prepare2(struct restore_ctx *c, struct restore_task *t);
void tty_restore_fini(struct restore_ctx *c);

#endif
