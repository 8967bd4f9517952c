/* SPDX-License-Identifier: MIT */
/* space-install - the text installer of the installation medium.
 *
 * The front end of install.c: a menu that takes a number or a word
 * (case-insensitive, unique prefixes), line by line, so that it works on a
 * serial line without cursor addressing as on VGA; or, with space.action=
 * on the kernel command line, the same steps with no question at all.
 * It reboots or powers off by itself; it returns only for the rescue
 * shell (0) or on a failure it cannot go on from (init then starts a
 * shell).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kv.h"
#include "cmdline.h"
#include "disks.h"
#include "exitcode.h"
#include "install.h"
#include "strescape.h"
#include "util.h"

#define MEDIUM_CONF ".space-medium"

struct ui {
	const char *root, *medium, *kit_dir, *ca, *cmdline, *work;
	bool no_reboot; /* tests: say what would happen and exit */
	bool tty;
	struct bootkit kit;
	char image[600]; /* the release image on the medium */
	char product[64], release[64];
	dev_t medium_dev;
	bool checked; /* the image passed the first verification */
	struct rel_manifest m;
	int last_pct;
	const char *last_what;
};

/* ------------------------------------------------------------ the medium */
struct medium_parse {
	char image[128], product[KIT_NAME_MAX], release[KIT_NAME_MAX];
	bool long_value;
};

/* Keeps a value, or notes that it does not fit (a cut name would be
 * another name). */
static void keep(struct medium_parse *p, char *dst, size_t len, const char *value)
{
	if (snprintf(dst, len, "%s", value) >= (int)len)
		p->long_value = true;
}

static int medium_kv(void *ctx, const char *key, const char *value, int line)
{
	struct medium_parse *p = ctx;

	(void)line;
	if (!strcmp(key, "image"))
		keep(p, p->image, sizeof(p->image), value);
	else if (!strcmp(key, "product"))
		keep(p, p->product, sizeof(p->product), value);
	else if (!strcmp(key, "release"))
		keep(p, p->release, sizeof(p->release), value);
	return 0; /* other keys: a later medium format, not ours to judge */
}

/* A file name in the medium's top directory, printable, as it was given. */
static bool plain_name(const char *s, bool long_value)
{
	if (long_value || !*s || *s == '.')
		return false;
	for (; *s; s++)
		if (*s == '/' || !isgraph((unsigned char)*s))
			return false;
	return true;
}

/* .space-medium names the image, and the product and release it is for:
 * they must be the boot kit's (init.sh checks that too, to pick the
 * medium); what the menu shows is the kit's. */
static int load_medium(struct ui *ui)
{
	struct medium_parse p = { "", "", "", false };
	char path[600];
	struct space_err err = { "" };
	struct stat st;
	int line = 0, r;

	snprintf(path, sizeof(path), "%s/%s", ui->medium, MEDIUM_CONF);
	r = kv_parse_file(path, 4096, medium_kv, &p, &line);
	if (r < 0)
		return die_err("medium", path, r, NULL);
	if (!plain_name(p.image, p.long_value))
		return die_err("medium", path, -SPACE_E_FORMAT, "'image' is not a plain file name");
	r = kit_load(ui->kit_dir, &ui->kit, &err);
	if (r < 0)
		return die_err("kit", ui->kit_dir, r, err.msg);
	if (strcmp(p.product, ui->kit.product) || strcmp(p.release, ui->kit.release)) {
		char prod[80], rel[80], msg[400];

		str_escape(prod, sizeof(prod), p.product, strlen(p.product), 0);
		str_escape(rel, sizeof(rel), p.release, strlen(p.release), 0);
		snprintf(msg, sizeof(msg), "it is for %s %s, this installer is %s %s", prod, rel, ui->kit.product,
			 ui->kit.release);
		return die_err("medium", path, -SPACE_E_FORMAT, msg);
	}
	snprintf(ui->product, sizeof(ui->product), "%s", ui->kit.product);
	snprintf(ui->release, sizeof(ui->release), "%s", ui->kit.release);
	snprintf(ui->image, sizeof(ui->image), "%s/%s", ui->medium, p.image);
	if (stat(ui->medium, &st) < 0)
		return die_err("medium", ui->medium, -errno, NULL);
	ui->medium_dev = st.st_dev;
	return 0;
}

/* --------------------------------------------------------- input, output */
static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* One line of input, trimmed and in lower case; -1 at end of input. A
 * line that does not fit, or holds control characters (a NUL ends a C
 * string), is refused whole and asked again: cut short, "y" followed by
 * anything would read as "y". */
static int ask(const char *prompt, char *buf, size_t len)
{
	for (;;) {
		size_t n = 0;
		bool over = false, ctl = false;
		int c;

		out("%s", prompt);
		while ((c = getchar()) != EOF && c != '\n') {
			ctl |= iscntrl(c) && c != '\t' && c != '\r';
			if (n + 1 < len)
				buf[n++] = (char)tolower(c);
			else
				over = true;
		}
		if (c == EOF && !n && !over)
			return -1;
		buf[n] = '\0';
		if (over || ctl) {
			out("That line is %s; type it again.\n", over ? "too long" : "not plain text");
			continue;
		}
		while (n && isspace((unsigned char)buf[n - 1]))
			buf[--n] = '\0';
		memmove(buf, buf + strspn(buf, " \t"), strlen(buf + strspn(buf, " \t")) + 1);
		return 0;
	}
}

enum choice { C_NONE = -1,
	      C_INSTALL,
	      C_REINSTALL,
	      C_RESCUE,
	      C_DISKS,
	      C_REBOOT,
	      C_POWEROFF,
	      C_N };

static const struct {
	const char *word, *help;
} choices[C_N] = {
	{ "install", "install onto a disk" },
	{ "reinstall", "wipe a disk that holds a system and install again; reboots by itself" },
	{ "rescue", "a shell" },
	{ "disks", "show the disks" },
	{ "reboot", "restart the machine" },
	{ "poweroff", "power the machine off" },
};

/* A number or a unique prefix of a word; C_NONE with why otherwise. */
static enum choice match(const char *in, char *why, size_t whylen)
{
	int found = C_NONE, n = 0;
	char *end;
	long v;

	if (!*in) {
		snprintf(why, whylen, "please choose one");
		return C_NONE;
	}
	v = strtol(in, &end, 10);
	if (isdigit((unsigned char)*in) && !*end) {
		if (v >= 1 && v <= C_N)
			return (enum choice)(v - 1);
		snprintf(why, whylen, "'%s' is not a choice", in);
		return C_NONE;
	}
	for (int i = 0; i < C_N; i++)
		if (!strncmp(choices[i].word, in, strlen(in))) {
			found = i;
			n++;
		}
	if (n == 1)
		return (enum choice)found;
	if (n == 0)
		snprintf(why, whylen, "'%s' is not a choice", in);
	else
		snprintf(why, whylen, "'%s' could be more than one choice: type more of the word", in);
	return C_NONE;
}

static void show_menu(const struct ui *ui)
{
	out("\n%s %s installer\n\n", ui->product, ui->release);
	for (int i = 0; i < C_N; i++)
		out("  %d  %-10s %s\n", i + 1, choices[i].word, choices[i].help);
}

static void show_disks(const struct ui *ui, const struct disk_list *l)
{
	uint64_t min = inst_min_disk(&ui->kit);
	char size[16], need[16];
	unsigned k = 0;

	disks_size_str(min, need);
	out("\n  #  disk        size        model                    id\n");
	for (unsigned i = 0; i < l->n; i++) {
		const struct disk *d = &l->d[i];

		disks_size_str(d->bytes, size);
		if (d->medium) {
			out("     %-10s  %-10s  the installation medium (not a target)\n", d->name, size);
			continue;
		}
		out("  %u  %-10s  %-10s  %-23.23s  %s\n", ++k, d->name, size, d->model, d->id[0] ? d->id : "-");
		out("                holds %s%s%s\n", d->what, d->bytes < min ? "; too small, needs " : "",
		    d->bytes < min ? need : "");
	}
	if (!k)
		out("  no disk found other than the installation medium\n");
	if (l->dropped)
		out("  (%u more disks not listed)\n", l->dropped);
}

/* The n-th offered disk (1-based, the medium skipped), or NULL. */
static const struct disk *offered(const struct disk_list *l, unsigned n)
{
	for (unsigned i = 0, k = 0; i < l->n; i++)
		if (!l->d[i].medium && ++k == n)
			return &l->d[i];
	return NULL;
}

/* Why d cannot take this install, or NULL when it can. */
static const char *unfit(const struct ui *ui, const struct disk *d, char *why, size_t whylen)
{
	char size[16], need[16];

	if (d->medium)
		snprintf(why, whylen, "%s is the installation medium", d->name);
	else if (d->readonly)
		snprintf(why, whylen, "%s is read-only", d->name);
	else if (d->bytes < inst_min_disk(&ui->kit)) {
		disks_size_str(d->bytes, size);
		disks_size_str(inst_min_disk(&ui->kit), need);
		snprintf(why, whylen, "%s is too small: %s, %s %s needs at least %s", d->name, size, ui->product,
			 ui->release, need);
	} else
		return NULL;
	return why;
}

/* ------------------------------------------------------------ the job */
static void on_progress(void *ctx, const char *what, uint64_t done, uint64_t total)
{
	struct ui *ui = ctx;
	int pct = total ? (int)(done * 100 / total) : 100;

	if (what == ui->last_what && pct == ui->last_pct)
		return;
	/* a line per 10% on a serial log that is not a terminal; \r updates otherwise */
	if (!ui->tty && pct % 10 && what == ui->last_what) {
		ui->last_pct = pct;
		return;
	}
	if (ui->tty)
		out("\r  %s: %3d%%%s", what, pct, pct == 100 ? "\n" : "");
	else
		out("  %s: %3d%%\n", what, pct);
	ui->last_what = what;
	ui->last_pct = pct;
}

static void on_say(void *ctx, const char *line)
{
	(void)ctx;
	out("  %s\n", line);
}

static void job_init(struct ui *ui, struct inst_job *j, const char *target, const char *log)
{
	memset(j, 0, sizeof(*j));
	j->image = ui->image;
	j->ca_file = ui->ca;
	j->kit = &ui->kit;
	j->target = target;
	j->work_dir = ui->work;
	j->log_path = log;
	j->progress = on_progress;
	j->say = on_say;
	j->ctx = ui;
}

/* The first verification, once: a damaged or renamed image is refused
 * before a disk is even chosen. */
static int check_image(struct ui *ui)
{
	struct inst_job j;
	struct space_err err = { "" };
	char log[600];
	int r;

	if (ui->checked)
		return 0;
	snprintf(log, sizeof(log), "%s/install.log", ui->work);
	job_init(ui, &j, NULL, log);
	out("Checking %s ...\n", strrchr(ui->image, '/') + 1);
	r = inst_check_image(&j, &err);
	if (r < 0) {
		out("The installation image is refused: %s\nNothing was written.\n", err.msg);
		return r;
	}
	ui->m = j.m;
	ui->checked = true;
	return 0;
}

static int finish(const struct ui *ui, enum choice after, int delay)
{
	const char *what = after == C_POWEROFF ? "Powering off" : "Rebooting";

	if (ui->no_reboot) {
		out("%s (not: --no-reboot).\n", what);
		return EXIT_OK;
	}
	if (delay) {
		out("%s in %d seconds.\n", what, delay);
		sleep((unsigned)delay);
	}
	out("%s.\n", what);
	sync();
	reboot(after == C_POWEROFF ? RB_POWER_OFF : RB_AUTOBOOT);
	return die_err(after == C_POWEROFF ? "poweroff" : "reboot", NULL, -errno, NULL);
}

/* The disk of that name now is the one listed (the confirmation named its
 * size, model and id): one pulled and another plugged in under the same
 * name while the menu waited must not be erased. */
static int still_listed(const struct ui *ui, const struct disk *d, char *why, size_t whylen)
{
	struct disk_list *l = calloc(1, sizeof(*l));
	const struct disk *now = NULL;
	char was[16], is[16];
	int r = l ? disks_scan(ui->root, ui->medium_dev, l) : -ENOMEM;

	if (r < 0)
		snprintf(why, whylen, "listing the disks again: %s", space_strerror(r));
	else if (!(now = disks_find(l, d->name)))
		r = -ENODEV;
	else if (now->bytes != d->bytes || strcmp(now->model, d->model) || strcmp(now->id, d->id))
		r = -ESTALE;
	if (r == -ENODEV)
		snprintf(why, whylen, "%s is gone", d->name);
	if (r == -ESTALE) {
		disks_size_str(d->bytes, was);
		disks_size_str(now->bytes, is);
		snprintf(why, whylen, "%s is not the disk listed: it is %s, %s, %s now, it was %s, %s, %s (replaced?)",
			 d->name, is, now->model, now->id[0] ? now->id : "no id", was, d->model,
			 d->id[0] ? d->id : "no id");
	}
	free(l);
	return r;
}

/* The install proper, once the disk is chosen and the user agreed. */
static int install_onto(struct ui *ui, const struct disk *d)
{
	struct inst_job j;
	struct space_err err = { "" };
	char log[600], size[16], desc[480], why[1024];
	int r;

	r = still_listed(ui, d, why, sizeof(why));
	if (r < 0) {
		out("\nNot installed: %s.\nNothing was written.\n", why);
		return r;
	}
	snprintf(log, sizeof(log), "%s/install.log", ui->work);
	job_init(ui, &j, d->dev, log);
	disks_size_str(d->bytes, size);
	snprintf(desc, sizeof(desc), "%s, %s, %s, held %s", size, d->model, d->id[0] ? d->id : "no id", d->what);
	j.target_desc = desc;
	out("\nInstalling %s %s onto %s (%s, %s).\n", ui->product, ui->release, d->name, size, d->model);
	ui->last_what = NULL;
	r = inst_run(&j, &err);
	if (r < 0) {
		out("\nInstall failed: %s\n", err.msg);
		if (j.state == INST_UNTOUCHED)
			out("Nothing was written to %s.\n", d->name);
		else if (j.state == INST_UNKNOWN)
			out("%s may still hold the new partition table: erase it (reinstall) before it boots.\n",
			    d->name);
		else
			out("%s was left without a partition table: it boots nothing, and this medium boots again.\n",
			    d->name);
		return r;
	}
	out("\nInstalled %s %s on %s. The log is in /var/log/install.log of the installed system.\n",
	    ui->product, ui->release, d->name);
	return 0;
}

/* ----------------------------------------------------------- interactive */
static const struct disk *choose_disk(struct ui *ui, const struct disk_list *l, bool reinstall)
{
	char in[64], why[200], prompt[256], def[48] = "";
	const struct disk *only = NULL;
	unsigned n = 0, fit = 0;

	for (unsigned i = 0; i < l->n; i++)
		if (!l->d[i].medium) {
			n++;
			/* the Enter default: for install a blank disk, for
			 * reinstall one that holds a system (as space.disk=first),
			 * never another system's or unknown data */
			if (!unfit(ui, &l->d[i], why, sizeof(why)) &&
			    l->d[i].holds == (reinstall ? HOLDS_SYSTEM : HOLDS_NOTHING)) {
				fit++;
				only = &l->d[i];
			}
		}
	show_disks(ui, l);
	if (!n)
		return NULL;
	/* A default only when there is exactly one disk it could be; the
	 * wipe confirmation (default no) still follows. */
	if (fit == 1)
		snprintf(def, sizeof(def), ", Enter for %s", only->name);
	snprintf(prompt, sizeof(prompt), "\nDisk [1-%u or a name%s, 'back' for the menu]: ", n, def);
	for (;;) {
		const struct disk *d;
		unsigned long v;

		if (ask(prompt, in, sizeof(in)) < 0 || !strcmp(in, "back") || !strcmp(in, "b"))
			return NULL;
		if (!*in && fit == 1)
			return only;
		/* a number within the list (strtoul wraps: 2^32 + 1 is not 1) */
		if (*in && strspn(in, "0123456789") == strlen(in)) {
			v = strtoul(in, NULL, 10);
			d = v <= n ? offered(l, (unsigned)v) : NULL;
		} else {
			d = disks_find(l, in);
		}
		if (!d) {
			out("'%s' is not one of the disks listed.\n", in);
			continue;
		}
		if (unfit(ui, d, why, sizeof(why))) {
			out("%s.\n", why);
			continue;
		}
		return d;
	}
}

static bool confirm(const struct ui *ui, const struct disk *d, bool reinstall)
{
	char in[64], size[16], prompt[800];

	disks_size_str(d->bytes, size);
	if (!reinstall && d->holds != HOLDS_NOTHING) {
		/* install is for blank disks: erasing one that holds something
		 * takes its name typed out (or the reinstall choice) */
		out("\n%s holds %s.\n", d->name, d->what);
		snprintf(prompt, sizeof(prompt), "Type the disk's name (%s) to erase it anyway, or Enter to go back: ",
			 d->name);
		return ask(prompt, in, sizeof(in)) == 0 && !strcmp(in, d->name);
	}
	snprintf(prompt, sizeof(prompt), "\nErase ALL data on %s (%s, %s, holds %s) and install %s %s? [y/N]: ",
		 d->name, size, d->model, d->what, ui->product, ui->release);
	return ask(prompt, in, sizeof(in)) == 0 && (!strcmp(in, "y") || !strcmp(in, "yes"));
}

static int menu_install(struct ui *ui, bool reinstall)
{
	struct disk_list *l = calloc(1, sizeof(*l));
	const struct disk *d;
	int r = l ? 0 : -ENOMEM;

	if (r == 0)
		r = check_image(ui);
	if (r == 0)
		r = disks_scan(ui->root, ui->medium_dev, l);
	if (r < 0) {
		free(l);
		return r;
	}
	d = choose_disk(ui, l, reinstall);
	if (!d || !confirm(ui, d, reinstall)) {
		out("Nothing was written.\n");
		free(l);
		return 1;
	}
	r = install_onto(ui, d);
	free(l);
	if (r < 0)
		return r;
	return finish(ui, C_REBOOT, 5) ? -EIO : 0;
}

static int menu(struct ui *ui)
{
	char in[64], why[160];

	show_menu(ui);
	for (;;) {
		enum choice c;
		struct disk_list *l;

		if (ask("\nChoice [1-6 or a word]: ", in, sizeof(in)) < 0)
			return die_err(NULL, "console", -EPIPE, "end of input");
		c = match(in, why, sizeof(why));
		switch (c) {
		case C_NONE:
			out("%s.\n", why);
			show_menu(ui);
			continue;
		case C_INSTALL:
		case C_REINSTALL:
			/* 0: installed, and the reboot did not happen (--no-reboot) */
			if (menu_install(ui, c == C_REINSTALL) == 0)
				return EXIT_OK;
			show_menu(ui);
			continue;
		case C_RESCUE:
			out("Starting a shell; leave it (exit) to come back to this menu.\n");
			return EXIT_OK;
		case C_DISKS:
			l = calloc(1, sizeof(*l));
			if (l && disks_scan(ui->root, ui->medium_dev, l) == 0)
				show_disks(ui, l);
			free(l);
			continue;
		case C_REBOOT:
		case C_POWEROFF:
			return finish(ui, c, 0);
		case C_N:
			break;
		}
	}
}

/* ------------------------------------------------------------ unattended */
struct unattended {
	enum choice action, after;
	char disk[64];
};

/* space.action= space.disk= space.after= from the kernel command line
 * (cmdline.c). 1 when space.action is given, 0 when not, -SPACE_E_FORMAT
 * with err saying why. */
static int read_cmdline(const struct ui *ui, struct unattended *u, struct space_err *err)
{
	static const enum choice action[] = {
		[ACT_NONE] = C_NONE,
		[ACT_INSTALL] = C_INSTALL,
		[ACT_REINSTALL] = C_REINSTALL,
		[ACT_RESCUE] = C_RESCUE,
	};
	struct inst_cmdline c;
	char buf[CMDLINE_MAX];
	ssize_t k = 0;
	int fd = open(ui->cmdline, O_RDONLY | O_CLOEXEC), r;

	if (fd >= 0) {
		k = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	r = inst_cmdline_parse(buf, k > 0 ? (size_t)k : 0, &c, err);
	u->action = action[c.action];
	u->after = c.after == AFTER_POWEROFF ? C_POWEROFF : C_REBOOT;
	snprintf(u->disk, sizeof(u->disk), "%s", c.disk);
	return r < 0 ? r : c.action != ACT_NONE;
}

/* space.disk=first: the first disk by name that fits and, for install,
 * is blank; for reinstall, that holds a system. */
static const struct disk *pick(const struct ui *ui, const struct disk_list *l, const struct unattended *u,
			       char *why, size_t whylen)
{
	const struct disk *d;

	if (strcmp(u->disk, "first")) {
		d = disks_find(l, u->disk);
		if (!d) {
			snprintf(why, whylen, "space.disk=%s: no such disk", u->disk);
			return NULL;
		}
		if (unfit(ui, d, why, whylen))
			return NULL;
		if (u->action == C_INSTALL && d->holds != HOLDS_NOTHING) {
			snprintf(why, whylen, "%s holds %s: install erases only blank disks (space.action=reinstall does)",
				 d->name, d->what);
			return NULL;
		}
		return d;
	}
	for (unsigned i = 0; i < l->n; i++) {
		d = &l->d[i];
		if (unfit(ui, d, why, whylen))
			continue;
		if (u->action == C_INSTALL ? d->holds == HOLDS_NOTHING : d->holds == HOLDS_SYSTEM)
			return d;
	}
	snprintf(why, whylen, "space.disk=first: no %s disk of at least %llu MiB",
		 u->action == C_INSTALL ? "blank" : "installed", (unsigned long long)(inst_min_disk(&ui->kit) >> 20));
	return NULL;
}

static int unattended(struct ui *ui, const struct unattended *u)
{
	struct disk_list *l = calloc(1, sizeof(*l));
	const struct disk *d;
	char why[300];
	int r = l ? 0 : -ENOMEM;

	out("\n%s %s installer: unattended %s (space.disk=%s, then %s)\n", ui->product, ui->release,
	    choices[u->action].word, u->disk, choices[u->after].word);
	if (r == 0)
		r = check_image(ui);
	if (r == 0)
		r = disks_scan(ui->root, ui->medium_dev, l);
	if (r == 0) {
		show_disks(ui, l);
		d = pick(ui, l, u, why, sizeof(why));
		if (!d) {
			out("Unattended %s refused: %s.\nNothing was written.\n", choices[u->action].word, why);
			r = -SPACE_E_FORMAT;
		} else {
			r = install_onto(ui, d);
		}
	}
	free(l);
	if (r < 0)
		return r;
	return finish(ui, u->after, 0);
}

/* 1 the first time this boot (the work directory is on /run), 0 after:
 * init.sh starts the installer again after the rescue shell or a failure,
 * with the same kernel command line. Its space.action= is done once;
 * after it the menu asks (an unattended install that failed must not run
 * again by itself, and the rescue shell's exit comes back to the menu).
 * A --cmdline FILE given by hand is not the kernel's: it runs each time. */
static int first_start(const struct ui *ui)
{
	char path[600];
	int fd;

	snprintf(path, sizeof(path), "%s/unattended.started", ui->work);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? 0 : -errno;
	close(fd);
	return 1;
}

/* ------------------------------------------------------------------ main */
static int usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: space-install [--medium DIR] [--kit DIR] [--ca FILE] [--root DIR] [--cmdline FILE]\n"
		"                     [--work DIR] [--no-reboot]\n"
		"  The installer menu; space.action=install|reinstall|rescue, space.disk=first|/dev/X and\n"
		"  space.after=reboot|poweroff on the kernel command line run it unattended, once a boot\n"
		"  (a second start, after the rescue shell or a failure, is the menu; not with --cmdline).\n"
		"  It reboots or powers off by itself. Exit: 0 the rescue shell was asked for; 1 refused\n"
		"  (a bad medium); 100 usage; 111 system failure (README.md, Exit codes).\n");
	return code;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "medium", required_argument, NULL, 'm' },
		{ "kit", required_argument, NULL, 'k' },
		{ "ca", required_argument, NULL, 'c' },
		{ "root", required_argument, NULL, 'r' },
		{ "cmdline", required_argument, NULL, 'C' },
		{ "work", required_argument, NULL, 'w' },
		{ "no-reboot", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ui ui = {
		.root = "",
		.medium = "/run/medium",
		.kit_dir = "/usr/share/space-install/kit",
		.ca = "/etc/space/root-ca.pem",
		.work = "/run/space-install",
		.last_pct = -1,
	};
	struct unattended u;
	char cmdline[600];
	struct space_err err = { "" };
	bool cmdline_given;
	int c, r;

	space_prog = "space-install";
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'm': ui.medium = optarg; break;
		case 'k': ui.kit_dir = optarg; break;
		case 'c': ui.ca = optarg; break;
		case 'r': ui.root = optarg; break;
		case 'C': ui.cmdline = optarg; break;
		case 'w': ui.work = optarg; break;
		case 'n': ui.no_reboot = true; break;
		case 'h': return usage(EXIT_OK);
		default: return usage(EXIT_USAGE);
		}
	}
	if (optind != argc)
		return usage(EXIT_USAGE);
	cmdline_given = ui.cmdline != NULL;
	if (!ui.cmdline) {
		snprintf(cmdline, sizeof(cmdline), "%s/proc/cmdline", ui.root);
		ui.cmdline = cmdline;
	}
	ui.tty = isatty(STDOUT_FILENO);
	r = mkdir_p(ui.work, 0700);
	if (r < 0)
		return die_err(NULL, ui.work, r, NULL);
	r = load_medium(&ui);
	if (r)
		return r;
	r = read_cmdline(&ui, &u, &err);
	if (r < 0)
		out("Kernel command line: %s; starting the menu.\n", err.msg);
	if (r > 0 && !cmdline_given) { /* --cmdline FILE: asked for by hand, each time */
		r = first_start(&ui);
		if (r < 0)
			return die_err(NULL, ui.work, r, NULL);
		if (!r)
			out("Kernel command line: space.action=%s was run already; starting the menu.\n",
			    choices[u.action].word);
	}
	if (r > 0 && u.action == C_RESCUE)
		return EXIT_OK;
	if (r > 0) {
		r = unattended(&ui, &u);
		if (r == 0)
			return EXIT_OK;
		out("The unattended %s did not complete; starting the menu.\n", choices[u.action].word);
	}
	return menu(&ui);
}
