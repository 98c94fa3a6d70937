/*
 * Helpers shared by the audit's configuration checks (Asterisk and sipwarden): secret
 * strength and reuse, credential age, dates and comma-separated lists. One thread.
 */
#ifndef SW_TOOLS_AUDIT_CHECKS_H
#define SW_TOOLS_AUDIT_CHECKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"
#include "tools/asterisk_conf.h"
#include "tools/audit_report.h"

/* Credentials older than this many days warn (auth.rotation). */
#define AUDIT_ROTATION_MAX_DAYS 90

/*
 * Judges `secret` (auth.secret: PASS or FAIL with the reasons) and remembers it for the
 * reuse check. `user` (may be absent) and the section name of `where` are words the
 * estimator penalises. `key` names the secret in messages; `fix` is the line to write
 * (NULL: "<key>=<a new secret from 'sipwarden passwd gen'>").
 */
void audit_checks_secret(struct audit_report *report, const struct audit_where *where,
                         struct sv secret, struct sv user, const char *key, const char *fix);

/*
 * Judges the credential age `rotated` (Unix time) found at `where`: WARN when older than
 * AUDIT_ROTATION_MAX_DAYS at report->now (with `fix`, how to record the new date), PASS
 * otherwise.
 */
void audit_checks_rotation_age(struct audit_report *report, const struct audit_where *where,
                               int64_t rotated, const char *fix);

/*
 * Looks for the last "; rotated=YYYY-MM-DD" comment among the own entries of `section`
 * and judges it; nothing when there is none, WARN when the date cannot be read.
 */
void audit_checks_rotation_comment(struct audit_report *report,
                                   const struct asterisk_conf_section *section);

/* Parses "YYYY-MM-DD" into the Unix time of 00:00 UTC that day; false when invalid. */
bool audit_date_parse(struct sv text, int64_t *out);

/* True when the comma-separated `list` holds `token` (trimmed, ASCII case-insensitive). */
bool audit_list_has(struct sv list, struct sv token);

/* True when `value` is an Asterisk true value (yes, true, y, t, 1, on). */
bool audit_is_true(struct sv value);

/* The value of `e`, or SV_NULL when `e` is NULL. */
struct sv audit_value(const struct asterisk_conf_entry *e);

/* A where for the entry `e` of `section` (or the section header when `e` is NULL). */
struct audit_where audit_where_of(const struct asterisk_conf_section *section,
                                  const struct asterisk_conf_entry *e);

#endif
