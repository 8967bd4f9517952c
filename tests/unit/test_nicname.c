/* SPDX-License-Identifier: MIT */
/* test_nicname.c - the NIC table parser and its bounds, the plan (ports by
 * path, add-in cards after them, missing ports, names held by virtual
 * interfaces) and the renames against a simulated kernel (swaps through
 * temporary names, a NIC that appears mid-run, interfaces that never
 * settle, an interface that is up); and platform_target (pkg/lib). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/nicname/nicname.h"
#include "platform.h"
#include "tap.h"
#include "util.h"

#define P0 "pci0000:00/0000:00:1c.0/0000:01:00.0"
#define P1 "pci0000:00/0000:00:1c.1/0000:02:00.0"
#define P2 "pci0000:00/0000:00:1c.2/0000:03:00.0"
#define P3 "pci0000:00/0000:00:1c.2/0000:03:00.1"
#define PADD "pci0000:00/0000:00:03.0"
#define PADD2 "pci0000:00/0000:00:1d.0/0000:04:00.0"

static const char table[] = "# JA2500\n"
			    "ja2500  eth0  " P0 "\n"
			    "ja2500\teth1\t" P1 "\n"
			    "  ja2500 eth2 " P2 "   \n"
			    "\n"
			    "ja2500 eth3 " P3;

static struct nn_conf conf;
/* err: the reason of the last call; why: its text, as parse() and apply()
 * leave it */
static struct space_err err;
static char why[SPACE_ERR_MAX];

static int parse(const char *text)
{
	int r;

	err_clear(&err);
	r = nn_conf_parse(text, strlen(text), &conf, &err);
	memcpy(why, err.msg, sizeof(why));
	return r;
}

/* parse(text) is refused, and why names the line and says what. */
static void refused(const char *text, const char *want_why, const char *name)
{
	int r = parse(text);

	ok(r == -SPACE_E_FORMAT && strstr(why, want_why), "%s: refused (%s)", name, why);
}

static void test_parse(void)
{
	is_int(parse(table), 0, "the JA2500 table parses");
	is_int(conf.n, 4, "four ports");
	ok(!strcmp(conf.port[1].name, "eth1") && !strcmp(conf.port[1].path, P1) && conf.port[1].line == 3,
	   "tab-separated line: eth1 at %s, line %u", conf.port[1].path, conf.port[1].line);
	ok(!strcmp(conf.port[3].path, P3), "last line without a newline");
	ok(nn_conf_has_target(&conf, "ja2500") && !nn_conf_has_target(&conf, "kvm"), "ports for ja2500, none for kvm");
	is_int(parse(""), 0, "an empty table");
	is_int(conf.n, 0, "... has no ports");
	is_int(parse("x eth999 pci0000:00/0000:00:1f.7\n"), 0, "eth999, device 1f, function 7");

	refused("ja2500 eth0\n", "line 1: the path", "two fields");
	refused("ja2500 eth0 " P0 " extra\n", "more than three fields", "four fields");
	refused("JA2500 eth0 " P0 "\n", "the target", "upper-case target");
	refused("ja2500 eth01 " P0 "\n", "the name", "leading zero");
	refused("ja2500 eth1000 " P0 "\n", "the name", "eth1000");
	refused("ja2500 em1 " P0 "\n", "the name", "not eth<N>");
	refused("ja2500 eth0 /sys/devices/" P0 "\n", "the path", "the /sys/devices prefix");
	refused("ja2500 eth0 pci0000:00/0000:00:1C.0/0000:01:00.0\n", "the path", "upper-case hex");
	refused("ja2500 eth0 pci0000:00/0000:00:20.0\n", "the path", "device 20");
	refused("ja2500 eth0 pci0000:00/0000:00:1c.8\n", "the path", "function 8");
	refused("ja2500 eth0 pci0000:00\n", "the path", "a root without a device");
	refused("ja2500 eth0 pci0000:00/0000:00:1c.0/\n", "the path", "a trailing slash");
	refused("ja2500 eth0 " P0 "\r\n", "the path", "CRLF");
	refused("ja2500 eth0 " P0 "\nja2500 eth0 " P1 "\n", "line 2: name eth0 of ja2500 is given on line 1 too",
		"a name twice");
	refused("ja2500 eth0 " P0 "\nja2500 eth1 " P0 "\n", "line 2: path " P0 " of ja2500 is given on line 1 too",
		"a path twice");
	is_int(parse("ja2500 eth0 " P0 "\nkvm eth0 " P0 "\n"), 0, "the same port in two targets");
	{
		static const char nul[] = "ja2500 eth0 " P0 "\n# a\0b\n";

		is_int(nn_conf_parse(nul, sizeof(nul) - 1, &conf, &err), -SPACE_E_FORMAT,
		       "a NUL byte: refused (%s)", err.msg);
	}
}

/* The bounds: NN_MAX_PORTS ports, NN_LINE_MAX per line, NN_PATH_DEPTH
 * levels, NN_CONF_MAX_BYTES in all. */
static void test_bounds(void)
{
	char *t = malloc(NN_CONF_MAX_BYTES + 2), line[NN_LINE_MAX + 2];
	size_t off = 0;

	for (int i = 0; i < NN_MAX_PORTS; i++)
		off += (size_t)sprintf(t + off, "t eth%d pci0000:00/0000:%02x:00.0\n", i, i);
	is_int(parse(t), 0, "%d ports: accepted", NN_MAX_PORTS);
	is_int(conf.n, NN_MAX_PORTS, "... all of them");
	sprintf(t + off, "t eth%d pci0000:00/0000:%02x:00.0\n", NN_MAX_PORTS, NN_MAX_PORTS);
	refused(t, "more than 64 ports", "one port more");

	memset(line, ' ', sizeof(line));
	memcpy(line, "# ", 2);
	line[NN_LINE_MAX] = '\0';
	is_int(parse(line), 0, "a line of %d bytes", NN_LINE_MAX);
	line[NN_LINE_MAX] = ' ';
	line[NN_LINE_MAX + 1] = '\0';
	refused(line, "line 1: longer than 300 bytes", "a line of 301 bytes");

	is_int(parse("t eth0 pci0000:00/0000:00:01.0/0000:01:00.0/0000:02:00.0/0000:03:00.0/0000:04:00.0"
		     "/0000:05:00.0/0000:06:00.0/0000:07:00.0\n"),
	       0, "a path %d functions deep", NN_PATH_DEPTH);
	refused("t eth0 pci0000:00/0000:00:01.0/0000:01:00.0/0000:02:00.0/0000:03:00.0/0000:04:00.0"
		"/0000:05:00.0/0000:06:00.0/0000:07:00.0/0000:08:00.0\n",
		"the path", "one deeper");

	memset(t, '\n', NN_CONF_MAX_BYTES + 1);
	is_int(nn_conf_parse(t, NN_CONF_MAX_BYTES, &conf, &err), 0, "%d bytes of blank lines",
	       NN_CONF_MAX_BYTES);
	is_int(nn_conf_parse(t, NN_CONF_MAX_BYTES + 1, &conf, &err), -EFBIG, "one byte more: %s", err.msg);
	free(t);
}

/* ---- the plan */

static struct nn_plan plan;

/* The name interface ifindex ends with. */
static const char *after(const struct nn_if *ifs, size_t n, int ifindex)
{
	for (size_t k = 0; k < plan.nmove; k++)
		if (plan.move[k].ifindex == ifindex)
			return plan.move[k].to;
	for (size_t i = 0; i < n; i++)
		if (ifs[i].ifindex == ifindex)
			return ifs[i].name;
	return "?";
}

static void test_plan(void)
{
	/* QEMU's JA2500 (tests/e2e/ja2500.py): the kernel's names follow
	 * driver load, an add-in card at 00:03.0 probed first */
	const struct nn_if qemu[] = {
		{ "lo", 1, "" },
		{ "eth0", 2, PADD },
		{ "eth1", 3, P2 },
		{ "eth2", 4, P3 },
		{ "eth3", 5, P0 },
		{ "eth4", 6, P1 },
	};
	const struct nn_if missing[] = { { "eth0", 2, P0 }, { "eth1", 3, PADD2 }, { "eth2", 4, PADD }, { "eth3", 5, P3 }, { "eth4", 6, P1 } };
	const struct nn_if virt[] = { { "eth0", 2, P1 }, { "eth1", 3, "" }, { "eth2", 4, P0 } };
	const struct nn_if named[] = { { "mgmt", 2, P0 }, { "eth0", 3, P1 }, { "wlan0", 4, PADD } };

	parse(table);
	is_int(nn_plan(&conf, "ja2500", qemu, 6, &plan, &err), 0, "plan for QEMU's JA2500");
	ok(!strcmp(after(qemu, 6, 5), "eth0") && !strcmp(after(qemu, 6, 6), "eth1") &&
		   !strcmp(after(qemu, 6, 3), "eth2") && !strcmp(after(qemu, 6, 4), "eth3"),
	   "ports 0-3 become eth0-eth3 by path");
	ok(!strcmp(after(qemu, 6, 2), "eth4"), "the add-in card becomes eth4 (%s)", after(qemu, 6, 2));
	ok(!strcmp(after(qemu, 6, 1), "lo"), "lo is left alone");
	is_int(plan.nmove, 5, "five renames");
	is_int(plan.nmissing, 0, "no port missing");

	is_int(nn_plan(&conf, "kvm", qemu, 6, &plan, &err), 0, "plan for a kvm node");
	is_int(plan.nmove, 0, "a target without ports: nothing renamed, add-in cards neither");

	/* port 2 (eth2) has no NIC: its name stays free, two add-in cards
	 * (eth1 and eth2 from the kernel) become eth4 and eth5 by path */
	is_int(nn_plan(&conf, "ja2500", missing, 5, &plan, &err), 0, "plan with port 2 missing");
	ok(plan.nmissing == 1 && !strcmp(plan.missing[0]->name, "eth2"), "port eth2 is missing");
	ok(!strcmp(after(missing, 5, 2), "eth0") && !strcmp(after(missing, 5, 6), "eth1") &&
		   !strcmp(after(missing, 5, 5), "eth3"),
	   "the present ports get their names");
	ok(!strcmp(after(missing, 5, 4), "eth4") && !strcmp(after(missing, 5, 3), "eth5"),
	   "the add-in cards get eth4 (00:03.0) and eth5 (04:00.0), not eth2 (%s %s)", after(missing, 5, 4),
	   after(missing, 5, 3));

	is_int(nn_plan(&conf, "ja2500", virt, 3, &plan, &err), -SPACE_E_FORMAT,
	       "a port's name held by a virtual interface: refused (%s)", err.msg);
	ok(strstr(err.msg, "eth1, the name of the port at " P1) != NULL, "... naming the port");

	is_int(nn_plan(&conf, "ja2500", named, 3, &plan, &err), 0, "a NIC at a port with another name");
	ok(!strcmp(after(named, 3, 2), "eth0") && !strcmp(after(named, 3, 3), "eth1") &&
		   !strcmp(after(named, 3, 4), "wlan0"),
	   "is renamed too; a device without a managed name elsewhere is not");
}

/* ---- the renames, against a simulated kernel */

struct sim {
	struct nn_if ifs[NN_MAX_IFS + 2];
	size_t n;
	int renames, fail_at, fail_err;
	int appear_at;           /* after this many renames a NIC appears ... */
	const char *appear_path; /* ... at this path, as the lowest free ethN */
	int always_appear;       /* one appears after every rename */
};

static struct nn_if *sim_find(struct sim *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->ifs[i].name, name))
			return &s->ifs[i];
	return NULL;
}

/* A late probe: the kernel's name is the lowest free eth<N>. */
static void sim_appear(struct sim *s, const char *path)
{
	struct nn_if *e = &s->ifs[s->n];

	memset(e, 0, sizeof(*e));
	for (unsigned k = 0;; k++) {
		snprintf(e->name, sizeof(e->name), "eth%u", k);
		if (!sim_find(s, e->name))
			break;
	}
	e->ifindex = (int)s->n + 100;
	snprintf(e->path, sizeof(e->path), "%s", path);
	s->n++;
}

static int sim_scan(void *ctx, struct nn_if *ifs, size_t max, size_t *n)
{
	struct sim *s = ctx;

	if (s->n > max)
		return -E2BIG;
	memcpy(ifs, s->ifs, s->n * sizeof(*ifs));
	*n = s->n;
	return 0;
}

static int sim_rename(void *ctx, int ifindex, const char *from, const char *to)
{
	struct sim *s = ctx;
	struct nn_if *i = sim_find(s, from);

	if (!i || i->ifindex != ifindex)
		return -ENODEV;
	if (sim_find(s, to))
		return -EEXIST;
	if (++s->renames == s->fail_at)
		return s->fail_err;
	snprintf(i->name, sizeof(i->name), "%s", to);
	if (s->renames == s->appear_at || (s->always_appear && s->n < 40))
		sim_appear(s, s->appear_path);
	return 0;
}

static struct sim *sim_qemu(void)
{
	static const struct nn_if qemu[] = {
		{ "lo", 1, "" },
		{ "eth0", 2, PADD },
		{ "eth1", 3, P2 },
		{ "eth2", 4, P3 },
		{ "eth3", 5, P0 },
		{ "eth4", 6, P1 },
	};
	struct sim *s = calloc(1, sizeof(*s));

	memcpy(s->ifs, qemu, sizeof(qemu));
	s->n = 6;
	s->appear_path = PADD2;
	return s;
}

/* Where interface name now sits, "" when no interface has it. */
static const char *sim_path(struct sim *s, const char *name)
{
	struct nn_if *i = sim_find(s, name);

	return i ? i->path : "";
}

static int apply(struct sim *s)
{
	struct nn_ops ops = { sim_scan, sim_rename, s };

	int r;

	err_clear(&err);
	r = nn_apply(&conf, "ja2500", &ops, &plan, &err);
	memcpy(why, err.msg, sizeof(why));
	return r;
}

static void test_apply(void)
{
	struct sim *s = sim_qemu();

	parse(table);
	is_int(apply(s), 0, "QEMU's JA2500 renamed (%s)", why);
	ok(!strcmp(sim_path(s, "eth0"), P0) && !strcmp(sim_path(s, "eth1"), P1) && !strcmp(sim_path(s, "eth2"), P2) &&
		   !strcmp(sim_path(s, "eth3"), P3) && !strcmp(sim_path(s, "eth4"), PADD),
	   "eth0..eth3 at the ports, eth4 the add-in card");
	is_int(s->renames, 10, "each of the five through its temporary name");
	s->renames = 0;
	is_int(apply(s), 0, "run again");
	is_int(s->renames, 0, "... nothing to rename");
	free(s);

	/* a late probe takes eth1, freed a moment ago: the rename to eth1
	 * fails with EEXIST, the next round moves the newcomer too */
	s = sim_qemu();
	s->appear_at = 5;
	is_int(apply(s), 0, "a NIC that appears mid-run (%s)", why);
	ok(!strcmp(sim_path(s, "eth0"), P0) && !strcmp(sim_path(s, "eth1"), P1) && !strcmp(sim_path(s, "eth2"), P2) &&
		   !strcmp(sim_path(s, "eth3"), P3) && !strcmp(sim_path(s, "eth4"), PADD) && !strcmp(sim_path(s, "eth5"), PADD2),
	   "the ports still get eth0..eth3, the newcomer eth5 (after the add-in card at 00:03.0)");
	free(s);

	s = sim_qemu();
	s->always_appear = 1;
	is_int(apply(s), -EAGAIN, "NICs that keep appearing: given up after %d rounds", NN_MAX_ROUNDS);
	ok(strstr(why, "kept changing") && strstr(why, "File exists"), "... saying so (%s)", why);
	free(s);

	s = sim_qemu();
	s->fail_at = 3;
	s->fail_err = -EBUSY;
	is_int(apply(s), -EBUSY, "an interface that is up");
	ok(strstr(why, "nntmp") && strstr(why, "it is up"), "... is named in the reason (%s)", why);
	free(s);

	/* more interfaces than NN_MAX_IFS: refused before any rename */
	s = sim_qemu();
	while (s->n < NN_MAX_IFS + 1)
		sim_appear(s, PADD2);
	is_int(apply(s), -E2BIG, "%d interfaces: refused (%s)", NN_MAX_IFS + 1, why);
	is_int(s->renames, 0, "... nothing renamed");
	s->n = NN_MAX_IFS;
	is_int(apply(s), 0, "%d interfaces: named (%s)", NN_MAX_IFS, why);
	ok(!strcmp(sim_path(s, "eth0"), P0) && !strcmp(sim_path(s, "eth3"), P3), "... the ports among them");
	free(s);
}

static void test_platform(void)
{
	ok(!strcmp(platform_target("Juniper Networks", "JA2500"), "ja2500"), "DMI product JA2500 -> ja2500");
	ok(!strcmp(platform_target("QEMU", "JA2500"), "ja2500"), "... whoever the vendor");
	ok(!strcmp(platform_target("QEMU", "Standard PC (Q35 + ICH9, 2009)"), "kvm"), "QEMU -> kvm");
	ok(!strcmp(platform_target("VMware, Inc.", "VMware7,1"), "esxi"), "VMware -> esxi");
	ok(platform_target("Dell Inc.", "PowerEdge R640") == NULL, "anything else: unknown");
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/nicname/parse", test_parse },
		{ "/nicname/bounds", test_bounds },
		{ "/nicname/plan", test_plan },
		{ "/nicname/apply", test_apply },
		{ "/nicname/platform", test_platform },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
