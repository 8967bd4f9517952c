/* SPDX-License-Identifier: MIT */
/* hotpatch.c - `spacectl show hotpatches`: the node's hot-patch state as
 * the hotpatch tool records it (pkg/hotpatch/state.h): the installed
 * level, its fixes and packages, an operation in progress, the last job
 * and the history. --json is GET /api/v1/hotpatches' document.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pkg/hotpatch/state.h"
#include "buf.h"
#include "json.h"
#include "spacectl.h"

static void when(char out[32], time_t t)
{
	struct tm tm;

	if (!t || !gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%d %H:%M:%SZ", &tm))
		snprintf(out, 32, "-");
}

static void print_level(const struct hp_status *st)
{
	const struct hp_manifest *m = st->applied;

	if (!st->level) {
		printf("release %s: no hot patch installed\n", st->release);
		return;
	}
	printf("release %s: hot patch level %u (%s)\n", st->release, st->level, st->name);
	if (!m) {
		printf("fixes and packages: unknown (no applied manifest of this level in /%s)\n", HP_STATE_DIR);
		return;
	}
	printf("fixes:\n");
	for (unsigned i = 0; i < m->nfix; i++)
		printf("  v%-4u %-16s %s\n", m->fix[i].level, m->fix[i].id, m->fix[i].text);
	printf("packages:\n");
	for (unsigned i = 0; i < m->npkg; i++)
		printf("  %-20s %s-%s\n", m->pkg[i].name, m->pkg[i].version, m->pkg[i].release);
}

static void print_operation(const struct hp_status *st)
{
	const struct hp_progress *p = &st->progress;
	char t[32];

	if (st->in_progress)
		printf("in progress: %s, level %u -> %u, step %s (the next hotpatch run or boot completes or undoes it)\n",
		       st->action[0] ? st->action : "?", st->from, st->to, st->step[0] ? st->step : "?");
	if (!p->present)
		return;
	when(t, p->started);
	printf("last job: %s %s started %s: %s", p->action, p->name, t, p->state);
	if (p->step[0])
		printf(", step %s", p->step);
	if (p->message[0])
		printf(": %s", p->message);
	printf("\n");
}

static void print_history(const struct hp_status *st)
{
	char t[32];

	if (!st->nhist) {
		printf("history: none\n");
		return;
	}
	printf("history:\n  %-20s  %-9s %5s %5s  %-11s  %s\n", "TIME", "ACTION", "FROM", "TO", "RESULT", "REASON");
	for (unsigned i = 0; i < st->nhist; i++) {
		const struct hp_history *h = &st->hist[i];
		when(t, h->time);
		printf("  %-20s  %-9s %5u %5u  %-11s  %s\n", t, h->action, h->from, h->to, h->result, h->reason);
	}
}

int cmd_show_hotpatches(const struct opts *o)
{
	struct hp_status st;
	struct space_err err;
	int r = hp_status_read(o->root, &st, &err);

	if (r < 0) {
		hp_status_free(&st);
		return die_msg(EX_SYSTEM, "show hotpatches", NULL, err.msg); /* the node's failure */
	}
	if (o->json) {
		struct buf b;
		struct jw w;
		buf_init(&b);
		jw_init(&w, &b);
		hp_status_json(&w, &st);
		print_json(&b);
	} else {
		print_level(&st);
		print_operation(&st);
		print_history(&st);
	}
	hp_status_free(&st);
	return EX_OK;
}
