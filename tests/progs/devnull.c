/* Character devices come back by path as the same device (rdev) with the
 * same flags: /dev/null (O_RDWR), /dev/zero (O_RDONLY, cloexec),
 * /dev/urandom (O_RDONLY|O_NONBLOCK), and they work. */
// crest-test: mode=cr
#include "t.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct dev {
	const char *path;
	int flags;
	int fd;
	dev_t rdev;
	int fl, fdfl;
};

static struct dev devs[] = {
	{ "/dev/null", O_RDWR, -1, 0, 0, 0 },
	{ "/dev/zero", O_RDONLY | O_CLOEXEC, -1, 0, 0, 0 },
	{ "/dev/urandom", O_RDONLY | O_NONBLOCK, -1, 0, 0, 0 },
};

static int check(void *arg)
{
	char buf[64], zero[64] = { 0 };
	int bad = 0, v;

	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		struct dev *d = &devs[i];
		struct stat st;
		if (fstat(d->fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != d->rdev) {
			t_fail("%s fd %d: not the same device (rdev %lx, expected %lx)", d->path, d->fd,
			       (unsigned long)st.st_rdev, (unsigned long)d->rdev);
			bad = -1;
		}
		if ((v = fcntl(d->fd, F_GETFL)) != d->fl) {
			t_fail("%s fd %d: F_GETFL 0%o, expected 0%o", d->path, d->fd, v, d->fl);
			bad = -1;
		}
		if ((v = fcntl(d->fd, F_GETFD)) != d->fdfl) {
			t_fail("%s fd %d: F_GETFD %d, expected %d", d->path, d->fd, v, d->fdfl);
			bad = -1;
		}
	}
	if (write(devs[0].fd, "x", 1) != 1 || read(devs[0].fd, buf, 1) != 0) {
		t_fail("/dev/null does not behave like /dev/null");
		bad = -1;
	}
	memset(buf, 0xff, sizeof(buf));
	if (read(devs[1].fd, buf, sizeof(buf)) != sizeof(buf) || memcmp(buf, zero, sizeof(buf))) {
		t_fail("/dev/zero does not read zeros");
		bad = -1;
	}
	if (read(devs[2].fd, buf, sizeof(buf)) != sizeof(buf) || !memcmp(buf, zero, sizeof(buf))) {
		t_fail("/dev/urandom does not read random bytes");
		bad = -1;
	}
	return bad;
}

int main(int argc, char **argv)
{
	t_init(argc, argv);
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		struct dev *d = &devs[i];
		struct stat st;
		d->fd = open(d->path, d->flags);
		if (d->fd < 0 || fstat(d->fd, &st) < 0)
			t_die("%s: %m", d->path);
		d->rdev = st.st_rdev;
		d->fl = fcntl(d->fd, F_GETFL);
		d->fdfl = fcntl(d->fd, F_GETFD);
	}
	t_run(check, NULL);
}
