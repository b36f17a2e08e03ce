/* A TCP echo pair on 127.0.0.1 with about 1 MiB in flight in each
 * direction at any time: both ends stream a pattern (every byte a function
 * of its position in its stream) and read it back slowly, so the send and
 * receive queues of both ends are full when the dump comes.  Every byte read
 * is checked against its position: a lost, duplicated or reordered byte
 * is found at once.  The server end is in a child process (both ends are
 * in the tree).  A check: no bad byte so far, both streams moved on since
 * the last check (or since the start), and at least 1 MiB was in flight.
 */
// crest-test: mode=cr
#include "t.h"
#include "tproc.h"
#include "ttcp.h"
#include "tunix.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>

#define INFLIGHT (1u << 20)     /* what each end keeps ahead of its reader */
#define READ_STEP (16 * 1024)   /* read per loop turn: the queues stay full */

static uint64_t max_inflight;

struct end {
	int fd;
	uint64_t seed_out, seed_in;
	uint64_t sent, got;     /* stream positions */
	uint64_t peer_got;      /* what the other end read (told by its counter file) */
	int bad;
	char why[160];
};

static void pump(struct end *e)
{
	uint8_t buf[64 * 1024];
	ssize_t n;

	/* send while less than INFLIGHT beyond what the reader has taken */
	while (e->sent < e->got + INFLIGHT) {
		size_t len = sizeof(buf);
		if (len > e->got + INFLIGHT - e->sent)
			len = (size_t)(e->got + INFLIGHT - e->sent);
		for (size_t i = 0; i < len; i++)
			buf[i] = tt_pattern(e->seed_out, e->sent + i);
		n = send(e->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n <= 0)
			break;
		e->sent += (uint64_t)n;
	}
	n = recv(e->fd, buf, READ_STEP, MSG_DONTWAIT);
	if (n == 0 && !e->bad) {
		e->bad = 1;
		snprintf(e->why, sizeof(e->why), "end of stream after %llu bytes", (unsigned long long)e->got);
	}
	if (n < 0 && errno != EAGAIN && !e->bad) {
		e->bad = 1;
		snprintf(e->why, sizeof(e->why), "recv: %s after %llu bytes", strerror(errno),
			 (unsigned long long)e->got);
	}
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] != tt_pattern(e->seed_in, e->got + (uint64_t)i) && !e->bad) {
			e->bad = 1;
			snprintf(e->why, sizeof(e->why), "byte %llu of the stream is wrong (lost, duplicated or "
				 "reordered data)", (unsigned long long)(e->got + (uint64_t)i));
		}
	if (n > 0)
		e->got += (uint64_t)n;
	{
		int q = 0, w = 0;
		if (ioctl(e->fd, FIONREAD, &q) == 0 && ioctl(e->fd, TIOCOUTQ, &w) == 0 &&
		    (uint64_t)(q + w) > max_inflight)
			max_inflight = (uint64_t)(q + w);
	}
}

static struct end me;
static int child, req;
static uint64_t last_got;

static void work(void *arg)
{
	(void)arg;
	pump(&me);
}

/* the child's check: its stream is fine and moves */
static uint64_t child_last;
static int child_step(void *arg)
{
	(void)arg;
	if (me.bad) {
		t_fail("child: %s", me.why);
		return -1;
	}
	if (me.got <= child_last) {
		t_fail("child: its stream does not move (%llu bytes)", (unsigned long long)me.got);
		return -1;
	}
	child_last = me.got;
	return 0;
}

static int check(void *arg)
{
	(void)arg;
	if (me.bad) {
		t_fail("%s", me.why);
		return -1;
	}
	for (int i = 0; i < 400 && me.got <= last_got + 2 * INFLIGHT; i++) {
		tp_sleep_ms(5);
		pump(&me);
	}
	if (me.got <= last_got + 2 * INFLIGHT) {
		t_fail("the stream moves too slowly (%llu bytes, %llu at the last check)",
		       (unsigned long long)me.got, (unsigned long long)last_got);
		return -1;
	}
	if (max_inflight < INFLIGHT / 2) {
		t_fail("only %llu bytes were ever queued in our end", (unsigned long long)max_inflight);
		return -1;
	}
	last_got = me.got;
	return tu_ask_child(child, &req);
}

static void child_main(int port)
{
	int l = tt_listener(AF_INET, 1);
	char msg[16];
	int p;

	snprintf(msg, sizeof(msg), "%d\n", tt_port(l, 0));
	if (t_write_file("child-port", msg, strlen(msg)) < 0)
		_exit(1);
	(void)port;
	me.fd = tt_accept(l, 10000);
	close(l);
	if (me.fd < 0)
		_exit(1);
	me.seed_out = 2;
	me.seed_in = 1;
	fcntl(me.fd, F_SETFL, O_NONBLOCK);
	for (;;) {
		if (tu_go) {
			tu_go = 0;
			req++;
			p = child_step(NULL);
			snprintf(msg, sizeof(msg), "%d %s\n", req, p ? "BAD" : "OK");
			t_write_file("child-ack", msg, strlen(msg));
		}
		pump(&me);
		tp_sleep_ms(2);
	}
}

int main(int argc, char **argv)
{
	char buf[32];
	int port = 0;

	t_init(argc, argv);
	tu_catch_requests();
	unlink("child-port");
	child = tp_fork();
	if (child < 0)
		t_die("fork: %m");
	if (child == 0)
		child_main(0);
	for (int i = 0; i < 2000 && t_read_file("child-port", buf, sizeof(buf)) <= 0; i++)
		tp_sleep_ms(5);
	port = atoi(buf);
	if (port <= 0)
		t_die("the child did not listen");
	me.fd = tt_connect(AF_INET, port);
	if (me.fd < 0)
		t_die("connect: %m");
	me.seed_out = 1;
	me.seed_in = 2;
	fcntl(me.fd, F_SETFL, O_NONBLOCK);
	t_set_work(work, NULL);
	t_run(check, NULL);
}
