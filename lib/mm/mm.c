/* SPDX-License-Identifier: MIT */
/*
 * Memory: the dump side reads the layout from /proc/PID/smaps, the pages
 * that exist from /proc/PID/pagemap (present or swapped; for private file
 * mappings only the copied-on-write ones) and their contents through
 * /proc/PID/mem.  Shared memory objects (MAP_SHARED|MAP_ANONYMOUS, memfd)
 * are dumped once per object through /proc/PID/map_files, data extents
 * only (SEEK_DATA/SEEK_HOLE).
 *
 * The restore side is in mm_restore.c.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <xxhash.h>
#include "util/compat.h"
#include "image/image.h"
#include "util/log.h"
#include "ns/mnt.h"
#include "mm.h"
#include "mm_priv.h"
#include "pages.h"
#include "track.h"
#include "shmem.h"
#include "fs/ghost.h"
#include "ns/ns.h"
#include "util/util.h"


static const struct {
	const char *flag;
	uint32_t bit;
} madv_flags[] = {
	{ "dd", CREST_MADV_DONTDUMP }, { "hg", CREST_MADV_HUGEPAGE }, { "nh", CREST_MADV_NOHUGEPAGE },
	{ "lo", CREST_MADV_LOCKED },   { "dc", CREST_MADV_DONTFORK }, { "wf", CREST_MADV_WIPEONFORK },
	{ "mg", CREST_MADV_MERGEABLE }, { "lf", CREST_MADV_LOCKONFAULT }, { "sl", CREST_MADV_SEQ },
	{ "rr", CREST_MADV_RANDOM },
};

static bool has_vmflag(const char *flags, const char *f)
{
	for (const char *p = flags; p && *p;) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, f, 2) && (p[2] == ' ' || p[2] == 0))
			return true;
		p = strchr(p, ' ');
	}
	return false;
}

struct dump_mm {
	Mm mm;
	Vma **vmas;
	size_t nr_vmas;
};

static void dump_mm_free(struct dump_mm *d)
{
	for (size_t i = 0; i < d->nr_vmas; i++) {
		free(d->vmas[i]->path);
		free(d->vmas[i]->vmflags);
		free(d->vmas[i]->guards);
		free(d->vmas[i]);
	}
	free(d->vmas);
	free(d->mm.auxv);
	free(d->mm.exe_path);
}

/* Parse /proc/PID/smaps into Vma entries (the scratch area excluded). */
static int parse_smaps(struct dump_task *t, struct dump_mm *d, const struct track_task *tt)
{
	_cleanup_free_ char *buf = NULL;
	char *line, *save = NULL;
	Vma *cur = NULL;
	int r = proc_read(t->pid, "smaps", &buf, NULL);

	if (r < 0)
		return pr_errno(r, "pid %d: cannot read /proc/%d/smaps", t->pid, t->pid);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long s, e, off, ino;
		unsigned maj, min;
		char perms[8];
		int n = 0;

		if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %n", &s, &e, perms, &off, &maj, &min, &ino, &n) >= 7 &&
		    n > 0) {
			const char *path = line + n;
			Vma **nv;

			cur = NULL;
			if (s == t->t.scratch && t->t.scratch_owned)
				continue;
			cur = xzalloc(sizeof(*cur));
			nv = realloc(d->vmas, (d->nr_vmas + 1) * sizeof(*nv));
			if (nv)
				d->vmas = nv;   /* (realloc may have moved it even if cur failed) */
			if (!cur || !nv) {
				free(cur);
				return -ENOMEM;
			}
			d->vmas[d->nr_vmas++] = cur;
			vma__init(cur);
			cur->start = s;
			cur->end = e;
			cur->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
				    (perms[2] == 'x' ? PROT_EXEC : 0);
			cur->flags = perms[3] == 's' ? MAP_SHARED : MAP_PRIVATE;
			cur->has_pgoff = true;
			cur->pgoff = off;
			cur->has_dev = true;
			cur->dev = makedev(maj, min);
			cur->has_ino = true;
			cur->ino = ino;
			if (*path)
				cur->path = xstrdup(path);
			if (!strcmp(path, "[vdso]"))
				cur->kind = VMA_KIND__VMA_VDSO;
			else if (!strcmp(path, "[vvar]"))
				cur->kind = VMA_KIND__VMA_VVAR;
			else if (!strcmp(path, "[vvar_vclock]"))
				cur->kind = VMA_KIND__VMA_VVAR_VCLOCK;
			else if (!strcmp(path, "[vsyscall]"))
				cur->kind = VMA_KIND__VMA_VSYSCALL;
			else if (!strncmp(path, "/SYSV", 5) && perms[3] == 's')
				cur->kind = VMA_KIND__VMA_SYSV_SHM;   /* (inode: the segment's id, may be 0) */
			else if (ino == 0)
				cur->kind = perms[3] == 's' ? VMA_KIND__VMA_ANON_SHARED : VMA_KIND__VMA_ANON_PRIVATE;
			else if (!strncmp(path, "/dev/zero", 9) && perms[3] == 's')
				cur->kind = VMA_KIND__VMA_ANON_SHARED;
			else if (!strncmp(path, "/memfd:", 7))
				cur->kind = VMA_KIND__VMA_MEMFD;
			else
				cur->kind = perms[3] == 's' ? VMA_KIND__VMA_FILE_SHARED : VMA_KIND__VMA_FILE_PRIVATE;
			continue;
		}
		if (cur && !strncmp(line, "VmFlags:", 8)) {
			const char *f = line + 8;
			cur->vmflags = xstrdup(f);
			cur->has_madv = true;
			for (size_t i = 0; i < ARRAY_SIZE(madv_flags); i++)
				if (has_vmflag(f, madv_flags[i].flag))
					cur->madv |= madv_flags[i].bit;
			if (has_vmflag(f, "gd"))
				cur->flags |= MAP_GROWSDOWN;
			if (has_vmflag(f, "nr"))
				cur->flags |= MAP_NORESERVE;
			cur->has_may_write = true;
			cur->may_write = has_vmflag(f, "mw");
			/* um: missing, ui: minor, uw: write-protect mode; uw is
			 * ours in a tracked round (track.c checks it is) */
			if (has_vmflag(f, "um") || has_vmflag(f, "ui")) {
				pr_err("pid %d: memory %#lx-%#lx is registered with userfaultfd by the process: "
				       "not supported yet", t->pid, (unsigned long)cur->start, (unsigned long)cur->end);
				return -ENOTSUP;
			}
			if (has_vmflag(f, "uw") && !(tt && tt->tracked)) {
				pr_err("pid %d: memory %#lx-%#lx is registered with userfaultfd (write-protect): by "
				       "the process (not supported yet), or by the memory tracking of a `crest "
				       "pre-dump` chain still running (continue it with --prev-images-dir, or end "
				       "it with `crest gc -D DIR`)", t->pid, (unsigned long)cur->start,
				       (unsigned long)cur->end);
				return -ENOTSUP;
			}
			if ((has_vmflag(f, "io") || has_vmflag(f, "pf")) &&
			    cur->kind != VMA_KIND__VMA_VVAR && cur->kind != VMA_KIND__VMA_VVAR_VCLOCK &&
			    cur->kind != VMA_KIND__VMA_VDSO && cur->kind != VMA_KIND__VMA_VSYSCALL) {
				pr_err("pid %d: memory %#lx-%#lx (%s) maps device memory: not supported",
				       t->pid, (unsigned long)cur->start, (unsigned long)cur->end,
				       cur->path ? cur->path : "anonymous");
				return -ENOTSUP;
			}
		}
	}
	return 0;
}

static int open_map_file(pid_t pid, const Vma *v)
{
	char path[96];
	snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", pid, (unsigned long)v->start,
		 (unsigned long)v->end);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* File-backed mapping: the file must still be reachable by its path, or
 * be a deleted (replaced) file, kept by ghost.c. */
static int check_file_vma(struct dump_ctx *c, struct dump_task *t, Vma *v)
{
	_cleanup_close_ int fd = open_map_file(t->pid, v);
	struct stat st, pst;
	size_t pl = v->path ? strlen(v->path) : 0;

	if (fd < 0)
		return pr_errno(-errno, "pid %d: mapping %#lx-%#lx (%s): cannot open it through map_files",
				t->pid, (unsigned long)v->start, (unsigned long)v->end, v->path);
	if (fstat(fd, &st) < 0)
		return -errno;
	v->size = st.st_size;
	v->has_size = true;
	v->dev = st.st_dev;
	if (ghost_needed(v->path, &st)) {
		char what[64], proc[96];
		uint32_t id;
		int r;
		snprintf(what, sizeof(what), "mapping %#lx-%#lx", (unsigned long)v->start, (unsigned long)v->end);
		snprintf(proc, sizeof(proc), "/proc/%d/map_files/%lx-%lx", t->pid, (unsigned long)v->start,
			 (unsigned long)v->end);
		r = ghost_dump_add(c, t, what, proc, v->path, &id);
		if (r < 0)
			return r;
		v->has_ghost_id = true;
		v->ghost_id = id;
		return 0;
	}
	if (pl > 10 && !strcmp(v->path + pl - 10, " (deleted)")) {
		pr_err("pid %d: mapping %#lx-%#lx of %s: the file was deleted; unlinked files are not "
		       "supported yet", t->pid, (unsigned long)v->start, (unsigned long)v->end, v->path);
		return -ENOTSUP;
	}
	if (v->path[0] != '/' || mnt_dump_stat(c, t->pid, v->path, &pst, false) < 0 || pst.st_ino != st.st_ino ||
	    pst.st_dev != st.st_dev) {
		if (mnt_dump_foreign(c, t->pid)) {
			char what[64];
			snprintf(what, sizeof(what), "mapping %#lx-%#lx", (unsigned long)v->start, (unsigned long)v->end);
			return mnt_dump_unreachable(c, t->pid, what, v->path, fd);
		}
		pr_err("pid %d: mapping %#lx-%#lx: %s no longer leads to the mapped file (replaced or "
		       "unreachable from crest's mount namespace); not supported yet",
		       t->pid, (unsigned long)v->start, (unsigned long)v->end, v->path);
		return -ENOTSUP;
	}
	return 0;
}

/* An attached SysV segment: its data is the ipc namespace's (ns/ipc.c); the
 * mapping is attached again at restore (whole segments only). */
static int check_sysv_vma(struct dump_ctx *c, struct dump_task *t, Vma *v)
{
	char proc[96];
	struct stat st;

	if (!ns_dump_task_ns(c, t->pid, NSK_IPC)) {
		pr_err("pid %d: memory %#lx-%#lx is the SysV shared memory segment %llu of crest's own ipc "
		       "namespace: not supported (its other users would be out of the dump); run the "
		       "program in an ipc namespace of its own (unshare --ipc)", t->pid,
		       (unsigned long)v->start, (unsigned long)v->end, (unsigned long long)v->ino);
		return -ENOTSUP;
	}
	snprintf(proc, sizeof(proc), "/proc/%d/map_files/%lx-%lx", t->pid, (unsigned long)v->start,
		 (unsigned long)v->end);
	if (stat(proc, &st) < 0)
		return pr_errno(-errno, "pid %d: SysV segment at %#lx-%#lx: stat", t->pid,
				(unsigned long)v->start, (unsigned long)v->end);
	if (v->pgoff || v->end - v->start != PAGE_ALIGN_UP((uint64_t)st.st_size)) {
		pr_err("pid %d: memory %#lx-%#lx is a part of SysV segment %llu (%llu bytes, offset %llu): "
		       "only whole attached segments are supported (not one partly unmapped or "
		       "mprotect'ed)", t->pid, (unsigned long)v->start, (unsigned long)v->end,
		       (unsigned long long)v->ino, (unsigned long long)st.st_size,
		       (unsigned long long)v->pgoff);
		return -ENOTSUP;
	}
	v->has_sysv_shmid = true;
	v->sysv_shmid = (int32_t)v->ino;
	return 0;
}

/* Shared memory object: its data is kept once per object (shmem.c). */
static int dump_shmem(struct dump_ctx *c, struct dump_task *t, Vma *v)
{
	_cleanup_close_ int fd = open_map_file(t->pid, v);
	uint32_t id;
	int r;

	if (fd < 0)
		return pr_errno(-errno, "pid %d: shared memory %#lx-%#lx (%s): cannot open it",
				t->pid, (unsigned long)v->start, (unsigned long)v->end, v->path);
	r = shmem_dump_add(c, t, fd, v->kind == VMA_KIND__VMA_MEMFD ? v->path + 7 : NULL, v->ino, &id);
	if (r < 0)
		return r;
	v->has_shmid = true;
	v->shmid = id;
	return 0;
}

static int parse_stat_mm(struct dump_task *t, Mm *mm)
{
	_cleanup_free_ char *buf = NULL;
	unsigned long long f[60] = { 0 };
	char *p;
	int r = proc_read(t->pid, "stat", &buf, NULL), i;

	if (r < 0)
		return pr_errno(r, "pid %d: cannot read /proc/%d/stat", t->pid, t->pid);
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	p += 2;
	/* field 3 is the state; fields counted from 1 */
	for (i = 3; i < 60 && *p; i++) {
		if (i == 3) {
			p++;
		} else {
			f[i] = strtoull(p, &p, 10);
		}
		while (*p == ' ')
			p++;
	}
	mm->start_code = f[26];
	mm->end_code = f[27];
	mm->start_stack = f[28];
	mm->start_data = f[45];
	mm->end_data = f[46];
	mm->start_brk = f[47];
	mm->arg_start = f[48];
	mm->arg_end = f[49];
	mm->env_start = f[50];
	mm->env_end = f[51];
	return 0;
}

static int dump_mm_fields(struct dump_ctx *c, struct dump_task *t, struct dump_mm *d)
{
	_cleanup_free_ char *auxv = NULL, *exe = NULL;
	char path[64];
	struct stat st;
	size_t len;
	long brk;
	int r = parse_stat_mm(t, &d->mm);

	if (r < 0)
		return r;
	r = INJECT(&t->t, &brk, __NR_brk, 0);
	if (r < 0)
		return r;
	d->mm.brk = brk;
	r = proc_read(t->pid, "auxv", &auxv, &len);
	if (r < 0)
		return pr_errno(r, "pid %d: cannot read auxv", t->pid);
	d->mm.n_auxv = len / sizeof(uint64_t);
	d->mm.auxv = malloc(len ? len : 1);
	if (!d->mm.auxv)
		return -ENOMEM;
	memcpy(d->mm.auxv, auxv, d->mm.n_auxv * sizeof(uint64_t));
	snprintf(path, sizeof(path), "/proc/%d/exe", t->pid);
	r = readlink_at(AT_FDCWD, path, &exe);
	if (r < 0)
		return pr_errno(r, "pid %d: cannot read its exe link", t->pid);
	if (stat(path, &st) < 0)
		return pr_errno(-errno, "pid %d: cannot stat its executable %s", t->pid, exe);
	if (ghost_needed(exe, &st)) {   /* deleted (e.g. rebuilt) while running: ghost.c */
		r = ghost_dump_add(c, t, "executable", path, exe, &d->mm.exe_ghost);
		if (r < 0)
			return r;
		d->mm.has_exe_ghost = true;
	}
	d->mm.exe_path = TAKE_PTR(exe);
	d->mm.has_exe_dev = d->mm.has_exe_ino = true;
	d->mm.exe_dev = st.st_dev;
	d->mm.exe_ino = st.st_ino;
	return 0;
}

int mm_dump(struct dump_ctx *c, struct dump_task *t)
{
	struct dump_mm d = { .mm = MM__INIT };
	struct pages_plan plan = { 0 };
	struct track_task *tt = NULL;
	_cleanup_close_ int pm_fd = -1;
	char name[IMG_NAME_MAX], path[64];
	int r;

	r = track_task(c->track, t, &tt);   /* a chain's last round: --prev-images-dir */
	if (r < 0)
		goto out;
	r = parse_smaps(t, &d, tt);
	if (r < 0)
		goto out;
	r = dump_mm_fields(c, t, &d);
	if (r < 0)
		goto out;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", t->pid);
	pm_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pm_fd < 0) {
		r = pr_errno(-errno, "pid %d: cannot open %s", t->pid, path);
		goto out;
	}
	for (size_t i = 0; i < d.nr_vmas; i++) {
		Vma *v = d.vmas[i];
		if ((i == d.nr_vmas / 2 && fault_at("dump-mid-memory")) || cancelled(c->o)) {
			r = -ECANCELED;
			goto out;
		}
		switch (v->kind) {
		case VMA_KIND__VMA_FILE_PRIVATE:
		case VMA_KIND__VMA_FILE_SHARED:
			r = check_file_vma(c, t, v);
			break;
		case VMA_KIND__VMA_SYSV_SHM:
			r = check_sysv_vma(c, t, v);
			break;
		case VMA_KIND__VMA_ANON_SHARED:
		case VMA_KIND__VMA_MEMFD:
			if (v->path && !strncmp(v->path, "/SYSV", 5)) {
				pr_err("pid %d: memory %#lx-%#lx is a SysV shared memory segment: not supported yet",
				       t->pid, (unsigned long)v->start, (unsigned long)v->end);
				r = -ENOTSUP;
				break;
			}
			r = dump_shmem(c, t, v);
			break;
		default:
			r = 0;
		}
		if (r < 0)
			goto out;
		if (v->kind == VMA_KIND__VMA_ANON_PRIVATE || v->kind == VMA_KIND__VMA_FILE_PRIVATE) {
			r = pages_plan_vma(t, pm_fd, v, tt, &plan);
			if (r < 0)
				goto out;
		}
	}
	r = pages_write(c, t, &plan, false);
	if (r < 0)
		goto out;
	d.mm.vmas = d.vmas;
	d.mm.n_vmas = d.nr_vmas;
	snprintf(name, sizeof(name), "mm-%d.img", t->pid);
	r = img_write(c->dirfd, name, &d.mm.base);
	pr_info("pid %d: %zu VMAs", t->pid, d.nr_vmas);
out:
	pages_plan_free(&plan);
	dump_mm_free(&d);
	return r;
}

/*
 * Pre-dump, task stopped: plan its pages against the parent (tracked VMAs:
 * only the pages written since), then register what is not tracked yet.
 */
int mm_pre_dump_plan(struct dump_ctx *c, struct dump_task *t, struct pages_plan *plan)
{
	struct dump_mm d = { .mm = MM__INIT };
	struct track_task *tt = NULL;
	_cleanup_close_ int pm_fd = -1;
	char path[64];
	int r;

	r = track_task(c->track, t, &tt);
	if (r < 0)
		goto out;
	r = parse_smaps(t, &d, tt);
	if (r < 0)
		goto out;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", t->pid);
	pm_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pm_fd < 0) {
		r = pr_errno(-errno, "pid %d: cannot open %s", t->pid, path);
		goto out;
	}
	for (size_t i = 0; i < d.nr_vmas && r == 0; i++) {
		Vma *v = d.vmas[i];
		if (cancelled(c->o))
			r = -ECANCELED;
		else if (v->kind == VMA_KIND__VMA_ANON_PRIVATE || v->kind == VMA_KIND__VMA_FILE_PRIVATE)
			r = pages_plan_vma(t, pm_fd, v, tt, plan);
	}
	/* from now on count the writes of what was not tracked */
	for (size_t i = 0; i < d.nr_vmas && r == 0; i++)
		if (!track_vma_tracked(tt, d.vmas[i]))
			r = track_register(c->track, tt, t, d.vmas[i]);
	if (r == 0)
		pr_info("pid %d: %zu VMAs, %llu pages to copy, %llu unchanged since the parent", t->pid, d.nr_vmas,
			(unsigned long long)plan->data, (unsigned long long)plan->parent);
out:
	dump_mm_free(&d);
	return r;
}
