/* SPDX-License-Identifier: MIT */
/* Demo workload: counts, keeps a checksum of 64 MiB of its memory, and
 * prints a line a second to its log file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t checksum_sample(const uint64_t *mem, size_t sz)
{
	uint64_t c = 0;
	for (size_t i = 0; i < sz / 8; i += 512)
		c += (uint64_t)(i * 0x9e3779b97f4a7c15ULL);
	(void)mem;
	return c;
}

int main(int argc, char **argv)
{
	const size_t sz = 64 << 20;
	uint64_t *mem = malloc(sz), n = 0;
	FILE *log = fopen(argc > 1 ? argv[1] : "/tmp/crest-demo.log", "a");

	if (!mem || !log)
		return 1;
	for (size_t i = 0; i < sz / 8; i++)
		mem[i] = i * 0x9e3779b97f4a7c15ULL;
	for (;;) {
		uint64_t check = 0;
		for (size_t i = 0; i < sz / 8; i += 512)
			check += mem[i];
		n++;
		fprintf(log, "pid %d: tick %llu, memory %s\n", getpid(), (unsigned long long)n,
			check == checksum_sample(mem, sz) ? "intact" : "CHANGED");
		fflush(log);
		sleep(1);
	}
}
