/* SPDX-License-Identifier: MIT */
/*
 * Unix domain sockets at restore: where names resolve (the child's root, a
 * directory, or a temporary directory used as root), binding a name again,
 * connections made by accept(), messages sent again (sk_unix_restore.c has
 * the design).
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "util/log.h"
#include "pstree.pb-c.h"
#include "sk_unix_priv.h"
#include "sk_unix_rst.h"
#include "core/task.h"
#include "util/util.h"

/* fd moved above every fd the task restores; closes fd */
int skr_up(struct bctx *b, int fd)
{
	int n, e;

	if (fd < 0)
		return -errno;
	n = fcntl(fd, F_DUPFD_CLOEXEC, b->base);
	e = errno;
	close(fd);
	return n < 0 ? -e : n;
}

int skr_mksock(struct bctx *b, uint32_t type)
{
	return skr_up(b, socket(AF_UNIX, (int)type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
}

int skr_enter(const struct place *p)
{
	if (p->dfd < 0)
		return 0;
	if (fchdir(p->dfd) < 0 || (p->root && chroot(".") < 0))
		return -errno;
	return 0;
}

int skr_leave(struct bctx *b, const struct place *p)
{
	if (p->dfd < 0)
		return 0;
	if ((p->root && (fchdir(b->root) < 0 || chroot(".") < 0)) || fchdir(b->cwd) < 0)
		return pr_errno(-errno, "pid %d: cannot go back to its root and cwd", b->t->pid);
	return 0;
}

/* A new temporary root: a directory under parent (a path, as crest sees it)
 * or, failing that or without it, in the image directory. */
int skr_troot_new(struct bctx *b, const char *parent)
{
	struct troot *n = realloc(b->tr, (b->ntr + 1) * sizeof(*n)), *tr;
	uint64_t rnd = 0;

	if (!n)
		return -ENOMEM;
	b->tr = n;
	tr = &b->tr[b->ntr];
	tr->pdfd = tr->dfd = -1;
	if (getrandom(&rnd, sizeof(rnd), 0) < 0)
		rnd = (uint64_t)now_ns();
	snprintf(tr->name, sizeof(tr->name), ".crest-sk.%d.%zu.%016" PRIx64, b->t->pid, b->ntr, rnd);
	if (parent) {
		tr->pdfd = skr_up(b, open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC));
		if (tr->pdfd >= 0 && mkdirat(tr->pdfd, tr->name, 0700) < 0) {
			close(tr->pdfd);
			tr->pdfd = -1;
		}
	}
	if (tr->pdfd < 0) {
		tr->pdfd = b->c->dirfd;
		if (mkdirat(tr->pdfd, tr->name, 0700) < 0) {
			tr->pdfd = -1;
			return pr_errno(-errno, "pid %d: cannot make a temporary directory in the image "
					"directory (for the names of unix sockets)", b->t->pid);
		}
	}
	b->ntr++;
	tr->dfd = skr_up(b, openat(tr->pdfd, tr->name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
	if (tr->dfd < 0)
		return pr_errno(tr->dfd, "pid %d: cannot open its temporary directory", b->t->pid);
	return (int)b->ntr - 1;
}

static void rm_tree(int pdfd, const char *name)
{
	int fd = openat(pdfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (fd >= 0 && !d)
		close(fd);
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) < 0 && errno == EISDIR)
			rm_tree(dirfd(d), e->d_name);
	}
	if (d)
		closedir(d);
	unlinkat(pdfd, name, AT_REMOVEDIR);
}

void skr_troots_remove(struct bctx *b)
{
	for (size_t i = 0; i < b->ntr; i++) {
		struct troot *tr = &b->tr[i];
		if (tr->dfd >= 0)
			close(tr->dfd);
		if (tr->pdfd >= 0) {
			rm_tree(tr->pdfd, tr->name);
			if (tr->pdfd != b->c->dirfd)
				close(tr->pdfd);
		}
	}
	free(b->tr);
	b->tr = NULL;
	b->ntr = 0;
}

struct place skr_troot_place(struct bctx *b, int i)
{
	return (struct place){ b->tr[i].dfd, true };
}

/* mkdir -p of the directories of a path name (inside a temporary root). */
static void mkparents(const char *name)
{
	char p[SKUNIX_NAME_MAX + 1];

	snprintf(p, sizeof(p), "%s", name);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			mkdir(p, 0700);
			*s = '/';
		}
}

/* Where u's own name leads (UNIXSK_PATH: from fs_dir; UNIXSK_GONE: its
 * temporary root); *opened: a dfd the caller closes. */
int skr_own_place(struct bctx *b, const UnixSk *u, struct place *p, int *opened)
{
	char name[SKUNIX_NAME_MAX + 1];
	bool abs_;

	*p = NOWHERE;
	*opened = -1;
	if (!named(u) || abstract(&u->name))
		return 0;
	if (u->name_kind == UNIX_SK_NAME_KIND__UNIXSK_GONE) {
		int i = b->sr->r[u->id].troot;
		if (i < 0)
			return pr_errno(-EINVAL, "pid %d: socket:[%" PRIu64 "] has no temporary root",
					b->t->pid, u->ino);
		*p = skr_troot_place(b, i);
		return 0;
	}
	abs_ = path_of(&u->name, name)[0] == '/';
	if (abs_ && (!u->fs_dir || !strcmp(u->fs_dir, "/")))
		return 0;
	*opened = skr_up(b, open(u->fs_dir ? u->fs_dir : ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (*opened < 0)
		return pr_errno(*opened, "pid %d: socket bound to %s: cannot open %s", b->t->pid, name,
				u->fs_dir ? u->fs_dir : ".");
	*p = (struct place){ *opened, abs_ };
	return 0;
}

/* --------------------------------------------------- child: socket calls */

int skr_bind_at(int fd, const ProtobufCBinaryData *n, bool mkdirs)
{
	struct sockaddr_un a;
	socklen_t l = mkaddr(&a, n);

	if (mkdirs && !abstract(n)) {
		char p[SKUNIX_NAME_MAX + 1];
		mkparents(path_of(n, p));
	}
	return bind(fd, (struct sockaddr *)&a, l) < 0 ? -errno : 0;
}

int skr_connect_to(int fd, const ProtobufCBinaryData *n)
{
	struct sockaddr_un a;
	socklen_t l = mkaddr(&a, n);

	return connect(fd, (struct sockaddr *)&a, l) < 0 ? -errno : 0;
}

/* Bind at the path it had: a stale socket file there (nobody answers) is
 * replaced; anything else there is left alone and fails the restore. */
static int bind_path(struct bctx *b, const UnixSk *u, int fd)
{
	char name[SKUNIX_NAME_MAX + 1], full[PATH_MAX + SKUNIX_NAME_MAX];
	_cleanup_close_ int opened = -1;
	struct place p;
	struct stat st;
	int r, l;

	r = skr_own_place(b, u, &p, &opened);
	if (r < 0)
		return r;
	path_of(&u->name, name);
	full_path(u, full, sizeof(full));
	r = skr_enter(&p);
	if (r < 0)
		goto out;
	r = skr_bind_at(fd, &u->name, false);
	if (r == -EADDRINUSE && lstat(name, &st) == 0 && S_ISSOCK(st.st_mode)) {
		int probe = socket(AF_UNIX, (int)u->type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		int cr = probe < 0 ? -errno : skr_connect_to(probe, &u->name);
		if (probe >= 0)
			close(probe);
		if (cr == -ECONNREFUSED) {
			pr_info("pid %d: %s: replacing the stale socket file there", b->t->pid, full);
			if (unlink(name) < 0 && errno != ENOENT)
				r = -errno;
			else
				r = skr_bind_at(fd, &u->name, false);
		} else {
			pr_err("pid %d: cannot bind socket:[%" PRIu64 "] (unix %s) to %s again: a live "
			       "socket answers there", b->t->pid, u->ino, skunix_type_name(u->type), full);
			r = -EADDRINUSE;
			goto out;
		}
	} else if (r == -EADDRINUSE) {
		pr_err("pid %d: cannot bind socket:[%" PRIu64 "] (unix %s) to %s again: another file is "
		       "there now, which crest leaves alone", b->t->pid, u->ino, skunix_type_name(u->type),
		       full);
		goto out;
	}
	if (r < 0) {
		pr_errno(r, "pid %d: cannot bind socket:[%" PRIu64 "] to %s", b->t->pid, u->ino, full);
		goto out;
	}
	if ((u->has_file_mode && fchmodat(AT_FDCWD, name, u->file_mode & 07777, 0) < 0) ||
	    (u->has_file_uid && lchown(name, u->file_uid, u->file_gid) < 0))
		r = pr_errno(-errno, "pid %d: %s: cannot give the socket file its mode and owner",
			     b->t->pid, full);
out:
	l = skr_leave(b, &p);
	return r < 0 ? r : l;
}

/* u's own name: its path, its name under a temporary root (unlinked), or
 * an abstract name. */
int skr_bind_own(struct bctx *b, const UnixSk *u, int fd)
{
	char name[200], dir[PATH_MAX];
	struct place p;
	int r, l, i;

	if (abstract(&u->name)) {
		r = skr_bind_at(fd, &u->name, false);
		if (r < 0)
			return pr_errno(r, "pid %d: cannot bind socket:[%" PRIu64 "] to %s", b->t->pid, u->ino,
					skr_name(u, name, sizeof(name)));
		return 0;
	}
	if (u->name_kind == UNIX_SK_NAME_KIND__UNIXSK_PATH)
		return bind_path(b, u, fd);
	/* unlinked: a temporary root on the file system the file was on */
	full_path(u, dir, sizeof(dir));
	*strrchr(dir, '/') = 0;
	i = skr_troot_new(b, dir[0] ? dir : "/");
	if (i < 0)
		return i;
	b->sr->r[u->id].troot = i;
	p = skr_troot_place(b, i);
	r = skr_enter(&p);
	if (r == 0)
		r = skr_bind_at(fd, &u->name, true);
	l = skr_leave(b, &p);
	if (r < 0)
		return pr_errno(r, "pid %d: cannot bind socket:[%" PRIu64 "] to %s (without a file)",
				b->t->pid, u->ino, skr_name(u, name, sizeof(name)));
	{
		struct stat st;
		full_path(u, dir, sizeof(dir));
		if (lstat(dir, &st) == 0)
			pr_info("pid %d: socket:[%" PRIu64 "] (unix %s) bound again to %s, without a file as "
				"at dump: %s is another file now, left alone", b->t->pid, u->ino,
				skunix_type_name(u->type), skr_name(u, name, sizeof(name)), dir);
		else
			pr_info("pid %d: socket:[%" PRIu64 "] (unix %s) bound again to %s, without a file as "
				"at dump (its path was unlinked)", b->t->pid, u->ino, skunix_type_name(u->type),
				skr_name(u, name, sizeof(name)));
	}
	return l;
}

/* A connection whose end a was accepted: a temporary listener of a's name
 * (its own temporary root for a path), c connects, accept() makes a. */
int skr_make_accepted(struct bctx *b, const UnixSk *a, int cfd, int *afd)
{
	_cleanup_close_ int tl = -1;
	struct place p = NOWHERE;
	char name[200];
	int r, l;

	tl = skr_up(b, socket(AF_UNIX, (int)a->type | SOCK_CLOEXEC, 0));
	if (tl < 0)
		return pr_errno(tl, "pid %d: socket", b->t->pid);
	if (!abstract(&a->name)) {
		int i = skr_troot_new(b, NULL);
		if (i < 0)
			return i;
		p = skr_troot_place(b, i);
	}
	r = skr_enter(&p);
	if (r == 0)
		r = skr_bind_at(tl, &a->name, true);
	if (r == 0 && listen(tl, 1) < 0)
		r = -errno;
	if (r == 0)
		r = skr_connect_to(cfd, &a->name);
	l = skr_leave(b, &p);
	if (r < 0)
		return pr_errno(r, "pid %d: cannot make the connection of socket:[%" PRIu64 "] again (a "
				"temporary listener on %s)", b->t->pid, a->ino, skr_name(a, name, sizeof(name)));
	if (l < 0)
		return l;
	*afd = skr_up(b, accept4(tl, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK));
	if (*afd < 0)
		return pr_errno(*afd, "pid %d: accept of socket:[%" PRIu64 "]", b->t->pid, a->ino);
	return 0;
}

/* pid of a task of the tree (crest's level) as the creator sees it */
static pid_t pid_here(struct bctx *b, pid_t pid)
{
	size_t lvl = b->t->pstree && b->t->pstree->n_nspid ? b->t->pstree->n_nspid - 1 : 0;

	for (size_t i = 0; i < b->c->nr_tasks; i++) {
		const struct restore_task *o = b->c->tasks[i];
		if (o->pid == pid && o->pstree && o->pstree->n_nspid > lvl)
			return o->pstree->nspid[lvl];
	}
	return pid;
}

/* One message or run of bytes, with its credentials, to `to` (NULL: the
 * connected peer). */
int skr_send_one(struct bctx *b, int fd, const UnixSkMsg *m, const ProtobufCBinaryData *to,
		    bool stream)
{
	char ctl[CMSG_SPACE(sizeof(struct ucred))];
	struct sockaddr_un a;
	size_t off = 0;

	do {
		struct iovec iov = { m->data.data + off, m->data.len - off };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;
		if (to) {
			mh.msg_namelen = mkaddr(&a, to);
			mh.msg_name = &a;
		}
		if (m->has_cred_pid) {
			struct ucred uc = { .pid = pid_here(b, m->cred_pid), .uid = m->cred_uid,
					    .gid = m->cred_gid };
			struct cmsghdr *cm;
			mh.msg_control = ctl;
			mh.msg_controllen = sizeof(ctl);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_CREDENTIALS;
			cm->cmsg_len = CMSG_LEN(sizeof(uc));
			memcpy(CMSG_DATA(cm), &uc, sizeof(uc));
		}
		n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		off += (size_t)n;
	} while (stream && off < m->data.len);
	return 0;
}

