/* SPDX-License-Identifier: MIT */
/*
 * Creation plan for processes that share an fd table (CLONE_FILES) or fs
 * info (CLONE_FS) with another process of the tree (see share.h).
 *
 * A group is owned by its first task in tree order.  Every other member
 * must be created by a task already sharing the group's object, with the
 * CLONE_ flag: its parent if the parent is a member (what clone(CLONE_FILES)
 * did), else a sibling created before it, with CLONE_PARENT so that its
 * parent is still right (what clone(CLONE_PARENT|CLONE_FILES) did, or a
 * parent that shared with both children and later unshare()d).  A member
 * whose sharers are elsewhere (a grandparent, a cousin: the parent shared
 * and then unshare()d) cannot be created that way and is refused.
 */
#include <errno.h>
#include <linux/sched.h>
#include <stdio.h>
#include <string.h>
#include "util/log.h"
#include "share.h"

const char *share_what(int kind)
{
	static const char *const what[SHARE_KINDS] = {
		[SHARE_FILES] = "fd table (CLONE_FILES)",
		[SHARE_FS] = "cwd/root/umask (CLONE_FS)",
		[SHARE_VM] = "address space (CLONE_VM)",
		[SHARE_SIGHAND] = "signal handlers (CLONE_SIGHAND)",
	};
	return what[kind];
}

uint64_t share_flag(int kind)
{
	static const uint64_t flag[SHARE_KINDS] = {
		[SHARE_FILES] = CLONE_FILES, [SHARE_FS] = CLONE_FS,
		[SHARE_VM] = CLONE_VM, [SHARE_SIGHAND] = CLONE_SIGHAND,
	};
	return flag[kind];
}

static bool vm_member(const struct share_node *n)
{
	return n->owner[SHARE_VM] != n->pid;
}

static int find(const struct share_node *n, size_t nr, pid_t pid)
{
	for (size_t i = 0; i < nr; i++)
		if (n[i].pid == pid)
			return (int)i;
	return -1;
}

/* Does x share every kind in need with i? */
static bool shares_all(const struct share_node *x, const struct share_node *i, unsigned need)
{
	for (int k = 0; k < SHARE_KINDS; k++)
		if ((need & (1u << k)) && x->owner[k] != i->owner[k])
			return false;
	return true;
}

/* Created by x, i lands in x's session unless it makes its own; and it
 * must not be one of the tasks a session helper creates (its session is
 * not its parent p's: restore_tree.c).  A VM member is created by an
 * injected clone3: it stays in x's session and group. */
static bool session_ok(const struct share_node *x, const struct share_node *i,
		       const struct share_node *p)
{
	if (vm_member(i))
		return i->sid == x->sid && i->pgid == x->pgid;
	return i->sid == i->pid || (i->sid == x->sid && i->sid == p->sid);
}

/* Why x, which shares what i needs, cannot create it (NULL: it can); p is
 * i's parent (x itself, or x's parent for a sibling). */
static const char *creator_obstacle(const struct share_node *x, const struct share_node *i,
				    const struct share_node *p)
{
	if (x->zombie)
		return "is a zombie";
	if (vm_member(x) && !vm_member(i))
		return "it shares an address space itself and creates only tasks that share it";
	if (x != p || vm_member(i)) {
		if (x->ns_init || i->ns_init)
			return "one of them is the init of a pid namespace";
		if (x->pidns != i->pidns || x->pidns_children != x->pidns)
			return "they are in different pid namespaces";
	}
	if (!session_ok(x, i, p))
		return vm_member(i) ? "they are in different sessions or process groups" :
			"it is in another session";
	return NULL;
}

static void names(char *buf, size_t size, unsigned need)
{
	buf[0] = 0;
	for (int k = 0; k < SHARE_KINDS; k++)
		if (need & (1u << k))
			snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", buf[0] ? " and its " : "",
				 share_what(k));
}

static int refuse(const struct share_node *n, size_t nr, size_t i, unsigned need)
{
	const struct share_node *t = &n[i];
	int p = find(n, nr, t->ppid), k0 = 0;
	char what[160], reason[256];

	while (!(need & (1u << k0)))
		k0++;
	names(what, sizeof(what), need);
	if (p < 0) {
		snprintf(reason, sizeof(reason), "it is the root of the dump");
	} else if (shares_all(&n[p], t, need)) {
		snprintf(reason, sizeof(reason), "its parent %d shares it but cannot create it: %s (its "
			 "session %d, group %d; pid %d's: %d, %d)", n[p].pid,
			 creator_obstacle(&n[p], t, &n[p]), n[p].sid, n[p].pgid, t->pid, t->sid, t->pgid);
	} else {
		const char *why = NULL;
		int sib = -1;
		for (size_t s = 0; s < i && !why; s++)
			if (n[s].ppid == t->ppid && shares_all(&n[s], t, need)) {
				why = creator_obstacle(&n[s], t, &n[p]);
				sib = (int)s;
			}
		if (why)
			snprintf(reason, sizeof(reason), "its parent %d does not share it, and its sibling %d, "
				 "which does, cannot create it: %s", n[p].pid, n[sib].pid, why);
		else
			snprintf(reason, sizeof(reason), "neither its parent %d nor a sibling shares it with "
				 "it", n[p].pid);
	}
	pr_err("pid %d shares its %s with pid %d, but crest cannot recreate that sharing: %s (crest "
	       "creates a process that shares such a table from its parent, or from a sibling with "
	       "CLONE_PARENT); refusing", t->pid, what, t->owner[k0], reason);
	return -ENOTSUP;
}

/* What a VM member must also be (restore_vm.c creates it by injection). */
static int check_vm_member(const struct share_node *n, size_t nr, size_t i, unsigned need)
{
	const struct share_node *t = &n[i];

	if ((need & (1u << SHARE_SIGHAND)) && !(need & (1u << SHARE_VM))) {
		pr_err("pid %d: shares the signal handlers of pid %d without its address space (the "
		       "kernel allows CLONE_SIGHAND only with CLONE_VM)", t->pid, t->owner[SHARE_SIGHAND]);
		return -EINVAL;
	}
	if (!(need & (1u << SHARE_VM)))
		return 0;
	if (!(need & (1u << SHARE_FILES)) || !(need & (1u << SHARE_FS))) {
		pr_err("pid %d shares the address space of pid %d without being threads, but not %s: "
		       "crest recreates such a process only when it also shares the fd table and the "
		       "cwd/root/umask, as LinuxThreads made them (CLONE_VM|CLONE_FS|CLONE_FILES, "
		       "CLONE_SIGHAND or not); refusing", t->pid, t->owner[SHARE_VM],
		       !(need & (1u << SHARE_FILES)) ? "its fd table (CLONE_FILES)" :
		       "its cwd/root/umask (CLONE_FS)");
		return -ENOTSUP;
	}
	for (size_t j = 0; j < nr; j++)
		if (j != i && (n[j].pgid == t->pid || n[j].sid == t->pid)) {
			pr_err("pid %d is in the %s of pid %d, which shares the address space of pid %d "
			       "without being a thread: crest creates such a process last and cannot make "
			       "it a group or session leader for others; refusing", n[j].pid,
			       n[j].sid == t->pid ? "session" : "process group", t->pid,
			       t->owner[SHARE_VM]);
			return -ENOTSUP;
		}
	return 0;
}

int share_plan(const struct share_node *n, size_t nr, struct share_plan *plan,
	       const char *corrupt_what)
{
	for (size_t i = 0; i < nr; i++) {
		for (int k = 0; k < SHARE_KINDS; k++) {
			pid_t o = n[i].owner[k];
			int j;
			if (o == n[i].pid)
				continue;
			j = find(n, nr, o);
			if (j >= 0 && (size_t)j < i && !n[j].zombie && !n[i].zombie && n[j].owner[k] == o)
				continue;
			if (corrupt_what) {
				pr_err("image %s is corrupt: pid %d shares its %s with pid %d, not an earlier "
				       "live task of the tree", corrupt_what, n[i].pid, share_what(k), o);
				return -EBADMSG;
			}
			pr_err("pid %d: inconsistent %s sharing with pid %d", n[i].pid, share_what(k), o);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < nr; i++) {
		const struct share_node *t = &n[i];
		unsigned need = 0;
		int p = find(n, nr, t->ppid), r;

		plan[i].creator = p;
		plan[i].flags = 0;
		for (int k = 0; k < SHARE_KINDS; k++)
			if (t->owner[k] != t->pid)
				need |= 1u << k;
		if (p >= 0 && vm_member(&n[p]) && !vm_member(t)) {
			pr_err("pid %d: its parent %d shares the address space of pid %d without being a "
			       "thread: crest recreates only children of such a process that share it too; "
			       "refusing", t->pid, n[p].pid, n[p].owner[SHARE_VM]);
			return -ENOTSUP;
		}
		if (!need)
			continue;
		r = check_vm_member(n, nr, i, need);
		if (r < 0)
			return r;
		if (p >= 0 && shares_all(&n[p], t, need) && !creator_obstacle(&n[p], t, &n[p])) {
			for (int k = 0; k < SHARE_KINDS; k++)
				if (need & (1u << k))
					plan[i].flags |= share_flag(k);
			continue;
		}
		plan[i].creator = -1;
		for (size_t s = 0; p >= 0 && s < i; s++) {
			if (n[s].ppid != t->ppid || !shares_all(&n[s], t, need) ||
			    creator_obstacle(&n[s], t, &n[p]))
				continue;
			plan[i].creator = (int)s;
			plan[i].flags = CLONE_PARENT;
			for (int k = 0; k < SHARE_KINDS; k++)
				if (need & (1u << k))
					plan[i].flags |= share_flag(k);
			break;
		}
		if (plan[i].creator < 0)
			return refuse(n, nr, i, need);
		pr_info("pid %d: created by its sibling %d (CLONE_PARENT) to share its %s", t->pid,
			 n[plan[i].creator].pid, share_what(__builtin_ctz(need)));
	}
	return 0;
}
