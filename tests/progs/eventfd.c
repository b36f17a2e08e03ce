/* eventfds come back with their exact counter and mode:
 *  A (fd 20, dup at 21): blocking, counter 0x123456785 (above 32 bits, so
 *    more than eventfd()'s initial value can carry), close-on-exec on 20 only;
 *  B (fd 22): EFD_SEMAPHORE | EFD_NONBLOCK, counter 3, also held by a child
 *    (one description across the two processes, checked with kcmp);
 *  C (fd 23): EFD_NONBLOCK, counter 0.
 * The check reads each counter (and puts it back): A reads 0x123456785 and
 * then sees a write through its dup; B reads 1 three times, then EAGAIN;
 * C gives EAGAIN. */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#define A_VAL 0x123456785ULL
#define FA 20
#define FA2 21
#define FB 22
#define FC 23

static int child;

static int rd(int fd, uint64_t *v)
{
	return read(fd, v, sizeof(*v)) == sizeof(*v) ? 0 : -1;
}

static int wr(int fd, uint64_t v)
{
	return write(fd, &v, sizeof(v)) == sizeof(v) ? 0 : -1;
}

static int place(int fd, int at)
{
	if (fd < 0 || dup2(fd, at) != at)
		t_die("eventfd at %d: %m", at);
	close(fd);
	return at;
}

static int check(void *arg)
{
	uint64_t v = 0;
	int bad = 0, fl;

	/* A */
	if ((fl = fcntl(FA, F_GETFL)) < 0 || (fl & O_NONBLOCK) || (fl & O_ACCMODE) != O_RDWR) {
		t_fail("A: flags 0%o, expected O_RDWR, blocking", fl);
		bad = -1;
	}
	if (fcntl(FA, F_GETFD) != FD_CLOEXEC || fcntl(FA2, F_GETFD) != 0) {
		t_fail("A: close-on-exec %d/%d, expected 1/0", fcntl(FA, F_GETFD), fcntl(FA2, F_GETFD));
		bad = -1;
	}
	if (rd(FA, &v) || v != A_VAL) {
		t_fail("A: counter %#llx, expected %#llx", (unsigned long long)v, A_VAL);
		bad = -1;
	}
	v = 0;
	if (wr(FA2, 7) || rd(FA, &v) || v != 7) {
		t_fail("A: wrote 7 through fd %d, read %llu through fd %d", FA2, (unsigned long long)v, FA);
		bad = -1;
	}
	if (wr(FA, A_VAL))
		t_die("A: cannot put the counter back: %m");

	/* B: semaphore */
	if ((fl = fcntl(FB, F_GETFL)) < 0 || !(fl & O_NONBLOCK)) {
		t_fail("B: flags 0%o, expected O_NONBLOCK", fl);
		bad = -1;
	}
	for (int i = 0; i < 3; i++) {
		v = 0;
		if (rd(FB, &v) || v != 1) {
			t_fail("B: read %d gave %llu (%m), expected 1 (semaphore mode, counter 3)", i + 1,
			       (unsigned long long)v);
			bad = -1;
			break;
		}
	}
	errno = 0;
	if (read(FB, &v, sizeof(v)) != -1 || errno != EAGAIN) {
		t_fail("B: a 4th read did not give EAGAIN (counter was more than 3?)");
		bad = -1;
	}
	if (syscall(SYS_kcmp, getpid(), child, KCMP_FILE, FB, FB) != 0) {
		t_fail("B: the child's fd %d is not the same description (kcmp)", FB);
		bad = -1;
	}
	/* put B back to 3 (drain first, in case it was more) */
	while (read(FB, &v, sizeof(v)) == sizeof(v))
		;
	if (wr(FB, 3))
		t_die("B: cannot put the counter back: %m");

	/* C */
	if ((fl = fcntl(FC, F_GETFL)) < 0 || !(fl & O_NONBLOCK)) {
		t_fail("C: flags 0%o, expected O_NONBLOCK", fl);
		bad = -1;
	}
	errno = 0;
	if (read(FC, &v, sizeof(v)) != -1 || errno != EAGAIN) {
		t_fail("C: counter not 0 (read %llu)", (unsigned long long)v);
		bad = -1;
		while (read(FC, &v, sizeof(v)) == sizeof(v))
			;
	}
	return bad;
}

int main(int argc, char **argv)
{
	t_init(argc, argv);
	place(eventfd(5, EFD_CLOEXEC), FA);
	if (wr(FA, A_VAL - 5))
		t_die("A: write: %m");
	if (dup2(FA, FA2) != FA2 || fcntl(FA, F_SETFD, FD_CLOEXEC) < 0)
		t_die("dup2: %m");
	place(eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK), FB);
	place(eventfd(0, EFD_NONBLOCK), FC);
	child = tp_fork();
	if (child < 0)
		t_die("fork: %m");
	if (child == 0) {
		close(FA);
		close(FA2);
		close(FC);
		tp_idle();
	}
	t_run(check, NULL);
}
