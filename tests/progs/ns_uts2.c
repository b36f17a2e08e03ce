/* Two uts namespaces in one tree: the process unshares one of its own
 * (hostname crest-outer, domainname crest-dom), its child another one
 * (crest-inner).  After each restore both names are back, each task is in
 * its own namespace (not the other's, not the one it started in). */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static int child;
static unsigned long host_ns;

static unsigned long ns_ino(int pid)
{
	char p[64];
	struct stat st;
	snprintf(p, sizeof(p), "/proc/%d/ns/uts", pid);
	return stat(p, &st) < 0 ? 0 : (unsigned long)st.st_ino;
}

/* the hostname in pid's uts namespace, read by a helper that enters it */
static int name_of(int pid, char *out, size_t size)
{
	int p[2], st;
	char path[64];
	pid_t h;
	ssize_t n;

	if (pipe(p) < 0)
		return -1;
	h = fork();
	if (h == 0) {
		struct utsname u;
		snprintf(path, sizeof(path), "/proc/%d/ns/uts", pid);
		int fd = open(path, O_RDONLY);
		if (fd < 0 || setns(fd, CLONE_NEWUTS) < 0 || uname(&u) < 0)
			_exit(1);
		(void)!write(p[1], u.nodename, strlen(u.nodename));
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], out, size - 1);
	close(p[0]);
	waitpid(h, &st, 0);
	out[n > 0 ? n : 0] = 0;
	return n > 0 ? 0 : -1;
}

static int check(void *arg)
{
	struct utsname u;
	char inner[65];

	uname(&u);
	if (strcmp(u.nodename, "crest-outer") || strcmp(u.domainname, "crest-dom"))
		t_fail("own uts: hostname '%s' domainname '%s', want crest-outer / crest-dom", u.nodename,
		       u.domainname);
	if (name_of(child, inner, sizeof(inner)) < 0 || strcmp(inner, "crest-inner"))
		t_fail("the child's hostname is '%s', want crest-inner", inner);
	if (ns_ino(getpid()) == ns_ino(child) || ns_ino(getpid()) == host_ns || ns_ino(child) == host_ns)
		t_fail("uts namespaces not distinct: own %lu, child %lu, the start's %lu", ns_ino(getpid()),
		       ns_ino(child), host_ns);
	return 0;
}

int main(int argc, char **argv)
{
	t_init(argc, argv);
	host_ns = ns_ino(getpid());
	if (unshare(CLONE_NEWUTS) < 0 || sethostname("crest-outer", 11) < 0 ||
	    setdomainname("crest-dom", 9) < 0)
		t_die("unshare/sethostname: %s", strerror(errno));
	child = tp_fork();
	if (child == 0) {
		if (unshare(CLONE_NEWUTS) < 0 || sethostname("crest-inner", 11) < 0)
			_exit(1);
		tp_idle();
	}
	tp_sleep_ms(50);
	t_run(check, NULL);
}
