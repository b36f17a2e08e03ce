/* A cgroup namespace (started by tests/cases/ns_cgroup.sh with the path of
 * a cgroup2 directory made for it): the process joins that cgroup, makes a
 * cgroup namespace rooted there, and its child joins a cgroup below
 * ("inner").  Both views of /proc/PID/cgroup from inside ("0::/" and
 * "0::/inner", and every v1 hierarchy at its root) must read the same after
 * every restore: the namespace got its root back and the tasks their
 * cgroups. */
// crest-test: mode=case
#include "t.h"
#include "tproc.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char own[2048], kid[2048];
static int child;

static void view(int pid, char *out, size_t size)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/cgroup", pid);
	if (t_read_file(p, out, size) < 0)
		out[0] = 0;
}

static void join(const char *dir)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	int fd = open(p, O_WRONLY);
	if (fd < 0 || write(fd, "0", 1) != 1)
		t_die("joining %s: %s", dir, strerror(errno));
	close(fd);
}

static int check(void *arg)
{
	char now[2048];

	view(getpid(), now, sizeof(now));
	if (strcmp(now, own))
		t_fail("own cgroups now '%s', were '%s'", now, own);
	view(child, now, sizeof(now));
	if (strcmp(now, kid))
		t_fail("the child's cgroups now '%s', were '%s'", now, kid);
	if (!strstr(own, "\n0::/\n") && strncmp(own, "0::/\n", 5))
		t_fail("own cgroup2 path is not the namespace's root: '%s'", own);
	return 0;
}

int main(int argc, char **argv)
{
	char inner[512];

	t_init(argc, argv);
	if (argc < 2)
		t_die("usage: ns_cgroup CGROUP2-DIR");
	join(argv[1]);
	if (unshare(CLONE_NEWCGROUP) < 0)
		t_die("unshare(CLONE_NEWCGROUP): %s", strerror(errno));
	snprintf(inner, sizeof(inner), "%s/inner", argv[1]);
	child = tp_fork();
	if (child == 0) {
		join(inner);
		tp_idle();
	}
	for (int i = 0; i < 200; i++) {
		view(child, kid, sizeof(kid));
		if (strstr(kid, "0::/inner"))
			break;
		tp_sleep_ms(10);
	}
	view(getpid(), own, sizeof(own));
	t_run(check, NULL);
}
