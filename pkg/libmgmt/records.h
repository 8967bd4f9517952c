/* SPDX-License-Identifier: MIT */
/* records.h - turn a control-socket reply (see ctl.h) into JSON: one
 * object per record line, all-digit values as numbers (except "name"). */
#ifndef MGMT_RECORDS_H
#define MGMT_RECORDS_H

#include "json.h"

/* Write the records after the reply's first line as a JSON array. Returns
 * the number of records or -SPACE_E_FORMAT. */
int records_to_json(const char *reply, struct jw *w);
/* Write the fields of the first record as members of the open object. */
int record_members(const char *reply, struct jw *w);
/* One object: the fields of the first record, and the further records as
 * an array under list_key (replacing a first-record field of that name).
 * Returns 0 or -SPACE_E_FORMAT. */
int records_object(const char *reply, const char *list_key, struct jw *w);

/* The n-th record (0-based, after the reply's first line): its field key
 * into out ("" if absent). */
void records_field(const char *reply, int n, const char *key, char *out, size_t outsz);
/* The number of records after the reply's first line. */
int records_count(const char *reply);

#endif
