/* SPDX-License-Identifier: MIT */
/* state.c - the reader of a node's hot-patch state (state.h): the release,
 * the installed level from the markers, the applied manifest, the journal,
 * the progress file and the history. Every read is bounded, and a part
 * that is missing or unreadable is left empty: the inventory of a node
 * never patched, or with one damaged file, still shows the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "kv.h"
#include "pkg/libmgmt/release.h"
#include "fdio.h"
#include "openreg.h"
#include "state.h"
#include "strescape.h"
#include "util.h"

/* A history line is at most about 330 bytes (state.h), HP_HISTORY_MAX of
 * them about 21 KiB; a longer file (a tool that did not trim it) is read
 * from its end, where the newest lines are. */
#define HISTORY_READ_MAX (64u << 10)
/* The journal and the progress file are a few short lines. */
#define KV_FILE_MAX (16u << 10)

/* ------------------------------------------------------------ markers */

/* The highest marker level of patch release prel, and its name. */
static int marker_level(const char *root, const char *prel, unsigned *level, char name[HP_NAME_MAX])
{
	char *dir = path_join_alloc(root, HP_MARKER_DIR);
	struct hotpatch *hp = NULL;
	int n = dir ? hotpatch_list(dir, &hp) : -ENOMEM;

	free(dir);
	*level = 0;
	name[0] = '\0';
	if (n < 0)
		return n;
	/* sorted by release then number: the last match is the highest */
	for (int i = 0; i < n; i++) {
		if (strcmp(hp[i].release, prel) || hp[i].number > HP_MAX_LEVEL ||
		    strlen(hp[i].name) >= HP_NAME_MAX)
			continue;
		*level = (unsigned)hp[i].number;
		memcpy(name, hp[i].name, strlen(hp[i].name) + 1);
	}
	hotpatch_free(hp, n);
	return 0;
}

int hp_installed_level(const char *root, const char *rel)
{
	char prel[REL_VERSION_MAX], name[HP_NAME_MAX];
	unsigned level;
	int r;

	/* the node's release (21.3R1.1) or already the patch release (21.3R1) */
	if (hp_patch_release(rel, prel) < 0)
		snprintf(prel, sizeof(prel), "%s", rel);
	r = marker_level(root, prel, &level, name);
	return r < 0 ? r : (int)level;
}

/* ------------------------------------------------------------ applied */

/* The applied manifest, when it is the installed level's: after an A/B
 * upgrade the data partition still holds the old release's. */
static struct hp_manifest *read_applied(const char *root, const char *prel, unsigned level)
{
	char *path = path_join_alloc(root, HP_STATE_DIR "/applied"), *text = NULL;
	struct hp_manifest *m = NULL;
	size_t len = 0;

	if (!path || read_file_at(AT_FDCWD, path, O_NOFOLLOW, HP_MANIFEST_MAX, &text, &len) < 0)
		goto out;
	if (!(m = malloc(sizeof(*m))))
		goto out;
	if (hp_manifest_parse(text, len, m, NULL) < 0 || m->patch != level ||
	    strcmp(m->release, prel)) {
		free(m);
		m = NULL;
	}
out:
	free(text);
	free(path);
	return m;
}

/* ------------------------------------------------------------ journal, progress */

static void copy(char *dst, size_t dsz, const char *v)
{
	snprintf(dst, dsz, "%s", v);
}

/* A decimal number of our own files: digits only (no sign, no space). */
static int number(const char *s, long long max, long long *out)
{
	if (!*s || s[strspn(s, "0123456789")])
		return -SPACE_E_FORMAT;
	return kv_int(s, 0, max, 0, out);
}

static unsigned level_value(const char *v)
{
	long long n;

	return number(v, HP_MAX_LEVEL, &n) == 0 ? (unsigned)n : 0;
}

static time_t time_value(const char *v)
{
	long long n;

	return number(v, 1LL << 62, &n) == 0 ? (time_t)n : 0;
}

struct journal {
	struct hp_status *st;
	char build[REL_NAME_MAX];
};

static int journal_cb(void *ctx, const char *key, const char *v, int line)
{
	struct journal *j = ctx;
	struct hp_status *st = j->st;

	(void)line;
	if (!strcmp(key, HP_J_ACTION))
		copy(st->action, sizeof(st->action), v);
	else if (!strcmp(key, HP_J_STEP))
		copy(st->step, sizeof(st->step), v);
	else if (!strcmp(key, HP_J_FROM))
		st->from = level_value(v);
	else if (!strcmp(key, HP_J_TO))
		st->to = level_value(v);
	else if (!strcmp(key, HP_J_BUILD))
		copy(j->build, sizeof(j->build), v);
	return 0;
}

/* A journal that exists is an operation in progress, even when it cannot
 * be read whole; but one written by the other slot's build waits for that
 * slot (the tool leaves it alone) and is not this slot's operation. */
static void read_journal(const char *root, const char *build, struct hp_status *st)
{
	char *path = path_join_alloc(root, HP_STATE_DIR "/journal");
	struct journal j = { .st = st };
	int r = path ? kv_parse_file(path, KV_FILE_MAX, journal_cb, &j, NULL) : -ENOMEM;

	free(path);
	if (r == -ENOENT || r == -ENOTDIR || r == -ENOMEM || (j.build[0] && build[0] && strcmp(j.build, build))) {
		st->action[0] = st->step[0] = '\0';
		st->from = st->to = 0;
		return;
	}
	st->in_progress = true;
}

static int progress_cb(void *ctx, const char *key, const char *v, int line)
{
	struct hp_progress *p = ctx;
	long long n;

	(void)line;
	if (!strcmp(key, HP_P_ACTION))
		copy(p->action, sizeof(p->action), v);
	else if (!strcmp(key, HP_P_NAME))
		copy(p->name, sizeof(p->name), v);
	else if (!strcmp(key, HP_P_STATE))
		copy(p->state, sizeof(p->state), v);
	else if (!strcmp(key, HP_P_STEP))
		copy(p->step, sizeof(p->step), v);
	else if (!strcmp(key, HP_P_MESSAGE))
		copy(p->message, sizeof(p->message), v);
	else if (!strcmp(key, HP_P_STARTED))
		p->started = time_value(v);
	else if (!strcmp(key, HP_P_FINISHED))
		p->finished = time_value(v);
	else if (!strcmp(key, HP_P_PID))
		p->pid = number(v, 1L << 30, &n) == 0 ? (long)n : 0;
	return 0;
}

/* Is the process pid there? Only ESRCH says it is gone (EPERM: it is
 * there, another user's). */
static bool pid_alive(long pid)
{
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno != ESRCH);
}

/* The job. One the file says is running whose process is gone (killed, or
 * a power cut before `hotpatch recover` rewrote the file) is
 * "interrupted": a client polling for the end of a job must not wait for
 * one that never ends. */
static void read_progress(const char *root, struct hp_progress *p)
{
	char *path = path_join_alloc(root, HP_STATE_DIR "/progress");
	int r = path ? kv_parse_file(path, KV_FILE_MAX, progress_cb, p, NULL) : -ENOMEM;

	free(path);
	if (r < 0 || !p->state[0]) {
		memset(p, 0, sizeof(*p));
		return;
	}
	p->present = true;
	if (!strcmp(p->state, "running") && !pid_alive(p->pid))
		snprintf(p->state, sizeof(p->state), "interrupted");
}

/* ------------------------------------------------------------ history */

static int one_of(const char *s, const char *const set[])
{
	for (; *set; set++)
		if (!strcmp(s, *set))
			return 1;
	return 0;
}

/* The next space-separated word of *p into out (outsz bytes): -1 when it
 * is empty or does not fit. */
static int word(const char **p, char *out, size_t outsz)
{
	size_t n = strcspn(*p, " ");

	if (!n || n >= outsz)
		return -1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n + ((*p)[n] == ' ');
	return 0;
}

/* A reason longer than the field is cut at a character boundary: the
 * operation is still worth listing. */
static void copy_reason(char *dst, const char *s)
{
	size_t n = strlen(s);

	if (n >= HP_REASON_MAX) {
		n = HP_REASON_MAX - 1;
		while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

int hp_history_parse(const char *line, struct hp_history *h)
{
	static const char *const actions[] = { "apply", "reinstall", "rollback", "recover", NULL };
	static const char *const results[] = { "ok", "failed", "rolled-back", NULL };
	char t[24], from[8], to[8];
	const char *p = line;
	long long n;

	memset(h, 0, sizeof(*h));
	if (!str_printable(line, 0))
		goto bad;
	if (word(&p, t, sizeof(t)) < 0 || number(t, 1LL << 62, &n) < 0)
		goto bad;
	h->time = (time_t)n;
	if (word(&p, h->action, sizeof(h->action)) < 0 || !one_of(h->action, actions) ||
	    word(&p, from, sizeof(from)) < 0 || word(&p, to, sizeof(to)) < 0 ||
	    word(&p, h->result, sizeof(h->result)) < 0 || !one_of(h->result, results))
		goto bad;
	if (number(from, HP_MAX_LEVEL, &n) < 0)
		goto bad;
	h->from = (unsigned)n;
	if (number(to, HP_MAX_LEVEL, &n) < 0)
		goto bad;
	h->to = (unsigned)n;
	copy_reason(h->reason, p);
	return 0;
bad:
	memset(h, 0, sizeof(*h));
	return -SPACE_E_FORMAT;
}

/* The last HISTORY_READ_MAX bytes of the file (whole lines only) into a
 * NUL-terminated malloc'd buffer. */
static int history_tail(const char *path, char **out)
{
	struct stat sb;
	char *text = NULL;
	size_t len;
	off_t off;
	int fd = open_regular(AT_FDCWD, path, O_RDONLY | O_NOFOLLOW, 0, 0), r;

	*out = NULL;
	if (fd < 0)
		return fd;
	if (fstat(fd, &sb) < 0) {
		r = -errno;
		goto out;
	}
	len = (size_t)sb.st_size > HISTORY_READ_MAX ? HISTORY_READ_MAX : (size_t)sb.st_size;
	off = sb.st_size - (off_t)len;
	if (!(text = malloc(len + 1))) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = fd_pread_full(fd, text, len, (uint64_t)off)) < 0)
		goto out;
	text[len] = '\0';
	/* a cut first line is no line */
	if (off > 0) {
		char *nl = memchr(text, '\n', len);
		if (nl)
			memmove(text, nl + 1, len - (size_t)(nl + 1 - text) + 1);
		else
			text[0] = '\0';
	}
	*out = text;
	text = NULL;
out:
	free(text);
	close(fd);
	return r;
}

/* The last HP_HISTORY_MAX well-formed lines, oldest first. */
static void read_history(const char *root, struct hp_status *st)
{
	char *path = path_join_alloc(root, HP_STATE_DIR "/history"), *text = NULL, *line, *save = NULL;
	struct hp_history h;
	unsigned total = 0;

	if (!path || history_tail(path, &text) < 0)
		goto out;
	/* a ring: the newest HP_HISTORY_MAX stay */
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (hp_history_parse(line, &h) < 0)
			continue;
		st->hist[total % HP_HISTORY_MAX] = h;
		total++;
	}
	if (total > HP_HISTORY_MAX) {
		struct hp_history tmp[HP_HISTORY_MAX];
		unsigned first = total % HP_HISTORY_MAX;
		for (unsigned i = 0; i < HP_HISTORY_MAX; i++)
			tmp[i] = st->hist[(first + i) % HP_HISTORY_MAX];
		memcpy(st->hist, tmp, sizeof(tmp));
	}
	st->nhist = total > HP_HISTORY_MAX ? HP_HISTORY_MAX : total;
out:
	free(text);
	free(path);
}

/* ------------------------------------------------------------ status */

/* The node's release file into rel and st->release; err on failure. */
static int node_release(const char *root, struct release *rel, struct hp_status *st, struct space_err *err)
{
	char *path = path_join_alloc(root, "etc/space-release");
	const char *what = NULL;
	int r = path ? release_read(path, rel) : -ENOMEM;

	if (r == 0 && !rel->version[0])
		r = -SPACE_E_FORMAT, what = "no VERSION";
	else if (r == 0 && strlen(rel->version) >= sizeof(st->release))
		r = -SPACE_E_FORMAT, what = "VERSION too long";
	if (r == 0)
		memcpy(st->release, rel->version, strlen(rel->version) + 1);
	else
		err_set(err, r, "%s: %s", path ? path : "release file", what ? what : space_strerror(r));
	if (r < 0)
		memset(rel, 0, sizeof(*rel));
	free(path);
	return r;
}

int hp_status_read(const char *root, struct hp_status *st, struct space_err *err)
{
	char prel[REL_VERSION_MAX];
	struct release rel;
	int r;

	memset(st, 0, sizeof(*st));
	err_clear(err);
	r = node_release(root, &rel, st, err);
	/* the level and its manifest need the release; the operation and the
	 * history are shown without it */
	if (r == 0 && hp_patch_release(rel.version, prel) == 0 &&
	    marker_level(root, prel, &st->level, st->name) == 0 && st->level)
		st->applied = read_applied(root, prel, st->level);
	read_journal(root, rel.build_id, st);
	read_progress(root, &st->progress);
	read_history(root, st);
	return r;
}

void hp_status_free(struct hp_status *st)
{
	free(st->applied);
	st->applied = NULL;
}

/* ------------------------------------------------------------ JSON */

static void json_manifest(struct jw *w, const struct hp_manifest *m)
{
	char ver[2 * HP_TOKEN_MAX + 1];

	jw_key(w, "fixes");
	jw_arr_begin(w);
	for (unsigned i = 0; m && i < m->nfix; i++) {
		jw_obj_begin(w);
		jw_kint(w, "level", m->fix[i].level);
		jw_kstr(w, "id", m->fix[i].id);
		jw_kstr(w, "text", m->fix[i].text);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "packages");
	jw_arr_begin(w);
	for (unsigned i = 0; m && i < m->npkg; i++) {
		snprintf(ver, sizeof(ver), "%s-%s", m->pkg[i].version, m->pkg[i].release);
		jw_obj_begin(w);
		jw_kstr(w, "name", m->pkg[i].name);
		jw_kstr(w, "version", ver);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void json_journal(struct jw *w, const struct hp_status *st)
{
	jw_key(w, "in_progress");
	if (!st->in_progress) {
		jw_null(w);
		return;
	}
	jw_obj_begin(w);
	jw_kstr(w, "action", st->action);
	jw_kstr(w, "step", st->step);
	jw_kint(w, "from", st->from);
	jw_kint(w, "to", st->to);
	jw_obj_end(w);
}

static void json_history(struct jw *w, const struct hp_status *st)
{
	jw_key(w, "history");
	jw_arr_begin(w);
	for (unsigned i = 0; i < st->nhist; i++) {
		const struct hp_history *h = &st->hist[i];
		jw_obj_begin(w);
		jw_kint(w, "time", (long long)h->time);
		jw_kstr(w, "action", h->action);
		jw_kint(w, "from", h->from);
		jw_kint(w, "to", h->to);
		jw_kstr(w, "result", h->result);
		jw_kstr(w, "reason", h->reason);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void json_job(struct jw *w, const struct hp_progress *p)
{
	jw_key(w, "job");
	if (!p->present) {
		jw_null(w);
		return;
	}
	jw_obj_begin(w);
	jw_kstr(w, "action", p->action);
	jw_kstr(w, "name", p->name);
	jw_kstr(w, "state", p->state);
	jw_kstr(w, "step", p->step);
	jw_kstr(w, "message", p->message);
	jw_kint(w, "started", (long long)p->started);
	jw_key(w, "finished");
	if (p->finished)
		jw_int(w, (long long)p->finished);
	else
		jw_null(w); /* still running */
	jw_obj_end(w);
}

void hp_status_json(struct jw *w, const struct hp_status *st)
{
	jw_obj_begin(w);
	jw_kstr(w, "release", st->release);
	jw_kint(w, "level", st->level);
	jw_kstr(w, "name", st->level ? st->name : NULL);
	json_manifest(w, st->applied);
	json_journal(w, st);
	json_history(w, st);
	json_job(w, &st->progress);
	jw_obj_end(w);
}
