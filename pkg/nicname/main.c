/* SPDX-License-Identifier: MIT */
/* nicname - give the NICs of this node their fixed names from the table in
 * /etc/nicname.conf (nicname.h; the JA2500's ports: pkg/nicname/README.md).
 * rcS runs it at boot after the drivers are loaded and before any link is
 * up: a NIC must be down to be renamed, and DHCP starts on eth0. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exitcode.h"
#include "nicname.h"
#include "platform.h"
#include "util.h"

#define CONF_DEFAULT "/etc/nicname.conf"

static void help(FILE *f)
{
	fprintf(f, "usage: nicname [-n|--dry-run] [-v] [-c FILE] [--target TARGET] [--sys DIR]\n\n"
		   "Gives this node's NICs their fixed names from FILE (" CONF_DEFAULT "): on a\n"
		   "node whose target (from DMI) has ports there, the NIC at each port's PCI\n"
		   "path gets the port's name, and every other NIC named eth<N> gets the next\n"
		   "eth<N> that no port has, in PCI path order. Other targets: nothing is\n"
		   "renamed. Renames go through temporary names (" NN_TMP_PREFIX "<ifindex>), and a NIC\n"
		   "must be down to be renamed (rcS runs nicname before networking).\n\n"
		   "  -n, --dry-run      say what would be renamed, rename nothing\n"
		   "  -v, --verbose      say what is renamed, and why nothing is\n"
		   "  -c, --conf FILE    the table (default " CONF_DEFAULT ")\n"
		   "      --target T     the node's target instead of DMI's (kvm, esxi, ja2500)\n"
		   "      --sys DIR      sysfs is at DIR (default /sys; for tests)\n\n"
		   "Exit codes: 0 named, or no ports for this target; 1 refused: a bad FILE, a\n"
		   "port with no NIC at its path (the others are named), a port's name held by\n"
		   "an interface without a device (nothing renamed); 100 usage error; 111\n"
		   "sysfs or a rename failed, more than %d interfaces, or the interfaces\n"
		   "kept changing (README.md, Exit codes).\n",
		NN_MAX_IFS);
}

/* The system: sysfs below sys, SIOCSIFNAME on an inet socket. */
struct sysnet {
	const char *sys;
	char devroot[PATH_MAX]; /* realpath of sys/devices */
	int fd;
};

/* The device of interface name below /sys/devices into path ("" when it
 * has none: a virtual interface). */
static int if_device(const struct sysnet *s, const char *name, char *path, size_t len)
{
	char link[PATH_MAX], *real;
	size_t root = strlen(s->devroot);
	int r = 0;

	path[0] = '\0';
	if ((size_t)snprintf(link, sizeof(link), "%s/class/net/%s/device", s->sys, name) >= sizeof(link))
		return -ENAMETOOLONG;
	real = realpath(link, NULL);
	if (!real)
		return errno == ENOENT ? 0 : -errno;
	if (strncmp(real, s->devroot, root) || real[root] != '/')
		r = -EXDEV;
	else if ((size_t)snprintf(path, len, "%s", real + root + 1) >= len)
		r = -ENAMETOOLONG;
	free(real);
	return r;
}

static int if_index(const struct sysnet *s, const char *name, int *ifindex)
{
	char p[PATH_MAX], text[32], *end;
	long v;
	int r;

	if ((size_t)snprintf(p, sizeof(p), "%s/class/net/%s/ifindex", s->sys, name) >= sizeof(p))
		return -ENAMETOOLONG;
	r = read_kernel_text(p, text, sizeof(text));
	if (r < 0)
		return r;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || (*end && *end != '\n') || v <= 0 || v > INT_MAX)
		return -SPACE_E_FORMAT;
	*ifindex = (int)v;
	return 0;
}

/* nn_ops.scan: the interfaces with a device, and virtual ones with a name
 * nicname manages (they can hold a name it needs). */
static int sys_scan(void *ctx, struct nn_if *ifs, size_t max, size_t *n)
{
	struct sysnet *s = ctx;
	char dir[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int r = 0;

	*n = 0;
	snprintf(dir, sizeof(dir), "%s/class/net", s->sys);
	d = opendir(dir);
	if (!d)
		return -errno;
	while (r == 0 && (e = readdir(d))) {
		struct nn_if one;

		if (e->d_name[0] == '.' || strlen(e->d_name) >= NN_NAME_MAX)
			continue;
		memset(&one, 0, sizeof(one));
		memcpy(one.name, e->d_name, strlen(e->d_name));
		r = if_device(s, one.name, one.path, sizeof(one.path));
		if (r < 0 || (!one.path[0] && !nn_managed_name(one.name)))
			continue;
		r = if_index(s, one.name, &one.ifindex);
		if (r == 0 && *n == max)
			r = -E2BIG;
		if (r == 0)
			ifs[(*n)++] = one;
	}
	closedir(d);
	return r;
}

/* nn_ops.rename: by name, after checking that the name still is ifindex
 * (SIOCSIFNAME knows names only). */
static int sys_rename(void *ctx, int ifindex, const char *from, const char *to)
{
	struct sysnet *s = ctx;
	struct ifreq ifr;

	if (strlen(from) >= IFNAMSIZ || strlen(to) >= IFNAMSIZ)
		return -EINVAL;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, from, strlen(from));
	if (ioctl(s->fd, SIOCGIFINDEX, &ifr) < 0)
		return -errno;
	if (ifr.ifr_ifindex != ifindex)
		return -ENODEV;
	memcpy(ifr.ifr_newname, to, strlen(to));
	return ioctl(s->fd, SIOCSIFNAME, &ifr) < 0 ? -errno : 0;
}

/* The table, or an exit code. */
static int load_conf(const char *path, struct nn_conf *c)
{
	struct space_err err = { "" };
	char *text = NULL;
	size_t len = 0;
	int r = read_file(path, NN_CONF_MAX_BYTES, &text, &len);

	if (r == -EFBIG)
		return die_msg(EXIT_REFUSED, "read", path, "larger than 16384 bytes");
	if (r < 0)
		return die_err("read", path, r, NULL);
	r = nn_conf_parse(text, len, c, &err);
	free(text);
	return r < 0 ? die_msg(EXIT_REFUSED, "read", path, err.msg) : EXIT_OK;
}

/* The node's target: --target, else DMI's; NULL when unknown. */
static const char *node_target(const char *given, const char *sys, int verbose)
{
	static struct platform pl;

	if (given)
		return given;
	if (platform_detect(sys, &pl) == 0)
		return pl.target;
	if (verbose)
		printf("nicname: unknown platform (DMI vendor '%s', product '%s'): names left as they are\n",
		       pl.vendor, pl.product);
	return NULL;
}

static void say_moves(const struct nn_plan *p, const char *how)
{
	for (size_t i = 0; i < p->nmove; i++)
		printf("nicname: %s %s -> %s (%s)\n", how, p->move[i].from, p->move[i].to, p->move[i].path);
}

/* A port with no NIC keeps its name free; the others are named. */
static int report_missing(const struct nn_plan *p)
{
	char why[NN_PATH_MAX + 64];

	for (size_t i = 0; i < p->nmissing; i++) {
		snprintf(why, sizeof(why), "no NIC at %s: the name stays unused", p->missing[i]->path);
		die_msg(EXIT_REFUSED, "name", p->missing[i]->name, why);
	}
	return p->nmissing ? EXIT_REFUSED : EXIT_OK;
}

struct args {
	const char *conf, *target, *sys;
	int dry_run, verbose;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "conf", required_argument, NULL, 'c' },
		{ "target", required_argument, NULL, 'T' },
		{ "sys", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	*a = (struct args){ .conf = CONF_DEFAULT, .sys = "/sys" };
	while ((ch = getopt_long(argc, argv, "nvc:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': a->dry_run = 1; break;
		case 'v': a->verbose = 1; break;
		case 'c': a->conf = optarg; break;
		case 'T': a->target = optarg; break;
		case 'S': a->sys = optarg; break;
		case 'h': help(stdout); exit(EXIT_OK);
		default: help(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		help(stderr);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Plan (dry run) or rename, and report. */
static int run(const struct args *a, const struct nn_conf *c, const char *target, struct sysnet *s)
{
	struct nn_ops ops = { sys_scan, sys_rename, s };
	struct nn_plan *p = calloc(1, sizeof(*p));
	struct nn_if *ifs = calloc(NN_MAX_IFS, sizeof(*ifs));
	struct space_err err = { "" };
	int r, code;

	if (!p || !ifs) {
		code = die_err("name", "NICs", -ENOMEM, NULL);
		goto out;
	}
	r = a->dry_run ? nn_scan_plan(c, target, &ops, ifs, p, &err) : nn_apply(c, target, &ops, p, &err);
	if (r < 0) {
		code = r == -SPACE_E_FORMAT ? die_msg(EXIT_REFUSED, "name", "NICs", err.msg) : die_err("name", "NICs", r, err.msg);
		goto out;
	}
	if (a->dry_run || a->verbose)
		say_moves(p, a->dry_run ? "would rename" : "renamed");
	code = report_missing(p);
out:
	free(ifs);
	free(p);
	return code;
}

int main(int argc, char **argv)
{
	struct nn_conf *c = calloc(1, sizeof(*c));
	struct sysnet s = { .fd = -1 };
	const char *target;
	struct args a;
	char devs[PATH_MAX];
	int code;

	space_prog = "nicname";
	if (!c)
		return die_err("name", "NICs", -ENOMEM, NULL);
	code = parse_args(argc, argv, &a);
	if (code == EXIT_OK)
		code = load_conf(a.conf, c);
	if (code != EXIT_OK)
		goto out;
	target = node_target(a.target, a.sys, a.verbose);
	if (!target || !nn_conf_has_target(c, target)) {
		if (target && a.verbose)
			printf("nicname: no ports for target %s in %s: names left as they are\n", target, a.conf);
		goto out;
	}
	s.sys = a.sys;
	snprintf(devs, sizeof(devs), "%s/devices", a.sys);
	if (!realpath(devs, s.devroot)) {
		code = die_err("read", devs, -errno, NULL);
		goto out;
	}
	if (!a.dry_run && (s.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		code = die_err("name", "NICs", -errno, "socket");
		goto out;
	}
	code = run(&a, c, target, &s);
out:
	if (s.fd >= 0)
		close(s.fd);
	free(c);
	return code;
}
