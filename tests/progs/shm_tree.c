/* MAP_SHARED|MAP_ANONYMOUS memory set up before fork, shared by a parent, a
 * child and a grandchild.  After each restore a write in one is seen by the
 * others: the root writes a fresh nonce and changes data pages, the child
 * and grandchild (polling every 5 ms) answer with the nonce and the hash of
 * the data as they see it; and their own heartbeat counters, written into
 * the shared area, move as seen by the root. */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define NPAGES 16
#define SEED 0x5f3a11ULL

struct ctl {
	_Atomic uint64_t nonce;          /* written by the root */
	struct {
		_Atomic uint64_t echo;   /* = nonce once seen */
		_Atomic uint64_t hash;   /* hash of data as seen, with echo */
		_Atomic uint64_t beat;   /* own counter */
		_Atomic int pid;
	} k[2];
};

static struct ctl *ctl;
static unsigned char *data;
static size_t len;
static int kids[2];
static uint64_t rnd = 0x1234;

static __attribute__((noreturn)) void kid(int i)
{
	uint64_t last = 0;

	ctl->k[i].pid = getpid();
	for (;;) {
		uint64_t n = atomic_load(&ctl->nonce);
		if (n != last) {
			atomic_store(&ctl->k[i].hash, t_hash(data, len));
			atomic_store(&ctl->k[i].echo, n);
			last = n;
		}
		atomic_fetch_add(&ctl->k[i].beat, 1);
		tp_sleep_ms(5);
	}
}

static int check(void *arg)
{
	uint64_t nonce, want, beat[2];
	size_t off;

	if (t_verify_fill(data + len / 2, len / 2, SEED + 1) >= 0)
		t_fail("the second half of the shared data lost its content");
	for (int i = 0; i < 2; i++)
		beat[i] = atomic_load(&ctl->k[i].beat);
	/* a write in the root: one byte of the first half, then a new nonce */
	off = t_rand(&rnd) % (len / 2);
	data[off] ^= 0x5a;
	want = t_hash(data, len);
	nonce = t_rand(&rnd) | 1;
	atomic_store(&ctl->nonce, nonce);
	for (int i = 0; i < 2; i++) {
		int ok = 0;
		for (int k = 0; k < 400 && !ok; k++) {
			ok = atomic_load(&ctl->k[i].echo) == nonce;
			if (!ok)
				tp_sleep_ms(5);
		}
		if (!ok)
			t_fail("%s %d does not see the root's writes (echo %#llx, want %#llx; state %c)",
			       i ? "grandchild" : "child", kids[i],
			       (unsigned long long)atomic_load(&ctl->k[i].echo), (unsigned long long)nonce,
			       ({ struct tp_stat s; tp_read_stat(kids[i], &s) ? '?' : s.state; }));
		else if (atomic_load(&ctl->k[i].hash) != want)
			t_fail("%s %d sees other data than the root", i ? "grandchild" : "child", kids[i]);
		else if (atomic_load(&ctl->k[i].beat) == beat[i])
			t_fail("the root does not see %s %d's writes", i ? "grandchild" : "child", kids[i]);
		if (atomic_load(&ctl->k[i].pid) != kids[i])
			t_fail("slot %d names pid %d, want %d", i, ctl->k[i].pid, kids[i]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	size_t ps;

	t_init(argc, argv);
	ps = t_page_size();
	len = NPAGES * ps;
	ctl = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	data = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctl == MAP_FAILED || data == MAP_FAILED)
		t_die("mmap: %s", strerror(errno));
	t_fill(data, len / 2, SEED);
	t_fill(data + len / 2, len / 2, SEED + 1);
	kids[0] = tp_fork();
	if (kids[0] == 0) {
		int g = tp_fork();
		if (g == 0)
			kid(1);
		kid(0);
	}
	if (kids[0] < 0)
		t_die("fork: %s", strerror(errno));
	for (int i = 0; i < 1000 && !(ctl->k[0].pid && ctl->k[1].pid); i++)
		tp_sleep_ms(5);
	kids[1] = ctl->k[1].pid;
	if (!kids[1])
		t_die("the children did not start");
	t_run(check, NULL);
}
