/* Resource limits survive a checkpoint: RLIMIT_NOFILE, RLIMIT_CORE and
 * RLIMIT_NPROC lowered (soft and hard), RLIMIT_STACK soft lowered, RLIMIT_CPU
 * soft set high; the check compares every resource's soft and hard limit
 * with what was recorded before the dump. */
// crest-test: mode=cr
#include "t.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#define NRES 16

static struct rlimit before[NRES];

static int check(void *arg)
{
	int bad = 0;
	for (int r = 0; r < NRES; r++) {
		struct rlimit now;
		if (getrlimit(r, &now) < 0) {
			t_fail("getrlimit(%d): %s", r, strerror(errno));
			bad = 1;
			continue;
		}
		if (now.rlim_cur != before[r].rlim_cur || now.rlim_max != before[r].rlim_max) {
			t_fail("resource %d: %llu/%llu, expected %llu/%llu", r,
			       (unsigned long long)now.rlim_cur, (unsigned long long)now.rlim_max,
			       (unsigned long long)before[r].rlim_cur,
			       (unsigned long long)before[r].rlim_max);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

static void lower(int res, rlim_t cur, rlim_t max, int soft_only)
{
	struct rlimit rl;
	if (getrlimit(res, &rl) < 0)
		t_die("getrlimit(%d): %s", res, strerror(errno));
	if (!soft_only && max < rl.rlim_max)
		rl.rlim_max = max;
	rl.rlim_cur = cur < rl.rlim_max ? cur : rl.rlim_max;
	if (setrlimit(res, &rl) < 0)
		t_die("setrlimit(%d): %s", res, strerror(errno));
}

int main(int argc, char **argv)
{
	t_init(argc, argv);
	lower(RLIMIT_NOFILE, 300, 777, 0);
	lower(RLIMIT_CORE, 0, 1 << 20, 0);
	lower(RLIMIT_STACK, 4 << 20, 0, 1);
	lower(RLIMIT_NPROC, 1234, 4321, 0);
	lower(RLIMIT_CPU, 100000, 0, 1);
	for (int r = 0; r < NRES; r++)
		if (getrlimit(r, &before[r]) < 0)
			t_die("getrlimit(%d): %s", r, strerror(errno));
	t_run(check, NULL);
}
