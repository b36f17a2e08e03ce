/* SPDX-License-Identifier: MIT */
/* Benchmark workload: N MiB of incompressible anonymous memory, of which
 * PCT per cent are rewritten every second (random pages, spread over
 * 100 steps a second).
 * dirty MIB PCT READYFILE */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static uint64_t x = 0x243f6a8885a308d3ULL;

static uint64_t rnd(void)
{
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	size_t sz = (size_t)atol(argv[1]) << 20, pages = sz / 4096;
	double pct = atof(argv[2]);
	uint64_t *mem = malloc(sz);
	if (!mem)
		return 1;
	for (size_t i = 0; i < sz / 8; i++)
		mem[i] = rnd();
	FILE *f = fopen(argv[3], "w");
	if (!f)
		return 1;
	fclose(f);
	/* per 10 ms step: pages * pct / 100 / 100 pages */
	size_t per_step = (size_t)(pages * pct / 10000.0);
	if (!per_step)
		per_step = 1;
	for (;;) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		for (size_t k = 0; k < per_step; k++) {
			uint64_t *p = mem + (rnd() % pages) * 512;
			for (int j = 0; j < 512; j++)
				p[j] = rnd();
		}
		nanosleep(&ts, NULL);
	}
}
