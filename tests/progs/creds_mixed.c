/* Credentials with every id different and locked securebits survive a
 * checkpoint: uids real 1000 / effective 0 / saved 2000 / fs 3000, gids
 * 1100 / 0 / 2100 / 3100, no supplementary groups, all capabilities kept
 * (SECBIT_NO_SETUID_FIXUP), CAP_NET_BIND_SERVICE inheritable and ambient,
 * then securebits NOROOT|NO_SETUID_FIXUP|NO_CAP_AMBIENT_RAISE with their
 * locks.  The check compares the identity lines of /proc/self/status and
 * the securebits with what was recorded before the dump. */
// crest-test: mode=cr
#include "t.h"

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

static const char *const fields[] = {
	"Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:",
	"NoNewPrivs:",
};
#define NF (sizeof(fields) / sizeof(fields[0]))

static char before[NF][512];
static int securebits_before;

static int read_fields(char out[NF][512])
{
	char line[512];
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return -1;
	for (size_t i = 0; i < NF; i++)
		out[i][0] = 0;
	while (fgets(line, sizeof(line), f)) {
		for (size_t i = 0; i < NF; i++)
			if (!strncmp(line, fields[i], strlen(fields[i]))) {
				line[strcspn(line, "\n")] = 0;
				snprintf(out[i], 512, "%s", line);
			}
	}
	fclose(f);
	return 0;
}

static int check(void *arg)
{
	char now[NF][512];
	int bad = 0;

	if (read_fields(now) < 0) {
		t_fail("cannot read /proc/self/status: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < NF; i++)
		if (strcmp(now[i], before[i])) {
			t_fail("'%s', expected '%s'", now[i], before[i]);
			bad = 1;
		}
	int sb = prctl(PR_GET_SECUREBITS);
	if (sb != securebits_before) {
		t_fail("securebits %#x, expected %#x", sb, securebits_before);
		bad = 1;
	}
	return bad ? -1 : 0;
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

	if (read_fields(before) < 0)
		t_die("cannot read /proc/self/status: %s", strerror(errno));
	securebits_before = prctl(PR_GET_SECUREBITS);
	for (size_t i = 0; i < NF; i++)
		t_log("%s", before[i]);
	t_run(check, NULL);
}
