/* SPDX-License-Identifier: MIT */
/* node.c - the node as the upgrader sees it: boot disk, root slots, boot
 * state, settings, status file, log and backup record; see upgrade.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "kv.h"
#include "platform.h"
#include "upgrade.h"
#include "util.h"

/* ------------------------------------------------------------ settings */

static int conf_cb(void *ctx, const char *k, const char *v, int line)
{
	struct upg_conf *c = ctx;
	struct {
		const char *key;
		long long *dst;
		long long min, max;
		int units;
	} ints[] = {
		{ "backup_max_age", &c->backup_max_age, 60, 366LL * 86400, 1 },
		{ "clock_max_offset", &c->clock_max_offset, 1, 86400, 1 },
		{ "trial_timeout", &c->trial_timeout, 10, 86400, 1 },
		{ "var_min_free", &c->var_min_free, 0, 1LL << 40, 0 },
	};

	(void)line;
	if (!strcmp(k, "ntp_server")) {
		if (strlen(v) >= sizeof(c->ntp_server))
			return -SPACE_E_FORMAT;
		snprintf(c->ntp_server, sizeof(c->ntp_server), "%s", v);
		return 0;
	}
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (!strcmp(k, ints[i].key))
			return kv_int(v, ints[i].min, ints[i].max, ints[i].units, ints[i].dst);
	return -SPACE_E_FORMAT; /* unknown key: a typo must not silently keep a default */
}

int upg_conf_load(const struct opts *o, struct upg_conf *c, struct space_err *err)
{
	static const char *const files[] = { "/etc/upgrade.conf", UPG_DIR "/upgrade.conf" };

	*c = (struct upg_conf){ .backup_max_age = 7 * 86400, .clock_max_offset = 10, .trial_timeout = 300, .var_min_free = 16 << 20 };
	for (size_t i = 0; i < 2; i++) {
		char *p = rpath(o, files[i]);
		int line = 0, r = p ? kv_parse_file(p, 64 << 10, conf_cb, c, &line) : -ENOMEM;

		if (r < 0 && r != -ENOENT) {
			err_set(err, r, "%s line %d: %s", files[i], line,
				r == -SPACE_E_FORMAT || r == -ERANGE ? "unknown key or bad value" : space_strerror(r));
			free(p);
			return r;
		}
		free(p);
	}
	return 0;
}

/* ------------------------------------------------------------ the node */

/* The whole disk holding the filesystem of "/": /dev/<disk>. */
int node_dev_disk(dev_t dev, char *out, size_t outlen)
{
	char link[64], real[PATH_MAX], *slash;

	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(dev), minor(dev));
	if (!realpath(link, real))
		return -ENODEV;
	/* .../block/vda/vda3 -> .../block/vda */
	slash = strrchr(real, '/');
	if (!slash)
		return -ENODEV;
	*slash = '\0';
	return (size_t)snprintf(out, outlen, "%s", real) < outlen ? 0 : -ENAMETOOLONG;
}

static int boot_disk(char *out, size_t outlen, struct space_err *err)
{
	char disk[PATH_MAX];
	struct stat st;
	int r;

	if (stat("/", &st) < 0)
		return -errno;
	r = node_dev_disk(st.st_dev, disk, sizeof(disk));
	if (r < 0)
		return err_set(err, r, "the root filesystem is not on a block device (%u:%u)", major(st.st_dev),
			       minor(st.st_dev));
	return (size_t)snprintf(out, outlen, "/dev/%s", strrchr(disk, '/') + 1) < outlen ? 0 : -ENAMETOOLONG;
}

static void read_cmdline(const struct opts *o, struct node *n)
{
	char *p = rpath(o, "/proc/cmdline"), text[4096], *save = NULL;

	if (p && read_kernel_text(p, text, sizeof(text)) == 0) {
		for (char *t = strtok_r(text, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
			if (!strncmp(t, "space.slot=", 11) && (t[11] == 'a' || t[11] == 'b') && !t[12])
				n->booted = t[11];
			else if (!strcmp(t, "space.trial=1"))
				n->trial = true;
		}
	}
	free(p);
}

/* The target this node is, from what the firmware says it is (the rule
 * nicname shares: pkg/lib/platform.h). */
static int node_target(const struct opts *o, struct node *n, struct space_err *err)
{
	char *sys = rpath(o, "/sys");
	struct platform p;
	int r = sys ? platform_detect(sys, &p) : -ENOMEM;

	free(sys);
	if (r == -ENODEV)
		err_set(err, r, "unknown platform (DMI vendor '%s', product '%s')", p.vendor, p.product);
	else if (r == 0)
		snprintf(n->target, sizeof(n->target), "%s", p.target);
	return r;
}

int node_open(const struct opts *o, struct node *n, struct space_err *err)
{
	const char *img = getenv("SPACE_DISK");
	char *relp = NULL;
	int r;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	n->is_file = img && *img;
	if (n->is_file)
		snprintf(n->disk, sizeof(n->disk), "%s", img);
	else if ((r = boot_disk(n->disk, sizeof(n->disk), err)) < 0)
		return r;
	n->fd = open(n->disk, O_RDWR | O_CLOEXEC | (n->is_file ? O_NOFOLLOW : 0));
	if (n->fd < 0)
		return err_set(err, -errno, "%s: %s", n->disk, strerror(errno));
	r = gpt_read(n->fd, &n->l);
	if (r < 0)
		return err_set(err, r, "%s: partition table: %s", n->disk, space_strerror(r));
	if (!node_slot_part(n, 'a') || !node_slot_part(n, 'b'))
		return err_set(err, -ENODEV, "%s: no root-a and root-b partitions", n->disk);
	err_clear(err); /* bootenv_load_disk's reason, if any, is the whole message */
	r = bootenv_load_disk(&n->env, n->fd, err);
	if (r < 0)
		return r;
	read_cmdline(o, n);
	if (!n->booted)
		return err_set(err, -ENODEV, "no space.slot= on the kernel command line: not booted by this release's GRUB");
	relp = rpath(o, "/etc/space-release");
	r = relp ? release_read(relp, &n->rel) : -ENOMEM;
	if (r < 0)
		err_set(err, r, "/etc/space-release: %s", space_strerror(r));
	free(relp);
	if (r < 0)
		return r;
	return node_target(o, n, err);
}

void node_close(struct node *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}

const struct gpt_part *node_slot_part(const struct node *n, char s)
{
	return disk_layout_find(&n->l, s == 'a' ? "root-a" : "root-b");
}

void node_env_get(const struct node *n, const char *key, char *out, size_t outlen)
{
	if (grub_env_get(n->env.block, key, out, outlen) < 0)
		out[0] = '\0';
}

/* /dev/<name> of partition number idx of the disk, from sysfs. */
static int part_device(const char *disk, unsigned idx, char *out, size_t outlen)
{
	const char *base = strrchr(disk, '/') ? strrchr(disk, '/') + 1 : disk;
	char *dir = xasprintf("/sys/class/block/%s", base);
	struct dirent *de;
	DIR *d = dir ? opendir(dir) : NULL;
	int r = -ENOENT;

	while (d && r == -ENOENT && (de = readdir(d))) {
		char *pf = xasprintf("%s/%s/partition", dir, de->d_name), text[32];

		if (pf && read_kernel_text(pf, text, sizeof(text)) == 0 && (unsigned)atoi(text) == idx &&
		    strncmp(de->d_name, base, strlen(base)) == 0)
			r = (size_t)snprintf(out, outlen, "/dev/%s", de->d_name) < outlen ? 0 : -ENAMETOOLONG;
		free(pf);
	}
	if (d)
		closedir(d);
	free(dir);
	return r;
}

int node_slot_open(const struct node *n, char s, int *fd, uint64_t *off, uint64_t *len,
		   struct space_err *err)
{
	const struct gpt_part *p = node_slot_part(n, s);
	char dev[300];
	int r;

	*len = gpt_part_bytes(p);
	if (n->is_file) {
		*off = gpt_part_offset(p);
		*fd = dup(n->fd);
		return *fd < 0 ? -errno : 0;
	}
	r = part_device(n->disk, p->index, dev, sizeof(dev));
	if (r < 0)
		return err_set(err, r, "%s partition %u: no device (%s)", n->disk, p->index, space_strerror(r));
	*off = 0;
	/* O_EXCL on a block device: refused while it is mounted */
	*fd = open(dev, O_RDWR | O_EXCL | O_CLOEXEC);
	if (*fd < 0)
		return err_set(err, -errno, "%s: %s", dev, errno == EBUSY ? "in use (mounted?)" : strerror(errno));
	return 0;
}

/* --------------------------------------------------------- status file */

/* Publish b as UPG_DIR/name (temporary name, fsync, rename); frees b. */
static int put_file(const struct opts *o, const char *name, struct buf *b)
{
	char *dir = rpath(o, UPG_DIR), *rel = xasprintf(UPG_DIR "/%s", name), *p = rel ? rpath(o, rel) : NULL;
	int r = !dir || !p || !b->p ? -ENOMEM : mkdir_p(dir, 0755);

	if (r == 0)
		r = write_file_atomic(p, b->p, b->len, 0644);
	buf_free(b);
	free(dir);
	free(rel);
	free(p);
	return r;
}

int upg_status_read(const struct opts *o, struct upg_status *s)
{
	char *p = rpath(o, UPG_DIR "/status");
	int line, r;

	upg_status_init(s);
	r = p ? upg_status_load(p, s, &line) : -ENOMEM;
	free(p);
	if (!s->state[0])
		snprintf(s->state, sizeof(s->state), "idle");
	return r;
}

int upg_status_write(const struct opts *o, const struct upg_status *s)
{
	struct buf b;

	buf_init(&b);
	upg_status_format(&b, s);
	return put_file(o, "status", &b);
}

/* ------------------------------------------------------------------ log */

FILE *upg_log_open(const struct opts *o, char *path, size_t pathlen)
{
	char *dir = rpath(o, UPG_LOG_DIR), stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	FILE *f = NULL;
	int fd;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (dir && mkdir_p(dir, 0750) == 0 &&
	    (size_t)snprintf(path, pathlen, "%s/upgrade-%s.log", dir, stamp) < pathlen) {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
		f = fd >= 0 ? fdopen(fd, "a") : NULL;
		if (fd >= 0 && !f)
			close(fd);
	}
	if (!f)
		path[0] = '\0';
	free(dir);
	return f;
}

void upg_log(FILE *f, const char *fmt, ...)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	if (!f)
		return;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f, "%s ", stamp);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}

/* ------------------------------------------------------- backup record */

int upg_backup_record(const struct opts *o, const char *where, bool offnode, const char *sha256)
{
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "# spacectl backup create: the last backup (spacectl upgrade checks it)\ntime = %lld\n",
		   (long long)time(NULL));
	kv_line(&b, "where", where);
	buf_printf(&b, "offnode = %s\n", offnode ? "yes" : "no");
	kv_line(&b, "sha256", sha256 ? sha256 : "");
	return put_file(o, "backup", &b);
}
