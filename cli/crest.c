/* SPDX-License-Identifier: MIT */
/* crest: the command line.  Parses options, calls libcrest, prints. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "crest.h"

static const char *usage_main =
	"usage: crest COMMAND [OPTIONS]\n"
	"\n"
	"Checkpoint/restore of Linux processes.\n"
	"\n"
	"commands:\n"
	"  dump     -t PID -D DIR   freeze PID, write its state to DIR, kill it\n"
	"  pre-dump -t PID -D DIR   copy PID's memory to DIR while it runs on\n"
	"  restore  -D DIR          recreate the process from DIR (same pid)\n"
	"  show     DIR             print the images of DIR (--json for JSON)\n"
	"  gc       -D DIR          remove what a dump keeps outside DIR (remap links)\n"
	"  check                    check the kernel features crest needs\n"
	"\n"
	"`crest COMMAND --help` describes each command's options.\n";

static const char *usage_dump =
	"usage: crest dump -t PID -D DIR [options]\n"
	"\n"
	"  -t, --tree PID        the process to dump\n"
	"  -D, --images-dir DIR  where to write the images (created if needed)\n"
	"  -R, --leave-running   let the process continue after the dump\n"
	"  -j, --shell-job       the process's stdio is our terminal: allow it\n"
	"  -v, --verbose         more messages (-vv: debug)\n"
	"  -o, --log-file FILE   also write the full log to FILE\n"
	"      --ghost-limit SIZE  most data (K/M/G suffixes) a deleted but open file\n"
	"                        may hold to be kept in the image (default 64M)\n"
	"      --link-remap      keep files replaced while open (their name leads to\n"
	"                        another file now) through a hard link in\n"
	"                        <mount root>/.crest-remap/; `crest gc -D DIR`\n"
	"                        removes those links once the images are discarded\n"
	"      --prev-images-dir DIR  end a pre-dump chain: DIR (relative to -D) is the\n"
	"                        last pre-dump; only pages written since are stored\n"
	"      --track-mem       (with --prev-images-dir) use the chain's tracking\n"
	"      --compress        store the pages zstd-compressed\n"
	"      --tcp-established keep TCP connections whose peer is outside the tree\n"
	"                        (restore where the peer can still reach the addresses)\n"
	"      --external mnt[MOUNTPOINT]:KEY  the mount on MOUNTPOINT (in the tree's\n"
	"                        mount namespace) is supplied from outside at restore\n"
	"\n"
	"The full log is always kept as DIR/dump.log.\n"
	"Exit status: 0 on success, 1 on failure (the process is left running).\n";

static const char *usage_pre_dump =
	"usage: crest pre-dump -t PID -D DIR [--prev-images-dir PREV] [options]\n"
	"\n"
	"Copy the memory of PID (and its descendants) into DIR while it keeps\n"
	"running (it is stopped only to find the pages), and track what it writes\n"
	"from then on (userfaultfd write-protect, async).  The next pre-dump with\n"
	"--prev-images-dir stores only the pages written since; the chain ends with\n"
	"`crest dump --prev-images-dir LAST --track-mem`, whose images restore.\n"
	"\n"
	"  -t, --tree PID        the process to pre-dump\n"
	"  -D, --images-dir DIR  where to write the images (created if needed)\n"
	"      --prev-images-dir PREV  the previous pre-dump, relative to DIR\n"
	"      --compress        store the pages zstd-compressed\n"
	"      --track-timeout SEC  end the tracking if no next round comes within\n"
	"                        SEC seconds (default 600); `crest gc -D DIR` ends it\n"
	"  -v, --verbose         more messages (-vv: debug)\n"
	"  -o, --log-file FILE   also write the full log to FILE\n"
	"\n"
	"The full log is always kept as DIR/pre-dump.log.\n";

static const char *usage_restore =
	"usage: crest restore -D DIR [options]\n"
	"\n"
	"  -D, --images-dir DIR  the images to restore\n"
	"  -d, --restore-detached  return once the process runs again; otherwise\n"
	"                        crest waits for it, forwards SIGINT/SIGTERM to it\n"
	"                        and exits with its exit status\n"
	"  -j, --shell-job       give the process crest's terminal as its stdio\n"
	"      --pid-wait MS     wait up to MS ms for a busy pid (default 5000)\n"
	"      --pidfile FILE    write the restored root's pid (as crest sees it) to FILE\n"
	"  -v, --verbose         more messages (-vv: debug)\n"
	"  -o, --log-file FILE   also write the full log to FILE\n"
	"      --external mnt[KEY]:HOSTPATH  bind HOSTPATH where the mount dumped\n"
	"                        with --external mnt[MOUNTPOINT]:KEY was\n"
	"      --root DIR        the root of the tree's mount namespace is DIR now\n"
	"\n"
	"The full log is always kept as DIR/restore.log.\n";

static const char *usage_show =
	"usage: crest show [--json] DIR\n"
	"\n"
	"Print every image of DIR, verified against its checksum.\n"
	"  --json   one JSON document instead of the human view\n";

static const char *usage_gc =
	"usage: crest gc -D DIR\n"
	"\n"
	"Remove what the dump in DIR keeps outside DIR: the hard links made with\n"
	"--link-remap (in <mount root>/.crest-remap/), and the memory tracking a\n"
	"pre-dump left running.  Run it when the images are discarded: a dump that\n"
	"needed such links cannot be restored afterwards.\n";

static const char *usage_check =
	"usage: crest check [-v]\n"
	"\n"
	"Check the kernel features crest needs and whether they work here.\n";

enum { OPT_PID_WAIT = 1000, OPT_JSON, OPT_GHOST_LIMIT, OPT_LINK_REMAP, OPT_PIDFILE, OPT_PREV, OPT_TRACK_MEM,
       OPT_COMPRESS, OPT_TRACK_TIMEOUT,
       OPT_TCP_ESTABLISHED, OPT_EXTERNAL, OPT_ROOT };

/* "64M", "1G", "4096": bytes, or -1 */
static long long parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	int shift = 0;

	if (end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	if (*end == 'i' && shift)
		end++;
	if ((*end == 'b' || *end == 'B') && shift)
		end++;
	if (*end || v > (1ULL << 62) >> shift)
		return -1;
	return (long long)(v << shift);
}

static volatile int cancel_flag;
static const char **ext;   /* --external values (reachable until exit) */

static void on_cancel(int sig)
{
	(void)sig;
	cancel_flag = 1;
}

/* SIGINT/SIGTERM/SIGHUP during a dump or restore: let libcrest stop at a
 * safe point and undo its work instead of dying half-way. */
static void catch_cancel(struct crest_opts *o)
{
	struct sigaction sa = { .sa_handler = on_cancel };
	/* a log piped into a reader that went away (`crest ... | head`):
	 * failed writes, not a crest killed half-way (libcrest restores every
	 * signal disposition of the restored tasks from the images) */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	o->cancel = &cancel_flag;
}

static void default_signals(void)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
}

static const struct option long_opts[] = {
	{ "tree", required_argument, 0, 't' },
	{ "images-dir", required_argument, 0, 'D' },
	{ "leave-running", no_argument, 0, 'R' },
	{ "restore-detached", no_argument, 0, 'd' },
	{ "shell-job", no_argument, 0, 'j' },
	{ "verbose", no_argument, 0, 'v' },
	{ "log-file", required_argument, 0, 'o' },
	{ "pid-wait", required_argument, 0, OPT_PID_WAIT },
	{ "json", no_argument, 0, OPT_JSON },
	{ "ghost-limit", required_argument, 0, OPT_GHOST_LIMIT },
	{ "link-remap", no_argument, 0, OPT_LINK_REMAP },
	{ "pidfile", required_argument, 0, OPT_PIDFILE },
	{ "prev-images-dir", required_argument, 0, OPT_PREV },
	{ "track-mem", no_argument, 0, OPT_TRACK_MEM },
	{ "compress", no_argument, 0, OPT_COMPRESS },
	{ "track-timeout", required_argument, 0, OPT_TRACK_TIMEOUT },
	{ "tcp-established", no_argument, 0, OPT_TCP_ESTABLISHED },
	{ "external", required_argument, 0, OPT_EXTERNAL },
	{ "root", required_argument, 0, OPT_ROOT },
	{ "help", no_argument, 0, 'h' },
	{ 0, 0, 0, 0 },
};

static int bad_usage(const char *usage)
{
	fputs(usage, stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct crest_opts o = { .verbosity = CREST_LOG_WARN };
	const char *cmd, *usage;
	bool json = false;
	int c, r;

	if (argc < 2)
		return bad_usage(usage_main);
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		printf("crest %s\n", CREST_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "dump"))
		usage = usage_dump;
	else if (!strcmp(cmd, "pre-dump"))
		usage = usage_pre_dump;
	else if (!strcmp(cmd, "restore"))
		usage = usage_restore;
	else if (!strcmp(cmd, "show"))
		usage = usage_show;
	else if (!strcmp(cmd, "check"))
		usage = usage_check;
	else if (!strcmp(cmd, "gc"))
		usage = usage_gc;
	else {
		fprintf(stderr, "crest: unknown command '%s'\n\n", cmd);
		return bad_usage(usage_main);
	}

	optind = 2;
	while ((c = getopt_long(argc, argv, "t:D:RdjvoJ:h", long_opts, NULL)) != -1) {
		switch (c) {
		case 't': {
			char *end;
			long p = strtol(optarg, &end, 10);
			if (*end || p <= 0) {
				fprintf(stderr, "crest: -t needs a pid, got '%s'\n", optarg);
				return 2;
			}
			o.pid = p;
			break;
		}
		case 'D': o.images_dir = optarg; break;
		case 'R': o.leave_running = true; break;
		case 'd': o.detach = true; break;
		case 'j': o.shell_job = true; break;
		case 'v': o.verbosity++; break;
		case 'o': o.log_file = optarg; break;
		case OPT_PID_WAIT: o.pid_wait_ms = atoi(optarg); break;
		case OPT_JSON: json = true; break;
		case OPT_GHOST_LIMIT: {
			long long v = parse_size(optarg);
			if (v <= 0) {
				fprintf(stderr, "crest: --ghost-limit needs a size like 64M or 1G, got '%s'\n",
					optarg);
				return 2;
			}
			o.ghost_limit = (unsigned long long)v;
			break;
		}
		case OPT_LINK_REMAP: o.link_remap = true; break;
		case OPT_PIDFILE: o.pidfile = optarg; break;
		case OPT_PREV: o.prev_images_dir = optarg; break;
		case OPT_TRACK_MEM: o.track_mem = true; break;
		case OPT_COMPRESS: o.compress = true; break;
		case OPT_TRACK_TIMEOUT: {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v <= 0 || v > 86400 * 365) {
				fprintf(stderr, "crest: --track-timeout needs seconds, got '%s'\n", optarg);
				return 2;
			}
			o.track_timeout = (unsigned)v;
			break;
		}
		case OPT_TCP_ESTABLISHED: o.tcp_established = true; break;
		case OPT_EXTERNAL: {
			const char **n = realloc(ext, (o.n_external + 1) * sizeof(*n));
			if (!n)
				return 1;
			ext = n;
			ext[o.n_external++] = optarg;
			o.external = ext;
			break;
		}
		case OPT_ROOT: o.root = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: return bad_usage(usage);
		}
	}
	if (o.verbosity > CREST_LOG_DEBUG)
		o.verbosity = CREST_LOG_DEBUG;

	if (!strcmp(cmd, "dump")) {
		if (!o.pid || !o.images_dir || optind != argc)
			return bad_usage(usage);
		catch_cancel(&o);
		r = crest_dump(&o);
		if (r < 0)
			return 1;
		if (o.verbosity >= CREST_LOG_INFO || o.leave_running)
			fprintf(stderr, "crest: pid %d dumped to %s%s\n", o.pid, o.images_dir,
				o.leave_running ? " (left running)" : "");
		return 0;
	}
	if (!strcmp(cmd, "pre-dump")) {
		if (!o.pid || !o.images_dir || optind != argc)
			return bad_usage(usage);
		catch_cancel(&o);
		r = crest_pre_dump(&o);
		if (r < 0)
			return 1;
		if (o.verbosity >= CREST_LOG_INFO)
			fprintf(stderr, "crest: memory of pid %d pre-dumped to %s\n", o.pid, o.images_dir);
		return 0;
	}
	if (!strcmp(cmd, "restore")) {
		pid_t root;
		int status = 0;
		if (!o.images_dir || optind != argc)
			return bad_usage(usage);
		catch_cancel(&o);
		r = crest_restore(&o, &root);
		default_signals();
		if (r < 0)
			return 1;
		if (o.detach) {
			if (o.verbosity >= CREST_LOG_INFO)
				fprintf(stderr, "crest: pid %d restored\n", root);
			return 0;
		}
		if (crest_restore_wait(root, &status) < 0)
			return 1;
		return status;
	}
	if (!strcmp(cmd, "show")) {
		if (optind == argc - 1 && !o.images_dir)
			o.images_dir = argv[optind];
		else if (optind != argc || !o.images_dir)
			return bad_usage(usage);
		r = crest_show(o.images_dir, json, stdout);
		return r < 0 ? 1 : 0;
	}
	if (!strcmp(cmd, "gc")) {
		if (!o.images_dir || optind != argc)
			return bad_usage(usage);
		r = crest_gc(&o);
		return r < 0 ? 1 : 0;
	}
	if (optind != argc)
		return bad_usage(usage);
	r = crest_check(&o, stdout);
	return r < 0 ? 1 : 0;
}
