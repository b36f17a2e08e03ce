/* Credentials survive a checkpoint: starting as root, the program drops a few
 * capabilities from its bounding set, sets supplementary groups {1001,1002},
 * gid 1000 and uid 1000 (real/effective/saved/fs) keeping CAP_NET_BIND_SERVICE
 * permitted+effective+ambient and CAP_CHOWN inheritable (SECBIT_KEEP_CAPS stays
 * set), sets dumpable back to 1 and no_new_privs.  The check compares the
 * Uid, Gid, Groups, Cap* and NoNewPrivs lines of /proc/self/status, the securebits
 * and the dumpable flag with what was recorded before the dump. */
// crest-test: mode=cr
#include "t.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#define UID 1000
#define GID 1000

static const char *const fields[] = {
	"Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:",
	"NoNewPrivs:",
};
#define NF (sizeof(fields) / sizeof(fields[0]))

static char before[NF][512];
static int securebits_before, dumpable_before;

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
	int d = prctl(PR_GET_DUMPABLE);
	if (d != dumpable_before) {
		t_fail("dumpable %d, expected %d", d, dumpable_before);
		bad = 1;
	}
	return bad ? -1 : 0;
}

static void capset3(uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	for (int i = 0; i < 2; i++) {
		d[i].effective = (uint32_t)(eff >> (32 * i));
		d[i].permitted = (uint32_t)(prm >> (32 * i));
		d[i].inheritable = (uint32_t)(inh >> (32 * i));
	}
	if (syscall(SYS_capset, &h, d) < 0)
		t_die("capset(eff %#llx prm %#llx inh %#llx): %s", (unsigned long long)eff,
		      (unsigned long long)prm, (unsigned long long)inh, strerror(errno));
}

/* uid 1000 must reach the test dir: add search permission on its ancestors
 * (mktemp -d makes them 0700) and give it the dir itself. */
static void open_up_dir(void)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s", t_dir());
	if (chown(p, UID, GID) < 0)
		t_die("chown %s: %s", p, strerror(errno));
	for (char *s = strrchr(p, '/'); s && s != p; s = strrchr(p, '/')) {
		struct stat st;
		*s = 0;
		if (stat(p, &st) == 0 && !(st.st_mode & S_IXOTH))
			chmod(p, (st.st_mode & 07777) | S_IXOTH);
	}
}

int main(int argc, char **argv)
{
	t_init(argc, argv);
	if (getuid() != 0)
		t_die("must start as root");
	open_up_dir();

	static const int drop[] = { CAP_SYS_BOOT, CAP_MKNOD, CAP_NET_RAW, CAP_SYS_MODULE };
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		if (prctl(PR_CAPBSET_DROP, drop[i], 0, 0, 0) < 0)
			t_die("PR_CAPBSET_DROP %d: %s", drop[i], strerror(errno));

	gid_t groups[] = { 1001, 1002 };
	if (setgroups(2, groups) < 0)
		t_die("setgroups: %s", strerror(errno));

	uint64_t nbs = 1ULL << CAP_NET_BIND_SERVICE, chown_ = 1ULL << CAP_CHOWN;
	uint64_t all = (1ULL << CAP_SETUID) | (1ULL << CAP_SETGID) | (1ULL << CAP_SETPCAP) |
		       nbs | chown_;
	capset3(all, all, nbs | chown_);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		t_die("PR_SET_KEEPCAPS: %s", strerror(errno));
	if (setresgid(GID, GID, GID) < 0 || setresuid(UID, UID, UID) < 0)
		t_die("setresgid/setresuid: %s", strerror(errno));
	capset3(nbs, nbs, nbs | chown_);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) < 0)
		t_die("PR_CAP_AMBIENT_RAISE: %s", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		t_die("PR_SET_DUMPABLE: %s", strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		t_die("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));

	if (read_fields(before) < 0)
		t_die("cannot read /proc/self/status: %s", strerror(errno));
	securebits_before = prctl(PR_GET_SECUREBITS);
	dumpable_before = prctl(PR_GET_DUMPABLE);
	for (size_t i = 0; i < NF; i++)
		t_log("%s", before[i]);
	t_run(check, NULL);
}
