/* The simplest test program (also used by the shell cases): static, heap
 * and stack data with checksums, the pid, and the loop itself. */
// crest-test: mode=cr
#include "t.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEAP (1 << 20)

static unsigned char data[65536] = { 1 };
static unsigned char bss[65536];

struct st {
	pid_t pid;
	unsigned char *heap;
	unsigned char *stack;
	uint64_t sum;
};

static uint64_t sum_all(struct st *s)
{
	return t_hash(data, sizeof(data)) ^ (t_hash(bss, sizeof(bss)) * 3) ^
	       (t_hash(s->heap, HEAP) * 5) ^ (t_hash(s->stack, 4096) * 7);
}

static int check(void *arg)
{
	struct st *s = arg;

	if (getpid() != s->pid)
		t_fail("getpid() is %d, want %d", (int)getpid(), (int)s->pid);
	if (t_verify_fill(data, sizeof(data), 1) >= 0)
		t_fail(".data differs");
	if (t_verify_fill(bss, sizeof(bss), 2) >= 0)
		t_fail(".bss differs");
	if (t_verify_fill(s->heap, HEAP, 3) >= 0)
		t_fail("heap differs");
	if (t_verify_fill(s->stack, 4096, 4) >= 0)
		t_fail("stack data differs");
	if (sum_all(s) != s->sum)
		t_fail("checksum differs");
	return 0;
}

int main(int argc, char **argv)
{
	static struct st s;
	unsigned char stack[4096];

	t_init(argc, argv);
	s.pid = getpid();
	s.heap = malloc(HEAP);
	if (!s.heap)
		t_die("malloc");
	s.stack = stack;
	t_fill(data, sizeof(data), 1);
	t_fill(bss, sizeof(bss), 2);
	t_fill(s.heap, HEAP, 3);
	t_fill(stack, sizeof(stack), 4);
	s.sum = sum_all(&s);
	t_run(check, &s);
}
