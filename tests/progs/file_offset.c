/* Regular files, a directory and an O_PATH fd come back at their numbers
 * with the same target (dev/ino), position, status flags and FD_CLOEXEC:
 * an O_RDWR file at an offset (a write lands there), an O_APPEND file at an
 * offset below its end (a write still lands at the end), a read-only
 * O_NONBLOCK|O_NOATIME file at a high fd number, a directory read part way
 * (getdents position), and an O_PATH fd.  Close-on-exec is mixed. */
// crest-test: mode=cr
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DATA_SIZE 8192
#define RW_POS 1234
#define APPEND_POS 2
#define RO_POS 4000
#define RO_FD 77

struct fdrec {
	const char *what;
	int fd;
	dev_t dev;
	ino_t ino;
	off_t pos;          /* -1: not seekable (O_PATH) */
	int fl, fdfl;
};

struct st {
	struct fdrec f[5];
	int nr;
	int rw, app, ro, dir, path;
};

static void record(struct st *s, const char *what, int fd)
{
	struct fdrec *r = &s->f[s->nr++];
	struct stat st;

	if (fstat(fd, &st) < 0)
		t_die("fstat %s: %m", what);
	r->what = what;
	r->fd = fd;
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	r->fl = fcntl(fd, F_GETFL);
	r->fdfl = fcntl(fd, F_GETFD);
	r->pos = (r->fl & O_PATH) ? -1 : lseek(fd, 0, SEEK_CUR);
}

static int check_rec(const struct fdrec *r)
{
	struct stat st;
	int bad = 0, v;

	if (fstat(r->fd, &st) < 0) {
		t_fail("%s fd %d: fstat: %m", r->what, r->fd);
		return -1;
	}
	if (st.st_dev != r->dev || st.st_ino != r->ino) {
		t_fail("%s fd %d: target dev/ino %lu/%lu, expected %lu/%lu", r->what, r->fd,
		       (unsigned long)st.st_dev, (unsigned long)st.st_ino, (unsigned long)r->dev,
		       (unsigned long)r->ino);
		bad = -1;
	}
	if ((v = fcntl(r->fd, F_GETFL)) != r->fl) {
		t_fail("%s fd %d: F_GETFL 0%o, expected 0%o", r->what, r->fd, v, r->fl);
		bad = -1;
	}
	if ((v = fcntl(r->fd, F_GETFD)) != r->fdfl) {
		t_fail("%s fd %d: F_GETFD %d, expected %d", r->what, r->fd, v, r->fdfl);
		bad = -1;
	}
	if (r->pos >= 0) {
		off_t p = lseek(r->fd, 0, SEEK_CUR);
		if (p != r->pos) {
			t_fail("%s fd %d: position %lld, expected %lld", r->what, r->fd, (long long)p,
			       (long long)r->pos);
			bad = -1;
		}
	}
	return bad;
}

static int check(void *arg)
{
	struct st *s = arg;
	int bad = 0, vfd;
	char buf[DATA_SIZE], want[DATA_SIZE];
	struct stat st;
	off_t end;

	for (int i = 0; i < s->nr; i++)
		if (check_rec(&s->f[i]) < 0)
			bad = -1;
	if (bad)
		return -1;

	/* A write on the O_RDWR fd lands at its position (idempotent). */
	if (write(s->rw, "ABCD", 4) != 4) {
		t_fail("write on the O_RDWR fd: %m");
		return -1;
	}
	lseek(s->rw, RW_POS, SEEK_SET);
	vfd = open("data.bin", O_RDONLY | O_CLOEXEC);
	if (vfd < 0 || pread(vfd, buf, DATA_SIZE, 0) != DATA_SIZE) {
		t_fail("cannot read data.bin back: %m");
		bad = -1;
	} else {
		t_fill(want, DATA_SIZE, 42);
		memcpy(want + RW_POS, "ABCD", 4);
		if (memcmp(buf, want, DATA_SIZE)) {
			t_fail("data.bin content differs (write did not land at %d?)", RW_POS);
			bad = -1;
		}
	}
	if (vfd >= 0)
		close(vfd);

	/* A write on the O_APPEND fd lands at the end, whatever its position. */
	if (fstat(s->app, &st) < 0 || write(s->app, "X", 1) != 1) {
		t_fail("append write: %m");
		return -1;
	}
	end = lseek(s->app, 0, SEEK_CUR);
	if (end != st.st_size + 1) {
		t_fail("append write left the position at %lld, file was %lld bytes", (long long)end,
		       (long long)st.st_size);
		bad = -1;
	}
	lseek(s->app, APPEND_POS, SEEK_SET);

	/* The read-only fd reads what is at its position. */
	if (pread(s->ro, buf, 16, RO_POS) != 16 || memcmp(buf, want + RO_POS, 16)) {
		t_fail("read-only fd reads the wrong data");
		bad = -1;
	}

	/* The O_PATH fd still names the file. */
	if (fstatat(s->path, "", &st, AT_EMPTY_PATH) < 0 || st.st_size != DATA_SIZE) {
		t_fail("O_PATH fd: fstatat: %m or size %lld", (long long)st.st_size);
		bad = -1;
	}
	return bad;
}

int main(int argc, char **argv)
{
	static struct st s;
	char data[DATA_SIZE], dents[256];
	int fd;

	t_init(argc, argv);
	t_fill(data, DATA_SIZE, 42);
	fd = open("data.bin", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, data, DATA_SIZE) != DATA_SIZE)
		t_die("data.bin: %m");
	close(fd);
	/* a few entries in a subdirectory, to read part of it */
	mkdir("dir", 0755);
	for (int i = 0; i < 20; i++) {
		char n[32];
		snprintf(n, sizeof(n), "dir/entry-%02d", i);
		fd = open(n, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			t_die("%s: %m", n);
		close(fd);
	}

	s.rw = open("data.bin", O_RDWR);               /* not cloexec */
	if (s.rw < 0 || lseek(s.rw, RW_POS, SEEK_SET) != RW_POS)
		t_die("rw: %m");
	s.app = open("append.log", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (s.app < 0 || write(s.app, "hello\n", 6) != 6 || lseek(s.app, APPEND_POS, SEEK_SET) != APPEND_POS)
		t_die("append: %m");
	fd = open("data.bin", O_RDONLY | O_NONBLOCK | O_NOATIME);
	if (fd < 0 || dup2(fd, RO_FD) != RO_FD)
		t_die("ro: %m");
	close(fd);
	s.ro = RO_FD;
	if (lseek(s.ro, RO_POS, SEEK_SET) != RO_POS)
		t_die("ro lseek: %m");
	s.dir = open("dir", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s.dir < 0 || syscall(SYS_getdents64, s.dir, dents, sizeof(dents)) <= 0)
		t_die("dir: %m");
	if (lseek(s.dir, 0, SEEK_CUR) <= 0)
		t_die("dir position did not move");
	s.path = open("data.bin", O_PATH);             /* not cloexec */
	if (s.path < 0)
		t_die("O_PATH: %m");

	record(&s, "O_RDWR file", s.rw);
	record(&s, "O_APPEND file", s.app);
	record(&s, "O_RDONLY file", s.ro);
	record(&s, "directory", s.dir);
	record(&s, "O_PATH", s.path);
	t_run(check, &s);
}
