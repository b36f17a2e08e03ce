# A container (tests/lib/tct.sh: own pid and mount namespaces, a tmpfs root
# with the host's /usr bound in, its own proc, pivot_root'ed) with also a
# read-only bind of the host's /usr/share, a devpts instance, mqueue, a
# read-only sysfs with cgroup2 under it and, on its tmpfs /t, files of every
# kind: hard link, symlink, FIFO, device node, sparse file, owners, modes,
# times and a user xattr.  After restore (twice from one image): mountinfo inside
# is equivalent (same tree, types, sources, roots, flags and propagation;
# ids and devices of new file systems may differ), the tmpfs files are
# intact (content, kind, mode, owner, size, links, mtime, holes) and the
# shell loop counts on.  `crest show` lists the mounts.  (Sourced by tests/run.)
. "$REPO/tests/lib/tct.sh"
ct_start '
mkdir -p share dev/pts dev/mqueue sys && mount --bind -o ro /usr/share share &&
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts dev/pts && mount -t mqueue mq dev/mqueue &&
mount -t sysfs -o ro,nosuid sysfs sys && mount -t cgroup2 -o nosuid,nodev,noexec cg sys/fs/cgroup || exit 1
/usr/bin/python3 -c "import os; os.setxattr(\"t/a\", \"user.crest\", b\"v1\")" 2>/dev/null || true
cd t && echo hello > a && ln a hard && ln -s a sym && mkfifo fifo && mknod null c 1 3 &&
mkdir -p d/e && echo deep > d/e/f && chmod 0640 d/e/f && chown 12:34 d/e/f &&
dd if=/dev/urandom of=sparse bs=4k count=1 seek=100 2>/dev/null &&
touch -d "2001-02-03 04:05:06" a d/e/f && cd .. || exit 1
'
files() {
	(cd /proc/$PID/root/t && find . -mindepth 1 \( -path ./cnt -o -path ./cnt.tmp -o -path ./out \) -prune -o \
		-printf '%p %y %m %U:%G %s %n %TY-%Tm-%Td.%TH:%TM %l\n' | sort
	 md5sum a hard d/e/f sparse; stat -c 'sparse blocks %b' sparse
	 /usr/bin/python3 -c "import os; print(os.getxattr('a', 'user.crest'))" 2>&1)
}
mi_before=$(ct_mounts)
files_before=$(files)
note "mounts before the dump:"$'\n'"$mi_before"
echo "$mi_before" | grep -q '^new / / .* - tmpfs ctroot' || fail "no tmpfs root: $mi_before"
echo "$mi_before" | grep -q ' /usr/share /share ro,' || fail "no ro bind on /share: $mi_before"
at_dump=$(t_count "$CNT")
t_expect_dump_ok
t_expect_gone "after the dump"
"$CREST" show "$IMG" > "$TDIR/show.txt" || fail "crest show failed"
grep -q 'mountpoint: "/share"' "$TDIR/show.txt" || fail "crest show does not list the /share mount"
ct_check() {
	local mi f
	mi=$(ct_mounts)
	[ "$mi" = "$mi_before" ] || fail "round $ROUND: mountinfo differs: $(diff <(echo "$mi_before") <(echo "$mi") | grep '^[<>]' | tr '\n' ';')"
	f=$(files)
	[ "$f" = "$files_before" ] || fail "round $ROUND: tmpfs files differ: $(diff <(echo "$files_before") <(echo "$f") | grep '^[<>]' | tr '\n' ';')"
}
ct_restore_rounds "$at_dump"
true
