# Propagation that escapes the dumped namespaces: in a fake host (a mount
# namespace of the test, made private, with a shared tmpfs on $TDIR/hs),
# a process in a mount namespace of its own whose copy of $TDIR/hs (and a
# bind of it) are peers of the fake host's.  crest, run in the fake host,
# refuses the dump naming the mount, its peer group and where the outside
# peer is mounted; the process runs on.  (Sourced by tests/run.)
mkdir -p "$TDIR/hs" "$TDIR/hs2" "$TDIR/img"
cat > "$TDIR/host.sh" <<'EOF'
T=$1 CREST=$2
mount --make-rprivate / || exit 1
mount -t tmpfs hs "$T/hs" && mount --make-shared "$T/hs" || exit 1
setsid unshare -m --propagation unchanged sh -c '
	mount --bind "$0/hs" "$0/hs2" || exit 1
	i=0; while :; do i=$((i+1)); echo $i > "$0/hs2/cnt.tmp"; mv "$0/hs2/cnt.tmp" "$0/hs2/cnt"; sleep 0.1; done' "$T" \
	</dev/null >/dev/null 2>&1 &
P=$!
for i in $(seq 50); do [ -s "$T/hs/cnt" ] && break; sleep 0.1; done
echo "$P" > "$T/ctpid"
timeout 30 "$CREST" dump -t "$P" -D "$T/img" -v > "$T/dump.out" 2>&1
echo "rc=$?" >> "$T/dump.out"
a=$(cat "$T/hs/cnt"); sleep 0.6; b=$(cat "$T/hs/cnt")
echo "count $a $b" >> "$T/dump.out"
kill -9 "$P"
wait "$P" 2>/dev/null
umount -l "$T/hs"
EOF
timeout 60 unshare -m --propagation private bash "$TDIR/host.sh" "$TDIR" "$CREST" < /dev/null > "$TDIR/host.out" 2>&1
note "$(cat "$TDIR/dump.out" 2>/dev/null)"
grep -q '^rc=0' "$TDIR/dump.out" && fail "the dump of a namespace with a peer outside succeeded"
grep -q "mount [0-9]* on $TDIR/hs2\? is shared (peer group [0-9]*) with mount [0-9]* on $TDIR/hs in crest's mount namespace" "$TDIR/dump.out" ||
	fail "the refusal does not name the mount, its peer group and the outside peer: $(cat "$TDIR/dump.out" "$TDIR/host.out")"
read -r _ a b < <(grep '^count' "$TDIR/dump.out")
[ -n "$b" ] && [ "$b" -gt "$a" ] || fail "the process did not run on after the refused dump ($a, $b)"
true
