/* SPDX-License-Identifier: MIT */
/* upgrade.h - the API job of `spacectl upgrade` (issue 7): a release image
 * uploaded into upload_dir, `spacectl upgrade` started on it as a detached
 * child, and its progress read back from the status file that spacectl
 * writes (KEY = VALUE, the contract of issue 7). The API: UPGRADE.md.
 * The upload and the detached child serve the hot-patch job too
 * (hotpatch.h): an upload is of a kind (struct upload_kind), a child is
 * any program's (struct child_job).
 *
 * No sockets here: mgmtd's event loop streams a request body in with
 * upload_write() and reaps the child with child_reap(). One upload and
 * one job of each kind at a time; both are bounded (upload_max,
 * upload_keep_free).
 */
#ifndef MGMTD_UPGRADE_H
#define MGMTD_UPGRADE_H

#include <sys/types.h>
#include <time.h>

#include <openssl/evp.h>

#include "conf.h"
#include "json.h"
#include "outfile.h"

/* <product>-<version>.img is bound into the image's signed manifest
 * (file = ...), a plain tar member name: at most 100 bytes. */
#define UPG_NAME_MAX 101
#define UPG_USER_MAX 128

/* What an upload holds: the rule of its name (a plain file name, checked
 * before anything is created) and the words for it in answers. */
struct upload_kind {
	const char *what; /* "image" */
	const char *rule; /* "<product>-<version>.img" */
	int (*name_ok)(const char *name);
};
extern const struct upload_kind upload_image;  /* release images, PUT upgrade/image/NAME */
extern const struct upload_kind upload_bundle; /* hot patches, PUT hotpatch/bundle/NAME (hotpatch.c) */

struct upload {
	int active;
	const struct upload_kind *kind;
	char name[UPG_NAME_MAX];
	char user[UPG_USER_MAX];
	long long size, received;
	long long flushed; /* bytes whose writeback was started */
	time_t started;    /* wall clock */
	struct outfile of; /* NAME.tmp.<pid> until upload_commit() */
	EVP_MD_CTX *md;    /* SHA-256 of what was received */
};

/* A program mgmtd started on an uploaded file, detached (child_start). */
struct child_job {
	pid_t pid; /* the running child, or 0 */
	int ran;   /* one was started since mgmtd started */
	char file[UPG_NAME_MAX];
	char user[UPG_USER_MAX];
	int flag; /* upgrade --reboot, hotpatch --reinstall */
	time_t started, finished;
	int wstatus;      /* waitpid() status once finished */
	char output[256]; /* its stdout and stderr */
};

/* A plain <product>-<version>.img: product [a-z][a-z0-9_]*, version
 * [0-9][0-9A-Za-z.]* without "..", at most UPG_NAME_MAX - 1 bytes. */
int upgrade_name_ok(const char *name);

/* Open an upload of kind k, size bytes named name, into c->upload_dir.
 * Returns 0, or -EBUSY (another upload runs, of any kind), -EFBIG (over
 * upload_max), -ENOSPC (the filesystem would keep less than
 * upload_keep_free), -EINVAL (not k's name), a negative errno; err says it
 * in one line. */
int upload_begin(struct upload *u, const struct upload_kind *k, const struct mgmtd_conf *c, const char *name,
		 long long size, const char *user, time_t now, struct space_err *err);
/* n more bytes (the caller never passes more than size in all). Returns 0
 * or a negative errno; the upload is still open either way. */
int upload_write(struct upload *u, const void *p, size_t n);
/* All size bytes are in: fsync, rename to the final name, fsync the
 * directory. sha256 gets the hex digest. The upload is closed either way
 * (on failure nothing remains under either name). */
int upload_commit(struct upload *u, char sha256[65]);
/* Drop the upload: the temporary file goes. No-op when none is open. */
void upload_abort(struct upload *u);
/* Remove temporary files a killed mgmtd left in dir (NAME.tmp.<pid>, NAME
 * of any kind). */
void upload_clean(const char *dir);

/* An uploaded file of kind k, c->upload_dir/file (*path, malloc'd): a
 * regular file, not a link (the name is what the signed manifest binds).
 * Returns 0, -EINVAL (not k's name), -ENOENT, -SPACE_E_NOT_REG, errno. */
int upload_path(const struct mgmtd_conf *c, const struct upload_kind *k, const char *file, char **path);

/* Start argv (argv[0] the program's path) on file detached: own session,
 * so that it outlives mgmtd (a hot patch stops mgmtd, an upgrade's slot
 * write must not stop with it); stdin /dev/null, stdout and stderr
 * appended to output, default signal mask. Returns 0, -EBUSY (j runs) or
 * why it could not start. */
int child_start(struct child_job *j, char *const argv[], const char *file, int flag, const char *user,
		const char *output, time_t now);
/* Reap the child if it has ended (never blocks). Returns 1 when it did. */
int child_reap(struct child_job *j, time_t now);
/* The job (null before the first): file, flag_name (the flag), user,
 * started, running, finished, exit | signal, output. */
void child_job_json(struct jw *w, const struct child_job *j, const char *flag_name);

/* Start `c->spacectl upgrade [--reboot] path` (path: upload_path's for
 * file), child_start(). */
int upgrade_start(struct child_job *j, const struct mgmtd_conf *c, const char *path, const char *file,
		  int reboot, const char *user, const char *output, time_t now);

/* The status file as the members of a JSON object (the caller opens and
 * closes it): state, release, from, slot, progress, started, finished,
 * reason, log. Absent file: state "idle"; unreadable or malformed: state
 * "unknown" and the reason. Numbers not given are null. */
void upgrade_status_members(struct jw *w, const char *path);
/* The upload in progress (null): file, kind, user, size, received, started. */
void upload_json(struct jw *w, const struct upload *u);

#endif
