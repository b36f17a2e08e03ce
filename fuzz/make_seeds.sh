#!/bin/bash
# fuzz/make_seeds.sh IMGDIR OUTDIR: seeds for fuzz_show from a real dump:
# one per image (at most 64 KiB of payload), the first byte naming the image
# kind as fuzz_show.c's table does, then the payload without its header.
set -eu
in=$1 out=$2
mkdir -p "$out"
kinds=(inventory pstree core mm pagemap files ghost sk-unix signal timer creds rlimit misc shmem anonfd pages)
for f in "$in"/*.img; do
	b=${f##*/}
	k=${b%.img}
	k=${k%-[0-9]*}
	for i in "${!kinds[@]}"; do
		[ "${kinds[$i]}" = "$k" ] || continue
		[ "$(stat -c %s "$f")" -le 65568 ] || continue
		{ printf "\\x$(printf %02x "$i")"; tail -c +33 "$f"; } > "$out/$b"
	done
done
