/* SPDX-License-Identifier: MIT */
/*
 * ipc namespaces: SysV shared memory segments (with their data), semaphore
 * sets (values) and message queues (messages, in order), with their keys,
 * ids, owners and modes, and the namespace's kernel.* ipc sysctls.
 *
 * Dump, in a child of crest inside the namespace (ns_dump_in): the objects
 * by index (*_STAT_ANY), the data of each segment through a read-only
 * shmat into ipcshm-<ns>-<id>.img, messages copied without taking them
 * (msgrcv MSG_COPY).  Restore, in the holder inside the fresh namespace:
 * the sysctls, then every object at its id (kernel.*_next_id), filled, its
 * owner and mode set.  A segment attached by tasks of the tree is attached
 * again by mm_restore.c (injected shmat at the same address: the mapping
 * is the segment, shared as before); one marked for removal (IPC_RMID
 * while attached) is removed again once every task has attached it
 * (ipc_finish).  POSIX message queues are refused by name.  Not restored:
 * semaphore undo values (adj) and the times/pids of the last operations;
 * cuid/cgid become root's.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <xxhash.h>
#include "image/image.h"
#include "util/log.h"
#include "util/util.h"
#include "ns.h"

static const char *const sysctls[] = {
	"shmmax", "shmall", "shmmni", "shm_rmid_forced", "msgmax", "msgmnb", "msgmni", "sem",
};

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *__buf;
};

struct ipc_dump {
	IpcNs n;
	IpcShm **shm;
	IpcSem **sem;
	IpcMsq **msq;
	char **sysctl;
	size_t nsysctl;
};

static void perm_from(IpcPerm *p, const struct ipc_perm *k, int id, unsigned mode_bits)
{
	ipc_perm__init(p);
	p->key = k->__key;
	p->id = id;
	p->uid = k->uid;
	p->gid = k->gid;
	p->cuid = k->cuid;
	p->cgid = k->cgid;
	p->mode = k->mode & mode_bits;
}

static int grow(void *pp, size_t n)
{
	void **p = pp, *x = realloc(*p, (n + 1) * sizeof(void *));
	if (!x)
		return -ENOMEM;
	*p = x;
	return 0;
}

static int dump_shm(struct dump_ctx *c, const struct ns_dump_one *ns, struct ipc_dump *d)
{
	struct shm_info info;
	int max = shmctl(0, SHM_INFO, (struct shmid_ds *)&info);

	if (max < 0)
		return pr_errno(-errno, "pid %d: SHM_INFO in its ipc namespace", ns->pid);
	for (int idx = 0; idx <= max; idx++) {
		struct shmid_ds ds;
		char name[IMG_NAME_MAX];
		int id = shmctl(idx, SHM_STAT_ANY, &ds), fd, r;
		IpcShm *s;
		void *p;

		if (id < 0)
			continue;
		if (grow(&d->shm, d->n.n_shm) < 0 || !(s = xzalloc(sizeof(*s) + sizeof(IpcPerm))))
			return -ENOMEM;
		ipc_shm__init(s);
		s->perm = (IpcPerm *)(s + 1);
		perm_from(s->perm, &ds.shm_perm, id, 0777 | SHM_DEST | SHM_LOCKED);
		s->size = ds.shm_segsz;
		d->shm[d->n.n_shm++] = s;
		p = shmat(id, NULL, SHM_RDONLY);
		if (p == (void *)-1)
			return pr_errno(-errno, "pid %d: SysV shared memory segment %d (key %#x): cannot attach "
					"it to read its data", ns->pid, id, s->perm->key);
		snprintf(name, sizeof(name), "ipcshm-%u-%d.img", ns->id, id);
		fd = openat(c->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		r = fd < 0 ? -errno : write_full(fd, p, s->size);
		s->has_checksum = true;
		s->checksum = XXH3_64bits(p, s->size);
		shmdt(p);
		if (fd >= 0)
			close(fd);
		if (r < 0)
			return pr_errno(r, "pid %d: SysV shared memory segment %d: writing %s", ns->pid, id, name);
		pr_info("pid %d: SysV shm segment %d (key %#x, %llu bytes, mode %o)", ns->pid, id,
			s->perm->key, (unsigned long long)s->size, s->perm->mode);
	}
	return 0;
}

static int dump_sem(const struct ns_dump_one *ns, struct ipc_dump *d)
{
	struct seminfo info;
	union semun arg = { .__buf = &info };
	int max = semctl(0, 0, SEM_INFO, arg);

	if (max < 0)
		return pr_errno(-errno, "pid %d: SEM_INFO in its ipc namespace", ns->pid);
	for (int idx = 0; idx <= max; idx++) {
		struct semid_ds ds;
		union semun a = { .buf = &ds };
		int id = semctl(idx, 0, SEM_STAT_ANY, a);
		unsigned short *vals;
		IpcSem *s;

		if (id < 0)
			continue;
		if (grow(&d->sem, d->n.n_sem) < 0 ||
		    !(s = xzalloc(sizeof(*s) + sizeof(IpcPerm) + ds.sem_nsems * (sizeof(uint32_t) + 2))))
			return -ENOMEM;
		ipc_sem__init(s);
		s->perm = (IpcPerm *)(s + 1);
		perm_from(s->perm, &ds.sem_perm, id, 0777);
		s->values = (uint32_t *)(s->perm + 1);
		vals = (unsigned short *)(s->values + ds.sem_nsems);
		d->sem[d->n.n_sem++] = s;
		a.array = vals;
		if (semctl(id, 0, GETALL, a) < 0)
			return pr_errno(-errno, "pid %d: SysV semaphore set %d: GETALL", ns->pid, id);
		for (size_t k = 0; k < ds.sem_nsems; k++)
			s->values[k] = vals[k];
		s->n_values = ds.sem_nsems;
	}
	return 0;
}

static long sysctl_long(const char *name, long def)
{
	char path[64];
	_cleanup_free_ char *buf = NULL;
	snprintf(path, sizeof(path), "/proc/sys/kernel/%s", name);
	return read_file_at(AT_FDCWD, path, &buf, NULL) == 0 ? atol(buf) : def;
}

static int dump_msq(const struct ns_dump_one *ns, struct ipc_dump *d)
{
	struct msginfo info;
	int max = msgctl(0, MSG_INFO, (struct msqid_ds *)&info);
	long msgmax = sysctl_long("msgmax", 8192);
	_cleanup_free_ char *buf = malloc(sizeof(long) + msgmax + 1);

	if (!buf)
		return -ENOMEM;
	if (max < 0)
		return pr_errno(-errno, "pid %d: MSG_INFO in its ipc namespace", ns->pid);
	for (int idx = 0; idx <= max; idx++) {
		struct msqid_ds ds;
		int id = msgctl(idx, MSG_STAT_ANY, &ds);
		IpcMsq *q;

		if (id < 0)
			continue;
		if (grow(&d->msq, d->n.n_msq) < 0 || !(q = xzalloc(sizeof(*q) + sizeof(IpcPerm))))
			return -ENOMEM;
		ipc_msq__init(q);
		q->perm = (IpcPerm *)(q + 1);
		perm_from(q->perm, &ds.msg_perm, id, 0777);
		q->qbytes = ds.msg_qbytes;
		d->msq[d->n.n_msq++] = q;
		q->msgs = calloc(ds.msg_qnum + 1, sizeof(*q->msgs));
		if (!q->msgs)
			return -ENOMEM;
		for (size_t k = 0; k < ds.msg_qnum; k++) {
			ssize_t n = msgrcv(id, buf, msgmax, (long)k, IPC_NOWAIT | MSG_COPY | MSG_NOERROR);
			IpcMsg *m;
			if (n < 0)
				return pr_errno(-errno, "pid %d: SysV message queue %d (key %#x): cannot copy "
						"message %zu of %lu (msgrcv MSG_COPY needs CONFIG_CHECKPOINT_RESTORE)",
						ns->pid, id, q->perm->key, k, (unsigned long)ds.msg_qnum);
			m = xzalloc(sizeof(*m) + n + 1);
			if (!m)
				return -ENOMEM;
			ipc_msg__init(m);
			m->mtype = *(long *)buf;
			m->data.data = (uint8_t *)(m + 1);
			m->data.len = n;
			memcpy(m->data.data, buf + sizeof(long), n);
			q->msgs[q->n_msgs++] = m;
		}
	}
	return 0;
}

static int dump_sysctls(const struct ns_dump_one *ns, struct ipc_dump *d)
{
	d->sysctl = calloc(ARRAY_SIZE(sysctls), sizeof(char *));
	if (!d->sysctl)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(sysctls); i++) {
		char path[64];
		_cleanup_free_ char *buf = NULL;
		snprintf(path, sizeof(path), "/proc/sys/kernel/%s", sysctls[i]);
		if (read_file_at(AT_FDCWD, path, &buf, NULL) < 0)
			continue;
		buf[strcspn(buf, "\n")] = 0;
		if (xasprintf(&d->sysctl[d->nsysctl], "%s=%s", sysctls[i], buf) < 0)
			return -ENOMEM;
		d->nsysctl++;
	}
	d->n.sysctl = d->sysctl;
	d->n.n_sysctl = d->nsysctl;
	return 0;
}

static void ipc_dump_state_free(struct ipc_dump *d)
{
	for (size_t i = 0; i < d->n.n_shm; i++)
		free(d->shm[i]);
	for (size_t i = 0; i < d->n.n_sem; i++)
		free(d->sem[i]);
	for (size_t i = 0; i < d->n.n_msq; i++) {
		for (size_t k = 0; k < d->msq[i]->n_msgs; k++)
			free(d->msq[i]->msgs[k]);
		free(d->msq[i]->msgs);
		free(d->msq[i]);
	}
	for (size_t i = 0; i < d->nsysctl; i++)
		free(d->sysctl[i]);
	free(d->sysctl);
	free(d->shm);
	free(d->sem);
	free(d->msq);
}

/* POSIX message queues live in the namespace too: look at a mqueue mount of
 * it, made in a private mount namespace of this child (not propagated). */
static int check_mqueues(const struct ns_dump_one *ns)
{
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("mqueue", "/tmp", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return pr_errno(-errno, "pid %d: cannot look for POSIX message queues in its ipc namespace "
				"(a private mqueue mount)", ns->pid);
	d = opendir("/tmp");
	if (!d)
		return pr_errno(-errno, "pid %d: listing the POSIX message queues of its ipc namespace", ns->pid);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			pr_err("pid %d: its ipc namespace has the POSIX message queue /%s: POSIX message "
			       "queues are not supported yet (SysV ones are); remove it (mq_unlink) before "
			       "the dump", ns->pid, de->d_name);
			r = -ENOTSUP;
			break;
		}
	closedir(d);
	return r;
}

/* in a child of crest inside the namespace */
static int read_ipc(struct dump_ctx *c, const struct ns_dump_one *ns, void *arg, uint8_t **out, size_t *len)
{
	struct ipc_dump d = { .n = IPC_NS__INIT };
	int r = dump_shm(c, ns, &d);

	if (r == 0)
		r = dump_sem(ns, &d);
	if (r == 0)
		r = dump_msq(ns, &d);
	if (r == 0)
		r = dump_sysctls(ns, &d);
	if (r == 0)
		r = check_mqueues(ns);   /* (last: it leaves crest's mount namespace) */
	if (r == 0) {
		d.n.shm = d.shm;
		d.n.sem = d.sem;
		d.n.msq = d.msq;
		*len = ipc_ns__get_packed_size(&d.n);
		*out = malloc(*len + 1);
		if (*out)
			ipc_ns__pack(&d.n, *out);
		else
			r = -ENOMEM;
	}
	ipc_dump_state_free(&d);
	return r;
}

static int ipc_dump(struct dump_ctx *c, struct ns_dump_one *ns)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0;
	int r = ns_dump_in(c, ns, read_ipc, NULL, &buf, &len);

	if (r < 0)
		return r;
	ns->img->ipc = ipc_ns__unpack(NULL, len, buf);
	if (!ns->img->ipc) {
		pr_err("pid %d: the state of its ipc namespace came back unreadable", ns->pid);
		return -EIO;
	}
	pr_info("pid %d: ipc namespace %llu: %zu shm segments, %zu semaphore sets, %zu message queues",
		ns->pid, (unsigned long long)ns->ino, ns->img->ipc->n_shm, ns->img->ipc->n_sem,
		ns->img->ipc->n_msq);
	return 0;
}

static void ipc_dump_free(Namespace *img)
{
	if (img->ipc)
		ipc_ns__free_unpacked(img->ipc, NULL);
	img->ipc = NULL;
}

static int ipc_load(struct restore_ctx *c, const Namespace *ns)
{
	if (!ns->ipc) {
		pr_err("image ns.img is corrupt: ipc namespace %u", ns->id);
		return -EBADMSG;
	}
	for (size_t i = 0; i < ns->ipc->n_shm; i++) {
		char name[IMG_NAME_MAX];
		struct stat st;
		const IpcShm *s = ns->ipc->shm[i];
		snprintf(name, sizeof(name), "ipcshm-%u-%d.img", ns->id, s->perm->id);
		if (fstatat(c->dirfd, name, &st, 0) < 0 || (uint64_t)st.st_size != s->size) {
			pr_err("image %s of SysV segment %d (pid %d's ipc namespace) is missing or truncated",
			       name, s->perm->id, ns->pid);
			return -EBADMSG;
		}
	}
	return 0;
}

static int next_id(const char *what, int id)
{
	char path[64], buf[16];
	int fd, n, r = 0;

	snprintf(path, sizeof(path), "/proc/sys/kernel/%s_next_id", what);
	n = snprintf(buf, sizeof(buf), "%d", id);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, n) != n)
		r = -errno;
	if (fd >= 0)
		close(fd);
	return r;
}

static int got_id(const Namespace *ns, const char *what, const IpcPerm *p, int id)
{
	if (id < 0)
		return pr_errno(-errno, "pid %d: recreating SysV %s %d (key %#x) in its ipc namespace", ns->pid,
				what, p->id, p->key);
	if (id != p->id) {
		pr_err("pid %d: SysV %s %d (key %#x) came back as %d", ns->pid, what, p->id, p->key, id);
		return -EEXIST;
	}
	return 0;
}

static int create_shm(struct restore_ctx *c, const Namespace *ns, const IpcShm *s)
{
	const IpcPerm *p = s->perm;
	char name[IMG_NAME_MAX];
	struct shmid_ds ds;
	int id, r, fd;
	void *m;

	r = next_id("shm", p->id);
	if (r < 0)
		return pr_errno(r, "pid %d: kernel.shm_next_id in its ipc namespace", ns->pid);
	id = shmget(p->key, s->size, IPC_CREAT | IPC_EXCL | (p->mode & 0777));
	if ((r = got_id(ns, "shared memory segment", p, id)) < 0)
		return r;
	snprintf(name, sizeof(name), "ipcshm-%u-%d.img", ns->id, p->id);
	m = shmat(id, NULL, 0);
	if (m == (void *)-1)
		return pr_errno(-errno, "pid %d: SysV segment %d: shmat to fill it", ns->pid, id);
	fd = openat(c->dirfd, name, O_RDONLY | O_CLOEXEC);
	r = fd < 0 ? -errno : read_full(fd, m, s->size);
	if (fd >= 0)
		close(fd);
	if (r == 0 && s->has_checksum && XXH3_64bits(m, s->size) != s->checksum) {
		pr_err("image %s is corrupt: checksum mismatch", name);
		r = -EBADMSG;
	} else if (r < 0)
		pr_errno(r, "pid %d: SysV segment %d: reading %s", ns->pid, id, name);
	shmdt(m);
	if (r < 0)
		return r;
	memset(&ds, 0, sizeof(ds));
	ds.shm_perm.uid = p->uid;
	ds.shm_perm.gid = p->gid;
	ds.shm_perm.mode = p->mode & 0777;
	if (shmctl(id, IPC_SET, &ds) < 0)
		return pr_errno(-errno, "pid %d: SysV segment %d: IPC_SET owner %u:%u mode %o", ns->pid, id,
				p->uid, p->gid, p->mode & 0777);
	if ((p->mode & SHM_LOCKED) && shmctl(id, SHM_LOCK, NULL) < 0)
		return pr_errno(-errno, "pid %d: SysV segment %d: SHM_LOCK", ns->pid, id);
	return 0;
}

static int create_sem(const Namespace *ns, const IpcSem *s)
{
	const IpcPerm *p = s->perm;
	_cleanup_free_ unsigned short *vals = calloc(s->n_values + 1, sizeof(*vals));
	struct semid_ds ds;
	union semun a;
	int id, r;

	if (!vals)
		return -ENOMEM;
	r = next_id("sem", p->id);
	if (r < 0)
		return pr_errno(r, "pid %d: kernel.sem_next_id in its ipc namespace", ns->pid);
	id = semget(p->key, (int)s->n_values, IPC_CREAT | IPC_EXCL | (p->mode & 0777));
	if ((r = got_id(ns, "semaphore set", p, id)) < 0)
		return r;
	for (size_t k = 0; k < s->n_values; k++)
		vals[k] = (unsigned short)s->values[k];
	a.array = vals;
	if (s->n_values && semctl(id, 0, SETALL, a) < 0)
		return pr_errno(-errno, "pid %d: SysV semaphore set %d: SETALL", ns->pid, id);
	memset(&ds, 0, sizeof(ds));
	ds.sem_perm.uid = p->uid;
	ds.sem_perm.gid = p->gid;
	ds.sem_perm.mode = p->mode & 0777;
	a.buf = &ds;
	if (semctl(id, 0, IPC_SET, a) < 0)
		return pr_errno(-errno, "pid %d: SysV semaphore set %d: IPC_SET", ns->pid, id);
	return 0;
}

static int create_msq(const Namespace *ns, const IpcMsq *q)
{
	const IpcPerm *p = q->perm;
	struct msqid_ds ds;
	int id, r;

	r = next_id("msg", p->id);
	if (r < 0)
		return pr_errno(r, "pid %d: kernel.msg_next_id in its ipc namespace", ns->pid);
	id = msgget(p->key, IPC_CREAT | IPC_EXCL | (p->mode & 0777));
	if ((r = got_id(ns, "message queue", p, id)) < 0)
		return r;
	memset(&ds, 0, sizeof(ds));
	ds.msg_perm.uid = 0;
	ds.msg_perm.gid = 0;
	ds.msg_perm.mode = 0600;
	ds.msg_qbytes = q->qbytes;
	if (msgctl(id, IPC_SET, &ds) < 0)
		return pr_errno(-errno, "pid %d: SysV message queue %d: IPC_SET qbytes %llu", ns->pid, id,
				(unsigned long long)q->qbytes);
	for (size_t k = 0; k < q->n_msgs; k++) {
		const IpcMsg *m = q->msgs[k];
		_cleanup_free_ char *buf = malloc(sizeof(long) + m->data.len + 1);
		if (!buf)
			return -ENOMEM;
		*(long *)buf = m->mtype;
		memcpy(buf + sizeof(long), m->data.data, m->data.len);
		if (msgsnd(id, buf, m->data.len, IPC_NOWAIT) < 0)
			return pr_errno(-errno, "pid %d: SysV message queue %d: sending message %zu again",
					ns->pid, id, k);
	}
	ds.msg_perm.uid = p->uid;
	ds.msg_perm.gid = p->gid;
	ds.msg_perm.mode = p->mode & 0777;
	if (msgctl(id, IPC_SET, &ds) < 0)
		return pr_errno(-errno, "pid %d: SysV message queue %d: IPC_SET owner %u:%u mode %o",
				ns->pid, id, p->uid, p->gid, p->mode & 0777);
	return 0;
}

/* The namespace's sysctls; shm_rmid_forced (rmid: only it, else all but
 * it) last: with it the holder's exit would destroy the segments it made. */
static void set_sysctls(const Namespace *ns, bool rmid)
{
	const IpcNs *n = ns->ipc;

	for (size_t i = 0; i < n->n_sysctl; i++) {
		char path[96];
		const char *eq = strchr(n->sysctl[i], '=');
		int fd;
		if (!eq || eq - n->sysctl[i] > 32 || strchr(n->sysctl[i], '/'))
			continue;
		if (rmid != !strncmp(n->sysctl[i], "shm_rmid_forced=", 16))
			continue;
		snprintf(path, sizeof(path), "/proc/sys/kernel/%.*s", (int)(eq - n->sysctl[i]), n->sysctl[i]);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, eq + 1, strlen(eq + 1)) < 0)
			pr_warn("pid %d: could not set %s in its ipc namespace: %s", ns->pid, n->sysctl[i],
				strerror(errno));
		if (fd >= 0)
			close(fd);
	}
}

/* in the holder, inside the fresh namespace */
static int ipc_create(struct restore_ctx *c, const Namespace *ns)
{
	const IpcNs *n = ns->ipc;
	int r;

	set_sysctls(ns, false);
	for (size_t i = 0; i < n->n_shm; i++)
		if ((r = create_shm(c, ns, n->shm[i])) < 0)
			return r;
	for (size_t i = 0; i < n->n_sem; i++)
		if ((r = create_sem(ns, n->sem[i])) < 0)
			return r;
	for (size_t i = 0; i < n->n_msq; i++)
		if ((r = create_msq(ns, n->msq[i])) < 0)
			return r;
	return 0;
}

static int rmid_dest(struct restore_ctx *c, const Namespace *ns, void *arg)
{
	set_sysctls(ns, true);
	for (size_t i = 0; i < ns->ipc->n_shm; i++) {
		const IpcPerm *p = ns->ipc->shm[i]->perm;
		if ((p->mode & SHM_DEST) && shmctl(p->id, IPC_RMID, NULL) < 0)
			return pr_errno(-errno, "pid %d: SysV segment %d: marking it for removal again", ns->pid,
					p->id);
	}
	return 0;
}

/* once every task has attached its segments: the ones marked for removal */
static int ipc_finish(struct restore_ctx *c, const Namespace *ns, int nsfd)
{
	bool any = false;
	for (size_t i = 0; i < ns->ipc->n_sysctl; i++)
		any |= strcmp(ns->ipc->sysctl[i], "shm_rmid_forced=0") && !strncmp(ns->ipc->sysctl[i], "shm_rmid_forced=", 16);
	for (size_t i = 0; i < ns->ipc->n_shm; i++)
		any |= (ns->ipc->shm[i]->perm->mode & SHM_DEST) != 0;
	return any ? ns_restore_in(c, ns->id, rmid_dest, NULL) : 0;
}

const struct ns_kind_ops ipc_ns_ops = {
	.dump = ipc_dump,
	.dump_free = ipc_dump_free,
	.load = ipc_load,
	.create = ipc_create,
	.finish = ipc_finish,
};
