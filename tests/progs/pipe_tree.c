/* Pipes shared by a parent and its child, with data buffered at dump time:
 *  - pipe A: the parent holds only the write end, the child only the read
 *    end (20000 bytes buffered): after restore the child reads exactly the
 *    buffered bytes, then the parent writes them again;
 *  - pipe B: both processes hold both ends (the same two descriptions,
 *    inherited; 30000 bytes buffered): the child reads them all and writes
 *    them back, then the parent reads them and writes them back.
 * Every check leaves the pipes as they were (the runner checks before the
 * dump and after each restore).  The child answers through the file
 * "child-ack" ("<n> OK" / "<n> BAD ..."), written atomically. */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LEN_A 20000
#define LEN_B 30000
#define SEED_A 11
#define SEED_B 22

struct st {
	int child;
	int aw;                 /* parent: pipe A write end */
	int ar;                 /* child: pipe A read end (same number as in the parent before fork) */
	int br, bw;             /* both: pipe B */
	int req;                /* requests sent to the child */
};

static volatile sig_atomic_t go;
static char buf[64 * 1024];

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static int read_exact(int fd, char *p, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t r = read(fd, p + off, n - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

static int write_exact(int fd, const char *p, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t r = write(fd, p + off, n - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

static int fill(int fd, size_t n, uint64_t seed)
{
	t_fill(buf, n, seed);
	return write_exact(fd, buf, n);
}

/* read n bytes and compare them with t_fill(seed); "" or what is wrong */
static const char *drain(int fd, size_t n, uint64_t seed)
{
	int avail = -1;

	if (ioctl(fd, FIONREAD, &avail) < 0 || avail != (int)n)
		return "wrong number of bytes buffered";
	if (read_exact(fd, buf, n) < 0)
		return "read failed";
	if (t_verify_fill(buf, n, seed) >= 0)
		return "data differs";
	return "";
}

static __attribute__((noreturn)) void child_main(struct st *s)
{
	int n = s->req;
	char msg[200];

	for (;;) {
		if (go) {
			const char *a, *b = "";
			go = 0;
			n++;
			a = drain(s->ar, LEN_A, SEED_A);
			if (!*a) {
				b = drain(s->br, LEN_B, SEED_B);
				if (!*b && fill(s->bw, LEN_B, SEED_B) < 0)
					b = "write back failed";
			}
			snprintf(msg, sizeof(msg), "%d %s%s%s%s%s\n", n, *a || *b ? "BAD" : "OK",
				 *a ? " pipe A: " : "", a, *b ? " pipe B: " : "", b);
			t_write_file("child-ack", msg, strlen(msg));
		}
		tp_sleep_ms(5);
	}
}

static int check(void *arg)
{
	struct st *s = arg;
	char want[64], ack[256], l1[64], l2[64];
	int me = getpid(), bad = 0;
	const char *e;

	/* pipe A: one pipe, the read end in the child only */
	if (strcmp(tp_fd_readlink(me, s->aw, l1, sizeof(l1)),
		   tp_fd_readlink(s->child, s->ar, l2, sizeof(l2))) ||
	    strncmp(l1, "pipe:", 5)) {
		t_fail("pipe A: parent fd %d is '%s', child fd %d is '%s': not one pipe", s->aw, l1, s->ar,
		       l2);
		bad = -1;
	}
	if (fcntl(s->ar, F_GETFD) >= 0) {
		t_fail("pipe A: the parent has its read end (fd %d) again", s->ar);
		bad = -1;
	}
	/* pipe B: the same two descriptions in both */
	if (syscall(SYS_kcmp, me, s->child, KCMP_FILE, s->br, s->br) != 0 ||
	    syscall(SYS_kcmp, me, s->child, KCMP_FILE, s->bw, s->bw) != 0) {
		t_fail("pipe B: the ends are not the parent's file descriptions in the child");
		bad = -1;
	}
	if (bad)
		return bad;

	unlink("child-ack");
	s->req++;
	snprintf(want, sizeof(want), "%d OK\n", s->req);
	kill(s->child, SIGUSR1);
	ack[0] = 0;
	for (int i = 0; i < 1000; i++) {
		if (t_read_file("child-ack", ack, sizeof(ack)) > 0)
			break;
		tp_sleep_ms(5);
	}
	if (strcmp(ack, want)) {
		t_fail("child answered '%s', expected '%.*s'", ack, (int)strlen(want) - 1, want);
		return -1;
	}
	/* the child consumed A: refill it */
	if (fill(s->aw, LEN_A, SEED_A) < 0) {
		t_fail("pipe A: write: %m");
		return -1;
	}
	/* the child put B back: read and put back from here too */
	e = drain(s->br, LEN_B, SEED_B);
	if (*e) {
		t_fail("pipe B after the child: %s", e);
		return -1;
	}
	if (fill(s->bw, LEN_B, SEED_B) < 0) {
		t_fail("pipe B: write: %m");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct st s;
	struct sigaction sa = { .sa_handler = on_usr1 };
	int a[2], b[2], pid;

	t_init(argc, argv);
	sigaction(SIGUSR1, &sa, NULL);
	if (pipe2(a, O_CLOEXEC) < 0 || pipe2(b, O_CLOEXEC) < 0)
		t_die("pipe: %m");
	s.ar = a[0];
	s.aw = a[1];
	s.br = b[0];
	s.bw = b[1];
	if (fill(s.aw, LEN_A, SEED_A) < 0 || fill(s.bw, LEN_B, SEED_B) < 0)
		t_die("fill: %m");
	pid = tp_fork();
	if (pid < 0)
		t_die("fork: %m");
	if (pid == 0) {
		close(s.aw);
		child_main(&s);
	}
	s.child = pid;
	close(s.ar);
	t_run(check, &s);
}
