/* Credentials survive a checkpoint: starting as root, the program drops a few
 * capabilities from its bounding set, sets supplementary groups {1001,1002},
 * gid 1000 and uid 1000 (real/effective/saved/fs) keeping CAP_NET_BIND_SERVICE
 * permitted+effective+ambient and CAP_CHOWN inheritable (SECBIT_KEEP_CAPS stays
 * set), sets dumpable back to 1 and no_new_privs.  The check compares the
 * Uid, Gid, Groups, Cap* and NoNewPrivs lines of /proc/self/status, the securebits
 * and the dumpable flag with what was recorded before the dump. */
// crest-test: mode=cr
#include "t.h"
#include "tcreds.h"

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

static struct tcr_ids before;
static int dumpable_before;

static int check(void *arg)
{
	int bad = tcr_compare(&before) < 0;
	int d = prctl(PR_GET_DUMPABLE);

	if (d != dumpable_before) {
		t_fail("dumpable %d, expected %d", d, dumpable_before);
		bad = 1;
	}
	return bad ? -1 : 0;
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
	tcr_capset(all, all, nbs | chown_);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		t_die("PR_SET_KEEPCAPS: %s", strerror(errno));
	if (setresgid(GID, GID, GID) < 0 || setresuid(UID, UID, UID) < 0)
		t_die("setresgid/setresuid: %s", strerror(errno));
	tcr_capset(nbs, nbs, nbs | chown_);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) < 0)
		t_die("PR_CAP_AMBIENT_RAISE: %s", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		t_die("PR_SET_DUMPABLE: %s", strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		t_die("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));

	tcr_record(&before);
	dumpable_before = prctl(PR_GET_DUMPABLE);
	t_run(check, NULL);
}
