/* Deleted files that are still open come back as one nameless inode each,
 * with their content, under their exact /proc name:
 *   sparse  1 GiB apparent size, 3 data extents (~96 KiB), deleted; open
 *           twice (O_RDWR at an offset, O_RDONLY) and mapped MAP_SHARED:
 *           after restore the two fds are one inode, a write through the
 *           mapping is seen through the fds and a write through one fd
 *           through the other; the holes stay holes (few blocks allocated);
 *   reused  deleted, and its name taken by a new file: /proc still shows
 *           "<dir>/reused (deleted)" and the new file is untouched;
 *   attrs   deleted with mode 0640, owner 1234:5678, a fixed mtime and an
 *           xattr user.crest: all come back;
 *   dir     a removed directory open as an fd: "<dir>/dir (deleted)";
 *   inner   a deleted file whose directory was removed too: shown as
 *           "<dir>/gone/inner (deleted)", and no "gone" is left behind. */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define GIB (1ULL << 30)
#define EXT 32768
static const off_t ext_off[3] = { 0, 300 << 20, (off_t)GIB - EXT };

struct st {
	int rw, ro, reused, attrs, dir, inner;
	char *map;
	ino_t ino;
	off_t rw_pos;
	char name[5][4200];         /* expected readlink of rw, reused, attrs, dir, inner */
	ino_t other_ino;            /* the new file at "reused" */
	uint64_t other_hash;
	struct timespec mtime;
	uint64_t hash[3];
};

static void mk_name(char *out, const char *base)
{
	snprintf(out, 4200, "%s/%s (deleted)", t_dir(), base);
}

static int check(void *arg)
{
	struct st *s = arg;
	static char buf[EXT];
	struct stat a, b;
	char x[8];
	int bad = 0;

	if (fstat(s->rw, &a) < 0 || fstat(s->ro, &b) < 0) {
		t_fail("fstat: %m");
		return -1;
	}
	if (a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
		t_fail("the two fds of 'sparse' are different inodes (%lu, %lu)", (unsigned long)a.st_ino,
		       (unsigned long)b.st_ino);
		bad = -1;
	}
	if (a.st_nlink != 0) {
		t_fail("'sparse' has %lu links, expected 0", (unsigned long)a.st_nlink);
		bad = -1;
	}
	if ((unsigned long long)a.st_size != GIB) {
		t_fail("'sparse' size %lld, expected 1 GiB", (long long)a.st_size);
		bad = -1;
	}
	if ((unsigned long long)a.st_blocks * 512 > (8ULL << 20)) {
		t_fail("'sparse' has %llu bytes allocated: its holes were filled",
		       (unsigned long long)a.st_blocks * 512);
		bad = -1;
	}
	if (lseek(s->rw, 0, SEEK_CUR) != s->rw_pos) {
		t_fail("'sparse' rw position %lld, expected %lld", (long long)lseek(s->rw, 0, SEEK_CUR),
		       (long long)s->rw_pos);
		bad = -1;
	}
	for (int i = 0; i < 3; i++) {
		if (pread(s->ro, buf, EXT, ext_off[i]) != EXT || t_hash(buf, EXT) != s->hash[i]) {
			t_fail("'sparse' extent %d (offset %lld) differs", i, (long long)ext_off[i]);
			bad = -1;
		}
	}
	static const char zero[4096];
	if (pread(s->ro, buf, 4096, 100 << 20) != 4096 || memcmp(buf, zero, 4096)) {
		t_fail("'sparse' hole at 100 MiB is not zeroes");
		bad = -1;
	}
	/* the mapping and both fds are one inode: write, see, put back */
	char saved = s->map[100];
	s->map[100] = (char)(saved ^ 0x5a);
	if (pread(s->ro, x, 1, 100) != 1 || x[0] != (char)(saved ^ 0x5a)) {
		t_fail("a write through the shared mapping is not seen through the fd");
		bad = -1;
	}
	s->map[100] = saved;
	if (pwrite(s->rw, "Q", 1, 200) != 1 || pread(s->ro, x, 1, 200) != 1 || x[0] != 'Q' ||
	    s->map[200] != 'Q') {
		t_fail("a write through one fd is not seen through the other fd and the mapping");
		bad = -1;
	}
	t_fill(buf, EXT, 1);
	if (pwrite(s->rw, buf + 200, 1, 200) != 1)
		bad = -1;
	bad |= tp_expect_fd_link(0, s->rw, s->name[0], "'sparse' (rw fd)");
	bad |= tp_expect_fd_link(0, s->ro, s->name[0], "'sparse' (ro fd)");
	bad |= tp_expect_fd_link(0, s->reused, s->name[1], "'reused'");
	bad |= tp_expect_fd_link(0, s->attrs, s->name[2], "'attrs'");
	bad |= tp_expect_fd_link(0, s->dir, s->name[3], "'dir'");
	bad |= tp_expect_fd_link(0, s->inner, s->name[4], "'gone/inner'");
	if (access("gone", F_OK) == 0) {
		t_fail("the directory 'gone' exists again");
		bad = -1;
	}
	/* the file that took the name "reused" is untouched */
	int o = open("reused", O_RDONLY | O_CLOEXEC);
	ssize_t n = o >= 0 ? read(o, buf, sizeof(buf)) : -1;
	if (o < 0 || fstat(o, &a) < 0 || a.st_ino != s->other_ino || n < 0 ||
	    t_hash(buf, (size_t)n) != s->other_hash) {
		t_fail("the new file at 'reused' was touched (inode or content changed)");
		bad = -1;
	}
	if (o >= 0)
		close(o);
	if (fstat(s->reused, &a) == 0 && a.st_ino == s->other_ino) {
		t_fail("the deleted 'reused' fd now refers to the new file");
		bad = -1;
	}
	if (fstat(s->attrs, &a) < 0 || (a.st_mode & 07777) != 0640 || a.st_uid != 1234 ||
	    a.st_gid != 5678 || a.st_mtim.tv_sec != s->mtime.tv_sec ||
	    a.st_mtim.tv_nsec != s->mtime.tv_nsec || a.st_nlink != 0) {
		t_fail("'attrs': mode %o owner %u:%u mtime %ld.%09ld nlink %lu, expected 0640 1234:5678 "
		       "%ld.%09ld 0", a.st_mode & 07777, a.st_uid, a.st_gid, (long)a.st_mtim.tv_sec,
		       a.st_mtim.tv_nsec, (unsigned long)a.st_nlink, (long)s->mtime.tv_sec, s->mtime.tv_nsec);
		bad = -1;
	}
	n = fgetxattr(s->attrs, "user.crest", x, sizeof(x));
	if (n != 5 || memcmp(x, "ghost", 5)) {
		t_fail("'attrs': xattr user.crest is missing or wrong (%zd)", n);
		bad = -1;
	}
	if (fstat(s->dir, &a) < 0 || !S_ISDIR(a.st_mode) || (a.st_mode & 07777) != 0751) {
		t_fail("'dir' is not a directory with mode 0751 (mode %o)", a.st_mode);
		bad = -1;
	}
	return bad;
}

int main(int argc, char **argv)
{
	static struct st s;
	static char buf[EXT];
	struct timespec ts[2];
	int fd;

	t_init(argc, argv);
	fd = open("sparse", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)GIB) < 0)
		t_die("create sparse: %m");
	for (int i = 0; i < 3; i++) {
		t_fill(buf, EXT, (uint64_t)i + 1);
		s.hash[i] = t_hash(buf, EXT);
		if (pwrite(fd, buf, EXT, ext_off[i]) != EXT)
			t_die("write sparse: %m");
	}
	s.rw = fd;
	s.rw_pos = lseek(fd, 12345, SEEK_SET);
	s.ro = open("sparse", O_RDONLY | O_CLOEXEC);
	s.map = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s.ro < 0 || s.map == MAP_FAILED || unlink("sparse") < 0)
		t_die("sparse: %m");

	s.reused = open("reused", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (s.reused < 0 || write(s.reused, "old contents", 12) != 12 || unlink("reused") < 0)
		t_die("reused: %m");
	fd = open("reused", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "the new file", 12) != 12)
		t_die("new reused: %m");
	struct stat st;
	fstat(fd, &st);
	s.other_ino = st.st_ino;
	s.other_hash = t_hash("the new file", 12);
	close(fd);

	s.attrs = open("attrs", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (s.attrs < 0 || write(s.attrs, "attributes", 10) != 10 ||
	    fsetxattr(s.attrs, "user.crest", "ghost", 5, 0) < 0 || fchown(s.attrs, 1234, 5678) < 0 ||
	    fchmod(s.attrs, 0640) < 0)
		t_die("attrs: %m");
	ts[0].tv_sec = 1000000000;
	ts[0].tv_nsec = 5;
	ts[1].tv_sec = 1234567890;
	ts[1].tv_nsec = 123456789;
	s.mtime = ts[1];
	if (futimens(s.attrs, ts) < 0 || unlink("attrs") < 0)
		t_die("attrs: %m");

	if (mkdir("dir", 0751) < 0 || chmod("dir", 0751) < 0)
		t_die("mkdir dir: %m");
	s.dir = open("dir", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s.dir < 0 || rmdir("dir") < 0)
		t_die("dir: %m");

	if (mkdir("gone", 0700) < 0)
		t_die("mkdir gone: %m");
	s.inner = open("gone/inner", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s.inner < 0 || unlink("gone/inner") < 0 || rmdir("gone") < 0)
		t_die("gone/inner: %m");
	mk_name(s.name[4], "gone/inner");
	mk_name(s.name[0], "sparse");
	mk_name(s.name[1], "reused");
	mk_name(s.name[2], "attrs");
	mk_name(s.name[3], "dir");
	t_run(check, &s);
}
