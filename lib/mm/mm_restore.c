/* SPDX-License-Identifier: MIT */
/*
 * Memory, restore side.  crest checks the images and mapped files before
 * fork (mm_load); the child opens every mapped file and creates the shared
 * memory objects natively and maps a one-page `syscall` gadget (mm_prepare);
 * then crest, through syscalls injected from that gadget, unmaps the
 * child's whole address space but the gadget and the vdso, moves the vdso
 * to its dumped address, maps every VMA and writes the pages (mm_swap).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/prctl.h>
#include <linux/ptrace.h>
#include <xxhash.h>
#include "util/compat.h"
#include "image/image.h"
#include "util/log.h"
#include "ns/mnt.h"
#include "mm.h"
#include "mm_priv.h"
#include "pages_restore.h"
#include "shmem.h"
#include "fs/ghost.h"
#include "util/util.h"

#define MAX_GADGET_CANDS 16

struct mm_restore {
	Mm *mm;
	struct pages_src *src;   /* pages_restore.c: the pages, down the chain */
	int dirfd;
	pid_t pid;
	const struct crest_opts *o;
	unsigned long cands[MAX_GADGET_CANDS];
	int nr_cands;
	unsigned long gadget;
	int *vma_fd;      /* per VMA: tmp fd index, or -1 */
	int exe_fd;       /* tmp fd index */
	int nr_tmp;
};

void mm_free(struct mm_restore *m)
{
	if (!m)
		return;
	if (m->mm)
		protobuf_c_message_free_unpacked(&m->mm->base, NULL);
	pages_src_free(m->src);
	free(m->vma_fd);
	free(m);
}

static bool is_special(const Vma *v)
{
	return v->kind == VMA_KIND__VMA_VDSO || v->kind == VMA_KIND__VMA_VVAR ||
	       v->kind == VMA_KIND__VMA_VVAR_VCLOCK || v->kind == VMA_KIND__VMA_VSYSCALL;
}

static int check_file(pid_t pid, const char *what, const char *path, uint64_t dev, uint64_t ino,
		      bool has_size, uint64_t size)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return pr_errno(-errno, "pid %d: %s %s is gone", pid, what, path);
	if (st.st_ino != ino || st.st_dev != dev) {
		pr_err("pid %d: %s %s was replaced since the dump (inode %llu, was %llu): restore needs "
		       "the same file", pid, what, path, (unsigned long long)st.st_ino, (unsigned long long)ino);
		return -ESTALE;
	}
	if (has_size && (uint64_t)st.st_size != size) {
		pr_err("pid %d: %s %s changed size since the dump (%lld bytes, was %llu)", pid, what, path,
		       (long long)st.st_size, (unsigned long long)size);
		return -ESTALE;
	}
	return 0;
}

int mm_load(struct restore_ctx *c, struct restore_task *t, struct mm_restore **out)
{
	struct mm_restore *m = xzalloc(sizeof(*m));
	char name[IMG_NAME_MAX];
	unsigned long prev_end = 0x10000;
	int r;

	if (!m)
		return -ENOMEM;
	m->dirfd = c->dirfd;
	m->o = c->o;
	m->pid = t->pid;
	/* in a mount namespace of the tree (built later): its files resolve
	 * only there, in mounts made anew (ns/mnt_restore.c) */
	bool foreign = mnt_restore_foreign(c, t->pid);
	snprintf(name, sizeof(name), "mm-%d.img", t->pid);
	r = img_read(c->dirfd, name, &mm__descriptor, (ProtobufCMessage **)&m->mm, false);
	if (r < 0)
		goto err;
	r = pages_src_load(c->chain, t->pid, &m->src);
	if (r < 0)
		goto err;

	m->vma_fd = malloc(m->mm->n_vmas * sizeof(int) + 1);
	if (!m->vma_fd) {
		r = -ENOMEM;
		goto err;
	}
	for (size_t i = 0; i < m->mm->n_vmas; i++) {
		Vma *v = m->mm->vmas[i];
		m->vma_fd[i] = -1;
		if ((v->kind == VMA_KIND__VMA_FILE_PRIVATE || v->kind == VMA_KIND__VMA_FILE_SHARED) &&
		    v->has_ghost_id) {
			/* a deleted file: ghost.c recreates it before the fork */
			if (!ghost_restore_has(c, v->ghost_id)) {
				pr_err("image mm-%d.img is corrupt: mapping of a deleted file without its object",
				       t->pid);
				r = -EBADMSG;
				goto err;
			}
			m->vma_fd[i] = m->nr_tmp++;
		} else if (v->kind == VMA_KIND__VMA_FILE_PRIVATE || v->kind == VMA_KIND__VMA_FILE_SHARED) {
			r = foreign ? 0 : check_file(t->pid, "mapped file", v->path, v->dev, v->ino, v->has_size, v->size);
			if (r < 0)
				goto err;
			m->vma_fd[i] = m->nr_tmp++;
		}
		if (v->kind == VMA_KIND__VMA_SYSV_SHM && !v->has_sysv_shmid) {
			pr_err("image mm-%d.img is corrupt: SysV mapping without its segment id", t->pid);
			r = -EBADMSG;
			goto err;
		}
		if ((v->kind == VMA_KIND__VMA_ANON_SHARED || v->kind == VMA_KIND__VMA_MEMFD) &&
		    (!v->has_shmid || !shmem_restore_has(t, v->shmid))) {
			pr_err("image mm-%d.img is corrupt: shared mapping without its object", t->pid);
			r = -EBADMSG;
			goto err;
		}
		/* gadget candidates: free gaps of the dumped layout */
		if (v->kind != VMA_KIND__VMA_VSYSCALL && v->start >= prev_end + 3 * PAGE_SIZE_CREST &&
		    m->nr_cands < MAX_GADGET_CANDS)
			m->cands[m->nr_cands++] = v->start - 2 * PAGE_SIZE_CREST;
		if (v->kind != VMA_KIND__VMA_VSYSCALL)
			prev_end = MAX(prev_end, v->end);
	}
	if (m->nr_cands < MAX_GADGET_CANDS && prev_end + 3 * PAGE_SIZE_CREST < 0x7ffffffff000UL)
		m->cands[m->nr_cands++] = prev_end + PAGE_SIZE_CREST;
	if (m->mm->has_exe_ghost && !ghost_restore_has(c, m->mm->exe_ghost)) {
		pr_err("image mm-%d.img is corrupt: deleted executable without its object", t->pid);
		r = -EBADMSG;
		goto err;
	}
	if (m->mm->exe_path && !m->mm->has_exe_ghost) {
		r = foreign ? 0 : check_file(t->pid, "executable", m->mm->exe_path, m->mm->exe_dev, m->mm->exe_ino, false, 0);
		if (r < 0)
			goto err;
	}
	m->exe_fd = m->nr_tmp++;
	*out = m;
	return 0;
err:
	mm_free(m);
	return r;
}

int mm_tmp_fds(struct mm_restore *m)
{
	return m->nr_tmp;   /* counts the shmem objects' fds too */
}

/* ---- child side ---- */

static int place_fd(int fd, int target)
{
	if (fd == target)
		return 0;
	if (dup2(fd, target) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	close(fd);
	return 0;
}

int mm_prepare(struct restore_ctx *c, struct restore_task *t, struct mm_restore *m,
	       unsigned long *gadget)
{
	int base = t->tmp_fd_base, r, fd;

	for (size_t i = 0; i < m->mm->n_vmas; i++) {
		Vma *v = m->mm->vmas[i];
		int flags = O_RDONLY;
		if (m->vma_fd[i] < 0)
			continue;
		if (v->kind == VMA_KIND__VMA_FILE_SHARED && (v->may_write || (v->prot & PROT_WRITE)))
			flags = O_RDWR;
		if (v->has_ghost_id) {
			char what[64];
			snprintf(what, sizeof(what), "mapping %#lx-%#lx", (unsigned long)v->start,
				 (unsigned long)v->end);
			fd = ghost_open(c, t, v->ghost_id, flags, what);
			if (fd < 0)
				return fd;
		} else {
			fd = open(v->path, flags | O_CLOEXEC);
		}
		if (fd < 0)
			return pr_errno(-errno, "pid %d: cannot open mapped file %s", t->pid, v->path);
		r = place_fd(fd, base + m->vma_fd[i]);
		if (r < 0)
			return pr_errno(r, "pid %d: dup2 of mapped file %s", t->pid, v->path);
	}
	if (m->mm->exe_path) {
		if (m->mm->has_exe_ghost)
			fd = ghost_open(c, t, m->mm->exe_ghost, O_RDONLY, "executable");
		else
			fd = open(m->mm->exe_path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && m->mm->has_exe_ghost)
			return fd;
		if (fd < 0)
			return pr_errno(-errno, "pid %d: cannot open its executable %s", t->pid, m->mm->exe_path);
		r = place_fd(fd, base + m->exe_fd);
		if (r < 0)
			return r;
	}
	for (int i = 0; i < m->nr_cands; i++) {
		void *p = mmap((void *)m->cands[i], PAGE_SIZE_CREST, PROT_READ | PROT_WRITE | PROT_EXEC,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED)
			continue;
		if ((unsigned long)p != m->cands[i]) {
			munmap(p, PAGE_SIZE_CREST);
			continue;
		}
		((unsigned char *)p)[0] = 0x0f;   /* syscall */
		((unsigned char *)p)[1] = 0x05;
		((unsigned char *)p)[2] = 0xcc;   /* int3 */
		*gadget = (unsigned long)p;
		return 0;
	}
	pr_err("pid %d: no free address for the restore gadget page", t->pid);
	return -ENOMEM;
}

/* ---- tracer side ---- */

static int inj(struct tracee *t, long *ret, const char *what, long nr, unsigned long a1, unsigned long a2,
	       unsigned long a3, unsigned long a4, unsigned long a5, unsigned long a6)
{
	int r = tracee_syscall(t, ret, nr, a1, a2, a3, a4, a5, a6);
	if (r < 0)
		return r;
	if (*ret < 0 && *ret > -4096) {
		pr_err("pid %d: %s failed: %s", t->pid, what, strerror(-*ret));
		return (int)*ret;
	}
	return 0;
}
#define INJ(t, what, nr, ...) ({ long _ret; int _r = inj(t, &_ret, what, nr, INJ_ARGS6(__VA_ARGS__ __VA_OPT__(,) 0, 0, 0, 0, 0, 0)); _r < 0 ? (long)_r : _ret; })
#define INJ_OK(x) ((x) >= 0 || (x) <= -4096)

struct special {
	unsigned long start, end;
	int kind;
};

static int read_child_maps(pid_t pid, struct special *sp, int *nsp, unsigned long **unmap, int *nun,
			   unsigned long gadget)
{
	_cleanup_free_ char *buf = NULL;
	char *line, *save = NULL;
	int r = proc_read(pid, "maps", &buf, NULL);

	if (r < 0)
		return pr_errno(r, "pid %d: cannot read its maps", pid);
	*nsp = 0;
	*nun = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long s, e;
		int kind = -1;
		if (sscanf(line, "%lx-%lx", &s, &e) != 2)
			continue;
		if (strstr(line, "[vsyscall]") || s == gadget)
			continue;
		if (strstr(line, "[vdso]"))
			kind = VMA_KIND__VMA_VDSO;
		else if (strstr(line, "[vvar_vclock]"))
			kind = VMA_KIND__VMA_VVAR_VCLOCK;
		else if (strstr(line, "[vvar]"))
			kind = VMA_KIND__VMA_VVAR;
		if (kind >= 0) {
			if (*nsp < 8)
				sp[(*nsp)++] = (struct special){ s, e, kind };
			continue;
		}
		unsigned long *n = realloc(*unmap, (*nun + 2) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		*unmap = n;
		n[(*nun)++] = s;
		n[(*nun)++] = e;
	}
	return 0;
}

static bool overlaps(unsigned long s1, unsigned long e1, unsigned long s2, unsigned long e2)
{
	return s1 < e2 && s2 < e1;
}

/* One munmap for every run of mappings with nothing to keep in between
 * (the gadget, the vdso/vvar): fewer injected syscalls per task. */
static int merge_unmaps(unsigned long *u, int n, const struct special *sp, int nsp, unsigned long gadget)
{
	int out = 0;

	for (int i = 0; i < n; i += 2) {
		if (out) {
			unsigned long gs = u[out - 1], ge = u[i];
			bool keep = ge < gs || overlaps(gs, ge, gadget, gadget + PAGE_SIZE_CREST);
			for (int j = 0; j < nsp && !keep; j++)
				keep = overlaps(gs, ge, sp[j].start, sp[j].end);
			if (!keep) {
				u[out - 1] = u[i + 1];
				continue;
			}
		}
		u[out++] = u[i];
		u[out++] = u[i + 1];
	}
	return out;
}

/* Move the child's vdso/vvar to where the dumped task had them. */
static int move_vdso(struct tracee *t, struct mm_restore *m, struct special *sp, int nsp)
{
	const Mm *mm = m->mm;
	unsigned long cur_lo = ~0UL, cur_hi = 0, dst_lo = ~0UL, dst_hi = 0;
	long delta = 0, tmp_delta;
	bool have_delta = false;
	int matched = 0;

	for (size_t i = 0; i < mm->n_vmas; i++) {
		const Vma *v = mm->vmas[i];
		if (!is_special(v) || v->kind == VMA_KIND__VMA_VSYSCALL)
			continue;
		dst_lo = MIN(dst_lo, v->start);
		dst_hi = MAX(dst_hi, v->end);
		for (int j = 0; j < nsp; j++) {
			if (sp[j].kind != (int)v->kind)
				continue;
			if (sp[j].end - sp[j].start != v->end - v->start) {
				pr_err("pid %d: the vdso layout differs from the dump (%s is %lu bytes here, %lu "
				       "in the image): restore on the kernel that made the dump",
				       t->pid, v->path, sp[j].end - sp[j].start,
				       (unsigned long)(v->end - v->start));
				return -ENOEXEC;
			}
			long d = (long)(v->start - sp[j].start);
			if (have_delta && d != delta) {
				pr_err("pid %d: vdso and vvar moved apart since the dump: cannot restore", t->pid);
				return -ENOEXEC;
			}
			delta = d;
			have_delta = true;
			matched++;
		}
	}
	for (int j = 0; j < nsp; j++) {
		cur_lo = MIN(cur_lo, sp[j].start);
		cur_hi = MAX(cur_hi, sp[j].end);
	}
	if (matched != nsp) {
		pr_err("pid %d: the dumped task has %d of this kernel's %d vdso/vvar areas", t->pid, matched, nsp);
		return -ENOEXEC;
	}
	if (!have_delta || delta == 0)
		return 0;
	tmp_delta = delta;
	if (overlaps(cur_lo, cur_hi, dst_lo, dst_hi)) {
		/* Go through a temporary place free in both layouts. */
		unsigned long tmp = 0;
		for (int i = 0; i < m->nr_cands && !tmp; i++) {
			unsigned long c = m->cands[i] - (cur_hi - cur_lo) - 16 * PAGE_SIZE_CREST;
			if (c == m->gadget || overlaps(c, c + (cur_hi - cur_lo), dst_lo, dst_hi) ||
			    overlaps(c, c + (cur_hi - cur_lo), cur_lo, cur_hi) ||
			    overlaps(c, c + (cur_hi - cur_lo), m->gadget, m->gadget + PAGE_SIZE_CREST))
				continue;
			bool clash = false;
			for (size_t k = 0; k < mm->n_vmas; k++)
				if (overlaps(c, c + (cur_hi - cur_lo), mm->vmas[k]->start, mm->vmas[k]->end))
					clash = true;
			if (!clash)
				tmp = c;
		}
		if (!tmp) {
			pr_err("pid %d: no room to move the vdso", t->pid);
			return -ENOMEM;
		}
		long td = (long)(tmp - cur_lo);
		for (int j = 0; j < nsp; j++) {
			long r = INJ(t, "mremap of the vdso", __NR_mremap, sp[j].start, sp[j].end - sp[j].start,
				     sp[j].end - sp[j].start, MREMAP_MAYMOVE | MREMAP_FIXED, sp[j].start + td);
			if (!INJ_OK(r))
				return (int)r;
			sp[j].start += td;
			sp[j].end += td;
		}
		tmp_delta = delta - td;
	}
	for (int j = 0; j < nsp; j++) {
		long r = INJ(t, "mremap of the vdso", __NR_mremap, sp[j].start, sp[j].end - sp[j].start,
			     sp[j].end - sp[j].start, MREMAP_MAYMOVE | MREMAP_FIXED, sp[j].start + tmp_delta);
		if (!INJ_OK(r))
			return (int)r;
	}
	return 0;
}

static int unregister_rseq(struct tracee *t)
{
	struct ptrace_rseq_configuration conf = { 0 };
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, t->pid, sizeof(conf), &conf) < 0)
		return pr_errno(-errno, "pid %d: PTRACE_GET_RSEQ_CONFIGURATION", t->pid);
	if (!conf.rseq_abi_pointer)
		return 0;
	long r = INJ(t, "rseq unregister", __NR_rseq, conf.rseq_abi_pointer, conf.rseq_abi_size, 1 /* UNREGISTER */,
		     conf.signature);
	return INJ_OK(r) ? 0 : (int)r;
}

static bool vma_has_pages(const PageMap *pm, const Vma *v)
{
	/* binary search would do; runs are sorted by address */
	size_t lo = 0, hi = pm->n_runs;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const PageRun *r = pm->runs[mid];
		uint64_t rend = r->vaddr + (uint64_t)r->nr_pages * PAGE_SIZE_CREST;
		if (rend <= v->start)
			lo = mid + 1;
		else if (r->vaddr >= v->end)
			hi = mid;
		else
			return true;
	}
	return false;
}

static const struct {
	uint32_t bit;
	int advice;
} madv_map[] = {
	{ CREST_MADV_DONTDUMP, MADV_DONTDUMP },   { CREST_MADV_HUGEPAGE, MADV_HUGEPAGE },
	{ CREST_MADV_NOHUGEPAGE, MADV_NOHUGEPAGE }, { CREST_MADV_DONTFORK, MADV_DONTFORK },
	{ CREST_MADV_WIPEONFORK, MADV_WIPEONFORK }, { CREST_MADV_MERGEABLE, MADV_MERGEABLE },
	{ CREST_MADV_SEQ, MADV_SEQUENTIAL },       { CREST_MADV_RANDOM, MADV_RANDOM },
};

/* An attached SysV segment: attached again at its address (the task is in
 * its ipc namespace, where ns/ipc.c made the segment at its id). */
static int map_sysv(struct tracee *t, struct restore_task *rt, const Vma *v, bool *wprot)
{
	unsigned flags = (v->prot & PROT_WRITE ? 0 : SHM_RDONLY) | (v->prot & PROT_EXEC ? SHM_EXEC : 0);
	unsigned got = PROT_READ | (v->prot & PROT_WRITE) | (v->prot & PROT_EXEC);
	long r = INJ(t, "shmat", __NR_shmat, v->sysv_shmid, v->start, flags);

	if (!INJ_OK(r)) {
		pr_err("pid %d: could not attach SysV segment %d at %#lx again", rt->pid, v->sysv_shmid,
		       (unsigned long)v->start);
		return (int)r;
	}
	if ((unsigned long)r != v->start) {
		pr_err("pid %d: SysV segment %d attached at %#lx, not %#lx", rt->pid, v->sysv_shmid, r,
		       (unsigned long)v->start);
		return -EFAULT;
	}
	*wprot = got != v->prot;   /* finish_vmas mprotects it back */
	return 0;
}

static int map_vmas(struct tracee *t, struct restore_task *rt, struct mm_restore *m, bool *wprot)
{
	for (size_t i = 0; i < m->mm->n_vmas; i++) {
		Vma *v = m->mm->vmas[i];
		unsigned long len = v->end - v->start, flags = MAP_FIXED;
		unsigned prot = v->prot;
		long fd = -1, off = 0, r;

		wprot[i] = false;
		if (is_special(v))
			continue;
		switch (v->kind) {
		case VMA_KIND__VMA_ANON_PRIVATE:
			flags |= MAP_PRIVATE | MAP_ANONYMOUS;
			break;
		case VMA_KIND__VMA_FILE_PRIVATE:
		case VMA_KIND__VMA_FILE_SHARED:
			flags |= v->kind == VMA_KIND__VMA_FILE_SHARED ? MAP_SHARED : MAP_PRIVATE;
			fd = rt->tmp_fd_base + m->vma_fd[i];
			off = v->pgoff;
			break;
		case VMA_KIND__VMA_ANON_SHARED:
		case VMA_KIND__VMA_MEMFD:
			flags |= MAP_SHARED;
			fd = shmem_restore_fd(rt, v->shmid);
			off = v->pgoff;
			break;
		case VMA_KIND__VMA_SYSV_SHM:
			r = map_sysv(t, rt, v, &wprot[i]);
			if (r < 0)
				return (int)r;
			continue;
		default:
			continue;
		}
		flags |= v->flags & (MAP_GROWSDOWN | MAP_NORESERVE);
		if ((flags & MAP_PRIVATE) && vma_has_pages(pages_src_map(m->src), v) && (prot & (PROT_READ | PROT_WRITE)) !=
		    (PROT_READ | PROT_WRITE)) {
			prot |= PROT_READ | PROT_WRITE;
			wprot[i] = true;
		}
		r = INJ(t, "mmap", __NR_mmap, v->start, len, prot, flags, fd, off);
		if (!INJ_OK(r)) {
			pr_err("pid %d: could not map %#lx-%#lx (%s)", rt->pid, (unsigned long)v->start,
			       (unsigned long)v->end, v->path ? v->path : "anonymous");
			return (int)r;
		}
		if ((unsigned long)r != v->start) {
			pr_err("pid %d: mmap of %#lx landed at %#lx", rt->pid, (unsigned long)v->start, r);
			return -EFAULT;
		}
	}
	return 0;
}

static int finish_vmas(struct tracee *t, struct restore_task *rt, struct mm_restore *m, const bool *wprot)
{
	for (size_t i = 0; i < m->mm->n_vmas; i++) {
		Vma *v = m->mm->vmas[i];
		unsigned long len = v->end - v->start;
		long r;

		if (is_special(v))
			continue;
		if (wprot[i]) {
			r = INJ(t, "mprotect", __NR_mprotect, v->start, len, v->prot);
			if (!INJ_OK(r))
				return (int)r;
		}
		for (size_t k = 0; k < ARRAY_SIZE(madv_map); k++)
			if (v->madv & madv_map[k].bit) {
				r = INJ(t, "madvise", __NR_madvise, v->start, len, madv_map[k].advice);
				if (!INJ_OK(r))
					return (int)r;
			}
		if (v->madv & (CREST_MADV_LOCKED | CREST_MADV_LOCKONFAULT)) {
			r = INJ(t, "mlock2", __NR_mlock2, v->start, len,
				(v->madv & CREST_MADV_LOCKONFAULT) ? 1 /* MLOCK_ONFAULT */ : 0);
			if (!INJ_OK(r))
				return (int)r;
		}
		for (size_t g = 0; g + 1 < v->n_guards; g += 2) {
			r = INJ(t, "madvise(MADV_GUARD_INSTALL)", __NR_madvise, v->guards[g], v->guards[g + 1],
				MADV_GUARD_INSTALL);
			if (!INJ_OK(r))
				return (int)r;
		}
	}
	return 0;
}

static int set_mm_map(struct tracee *t, struct restore_task *rt, struct mm_restore *m)
{
	struct prctl_mm_map map = {
		.start_code = m->mm->start_code, .end_code = m->mm->end_code,
		.start_data = m->mm->start_data, .end_data = m->mm->end_data,
		.start_brk = m->mm->start_brk, .brk = m->mm->brk,
		.start_stack = m->mm->start_stack, .arg_start = m->mm->arg_start,
		.arg_end = m->mm->arg_end, .env_start = m->mm->env_start, .env_end = m->mm->env_end,
		.exe_fd = m->mm->exe_path ? (uint32_t)(rt->tmp_fd_base + m->exe_fd) : (uint32_t)-1,
	};
	size_t auxv_len = m->mm->n_auxv * sizeof(uint64_t);
	unsigned long a = t->scratch;

	if (sizeof(map) + auxv_len > t->scratch_size) {
		pr_err("pid %d: auxv too large (%zu bytes)", rt->pid, auxv_len);
		return -E2BIG;
	}
	map.auxv = (__u64 *)(a + sizeof(map));
	map.auxv_size = auxv_len;
	int r = tracee_write(t, a, &map, sizeof(map));
	if (r == 0 && auxv_len)
		r = tracee_write(t, a + sizeof(map), m->mm->auxv, auxv_len);
	if (r < 0)
		return r;
	long ret = INJ(t, "prctl(PR_SET_MM_MAP)", __NR_prctl, PR_SET_MM, PR_SET_MM_MAP, a, sizeof(map), 0);
	return INJ_OK(ret) ? 0 : (int)ret;
}

int mm_swap(struct restore_ctx *c, struct restore_task *rt, struct mm_restore *m)
{
	struct tracee *t = &rt->t;
	struct special sp[8];
	_cleanup_free_ unsigned long *unmap = NULL;
	_cleanup_free_ bool *wprot = NULL;
	int nsp, nun, r;

	r = unregister_rseq(t);
	if (r < 0)
		return r;
	r = read_child_maps(rt->pid, sp, &nsp, &unmap, &nun, m->gadget);
	if (r < 0)
		return r;
	nun = merge_unmaps(unmap, nun, sp, nsp, m->gadget);
	for (int i = 0; i < nun; i += 2) {
		long ret = INJ(t, "munmap", __NR_munmap, unmap[i], unmap[i + 1] - unmap[i]);
		if (!INJ_OK(ret))
			return (int)ret;
	}
	r = move_vdso(t, m, sp, nsp);
	if (r < 0)
		return r;
	wprot = calloc(m->mm->n_vmas + 1, sizeof(bool));
	if (!wprot)
		return -ENOMEM;
	r = map_vmas(t, rt, m, wprot);
	if (r < 0)
		return r;
	r = pages_src_fill(m->src, t, m->mm, m->o);
	if (r < 0)
		return r;
	r = finish_vmas(t, rt, m, wprot);
	if (r < 0)
		return r;
	return set_mm_map(t, rt, m);
}

void mm_set_gadget(struct mm_restore *m, unsigned long g)
{
	m->gadget = g;
}
