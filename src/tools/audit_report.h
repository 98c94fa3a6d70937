/*
 * The findings of `sipwarden audit` and their two renderings: text for people and JSON
 * (schema 1, docs/audit-json.md) for CI pipelines. Each finding is one checklist item
 * evaluated for one place: PASS, WARN or FAIL, the file, line and section, what was
 * found, why it matters (one line, fixed per check) and the line to write instead.
 *
 * A report owns copies of everything added to it; callers pass borrowed strings. It
 * also collects fingerprints of the secrets seen so that reuse across files can be
 * judged once every file is read (audit_report_finish()). One thread per report.
 */
#ifndef SW_TOOLS_AUDIT_REPORT_H
#define SW_TOOLS_AUDIT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/sv.h"

/* The version of the JSON layout; bumped only on an incompatible change. */
#define AUDIT_JSON_SCHEMA 1

enum audit_status {
    AUDIT_PASS,
    AUDIT_WARN,
    AUDIT_FAIL,
};

enum audit_format {
    AUDIT_FORMAT_TEXT,
    AUDIT_FORMAT_JSON,
};

/* Where a finding is: file and line (0 = the file as a whole) and section (may be absent). */
struct audit_where {
    const char *file;
    struct sv section;
    unsigned line;
    bool is_cwd_relative; /* paths in this file are relative to the working directory */
};

struct audit_finding {
    char *check; /* stable identifier, e.g. "auth.secret" */
    char *file;
    char *section; /* NULL when the finding is about the whole file */
    char *message; /* what was found */
    char *fix;     /* the line to write; NULL when there is nothing to change */
    unsigned line;
    enum audit_status status;
};

struct audit_input {
    char *file;
    const char *kind; /* static: "sip.conf", "pjsip.conf", "logger.conf", "sipwarden.conf" */
};

struct audit_secret_seen {
    uint8_t fingerprint[32]; /* SHA-256 of the secret; the secret itself is not kept */
    char *user;
    char *file;
    char *section;
    unsigned line;
};

struct audit_report {
    struct audit_finding *items;
    size_t count;
    size_t cap;
    struct audit_input *inputs;
    size_t input_count;
    size_t input_cap;
    struct audit_secret_seen *secrets;
    size_t secret_count;
    size_t secret_cap;
    int64_t now;       /* Unix time the ages and expiry dates are judged at */
    bool is_truncated; /* an allocation failed: some findings are missing */
};

/* Starts an empty report judging dates at `now` (Unix seconds). */
void audit_report_init(struct audit_report *report, int64_t now);

/* Frees everything the report owns. */
void audit_report_fini(struct audit_report *report);

/* Records that `file` was read as `kind` (a static string). */
void audit_report_input(struct audit_report *report, const char *file, const char *kind);

/*
 * Adds a finding of the check `check` (an identifier from the table in audit_report.c,
 * which also holds the one-line "why"). `fix` may be NULL. The message is printf-style.
 */
void audit_report_add(struct audit_report *report, const struct audit_where *where,
                      enum audit_status status, const char *check, const char *fix, const char *fmt,
                      ...) __attribute__((format(printf, 6, 7)));

/*
 * Remembers a secret (as a fingerprint) of the account `user` for the reuse check of
 * audit_report_finish(): the same secret for two different users is reuse; the same
 * account written twice (a chan_sip peer and its register line) is not.
 */
void audit_report_secret(struct audit_report *report, const struct audit_where *where,
                         struct sv secret, struct sv user);

/* Adds the cross-file findings (secret reuse) and sorts the findings into their order. */
void audit_report_finish(struct audit_report *report);

/* The worst status in the report (AUDIT_PASS when empty). */
enum audit_status audit_report_worst(const struct audit_report *report);

/* The one-line reason of a check, or NULL for an unknown identifier. */
const char *audit_check_why(const char *check);

/* The name of a status: "PASS", "WARN" or "FAIL". */
const char *audit_status_name(enum audit_status status);

/* Writes the report to `out`. Returns 0, or -SW_EIO when writing fails. */
int audit_report_write(const struct audit_report *report, enum audit_format format, FILE *out);

#endif
