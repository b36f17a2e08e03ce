/* SPDX-License-Identifier: MIT */
/* uts namespaces: hostname and domainname, read inside the namespace at
 * dump, set in the fresh one at restore (ns.c makes it). */
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "util/log.h"
#include "util/util.h"
#include "ns.h"

/* in a child of crest inside the namespace */
static int read_uts(struct dump_ctx *c, const struct ns_dump_one *ns, void *arg, uint8_t **out,
		    size_t *len)
{
	UtsNs u = UTS_NS__INIT;
	struct utsname n;

	if (uname(&n) < 0)
		return pr_errno(-errno, "pid %d: uname in its uts namespace", ns->pid);
	u.hostname = n.nodename;
	u.domainname = n.domainname;
	*len = uts_ns__get_packed_size(&u);
	*out = malloc(*len + 1);
	if (!*out)
		return -ENOMEM;
	uts_ns__pack(&u, *out);
	return 0;
}

static int uts_dump(struct dump_ctx *c, struct ns_dump_one *ns)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0;
	int r = ns_dump_in(c, ns, read_uts, NULL, &buf, &len);

	if (r < 0)
		return r;
	ns->img->uts = uts_ns__unpack(NULL, len, buf);
	if (!ns->img->uts) {
		pr_err("pid %d: the state of its uts namespace came back unreadable", ns->pid);
		return -EIO;
	}
	pr_info("pid %d: uts namespace %llu: hostname '%s', domainname '%s'", ns->pid,
		(unsigned long long)ns->ino, ns->img->uts->hostname, ns->img->uts->domainname);
	return 0;
}

static void uts_dump_free(Namespace *img)
{
	if (img->uts)
		uts_ns__free_unpacked(img->uts, NULL);
	img->uts = NULL;
}

static int uts_load(struct restore_ctx *c, const Namespace *ns)
{
	if (!ns->uts || strlen(ns->uts->hostname) > 64 || strlen(ns->uts->domainname) > 64) {
		pr_err("image ns.img is corrupt: uts namespace %u", ns->id);
		return -EBADMSG;
	}
	return 0;
}

/* in the holder, inside the fresh namespace */
static int uts_create(struct restore_ctx *c, const Namespace *ns)
{
	if (sethostname(ns->uts->hostname, strlen(ns->uts->hostname)) < 0)
		return pr_errno(-errno, "pid %d: sethostname('%s') in its uts namespace", ns->pid,
				ns->uts->hostname);
	if (setdomainname(ns->uts->domainname, strlen(ns->uts->domainname)) < 0)
		return pr_errno(-errno, "pid %d: setdomainname('%s') in its uts namespace", ns->pid,
				ns->uts->domainname);
	return 0;
}

const struct ns_kind_ops uts_ns_ops = {
	.dump = uts_dump,
	.dump_free = uts_dump_free,
	.load = uts_load,
	.create = uts_create,
};
