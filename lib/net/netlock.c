/* SPDX-License-Identifier: MIT */
/*
 * The network lock for TCP connections whose peer is outside the tree
 * (dumped with --tcp-established).  From the moment crest reads such a
 * connection (before TCP_REPAIR, so that nothing it received is lost)
 * until its restore is done, an nftables table of crest's net namespace,
 * "inet crest_lock_<crest pid>_<time>", drops every packet the peer sends
 * to it (input hook, priority -300: before conntrack).  The peer's TCP
 * retransmits meanwhile and the restored connection takes over; without
 * the lock the kernel would answer the peer's first packet after the kill
 * with a reset.  The table goes when the dump fails or leaves the tree
 * running, and at the end of every restore of the image (done or failed:
 * a lock never outlives a restore); `crest gc -D DIR` removes the lock of
 * an image that will not be restored, `crest check` lists the tables
 * present.  Through libnftables (Debian's libnftables1).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <nftables/libnftables.h>
#include "image/image.h"
#include "util/log.h"
#include "netlock.h"
#include "sk-inet.pb-c.h"
#include "util/util.h"

#define LOCK_PREFIX "crest_lock_"

/* Run nft commands; err gets nft's message. */
static int nft_run(const char *cmd, char *err, size_t errsz)
{
	struct nft_ctx *n = nft_ctx_new(NFT_CTX_DEFAULT);
	int r;

	if (!n)
		return -ENOMEM;
	nft_ctx_buffer_output(n);
	nft_ctx_buffer_error(n);
	r = nft_run_cmd_from_buffer(n, cmd);
	if (r && err) {
		const char *e = nft_ctx_get_error_buffer(n);
		snprintf(err, errsz, "%s", e ? e : "?");
		for (char *p = err; *p; p++)
			if (*p == '\n')
				*p = ' ';
	}
	nft_ctx_free(n);
	return r ? -EIO : 0;
}

static void addr_str(uint32_t family, const uint8_t *a, char *out, size_t size)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (family == AF_INET6 && !memcmp(a, mapped, 12))
		inet_ntop(AF_INET, a + 12, out, (socklen_t)size);
	else
		inet_ntop((int)family, a, out, (socklen_t)size);
}

int netlock_add(struct netlock *l, uint32_t family, const uint8_t *laddr, uint32_t lport,
		const uint8_t *raddr, uint32_t rport)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char la[64], ra[64], cmd[512], err[512] = "", **n;
	const char *ip = family == AF_INET || !memcmp(raddr, mapped, 12) ? "ip" : "ip6";
	int r;

	if (!l->table[0]) {
		snprintf(l->table, sizeof(l->table), LOCK_PREFIX "%d_%lld", getpid(), (long long)time(NULL));
		snprintf(cmd, sizeof(cmd),
			 "add table inet %s\n"
			 "add chain inet %s input { type filter hook input priority -300 ; policy accept ; }\n",
			 l->table, l->table);
		r = nft_run(cmd, err, sizeof(err));
		if (r < 0) {
			pr_err("cannot make the network lock (nftables table inet %s): %s; crest needs "
			       "CONFIG_NF_TABLES (modprobe nf_tables)", l->table, err);
			l->table[0] = 0;
			return r;
		}
		pr_info("network lock: nftables table inet %s", l->table);
	}
	addr_str(family, laddr, la, sizeof(la));
	addr_str(family, raddr, ra, sizeof(ra));
	snprintf(cmd, sizeof(cmd), "add rule inet %s input %s saddr %s tcp sport %u %s daddr %s tcp dport %u drop\n",
		 l->table, ip, ra, rport, ip, la, lport);
	r = nft_run(cmd, err, sizeof(err));
	if (r < 0) {
		pr_err("network lock: cannot add the rule for %s:%u -> %s:%u to table inet %s: %s", ra, rport,
		       la, lport, l->table, err);
		return r;
	}
	n = realloc(l->rules, (l->n + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	l->rules = n;
	l->rules[l->n] = strndup(cmd, strlen(cmd) - 1);
	if (!l->rules[l->n])
		return -ENOMEM;
	l->n++;
	pr_debug("network lock: %s", l->rules[l->n - 1]);
	return 0;
}

int netlock_write(struct netlock *l, int dirfd)
{
	NetLock img = NET_LOCK__INIT;

	if (!l->table[0])
		return 0;
	img.table = l->table;
	img.n_rules = l->n;
	img.rules = l->rules;
	return img_write(dirfd, "netlock.img", &img.base);
}

static int drop_table(const char *table, const char *why)
{
	char cmd[160], err[512] = "";
	int r;

	if (strncmp(table, LOCK_PREFIX, strlen(LOCK_PREFIX)) || strpbrk(table, " \n;{}")) {
		pr_err("network lock: '%s' is not the name of a crest lock table: left alone", table);
		return -EINVAL;
	}
	snprintf(cmd, sizeof(cmd), "delete table inet %s\n", table);
	r = nft_run(cmd, err, sizeof(err));
	if (r < 0) {
		if (strstr(err, "No such file") || strstr(err, "does not exist"))
			return 0;
		pr_err("network lock: cannot remove table inet %s (%s): %s; remove it with `nft delete "
		       "table inet %s`", table, why, err, table);
		return r;
	}
	pr_info("network lock: table inet %s removed (%s)", table, why);
	return 0;
}

void netlock_drop(struct netlock *l, bool keep)
{
	if (l->table[0] && !keep)
		drop_table(l->table, "the tree runs on");
	else if (l->table[0])
		pr_info("network lock: table inet %s stays until the restore (or `crest gc`)", l->table);
	for (size_t i = 0; i < l->n; i++)
		free(l->rules[i]);
	free(l->rules);
	memset(l, 0, sizeof(*l));
}

int netlock_release(int dirfd, const char *why)
{
	NetLock *img = NULL;
	int r;

	if (faccessat(dirfd, "netlock.img", F_OK, 0) < 0)
		return 0;
	r = img_read(dirfd, "netlock.img", &net_lock__descriptor, (ProtobufCMessage **)&img, true);
	if (r < 0)
		return r;
	r = drop_table(img->table, why);
	protobuf_c_message_free_unpacked(&img->base, NULL);
	return r;
}

int netlock_count(char *why, size_t size)
{
	struct nft_ctx *n = nft_ctx_new(NFT_CTX_DEFAULT);
	const char *p;
	size_t o = 0;
	int count = 0;

	if (!n)
		return -ENOMEM;
	why[0] = 0;
	nft_ctx_buffer_output(n);
	nft_ctx_buffer_error(n);
	if (nft_run_cmd_from_buffer(n, "list tables inet\n")) {
		snprintf(why, size, "cannot list the nftables tables: %s", nft_ctx_get_error_buffer(n));
		nft_ctx_free(n);
		return -EIO;
	}
	for (p = nft_ctx_get_output_buffer(n); p && (p = strstr(p, LOCK_PREFIX)); p++) {
		int len = (int)strcspn(p, " \n");
		if (o < size)
			o += (size_t)snprintf(why + o, size - o, "%stable inet %.*s", count ? ", " : "", len, p);
		count++;
	}
	if (count && o < size)
		snprintf(why + o, size - o, " (a dump waits for its restore, or crest was killed: `crest gc -D "
			 "DIR` or `nft delete table inet NAME`)");
	nft_ctx_free(n);
	return count;
}
