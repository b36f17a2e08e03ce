/* SPDX-License-Identifier: MIT */
/*
 * cgroup namespaces: the namespace's root is the cgroup (in every
 * hierarchy, cgroup v1 and v2 alike) its creator was in at unshare time.
 * Dump: /proc/PID/cgroup read from crest (full paths) and from inside the
 * namespace (paths below its root) give the root of each hierarchy.
 * Restore: the holder joins those cgroups, then unshares; every task of the
 * namespace joins its own dumped cgroups again before it enters it, so
 * /proc/self/cgroup inside reads as before.  The cgroups must still exist
 * (same machine, or made by whoever restores; their directories are found
 * in crest's mountinfo at load: inside a cgroup namespace mountinfo shows
 * the mounts' roots relative to it); a task outside its
 * namespace's root (a "/.." path) is refused.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include "util/log.h"
#include "util/util.h"
#include "ns.h"

/* "4:memory:/a/b" -> hierarchy prefix length (up to the path), path */
static const char *cg_path(const char *line, size_t *plen)
{
	const char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
	if (!b)
		return NULL;
	*plen = (size_t)(b + 1 - line);
	return b + 1;
}

static int read_rel(struct dump_ctx *c, const struct ns_dump_one *ns, void *arg, uint8_t **out, size_t *len)
{
	char *buf = NULL;
	int r = proc_read(ns->pid, "cgroup", &buf, len);
	if (r < 0)
		return pr_errno(r, "pid %d: reading /proc/%d/cgroup inside its cgroup namespace", ns->pid, ns->pid);
	*out = (uint8_t *)buf;
	return 0;
}

static int cg_dump(struct dump_ctx *c, struct ns_dump_one *ns)
{
	_cleanup_free_ char *full = NULL;
	_cleanup_free_ uint8_t *rel = NULL;
	size_t len = 0, n = 0;
	CgroupNs *cg;
	int r = proc_read(ns->pid, "cgroup", &full, NULL);

	if (r < 0)
		return pr_errno(r, "pid %d: reading /proc/%d/cgroup", ns->pid, ns->pid);
	r = ns_dump_in(c, ns, read_rel, NULL, &rel, &len);
	if (r < 0)
		return r;
	cg = xzalloc(sizeof(*cg));
	if (!cg)
		return -ENOMEM;
	cgroup_ns__init(cg);
	ns->img->cgroup = cg;
	for (char *l = full; *l; l++)
		n += *l == '\n';
	cg->root = calloc(n + 1, sizeof(char *));
	if (!cg->root)
		return -ENOMEM;
	for (char *l = full, *e; l && *l; l = e ? e + 1 : NULL) {
		size_t pl, fl, rl;
		const char *fp, *rp = NULL;
		e = strchr(l, '\n');
		if (e)
			*e = 0;
		if (!(fp = cg_path(l, &pl)))
			continue;
		/* the same hierarchy inside */
		for (char *m = (char *)rel, *me; m && *m; m = me ? me + 1 : NULL) {
			size_t ml;
			me = strchr(m, '\n');
			if (!strncmp(m, l, pl) && cg_path(m, &ml) && ml == pl) {
				rp = m + pl;
				rl = me ? (size_t)(me - rp) : strlen(rp);
				break;
			}
		}
		if (!rp) {
			pr_err("pid %d: its cgroup hierarchy %.*s does not show inside its cgroup namespace",
			       ns->pid, (int)pl, l);
			return -EINVAL;
		}
		if (!strncmp(rp, "/..", 3)) {
			pr_err("pid %d: it is outside the root of its cgroup namespace (%.*s%.*s from inside): "
			       "not supported", ns->pid, (int)pl, l, (int)rl, rp);
			return -ENOTSUP;
		}
		fl = strlen(fp);
		if (rl == 1)
			rl = 0;   /* "/": at the root */
		if (rl > fl || strncmp(fp + fl - rl, rp, rl)) {
			pr_err("pid %d: its cgroup %s does not end with %.*s, its path inside its cgroup "
			       "namespace", ns->pid, l, (int)rl, rp);
			return -EINVAL;
		}
		if (xasprintf(&cg->root[cg->n_root], "%.*s%.*s", (int)pl, l,
			      fl - rl ? (int)(fl - rl) : 1, fl - rl ? fp : "/") < 0)
			return -ENOMEM;
		cg->n_root++;
	}
	pr_info("pid %d: cgroup namespace %llu: %zu hierarchies", ns->pid, (unsigned long long)ns->ino,
		cg->n_root);
	return 0;
}

static void cg_dump_free(Namespace *img)
{
	if (!img->cgroup)
		return;
	for (size_t i = 0; i < img->cgroup->n_root; i++)
		free(img->cgroup->root[i]);
	free(img->cgroup->root);
	free(img->cgroup);
	img->cgroup = NULL;
}

static int cg_load(struct restore_ctx *c, const Namespace *ns)
{
	if (!ns->cgroup) {
		pr_err("image ns.img is corrupt: cgroup namespace %u", ns->id);
		return -EBADMSG;
	}
	return 0;
}

/* The directory of a hierarchy's cgroup in crest's mounts: *dir malloc'd. */
int cgroupns_dir(const char *line, char **dir)
{
	_cleanup_free_ char *mi = NULL;
	size_t pl;
	const char *path = cg_path(line, &pl);
	char ctrl[256];
	const char *c1 = strchr(line, ':');
	int r;

	if (!path || pl - (size_t)(c1 + 1 - line) > sizeof(ctrl))
		return -EINVAL;
	snprintf(ctrl, sizeof(ctrl), "%.*s", (int)(pl - (size_t)(c1 + 1 - line) - 1), c1 + 1);
	r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", &mi, NULL);
	if (r < 0)
		return r;
	for (char *l = mi, *e; l && *l; l = e ? e + 1 : NULL) {
		char root[512], mnt[512], type[32], sopts[512];
		const char *dash;
		bool ok = true;
		e = strchr(l, '\n');
		if (e)
			*e = 0;
		dash = strstr(l, " - ");
		if (!dash || sscanf(l, "%*s %*s %*s %511s %511s", root, mnt) != 2 ||
		    sscanf(dash + 3, "%31s %*s %511s", type, sopts) != 2)
			continue;
		if (!*ctrl) {
			ok = !strcmp(type, "cgroup2");
		} else if (strcmp(type, "cgroup")) {
			ok = false;
		} else {
			char tmp[256], *save = NULL;
			snprintf(tmp, sizeof(tmp), "%s", ctrl);
			for (char *t = strtok_r(tmp, ",", &save); t && ok; t = strtok_r(NULL, ",", &save)) {
				char want[300];
				snprintf(want, sizeof(want), ",%s,", t);
				char have[520];
				snprintf(have, sizeof(have), ",%s,", sopts);
				ok = strstr(have, want) != NULL;
			}
		}
		if (!ok)
			continue;
		size_t rl = strcmp(root, "/") ? strlen(root) : 0;
		if (rl && strncmp(path, root, rl))
			continue;
		return xasprintf(dir, "%s%s", mnt, path + rl) < 0 ? -ENOMEM : 0;
	}
	return -ENOENT;
}

int cgroupns_dir_of(pid_t pid, const char *line, char **dir)
{
	int r = cgroupns_dir(line, dir);
	if (r < 0)
		pr_err("pid %d: its cgroup %s: no mount of that hierarchy in crest's mount namespace", pid, line);
	return r;
}

int cgroupns_join(pid_t pid, const char *line, const char *dir)
{
	_cleanup_free_ char *procs = NULL;
	int fd, r;

	if (xasprintf(&procs, "%s/cgroup.procs", dir) < 0)
		return -ENOMEM;
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	r = fd < 0 || write(fd, "0", 1) != 1 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	if (r < 0)
		return pr_errno(r, "pid %d: cannot join its cgroup %s (%s); it must exist at restore", pid, line,
				procs);
	return 0;
}

/* in the holder, before its unshare: the namespace's root is where it is */
static int cg_pre_create(struct restore_ctx *c, const Namespace *ns)
{
	for (size_t i = 0; i < ns->cgroup->n_root; i++) {
		_cleanup_free_ char *dir = NULL;
		int r = cgroupns_dir_of(ns->pid, ns->cgroup->root[i], &dir);
		if (r == 0)
			r = cgroupns_join(ns->pid, ns->cgroup->root[i], dir);
		if (r < 0)
			return r;
	}
	return 0;
}

static int cg_create(struct restore_ctx *c, const Namespace *ns)
{
	return 0;
}

const struct ns_kind_ops cgroup_ns_ops = {
	.dump = cg_dump,
	.dump_free = cg_dump_free,
	.load = cg_load,
	.pre_create = cg_pre_create,
	.create = cg_create,
};
