/* Credentials with every id different and locked securebits survive a
 * checkpoint: uids real 1000 / effective 0 / saved 2000 / fs 3000, gids
 * 1100 / 0 / 2100 / 3100, no supplementary groups, all capabilities kept
 * (SECBIT_NO_SETUID_FIXUP), CAP_NET_BIND_SERVICE inheritable and ambient,
 * then securebits NOROOT|NO_SETUID_FIXUP|NO_CAP_AMBIENT_RAISE with their
 * locks.  The check compares the identity lines of /proc/self/status and
 * the securebits with what was recorded before the dump. */
// crest-test: mode=cr
#include "t.h"
#include "tcreds.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/securebits.h>

static struct tcr_ids before;

static int check(void *arg)
{
	return tcr_compare(&before);
}

int main(int argc, char **argv)
{
	t_init(argc, argv);
	if (getuid() != 0)
		t_die("must start as root");

	if (prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP, 0, 0, 0) < 0)
		t_die("PR_SET_SECUREBITS: %s", strerror(errno));

	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		t_die("capget: %s", strerror(errno));
	d[CAP_NET_BIND_SERVICE / 32].inheritable |= 1U << (CAP_NET_BIND_SERVICE % 32);
	if (syscall(SYS_capset, &h, d) < 0)
		t_die("capset: %s", strerror(errno));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) < 0)
		t_die("PR_CAP_AMBIENT_RAISE: %s", strerror(errno));

	if (setgroups(0, NULL) < 0)
		t_die("setgroups: %s", strerror(errno));
	if (setresgid(1100, 0, 2100) < 0)
		t_die("setresgid: %s", strerror(errno));
	setfsgid(3100);
	if (setresuid(1000, 0, 2000) < 0)
		t_die("setresuid: %s", strerror(errno));
	setfsuid(3000);
	if ((int)setfsuid(-1) != 3000 || (int)setfsgid(-1) != 3100)
		t_die("setfsuid/setfsgid did not apply");

	int sb = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
		 SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
		 SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
	if (prctl(PR_SET_SECUREBITS, sb, 0, 0, 0) < 0)
		t_die("PR_SET_SECUREBITS %#x: %s", sb, strerror(errno));

	tcr_record(&before);
	t_run(check, NULL);
}
