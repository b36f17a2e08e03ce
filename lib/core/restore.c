/* SPDX-License-Identifier: MIT */
/*
 * Restore: read and check every image, then recreate the tree.  crest forks
 * the root at its pid (clone3 set_tid, one pid per pid-namespace level);
 * every task forks its own children the same way, so parents, sessions and
 * groups come out right; each task then prepares its resources natively.
 * The tasks and crest meet at barriers in a shared control page (futexes).
 * Then crest, as ptrace tracer of every task, swaps each address space,
 * runs the modules' injection hooks, loads the registers and lets the tree
 * go.  Any failure kills the whole tree: nothing half-made stays behind.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "util/compat.h"
#include "core.h"
#include "image/chain.h"
#include "image/image.h"
#include "inventory.pb-c.h"
#include "util/log.h"
#include "mm/mm.h"
#include "ns/pidns.h"
#include "ns/ns.h"
#include "pstree.h"
#include "mm/shmem.h"
#include "fs/ghost.h"
#include "fs/tty.h"
#include "task.h"
#include "util/util.h"
#include "restore_priv.h"


/* Optional hooks of modules (weak: absent until the module provides them). */
int sig_restore_blocked(struct restore_task *t, uint64_t *mask) __attribute__((weak));
int misc_restore_dumpable(struct restore_ctx *c, struct restore_task *t) __attribute__((weak));


int restore_tmp_fd(struct restore_task *t)
{
	return t->next_tmp_fd++;
}

/* ------------------------------------------------------------- loading */

int find_task(struct rst *s, pid_t pid)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->tasks[i].t.pid == pid)
			return (int)i;
	return -1;
}

static int load_task(struct rst *s, struct rtask *rt)
{
	char name[IMG_NAME_MAX];
	int r, maxfd = 2;

	if (rt->e->zombie)
		return 0;
	snprintf(name, sizeof(name), "core-%d.img", rt->t.pid);
	r = img_read(s->c.dirfd, name, &task_core__descriptor, (ProtobufCMessage **)&rt->core, false);
	if (r < 0)
		return r;
	rt->thr = calloc(rt->core->n_threads + 1, sizeof(*rt->thr));
	if (!rt->thr)
		return -ENOMEM;
	for (size_t i = 0; i < rt->core->n_threads; i++) {
		struct rthread *th = &rt->thr[i];
		th->t.mem_fd = -1;
		snprintf(name, sizeof(name), "core-%d.img", rt->core->threads[i]);
		r = img_read(s->c.dirfd, name, &task_core__descriptor, (ProtobufCMessage **)&th->core, false);
		if (r < 0)
			return r;
		rt->nr_thr++;
		if (!th->core->thread || th->core->pid != rt->core->threads[i] || !th->core->thread->n_nstid) {
			pr_err("image %s is corrupt: not a thread of pid %d", name, rt->t.pid);
			return -EBADMSG;
		}
	}
	rt->t.thread_tids = rt->core->threads;
	rt->t.nr_thread_tids = rt->nr_thr;
	/* an address space shared with an earlier task: restored by it */
	r = rt->e->has_vm_owner ? 0 : mm_load(&s->c, &rt->t, &rt->mm);
	if (r < 0)
		return r;
	for (int i = 0; i < MOD_MAX; i++) {
		const struct crest_module *m = crest_modules[i];
		if (m->load) {
			r = m->load(&s->c, &rt->t);
			if (r < 0)
				return r;
		}
		rt->loaded[i] = true;
		if (m->max_fd)
			maxfd = MAX(maxfd, m->max_fd(&rt->t));
	}
	rt->t.tmp_fd_base = maxfd + 1;
	rt->t.next_tmp_fd = rt->t.tmp_fd_base + (rt->mm ? mm_tmp_fds(rt->mm) : 0);
	s->floor = MAX(s->floor, rt->t.next_tmp_fd + 16);
	return 0;
}

/* The tasks hold their fds plus crest's own above them: make sure the soft
 * RLIMIT_NOFILE allows it (the rlimit module puts the dumped one back). */
static int fit_fd_limit(struct rst *s)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)s->floor + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return pr_errno(-errno, "getrlimit(RLIMIT_NOFILE)");
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max < need) {
		pr_err("the dumped fds go up to %d, above crest's RLIMIT_NOFILE hard limit %llu: raise it "
		       "(ulimit -Hn) before the restore", s->floor - 16, (unsigned long long)rl.rlim_max);
		return -EMFILE;
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return pr_errno(-errno, "setrlimit(RLIMIT_NOFILE)");
	return 0;
}

static int move_above(int *fd, int floor)
{
	int n;
	if (*fd < 0 || *fd >= floor)
		return 0;
	n = fcntl(*fd, F_DUPFD_CLOEXEC, floor);
	if (n < 0)
		return pr_errno(-errno, "cannot move fd %d above %d", *fd, floor);
	if (*fd > 2)
		close(*fd);
	*fd = n;
	return 0;
}

static int load_images(struct rst *s)
{
	int r;

	r = img_read(s->c.dirfd, "inventory.img", &inventory__descriptor, (ProtobufCMessage **)&s->inv, false);
	if (r < 0) {
		if (r == -ENOENT)
			pr_err("%s holds no complete dump (inventory.img is missing)", s->c.o->images_dir);
		return r;
	}
	if (s->inv->format_version != CREST_IMG_VERSION) {
		pr_err("images have format version %u, this crest reads %u", s->inv->format_version,
		       CREST_IMG_VERSION);
		return -EBADMSG;
	}
	if (s->inv->pre_dump) {
		pr_err("%s holds a pre-dump (memory only, made by `crest pre-dump`): restore the dump that ends "
		       "its chain (`crest dump --prev-images-dir ... --track-mem`)", s->c.o->images_dir);
		return -EINVAL;
	}
	r = img_chain_open(s->c.dirfd, s->c.o->images_dir, s->inv, &s->c.chain);
	if (r < 0)
		return r;
	if (s->c.chain->n > 1)
		pr_info("%s: a chain of %zu images", s->c.o->images_dir, s->c.chain->n);
	r = pstree_read(s->c.dirfd, &s->tree);
	if (r < 0)
		return r;
	s->n = s->tree->n_tasks;
	s->tasks = calloc(s->n, sizeof(*s->tasks));
	if (!s->tasks)
		return -ENOMEM;
	s->c.tasks = calloc(s->n, sizeof(*s->c.tasks));
	if (!s->c.tasks)
		return -ENOMEM;
	s->c.nr_tasks = s->n;
	for (size_t i = 0; i < s->n; i++) {
		s->tasks[i].e = s->tree->tasks[i];
		s->tasks[i].t.pid = s->tree->tasks[i]->pid;
		s->tasks[i].t.t.mem_fd = -1;
		s->tasks[i].t.idx = (int)i;
		s->tasks[i].t.pstree = s->tree->tasks[i];
		s->c.tasks[i] = &s->tasks[i].t;
	}
	r = plan_group_helpers(s);
	if (r == 0)
		r = plan_sharing(s);   /* restore_share.c: CLONE_FILES / CLONE_FS between processes */
	if (r < 0)
		return r;
	r = shmem_load(&s->c);
	if (r < 0)
		return r;
	r = ghost_load(&s->c);   /* ghost.c: before the tasks, whose images refer to it */
	if (r < 0)
		return r;
	r = tty_load(&s->c);     /* tty.c: the ptys, which the tasks' fds refer to */
	if (r < 0)
		return r;
	r = ns_load(&s->c);   /* ns.c: the tree's namespaces */
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n; i++) {
		s->tasks[i].t.shmem = s->c.shmem;
		r = load_task(s, &s->tasks[i]);
		if (r < 0)
			return r;
	}
	return share_fd_ranges(s);
}

/* ---------------------------------------------------------- crest side */

/* Wait until every task reached `state` (zombies: ST_PREPARED and dead). */
static int wait_all(struct rst *s, int state, const char *what)
{
	uint64_t deadline = now_ns() + BARRIER_TIMEOUT_MS * 1000000ull;

	for (;;) {
		int seen = atomic_load(&s->ctl->reports), st;
		size_t done = 0;

		for (size_t i = 0; i < s->n; i++) {
			int v = atomic_load(&s->ctl->slot[i].state);
			if (v == ST_FAILED)
				return s->ctl->slot[i].err < 0 ? s->ctl->slot[i].err : -ECHILD;
			if (v >= state)
				done++;
		}
		if (done == s->n)
			return 0;
		/* a death crest can see (its own child, a seized task); a signal
		 * stop of a seized task (e.g. SIGCHLD of a zombie) is let through */
		for (size_t i = 0; i < s->n; i++) {
			struct rtask *rt = &s->tasks[i];
			pid_t pid = rt->t.pid;
			if (!rt->seized && !(i == 0 && s->root > 0))
				continue;
			if (waitpid(pid, &st, WNOHANG | __WALL) != pid)
				continue;
			if (WIFEXITED(st) || WIFSIGNALED(st)) {
				pr_err("pid %d: died while %s (%s %d)", pid, what,
				       WIFEXITED(st) ? "exit" : "signal",
				       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
				rt->seized = false;
				if (i == 0)
					s->root = 0;
				return -ECHILD;
			}
			if (WIFSTOPPED(st))
				ptrace(PTRACE_CONT, pid, 0, (st >> 16) == 0 ? WSTOPSIG(st) : 0);
		}
		if (now_ns() > deadline) {
			pr_err("restored tasks are not %s after %d s: giving up", what, BARRIER_TIMEOUT_MS / 1000);
			return -ETIMEDOUT;
		}
		futex_wait(&s->ctl->reports, seen, 50);
	}
}

static int wait_zombies(struct rst *s)
{
	for (size_t i = 0; i < s->n; i++) {
		if (!s->tasks[i].e->zombie)
			continue;
		for (int k = 0; k < 500; k++) {
			_cleanup_free_ char *stat = NULL;
			if (proc_read(s->tasks[i].t.pid, "stat", &stat, NULL) < 0)
				break;
			char *p = strrchr(stat, ')');
			if (p && p[2] == 'Z')
				break;
			usleep(2000);
		}
	}
	return 0;
}

static int finish(struct rst *s, struct rtask *rt)
{
	struct restore_task *t = &rt->t;
	struct user_regs_struct regs;
	uint64_t mask = 0;
	long ret;
	int r;

	r = INJECT(&t->t, &ret, __NR_close_range, t->tmp_fd_base, ~0U, 0);
	if (r < 0)
		return r;
	if (ret < 0)
		return pr_errno((int)ret, "pid %d: close_range of restore fds", t->pid);
	/* The task ran with PDEATHSIG=SIGKILL so that it died with its parent
	 * during preparation; the misc module puts the dumped value back. */
	r = INJECT(&t->t, &ret, __NR_prctl, PR_SET_PDEATHSIG, 0);
	if (r < 0)
		return r;
	for (int i = 0; i < MOD_MAX; i++) {
		const struct crest_module *m = crest_modules[i];
		if (m->inject && (r = m->inject(&s->c, t)) < 0)
			return r;
	}
	for (int i = 0; i < MOD_MAX; i++) {
		const struct crest_module *m = crest_modules[i];
		if (m->inject_late && (r = m->inject_late(&s->c, t)) < 0)
			return r;
	}
	/* per-thread state (creds), before dumpable is set back */
	for (size_t k = 0; k < rt->nr_thr; k++)
		for (int i = 0; i < MOD_MAX; i++) {
			const struct crest_module *m = crest_modules[i];
			if (m->inject_thread && (r = m->inject_thread(&s->c, t, k, &rt->thr[k].t)) < 0)
				return r;
		}
	if (misc_restore_dumpable && (r = misc_restore_dumpable(&s->c, t)) < 0)
		return r;
	if (sig_restore_blocked && (r = sig_restore_blocked(t, &mask)) < 0)
		return r;
	core_regs_from_image(rt->core->regs, &regs);
	/* the gadget page goes with the last task using it (an address space
	 * shared without being threads: restore_vm.c) */
	r = tracee_syscall_final(&t->t, vm_unmaps_gadget(s, rt) ? __NR_munmap : __NR_getpid,
				 t->t.syscall_ip & ~(PAGE_SIZE_CREST - 1), PAGE_SIZE_CREST, &regs);
	if (r < 0)
		return r;
	r = ptrace_set_xstate(t->pid, rt->core->xsave.data, rt->core->xsave.len);
	if (r < 0)
		return r;
	if (ptrace(PTRACE_SETSIGMASK, t->pid, sizeof(mask), &mask) < 0)
		return pr_errno(-errno, "pid %d: cannot set its blocked signal mask", t->pid);
	return 0;
}

static int swap_task(struct rst *s, struct rtask *rt)
{
	unsigned long gadget = s->ctl->slot[rt - s->tasks].gadget;
	int r;

	/* (one sharing its creator's address space exists already, stopped:
	 * created by the creator's turn, restore_vm.c) */
	if (!rt->e->has_vm_owner) {
		r = tracee_attach_child(&rt->t.t, rt->t.pid);
		if (r < 0)
			return r;
		rt->t.t.syscall_ip = gadget;
		rt->t.t.scratch = gadget + 256;
		rt->t.t.scratch_size = PAGE_SIZE_CREST - 256;
		mm_set_gadget(rt->mm, gadget);
		r = mm_swap(&s->c, &rt->t, rt->mm);
		if (r < 0)
			return r;
	}
	if (cancelled(s->c.o))
		return -ECANCELED;
	r = create_threads(s, rt);
	if (r == 0)
		r = create_vm_members(s, rt);   /* restore_vm.c */
	return r;
}

/* --pidfile: the root's pid as crest sees it, written before the tree runs
 * (a failure still kills it); through a temporary file, so a reader never
 * sees a half-written pid. */
static int write_pidfile(struct rst *s)
{
	const char *path = s->c.o->pidfile;
	_cleanup_free_ char *tmp = NULL;
	char buf[32];
	int fd, n, r = 0;

	if (!path)
		return 0;
	if (xasprintf(&tmp, "%s.tmp.%d", path, getpid()) < 0)
		return -ENOMEM;
	n = snprintf(buf, sizeof(buf), "%d\n", s->root);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_full(fd, buf, n) < 0 || fsync(fd) < 0 || rename(tmp, path) < 0)
		r = pr_errno(-errno, "pid %d: cannot write the --pidfile %s", s->root, path);
	if (fd >= 0)
		close(fd);
	if (r < 0)
		unlink(tmp);
	return r;
}

static int do_restore(struct rst *s, pid_t *root)
{
	int r;

	r = pidns_check_proc();
	if (r < 0)
		return r;
	r = load_images(s);
	if (r < 0)
		return r;
	r = fit_fd_limit(s);
	if (r < 0)
		return r;
	/* crest's own fds go above every fd of every task */
	log_move_fds(s->floor);
	r = move_above(&s->c.dirfd, s->floor);
	if (r == 0 && s->c.tty_fd >= 0) {
		int tty = fcntl(s->c.tty_fd, F_DUPFD_CLOEXEC, s->floor);
		if (tty < 0)
			r = pr_errno(-errno, "cannot duplicate the terminal");
		s->c.tty_fd = tty;
	}
	if (r < 0)
		return r;
	r = shmem_create(&s->c, s->floor);
	if (r < 0)
		return r;
	/* deleted files: recreated once, inherited by every task (ghost.c) */
	r = ghost_create(&s->c, s->floor);
	if (r < 0)
		return r;
	/* ptys at their indices, inherited by every task (tty.c) */
	r = tty_create(&s->c, s->floor);
	if (r < 0)
		return r;
	/* the tree's namespaces, made fresh; every task enters its own (ns.c) */
	r = ns_restore_create(&s->c, s->floor);
	if (r < 0)
		return r;

	s->ctl_size = PAGE_ALIGN_UP(sizeof(struct ctl) + s->n * sizeof(struct ctl_slot));
	s->ctl = mmap(NULL, s->ctl_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s->ctl == MAP_FAILED) {
		s->ctl = NULL;
		return pr_errno(-errno, "mmap of the control page");
	}
	vm_preset_slots(s);   /* restore_vm.c: they never report */
	/* (in its outer pid namespace if it had one: pidns.c) */
	r = pidns_clone_root(s->tree, s->floor, s->c.o->pid_wait_ms > 0 ? s->c.o->pid_wait_ms : 5000,
			      fork_root, s);
	if (r < 0)
		return r;
	s->root = r;
	if (fault_at("restore-after-fork"))
		return -ECANCELED;
	r = wait_all(s, ST_CREATED, "being created");
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n; i++) {
		struct rtask *rt = &s->tasks[i];
		if (rt->e->zombie || rt->e->has_vm_owner)
			continue;
		if (ptrace(PTRACE_SEIZE, rt->t.pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) < 0)
			return pr_errno(-errno, "pid %d: cannot seize the restored task", rt->t.pid);
		rt->seized = true;
	}
	atomic_store(&s->ctl->go, 1);
	futex_wake(&s->ctl->go);
	r = wait_all(s, ST_PREPARED1, "preparing their resources");
	if (r < 0)
		return r;
	atomic_store(&s->ctl->go, 2);
	futex_wake(&s->ctl->go);
	r = wait_all(s, ST_PREPARED, "preparing their shared resources");
	if (r < 0)
		return r;
	wait_zombies(s);

	for (size_t i = 0; i < s->n; i++) {
		struct rtask *rt = &s->tasks[i];
		if (rt->e->zombie)
			continue;
		r = swap_task(s, rt);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < s->n; i++) {
		struct rtask *rt = &s->tasks[i];
		if (rt->e->zombie)
			continue;
		r = finish(s, rt);
		if (r == 0)
			r = finish_threads(rt);
		if (r < 0)
			return r;
	}
	r = shmem_seal(&s->c);
	if (r == 0)
		r = ns_restore_finish(&s->c);
	if (r < 0)
		return r;
	if (fault_at("restore-before-resume"))
		return -ECANCELED;
	r = write_pidfile(s);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n; i++) {
		struct rtask *rt = &s->tasks[i];
		if (!rt->seized)
			continue;
		if (rt->e->has_stop_sig && rt->e->stop_sig)
			kill(rt->t.pid, rt->e->stop_sig);   /* stays stopped once let go */
		for (size_t k = 0; k < rt->nr_thr; k++) {
			if (rt->thr[k].seized && ptrace(PTRACE_DETACH, rt->thr[k].t.pid, 0, 0) < 0)
				return pr_errno(-errno, "pid %d: cannot let thread %d go", rt->t.pid,
						rt->thr[k].t.pid);
			rt->thr[k].seized = false;
		}
		if (ptrace(PTRACE_DETACH, rt->t.pid, 0, 0) < 0)
			return pr_errno(-errno, "pid %d: cannot let it go", rt->t.pid);
		rt->seized = false;
	}
	*root = s->root;
	return 0;
}

static void kill_tree(struct rst *s)
{
	int st;

	for (size_t i = 0; i < s->n; i++)
		if (s->tasks[i].seized)
			kill(s->tasks[i].t.pid, SIGKILL);
	/* children before parents (a dying pid-namespace init waits for them) */
	for (size_t i = s->n; i-- > 0;) {
		struct rtask *rt = &s->tasks[i];
		/* traced threads are collected before their leader can exit */
		for (size_t k = 0; k < rt->nr_thr; k++) {
			if (!rt->thr[k].seized)
				continue;
			while (waitpid(rt->thr[k].t.pid, &st, __WALL) >= 0 && !WIFEXITED(st) && !WIFSIGNALED(st))
				;
			rt->thr[k].seized = false;
		}
		if (rt->seized) {
			kill(rt->t.pid, SIGKILL);
			while (waitpid(rt->t.pid, &st, __WALL) < 0 && errno == EINTR)
				;
			rt->seized = false;
		}
	}
	if (s->root > 0) {
		/* the rest dies with it (PDEATHSIG, pid-namespace init) */
		kill(s->root, SIGKILL);
		while (waitpid(s->root, &st, __WALL) < 0 && errno == EINTR)
			;
		s->root = 0;
	}
}

int crest_restore(const struct crest_opts *o, pid_t *root)
{
	struct rst s = { .c = { .o = o, .dirfd = -1, .tty_fd = -1 } };
	uint64_t t0 = now_ns();
	pid_t dummy;
	int r;

	if (!root)
		root = &dummy;
	log_begin(o, -1, NULL);
	s.c.dirfd = open_images_dir(o->images_dir, false);
	log_end();
	if (s.c.dirfd < 0)
		return s.c.dirfd;
	log_begin(o, s.c.dirfd, "restore.log");
	pr_info("crest %s: restoring from %s", CREST_VERSION, o->images_dir);
	if (o->shell_job && isatty(STDIN_FILENO))
		s.c.tty_fd = STDIN_FILENO;

	r = do_restore(&s, root);
	if (getenv("CREST_FAULT_N"))
		pr_info("%lu fallible operations passed (CREST_FAULT_N)", fault_ops_passed());
	if (getenv("CREST_KILL_AT"))
		pr_info("%lu kill points passed (CREST_KILL_AT)", kill_points_passed());
	if (r < 0)
		kill_tree(&s);
	else
		pr_info("pid %d: %zu processes restored in %.3f s", *root, s.n, (now_ns() - t0) / 1e9);

	for (size_t i = 0; i < s.n; i++) {
		struct rtask *rt = &s.tasks[i];
		tracee_close(&rt->t.t);
		for (size_t k = 0; k < rt->nr_thr; k++) {
			tracee_close(&rt->thr[k].t);
			protobuf_c_message_free_unpacked(&rt->thr[k].core->base, NULL);
		}
		free(rt->thr);
		for (int k = 0; k < MOD_MAX; k++)
			if (rt->loaded[k] && crest_modules[k]->free)
				crest_modules[k]->free(&rt->t);
		mm_free(rt->mm);
		if (rt->core)
			protobuf_c_message_free_unpacked(&rt->core->base, NULL);
	}
	for (int k = 0; k < MOD_MAX; k++)
		if (crest_modules[k]->restore_fini)
			crest_modules[k]->restore_fini(&s.c);
	free(s.tasks);
	free(s.c.tasks);
	free(s.pgh);
	free(s.sh);
	shmem_free(&s.c);
	ghost_free(&s.c);
	if (s.ctl)
		munmap(s.ctl, s.ctl_size);
	if (s.tree)
		protobuf_c_message_free_unpacked(&s.tree->base, NULL);
	img_chain_free(s.c.chain);
	if (s.inv)
		protobuf_c_message_free_unpacked(&s.inv->base, NULL);
	if (s.c.tty_fd > 2)
		close(s.c.tty_fd);
	close(s.c.dirfd);
	log_end();
	return r;
}

static volatile sig_atomic_t fwd_pid;

static void forward_sig(int sig)
{
	if (fwd_pid > 0)
		kill(fwd_pid, sig);
}

int crest_restore_wait(pid_t root, int *exit_status)
{
	struct sigaction sa = { .sa_handler = forward_sig }, oi, ot;
	int st, r = 0;

	fwd_pid = root;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &oi);
	sigaction(SIGTERM, &sa, &ot);
	for (;;) {
		pid_t p = waitpid(root, &st, 0);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0) {
			r = -errno;
			break;
		}
		if (WIFEXITED(st)) {
			*exit_status = WEXITSTATUS(st);
			break;
		}
		if (WIFSIGNALED(st)) {
			*exit_status = 128 + WTERMSIG(st);
			break;
		}
	}
	sigaction(SIGINT, &oi, NULL);
	sigaction(SIGTERM, &ot, NULL);
	fwd_pid = 0;
	return r;
}
