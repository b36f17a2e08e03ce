/* SPDX-License-Identifier: MIT */
/*
 * Unix domain sockets: dump (part of the files module; image sk-unix.img,
 * restore in sk_unix_restore.c).
 *
 * Per socket fd (skunix_classify, from files_kinds.c, task frozen, crest
 * holds the socket through pidfd_getfd): the kernel's view of every unix socket
 * of its net namespace comes from sock_diag (NETLINK_SOCK_DIAG, one dump
 * per namespace: name, file of a path name, peer, pending connections of a
 * listener, shutdown, queue lengths); options from getsockopt on crest's
 * reference; the receive queue is copied without consuming it: SO_PEEK_OFF
 * is set to 0 and recvmsg(MSG_PEEK) called until the queue is exhausted,
 * message by message for datagrams and seqpackets, then the peek offset is
 * put back.  A socket held by several fds or tasks is one record.
 *
 * Tree-wide (skunix_dump_tree, once every task is dumped): every peer must
 * be in the tree (a closed peer is kept as such; a datagram socket connected
 * to a named socket outside the tree is connected again by name); every
 * pending connection of a listener must come from a client of the tree;
 * nobody outside the tree may hold a socket of the tree.  Sockets that
 * depend on each other form a cluster; the deepest task holding one of them
 * creates the whole cluster at restore (like the creator of a pipe in
 * files_share.c): it holds at "keep" fds the sockets it does not use
 * itself, and every other holder takes its socket from it.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/un.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/unix_diag.h>
#include "util/compat.h"
#include "fs/files_priv.h"
#include "image/image.h"
#include "util/log.h"
#include "sk_unix.h"
#include "sk_unix_dump.h"
#include "sk_unix_priv.h"
#include "core/task.h"
#include "util/util.h"

#define QUEUE_LIMIT (256u << 20)  /* sanity bound of one receive queue */

/* ------------------------------------------------ sock_diag of a net ns */

static int cmp_skd(const void *a, const void *b)
{
	const struct skd *x = a, *y = b;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

const struct skd *skd_find(const struct skd_ns *ns, uint32_t ino)
{
	struct skd key = { .ino = ino };
	return ino ? bsearch(&key, ns->e, ns->n, sizeof(*ns->e), cmp_skd) : NULL;
}

static int diag_add(struct skd_ns *ns, size_t *cap, const struct nlmsghdr *h)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	const struct rtattr *a = (const void *)(m + 1);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*m));
	struct skd *e;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return 0;
	if (ns->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		struct skd *n = realloc(ns->e, nc * sizeof(*n));
		if (!n)
			return -ENOMEM;
		ns->e = n;
		*cap = nc;
	}
	e = &ns->e[ns->n++];
	memset(e, 0, sizeof(*e));
	e->ino = m->udiag_ino;
	e->type = m->udiag_type;
	e->state = m->udiag_state;
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		const void *d = RTA_DATA(a);
		size_t dl = RTA_PAYLOAD(a);
		switch (a->rta_type) {
		case UNIX_DIAG_NAME:
			e->name_len = (uint32_t)MIN(dl, sizeof(e->name));
			memcpy(e->name, d, e->name_len);
			break;
		case UNIX_DIAG_VFS:
			if (dl >= sizeof(struct unix_diag_vfs)) {
				const struct unix_diag_vfs *v = d;
				/* the kernel's dev_t: major << 20 | minor */
				e->has_vfs = true;
				e->vfs_ino = v->udiag_vfs_ino;
				e->vfs_dev = makedev(v->udiag_vfs_dev >> 20, v->udiag_vfs_dev & 0xfffff);
			}
			break;
		case UNIX_DIAG_PEER:
			if (dl >= 4)
				memcpy(&e->peer, d, 4);
			break;
		case UNIX_DIAG_ICONS:
			if (dl >= 4) {
				e->icons = malloc(dl);
				if (!e->icons)
					return -ENOMEM;
				memcpy(e->icons, d, dl);
				e->nr_icons = (uint32_t)(dl / 4);
			}
			break;
		case UNIX_DIAG_RQLEN:
			if (dl >= sizeof(struct unix_diag_rqlen))
				e->wq = ((const struct unix_diag_rqlen *)d)->udiag_wqueue;
			break;
		case UNIX_DIAG_MEMINFO:
			if (dl >= (SK_MEMINFO_WMEM_ALLOC + 1) * 4)
				e->wmem = ((const uint32_t *)d)[SK_MEMINFO_WMEM_ALLOC];
			break;
		case UNIX_DIAG_SHUTDOWN:
			if (dl >= 1)
				e->shutdown = *(const uint8_t *)d;
			break;
		}
	}
	return 0;
}

/* Every unix socket of the net namespace nl was opened in. */
static int diag_dump(int nl, struct skd_ns *ns)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.r = { .sdiag_family = AF_UNIX, .udiag_states = ~0u,
		       .udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS |
				     UDIAG_SHOW_RQLEN | UDIAG_SHOW_MEMINFO },
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	_cleanup_free_ char *buf = malloc(1 << 16);
	size_t cap = 0;

	if (!buf)
		return pr_errno(-ENOMEM, "sock_diag");
	if (sendto(nl, &req, sizeof(req), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return pr_errno(-errno, "sock_diag: cannot ask for the unix sockets");
	for (;;) {
		ssize_t len = recv(nl, buf, 1 << 16, 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			return pr_errno(len < 0 ? -errno : -EIO, "sock_diag: reading the unix sockets");
		for (; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				goto done;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				int err = e->error ? e->error : -EIO;
				pr_err("sock_diag refused to list the unix sockets: %s; crest needs "
				       "CONFIG_UNIX_DIAG (modprobe unix_diag)", strerror(-err));
				return err;
			}
			if (diag_add(ns, &cap, h) < 0)
				return pr_errno(-ENOMEM, "sock_diag");
		}
	}
done:
	qsort(ns->e, ns->n, sizeof(*ns->e), cmp_skd);
	return 0;
}

static int ns_ino(const char *path, uint64_t *ino)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	*ino = st.st_ino;
	return 0;
}

/* The sock_diag view of the net namespace of socket lfd (listed once). */
static int ns_for(struct skunix_dump *sd, pid_t pid, int fd, int lfd, const char *link, size_t *idx)
{
	_cleanup_close_ int nsfd = -1, nl = -1, self = -1;
	char path[64];
	uint64_t tns = 0, own = 0;
	struct skd_ns *ns;
	struct stat st;
	int r;

	nsfd = ioctl(lfd, SIOCGSKNS);
	if (nsfd < 0 || fstat(nsfd, &st) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): cannot find its net namespace (SIOCGSKNS)",
				pid, fd, link);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	if ((r = ns_ino(path, &tns)) < 0 || (r = ns_ino("/proc/thread-self/ns/net", &own)) < 0)
		return pr_errno(r, "pid %d: cannot read the net namespaces", pid);
	if (st.st_ino != tns) {
		pr_err("pid %d: fd %d is %s, a unix socket of another net namespace than the task's: "
		       "not supported yet", pid, fd, link);
		return -ENOTSUP;
	}
	for (size_t i = 0; i < sd->nr_ns; i++)
		if (sd->ns[i].ino == st.st_ino) {
			*idx = i;
			return 0;
		}
	ns = realloc(sd->ns, (sd->nr_ns + 1) * sizeof(*ns));
	if (!ns)
		return pr_errno(-ENOMEM, "sock_diag");
	sd->ns = ns;
	ns = &sd->ns[sd->nr_ns];
	memset(ns, 0, sizeof(*ns));
	ns->ino = st.st_ino;
	sd->nr_ns++;
	if (st.st_ino != own) {
		/* a netlink socket lives in the namespace it was made in */
		self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self < 0 || setns(nsfd, CLONE_NEWNET) < 0)
			return pr_errno(-errno, "pid %d: cannot enter its net namespace to list its sockets",
					pid);
	}
	nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	r = nl < 0 ? -errno : 0;
	if (self >= 0 && setns(self, CLONE_NEWNET) < 0)
		return pr_errno(-errno, "cannot go back to crest's net namespace");
	if (r < 0)
		return pr_errno(r, "socket(NETLINK_SOCK_DIAG)");
	*idx = sd->nr_ns - 1;
	return diag_dump(nl, ns);
}

/* ------------------------------------------------------------ one socket */

static void msg_free(UnixSkMsg *m)
{
	if (!m)
		return;
	free(m->data.data);
	free(m->sender.data);
	free(m);
}

static void sku_free(struct sku *u)
{
	free(u->pb.name.data);
	free(u->pb.fs_dir);
	free(u->pb.peer_name.data);
	free(u->pb.pending);
	for (size_t i = 0; i < u->pb.n_queue; i++)
		msg_free(u->pb.queue[i]);
	free(u->pb.queue);
	free(u->h);
	free(u);
}

void skunix_dump_free(struct dump_ctx *c)
{
	struct skunix_dump *sd = c->skunix;

	if (!sd)
		return;
	for (size_t i = 0; i < sd->n; i++)
		sku_free(sd->sk[i]);
	for (size_t i = 0; i < sd->nr_ns; i++) {
		for (size_t k = 0; k < sd->ns[i].n; k++)
			free(sd->ns[i].e[k].icons);
		free(sd->ns[i].e);
	}
	free(sd->ns);
	free(sd->sk);
	free(sd);
	c->skunix = NULL;
}

/* "socket:[ino] (unix stream, /path)" */
const char *skunix_what(const struct sku *u, char *buf, size_t size)
{
	char name[160];
	snprintf(buf, size, "socket:[%" PRIu64 "] (unix %s, %s)", u->pb.ino, skunix_type_name(u->pb.type),
		 skunix_name_str(u->de->name, u->de->name_len, name, sizeof(name)));
	return buf;
}

static const char *family_name(int f)
{
	switch (f) {
	case AF_INET: return "AF_INET";
	case AF_INET6: return "AF_INET6";
	case AF_NETLINK: return "AF_NETLINK";
	case AF_PACKET: return "AF_PACKET";
	case AF_VSOCK: return "AF_VSOCK";
	case AF_ALG: return "AF_ALG";
	case AF_BLUETOOTH: return "AF_BLUETOOTH";
	case AF_KEY: return "AF_KEY";
	case AF_XDP: return "AF_XDP";
	case AF_TIPC: return "AF_TIPC";
	default: return NULL;
	}
}

static int scm_fds_of(pid_t pid, int fd, long *n)
{
	_cleanup_free_ char *buf = NULL;
	char name[32];
	char *p;
	int r;

	*n = 0;
	snprintf(name, sizeof(name), "fdinfo/%d", fd);
	r = proc_read(pid, name, &buf, NULL);
	if (r < 0)
		return pr_errno(r, "pid %d: fd %d: cannot read /proc/%d/fdinfo/%d", pid, fd, pid, fd);
	p = strstr(buf, "scm_fds:");
	if (p)
		*n = strtol(p + 8, NULL, 10);
	return 0;
}

static int opt_int(int lfd, int level, int opt, int *v)
{
	socklen_t l = sizeof(*v);
	return getsockopt(lfd, level, opt, v, &l) < 0 ? -errno : 0;
}

static int dump_opts(struct sku *u, int lfd, pid_t pid, int fd, const char *link)
{
	UnixSk *pb = &u->pb;
	struct timeval tv;
	socklen_t l;
	int v, r;

#define GET(opt, field, has)                                                             \
	do {                                                                             \
		if ((r = opt_int(lfd, SOL_SOCKET, opt, &v)) < 0)                         \
			return pr_errno(r, "pid %d: fd %d (%s): getsockopt(" #opt ")", pid, fd, \
					link);                                           \
		pb->field = v;                                                           \
		pb->has = true;                                                          \
	} while (0)
	GET(SO_SNDBUF, sndbuf, has_sndbuf);
	GET(SO_RCVBUF, rcvbuf, has_rcvbuf);
	GET(SO_PASSCRED, passcred, has_passcred);
	GET(SO_PASSSEC, passsec, has_passsec);
	GET(SO_PEEK_OFF, peek_off, has_peek_off);
	GET(SO_RCVLOWAT, rcvlowat, has_rcvlowat);
#undef GET
	if (opt_int(lfd, SOL_SOCKET, SO_PASSPIDFD, &v) == 0) {
		pb->has_passpidfd = true;
		pb->passpidfd = v;
	}
	l = sizeof(tv);
	if (getsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, &l) == 0 && (tv.tv_sec || tv.tv_usec)) {
		pb->has_rcvtimeo_us = true;
		pb->rcvtimeo_us = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
	}
	l = sizeof(tv);
	if (getsockopt(lfd, SOL_SOCKET, SO_SNDTIMEO, &tv, &l) == 0 && (tv.tv_sec || tv.tv_usec)) {
		pb->has_sndtimeo_us = true;
		pb->sndtimeo_us = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
	}
	return 0;
}

/* Its name: unnamed, abstract, or a path that still leads to its file
 * (bound there again) or no longer does (unlinked or replaced). */
static int dump_name(struct sku *u, pid_t pid, int fd)
{
	const struct skd *de = u->de;
	char buf[4400], desc[256], name[SKUNIX_NAME_MAX + 1];
	_cleanup_free_ char *dir = NULL;
	bool abs_;
	struct stat st;
	int r;

	if (!de->name_len) {
		u->pb.name_kind = UNIX_SK_NAME_KIND__UNIXSK_UNNAMED;
		return 0;
	}
	u->pb.has_name = u->pb.has_name_kind = true;
	u->pb.name.data = malloc(de->name_len);
	if (!u->pb.name.data)
		return pr_errno(-ENOMEM, "pid %d: fd %d", pid, fd);
	memcpy(u->pb.name.data, de->name, de->name_len);
	u->pb.name.len = de->name_len;
	if (de->name[0] == 0) {
		u->pb.name_kind = UNIX_SK_NAME_KIND__UNIXSK_ABSTRACT;
		return 0;
	}
	memcpy(name, de->name, de->name_len);
	name[de->name_len] = 0;
	abs_ = name[0] == '/';
	snprintf(buf, sizeof(buf), "/proc/%d/%s", pid, abs_ ? "root" : "cwd");
	r = readlink_at(AT_FDCWD, buf, &dir);
	if (r < 0)
		return pr_errno(r, "pid %d: cannot read %s", pid, buf);
	snprintf(buf, sizeof(buf), "/proc/%d/%s%s%s", pid, abs_ ? "root" : "cwd", abs_ ? "" : "/", name);
	if (de->has_vfs && stat(buf, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == de->vfs_dev &&
	    st.st_ino == de->vfs_ino) {
		u->pb.name_kind = UNIX_SK_NAME_KIND__UNIXSK_PATH;
		u->pb.fs_dir = TAKE_PTR(dir);
		u->pb.has_file_mode = u->pb.has_file_uid = u->pb.has_file_gid = true;
		u->pb.file_mode = st.st_mode & 07777;
		u->pb.file_uid = st.st_uid;
		u->pb.file_gid = st.st_gid;
		return 0;
	}
	u->pb.name_kind = UNIX_SK_NAME_KIND__UNIXSK_GONE;
	u->pb.fs_dir = TAKE_PTR(dir);
	skunix_what(u, desc, sizeof(desc));
	if (lstat(buf, &st) == 0)
		pr_info("pid %d: fd %d is %s: %s now leads to another file (unlinked and replaced, or "
			"not reachable from the task's %s): restored bound to that name without a file; "
			"the other file is left alone", pid, fd, desc, name, abs_ ? "root" : "cwd");
	else
		pr_info("pid %d: fd %d is %s: its path was unlinked: restored bound to that name "
			"without a file", pid, fd, desc);
	return 0;
}

static int add_msg(UnixSk *pb, const uint8_t *data, size_t len, const struct sockaddr_un *from,
		   socklen_t flen, const struct ucred *cr)
{
	UnixSkMsg *m = xzalloc(sizeof(*m)), **q;

	if (!m)
		return -ENOMEM;
	unix_sk_msg__init(m);
	q = realloc(pb->queue, (pb->n_queue + 1) * sizeof(*q));
	if (!q) {
		free(m);
		return -ENOMEM;
	}
	pb->queue = q;
	q[pb->n_queue++] = m;
	m->has_data = true;
	m->data.len = len;
	m->data.data = malloc(len ? len : 1);
	if (!m->data.data)
		return -ENOMEM;
	memcpy(m->data.data, data, len);
	if (from && flen > offsetof(struct sockaddr_un, sun_path)) {
		size_t nl = flen - offsetof(struct sockaddr_un, sun_path);
		m->has_sender = true;
		m->sender.len = nl;
		m->sender.data = malloc(nl);
		if (!m->sender.data)
			return -ENOMEM;
		memcpy(m->sender.data, from->sun_path, nl);
	}
	if (cr) {
		m->has_cred_pid = m->has_cred_uid = m->has_cred_gid = true;
		m->cred_pid = cr->pid;
		m->cred_uid = cr->uid;
		m->cred_gid = cr->gid;
	}
	return 0;
}

/* Copy the receive queue without consuming it: SO_PEEK_OFF from 0 and
 * MSG_PEEK until it is exhausted; each datagram/record is one message.
 * The kernel skips an empty datagram in such a walk once anybody peeked
 * at it: the head of the queue is first peeked without an offset, which
 * always reaches it (an empty datagram further down that the task itself
 * peeked at cannot be seen). */
static int peek_queue(struct sku *u, int lfd, pid_t pid, int fd, const char *desc)
{
	bool stream = u->pb.type == SOCK_STREAM, head = !stream;
	char ctl[CMSG_SPACE(sizeof(int) * 253) + CMSG_SPACE(sizeof(struct ucred)) + 512];
	_cleanup_free_ uint8_t *buf = NULL;
	size_t cap = 1 << 16, total = 0;
	int old = -1, start = head ? -1 : 0, zero = 0, r = 0, off = 0;

	if (opt_int(lfd, SOL_SOCKET, SO_PEEK_OFF, &old) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_PEEK_OFF, &start, sizeof(start)) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): SO_PEEK_OFF: cannot read its queue without "
				"consuming it", pid, fd, desc);
	buf = malloc(cap);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		struct sockaddr_un from;
		struct iovec iov = { buf, cap };
		struct msghdr mh = { .msg_name = stream ? NULL : &from, .msg_namelen = sizeof(from),
				     .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
				     .msg_controllen = sizeof(ctl) };
		struct ucred cred, *cr = NULL;
		int nfds = 0;
		ssize_t n = recvmsg(lfd, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC |
					      (stream ? 0 : MSG_TRUNC));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			r = pr_errno(-errno, "pid %d: fd %d (%s): reading its queue (MSG_PEEK)", pid, fd, desc);
			goto out;
		}
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level != SOL_SOCKET)
				continue;
			if (cm->cmsg_type == SCM_RIGHTS || cm->cmsg_type == SCM_PIDFD) {
				size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				for (size_t i = 0; i < k; i++) {
					int x;
					memcpy(&x, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
					close(x);
				}
				if (cm->cmsg_type == SCM_RIGHTS)
					nfds += (int)k;
			} else if (cm->cmsg_type == SCM_CREDENTIALS &&
				   cm->cmsg_len >= CMSG_LEN(sizeof(cred))) {
				memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
				cr = &cred;
			}
		}
		if (nfds || (mh.msg_flags & MSG_CTRUNC)) {
			pr_err("pid %d: fd %d (%s): a message in its queue carries file descriptors "
			       "(SCM_RIGHTS): not supported yet", pid, fd, desc);
			r = -ENOTSUP;
			goto out;
		}
		if (stream && n == 0)
			break;          /* end of stream */
		if (head) {
			/* the head: kept here only if empty, else the walk finds it */
			head = false;
			if (setsockopt(lfd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)) < 0) {
				r = pr_errno(-errno, "pid %d: fd %d (%s): SO_PEEK_OFF", pid, fd, desc);
				goto out;
			}
			if (n)
				continue;
		}
		if (!stream && (size_t)n > cap) {
			/* bigger than the buffer: peek it again whole */
			uint8_t *nb = realloc(buf, (size_t)n);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap = (size_t)n;
			if (setsockopt(lfd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)) < 0) {
				r = pr_errno(-errno, "pid %d: fd %d (%s): SO_PEEK_OFF", pid, fd, desc);
				goto out;
			}
			continue;
		}
		total += (size_t)n;
		off += (int)n;
		if (total > QUEUE_LIMIT) {
			pr_err("pid %d: fd %d (%s): more than %u MiB queued: not supported", pid, fd, desc,
			       QUEUE_LIMIT >> 20);
			r = -EFBIG;
			goto out;
		}
		r = add_msg(&u->pb, buf, (size_t)n, stream ? NULL : &from, stream ? 0 : mh.msg_namelen,
			    u->pb.passcred ? cr : NULL);
		if (r < 0) {
			pr_err("pid %d: fd %d (%s): out of memory copying its queue", pid, fd, desc);
			goto out;
		}
	}
	pr_debug("pid %d: fd %d (%s): %zu bytes in %zu %s queued", pid, fd, desc, total,
		 u->pb.n_queue, stream ? "runs" : "messages");
out:
	if (setsockopt(lfd, SOL_SOCKET, SO_PEEK_OFF, &old, sizeof(old)) < 0 && r == 0)
		r = pr_errno(-errno, "pid %d: fd %d (%s): cannot put SO_PEEK_OFF back to %d", pid, fd,
			     desc, old);
	return r;
}

static int add_socket(struct skunix_dump *sd, struct dstate *s, struct dfile *f, const char *link,
		      const struct stat *st, struct sku **out)
{
	pid_t pid = s->pid;
	int fd = f->fd, type = -1, r;
	char desc[256];
	size_t nsi = 0;
	long scm = 0;
	struct sku *u;

	r = ns_for(sd, pid, fd, f->lfd, link, &nsi);
	if (r < 0)
		return r;
	if (sd->n == sd->cap) {
		size_t cap = sd->cap ? sd->cap * 2 : 16;
		struct sku **n = realloc(sd->sk, cap * sizeof(*n));
		if (!n)
			return pr_errno(-ENOMEM, "pid %d: fd %d", pid, fd);
		sd->sk = n;
		sd->cap = cap;
	}
	u = xzalloc(sizeof(*u));
	if (!u)
		return -ENOMEM;
	unix_sk__init(&u->pb);
	u->pb.id = (uint32_t)sd->n;
	u->pb.ino = st->st_ino;
	u->ns = nsi;
	u->pid = pid;
	u->fd = fd;
	u->uf = (int)sd->n;
	sd->sk[sd->n++] = u;
	u->de = skd_find(&sd->ns[nsi], (uint32_t)st->st_ino);
	if (!u->de) {
		pr_err("pid %d: fd %d is %s, a unix socket that sock_diag does not list", pid, fd, link);
		return -ENOENT;
	}
	u->pb.type = u->de->type;
	skunix_what(u, desc, sizeof(desc));
	if (opt_int(f->lfd, SOL_SOCKET, SO_TYPE, &type) < 0 || (uint32_t)type != u->de->type)
		return pr_errno(-EIO, "pid %d: fd %d (%s): its type is %d, sock_diag says %u", pid, fd, desc,
				type, u->de->type);
	u->pb.state = u->de->state;
	if (u->pb.type != SOCK_STREAM && u->pb.type != SOCK_DGRAM && u->pb.type != SOCK_SEQPACKET) {
		pr_err("pid %d: fd %d is %s of type %u: not supported yet", pid, fd, desc, u->pb.type);
		return -ENOTSUP;
	}
	r = scm_fds_of(pid, fd, &scm);
	if (r < 0)
		return r;
	if (scm > 0) {
		pr_err("pid %d: fd %d (%s): %ld file descriptors are queued in it (SCM_RIGHTS): not "
		       "supported yet", pid, fd, desc, scm);
		return -ENOTSUP;
	}
	if (u->de->shutdown) {
		u->pb.has_shutdown = true;
		u->pb.shutdown = u->de->shutdown;
	}
	if (u->pb.state == SK_LISTEN) {
		u->pb.has_backlog = true;
		u->pb.backlog = u->de->wq;
	}
	{
		/* a datagram socket someone connected to is "established" too:
		 * only getpeername() tells whether it has a peer (maybe closed) */
		struct sockaddr_un pa;
		socklen_t pl = sizeof(pa);
		u->has_peer = getpeername(f->lfd, (struct sockaddr *)&pa, &pl) == 0;
	}
	r = dump_opts(u, f->lfd, pid, fd, desc);
	if (r == 0)
		r = dump_name(u, pid, fd);
	if (r < 0)
		return r;
	/* a stream socket has a queue only once connected */
	if (u->pb.state != SK_LISTEN && (u->pb.type == SOCK_DGRAM || u->pb.state == SK_ESTABLISHED)) {
		r = peek_queue(u, f->lfd, pid, fd, desc);
		if (r < 0)
			return r;
	}
	*out = u;
	return 0;
}

int skunix_classify(struct dump_ctx *c, struct dstate *s, struct dfile *f, const char *link,
		    const struct stat *st)
{
	struct skunix_dump *sd = c->skunix;
	struct sku *u = NULL;
	int dom = -1, r;

	if (opt_int(f->lfd, SOL_SOCKET, SO_DOMAIN, &dom) < 0)
		return pr_errno(-errno, "pid %d: fd %d (%s): getsockopt(SO_DOMAIN)", s->pid, f->fd, link);
	if (dom != AF_UNIX) {
		const char *fam = family_name(dom);
		if (fam)
			pr_err("pid %d: fd %d is %s, an %s socket: not supported yet", s->pid, f->fd, link, fam);
		else
			pr_err("pid %d: fd %d is %s, a socket of address family %d: not supported yet",
			       s->pid, f->fd, link, dom);
		return -ENOTSUP;
	}
	if (!sd) {
		sd = c->skunix = xzalloc(sizeof(*sd));
		if (!sd)
			return -ENOMEM;
	}
	for (size_t i = 0; i < sd->n && !u; i++)
		if (sd->sk[i]->pb.ino == (uint64_t)st->st_ino)
			u = sd->sk[i];
	if (!u) {
		r = add_socket(sd, s, f, link, st, &u);
		if (r < 0)
			return r;
	}
	f->pb.kind = FILES_KIND__FILES_UNIXSK;
	f->pb.has_unixsk_id = true;
	f->pb.unixsk_id = u->pb.id;
	f->pb.path = strdup(link);
	if (!f->pb.path)
		return pr_errno(-ENOMEM, "pid %d: fd %d", s->pid, f->fd);
	return 0;
}

