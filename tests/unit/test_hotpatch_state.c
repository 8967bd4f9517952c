/* SPDX-License-Identifier: MIT */
/* test_hotpatch_state.c - the node's hot-patch state reader (state.h) on a
 * temporary root: markers, the applied manifest, the journal, the progress
 * file and the history (a full one, a longer one, malformed lines). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/hotpatch/state.h"
#include "buf.h"
#include "json.h"
#include "tap.h"
#include "util.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char *p = xasprintf("%s/%s", root, rel);

	if (!p || write_file_atomic(p, text, strlen(text), 0644) < 0) {
		printf("Bail out! cannot write %s\n", rel);
		exit(1);
	}
	free(p);
}

static void rm(const char *rel)
{
	char *p = xasprintf("%s/%s", root, rel);

	unlink(p);
	free(p);
}

static const char sha[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* A manifest of level patch for release rel, as mkhotpatch writes it. */
static char *manifest(const char *rel, unsigned patch)
{
	char fixes[512] = "";

	for (unsigned l = 1; l <= patch; l++) {
		size_t n = strlen(fixes);
		snprintf(fixes + n, sizeof(fixes) - n, "fix = %u SP-10%u fix number %u of the level\n", l, l, l);
	}
	return xasprintf("format = 1\nproduct = space\nrelease = %s\npatch = %u\nname = Space-%s-Hotpatch-v%u\n"
			 "patchme.sha256 = %s\n%s"
			 "package = devgate 1.4 %u 1000 %s\npackage = mgmtd 2.0 %u 2000 %s\n"
			 "service = devgate\nservice = mgmtd\nbackup = etc/mgmtd.conf\n",
			 rel, patch, rel, patch, sha, fixes, patch, sha, patch, sha);
}

static void put_applied(const char *rel, unsigned patch)
{
	char *m = manifest(rel, patch);

	put("var/lib/hotpatch/applied", m);
	free(m);
}

/* hp_status_json of st, checked to be one JSON object; malloc'd. */
static char *to_json(const struct hp_status *st)
{
	struct buf b;
	struct jw w;
	char *rel = NULL;

	buf_init(&b);
	jw_init(&w, &b);
	hp_status_json(&w, st);
	buf_put(&b, "", 1);
	if (json_get_string(b.p, b.len - 1, "release", &rel) < 0) {
		printf("# not a JSON object: %s\n", b.p);
		buf_free(&b);
		return strdup("");
	}
	free(rel);
	return b.p;
}

static void setup(void)
{
	static const char *const dirs[] = { "etc", "var", "var/lib", "var/lib/hotpatch", NULL };
	char *p;

	snprintf(root, sizeof(root), "/tmp/test_hotpatch_state.XXXXXX");
	if (!mkdtemp(root))
		exit(1);
	for (int i = 0; dirs[i]; i++) {
		p = xasprintf("%s/%s", root, dirs[i]);
		mkdir(p, 0755);
		free(p);
	}
	put("etc/space-release", "PRODUCT=space\nVERSION=21.3R1.1\nBUILD_ID=42\n");
}

static void test_never_patched(void)
{
	struct hp_status st;
	struct space_err why = { "" };
	char *j;

	is_int(hp_status_read(root, &st, &why), 0, "a node never patched reads");
	ok(!strcmp(st.release, "21.3R1.1") && st.level == 0 && !st.name[0] && !st.applied && !st.in_progress &&
		   !st.nhist && !st.progress.present,
	   "level 0, nothing applied, no operation, no history, no job");
	j = to_json(&st);
	ok(strstr(j, "\"release\":\"21.3R1.1\",\"level\":0,\"name\":null,\"fixes\":[],\"packages\":[],"
		     "\"in_progress\":null,\"history\":[],\"job\":null}") != NULL,
	   "JSON of a node never patched: %s", j);
	free(j);
	hp_status_free(&st);
}

static void test_markers(void)
{
	struct hp_status st;
	struct space_err why = { "" };
	char *j, *p;

	put("etc/.Space-21.3R1-Hotpatch-v1", "devgate 1.4-1\n");
	put("etc/.Space-21.3R1-Hotpatch-v2", "devgate 1.4-2\nmgmtd 2.0-2\n");
	put("etc/.Space-21.2R1-Hotpatch-v7", "mgmtd 1.0-7\n"); /* another release's */
	put("etc/.Space-21.3R1-Hotpatch-vx", "x\n");           /* not a marker */
	put("etc/.Space-21.3R1-Hotpatch-v10000", "x\n");       /* over HP_MAX_LEVEL */
	is_int(hp_installed_level(root, "21.3R1.1"), 2, "installed level of the node release");
	is_int(hp_installed_level(root, "21.3R1"), 2, "installed level of the patch release");
	is_int(hp_installed_level(root, "21.2R1.5"), 7, "another release's markers are apart");
	is_int(hp_installed_level(root, "22.1R1"), 0, "a release without markers: 0");

	is_int(hp_status_read(root, &st, &why), 0, "status with markers");
	ok(st.level == 2 && !strcmp(st.name, "Space-21.3R1-Hotpatch-v2"), "level 2 and its name");
	ok(!st.applied, "no applied manifest: none");
	hp_status_free(&st);

	put_applied("21.3R1", 2);
	hp_status_read(root, &st, &why);
	ok(st.applied && st.applied->nfix == 2 && st.applied->npkg == 2, "applied manifest of level 2 read");
	j = to_json(&st);
	ok(strstr(j, "\"level\":2,\"name\":\"Space-21.3R1-Hotpatch-v2\",\"fixes\":[{\"level\":1,\"id\":\"SP-101\","
		     "\"text\":\"fix number 1 of the level\"},{\"level\":2,\"id\":\"SP-102\"") != NULL,
	   "JSON lists the fixes: %s", j);
	ok(strstr(j, "\"packages\":[{\"name\":\"devgate\",\"version\":\"1.4-2\"},{\"name\":\"mgmtd\","
		     "\"version\":\"2.0-2\"}]") != NULL,
	   "JSON lists the packages with version-release");
	free(j);
	hp_status_free(&st);
	ok(!st.applied, "hp_status_free clears applied");

	/* an applied manifest of another level or release is stale: an A/B
	 * upgrade brings a slot without the markers, /var keeps the file */
	put_applied("21.3R1", 1);
	hp_status_read(root, &st, &why);
	ok(st.level == 2 && !st.applied, "applied of level 1 under a level-2 marker: not shown");
	hp_status_free(&st);
	put_applied("21.2R1", 2);
	hp_status_read(root, &st, &why);
	ok(!st.applied, "applied of another release: not shown");
	hp_status_free(&st);
	put("var/lib/hotpatch/applied", "format = 1\nproduct = space\n");
	hp_status_read(root, &st, &why);
	ok(st.level == 2 && !st.applied, "a malformed applied manifest is skipped, the level stays");
	hp_status_free(&st);
	put_applied("21.3R1", 2);

	/* a marker that is a symlink is not followed */
	rm("etc/.Space-21.3R1-Hotpatch-v1");
	p = xasprintf("%s/etc/.Space-21.3R1-Hotpatch-v3", root);
	ok(symlink("/etc/passwd", p) == 0, "symlinked marker made");
	is_int(hp_installed_level(root, "21.3R1"), 2, "a symlinked marker does not count");
	unlink(p);
	free(p);
	put("etc/.Space-21.3R1-Hotpatch-v1", "devgate 1.4-1\n");

	/* etc not a directory: the level cannot be known */
	p = xasprintf("%s/etc/space-release/..", root);
	ok(p && hp_installed_level(p, "21.3R1") < 0, "unreadable marker directory: a negative errno");
	free(p);
}

static void test_journal_progress(void)
{
	struct hp_status st;
	struct space_err why = { "" };
	char *j, *text;
	pid_t gone;

	put("var/lib/hotpatch/journal",
	    "action = apply\nname = Space-21.3R1-Hotpatch-v3\nrelease = 21.3R1.1\nbuild = 42\nfrom = 2\nto = 3\n"
	    "step = install\ndevices-were-blocked = 0\n");
	/* the job runs: its pid is this test's */
	text = xasprintf("action = apply\nname = Space-21.3R1-Hotpatch-v3\nstate = running\nstep = 5/8 install\n"
			 "message = installing mgmtd 2.0-3\nstarted = 1700000000\nfinished = 0\npid = %ld\n",
			 (long)getpid());
	put("var/lib/hotpatch/progress", text);
	hp_status_read(root, &st, &why);
	ok(st.in_progress && !strcmp(st.action, "apply") && !strcmp(st.step, "install") && st.from == 2 &&
		   st.to == 3,
	   "journal: the operation in progress");
	ok(st.progress.present && !strcmp(st.progress.state, "running") &&
		   !strcmp(st.progress.step, "5/8 install") && st.progress.started == 1700000000 &&
		   st.progress.finished == 0 && st.progress.pid == getpid(),
	   "progress: the job");
	j = to_json(&st);
	ok(strstr(j, "\"in_progress\":{\"action\":\"apply\",\"step\":\"install\",\"from\":2,\"to\":3}") != NULL,
	   "JSON in_progress: %s", j);
	ok(strstr(j, "\"job\":{\"action\":\"apply\",\"name\":\"Space-21.3R1-Hotpatch-v3\",\"state\":\"running\","
		     "\"step\":\"5/8 install\",\"message\":\"installing mgmtd 2.0-3\",\"started\":1700000000,"
		     "\"finished\":null}") != NULL,
	   "JSON job, finished null while running");
	free(j);
	hp_status_free(&st);

	/* the same file once that process is gone: interrupted, not running */
	gone = fork();
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	free(text);
	text = xasprintf("action = apply\nstate = running\npid = %ld\n", (long)gone);
	put("var/lib/hotpatch/progress", text);
	hp_status_read(root, &st, &why);
	ok(st.progress.present && !strcmp(st.progress.state, "interrupted"), "a running job whose process is gone: %s",
	   st.progress.state);
	hp_status_free(&st);
	put("var/lib/hotpatch/progress", "action = apply\nstate = running\n");
	hp_status_read(root, &st, &why);
	ok(!strcmp(st.progress.state, "interrupted"), "... or that names no process");
	hp_status_free(&st);
	free(text);

	/* the other slot's journal waits for that slot */
	put("var/lib/hotpatch/journal", "action = apply\nbuild = 41\nfrom = 2\nto = 3\nstep = install\n");
	hp_status_read(root, &st, &why);
	ok(!st.in_progress && !st.action[0], "a journal of another build is not this slot's operation");
	hp_status_free(&st);
	/* a damaged journal is still an operation */
	put("var/lib/hotpatch/journal", "action = rollback\nstep = install\nthis line has no equals sign\n");
	hp_status_read(root, &st, &why);
	ok(st.in_progress && !strcmp(st.action, "rollback"), "a damaged journal still means an operation");
	hp_status_free(&st);
	put("var/lib/hotpatch/journal", "action = apply\nfrom = -1\nto = 1x\n");
	hp_status_read(root, &st, &why);
	ok(st.in_progress && st.from == 0 && st.to == 0, "malformed levels read as 0");
	hp_status_free(&st);
	rm("var/lib/hotpatch/journal");

	/* a finished job; a progress file without a state is none */
	put("var/lib/hotpatch/progress", "action = apply\nstate = failed\nfinished = 1700000100\nstarted = +5\n");
	hp_status_read(root, &st, &why);
	ok(st.progress.present && st.progress.finished == 1700000100 && st.progress.started == 0,
	   "finished job; a signed number is no number");
	hp_status_free(&st);
	put("var/lib/hotpatch/progress", "action = apply\n");
	hp_status_read(root, &st, &why);
	ok(!st.progress.present, "progress without a state: no job");
	hp_status_free(&st);
	rm("var/lib/hotpatch/progress");
}

static void test_history_parse(void)
{
	static const char *const bad[] = {
		"",
		"1700000000 install 0 1 ok done",              /* unknown action */
		"1700000000 apply 0 1 maybe done",             /* unknown result */
		"1700000000 apply -1 1 ok done",               /* negative level */
		"1700000000 apply +0 1 ok done",               /* signed */
		"1700000000 apply 0 10000 ok done",            /* over HP_MAX_LEVEL */
		"-5 apply 0 1 ok done",                        /* negative time */
		"17000x0000 apply 0 1 ok done",                /* not a number */
		"1700000000 apply 0 1",                        /* no result */
		"1700000000  apply 0 1 ok done",               /* two spaces: an empty word */
		"1700000000\tapply 0 1 ok done",               /* a tab */
		"1700000000 apply 0 1 ok done\x1b[2J",         /* a control character */
		"1700000000 applyapplyapplyapply 0 1 ok done", /* too long for the field */
		NULL,
	};
	struct hp_history h;
	char line[600];

	is_int(hp_history_parse("1700000000 apply 1 2 ok applied in 4 s", &h), 0, "a history line parses");
	ok(h.time == 1700000000 && !strcmp(h.action, "apply") && h.from == 1 && h.to == 2 && !strcmp(h.result, "ok") &&
		   !strcmp(h.reason, "applied in 4 s"),
	   "its fields");
	is_int(hp_history_parse("1700000000 recover 2 1 rolled-back", &h), 0, "no reason: fine");
	ok(!h.reason[0] && !strcmp(h.result, "rolled-back"), "empty reason");
	for (int i = 0; bad[i]; i++)
		is_int(hp_history_parse(bad[i], &h), -SPACE_E_FORMAT, "malformed history line %d refused", i);
	ok(h.action[0] == '\0', "a refused line leaves nothing");
	snprintf(line, sizeof(line), "1 rollback 2 1 failed ");
	memset(line + strlen(line), 'r', 400);
	line[22 + 400] = '\0';
	is_int(hp_history_parse(line, &h), 0, "a long reason is cut, the line kept");
	is_int(strlen(h.reason), HP_REASON_MAX - 1, "cut to the field");
	/* a cut never splits a UTF-8 character */
	snprintf(line, sizeof(line), "1 rollback 2 1 failed ");
	for (size_t n = strlen(line); n + 2 < 500; n += 2)
		memcpy(line + n, "\xc3\xa9", 2), line[n + 2] = '\0';
	is_int(hp_history_parse(line, &h), 0, "a long UTF-8 reason");
	ok(strlen(h.reason) % 2 == 0 && ((unsigned char)h.reason[strlen(h.reason) - 1] == 0xa9),
	   "cut at a character boundary");
}

/* n history lines: from first, "<first+i> apply i i+1 ok line <first+i>" */
static void history_lines(struct buf *b, unsigned first, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		buf_printf(b, "%u apply %u %u ok line %u\n", first + i, (first + i) % 100, (first + i) % 100 + 1,
			   first + i);
}

static void test_history(void)
{
	struct hp_status st;
	struct buf b;
	struct space_err why = { "" };
	char *p;

	/* exactly HP_HISTORY_MAX lines, malformed ones between them */
	buf_init(&b);
	for (unsigned i = 0; i < HP_HISTORY_MAX; i++) {
		history_lines(&b, 1000 + i, 1);
		if (i % 8 == 3)
			buf_printf(&b, "garbage line %u\n\n1 apply 0 1 bogus result\n", i);
	}
	buf_put(&b, "", 1);
	put("var/lib/hotpatch/history", b.p);
	buf_free(&b);
	hp_status_read(root, &st, &why);
	is_int(st.nhist, HP_HISTORY_MAX, "a full history is read whole, malformed lines skipped");
	ok(st.hist[0].time == 1000 && st.hist[HP_HISTORY_MAX - 1].time == 1000 + HP_HISTORY_MAX - 1,
	   "oldest first, newest last");
	hp_status_free(&st);

	/* more lines than the table: the newest HP_HISTORY_MAX stay */
	buf_init(&b);
	history_lines(&b, 2000, HP_HISTORY_MAX + 5);
	buf_put(&b, "", 1);
	put("var/lib/hotpatch/history", b.p);
	buf_free(&b);
	hp_status_read(root, &st, &why);
	ok(st.nhist == HP_HISTORY_MAX && st.hist[0].time == 2005 &&
		   st.hist[HP_HISTORY_MAX - 1].time == 2000 + HP_HISTORY_MAX + 4,
	   "over HP_HISTORY_MAX: the newest kept, in order");
	hp_status_free(&st);

	/* a file far over the read bound: its end is read, the cut line dropped */
	buf_init(&b);
	history_lines(&b, 100000, 3000);
	buf_put(&b, "", 1);
	put("var/lib/hotpatch/history", b.p);
	buf_free(&b);
	hp_status_read(root, &st, &why);
	ok(st.nhist == HP_HISTORY_MAX && st.hist[HP_HISTORY_MAX - 1].time == 102999 &&
		   st.hist[0].time == 102999 - HP_HISTORY_MAX + 1,
	   "a 100 KB history: the newest lines read from its end");
	hp_status_free(&st);

	/* the last line without its newline still counts */
	put("var/lib/hotpatch/history", "5 apply 0 1 ok first\n6 rollback 1 0 ok second");
	hp_status_read(root, &st, &why);
	ok(st.nhist == 2 && !strcmp(st.hist[1].reason, "second"), "a last line without newline");
	p = to_json(&st);
	ok(strstr(p, "\"history\":[{\"time\":5,\"action\":\"apply\",\"from\":0,\"to\":1,\"result\":\"ok\","
		     "\"reason\":\"first\"},{\"time\":6,\"action\":\"rollback\"") != NULL,
	   "JSON history: %s", p);
	free(p);
	hp_status_free(&st);

	/* a symlink is not followed */
	rm("var/lib/hotpatch/history");
	p = xasprintf("%s/var/lib/hotpatch/history", root);
	ok(symlink("/etc/passwd", p) == 0, "symlinked history made");
	hp_status_read(root, &st, &why);
	is_int(st.nhist, 0, "a symlinked history is not read");
	hp_status_free(&st);
	unlink(p);
	free(p);
}

static void test_no_release(void)
{
	struct hp_status st;
	struct space_err why = { "" };

	put("var/lib/hotpatch/history", "5 apply 0 1 ok first\n");
	rm("etc/space-release");
	ok(hp_status_read(root, &st, &why) == -ENOENT && strstr(why.msg, "etc/space-release") != NULL,
	   "no release file: -ENOENT, why names it (%s)", why.msg);
	ok(st.level == 0 && !st.applied && st.nhist == 1, "no level without a release; the history still read");
	hp_status_free(&st);
	put("etc/space-release", "PRODUCT=space\nVERSION=21.3R1.1234567890123456789012345678\n");
	ok(hp_status_read(root, &st, &why) == -SPACE_E_FORMAT && strstr(why.msg, "too long") != NULL,
	   "an over-long VERSION is refused (%s)", why.msg);
	hp_status_free(&st);
	put("etc/space-release", "PRODUCT=space\n");
	ok(hp_status_read(root, &st, &why) == -SPACE_E_FORMAT && strstr(why.msg, "no VERSION") != NULL,
	   "a release file without VERSION is refused (%s)", why.msg);
	hp_status_free(&st);
	put("etc/space-release", "PRODUCT=space\nVERSION=21.3R1.1\nBUILD_ID=42\n");
}

int main(int argc, char **argv)
{
	char *cmd;

	setup();
	static const struct tap_test tests[] = {
		{ "/hotpatch_state/never_patched", test_never_patched },
		{ "/hotpatch_state/markers", test_markers },
		{ "/hotpatch_state/journal_progress", test_journal_progress },
		{ "/hotpatch_state/history_parse", test_history_parse },
		{ "/hotpatch_state/history", test_history },
		{ "/hotpatch_state/no_release", test_no_release },
		{ NULL, NULL },
	};
	int r = tap_run(argc, argv, tests);

	cmd = xasprintf("rm -rf '%s'", root);
	if (cmd && system(cmd) != 0)
		printf("# could not remove %s\n", root);
	free(cmd);
	return r;
}
