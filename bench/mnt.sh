#!/usr/bin/env bash
# Benchmark: dump and restore of a mount namespace with N mounts (default
# 200 and 1000; half small tmpfs with one file each, half binds of a host
# directory), in a container like tests/lib/tct.sh's (own pid and mount
# namespaces, tmpfs root, /usr bound in).  Prints seconds and ms per mount.
# Run as root: bash bench/mnt.sh [N...]
set -euo pipefail
cd "$(dirname "$0")/.."
CREST=${CREST:-$PWD/crest}
work=$(mktemp -d /var/tmp/crest-bench-mnt.XXXXXX)
pid= outer=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	[ -n "$outer" ] && kill -9 "$outer" 2>/dev/null
	sleep 0.2; rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }

one() { # n
	local n=$1 half=$(( $1 / 2 )) s e d r
	rm -rf "$work/img" "$work/ready"; mkdir -p "$work/root" "$work/data"
	echo x > "$work/data/f"
	cat > "$work/ct.sh" <<EOF
R=$work/root
mount --make-rprivate / && mount -t tmpfs -o size=64m ctroot \$R || exit 1
mkdir \$R/usr \$R/proc \$R/old \$R/m && mount --bind /usr \$R/usr || exit 1
for d in bin lib lib64 sbin; do [ -L /\$d ] && ln -s \$(readlink /\$d) \$R/\$d; done
i=0; while [ \$i -lt $half ]; do mkdir \$R/m/t\$i \$R/m/b\$i
	mount -t tmpfs -o size=64k t\$i \$R/m/t\$i && echo \$i > \$R/m/t\$i/f
	mount --bind $work/data \$R/m/b\$i; i=\$((i+1)); done
cd \$R && pivot_root . old && cd / && mount -t proc proc /proc && umount -l /old && rmdir /old || exit 1
: > /m/t0/out; exec </m/t0/out >/m/t0/out 2>&1
echo > /m/t0/ready
exec sleep 1000
EOF
	(
		for fd in /proc/$BASHPID/fd/*; do f=${fd##*/}; [ "$f" -gt 2 ] && eval "exec $f>&-"; done
		exec unshare -p --fork sh -c 'exec setsid unshare -m sh "$0"' "$work/ct.sh" </dev/null >/dev/null 2>&1
	) &
	outer=$!
	for _ in $(seq 600); do
		pid=$(awk '{print $1}' /proc/$outer/task/$outer/children 2>/dev/null || true)
		[ -n "$pid" ] && [ -e /proc/$pid/root/m/t0/ready ] && break
		sleep 0.1
	done
	[ -e /proc/$pid/root/m/t0/ready ] || { echo "the container did not start"; exit 1; }
	local total; total=$(wc -l < /proc/$pid/mountinfo)
	s=$(now); "$CREST" dump -t "$pid" -D "$work/img" >/dev/null; e=$(now)
	d=$(echo "$e - $s" | bc)
	for _ in $(seq 100); do [ -e /proc/$pid ] || break; sleep 0.05; done
	wait "$outer" 2>/dev/null || true
	outer=
	sleep 1.5
	s=$(now); "$CREST" restore -D "$work/img" -d >/dev/null; e=$(now)
	r=$(echo "$e - $s" | bc)
	[ -e /proc/$pid/root/m/t$((half - 1))/f ] || { echo "restored container lacks its mounts"; exit 1; }
	printf '%5d mounts: dump %6.3f s (%5.2f ms/mount), restore %6.3f s (%5.2f ms/mount)\n' "$total" \
		"$d" "$(echo "$d * 1000 / $total" | bc -l)" "$r" "$(echo "$r * 1000 / $total" | bc -l)"
	kill -9 "$pid"; pid=
	sleep 1.5
}
for n in "${@:-200 1000}"; do one "$n"; done
