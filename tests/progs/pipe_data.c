/* Pipes with both ends in the process keep their buffered data, size and
 * flags: a default pipe holding 10 KiB, a 256 KiB pipe (F_SETPIPE_SZ)
 * holding 200 KiB with a non-blocking write end, an empty pipe with a
 * non-blocking read end, and a pipe whose write end was closed (its data
 * must come back, and poll() must report the hang-up).  The check peeks at the data with tee(2)
 * so it does not consume it (the data must still be there for the dump). */
// crest-test: mode=cr
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct tpipe {
	const char *what;
	int r, w;           /* w = -1: write end closed */
	size_t len;         /* bytes buffered */
	uint64_t seed;
	int size;           /* F_GETPIPE_SZ */
	int rfl, wfl;       /* F_GETFL */
};

struct st {
	struct tpipe p[4];
	int nr;
};

static void mk(struct st *s, const char *what, size_t len, int size, int rflags, int wflags,
	       int close_w, uint64_t seed)
{
	struct tpipe *p = &s->p[s->nr++];
	int fds[2];
	char *buf;

	if (pipe(fds) < 0)
		t_die("pipe: %m");
	p->what = what;
	p->r = fds[0];
	p->w = fds[1];
	if (size && fcntl(p->w, F_SETPIPE_SZ, size) < 0)
		t_die("%s: F_SETPIPE_SZ %d: %m", what, size);
	buf = malloc(len + 1);
	t_fill(buf, len, seed);
	for (size_t off = 0; off < len;) {
		/* several writes, of odd sizes for small pipes (partly filled
		 * pipe buffers), of whole pages for big ones (a 3000-byte write
		 * takes one slot of its own) */
		size_t chunk = len > 64 * 1024 ? 4096 : 3000;
		size_t n = len - off < chunk ? len - off : chunk;
		if (write(p->w, buf + off, n) != (ssize_t)n)
			t_die("%s: write: %m", what);
		off += n;
	}
	free(buf);
	p->len = len;
	p->seed = seed;
	fcntl(p->r, F_SETFL, fcntl(p->r, F_GETFL) | rflags);
	fcntl(p->w, F_SETFL, fcntl(p->w, F_GETFL) | wflags);
	p->size = fcntl(p->r, F_GETPIPE_SZ);
	p->rfl = fcntl(p->r, F_GETFL);
	p->wfl = fcntl(p->w, F_GETFL);
	if (close_w) {
		close(p->w);
		p->w = -1;
	}
}

/* Copy the pipe's content without consuming it. */
static int peek(struct tpipe *p, char *buf)
{
	int tmp[2], n = 0;
	ssize_t got;

	if (ioctl(p->r, FIONREAD, &n) < 0 || (size_t)n != p->len) {
		t_fail("%s: %d bytes buffered, expected %zu", p->what, n, p->len);
		return -1;
	}
	if (!n)
		return 0;
	if (pipe2(tmp, O_NONBLOCK | O_CLOEXEC) < 0 || fcntl(tmp[1], F_SETPIPE_SZ, p->size) < 0) {
		t_fail("%s: helper pipe: %m", p->what);
		return -1;
	}
	got = tee(p->r, tmp[1], p->len, SPLICE_F_NONBLOCK);
	if (got != (ssize_t)p->len) {
		t_fail("%s: tee copied %zd of %zu bytes: %m", p->what, got, p->len);
		close(tmp[0]);
		close(tmp[1]);
		return -1;
	}
	for (size_t off = 0; off < p->len;) {
		got = read(tmp[0], buf + off, p->len - off);
		if (got <= 0)
			break;
		off += got;
	}
	close(tmp[0]);
	close(tmp[1]);
	return 0;
}

static int check(void *arg)
{
	struct st *s = arg;
	static char buf[512 * 1024];
	int bad = 0, v;

	for (int i = 0; i < s->nr; i++) {
		struct tpipe *p = &s->p[i];
		long at;

		if ((v = fcntl(p->r, F_GETPIPE_SZ)) != p->size) {
			t_fail("%s: pipe size %d, expected %d", p->what, v, p->size);
			bad = -1;
		}
		if ((v = fcntl(p->r, F_GETFL)) != p->rfl) {
			t_fail("%s: read end flags 0%o, expected 0%o", p->what, v, p->rfl);
			bad = -1;
		}
		if (p->w >= 0 && (v = fcntl(p->w, F_GETFL)) != p->wfl) {
			t_fail("%s: write end flags 0%o, expected 0%o", p->what, v, p->wfl);
			bad = -1;
		}
		struct pollfd pfd = { .fd = p->r, .events = POLLIN };
		if (poll(&pfd, 1, 0) < 0 || !!(pfd.revents & POLLHUP) != (p->w < 0)) {
			t_fail("%s: poll revents 0x%x: the write end should be %s", p->what, pfd.revents,
			       p->w < 0 ? "closed (POLLHUP)" : "open");
			bad = -1;
		}
		if (peek(p, buf) < 0) {
			bad = -1;
			continue;
		}
		if ((at = t_verify_fill(buf, p->len, p->seed)) >= 0) {
			t_fail("%s: data differs at byte %ld of %zu", p->what, at, p->len);
			bad = -1;
		}
		if (p->len == 0 && (p->rfl & O_NONBLOCK)) {
			errno = 0;
			if (read(p->r, buf, 1) != -1 || errno != EAGAIN) {
				t_fail("%s: read of the empty pipe did not give EAGAIN: %m", p->what);
				bad = -1;
			}
		}
	}
	return bad;
}

int main(int argc, char **argv)
{
	static struct st s;

	t_init(argc, argv);
	mk(&s, "10 KiB pipe", 10 * 1024, 0, 0, 0, 0, 1);
	mk(&s, "256 KiB pipe", 200 * 1024, 256 * 1024, 0, O_NONBLOCK, 0, 2);
	mk(&s, "empty pipe", 0, 0, O_NONBLOCK, 0, 0, 3);
	mk(&s, "write-closed pipe", 5000, 0, O_NONBLOCK, 0, 1, 4);
	t_run(check, &s);
}
