/* SPDX-License-Identifier: MIT */
/* Benchmark workload: a tree of N processes (fan-out 4), each with 1 MiB
 * of its own memory.  tree N READYFILE */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Each node takes `budget` descendants: up to 4 children, the rest
 * shared out among their subtrees. */
static void node(int budget)
{
top:;
	char *m = malloc(1 << 20);
	int kids = budget < 4 ? budget : 4, rest = budget - kids;

	if (m)
		memset(m, getpid() & 0xff, 1 << 20);
	for (int k = 0; k < kids; k++) {
		int sub = rest / kids + (k < rest % kids);
		if (fork() == 0) {
			budget = sub;
			goto top;
		}
	}
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	if (fork() == 0)
		node(atoi(argv[1]) - 2);
	sleep(1);
	close(open(argv[2], O_WRONLY | O_CREAT, 0600));
	for (;;)
		pause();
}
