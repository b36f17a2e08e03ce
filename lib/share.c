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
#include "log.h"
#include "share.h"

const char *share_what(int kind)
{
	return kind == SHARE_FILES ? "fd table (CLONE_FILES)" : "cwd/root/umask (CLONE_FS)";
}

uint64_t share_flag(int kind)
{
	return kind == SHARE_FILES ? CLONE_FILES : CLONE_FS;
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
 * not its parent p's: restore_tree.c). */
static bool session_ok(const struct share_node *x, const struct share_node *i,
		       const struct share_node *p)
{
	return i->sid == i->pid || (i->sid == x->sid && i->sid == p->sid);
}

/* Why sibling x, which shares what i needs, cannot create it (NULL: it can). */
static const char *sibling_obstacle(const struct share_node *x, const struct share_node *i,
				    const struct share_node *p)
{
	if (x->zombie)
		return "is a zombie";
	if (x->ns_init || i->ns_init)
		return "one of them is the init of a pid namespace";
	if (x->pidns != i->pidns || x->pidns_children != x->pidns)
		return "they are in different pid namespaces";
	if (!session_ok(x, i, p))
		return "it is in another session";
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
		snprintf(reason, sizeof(reason), "its parent %d shares it but is in another session "
			 "(%d, not %d) that pid %d does not lead", n[p].pid, n[p].sid, t->sid, t->pid);
	} else {
		const char *why = NULL;
		int sib = -1;
		for (size_t s = 0; s < i && !why; s++)
			if (n[s].ppid == t->ppid && shares_all(&n[s], t, need)) {
				why = sibling_obstacle(&n[s], t, &n[p]);
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
		int p = find(n, nr, t->ppid);

		plan[i].creator = p;
		plan[i].flags = 0;
		for (int k = 0; k < SHARE_KINDS; k++)
			if (t->owner[k] != t->pid)
				need |= 1u << k;
		if (!need)
			continue;
		if (p >= 0 && shares_all(&n[p], t, need) && session_ok(&n[p], t, &n[p])) {
			for (int k = 0; k < SHARE_KINDS; k++)
				if (need & (1u << k))
					plan[i].flags |= share_flag(k);
			continue;
		}
		plan[i].creator = -1;
		for (size_t s = 0; p >= 0 && s < i; s++) {
			if (n[s].ppid != t->ppid || !shares_all(&n[s], t, need) ||
			    sibling_obstacle(&n[s], t, &n[p]))
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
