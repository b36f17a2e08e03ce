/* A container-ish tree (started by tests/cases/ns_container.sh under
 * `unshare --uts --ipc --net --pid --fork`): pid 1 of its pid namespace,
 * with its own hostname and domainname, SysV IPC (a segment with data
 * attached, a second one marked for removal while attached, one not
 * attached, a semaphore set, a message queue with messages) and lo up with
 * an extra address.  It checks all of it from inside after every restore:
 * same ids, keys, modes, owners, data, values, messages (copied, not
 * taken), the attached mapping at the same address is still the segment
 * (a write through it shows in a fresh attach), lo up with the same
 * addresses.  A child (pid 2) shares every namespace (checked from
 * outside by the case). */
// crest-test: mode=case
#include "t.h"
#include "tproc.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define SEG_SIZE (3 * 4096 + 100)
#define KEY_SHM 0x1234abcd
#define KEY_SEM 0x1234abce
#define KEY_MSG 0x1234abcf

static int shm_id, shm2_id, shm3_id, sem_id, msg_id;
static unsigned char *seg, *seg2;
static uint64_t seg_hash, seg3_hash;
static char addrs[1024];

struct msgb {
	long mtype;
	char text[64];
};

static const char *const texts[] = { "first message", "second", "third, the last" };

static void lo_addrs(char *out, size_t size)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0;

	out[0] = 0;
	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i; i = i->ifa_next) {
		char a[INET6_ADDRSTRLEN] = "";
		if (strcmp(i->ifa_name, "lo") || !i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, a, sizeof(a));
		else if (i->ifa_addr->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, a, sizeof(a));
		else
			continue;
		n += snprintf(out + n, size - n, "%s%s(%s) ", a, "", (i->ifa_flags & IFF_UP) ? "up" : "down");
		if (n >= size)
			break;
	}
	freeifaddrs(ifa);
}

static int check_perm(int id, int key, int mode, const char *what, struct ipc_perm *p)
{
	if (p->__key != key || (int)(p->mode & 0777) != mode || p->uid != 1234 || p->gid != 4321) {
		t_fail("%s %d: key %#x mode %o owner %u:%u, want %#x %o 1234:4321", what, id, p->__key,
		       p->mode & 0777, p->uid, p->gid, key, mode);
		return -1;
	}
	return 0;
}

static int check(void *arg)
{
	struct utsname u;
	struct shmid_ds ds;
	struct semid_ds sds;
	struct msqid_ds mds;
	unsigned short vals[3];
	char now[1024];
	unsigned char *fresh;

	uname(&u);
	if (strcmp(u.nodename, "crest-ct") || strcmp(u.domainname, "crest-ct-dom"))
		t_fail("uts: %s / %s, want crest-ct / crest-ct-dom", u.nodename, u.domainname);
	if (getpid() != 1)
		t_fail("getpid() is %d, want 1", getpid());
	/* shm */
	if (shmctl(shm_id, IPC_STAT, &ds) < 0)
		t_fail("segment %d: IPC_STAT: %s", shm_id, strerror(errno));
	else {
		check_perm(shm_id, KEY_SHM, 0640, "segment", &ds.shm_perm);
		if (ds.shm_segsz != SEG_SIZE || ds.shm_nattch < 1)
			t_fail("segment %d: size %zu nattch %lu", shm_id, ds.shm_segsz, (unsigned long)ds.shm_nattch);
	}
	if (t_hash(seg, SEG_SIZE) != seg_hash)
		t_fail("segment %d: its data at %p changed", shm_id, (void *)seg);
	fresh = shmat(shm_id, NULL, SHM_RDONLY);
	if (fresh == (void *)-1)
		t_fail("segment %d: shmat: %s", shm_id, strerror(errno));
	else {
		seg[100] ^= 0x5a;
		if (fresh[100] != seg[100])
			t_fail("segment %d: the mapping at %p is not the segment any more", shm_id, (void *)seg);
		seg[100] ^= 0x5a;
		shmdt(fresh);
	}
	if (shmctl(shm2_id, IPC_STAT, &ds) < 0 || !(ds.shm_perm.mode & SHM_DEST) || seg2[0] != 0x77)
		t_fail("segment %d (removed while attached): %s, data %#x", shm2_id,
		       errno ? strerror(errno) : "not marked for removal", seg2[0]);
	fresh = shmat(shm3_id, NULL, SHM_RDONLY);
	if (fresh == (void *)-1 || t_hash(fresh, 8192) != seg3_hash)
		t_fail("segment %d (not attached): %s", shm3_id, fresh == (void *)-1 ? strerror(errno) : "data differs");
	if (fresh != (void *)-1)
		shmdt(fresh);
	/* sem */
	union { int v; struct semid_ds *b; unsigned short *a; } a = { .b = &sds };
	if (semctl(sem_id, 0, IPC_STAT, a) < 0)
		t_fail("semaphores %d: IPC_STAT: %s", sem_id, strerror(errno));
	else
		check_perm(sem_id, KEY_SEM, 0600, "semaphores", &sds.sem_perm);
	a.a = vals;
	if (semctl(sem_id, 0, GETALL, a) < 0 || vals[0] != 5 || vals[1] != 0 || vals[2] != 42)
		t_fail("semaphores %d: values %u %u %u, want 5 0 42", sem_id, vals[0], vals[1], vals[2]);
	/* msg */
	if (msgctl(msg_id, IPC_STAT, &mds) < 0)
		t_fail("queue %d: IPC_STAT: %s", msg_id, strerror(errno));
	else {
		check_perm(msg_id, KEY_MSG, 0620, "queue", &mds.msg_perm);
		if (mds.msg_qnum != 3 || mds.msg_qbytes != 12000)
			t_fail("queue %d: %lu messages, qbytes %lu", msg_id, (unsigned long)mds.msg_qnum,
			       (unsigned long)mds.msg_qbytes);
	}
	for (int k = 0; k < 3; k++) {
		struct msgb m;
		ssize_t n = msgrcv(msg_id, &m, sizeof(m.text), k, IPC_NOWAIT | MSG_COPY);
		if (n != (ssize_t)strlen(texts[k]) + 1 || m.mtype != k + 1 || strcmp(m.text, texts[k]))
			t_fail("queue %d: message %d is %zd bytes, type %ld", msg_id, k, n, m.mtype);
	}
	/* net */
	lo_addrs(now, sizeof(now));
	if (strcmp(now, addrs))
		t_fail("lo: '%s', was '%s'", now, addrs);
	return 0;
}

int main(int argc, char **argv)
{
	struct shmid_ds ds = { 0 };
	struct semid_ds sds = { 0 };
	struct msqid_ds mds = { 0 };
	unsigned short vals[3] = { 5, 0, 42 };

	t_init(argc, argv);
	if (sethostname("crest-ct", 8) < 0 || setdomainname("crest-ct-dom", 12) < 0)
		t_die("sethostname: %s", strerror(errno));
	shm_id = shmget(KEY_SHM, SEG_SIZE, IPC_CREAT | 0640);
	shm2_id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	shm3_id = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0644);
	if (shm_id < 0 || shm2_id < 0 || shm3_id < 0)
		t_die("shmget: %s", strerror(errno));
	seg = shmat(shm_id, NULL, 0);
	seg2 = shmat(shm2_id, NULL, 0);
	unsigned char *s3 = shmat(shm3_id, NULL, 0);
	if (seg == (void *)-1 || seg2 == (void *)-1 || s3 == (void *)-1)
		t_die("shmat: %s", strerror(errno));
	t_fill(seg, SEG_SIZE, 7);
	seg_hash = t_hash(seg, SEG_SIZE);
	seg2[0] = 0x77;
	t_fill(s3, 8192, 8);
	seg3_hash = t_hash(s3, 8192);
	shmdt(s3);
	shmctl(shm2_id, IPC_RMID, NULL);
	ds.shm_perm.uid = 1234;
	ds.shm_perm.gid = 4321;
	ds.shm_perm.mode = 0640;
	shmctl(shm_id, IPC_SET, &ds);
	sem_id = semget(KEY_SEM, 3, IPC_CREAT | 0600);
	union { int v; struct semid_ds *b; unsigned short *a; } a = { .a = vals };
	if (sem_id < 0 || semctl(sem_id, 0, SETALL, a) < 0)
		t_die("semaphores: %s", strerror(errno));
	sds.sem_perm.uid = 1234;
	sds.sem_perm.gid = 4321;
	sds.sem_perm.mode = 0600;
	a.b = &sds;
	semctl(sem_id, 0, IPC_SET, a);
	msg_id = msgget(KEY_MSG, IPC_CREAT | 0620);
	if (msg_id < 0)
		t_die("msgget: %s", strerror(errno));
	mds.msg_perm.uid = 1234;
	mds.msg_perm.gid = 4321;
	mds.msg_perm.mode = 0620;
	mds.msg_qbytes = 12000;
	if (msgctl(msg_id, IPC_SET, &mds) < 0)
		t_die("IPC_SET queue: %s", strerror(errno));
	for (int k = 0; k < 3; k++) {
		struct msgb m = { .mtype = k + 1 };
		strcpy(m.text, texts[k]);
		if (msgsnd(msg_id, &m, strlen(texts[k]) + 1, 0) < 0)
			t_die("msgsnd: %s", strerror(errno));
	}
	if (system("ip link set lo up && ip addr add 127.0.0.77/8 dev lo && "
		   "ip addr add fd00::77/128 dev lo") != 0)
		t_die("setting up lo failed");
	lo_addrs(addrs, sizeof(addrs));
	if (tp_fork() == 0)
		tp_idle();
	t_run(check, NULL);
}
