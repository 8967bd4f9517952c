/* SPDX-License-Identifier: MIT */
/* nicname.c - the NIC table, the plan and the renames (nicname.h). No
 * system calls here: nn_apply works through nn_ops, so the unit test can
 * run it against a simulated kernel. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nicname.h"
#include "util.h"

static int parse_fail(struct space_err *err, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int parse_fail(struct space_err *err, unsigned line, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(err, -SPACE_E_FORMAT, "line %u: %s", line, msg);
}

static int is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Exactly n lowercase hex digits at *s: their value, *s moved past them;
 * -1 when they are not there. */
static int hex_n(const char **s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*s)++) {
		if (!is_lower_hex(**s))
			return -1;
		v = v * 16 + (**s <= '9' ? **s - '0' : **s - 'a' + 10);
	}
	return v;
}

/* pci<dddd>:<bb> then /<dddd>:<bb>:<dd>.<f>, 1..NN_PATH_DEPTH times. */
static int valid_pci_path(const char *s)
{
	int depth = 0;

	if (strncmp(s, "pci", 3))
		return 0;
	s += 3;
	if (hex_n(&s, 4) < 0 || *s++ != ':' || hex_n(&s, 2) < 0)
		return 0;
	while (*s == '/' && depth < NN_PATH_DEPTH) {
		int dev;

		s++;
		if (hex_n(&s, 4) < 0 || *s++ != ':' || hex_n(&s, 2) < 0 || *s++ != ':')
			return 0;
		dev = hex_n(&s, 2);
		if (dev < 0 || dev > 0x1f || *s++ != '.' || *s < '0' || *s > '7')
			return 0;
		s++;
		depth++;
	}
	return depth > 0 && !*s;
}

/* eth<N>, N 0..999 without leading zeros. */
static int valid_eth_name(const char *s)
{
	size_t n;

	if (strncmp(s, "eth", 3))
		return 0;
	n = strlen(s + 3);
	return n >= 1 && n <= 3 && strspn(s + 3, "0123456789") == n && (s[3] != '0' || n == 1);
}

static int valid_target(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n < NN_TARGET_MAX && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* The next blank-separated field of *s into out (size outsz): 1, 0 at the
 * end of the line, -1 when it does not fit. */
static int next_field(const char **s, char *out, size_t outsz)
{
	size_t n;

	*s += strspn(*s, " \t");
	n = strcspn(*s, " \t");
	if (!n)
		return 0;
	if (n >= outsz)
		return -1;
	memcpy(out, *s, n);
	out[n] = '\0';
	*s += n;
	return 1;
}

/* A port given twice for one target: the line of the first, or 0. */
static unsigned duplicate_of(const struct nn_conf *c, const struct nn_port *p, int *by_name)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct nn_port *q = &c->port[i];

		if (strcmp(q->target, p->target))
			continue;
		*by_name = !strcmp(q->name, p->name);
		if (*by_name || !strcmp(q->path, p->path))
			return q->line;
	}
	return 0;
}

/* One non-comment line (NUL-terminated) into the next port of c. */
static int parse_port(struct nn_conf *c, const char *s, unsigned line, struct space_err *err)
{
	struct nn_port p;
	char extra[2];
	unsigned first;
	int by_name = 0;

	memset(&p, 0, sizeof(p));
	p.line = line;
	if (next_field(&s, p.target, sizeof(p.target)) != 1 || !valid_target(p.target))
		return parse_fail(err, line, "the target is not 1-31 of [a-z0-9_-]");
	if (next_field(&s, p.name, sizeof(p.name)) != 1 || !valid_eth_name(p.name))
		return parse_fail(err, line, "the name is not eth<N> (N 0-999)");
	if (next_field(&s, p.path, sizeof(p.path)) != 1 || !valid_pci_path(p.path))
		return parse_fail(err, line,
				  "the path is not a PCI path (pci0000:00/0000:00:1c.0/0000:01:00.0)");
	if (next_field(&s, extra, sizeof(extra)))
		return parse_fail(err, line, "more than three fields");
	first = duplicate_of(c, &p, &by_name);
	if (first)
		return parse_fail(err, line, "%s %s of %s is given on line %u too", by_name ? "name" : "path",
				  by_name ? p.name : p.path, p.target, first);
	if (c->n == NN_MAX_PORTS)
		return parse_fail(err, line, "more than %d ports", NN_MAX_PORTS);
	c->port[c->n++] = p;
	return 0;
}

int nn_conf_parse(const char *text, size_t len, struct nn_conf *c, struct space_err *err)
{
	char buf[NN_LINE_MAX + 1];
	size_t off = 0;
	unsigned line = 0;

	c->n = 0;
	if (len > NN_CONF_MAX_BYTES) {
		return err_set(err, -EFBIG, "larger than %d bytes", NN_CONF_MAX_BYTES);
	}
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off), *s;
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
		int r;

		line++;
		if (n > NN_LINE_MAX)
			return parse_fail(err, line, "longer than %d bytes", NN_LINE_MAX);
		if (memchr(text + off, '\0', n))
			return parse_fail(err, line, "a NUL byte");
		memcpy(buf, text + off, n);
		buf[n] = '\0';
		off += n + 1;
		s = buf + strspn(buf, " \t");
		if (!*s || *s == '#')
			continue;
		r = parse_port(c, s, line, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int nn_conf_has_target(const struct nn_conf *c, const char *target)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->port[i].target, target))
			return 1;
	return 0;
}

int nn_managed_name(const char *name)
{
	size_t t = strlen(NN_TMP_PREFIX);

	if (valid_eth_name(name))
		return 1;
	return !strncmp(name, NN_TMP_PREFIX, t) && name[t] && strlen(name + t) <= 10 &&
	       strspn(name + t, "0123456789") == strlen(name + t);
}

/* The state of one planning: which interfaces nicname manages, and the
 * name each is to have. */
struct planning {
	const struct nn_conf *c;
	const char *target;
	const struct nn_if *ifs;
	size_t n;
	int managed[NN_MAX_IFS];
	char want[NN_MAX_IFS][NN_NAME_MAX];
};

/* The interface at path that takes the port: the managed one of lowest
 * ifindex there (a device with two netdevs keeps one on the port), or -1. */
static int if_at(const struct planning *pl, const char *path)
{
	int best = -1;

	for (size_t i = 0; i < pl->n; i++)
		if (pl->managed[i] && !strcmp(pl->ifs[i].path, path) && !pl->want[i][0] &&
		    (best < 0 || pl->ifs[i].ifindex < pl->ifs[best].ifindex))
			best = (int)i;
	return best;
}

/* Is name held by an interface nicname does not manage? */
static int held_by_other(const struct planning *pl, const char *name)
{
	for (size_t i = 0; i < pl->n; i++)
		if (!pl->managed[i] && !strcmp(pl->ifs[i].name, name))
			return 1;
	return 0;
}

static int is_port_name(const struct planning *pl, const char *name)
{
	for (size_t i = 0; i < pl->c->n; i++)
		if (!strcmp(pl->c->port[i].target, pl->target) && !strcmp(pl->c->port[i].name, name))
			return 1;
	return 0;
}

static int is_port_path(const struct planning *pl, const char *path)
{
	for (size_t i = 0; i < pl->c->n; i++)
		if (!strcmp(pl->c->port[i].target, pl->target) && !strcmp(pl->c->port[i].path, path))
			return 1;
	return 0;
}

/* The ports: each present one's interface wants its name. */
static int plan_ports(struct planning *pl, struct nn_plan *p, struct space_err *err)
{
	for (size_t k = 0; k < pl->c->n; k++) {
		const struct nn_port *port = &pl->c->port[k];
		int i;

		if (strcmp(port->target, pl->target))
			continue;
		if (held_by_other(pl, port->name)) {
			return err_set(err, -SPACE_E_FORMAT, "%s, the name of the port at %s, is held by an interface without a device",
				       port->name, port->path);
		}
		i = if_at(pl, port->path);
		if (i < 0)
			p->missing[p->nmissing++] = port;
		else
			memcpy(pl->want[i], port->name, NN_NAME_MAX);
	}
	return 0;
}

/* The other managed interfaces, by device path (then ifindex), take the
 * lowest eth<N> that is no port's name and no unmanaged interface's. */
static void plan_others(struct planning *pl)
{
	unsigned next = 0;

	for (;;) {
		int pick = -1;
		char name[NN_NAME_MAX];

		for (size_t i = 0; i < pl->n; i++) {
			const struct nn_if *a = &pl->ifs[i], *b = pick < 0 ? NULL : &pl->ifs[pick];
			int cmp = b ? strcmp(a->path, b->path) : 0;

			if (pl->managed[i] && !pl->want[i][0] &&
			    (!b || cmp < 0 || (cmp == 0 && a->ifindex < b->ifindex)))
				pick = (int)i;
		}
		if (pick < 0)
			return;
		do
			snprintf(name, sizeof(name), "eth%u", next++);
		while (is_port_name(pl, name) || held_by_other(pl, name));
		memcpy(pl->want[pick], name, NN_NAME_MAX);
	}
}

int nn_plan(const struct nn_conf *c, const char *target, const struct nn_if *ifs, size_t n,
	    struct nn_plan *p, struct space_err *err)
{
	struct planning *pl;
	int r;

	memset(p, 0, sizeof(*p));
	if (n > NN_MAX_IFS) {
		return err_set(err, -E2BIG, "more than %d network interfaces", NN_MAX_IFS);
	}
	/* a target without ports keeps the kernel's names, all of them */
	if (!nn_conf_has_target(c, target))
		return 0;
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return -ENOMEM;
	pl->c = c;
	pl->target = target;
	pl->ifs = ifs;
	pl->n = n;
	for (size_t i = 0; i < n; i++)
		pl->managed[i] = ifs[i].path[0] && (nn_managed_name(ifs[i].name) || is_port_path(pl, ifs[i].path));
	r = plan_ports(pl, p, err);
	if (r < 0)
		goto out;
	plan_others(pl);
	for (size_t i = 0; i < n; i++) {
		struct nn_move *m = &p->move[p->nmove];

		if (!pl->managed[i] || !strcmp(pl->want[i], ifs[i].name))
			continue;
		m->ifindex = ifs[i].ifindex;
		memcpy(m->from, ifs[i].name, NN_NAME_MAX);
		memcpy(m->to, pl->want[i], NN_NAME_MAX);
		memcpy(m->path, ifs[i].path, NN_PATH_MAX);
		p->nmove++;
	}
out:
	free(pl);
	return r;
}

static int do_rename(const struct nn_ops *ops, int ifindex, const char *from, const char *to,
		     struct space_err *err)
{
	int r = ops->rename(ops->ctx, ifindex, from, to);

	if (r < 0)
		err_set(err, r, "%s -> %s: %s%s", from, to, space_strerror(r),
			r == -EBUSY ? " (it is up: nicname renames at boot, before networking)" : "");
	return r;
}

/* The moves of one plan: every mover to its temporary name, then each to
 * its own. */
static int apply_round(const struct nn_ops *ops, const struct nn_plan *p, struct space_err *err)
{
	char tmp[NN_MAX_IFS][NN_NAME_MAX];
	int r;

	for (size_t i = 0; i < p->nmove; i++) {
		snprintf(tmp[i], NN_NAME_MAX, NN_TMP_PREFIX "%d", p->move[i].ifindex);
		if (strcmp(p->move[i].from, tmp[i]) &&
		    (r = do_rename(ops, p->move[i].ifindex, p->move[i].from, tmp[i], err)) < 0)
			return r;
	}
	for (size_t i = 0; i < p->nmove; i++)
		if ((r = do_rename(ops, p->move[i].ifindex, tmp[i], p->move[i].to, err)) < 0)
			return r;
	return 0;
}

int nn_scan_plan(const struct nn_conf *c, const char *target, const struct nn_ops *ops, struct nn_if *ifs,
		 struct nn_plan *p, struct space_err *err)
{
	size_t n = 0;
	int r = ops->scan(ops->ctx, ifs, NN_MAX_IFS, &n);

	if (r == -E2BIG)
		err_set(err, r, "more than %d network interfaces", NN_MAX_IFS);
	else if (r < 0)
		err_set(err, r, "reading the interfaces: %s", space_strerror(r));
	return r < 0 ? r : nn_plan(c, target, ifs, n, p, err);
}

int nn_apply(const struct nn_conf *c, const char *target, const struct nn_ops *ops, struct nn_plan *p,
	     struct space_err *err)
{
	struct nn_if *ifs = calloc(NN_MAX_IFS, sizeof(*ifs));
	struct space_err last = { "" };
	int r = -ENOMEM;

	for (int round = 0; ifs && round < NN_MAX_ROUNDS; round++) {
		r = nn_scan_plan(c, target, ops, ifs, p, err);
		if (r < 0)
			break;
		err_clear(&last);
		r = apply_round(ops, p, &last);
		/* EEXIST, ENODEV: a NIC appeared or changed meanwhile: again */
		if (r != -EEXIST && r != -ENODEV) {
			err_set(err, r, "%s", last.msg);
			break;
		}
		r = err_set(err, -EAGAIN, "the interfaces kept changing for %d rounds (last: %s)", NN_MAX_ROUNDS,
			    last.msg);
	}
	free(ifs);
	return r;
}
