/* MAP_PRIVATE file mapping of a file in the test dir, some pages dirtied:
 * after restore the dirtied pages keep the new data, the untouched pages
 * still reflect the file (a change written to the file shows through them),
 * and the file itself is unchanged.  The fd is closed before the dump. */
// crest-test: mode=cr
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NP 16
#define FILE_SEED 0xf11eULL
#define DIRTY_SEED 0xd127ULL

struct st {
	size_t ps;
	unsigned char *map;
	char path[4200];
	uint64_t file_sum;
};

static int is_dirty(size_t i)
{
	return i == 0 || i == 3 || i == 4 || i == 9 || i == NP - 1;
}

static int check(void *arg)
{
	struct st *s = arg;
	size_t ps = s->ps, len = NP * ps;
	unsigned char *buf = NULL;
	int fd = -1, ret = -1;
	char line[600];
	FILE *f;
	int seen = 0;

	/* the mapping is still a private mapping of our file */
	f = fopen("/proc/self/maps", "re");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		char perm[8];

		if (sscanf(line, "%lx-%lx %7s", &a, &b, perm) == 3 && a <= (unsigned long)s->map &&
		    (unsigned long)s->map < b) {
			seen = 1;
			line[strcspn(line, "\n")] = 0;
			if (strcmp(perm, "rw-p") || !strstr(line, s->path))
				t_fail("mapping is now '%s', want rw-p of %s", line, s->path);
		}
	}
	if (f)
		fclose(f);
	if (!seen)
		t_fail("the file mapping at %p is gone", (void *)s->map);

	fd = open(s->path, O_RDWR | O_CLOEXEC);
	buf = malloc(len);
	if (fd < 0 || !buf) {
		t_fail("open %s: %s", s->path, strerror(errno));
		goto out;
	}
	if (pread(fd, buf, len, 0) != (ssize_t)len || t_hash(buf, len) != s->file_sum) {
		t_fail("the file %s changed", s->path);
		goto out;
	}
	for (size_t i = 0; i < NP; i++) {
		unsigned char *pg = s->map + i * ps;

		if (is_dirty(i)) {
			if (t_verify_fill(pg, ps, DIRTY_SEED ^ i) >= 0)
				t_fail("dirtied page %zu lost its new data", i);
		} else if (memcmp(pg, buf + i * ps, ps)) {
			t_fail("untouched page %zu differs from the file", i);
		}
	}
	/* untouched pages are still the file's page cache: a write to the file
	 * shows through the private mapping (then undo it) */
	for (size_t i = 1; i < NP; i += 7) {
		static const char mark[] = "crest-test: written through the file";

		if (is_dirty(i))
			continue;
		if (pwrite(fd, mark, sizeof(mark), (off_t)(i * ps + 100)) != sizeof(mark)) {
			t_fail("pwrite: %s", strerror(errno));
			break;
		}
		if (memcmp(s->map + i * ps + 100, mark, sizeof(mark)))
			t_fail("untouched page %zu does not reflect the file any more "
			       "(restored as a private copy?)", i);
		if (pwrite(fd, buf + i * ps + 100, sizeof(mark), (off_t)(i * ps + 100)) !=
		    sizeof(mark))
			t_fail("pwrite (undo): %s", strerror(errno));
	}
	ret = 0;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	static struct st s;
	size_t len;
	unsigned char *buf;
	int fd;

	t_init(argc, argv);
	s.ps = t_page_size();
	len = NP * s.ps;
	snprintf(s.path, sizeof(s.path), "%s/mapped.data", t_dir());
	buf = malloc(len);
	if (!buf)
		t_die("malloc");
	t_fill(buf, len, FILE_SEED);
	s.file_sum = t_hash(buf, len);
	fd = open(s.path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		t_die("create %s: %s", s.path, strerror(errno));
	free(buf);
	s.map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (s.map == MAP_FAILED)
		t_die("mmap %s: %s", s.path, strerror(errno));
	close(fd);
	for (size_t i = 0; i < NP; i++)
		if (is_dirty(i))
			t_fill(s.map + i * s.ps, s.ps, DIRTY_SEED ^ i);
	t_run(check, &s);
}
