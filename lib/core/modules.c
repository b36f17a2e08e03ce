/* SPDX-License-Identifier: MIT */
/* The resource modules, in the order the core calls them. */
#include "task.h"

extern const struct crest_module mnt_module;
extern const struct crest_module files_module, tty_module, sig_module, timers_module, misc_module,
	rlimit_module, creds_module, seccomp_module, ns_module;

const struct crest_module *const crest_modules[MOD_MAX] = {
	[MOD_MNT] = &mnt_module,
	[MOD_FILES] = &files_module,
	[MOD_TTY] = &tty_module,
	[MOD_SIG] = &sig_module,
	[MOD_TIMERS] = &timers_module,
	[MOD_MISC] = &misc_module,
	[MOD_RLIMIT] = &rlimit_module,
	[MOD_SECCOMP] = &seccomp_module,
	[MOD_CREDS] = &creds_module,
	[MOD_NS] = &ns_module,
};
