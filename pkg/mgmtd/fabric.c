/* SPDX-License-Identifier: MIT */
/* fabric.c - the fabric's API endpoints (fabric.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fabric.h"
#include "json.h"
#include "pkg/fabric/conf.h"
#include "pkg/fabric/keys.h"
#include "pkg/fabric/local.h"
#include "run_pipe.h"
#include "util.h"

#define FABRIC_DOC_MAX (1u << 20)

/* The VIP node's certificate, pinned by the agent (pin ADDRESS): the
 * other half of the mutual trust (add-node pinned ours). 0, or -1 with the
 * answer set. */
static int pin_vip(struct api *a, const char *body, size_t len, struct api_resp *r)
{
	char *cert = NULL, *addr = NULL;
	const char *argv[] = { a->c->fabric_agent, "pin", NULL, NULL };
	struct run_pipe p = { .max = 4096, .timeout_ms = 30000 };
	int rc = 0;

	if (json_get_string(body, len, "cert", &cert) < 0 || json_get_string(body, len, "address", &addr) < 0)
		goto out; /* none sent: nothing to pin */
	argv[2] = addr;
	p.in = cert;
	p.inlen = strlen(cert);
	rc = run_pipe(argv, &p);
	if (rc < 0) {
		int bad = rc == -SPACE_E_CHILD && (p.status == 1 || p.status == 100);

		space_log("fabric trust: pin %s by %s: %s", addr, r->user, space_strerror(rc));
		api_error(r, bad ? 400 : 500, bad ? "not an address and a PEM certificate" : "the fabric agent failed");
		rc = -1;
	}
out:
	free(cert);
	free(addr);
	return rc;
}

void fabric_trust(struct api *a, const char *body, size_t len, struct api_resp *r)
{
	char *name = NULL, *key = NULL, own[FABRIC_PUBKEY_MAX], mine[FABRIC_NAME_MAX + 1];
	const char *argv[] = { a->c->fabric_agent, "accept", NULL, NULL };
	struct buf out, err;
	struct run_pipe p = { .out = &out, .errout = &err, .max = 4096, .timeout_ms = 30000 };
	struct jw w;
	int rc;

	buf_init(&out);
	buf_init(&err);
	if (json_get_string(body, len, "name", &name) < 0 || json_get_string(body, len, "ssh_key", &key) < 0) {
		api_error(r, 400, "expected {\"name\": ..., \"ssh_key\": ...}");
		goto out;
	}
	if (pin_vip(a, body, len, r) < 0)
		goto out;
	argv[2] = name;
	p.in = key;
	p.inlen = strlen(key);
	/* the agent checks the name and the key (its exit 1 and 100 are the
	 * request's fault) and writes them; a short wait: no peer is asked */
	rc = run_pipe(argv, &p);
	if (rc < 0 || fabric_pubkey_parse(out.p ? out.p : "", own) < 0) {
		int bad = rc == -SPACE_E_CHILD && (p.status == 1 || p.status == 100);
		const char *why = err.p && err.len ? err.p : space_strerror(rc);

		space_log("fabric trust %s by %s: %s", name, r->user, why);
		api_error(r, bad ? 400 : 500, bad ? "not a node name and ssh-ed25519 key" : "the fabric agent failed");
		goto out;
	}
	fabric_host_name(mine);
	space_log("fabric trust: node %s's key accepted by %s", name, r->user);
	r->status = 200;
	jw_init(&w, &r->body);
	jw_obj_begin(&w);
	jw_kstr(&w, "name", mine);
	jw_kstr(&w, "ssh_key", own);
	jw_obj_end(&w);
out:
	buf_free(&out);
	buf_free(&err);
	free(name);
	free(key);
}

/* Start a refresh of the cache when none runs and it is old. */
static void refresh(struct api *a, time_t mono)
{
	char *argv[] = { a->c->spacectl, (char *)"--json", (char *)"fabric", (char *)"show", NULL };
	char tmp[4096];

	if (a->fabric_job.pid || (a->fabric_job.ran && mono - a->fabric_at < FABRIC_CACHE_AGE))
		return;
	snprintf(tmp, sizeof(tmp), "%s.new", a->c->fabric_cache);
	unlink(tmp);
	if (child_start(&a->fabric_job, argv, "fabric", 0, "mgmtd", tmp, mono) == 0)
		a->fabric_at = mono;
}

/* A finished refresh becomes the cache when it wrote a JSON object. */
static void collect(struct api *a, time_t mono)
{
	char tmp[4096], *text = NULL;
	size_t len;

	if (!child_reap(&a->fabric_job, mono))
		return;
	snprintf(tmp, sizeof(tmp), "%s.new", a->c->fabric_cache);
	if (read_file(tmp, FABRIC_DOC_MAX, &text, &len) == 0 && len && text[0] == '{')
		rename(tmp, a->c->fabric_cache);
	free(text);
}

void fabric_get(struct api *a, time_t mono, struct api_resp *r)
{
	char *doc = NULL;
	size_t len;
	struct stat st;

	if (stat(a->c->cluster_file, &st) < 0) {
		unlink(a->c->fabric_cache);
		api_error(r, 404, "this node is in no fabric");
		return;
	}
	collect(a, mono);
	refresh(a, mono);
	if (read_file(a->c->fabric_cache, FABRIC_DOC_MAX, &doc, &len) < 0) {
		r->retry_after = 2;
		api_error(r, 503, "the fabric's state is being gathered; retry in a few seconds");
		return;
	}
	r->status = 200;
	buf_put(&r->body, doc, len);
	free(doc);
}
