/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * coldstart.h - a container's cold start from an image's layers over a
 * shaped network, as figure 8 of "make bench" (bench6_network_test.c)
 * measures it and "make demo" (tests/demo) shows it: the layers packed,
 * a server on the guest's loopback (docker-registry, which may send blob
 * reads to nginx as to a CDN; or busybox httpd),
 * netem shaping the link, and one start as each system does it:
 *   pull_start()       fetch every layer's tar.zst at once, check each
 *                      SHA-256, unpack each into its own directory on ext4
 *                      with OCI whiteouts made overlayfs ones, mount the
 *                      overlay, run (docker pull + run, overlay2 driver)
 *   lazy_start()       fetch every incrfs image's metadata at once
 *                      (compressed with zstd, as incrfs-image convert
 *                      stores it), expand each, mount each, one incrfsd
 *                      per layer, mount the overlay, run;
 *                      or (series "lazy-node", "lazy-node+profile") each
 *                      layer attached to the node's incrfsd --node
 *                      (start_node_daemon()), which runs already, as its
 *                      service would
 *   stargz_start()     stargz-snapshotter's own FUSE layer store
 *                      (tests/bench/stargz: stargz-peer) on the image
 *                      converted to eStargz (B_STARGZ), one lazily fetched
 *                      layer per lower directory, verified as it does by
 *                      default; mount the overlay, run
 * and record_profiles(), the access profiles of a start.  The overlay's
 * upper and work directories are on ext4, as a runtime stacks them; the
 * root gets /dev and /proc (b_first_output_of()).
 *
 * The image (B_IMAGE, env): a directory holding layer1..N.tar.zst, the
 * layers in order (debian-image.sh's three Debian layers), packed in the
 * guest; or unset, the one-layer python tree of figure 6 made here.
 * The "local" network profile serves the files as files: no server, cp
 * for a fetch, the blob path as incrfsd's --source.
 *
 * Why this exists: the benchmark and the demo must start the same way,
 * or the demo would show numbers the benchmark never measured.
 * Header-only (static inline): each *_test.c is built alone.
 */
#ifndef INCRFS_COLDSTART_H
#define INCRFS_COLDSTART_H

#include "tests/kselftest/harness.h"
#include "tests/bench/bench.h"
#include "tests/kselftest/registry_push.h"

#include "tests/kselftest/json_number.h"

#define L	B_ROOT "/layer"
#define SRV	L "/srv"
#define PORT	8471
#define HOST	"127.0.0.1:8471"
/* where start_cdn() serves the registry's blobs */
#define CDN_PORT	8472
#define CDN_HOST	"127.0.0.1:8472"
#define NGINX	"/usr/sbin/nginx"
#define REPO	"bench/layer"
#define REGISTRY "/usr/bin/docker-registry"
#define MAX_LAYERS 8
#define NODE_SOCK L "/node.sock"

/*
 * Where a start finds each layer: URLs of the image's metadata and of the
 * tar.zst (for wget), incrfsd's --source of the blob; the same as files
 * in SRV (the "local" profile); the tar.zst's SHA-256 (hex), which the
 * pull checks, and the image's size (the mount needs the whole size, the
 * data region a hole).
 */
static struct layer {
	char meta[256], tar[256], blob[256], tar_sha[72];
	char meta_file[64], tar_file[64], blob_file[64];
	off_t img_size;
} layers[MAX_LAYERS];
static int nlayers;
/* the "local" profile: no server, the files as files */
static bool cs_local;
#define LAYER_AT(ly, f)	(cs_local ? (ly)->f##_file : (ly)->f)

/* Into @buf: a shell command that fetches @from (a URL or a path) to @to. */
static inline void fetch_cmd(char *buf, size_t len, const char *from,
			     const char *to)
{
	/* URLs and paths here are short: at most 300 bytes each */
	if (from[0] == '/')
		snprintf(buf, len, "cp '%.300s' '%.300s'", from, to);
	else
		snprintf(buf, len, "wget -q -O '%.300s' '%.300s'", to, from);
}

/*
 * Into @buf: a shell command that fetches a layer's metadata @from (a URL
 * or a path; compressed, as incrfs-image convert stores it) and expands
 * it into @to.
 */
static inline void fetch_meta_cmd(char *buf, size_t len, const char *from,
				  const char *to)
{
	char get[PATH_MAX + 640], zst[PATH_MAX + 8];

	snprintf(zst, sizeof(zst), "%s.zst", to);
	fetch_cmd(get, sizeof(get), from, zst);
	snprintf(buf, len, "%s && zstd -q -d -f --rm -o '%.300s' '%.300s'",
		 get, to, zst);
}

static const struct workload {
	const char *name, *cmd;
} workloads[] = {
	{ "py", "/usr/bin/" B_PY_CMD },
	{ "app", "/usr/bin/python3 /app/main.py" },
	{ "small", "/bin/sh -c 'grep -r -l -s import "
		   "/usr/lib/python3/dist-packages | wc -l'" },
};

static const struct net_profile {
	const char *name, *netem;
} profiles[] = {
	{ "local", NULL },		/* files, no server */
	{ "lan", "delay 250us rate 1gbit" },
	{ "wan", "delay 10ms rate 100mbit" },
	{ "slow", "delay 20ms rate 10mbit" },
};

/* Bytes that crossed lo so far (each byte once: lo's tx is its rx). */
static inline double lo_bytes(void)
{
	char buf[64] = "";
	int fd = open("/sys/class/net/lo/statistics/tx_bytes", O_RDONLY);

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) < 0)
			buf[0] = 0;
		close(fd);
	}
	return strtod(buf, NULL);
}

/*
 * iproute2's tc, which run-bench.sh stages in B_BIN: the shell would run
 * busybox's tc applet (no netem) for a plain "tc" whatever PATH says.
 */
static char tc[PATH_MAX];

/* Shape lo with @netem, or (NULL) take the shaping away. */
static inline int shape(const char *netem)
{
	char cmd[PATH_MAX + 256];

	if (!netem) {
		snprintf(cmd, sizeof(cmd), "%s qdisc del dev lo root; "
			 "ip link set lo mtu 65536", tc);
		return iu_sh(cmd);
	}
	snprintf(cmd, sizeof(cmd), "ip link set lo mtu 1500 && "
		 "%s qdisc replace dev lo root netem %s limit 1000", tc,
		 netem);
	return iu_sh(cmd);
}

/*
 * Layer @i's files in SRV: the blob, the tar.zst @tar (and its digest,
 * which the pull checks), and the image's metadata, i.e. the image up to
 * its data region, which a lazy start fetches before it mounts.  @packed
 * is the path of the image and blob without their extension (.img, .blob).
 */
static inline int layer_files(int i, const char *packed, const char *tar)
{
	struct layer *ly = &layers[i];
	struct incrfs_super_block sb;
	char cmd[4 * PATH_MAX], meta[PATH_MAX + 8], img[PATH_MAX];
	struct stat zst;
	FILE *f;
	int fd;

	snprintf(cmd, sizeof(cmd),
		 "ln -f %1$s.blob " SRV "/layer%2$d.blob && "
		 "cp %3$s " SRV "/layer%2$d.tar.zst && "
		 "sha256sum " SRV "/layer%2$d.tar.zst | cut -d' ' -f1 > "
		 L "/layer%2$d.sha256", packed, i + 1, tar);
	snprintf(img, sizeof(img), "%s.img", packed);
	snprintf(meta, sizeof(meta), SRV "/layer%d.meta", i + 1);
	if (iu_sh(cmd) || b_fresh_image(img, meta))
		return -1;
	snprintf(cmd, sizeof(cmd), L "/layer%d.sha256", i + 1);
	f = fopen(cmd, "r");
	if (!f || fscanf(f, "%64s", ly->tar_sha) != 1) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	fd = open(meta, O_RDWR);
	if (fd < 0 || pread(fd, &sb, sizeof(sb), 0) != sizeof(sb) ||
	    ftruncate(fd, le64toh(sb.s_data_off))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	/* compressed as incrfs-image convert stores it (head_zstd.c) */
	snprintf(cmd, sizeof(cmd), "zstd -q -f -9 -o %1$s.zst %1$s", meta);
	if (iu_sh(cmd) || stat(strcat(meta, ".zst"), &zst))
		return -1;
	ly->img_size = le64toh(sb.s_image_size);
	snprintf(ly->meta_file, sizeof(ly->meta_file),
		 SRV "/layer%d.meta.zst", i + 1);
	snprintf(ly->tar_file, sizeof(ly->tar_file), SRV "/layer%d.tar.zst",
		 i + 1);
	snprintf(ly->blob_file, sizeof(ly->blob_file), SRV "/layer%d.blob",
		 i + 1);
	B_INFO("network: layer %d: metadata %.2f MiB (%.2f MiB with zstd) of a %.1f MiB image",
	       i + 1, le64toh(sb.s_data_off) / 1048576.0,
	       zst.st_size / 1048576.0, ly->img_size / 1048576.0);
	return 0;
}

/*
 * The image's layers into SRV: B_IMAGE's tar.zst files, packed here with
 * incrfs-pack --from-tar, or the python tree of figure 6 made here.  Sets
 * nlayers.
 */
static inline int image_files(void)
{
	const char *image = getenv("B_IMAGE");
	char tar[PATH_MAX], packed[PATH_MAX], cmd[4 * PATH_MAX];
	double t0;
	int i;

	if (iu_sh("rm -rf " SRV " && mkdir -p " SRV))
		return -1;
	if (!image || !*image) {
		nlayers = 1;
		B_INFO("network: image: the python tree of figure 6, 1 layer");
		return b_python_layer(L) ||
		       layer_files(0, L "/layer", L "/layer.tar.zst");
	}
	for (i = 0; i < MAX_LAYERS; i++) {
		snprintf(tar, sizeof(tar), "%s/layer%d.tar.zst", image, i + 1);
		if (access(tar, F_OK))
			break;
		snprintf(packed, sizeof(packed), L "/layer%d", i + 1);
		snprintf(cmd, sizeof(cmd), "incrfs-pack --from-tar %s %s.img "
			 "--blob %s.blob >/dev/null", tar, packed, packed);
		t0 = b_now();
		if (iu_sh(cmd) || layer_files(i, packed, tar))
			return -1;
		B_INFO("network: layer %d: packed in %.1f s", i + 1,
		       b_now() - t0);
	}
	nlayers = i;
	B_INFO("network: image: %s, %d layers", image, nlayers);
	return nlayers ? 0 : -1;
}

/* Is the server on @port up?  It answers a GET of @path with 200. */
static inline int wait_answer(pid_t pid, int port, const char *path)
{
	char resp[1024];
	int i;

	for (i = 0; pid > 0 && i < 1500; i++) {	/* 30 s: TCG is slow */
		if (rp_request(port, "GET", path, NULL, 0, resp,
			       sizeof(resp)) == 200)
			return 0;
		usleep(20000);
	}
	return -1;
}

static inline pid_t start_httpd(void)
{
	const char *argv[] = { "busybox", "httpd", "-f", "-p", HOST, "-h",
			       SRV, NULL };
	pid_t pid = b_spawn("/tmp/bench6-httpd.log", argv);
	int i;

	if (wait_answer(pid, PORT, "/layer1.meta")) {
		if (pid > 0)
			b_stop(pid);
		return -1;
	}
	for (i = 0; i < nlayers; i++) {
		struct layer *ly = &layers[i];

		snprintf(ly->meta, sizeof(ly->meta),
			 "http://" HOST "/layer%d.meta.zst", i + 1);
		snprintf(ly->tar, sizeof(ly->tar),
			 "http://" HOST "/layer%d.tar.zst", i + 1);
		snprintf(ly->blob, sizeof(ly->blob),
			 "http://" HOST "/layer%d.blob", i + 1);
	}
	return pid;
}

/* Push the file @name of SRV to the registry; its digest into @digest. */
static inline int push(const char *name, char digest[72])
{
	char path[PATH_MAX], why[512];
	unsigned char *blob;
	size_t len;
	int ret;

	snprintf(path, sizeof(path), SRV "/%s", name);
	blob = iu_slurp(path, &len);
	if (!blob)
		return -1;
	ret = rp_push_blob(PORT, REPO, blob, len, digest, why, sizeof(why));
	free(blob);
	if (ret)
		B_INFO("network: pushing %s failed: %s", name, why);
	return ret;
}

/* Push layer @i's three files; their URLs into layers[@i]. */
static inline int push_layer(int i)
{
	struct layer *ly = &layers[i];
	char name[64], meta[72], tar[72], blob[72];

	snprintf(name, sizeof(name), "layer%d.meta.zst", i + 1);
	if (push(name, meta))
		return -1;
	snprintf(name, sizeof(name), "layer%d.tar.zst", i + 1);
	if (push(name, tar))
		return -1;
	snprintf(name, sizeof(name), "layer%d.blob", i + 1);
	if (push(name, blob))
		return -1;
	snprintf(ly->meta, sizeof(ly->meta),
		 "http://" HOST "/v2/" REPO "/blobs/%s", meta);
	snprintf(ly->tar, sizeof(ly->tar),
		 "http://" HOST "/v2/" REPO "/blobs/%s", tar);
	snprintf(ly->blob, sizeof(ly->blob), "registry://" HOST "/" REPO "@%s",
		 blob);
	return 0;
}

/*
 * docker-registry on HOST; with @cdn, it answers a blob read with a
 * redirect to CDN_HOST (its "redirect" storage middleware), where
 * start_cdn()'s nginx serves its storage directory: a registry in front
 * of object storage and a CDN, as public registries run.
 */
static inline pid_t start_registry(bool cdn)
{
	static const char config[] =
		"version: 0.1\n"
		"log:\n"
		"  level: warn\n"
		"storage:\n"
		"  filesystem:\n"
		"    rootdirectory: " L "/registry\n"
		"http:\n"
		"  addr: " HOST "\n";
	static const char redirect[] =
		"middleware:\n"
		"  storage:\n"
		"    - name: redirect\n"
		"      options:\n"
		"        baseurl: http://" CDN_HOST "/\n";
	const char *argv[] = { REGISTRY, "serve", L "/registry.yml", NULL };
	char yml[sizeof(config) + sizeof(redirect)];
	pid_t pid;
	int i;

	snprintf(yml, sizeof(yml), "%s%s", config, cdn ? redirect : "");
	if (iu_sh("rm -rf " L "/registry") ||
	    iu_write_file(L "/registry.yml", yml, strlen(yml), 0644))
		return -1;
	pid = b_spawn("/tmp/bench6-registry.log", argv);
	if (wait_answer(pid, PORT, "/v2/"))
		goto fail;
	for (i = 0; i < nlayers; i++)
		if (push_layer(i))
			goto fail;
	return pid;
fail:
	if (pid > 0)
		b_stop(pid);
	return -1;
}

/*
 * The CDN of start_registry(true): nginx serving the registry's storage
 * directory on CDN_HOST, connections kept alive, in one process (no
 * master) so that its CPU time is its pid's.  Its pid once it answers, or
 * -1.
 */
static inline pid_t start_cdn(void)
{
	static const char config[] =
		"daemon off;\n"
		"master_process off;\n"
		"worker_processes 1;\n"
		"pid " L "/nginx.pid;\n"
		"error_log stderr warn;\n"
		"events { worker_connections 1024; }\n"
		"http {\n"
		"  access_log off;\n"
		"  sendfile on;\n"
		"  keepalive_timeout 120s;\n"
		"  keepalive_requests 100000;\n"
		"  client_body_temp_path " L "/nginx/body;\n"
		"  proxy_temp_path " L "/nginx/proxy;\n"
		"  fastcgi_temp_path " L "/nginx/fastcgi;\n"
		"  uwsgi_temp_path " L "/nginx/uwsgi;\n"
		"  scgi_temp_path " L "/nginx/scgi;\n"
		"  server {\n"
		"    listen " CDN_HOST ";\n"
		"    root " L "/registry;\n"
		"    location = /ready { return 200; }\n"
		"  }\n"
		"}\n";
	const char *argv[] = { NGINX, "-e", "stderr", "-c", L "/nginx.conf",
			       "-p", L "/nginx", NULL };
	pid_t pid;

	if (iu_sh("mkdir -p " L "/nginx") ||
	    iu_write_file(L "/nginx.conf", config, sizeof(config) - 1, 0644))
		return -1;
	pid = b_spawn("/tmp/bench6-nginx.log", argv);
	if (wait_answer(pid, CDN_PORT, "/ready")) {
		if (pid > 0)
			b_stop(pid);
		return -1;
	}
	return pid;
}

/*
 * docker-registry, with start_cdn()'s nginx behind it if @cdn: the
 * registry's pid and nginx's in *@cdn_pid (-1 without), or -1 and what
 * failed in *@why.
 */
static inline pid_t start_servers(bool cdn, pid_t *cdn_pid, const char **why)
{
	pid_t pid;

	*cdn_pid = -1;
	if (access(REGISTRY, X_OK) || (cdn && access(NGINX, X_OK))) {
		*why = cdn ? REGISTRY " or " NGINX " is missing (make deps)" :
			     REGISTRY " is missing (make deps)";
		return -1;
	}
	if (cdn) {
		*cdn_pid = start_cdn();
		if (*cdn_pid <= 0) {
			*why = "nginx did not start";
			return -1;
		}
	}
	pid = start_registry(cdn);
	if (pid <= 0) {
		*why = "docker-registry did not start";
		if (*cdn_pid > 0)
			b_stop(*cdn_pid);
		*cdn_pid = -1;
	}
	return pid;
}

/*
 * incrfsd --node for the "lazy-node" series, started once before any
 * start (a node's service runs before its first container): its pid once
 * it answers, or -1.
 */
static inline pid_t start_node_daemon(void)
{
	const char *argv[] = { "incrfsd", "--node", "--socket", NODE_SOCK,
			       "--state-dir", L "/node-state",
			       "--insecure-registry", HOST, NULL };
	pid_t pid;
	int ms;

	iu_sh("rm -rf " L "/node-state " NODE_SOCK);
	pid = b_spawn("/tmp/bench6-node.log", argv);
	for (ms = 0; pid > 0 && ms < 20000; ms += 50) {
		if (!iu_sh("incrfsctl feeders --socket " NODE_SOCK
			   " >/dev/null 2>&1"))
			return pid;
		usleep(50 * 1000);
	}
	iu_sh("tail -n 20 /tmp/bench6-node.log | sed 's/^/# incrfsd --node: /'");
	if (pid > 0)
		b_stop(pid);
	return -1;
}

/*
 * Push the OCI layout @dir (one image, as incrfs-image convert or
 * stargz-peer convert wrote it) to the registry as @repo:app.  0 or -1.
 */
static inline int push_layout(const char *dir, const char *repo)
{
	char why[512] = "";
	int ret = rp_push_layout(PORT, dir, repo, "app", why, sizeof(why));

	if (ret)
		B_INFO("network: pushing %s failed: %s", dir, why);
	return ret;
}

/*
 * Mount the overlayfs of @lower (lowerdir=, topmost first) on L/root,
 * with a fresh upper and work directory on the scratch ext4.
 */
static inline int mount_root(const char *lower)
{
	char opts[PATH_MAX * MAX_LAYERS];

	if (iu_sh("rm -rf " L "/upper " L "/work && mkdir -p " L "/upper "
		  L "/work " L "/root"))
		return -1;
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=" L "/upper,"
		 "workdir=" L "/work", lower);
	if (mount("overlay", L "/root", "overlay", 0, opts)) {
		printf("# overlay %s: %s\n", opts, strerror(errno));
		return -1;
	}
	return 0;
}

/* The lowerdir= list of the layers' directories @fmt % 1..nlayers. */
static inline void lower_list(char *buf, size_t len, const char *fmt)
{
	size_t at = 0;
	int i;

	buf[0] = 0;
	for (i = nlayers; i >= 1 && at < len; i--) {
		if (i < nlayers)
			buf[at++] = ':';
		if (at < len)
			at += snprintf(buf + at, len - at, fmt, i);
	}
}

/*
 * pull: fetch every layer at once and check its digest, then unpack each
 * into its own directory, OCI whiteouts made overlayfs ones (".wh.NAME" a
 * char device 0/0 NAME, ".wh..wh..opq" the opaque xattr on its directory),
 * as docker's overlay2 does; mount the overlay, run.  Seconds, or -1.
 * Then the program alone from the unpacked layers, caches dropped, into
 * @program (-1 if that failed): the floor of any start.
 */
static inline double pull_start(const struct workload *w, double *program)
{
	char cmd[16384], lower[PATH_MAX * MAX_LAYERS], get[640], to[32];
	size_t at = 0;
	double t0, t, t1, t2;
	int i;

	iu_sh("rm -rf " L "/pull && mkdir -p " L "/pull");
	b_drop_caches();
	t0 = b_now();
	at += snprintf(cmd + at, sizeof(cmd) - at, "cd " L "/pull || exit 1; ");
	for (i = 0; i < nlayers; i++) {
		snprintf(to, sizeof(to), "l%d.tar.zst", i + 1);
		fetch_cmd(get, sizeof(get), LAYER_AT(&layers[i], tar), to);
		at += snprintf(cmd + at, sizeof(cmd) - at,
			       "{ %2$s && echo '%3$s  l%1$d.tar.zst' | "
			       "sha256sum -c -s - || echo x > failed; } & ",
			       i + 1, get, layers[i].tar_sha);
	}
	at += snprintf(cmd + at, sizeof(cmd) - at, "wait; [ ! -e failed ]");
	for (i = 0; i < nlayers; i++)
		at += snprintf(cmd + at, sizeof(cmd) - at,
			       " && mkdir l%1$d && "
			       "zstd -q -dc l%1$d.tar.zst | tar -C l%1$d -xf - && "
			       "find l%1$d -name '.wh.*' | while read -r f; do "
			       "d=$(dirname \"$f\"); "
			       "b=$(basename \"$f\"); rm -f \"$f\"; "
			       "if [ \"$b\" = .wh..wh..opq ]; then "
			       "setfattr -n trusted.overlay.opaque -v y \"$d\"; "
			       "else mknod \"$d/${b#.wh.}\" c 0 0; fi; done",
			       i + 1);
	if (at >= sizeof(cmd) || iu_sh(cmd))
		return -1;
	lower_list(lower, sizeof(lower), L "/pull/l%d");
	if (mount_root(lower))
		return -1;
	t = b_first_output_of(L "/root", w->cmd);
	umount(L "/root");
	if (t <= 0)
		return -1;
	/* the program alone: the same root again, caches dropped */
	*program = -1;
	if (!mount_root(lower)) {
		b_drop_caches();
		t1 = b_now();
		t2 = b_first_output_of(L "/root", w->cmd);
		umount(L "/root");
		if (t2 > 0)
			*program = t2 - t1;
	}
	return t - t0;
}

/*
 * Where a lazy start's time went, from each feeder's --stats-file (see
 * incrfsd(8)): the slowest feeder's start -> serving, the readers' waits
 * (the kernel's count), and the stages of the misses incrfsd served,
 * summed over the layers.
 */
struct lazy_stages {
	double ready_s;			/* the slowest feeder */
	double opened_s, index_s;	/* its source answered, index read */
	double wait_s;			/* readers waited, in all */
	double notify_ms, notify_n;	/* reader waits -> incrfsd knows */
	double io_ms, io_n;		/* a miss's read: start -> bytes in */
	double fill_ms, fill_n;		/* bytes in -> decoded, filled */
};

/* Add feeder @i's --stats-file to @sg; -1 if it is missing. */
static inline int add_stages(struct lazy_stages *sg, int i)
{
	char path[PATH_MAX];
	struct json_object *o;
	double r;

	snprintf(path, sizeof(path), L "/stats%d.json", i + 1);
	o = json_object_from_file(path);
	if (!o)
		return -1;
	r = jn_number(o, NULL, "ready_ms", 0) / 1000;
	if (r > sg->ready_s) {
		sg->ready_s = r;
		sg->opened_s = jn_number(o, NULL, "opened_ms", 0) / 1000;
		sg->index_s = jn_number(o, NULL, "index_ms", 0) / 1000;
	}
	sg->wait_s += jn_number(o, NULL, "kernel_wait_ms", 0) / 1000;
	sg->notify_ms += jn_number(o, "notify", "total_ms", 0);
	sg->notify_n += jn_number(o, "notify", "count", 0);
	sg->io_ms += jn_number(o, "miss_io", "total_ms", 0);
	sg->io_n += jn_number(o, "miss_io", "count", 0);
	sg->fill_ms += jn_number(o, "miss_fill", "total_ms", 0);
	sg->fill_n += jn_number(o, "miss_fill", "count", 0);
	json_object_put(o);
	return 0;
}

/*
 * A lazy start as series @s: fetch every layer's metadata at once, mount
 * each, one incrfsd per layer (lazy-node...: each attached to the running
 * incrfsd --node, NODE_SOCK), mount the overlay, run; "...+profile" with
 * --prefetch-profile, lazy-1conn with --depth 1.  Seconds, or -1; the
 * mounts' counters, summed, into @sum; the seconds until the program
 * started (metadata fetched, layers and overlay mounted, feeders started)
 * into @setup; where the time went into @sg.
 */
static inline double lazy_start(const char *s, const struct workload *w,
				struct incrfs_stats *sum, double *setup,
				struct lazy_stages *sg)
{
	char cmd[8192], run[PATH_MAX], m[PATH_MAX], profile[PATH_MAX];
	char lower[PATH_MAX * MAX_LAYERS], get[2 * PATH_MAX + 1024];
	char stats[PATH_MAX];
	pid_t feeder[MAX_LAYERS] = { 0 };
	bool node = !strncmp(s, "lazy-node", 9);
	struct incrfs_stats st;
	int i, fails = 0;
	size_t at = 0;
	double t0, t = -1;

	memset(sum, 0, sizeof(*sum));
	memset(sg, 0, sizeof(*sg));
	iu_sh("rm -f " L "/run*.img " L "/run.failed " L "/stats*.json");
	b_drop_caches();
	t0 = b_now();
	for (i = 0; i < nlayers; i++) {
		snprintf(run, sizeof(run), L "/run%d.img", i + 1);
		fetch_meta_cmd(get, sizeof(get), LAYER_AT(&layers[i], meta),
			       run);
		at += snprintf(cmd + at, sizeof(cmd) - at,
			       "{ %s || echo x > " L "/run.failed; } & ", get);
	}
	snprintf(cmd + at, sizeof(cmd) - at, "wait; [ ! -e " L "/run.failed ]");
	if (iu_sh(cmd))
		return -1;
	for (i = 0; i < nlayers; i++) {
		const char *argv[16];
		int argc = 0;

		snprintf(run, sizeof(run), L "/run%d.img", i + 1);
		snprintf(stats, sizeof(stats), L "/stats%d.json", i + 1);
		snprintf(m, sizeof(m), L "/m%d", i + 1);
		snprintf(profile, sizeof(profile), L "/%s.profile%d", w->name,
			 i + 1);
		mkdir(m, 0755);
		if (truncate(run, layers[i].img_size) ||
		    iu_mount(run, m, "timeout=120000"))
			goto out;
		if (node) {
			/* incrfsctl exits once the node serves the layer */
			argv[argc++] = "incrfsctl";
			argv[argc++] = "attach";
			argv[argc++] = "--socket";
			argv[argc++] = NODE_SOCK;
			argv[argc++] = m;
		} else {
			argv[argc++] = "incrfsd";
			argv[argc++] = "--insecure-registry";
			argv[argc++] = HOST;
		}
		argv[argc++] = "--source";
		argv[argc++] = LAYER_AT(&layers[i], blob);
		argv[argc++] = "--stats-file";
		argv[argc++] = stats;
		if (strstr(s, "+profile")) {
			argv[argc++] = "--prefetch-profile";
			argv[argc++] = profile;
		} else if (!strcmp(s, "lazy-1conn")) {
			argv[argc++] = "--depth";
			argv[argc++] = "1";
		}
		if (!node)
			argv[argc++] = m;
		argv[argc] = NULL;
		feeder[i] = b_spawn("/tmp/bench6.log", argv);
		if (feeder[i] <= 0)
			goto out;
	}
	lower_list(lower, sizeof(lower), L "/m%d");
	if (mount_root(lower))
		goto out;
	*setup = b_now() - t0;
	t = b_first_output_of(L "/root", w->cmd);
	if (umount(L "/root"))
		fails++;
out:
	if (t <= 0)
		iu_sh("tail -n 20 /tmp/bench6.log | sed 's/^/# incrfsd: /'");
	for (i = nlayers - 1; i >= 0; i--) {
		snprintf(m, sizeof(m), L "/m%d", i + 1);
		if (feeder[i] > 0 && !iu_get_stats(m, &st)) {
			sum->blocks_present += st.blocks_present;
			sum->blocks_total += st.blocks_total;
			sum->misses += st.misses;
		} else {
			fails++;
		}
		if (feeder[i] > 0 && node) {
			int status;
			const char *detach[] = { "incrfsctl", "detach",
						 "--socket", NODE_SOCK, m,
						 NULL };

			/* the attach answered; the detach once it stopped */
			if (waitpid(feeder[i], &status, 0) != feeder[i] ||
			    status ||
			    iu_run(detach))
				fails++;
		} else if (feeder[i] > 0) {
			b_stop(feeder[i]);
		}
		if (feeder[i] > 0 && add_stages(sg, i))
			fails++;
		umount(m);
	}
	return t > 0 && !fails ? t - t0 : -1;
}

#define SG_REPO		"stargz/app"
#define SG_MNT		L "/stargz"
#define SG_CACHE	L "/stargz-cache"

/* Is the stargz peer here (B_STARGZ, B_BIN/stargz-peer)? */
static inline bool stargz_ready(void)
{
	char peer[PATH_MAX];

	snprintf(peer, sizeof(peer), "%s/stargz-peer",
		 getenv("B_BIN") ? getenv("B_BIN") : "/usr/local/bin");
	return getenv("B_STARGZ") && *getenv("B_STARGZ") &&
	       !access(peer, X_OK);
}

/* Base64 (standard alphabet, padded) of @s into @out. */
static inline void b64(const char *s, char *out)
{
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), i;

	for (i = 0; i + 2 < n; i += 3, out += 4) {
		unsigned int v = (unsigned char)s[i] << 16 |
				 (unsigned char)s[i + 1] << 8 |
				 (unsigned char)s[i + 2];

		out[0] = a[v >> 18], out[1] = a[(v >> 12) & 63];
		out[2] = a[(v >> 6) & 63], out[3] = a[v & 63];
	}
	if (n - i == 1) {
		unsigned int v = (unsigned char)s[i] << 16;

		out[0] = a[v >> 18], out[1] = a[(v >> 12) & 63];
		out[2] = out[3] = '=';
		out += 4;
	} else if (n - i == 2) {
		unsigned int v = (unsigned char)s[i] << 16 |
				 (unsigned char)s[i + 1] << 8;

		out[0] = a[v >> 18], out[1] = a[(v >> 12) & 63];
		out[2] = a[(v >> 6) & 63], out[3] = '=';
		out += 4;
	}
	*out = 0;
}

/*
 * stargz: a fresh stargz-peer (stargz-store's layer store, empty caches)
 * mounted on SG_MNT, the image SG_REPO:app's layers as the overlay's lower
 * directories, run.  Seconds, or -1.  The peer pushed by the caller
 * (push_layout(B_STARGZ, SG_REPO)); it is stopped before this returns, so
 * its background fetch stops too.
 */
static inline double stargz_start(const struct workload *w)
{
	char peer[PATH_MAX], lower[4096], path[PATH_MAX];
	char ref[128], enc[256], digest[MAX_LAYERS][80];
	const char *argv[] = { peer, "mount", "--insecure", HOST, SG_CACHE,
			       SG_MNT, NULL };
	double t0, t = -1;
	size_t at = 0;
	int i, n = 0;
	pid_t pid;
	FILE *f;

	snprintf(peer, sizeof(peer), "%s/stargz-peer", getenv("B_BIN"));
	snprintf(path, sizeof(path), "%s/layers.txt", getenv("B_STARGZ"));
	f = fopen(path, "r");
	while (f && n < MAX_LAYERS && fscanf(f, "%79s", digest[n]) == 1)
		n++;
	if (f)
		fclose(f);
	if (!n)
		return -1;
	snprintf(ref, sizeof(ref), HOST "/" SG_REPO ":app");
	b64(ref, enc);
	/* "sha256:HEX": a colon in a lower directory is written "\\:" */
	for (i = n - 1; i >= 0; i--)
		at += snprintf(lower + at, sizeof(lower) - at, "%s" SG_MNT
			       "/%s/sha256\\:%s/diff", i < n - 1 ? ":" : "",
			       enc, digest[i] + 7);
	iu_sh("umount -l " SG_MNT " 2>/dev/null; rm -rf " SG_CACHE
	      " /tmp/stargz.log && mkdir -p " SG_CACHE " " SG_MNT);
	b_drop_caches();
	t0 = b_now();
	pid = b_spawn("/tmp/stargz.log", argv);
	if (pid <= 0 || !pu_wait_file_has("/tmp/stargz.log", "ready", 30000))
		goto out;
	if (mount_root(lower))
		goto out;
	t = b_first_output_of(L "/root", w->cmd);
	umount(L "/root");
out:
	if (t <= 0)
		iu_sh("tail -n 20 /tmp/stargz.log | sed 's/^/# stargz-peer: /'");
	if (pid > 0)
		b_stop(pid);
	umount2(SG_MNT, MNT_DETACH);
	return t > 0 ? t - t0 : -1;
}

/*
 * Record the access profile of @w's start, one per layer: each layer on an
 * access_log mount filled from its local blob, the overlay, one run.
 */
static inline int record_profiles(const struct workload *w)
{
	char run[PATH_MAX], m[PATH_MAX], blob[PATH_MAX];
	char lower[PATH_MAX * MAX_LAYERS], cmd[2 * PATH_MAX];
	pid_t feeder[MAX_LAYERS] = { 0 };
	int i, ret = -1;

	for (i = 0; i < nlayers; i++) {
		const char *argv[] = { "incrfsd", "--source", blob, m, NULL };

		snprintf(run, sizeof(run), L "/run%d.img", i + 1);
		snprintf(m, sizeof(m), L "/m%d", i + 1);
		snprintf(blob, sizeof(blob), SRV "/layer%d.blob", i + 1);
		snprintf(cmd, sizeof(cmd), SRV "/layer%d.meta", i + 1);
		mkdir(m, 0755);
		if (b_fresh_image(cmd, run) ||
		    truncate(run, layers[i].img_size) ||
		    iu_mount(run, m, "timeout=60000,access_log"))
			goto out;
		feeder[i] = b_spawn("/tmp/record-profile.log", argv);
		if (feeder[i] <= 0)
			goto out;
	}
	lower_list(lower, sizeof(lower), L "/m%d");
	if (mount_root(lower))
		goto out;
	if (b_first_output_of(L "/root", w->cmd) > 0)
		ret = 0;
	else
		printf("# record_profile: %s failed\n", w->name);
	umount(L "/root");
	for (i = 0; !ret && i < nlayers; i++) {
		snprintf(cmd, sizeof(cmd), "incrfsctl profile record " L "/m%d "
			 "> " L "/%s.profile%d && echo \"# bench: INFO %s: "
			 "layer %d profile: $(grep -c '^[0-9]' " L
			 "/%s.profile%d) ranges\"", i + 1, w->name, i + 1,
			 w->name, i + 1, w->name, i + 1);
		ret = iu_sh(cmd);
	}
out:
	for (i = nlayers - 1; i >= 0; i--) {
		snprintf(m, sizeof(m), L "/m%d", i + 1);
		if (feeder[i] > 0)
			b_stop(feeder[i]);
		umount(m);
	}
	if (ret)
		iu_sh("sed 's/^/# incrfsd: /' /tmp/record-profile.log | tail -n 20");
	return ret;
}

#endif /* INCRFS_COLDSTART_H */
