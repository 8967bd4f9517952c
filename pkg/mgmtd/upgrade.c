/* SPDX-License-Identifier: MIT */
/* upgrade.c - the API job of spacectl upgrade: upload, start, status; the
 * upload and the detached child serve the hot-patch job too. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdio.h"
#include "pkg/libmgmt/upgstatus.h"
#include "upgrade.h"
#include "util.h"

extern char **environ;

/* Writeback is started for every UPLOAD_FLUSH bytes received, see
 * upload_flush(). */
#define UPLOAD_FLUSH (4LL << 20)
static int lower_or_digit(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
}

static int ver_char(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '.';
}

int upgrade_name_ok(const char *name)
{
	size_t n = strnlen(name, UPG_NAME_MAX), i = 1;

	if (n >= UPG_NAME_MAX || n < 7 || strcmp(name + n - 4, ".img") || !(name[0] >= 'a' && name[0] <= 'z'))
		return 0;
	while (i < n && lower_or_digit(name[i]))
		i++;
	if (name[i] != '-' || !(name[i + 1] >= '0' && name[i + 1] <= '9'))
		return 0;
	for (i++; i < n - 4; i++)
		if (!ver_char(name[i]) || (name[i] == '.' && name[i + 1] == '.'))
			return 0;
	return name[n - 5] != '.';
}

const struct upload_kind upload_image = { "image", "<product>-<version>.img", upgrade_name_ok };

/* ------------------------------------------------------------ upload */

/* Free bytes for an unprivileged writer, as df shows them. */
static int free_bytes(const char *dir, long long *out)
{
	struct statvfs sv;

	if (statvfs(dir, &sv) < 0)
		return -errno;
	*out = (long long)sv.f_bavail * (long long)sv.f_frsize;
	return 0;
}

static int upload_room(const struct mgmtd_conf *c, long long size, struct space_err *err)
{
	long long avail = 0;
	int r = free_bytes(c->upload_dir, &avail);

	if (r < 0)
		return err_set(err, r, "%s: %s", c->upload_dir, space_strerror(r));
	if (avail - size < c->upload_keep_free)
		return err_set(err, -ENOSPC,
			       "not enough space in %s: %lld bytes free, %lld needed (%lld for the upload, %lld kept free)",
			       c->upload_dir, avail, size + c->upload_keep_free, size, c->upload_keep_free);
	return 0;
}

/* The image gets its blocks now: a full filesystem refuses the upload
 * before any byte is sent, not after hundreds of megabytes. */
static int upload_reserve(struct upload *u)
{
	int r = posix_fallocate(u->of.fd, 0, (off_t)u->size);

	return r == EOPNOTSUPP || r == EINVAL ? 0 : -r;
}

static int upload_digest(struct upload *u)
{
	if (!(u->md = EVP_MD_CTX_new()) || EVP_DigestInit_ex(u->md, EVP_sha256(), NULL) != 1)
		return -ENOMEM;
	return 0;
}

int upload_begin(struct upload *u, const struct upload_kind *k, const struct mgmtd_conf *c, const char *name,
		 long long size, const char *user, time_t now, struct space_err *err)
{
	char *path;
	int r;

	if (u->active)
		return err_set(err, -EBUSY, "an upload is in progress (%s); one at a time", u->name);
	if (!k->name_ok(name))
		return err_set(err, -EINVAL, "%s name must be %s (a plain name, at most %d bytes): %s", k->what,
			       k->rule, UPG_NAME_MAX - 1, name);
	if (size > c->upload_max)
		return err_set(err, -EFBIG, "%s of %lld bytes is over upload_max (%lld)", k->what, size,
			       c->upload_max);
	if ((r = mkdir_p(c->upload_dir, 0750)) < 0 || (r = upload_room(c, size, err)) < 0) {
		if (r != -ENOSPC)
			err_set(err, r, "%s: %s", c->upload_dir, space_strerror(r));
		return r;
	}
	if (!(path = xasprintf("%s/%s", c->upload_dir, name)))
		return -ENOMEM;
	r = outfile_open(&u->of, path, 0640);
	free(path);
	if (r < 0) {
		return err_set(err, r, "cannot create the upload in %s: %s", c->upload_dir, space_strerror(r));
	}
	u->size = size;
	u->received = u->flushed = 0;
	if ((r = upload_reserve(u)) < 0 || (r = upload_digest(u)) < 0) {
		if (r == -ENOSPC)
			err_set(err, r, "not enough space in %s for %lld bytes", c->upload_dir, size);
		else
			err_set(err, r, "%s: %s", c->upload_dir, space_strerror(r));
		EVP_MD_CTX_free(u->md);
		u->md = NULL;
		outfile_abort(&u->of);
		return r;
	}
	snprintf(u->name, sizeof(u->name), "%s", name);
	snprintf(u->user, sizeof(u->user), "%s", user);
	u->kind = k;
	u->started = now;
	u->active = 1;
	return 0;
}

/* Start the writeback of each UPLOAD_FLUSH bytes once they are complete
 * and wait for the previous ones: at most two of them are dirty at a
 * time, so the fsync of upload_commit() is short. Without it a 700 MB
 * image is written back inside that one fsync, seconds in which the event
 * loop serves no other client. Errors show up in the fsync. */
static void upload_flush(struct upload *u)
{
	while (u->received - u->flushed >= UPLOAD_FLUSH) {
		sync_file_range(u->of.fd, u->flushed, UPLOAD_FLUSH, SYNC_FILE_RANGE_WRITE);
		if (u->flushed >= UPLOAD_FLUSH)
			sync_file_range(u->of.fd, u->flushed - UPLOAD_FLUSH, UPLOAD_FLUSH,
					SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
						SYNC_FILE_RANGE_WAIT_AFTER);
		u->flushed += UPLOAD_FLUSH;
	}
}

int upload_write(struct upload *u, const void *p, size_t n)
{
	int r;

	if (!u->active || (long long)n > u->size - u->received)
		return -EINVAL;
	if ((r = fd_write_full(u->of.fd, p, n)) < 0)
		return r;
	if (EVP_DigestUpdate(u->md, p, n) != 1)
		return -ENOMEM;
	u->received += (long long)n;
	upload_flush(u);
	return 0;
}

static void upload_reset(struct upload *u)
{
	EVP_MD_CTX_free(u->md);
	memset(u, 0, sizeof(*u));
}

int upload_commit(struct upload *u, char sha256[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int r;

	if (!u->active)
		return -EINVAL;
	if (u->received != u->size || EVP_DigestFinal_ex(u->md, md, &mdlen) != 1 || mdlen != 32) {
		upload_abort(u);
		return -EIO;
	}
	hex_encode(md, mdlen, sha256);
	r = outfile_commit(&u->of);
	upload_reset(u);
	return r;
}

void upload_abort(struct upload *u)
{
	if (!u->active)
		return;
	outfile_abort(&u->of);
	upload_reset(u);
}

void upload_clean(const char *dir)
{
	static const struct upload_kind *const kinds[] = { &upload_image, &upload_bundle };
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *t = NULL, name[UPG_NAME_MAX];

		/* outfile's NAME.tmp.<pid>: the last ".tmp." (NAME may hold one) */
		for (char *f = strstr(e->d_name, ".tmp."); f; f = strstr(f + 1, ".tmp."))
			t = f;

		if (!t || (size_t)(t - e->d_name) >= sizeof(name) || !t[5] ||
		    strspn(t + 5, "0123456789") != strlen(t + 5))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(t - e->d_name), e->d_name);
		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (kinds[i]->name_ok(name)) {
				unlinkat(dirfd(d), e->d_name, 0);
				break;
			}
	}
	closedir(d);
}

/* ------------------------------------------------------------ the job */

int upload_path(const struct mgmtd_conf *c, const struct upload_kind *k, const char *file, char **path)
{
	struct stat st;
	int r;

	*path = NULL;
	if (!k->name_ok(file))
		return -EINVAL;
	if (!(*path = xasprintf("%s/%s", c->upload_dir, file)))
		return -ENOMEM;
	if (lstat(*path, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -SPACE_E_NOT_REG;
	else
		return 0;
	free(*path);
	*path = NULL;
	return r;
}

/* The child is detached from mgmtd: its own session (a restart of mgmtd
 * by the watchdog, which signals mgmtd's process group, does not stop a
 * slot write or a hot patch; once mgmtd is gone the watchdog, a
 * subreaper, or init reaps it), and not mgmtd's blocked signals or
 * ignored SIGPIPE, which it would inherit. */
static int spawn_detached(pid_t *pid, const char *prog, char *const argv[], int out)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	int r;

	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, out, 2);
	r = posix_spawn(pid, prog, &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return -r;
}

int child_start(struct child_job *j, char *const argv[], const char *file, int flag, const char *user,
		const char *output, time_t now)
{
	int r, out;
	pid_t pid;

	if (j->pid)
		return -EBUSY;
	out = open(output, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (out < 0)
		return -errno;
	if ((r = spawn_detached(&pid, argv[0], argv, out)) == 0) {
		memset(j, 0, sizeof(*j));
		j->pid = pid;
		j->ran = 1;
		snprintf(j->file, sizeof(j->file), "%s", file);
		snprintf(j->user, sizeof(j->user), "%s", user);
		snprintf(j->output, sizeof(j->output), "%s", output);
		j->flag = flag;
		j->started = now;
	}
	close(out);
	return r;
}

int upgrade_start(struct child_job *j, const struct mgmtd_conf *c, const char *path, const char *file,
		  int reboot, const char *user, const char *output, time_t now)
{
	char *argv[5];
	int n = 0;

	argv[n++] = c->spacectl;
	argv[n++] = (char *)"upgrade";
	if (reboot)
		argv[n++] = (char *)"--reboot";
	argv[n++] = (char *)path;
	argv[n] = NULL;
	return child_start(j, argv, file, reboot, user, output, now);
}

int child_reap(struct child_job *j, time_t now)
{
	int st;

	if (!j->pid || waitpid(j->pid, &st, WNOHANG) != j->pid)
		return 0;
	j->pid = 0;
	j->wstatus = st;
	j->finished = now;
	return 1;
}

/* ------------------------------------------------------------ JSON */

void upgrade_status_members(struct jw *w, const char *path)
{
	struct upg_status s;
	int line, r;

	upg_status_init(&s);
	r = upg_status_load(path, &s, &line);
	if (r < 0) {
		upg_status_init(&s);
		strcpy(s.state, "unknown");
		if (line)
			snprintf(s.reason, sizeof(s.reason), "%s: line %d: %s", path, line, space_strerror(r));
		else
			snprintf(s.reason, sizeof(s.reason), "%s: %s", path, space_strerror(r));
	} else if (!s.state[0]) {
		strcpy(s.state, "unknown");
		snprintf(s.reason, sizeof(s.reason), "%s: no state", path);
	}
	upg_status_json(w, &s);
}

void child_job_json(struct jw *w, const struct child_job *j, const char *flag_name)
{
	if (!j->ran) {
		jw_null(w);
		return;
	}
	jw_obj_begin(w);
	jw_kstr(w, "file", j->file);
	jw_kbool(w, flag_name, j->flag);
	jw_kstr(w, "user", j->user);
	jw_kint(w, "started", (long long)j->started);
	jw_kbool(w, "running", j->pid != 0);
	if (!j->pid) {
		jw_kint(w, "finished", (long long)j->finished);
		if (WIFEXITED(j->wstatus))
			jw_kint(w, "exit", WEXITSTATUS(j->wstatus));
		else
			jw_kint(w, "signal", WTERMSIG(j->wstatus));
	}
	jw_kstr(w, "output", j->output);
	jw_obj_end(w);
}

void upload_json(struct jw *w, const struct upload *u)
{
	if (!u->active) {
		jw_null(w);
		return;
	}
	jw_obj_begin(w);
	jw_kstr(w, "file", u->name);
	jw_kstr(w, "kind", u->kind->what);
	jw_kstr(w, "user", u->user);
	jw_kint(w, "size", u->size);
	jw_kint(w, "received", u->received);
	jw_kint(w, "started", (long long)u->started);
	jw_obj_end(w);
}
