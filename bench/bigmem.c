/* SPDX-License-Identifier: MIT */
/* Benchmark workload: N MiB of incompressible anonymous memory.
 * bigmem MIB READYFILE       hold the memory, touch READYFILE, sleep
 * bigmem MIB --write FILE    write the same bytes to FILE and exit (the limit) */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void fill(uint64_t *p, size_t n)
{
	uint64_t x = 0x243f6a8885a308d3ULL;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
}

int main(int argc, char **argv)
{
	size_t sz;
	uint64_t *mem;

	if (argc < 3)
		return 2;
	sz = (size_t)atol(argv[1]) << 20;
	mem = malloc(sz);
	if (!mem)
		return 1;
	fill(mem, sz / 8);
	if (!strcmp(argv[2], "--write") && argc > 3) {
		int fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (size_t off = 0; off < sz;) {
			ssize_t n = write(fd, (char *)mem + off, sz - off > (4 << 20) ? (4 << 20) : sz - off);
			if (n <= 0)
				return 1;
			off += n;
		}
		if (close(fd))
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%.3f\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
		return 0;
	}
	close(open(argv[2], O_WRONLY | O_CREAT, 0600));
	for (;;)
		pause();
}
