/* SPDX-License-Identifier: MIT */
/* manifest.h - the manifest of a hot-patch bundle (issue 9).
 *
 * A bundle is Space-<release>-Hotpatch-v<N>.tgz holding one directory of
 * the same name (without .tgz) with exactly:
 *
 *   patchme.sh             the operator's entry point: runs `hotpatch apply`
 *   manifest               the text below
 *   manifest.sig           RSA PKCS#1 v1.5 SHA-256 signature over manifest
 *                          (`openssl dgst -sha256 -sign`), the OVA's signing
 *                          code and PKI (image/ova/sign.c)
 *   manifest.cert.pem      the signer certificate
 *   manifest.chain.pem     the intermediate CA certificate(s)
 *   packages/<name>-<version>-<release>.pkg   one per `package` line
 *
 * The manifest is KEY = VALUE lines (pkg/lib/kv.h), format 1, in this
 * order (mkhotpatch writes it so; the parser accepts the keys in any order
 * but each single key once):
 *
 *   format = 1                   first: another format is refused
 *   product = space
 *   release = 21.3R1             the release it patches: a node whose release
 *                                is 21.3R1 or 21.3R1.<build> (REL grammar,
 *                                image/release/release.h, with an R part)
 *   patch = 2                    the level, 1..HP_MAX_LEVEL
 *   name = Space-21.3R1-Hotpatch-v2   must equal hp_bundle_name(): the
 *                                directory name and the .tgz name without
 *                                ".tgz" are bound to it by the signature
 *   patchme.sha256 = <64 hex>    of patchme.sh
 *   fix = <level> <id> <text>    repeatable, 1..HP_MAX_FIXES; cumulative: the
 *                                fixes of every level 1..patch, ordered by
 *                                level (non-decreasing), ids unique
 *                                ([A-Za-z0-9._-], at most HP_ID_MAX - 1),
 *                                text free (no control characters)
 *   package = <name> <version> <release> <size> <sha256>   repeatable,
 *                                1..HP_MAX_PACKAGES, names unique and sorted;
 *                                the tokens of pkg/FORMAT.md; the file is
 *                                packages/<name>-<version>-<release>.pkg
 *   service = <name>             repeatable, 0..HP_MAX_SERVICES: watchdog
 *                                services the patch changes; they must be
 *                                ready again before the patch counts as done
 *   backup = <path>              repeatable, 0..HP_MAX_BACKUP: configuration
 *                                files to back up besides the packages' own
 *                                files (relative to the root, pkg_path_check)
 *
 * Unknown keys are refused. The parser never allocates, fills the caller's
 * struct and reports "line N: reason" (or "missing KEY").
 */
#ifndef SPACE_HOTPATCH_MANIFEST_H
#define SPACE_HOTPATCH_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "image/release/release.h"

#define HP_FORMAT 1
#define HP_MANIFEST_MAX (64u << 10)
#define HP_MAX_LEVEL 9999
#define HP_MAX_FIXES 128
#define HP_MAX_PACKAGES 32
#define HP_MAX_SERVICES 16
#define HP_MAX_BACKUP 64
#define HP_ID_MAX 32
#define HP_TEXT_MAX 160
#define HP_TOKEN_MAX 129 /* a package name, version or release + NUL (pkg/FORMAT.md) */
#define HP_PATH_MAX 256
#define HP_NAME_MAX 96 /* Space-<release>-Hotpatch-v<N> + NUL */

#define HP_MEMBER_SCRIPT "patchme.sh"
#define HP_MEMBER_MANIFEST "manifest"
#define HP_PACKAGES_DIR "packages"

struct hp_fix {
	unsigned level;
	char id[HP_ID_MAX];
	char text[HP_TEXT_MAX];
};

struct hp_package {
	char name[HP_TOKEN_MAX];
	char version[HP_TOKEN_MAX];
	char release[HP_TOKEN_MAX];
	uint64_t size;
	unsigned char sha256[32];
};

struct hp_manifest {
	unsigned format;
	char product[REL_NAME_MAX];
	char release[REL_VERSION_MAX];
	struct rel_version version; /* of release */
	unsigned patch;
	char name[HP_NAME_MAX];
	unsigned char patchme_sha256[32];
	struct hp_fix fix[HP_MAX_FIXES];
	unsigned nfix;
	struct hp_package pkg[HP_MAX_PACKAGES];
	unsigned npkg;
	char service[HP_MAX_SERVICES][REL_NAME_MAX];
	unsigned nservice;
	char backup[HP_MAX_BACKUP][HP_PATH_MAX];
	unsigned nbackup;
};

/* Parse and check untrusted manifest text (len bytes, need not be
 * NUL-terminated). Returns 0 or -SPACE_E_FORMAT with err filled. */
int hp_manifest_parse(const char *text, size_t len, struct hp_manifest *m, struct space_err *err);

/* Append one value of a repeatable key ("fix", "package", "service",
 * "backup") to m, checked as the parser checks it (grammar, bounds, order,
 * duplicates). NULL, or why not (static text). For a tool that makes a
 * manifest from other input: mkhotpatch reads the patch definitions so. */
const char *hp_manifest_add(struct hp_manifest *m, const char *key, const char *value);

/* The text for m in the order above; the same m gives the same bytes.
 * *out malloc'd, NUL-terminated. -EINVAL (with nothing allocated) when m
 * would not parse back. */
int hp_manifest_format(const struct hp_manifest *m, char **out, size_t *outlen);

/* "Space-<release>-Hotpatch-v<patch>" for product "space" (the product's
 * name capitalised, as the modelled platform names its bundles). out has
 * HP_NAME_MAX bytes. -ENAMETOOLONG if it does not fit. */
int hp_bundle_name(char out[HP_NAME_MAX], const char *product, const char *release, unsigned patch);

/* "packages/<name>-<version>-<release>.pkg" of p; out has HP_PATH_MAX bytes. */
int hp_package_file(char out[HP_PATH_MAX], const struct hp_package *p);

/* Name binding: 0 when base (a directory or file name, a path's last
 * component, a trailing ".tgz" dropped) is m->name; else -SPACE_E_FORMAT
 * and err says "renamed: bundle is X, the signed manifest names Y". */
int hp_check_name(const struct hp_manifest *m, const char *base, struct space_err *err);

/* Does the patch apply to a node running node_release ("21.3R1.1")? 0 if
 * so; else -SPACE_E_FORMAT and err names both releases. */
int hp_check_release(const struct hp_manifest *m, const char *node_release, struct space_err *err);

/* The release a node's patches are made for: its version cut after the R
 * part ("21.3R1.1" -> "21.3R1"); out has REL_VERSION_MAX bytes.
 * -SPACE_E_FORMAT if node_release has no R part. */
int hp_patch_release(const char *node_release, char out[REL_VERSION_MAX]);

/* Level ordering, for the installed level `have` (0: none) and an offered
 * patch `offer`: HP_NEWER (apply), HP_SAME (only with --reinstall),
 * HP_OLDER (refused). */
enum hp_order { HP_OLDER = -1,
		HP_SAME = 0,
		HP_NEWER = 1 };
enum hp_order hp_level_order(unsigned have, unsigned offer);

#endif
