/* A PROT_NONE area (written before being protected: its data must survive
 * though nobody can read it until mprotect) and a read-only area with data. */
// crest-test: mode=cr
#include "t.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#define NP 8

struct st {
	size_t ps;
	unsigned char *none, *ro, *none_empty;
	uint64_t sum_none, sum_ro;
};

static int readable(const void *p)
{
	char c;
	struct iovec l = { &c, 1 }, r = { (void *)p, 1 };

	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == 1;
}

static int perms_at(const void *p, char out[5])
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");
	int ret = -1;

	out[0] = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		char perm[5];

		if (sscanf(line, "%lx-%lx %4s", &s, &e, perm) == 3 && (unsigned long)p >= s &&
		    (unsigned long)p < e) {
			memcpy(out, perm, 5);
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

static int check(void *arg)
{
	struct st *s = arg;
	size_t len = NP * s->ps;
	char perm[5];

	if (perms_at(s->none, perm) || strcmp(perm, "---p"))
		t_fail("PROT_NONE area: perms '%s', want ---p", perm);
	if (readable(s->none) || readable(s->none + len - 1))
		t_fail("PROT_NONE area is readable");
	if (perms_at(s->none_empty, perm) || strcmp(perm, "---p"))
		t_fail("empty PROT_NONE area: perms '%s', want ---p", perm);
	if (perms_at(s->ro, perm) || strcmp(perm, "r--p"))
		t_fail("read-only area: perms '%s', want r--p", perm);
	if (t_verify_fill(s->ro, len, 0x0e0e) >= 0 || t_hash(s->ro, len) != s->sum_ro)
		t_fail("read-only area: content differs");

	/* look inside the PROT_NONE area, then protect it again */
	if (mprotect(s->none, len, PROT_READ)) {
		t_fail("mprotect: %s", strerror(errno));
		return -1;
	}
	if (t_verify_fill(s->none, len, 0x0707) >= 0 || t_hash(s->none, len) != s->sum_none)
		t_fail("PROT_NONE area: content differs (checked through a temporary PROT_READ)");
	mprotect(s->none, len, PROT_NONE);
	return 0;
}

int main(int argc, char **argv)
{
	static struct st s;
	size_t len;

	t_init(argc, argv);
	s.ps = t_page_size();
	len = NP * s.ps;
	s.none = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	s.ro = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	s.none_empty = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s.none == MAP_FAILED || s.ro == MAP_FAILED || s.none_empty == MAP_FAILED)
		t_die("mmap: %s", strerror(errno));
	t_fill(s.none, len, 0x0707);
	t_fill(s.ro, len, 0x0e0e);
	s.sum_none = t_hash(s.none, len);
	s.sum_ro = t_hash(s.ro, len);
	if (mprotect(s.none, len, PROT_NONE) || mprotect(s.ro, len, PROT_READ))
		t_die("mprotect: %s", strerror(errno));
	t_run(check, &s);
}
