/* memfd_create, data written with write(), mapped MAP_SHARED, fd kept open:
 * after restore the fd is still the memfd (name, size, offset, seals), the
 * mapping holds the data, and a write through the mapping is seen through
 * the fd (and the other way round): the two still share the same file. */
// crest-test: mode=cr
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define NP 8
#define SEED 0x3e3fdULL

struct st {
	int fd;
	size_t ps, len;
	unsigned char *map;
	uint64_t sum;
	int seals;
};

static int check(void *arg)
{
	struct st *s = arg;
	char link[64], target[256];
	struct stat st;
	ssize_t n;
	off_t off;
	uint64_t v, w, back;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", s->fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0) {
		t_fail("fd %d is not open any more: %s", s->fd, strerror(errno));
		return -1;
	}
	target[n] = 0;
	if (strcmp(target, "/memfd:crest-test (deleted)"))
		t_fail("fd %d is now '%s', want '/memfd:crest-test (deleted)'", s->fd, target);
	if (fstat(s->fd, &st) || (size_t)st.st_size != s->len)
		t_fail("fd %d: size %lld, want %zu", s->fd, (long long)st.st_size, s->len);
	off = lseek(s->fd, 0, SEEK_CUR);
	if (off != (off_t)s->len)
		t_fail("fd %d: offset %lld, want %zu", s->fd, (long long)off, s->len);
	if (fcntl(s->fd, F_GET_SEALS) != s->seals)
		t_fail("fd %d: seals 0x%x, want 0x%x", s->fd, fcntl(s->fd, F_GET_SEALS), s->seals);
	if (t_verify_fill(s->map, s->len, SEED) >= 0 || t_hash(s->map, s->len) != s->sum) {
		t_fail("mapping content differs");
		return -1;
	}
	/* write through the mapping, read through the fd, and back; then undo */
	memcpy(&back, s->map + 3 * s->ps + 8, 8);
	v = 0x1234567890abcdefULL ^ (uint64_t)t_now_ns(CLOCK_MONOTONIC);
	memcpy(s->map + 3 * s->ps + 8, &v, 8);
	if (pread(s->fd, &w, 8, (off_t)(3 * s->ps + 8)) != 8 || w != v)
		t_fail("a write through the mapping is not seen through fd %d", s->fd);
	v = ~v;
	if (pwrite(s->fd, &v, 8, (off_t)(3 * s->ps + 8)) != 8)
		t_fail("pwrite: %s", strerror(errno));
	memcpy(&w, s->map + 3 * s->ps + 8, 8);
	if (w != v)
		t_fail("a write through fd %d is not seen through the mapping", s->fd);
	memcpy(s->map + 3 * s->ps + 8, &back, 8);
	return 0;
}

int main(int argc, char **argv)
{
	static struct st s;
	unsigned char *buf;

	t_init(argc, argv);
	s.ps = t_page_size();
	s.len = NP * s.ps;
	s.fd = memfd_create("crest-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s.fd < 0)
		t_die("memfd_create: %s", strerror(errno));
	buf = malloc(s.len);
	if (!buf)
		t_die("malloc");
	t_fill(buf, s.len, SEED);
	s.sum = t_hash(buf, s.len);
	if (write(s.fd, buf, s.len) != (ssize_t)s.len)
		t_die("write memfd: %s", strerror(errno));
	free(buf);
	if (fcntl(s.fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
		t_die("F_ADD_SEALS: %s", strerror(errno));
	s.seals = fcntl(s.fd, F_GET_SEALS);
	s.map = mmap(NULL, s.len, PROT_READ | PROT_WRITE, MAP_SHARED, s.fd, 0);
	if (s.map == MAP_FAILED)
		t_die("mmap memfd: %s", strerror(errno));
	t_run(check, &s);
}
