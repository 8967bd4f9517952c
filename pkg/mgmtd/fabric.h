/* SPDX-License-Identifier: MIT */
/* fabric.h - the fabric's API endpoints (README.md "Fabric"):
 *   POST /api/v1/fabric/trust {"name": N, "ssh_key": K}   admin only: the
 *       joining side of `spacectl fabric add-node` on the VIP node. This
 *       node accepts K (node N's key, whose only command here is the
 *       fabric agent) and answers {"name": this node's, "ssh_key": its key}.
 *   GET /api/v1/fabric   the document of `spacectl --json fabric show`. It
 *       asks every node over SSH, which mgmtd must not wait for: a
 *       background run refreshes a cache at most every FABRIC_CACHE_AGE s;
 *       until the first run is done the answer is 503 with Retry-After.
 */
#ifndef MGMTD_FABRIC_H
#define MGMTD_FABRIC_H

#include <time.h>

#include "api.h"

#define FABRIC_CACHE_AGE 10

void fabric_trust(struct api *a, const char *body, size_t len, struct api_resp *r);
void fabric_get(struct api *a, time_t mono, struct api_resp *r);

#endif
