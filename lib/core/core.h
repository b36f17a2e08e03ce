/* SPDX-License-Identifier: MIT */
#ifndef CREST_CORE_H
#define CREST_CORE_H
#include <sys/user.h>
#include "core.pb-c.h"
#include "task.h"
#include "inventory.pb-c.h"

/* Write core-<pid>.img of a stopped task (registers rewritten to restart an
 * interrupted syscall, xsave area, ids, comm, personality, NSpid). */
int core_dump(struct dump_ctx *c, struct dump_task *t);
/* Final registers for the restored task (orig_rax = -1: no restart fix-up). */
void core_regs_from_image(const X86Regs *x, struct user_regs_struct *r);
/* dump.c, for pre-dump too: let every seized task go on as it was */
int dump_release_all(struct dump_ctx *c);
/* dump.c: fill the chain/format fields of inv and write inventory.img */
int dump_inventory_finish(struct dump_ctx *c, Inventory *inv, bool pre_dump);
/* dump.c: fn(o) with SIGPIPE blocked, a SIGPIPE it raised taken out again
 * (crest_dump, crest_pre_dump). */
int dump_sigpipe_blocked(int (*fn)(const struct crest_opts *o), const struct crest_opts *o);
#endif
