/* SPDX-License-Identifier: MIT */
/* release.h - the signed release image space-<ver>.img: its manifest, the
 * release version order, the upgrade-path matrix and the application
 * compatibility table. Shared by mkrelease (writes), ova-verify --release
 * (checks) and the on-node upgrader (checks, then writes a slot).
 *
 * The image is a ustar archive (image/ova/tar.c) of exactly these members,
 * in this order, so that a reader knows everything it must check before the
 * first byte of the slot image arrives and can read it in one pass:
 *
 *   manifest          the text below (REL_MEMBER_MANIFEST)
 *   manifest.cert     `SHA256(manifest)= <hex RSA signature>` + signer PEM,
 *                     the OVA's .cert format and signing code (image/ova)
 *   certchain.pem     the intermediate CA certificates
 *   rootfs.ext4.zst   the root slot's filesystem image, one zstd frame
 *
 * The manifest is KEY = VALUE lines (pkg/lib/kv.h), format 1:
 *
 *   format = 1                    first entry: other formats are refused
 *   product = space
 *   release = 21.3R1.1            REL_VERSION grammar below
 *   build = 0123abcd4567          build id (as /etc/space-release)
 *   file = space-21.3R1.1.img     the file name, bound by the signature
 *   targets = kvm esxi ja2500     the targets this slot image boots on
 *   kernel = 6.1.0-28-amd64
 *   slot.member = rootfs.ext4.zst
 *   slot.compression = zstd
 *   slot.size = 2147483648        uncompressed bytes (what is written)
 *   slot.sha256 = <64 hex>        of the uncompressed slot image
 *   slot.min-size = 2147483648    the smallest slot it may be written to
 *   slot.zst.size = 123456        the member's bytes
 *   slot.zst.sha256 = <64 hex>    of the member (a fast check, no unpacking)
 *   slot.zst.window-log = 23      decompression window: bounds the reader
 *   upgrade-paths = 1             revision of the matrix it was made from
 *   upgrade-from = 21.1 21.2      release trains it may be installed over
 *   app.<name> = <min> <max|->    application versions that run on it
 *
 * Every key but app.* appears exactly once; unknown keys are refused (a
 * newer format says so with format = 2). Parsers never allocate beyond the
 * kv line copy, fill caller structs and report "line N: reason".
 */
#ifndef SPACE_RELEASE_H
#define SPACE_RELEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define REL_FORMAT 1
#define REL_MEMBER_MANIFEST "manifest"
#define REL_MEMBER_CERT "manifest.cert"
#define REL_MEMBER_CHAIN "certchain.pem"
#define REL_MEMBER_SLOT "rootfs.ext4.zst"
#define REL_SLOT_PART "root-a" /* the GPT partition the slot image is taken from */

#define REL_MANIFEST_MAX (64u << 10)
#define REL_VERSION_MAX 32 /* bytes of a version string, NUL included */
#define REL_NAME_MAX 64    /* product, target, application, kernel, build */
#define REL_FILE_MAX 101   /* a plain tar member name (image/ova) + NUL */
#define REL_MAX_TARGETS 8
#define REL_MAX_FROM 32
#define REL_MAX_APPS 64
#define REL_ZSTD_WINDOW_LOG 23 /* 8 MiB: the most a reader allocates for it */

/* ------------------------------------------------------------- versions
 * A release is MAJOR.MINOR (a train, "21.3"), optionally followed by
 * R<n> and .<n> parts: 21.3R1, 21.3R1.3. Order is numeric, part by part,
 * and a version is older than any longer one it is a prefix of:
 *   21.3 < 21.3R1 < 21.3R1.3 < 21.3R2 < 21.4R1 */
#define REL_VERSION_PARTS 6

struct rel_version {
	uint32_t part[REL_VERSION_PARTS];
	unsigned n; /* 2 for a train */
};

/* 0 or -SPACE_E_FORMAT (not the grammar, a number over 999999, too long). */
int rel_version_parse(const char *s, struct rel_version *v);
/* <0, 0, >0 as a is older, the same, newer than b. */
int rel_version_cmp(const struct rel_version *a, const struct rel_version *b);
/* The two versions' trains (MAJOR.MINOR) are the same. */
bool rel_same_train(const struct rel_version *a, const struct rel_version *b);
/* The text of v ("21.3R1.3"); out needs REL_VERSION_MAX bytes. */
void rel_version_str(const struct rel_version *v, char out[REL_VERSION_MAX]);
/* "21.3" of any 21.3... version; out needs REL_VERSION_MAX bytes. */
void rel_train_str(const struct rel_version *v, char out[REL_VERSION_MAX]);

/* ------------------------------------------------- upgrade-path matrix
 * The data file (image/release/upgrade-paths.conf), KEY = VALUE:
 *   format = 1
 *   revision = <n>               bumped whenever the table changes
 *   <from-train> = <to-train> ...
 */
#define REL_PATHS_MAX_ROWS 64
#define REL_PATHS_MAX_TO 8

struct rel_paths_row {
	struct rel_version from;
	struct rel_version to[REL_PATHS_MAX_TO];
	unsigned nto;
};

struct rel_paths {
	unsigned revision;
	struct rel_paths_row row[REL_PATHS_MAX_ROWS];
	unsigned nrows;
};

int rel_paths_parse(const char *text, size_t len, struct rel_paths *p, struct space_err *err);
int rel_paths_load(const char *path, struct rel_paths *p, struct space_err *err);

/* May a node on train `from` go to train `to` (one step of the table)? */
bool rel_paths_allows(const struct rel_paths *p, const struct rel_version *from,
		      const struct rel_version *to);

/* The trains that may go to the train of `to`, in table order, into out
 * (at most max). Returns the count. */
unsigned rel_paths_sources(const struct rel_paths *p, const struct rel_version *to,
			   struct rel_version *out, unsigned max);

/* ------------------------------------------------------------ manifest */
struct rel_app {
	char name[REL_NAME_MAX];
	struct rel_version min, max;
	bool has_max;
};

struct rel_manifest {
	unsigned format;
	char product[REL_NAME_MAX];
	char release[REL_VERSION_MAX];
	struct rel_version version;
	char build[REL_NAME_MAX];
	char file[REL_FILE_MAX];
	char targets[REL_MAX_TARGETS][REL_NAME_MAX];
	unsigned ntargets;
	char kernel[REL_NAME_MAX];
	char slot_member[REL_FILE_MAX];
	uint64_t slot_size, slot_min_size, zst_size;
	unsigned char slot_sha256[32], zst_sha256[32];
	unsigned window_log;
	unsigned paths_revision;
	struct rel_version from[REL_MAX_FROM];
	unsigned nfrom;
	struct rel_app app[REL_MAX_APPS];
	unsigned napps;
};

/* Parse and check the manifest text (len bytes, untrusted). Every key
 * present once, known, well formed; slot.min-size >= slot.size; window log
 * <= REL_ZSTD_WINDOW_LOG. Returns 0 or -SPACE_E_FORMAT with "line N: reason"
 * (or "missing KEY") in err. */
int rel_manifest_parse(const char *text, size_t len, struct rel_manifest *m, struct space_err *err);

/* The manifest text for m, in the order shown above (the same m gives the
 * same bytes). *out malloc'd, NUL-terminated. -EINVAL when m would not
 * parse back (bad name, empty list). */
int rel_manifest_format(const struct rel_manifest *m, char **out, size_t *outlen);

/* Name binding: 0 when file_name (a path: its last component counts) is
 * the name the manifest was signed for; else -SPACE_E_FORMAT and err says
 * "renamed: file is X, the signed manifest names Y". */
int rel_check_file_name(const struct rel_manifest *m, const char *file_name, struct space_err *err);

/* A space-separated target list ("kvm esxi ja2500") into m->targets:
 * 1 to REL_MAX_TARGETS distinct plain names, else -SPACE_E_FORMAT. */
int rel_targets_parse(const char *list, struct rel_manifest *m);

/* Does the image boot on target? */
bool rel_has_target(const struct rel_manifest *m, const char *target);

/* May this image be installed over the running release? Yes when the
 * running train is in upgrade-from, or on the image's own train and not
 * newer (a later build of the same train, or the same release again).
 * 0, or -EPERM with err naming the supported paths; -SPACE_E_FORMAT when
 * running is not a version. */
int rel_check_upgrade(const struct rel_manifest *m, const char *running, struct space_err *err);

/* Application compatibility. An application listed in the table runs on
 * this release when min <= version <= max; one not listed is not limited
 * by the release (its package's own platform range decides). */
enum rel_app_verdict { REL_APP_OK,
		       REL_APP_UNLISTED,
		       REL_APP_TOO_OLD,
		       REL_APP_TOO_NEW };
/* The verdict, or -SPACE_E_FORMAT when version is not a version. */
int rel_app_check(const struct rel_manifest *m, const char *name, const char *version);

/* The app table's data file (--apps): format = 1, then <name> = <min> <max|->
 * lines, parsed into m->app (replacing it). */
int rel_apps_parse(const char *text, size_t len, struct rel_manifest *m, struct space_err *err);

#endif
