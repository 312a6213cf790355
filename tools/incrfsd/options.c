// SPDX-License-Identifier: GPL-2.0-only
/*
 * options.c - incrfsd's command line: --help text, parsing, validation.
 *
 * Why this exists: see options.h.  The help text is the manual page.
 */
#include "options.h"
#include "node_msg.h"
#include "number.h"
#include "version.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void incrfsd_help(FILE *f)
{
	fputs(
"NAME\n"
"    incrfsd - fill the missing blocks of an incrfs mount from its blob\n"
"\n"
"SYNOPSIS\n"
"    incrfsd [OPTIONS] --source BLOB MOUNTPOINT\n"
"    incrfsd --node [--socket PATH] [--state-dir DIR] [--memory-max SIZE]\n"
"            [NETWORK OPTIONS] [-v]\n"
"\n"
"DESCRIPTION\n"
"    An incrfs image may be mounted with some or all of its data blocks\n"
"    missing.  A task that reads a missing block waits until the block is\n"
"    filled, it is killed, or the mount's timeout expires.  incrfsd is the\n"
"    feeder that fills them: it opens the mount's control channel, learns\n"
"    of every read that waits, fetches the blob chunk holding the block,\n"
"    decompresses it (zstd) and hands all of the chunk's blocks to the\n"
"    kernel, which checks each block's SHA-256 before accepting it.\n"
"\n"
"    BLOB is the blob written by incrfs-pack --blob together with the\n"
"    image, one of:\n"
"        PATH, file://PATH     a local file (read with io_uring, or\n"
"                              pread() where io_uring is not allowed)\n"
"        http://HOST[:PORT]/PATH, https://...\n"
"                              a web server that answers Range requests\n"
"        registry://HOST[:PORT]/REPO@sha256:HEX\n"
"                              a blob in an OCI registry, read through\n"
"                              the registry HTTP API v2 at\n"
"                              https://HOST[:PORT]/v2/REPO/blobs/sha256:HEX\n"
"                              (redirects followed; plain http only with\n"
"                              --insecure-registry)\n"
"    Over HTTP, up to min(--depth, 6) requests are in flight at once, each\n"
"    on a connection of its own (kept alive if the server allows).  A\n"
"    request carries the most urgent chunk queued and every queued chunk\n"
"    next to it in the blob (one Range, up to 8 MiB); each chunk is used\n"
"    as soon as its own bytes are in.  Chunks readers wait for go before\n"
"    all others, and one connection is kept free for them while a profile\n"
"    or read-ahead is fetched; they go on the connection used last, whose\n"
"    TCP window is still open (a server's TCP shrinks the window of a\n"
"    connection idle for a while), background reads on the one idle\n"
"    longest.  A server that is down, slow or answers 5xx is\n"
"    retried with backoff (0.1 s up to 5 s) for as long as the fetch is\n"
"    wanted, so waiting readers keep waiting, up to the mount's timeout,\n"
"    until it is back; a 4xx or an answer that is not the asked range\n"
"    fails the chunk.  At start-up incrfsd gives up after 4 attempts.\n"
"    Where a server redirects a read (registries send blob reads to a\n"
"    storage URL), the following reads go to that URL directly, one\n"
"    request instead of two, for up to a minute or until it fails (a\n"
"    signed URL that expired); then the server is asked again.\n"
"    HTTP needs libcurl (libcurl.so.4), loaded only when such a source is\n"
"    opened.\n"
"\n"
"    A registry that answers 401 gets what it asks for, as the OCI\n"
"    distribution spec says: for \"WWW-Authenticate: Bearer realm=...\"\n"
"    incrfsd fetches a token from the realm (anonymously, as public\n"
"    registries allow, or with the user's credentials) and sends it with\n"
"    every request, fetching a new one when a 401 comes back (it expired);\n"
"    for \"Basic\" it sends the credentials themselves.  The credentials\n"
"    are never sent to a host a redirect leads to, never logged, and never\n"
"    taken from the command line (a location with USER:PASSWORD@ is\n"
"    refused, without repeating it): see ENVIRONMENT.  Redirects go to\n"
"    http(s) only, and from an https registry to https only.  Missing or\n"
"    refused credentials fail at start-up (exit status 1) with a message\n"
"    that names the host and the files looked at.\n"
"\n"
"    Before serving, incrfsd checks that the blob's root hash and block\n"
"    count equal the mounted image's and refuses to run otherwise (exit\n"
"    status 3).\n"
"\n"
"    Order of work: chunks that readers wait for come first, oldest first;\n"
"    then the chunks of the --prefetch-profile, in its order; then the\n"
"    read-ahead window behind each waiting read that continues a stream\n"
"    (--readahead); then chunks the kernel's readahead announced; and\n"
"    with --prefetch all, every other chunk last, at idle priority.  Chunks\n"
"    already present are never fetched again.  Reads of a local blob go\n"
"    through io_uring, up to --depth at a time.  Within a chunk the blocks\n"
"    readers wait for are filled first, and (except for the chunks of a\n"
"    profile) when another reader starts to wait the kernel hands the rest\n"
"    of the chunk back; incrfsd keeps it (up to 256 chunks or 16 MiB) and\n"
"    fills it before any other work but a chunk a reader waits for, at\n"
"    once if a reader waits in it.  For a random access (a wait that\n"
"    continues no stream and that the kernel's readahead did not announce,\n"
"    e.g. in a file opened with POSIX_FADV_RANDOM) only the waited blocks\n"
"    are filled at once, and the rest of the chunk once no reader has\n"
"    started to wait for 1 ms: the next reader finds incrfsd idle.\n"
"\n"
"    Only one feeder can serve a mount at a time.  If incrfsd dies, even by\n"
"    SIGKILL, waiting readers keep waiting (until their timeout), and a new\n"
"    incrfsd serves them: the kernel hands it every read still waiting.\n"
"    incrfsd needs CAP_SYS_ADMIN in the mount's user namespace.\n"
"\n"
"NODE MODE\n"
"    incrfsd --node serves any number of mounts from one process, as a\n"
"    container host with hundreds of layers needs.  Mounts are attached\n"
"    and detached while it runs with incrfsctl attach and detach, which\n"
"    talk to it through the unix socket --socket; incrfsctl feeders lists\n"
"    them.  incrfsctl opens each mount's control channel (it needs\n"
"    CAP_SYS_ADMIN for that) and hands it over, so the daemon runs with no\n"
"    capability at all from its start.  Each mount has its own source and\n"
"    options, given to incrfsctl attach: any of the options of one mount\n"
"    above (-s, -r, -p, -P, -x, -A, -m, -d, -S, -T).  The network options\n"
"    (-C, -I, -M) and -v are the node's, given here.  Credentials are\n"
"    looked up per registry host as above.  A mount is served by a thread\n"
"    of its own; while readers of any mount wait, no mount starts\n"
"    background work (profiles, read-ahead windows, hints, prefetching\n"
"    all), so a layer's bulk fill never delays another layer's reader.  A\n"
"    mount that goes away (umount) or completes with -x is dropped.\n"
"\n"
"    The node keeps the list of its mounts in DIR/mounts.json.  Started\n"
"    again after it stopped or died (even by SIGKILL), incrfsd --node\n"
"    serves every mount of that list again: with the control fds systemd\n"
"    kept for it (it stores each one with FDSTORE=1 when $NOTIFY_SOCKET\n"
"    is set; the unit needs FileDescriptorStoreMax=), or else by opening\n"
"    them itself, which needs CAP_SYS_ADMIN at its start.  Readers that\n"
"    waited meanwhile are served then, none lost: the kernel hands the new\n"
"    daemon every read still waiting.\n"
"\n"
"    Node options:\n"
"    --node\n"
"        Run as the node's feeder (no BLOB, no MOUNTPOINT).\n"
"    --socket PATH\n"
"        The unix socket to listen on (default " INCRFS_NODE_SOCKET ",\n"
"        created mode 0600; its directory is created if missing).  Only\n"
"        root and incrfsd's own user are answered.\n"
"    --state-dir DIR\n"
"        Where mounts.json lives (default " INCRFSD_NODE_STATE_DIR ").\n"
"    --memory-max SIZE\n"
"        The memory all mounts' chunk buffers may take together (K, M, G\n"
"        suffixes; default 1G).  Each mount takes its read buffers and up\n"
"        to 16 MiB of unfinished chunks, fewer when the budget runs short;\n"
"        a mount that cannot get its read buffers is refused.\n"
"\n"
"OPTIONS\n"
"    -s, --source BLOB\n"
"        The blob to fill from (required).\n"
"\n"
"    -r, --readahead N\n"
"        After a chunk a reader waits for, also fetch the next N chunks\n"
"        (default 4, 0 to 4096): sequential readers then seldom wait.\n"
"        Only when the wait continues a stream, i.e. the chunk before it is\n"
"        present or being fetched for a reader (not only for a readahead\n"
"        hint, which a page fault's read-around gives on both sides); a\n"
"        random access (a page fault in a mapped library) gets no window.\n"
"\n"
"    -p, --prefetch MODE\n"
"        none (default): fetch only what is read or read-ahead.\n"
"        all: once no reader waits, fill every remaining chunk, roughly in\n"
"        order, in two background threads at idle CPU and I/O priority (one\n"
"        decodes while the kernel checks what the other handed in), until\n"
"        the image is complete; readers that wait always go first.  A\n"
"        complete image stays complete across remounts and needs no\n"
"        feeder.\n"
"\n"
"    -P, --prefetch-profile FILE\n"
"        Fetch the blocks of the access profile FILE first, in its order,\n"
"        before anybody reads them: written by incrfsctl profile record on\n"
"        a mount of the same image made with -o access_log, while the app\n"
"        started.  Readers that wait still go first, and one chunk read of\n"
"        the --depth is kept free for them while the profile is fetched.\n"
"        A profile recorded for another image (its root hash differs) is\n"
"        refused (exit status 3); a malformed one, or one with blocks\n"
"        beyond the image, too (exit status 1).  Combines with --prefetch\n"
"        all, which then fills the rest after the profile.\n"
"\n"
"    -x, --exit-when-complete\n"
"        Exit (status 0) as soon as every block of the image is present,\n"
"        also at start-up.  Without it incrfsd keeps running until it is\n"
"        stopped or the mount goes away.\n"
"\n"
"    -A, --amplify SIZE\n"
"        With a chunk a reader waits for, also fetch the missing chunks\n"
"        that follow it in the blob, up to SIZE compressed bytes (K and M\n"
"        suffixes: KiB, MiB; at most 64M), in the same request: an image's\n"
"        neighbouring files are often read together, and over a network a\n"
"        request costs a round trip whatever its size.  Default 256K over\n"
"        HTTP, 0 (off) for a local file.\n"
"\n"
"    -m, --mapped MODE\n"
"        What a page fault on a missing block of a mapped file (a program,\n"
"        a shared library) fetches: \"whole\", the whole file (the kernel\n"
"        hints files of up to 16 MiB at their first such fault), behind\n"
"        the blocks readers wait for, or \"faulted\", only what the faults\n"
"        touch.  A program faults its code in a page here, a page there,\n"
"        each fault one round trip over a network.  Default whole over\n"
"        HTTP, faulted for a local file.\n"
"\n"
"    -d, --depth N\n"
"        Blob chunk reads in flight at once, 1 to 256 (default 8 for a\n"
"        local file, 32 over HTTP).  Over HTTP they share at most 6\n"
"        connections, and reads queued together that are neighbours in\n"
"        the blob go out as one request.\n"
"\n"
"    -C, --ca-file FILE\n"
"        Verify https servers and registries against the CA certificates\n"
"        in the PEM file FILE instead of the system's store\n"
"        (/etc/ssl/certs): a registry with a certificate of its own CA.\n"
"        A server whose certificate does not verify fails at once, with\n"
"        no retry.\n"
"\n"
"    -I, --insecure-registry HOST[:PORT]\n"
"        Talk plain http to the registry HOST[:PORT] (exactly as written\n"
"        in registry:// references; the name docker uses), instead of\n"
"        https.  Up to 16 times.  Credentials such a registry asks for\n"
"        cross the network in the clear: keep it to registries on a\n"
"        trusted network.\n"
"\n"
"    -M, --registry-mirror HOST[:PORT]\n"
"        Read registry:// blobs from this mirror (a pull-through cache, a\n"
"        registry of the same content nearer the node) before the\n"
"        registry the reference names: https://HOST[:PORT]/v2/REPO/blobs/\n"
"        DIGEST.  Up to 8 times, tried in the order given; a mirror that\n"
"        does not answer, or lacks the blob, gives way to the next and in\n"
"        the end to the reference's registry, at start-up and while\n"
"        serving (the log says when).  Each gets credentials and https as\n"
"        a registry does (--insecure-registry HOST[:PORT] for plain http).\n"
"        What a mirror serves is checked as any blob is.\n"
"\n"
"    -S, --sync\n"
"        Make every fill durable before it returns (INCRFS_FILL_SYNC).\n"
"        By default the kernel commits filled blocks every 5 seconds and\n"
"        at umount; a crash loses at most those, which are fetched again.\n"
"\n"
"    -T, --stats-file FILE\n"
"        When exiting, write the feeder's counters and where the time of its\n"
"        misses went to FILE as JSON (replaced atomically): opened_ms (start to\n"
"        the source's first answer: its library loaded, a connection made, the\n"
"        blob's size and header read), index_ms (to the blob's index read),\n"
"        ready_ms (to serving), and for every read a reader waited for,\n"
"        \"notify\" (the reader starts to wait -> incrfsd reads its record),\n"
"        \"miss_io\" (the chunk's read starts -> its bytes are in) and\n"
"        \"miss_fill\" (bytes in -> decoded and filled), each as count, total_ms,\n"
"        p50_ms, p90_ms and max_ms; with the mount's own counters\n"
"        (kernel_wait_ms: the time readers waited).  A relative FILE is taken\n"
"        from the directory incrfsd was started in.\n"
"\n"
"    -v, --verbose\n"
"        Log a line per waiting read and per fetched chunk; twice (-vv)\n"
"        also readahead hints and prefetched chunks.\n"
"\n"
"    -h, --help\n"
"        Print this help and exit.\n"
"\n"
"    -V, --version\n"
"        Print the version and exit.\n"
"\n"
"LOG\n"
"    Messages go to standard error, prefixed \"incrfsd: \": the mount and\n"
"    blob at start-up, problems (\"error:\", \"warning:\"), completion, and a\n"
"    summary at exit.  A chunk that cannot be fetched or whose blocks the\n"
"    kernel refuses (SHA-256 mismatch: the blob is corrupt) is logged, the\n"
"    reads waiting for it fail with EIO at once (instead of waiting out\n"
"    the mount's timeout), and it is tried again only when a reader waits\n"
"    for it anew.\n"
"\n"
"PRIVILEGES\n"
"    Opening the control channel needs CAP_SYS_ADMIN.  Once it and the\n"
"    blob are open, incrfsd drops every capability of every thread\n"
"    (bounding set included, where CAP_SETPCAP allows) and sets\n"
"    no_new_privs: nothing it does afterwards needs a privilege, and what\n"
"    it parses from a network then cannot use one.  Files opened later\n"
"    (a local blob again for --prefetch all, an auth file when a registry\n"
"    first asks for credentials after start-up) must be readable by its\n"
"    user without CAP_DAC_OVERRIDE.  If the capabilities cannot be\n"
"    dropped (e.g. a seccomp filter refuses capset), a warning says so\n"
"    and incrfsd serves on.\n"
"\n"
"    Then a seccomp filter on every thread refuses what a feeder never\n"
"    does (EPERM): running programs (execve), tracing or reading other\n"
"    processes, namespaces and mounts, bpf, userfaultfd, perf events,\n"
"    keyrings, module and kexec loading; clone3 gets ENOSYS (the C\n"
"    library then uses clone, whose namespace flags are refused).  On a\n"
"    kernel without seccomp the log says so once.\n"
"\n"
"ENVIRONMENT\n"
"    Registry credentials come from the auth files docker login and\n"
"    podman login write, the first that has an entry for the registry's\n"
"    HOST[:PORT] (a key may carry a scheme and a path):\n"
"        $CREDENTIALS_DIRECTORY/registry-auth.json  (systemd LoadCredential=)\n"
"        $REGISTRY_AUTH_FILE\n"
"        $XDG_RUNTIME_DIR/containers/auth.json      (podman)\n"
"        $HOME/.docker/config.json                  (docker)\n"
"    as {\"auths\": {\"HOST[:PORT]\": {\"auth\": \"BASE64(user:password)\"}}}\n"
"    or with \"identitytoken\" (an OAuth2 refresh token) instead of \"auth\".\n"
"    Credential helpers (\"credsStore\") are not run.\n"
"    http_proxy, https_proxy (or HTTPS_PROXY), no_proxy (or NO_PROXY):\n"
"    every connection of an http://, https:// or registry:// source goes\n"
"    through that proxy, as with curl(1) (a registry's blob reads too: a\n"
"    caching or P2P distribution proxy can sit in front of a registry),\n"
"    except to the hosts no_proxy lists.\n"
"    NOTIFY_SOCKET (set by systemd for Type=notify): once the mount is\n"
"    served, incrfsd sends READY=1 and a STATUS= line there.\n"
"\n"
"SIGNALS\n"
"    SIGTERM, SIGINT, SIGHUP\n"
"        Stop cleanly: abandon the fetches in flight, close the control\n"
"        channel, exit 0.  Readers still waiting wait for the next feeder.\n"
"        Before incrfsd serves (a server that does not answer can hold the\n"
"        start-up for minutes), they end it at once, as any program.\n"
"\n"
"EXIT STATUS\n"
"    0   stopped by a signal, the mount went away (umount), or the image\n"
"        is complete and --exit-when-complete was given\n"
"    1   an error: the mount or blob cannot be opened, the control channel\n"
"        is refused (EPERM: not privileged; EBUSY: another feeder runs),\n"
"        the blob or the profile is malformed, or an unexpected system\n"
"        error\n"
"    2   a bad command line\n"
"    3   the blob or the profile does not belong to the mounted image (root\n"
"        hash or block count differ)\n"
"\n"
"EXAMPLES\n"
"    incrfs-pack rootfs/ app.img --blob app.blob\n"
"    mount -t incrfs -o timeout=30000 $PWD/app.img /mnt/app\n"
"    incrfsd --source app.blob /mnt/app &\n"
"    incrfsd -v --prefetch all --exit-when-complete -s app.blob /mnt/app\n"
"    incrfsd --source http://127.0.0.1:8080/layers/app.blob /mnt/app\n"
"    incrfsd --source registry://registry.example/apps/web@sha256:HEX /mnt/app\n"
"    incrfsd --insecure-registry 127.0.0.1:5000 \\\n"
"            --source registry://127.0.0.1:5000/apps/web@sha256:HEX /mnt/app\n"
"    incrfsd --prefetch-profile app.profile --source app.blob /mnt/app\n"
"    incrfsd --node --insecure-registry 127.0.0.1:5000 &\n"
"    incrfsctl attach /mnt/app --source http://10.0.0.1/app.blob\n"
"\n"
"SEE ALSO\n"
"    incrfsctl(8) status, profile, attach, detach, feeders;\n"
"    incrfs-pack(1), incrfs(5),\n"
"    Documentation/filesystems/incrfs.rst\n",
	      f);
}

/* A decimal in [min, max], nothing else. */
static int parse_uint(const char *s, unsigned int min, unsigned int max,
		      unsigned int *out)
{
	uint64_t v;

	if (incrfs_parse_u64(s, max, &v) || v < min)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

static int usage_error(FILE *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_error(FILE *err, const char *fmt, ...)
{
	va_list ap;

	fputs("incrfsd: ", err);
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fputs("\nTry 'incrfsd --help' for more information.\n", err);
	return -1;
}

/* The long name (without "--") of the option whose getopt value is @c. */
static const char *long_name(const struct option *opts, int c)
{
	for (; opts->name; opts++)
		if (opts->val == c)
			return opts->name;
	return "?";
}

int incrfsd_parse_options(struct incrfsd_options *o, int argc,
			  char *const argv[], FILE *out, FILE *err)
{
	static const struct option longopts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "readahead", required_argument, NULL, 'r' },
		{ "prefetch", required_argument, NULL, 'p' },
		{ "prefetch-profile", required_argument, NULL, 'P' },
		{ "exit-when-complete", no_argument, NULL, 'x' },
		{ "depth", required_argument, NULL, 'd' },
		{ "amplify", required_argument, NULL, 'A' },
		{ "mapped", required_argument, NULL, 'm' },
		{ "sync", no_argument, NULL, 'S' },
		{ "ca-file", required_argument, NULL, 'C' },
		{ "insecure-registry", required_argument, NULL, 'I' },
		{ "registry-mirror", required_argument, NULL, 'M' },
		{ "stats-file", required_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "node", no_argument, NULL, 'N' },
		{ "socket", required_argument, NULL, 'K' },
		{ "state-dir", required_argument, NULL, 'D' },
		{ "memory-max", required_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 }
	};
	const char *node_only = NULL;
	int c;

	memset(o, 0, sizeof(*o));
	o->readahead = INCRFSD_DEFAULT_READAHEAD;
	o->depth = 0;	/* the source kind's default */
	o->amplify = INCRFSD_AMPLIFY_DEFAULT;
	o->prefetch = PREFETCH_NONE;
	o->mapped = MAPPED_DEFAULT;
	o->socket = INCRFS_NODE_SOCKET;
	o->state_dir = INCRFSD_NODE_STATE_DIR;
	o->memory_max = INCRFSD_NODE_MEMORY_DEFAULT;
	optind = 0;	/* glibc: rescan from scratch (tests parse repeatedly) */
	opterr = 0;	/* our own messages */
	while ((c = getopt_long(argc, argv, ":s:r:p:P:xd:A:m:SC:I:M:T:vhV",
				longopts, NULL)) != -1) {
		if (strchr("srpPxdAmST", c) && !o->mount_opt)
			o->mount_opt = long_name(longopts, c);
		if (strchr("CIMvNKDB", c) && !o->node_opt)
			o->node_opt = long_name(longopts, c);
		if (strchr("KDB", c) && !node_only)
			node_only = long_name(longopts, c);
		switch (c) {
		case 'N':
			o->node = true;
			break;
		case 'K':
			if (!*optarg)
				return usage_error(err, "--socket needs a path");
			o->socket = optarg;
			break;
		case 'D':
			if (!*optarg)
				return usage_error(err,
					"--state-dir needs a directory");
			o->state_dir = optarg;
			break;
		case 'B':
			if (incrfs_parse_size(optarg, UINT64_MAX, &o->memory_max) ||
			    !o->memory_max)
				return usage_error(err,
					"--memory-max: '%s' is not a size above 0 (a number of bytes, or with K, M or G)",
					optarg);
			break;
		case 's':
			if (!*optarg)
				return usage_error(err, "--source needs a blob");
			o->source = optarg;
			break;
		case 'r':
			if (parse_uint(optarg, 0, INCRFSD_MAX_READAHEAD,
				       &o->readahead))
				return usage_error(err,
					"--readahead: '%s' is not a number of chunks from 0 to 4096",
					optarg);
			break;
		case 'p':
			if (!strcmp(optarg, "none"))
				o->prefetch = PREFETCH_NONE;
			else if (!strcmp(optarg, "all"))
				o->prefetch = PREFETCH_ALL;
			else
				return usage_error(err,
					"--prefetch: '%s' is not 'none' or 'all'",
					optarg);
			break;
		case 'P':
			if (!*optarg)
				return usage_error(err,
					"--prefetch-profile needs a file");
			o->profile = optarg;
			break;
		case 'x':
			o->exit_when_complete = true;
			break;
		case 'd':
			if (parse_uint(optarg, 1, INCRFSD_MAX_DEPTH, &o->depth))
				return usage_error(err,
					"--depth: '%s' is not a number from 1 to 256",
					optarg);
			break;
		case 'A':
			if (incrfs_parse_size(optarg, INCRFSD_MAX_AMPLIFY, &o->amplify))
				return usage_error(err,
					"--amplify: '%s' is not a size from 0 to 64M (a number of bytes, or with K or M)",
					optarg);
			break;
		case 'S':
			o->sync = true;
			break;
		case 'C':
			if (!*optarg)
				return usage_error(err, "--ca-file needs a file");
			o->ca_file = optarg;
			break;
		case 'I':
			if (!*optarg || strpbrk(optarg, "/@ "))
				return usage_error(err,
					"--insecure-registry: '%s' is not HOST[:PORT]",
					optarg);
			if (o->n_insecure == INCRFSD_MAX_INSECURE)
				return usage_error(err,
					"--insecure-registry: more than %d",
					INCRFSD_MAX_INSECURE);
			o->insecure[o->n_insecure++] = optarg;
			break;
		case 'M':
			if (!*optarg || strpbrk(optarg, "/@ "))
				return usage_error(err,
					"--registry-mirror: '%s' is not HOST[:PORT]",
					optarg);
			if (o->n_mirrors == INCRFSD_MAX_MIRRORS)
				return usage_error(err,
					"--registry-mirror: more than %d",
					INCRFSD_MAX_MIRRORS);
			o->mirrors[o->n_mirrors++] = optarg;
			break;
		case 'm':
			if (!strcmp(optarg, "whole"))
				o->mapped = MAPPED_WHOLE;
			else if (!strcmp(optarg, "faulted"))
				o->mapped = MAPPED_FAULTED;
			else
				return usage_error(err,
					"--mapped: '%s' is not 'whole' or 'faulted'",
					optarg);
			break;
		case 'T':
			if (!*optarg)
				return usage_error(err,
					"--stats-file needs a file");
			o->stats_file = optarg;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			incrfsd_help(out);
			return 1;
		case 'V':
			fputs(INCRFS_VERSION_LINE("incrfsd"), out);
			return 1;
		case ':':
			return usage_error(err, "option '%s' needs an argument",
					   argv[optind - 1]);
		default:
			return usage_error(err, "unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (o->node) {
		if (o->mount_opt)
			return usage_error(err,
				"--%s is an option of one mount: with --node, give it to incrfsctl attach",
				o->mount_opt);
		if (optind < argc)
			return usage_error(err,
				"unexpected argument '%s': with --node, mounts are attached with incrfsctl attach",
				argv[optind]);
		return 0;
	}
	if (node_only)
		return usage_error(err, "--%s needs --node", node_only);
	if (!o->source)
		return usage_error(err, "--source BLOB is required");
	if (optind == argc)
		return usage_error(err, "missing MOUNTPOINT");
	if (optind + 1 < argc)
		return usage_error(err, "unexpected argument '%s'",
				   argv[optind + 1]);
	o->mountpoint = argv[optind];
	return 0;
}
