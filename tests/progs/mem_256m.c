/* A 256 MiB anonymous region filled with a pseudo-random pattern: every byte
 * must come back (pattern verified and checksum compared). */
// crest-test: mode=cr
#include "t.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>

#define SIZE (256UL << 20)
#define SEED 0x256256256ULL

struct st {
	unsigned char *p;
	uint64_t sum;
};

static int check(void *arg)
{
	struct st *s = arg;
	long bad = t_verify_fill(s->p, SIZE, SEED);
	uint64_t sum;

	if (bad >= 0) {
		t_fail("byte %ld (page %ld) differs from the pattern", bad, bad / 4096);
		return -1;
	}
	sum = t_hash(s->p, SIZE);
	if (sum != s->sum)
		t_fail("checksum 0x%" PRIx64 ", want 0x%" PRIx64, sum, s->sum);
	return 0;
}

int main(int argc, char **argv)
{
	static struct st s;

	t_init(argc, argv);
	s.p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s.p == MAP_FAILED)
		t_die("mmap 256 MiB: %s", strerror(errno));
	t_fill(s.p, SIZE, SEED);
	s.sum = t_hash(s.p, SIZE);
	t_run(check, &s);
}
