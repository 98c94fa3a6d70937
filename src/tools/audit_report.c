#include "tools/audit_report.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"

/*
 * Every check the audit knows, with the one line that says why it matters. The
 * identifiers are part of the JSON schema: never rename one, add a new one instead.
 */
static const struct {
    const char *id;
    const char *why;
} checks[] = {
    { "acl.source",
      "without a source ACL a stolen or guessed secret works from anywhere on the internet" },
    { "auth.alwaysauthreject",
      "different replies for unknown and known users let scanners (svwar) enumerate valid accounts" },
    { "auth.context",
      "requests that match no peer land in the default context; if it can dial out, strangers call for free" },
    { "auth.digest",
      "without digest authentication anyone who can reach the port can place calls as this peer" },
    { "auth.guest",
      "guest and anonymous calls are unauthenticated: scanners use them to reach the dialplan" },
    { "auth.insecure",
      "insecure=invite accepts INVITEs without authentication and insecure=port ignores the source port" },
    { "auth.rotation",
      "a secret unchanged for more than 90 days has had longer to leak from phones, backups and logs" },
    { "auth.secret",
      "short or guessable secrets fall to online brute force (svcrack) and to offline cracking of sniffed digests" },
    { "auth.secret-reuse", "one leaked secret then opens every trunk or endpoint that shares it" },
    { "config.ban", "without bans a brute-force tool can try passwords for as long as it likes" },
    { "files.certificate",
      "an expired certificate breaks TLS calls, and one about to expire will soon" },
    { "files.private-key",
      "a private key readable by other local users lets any of them impersonate this server" },
    { "fraud.cap",
      "a stolen credential can then call dear international destinations for hours before the bill shows it" },
    { "fraud.policy",
      "without a destination policy a stolen credential can call premium-rate and IRSF numbers at will" },
    { "log.security",
      "without a security log fail2ban and alerting never see failed authentications" },
    { "media.srtp", "without SRTP anyone on the path can record the audio of every call" },
    { "media.srtp-optimistic",
      "optimistic SRTP falls back to plain RTP without telling anyone when the peer does not offer it" },
    { "tls.transport",
      "UDP and TCP carry digests, dialled numbers and caller IDs in clear text for anyone on the path" },
    { "tls.verify",
      "without certificate verification anyone on the path can impersonate the server (man in the middle)" },
    { "tls.version",
      "TLS below 1.2 is deprecated (RFC 8996) and has practical downgrade and decryption attacks" },
};

const char *audit_check_why(const char *check)
{
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        if (strcmp(checks[i].id, check) == 0) {
            return checks[i].why;
        }
    }
    return NULL;
}

const char *audit_status_name(enum audit_status status)
{
    switch (status) {
    case AUDIT_PASS:
        return "PASS";
    case AUDIT_WARN:
        return "WARN";
    case AUDIT_FAIL:
        return "FAIL";
    }
    return "?";
}

void audit_report_init(struct audit_report *report, int64_t now)
{
    memset(report, 0, sizeof(*report));
    report->now = now;
}

void audit_report_fini(struct audit_report *report)
{
    for (size_t i = 0; i < report->count; i++) {
        struct audit_finding *f = &report->items[i];
        sw_free(f->check);
        sw_free(f->file);
        sw_free(f->section);
        sw_free(f->message);
        sw_free(f->fix);
    }
    sw_free(report->items);
    for (size_t i = 0; i < report->input_count; i++) {
        sw_free(report->inputs[i].file);
    }
    sw_free(report->inputs);
    for (size_t i = 0; i < report->secret_count; i++) {
        sw_free(report->secrets[i].file);
        sw_free(report->secrets[i].section);
        sw_free(report->secrets[i].user);
    }
    sw_free(report->secrets);
    memset(report, 0, sizeof(*report));
}

/* Grows an array of `size`-byte elements so that one more fits; false on failure. */
static bool grow(void **items, size_t *cap, size_t count, size_t size)
{
    if (count < *cap) {
        return true;
    }
    size_t new_cap = *cap == 0 ? 16 : *cap * 2;
    void *grown = sw_realloc(*items, new_cap * size);
    if (grown == NULL) {
        return false;
    }
    *items = grown;
    *cap = new_cap;
    return true;
}

void audit_report_input(struct audit_report *report, const char *file, const char *kind)
{
    if (!grow((void **)&report->inputs, &report->input_cap, report->input_count,
              sizeof(*report->inputs))) {
        report->is_truncated = true;
        return;
    }
    struct audit_input *in = &report->inputs[report->input_count];
    in->file = sw_strdup(file);
    in->kind = kind;
    if (in->file == NULL) {
        report->is_truncated = true;
        return;
    }
    report->input_count++;
}

static char *dup_sv_or_null(struct sv s)
{
    return s.ptr == NULL ? NULL : sv_dup_cstr(s);
}

void audit_report_add(struct audit_report *report, const struct audit_where *where,
                      enum audit_status status, const char *check, const char *fix, const char *fmt,
                      ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    /* A long message is cut, not lost. The analyzer misses the va_start above. */
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    (void)vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    SW_ASSERT(audit_check_why(check) != NULL); /* every check is in the table */
    if (!grow((void **)&report->items, &report->cap, report->count, sizeof(*report->items))) {
        report->is_truncated = true;
        return;
    }
    struct audit_finding *f = &report->items[report->count++];
    f->check = sw_strdup(check);
    f->file = sw_strdup(where->file == NULL ? "-" : where->file);
    f->section = dup_sv_or_null(where->section);
    f->message = sw_strdup(message);
    f->fix = fix == NULL ? NULL : sw_strdup(fix);
    f->line = where->line;
    f->status = status;
    bool is_missing_section = where->section.ptr != NULL && f->section == NULL;
    if (f->check == NULL || f->file == NULL || f->message == NULL || is_missing_section ||
        (fix != NULL && f->fix == NULL)) {
        /* A finding with a hole would print wrong: drop it and say the report is partial. */
        sw_free(f->check);
        sw_free(f->file);
        sw_free(f->section);
        sw_free(f->message);
        sw_free(f->fix);
        report->count--;
        report->is_truncated = true;
    }
}

void audit_report_secret(struct audit_report *report, const struct audit_where *where,
                         struct sv secret, struct sv user)
{
    if (!grow((void **)&report->secrets, &report->secret_cap, report->secret_count,
              sizeof(*report->secrets))) {
        report->is_truncated = true;
        return;
    }
    struct audit_secret_seen *seen = &report->secrets[report->secret_count];
    memset(seen, 0, sizeof(*seen));
    unsigned len = 0;
    if (EVP_Digest(secret.ptr, secret.len, seen->fingerprint, &len, EVP_sha256(), NULL) != 1) {
        report->is_truncated = true;
        return;
    }
    seen->file = sw_strdup(where->file == NULL ? "-" : where->file);
    seen->section = dup_sv_or_null(where->section);
    seen->user = sv_dup_cstr(user.ptr == NULL ? SV("") : user);
    seen->line = where->line;
    if (seen->file == NULL || seen->user == NULL ||
        (where->section.ptr != NULL && seen->section == NULL)) {
        sw_free(seen->file);
        sw_free(seen->section);
        sw_free(seen->user);
        report->is_truncated = true;
        return;
    }
    report->secret_count++;
}

static int compare_secrets(const void *a, const void *b)
{
    const struct audit_secret_seen *x = a;
    const struct audit_secret_seen *y = b;
    int c = memcmp(x->fingerprint, y->fingerprint, sizeof(x->fingerprint));
    if (c != 0) {
        return c;
    }
    c = strcmp(x->file, y->file);
    return c != 0 ? c : (x->line > y->line) - (x->line < y->line);
}

static bool same_secret(const struct audit_secret_seen *a, const struct audit_secret_seen *b)
{
    return memcmp(a->fingerprint, b->fingerprint, sizeof(a->fingerprint)) == 0;
}

/* Another secret of the same fingerprint group as `i` held by a different user, or NULL. */
static const struct audit_secret_seen *other_user(const struct audit_report *report, size_t i)
{
    const struct audit_secret_seen *s = &report->secrets[i];
    size_t first = i;
    while (first > 0 && same_secret(&report->secrets[first - 1], s)) {
        first--;
    }
    for (size_t j = first; j < report->secret_count && same_secret(&report->secrets[j], s); j++) {
        if (strcmp(report->secrets[j].user, s->user) != 0) {
            return &report->secrets[j];
        }
    }
    return NULL;
}

/* One finding per secret: FAIL naming another place that uses it, or PASS. */
static void report_reuse(struct audit_report *report)
{
    for (size_t i = 0; i < report->secret_count; i++) {
        const struct audit_secret_seen *s = &report->secrets[i];
        const struct audit_secret_seen *other = other_user(report, i);
        struct audit_where where = { .file = s->file,
                                     .line = s->line,
                                     .section = sv_from_cstr(s->section) };
        if (other == NULL) {
            audit_report_add(report, &where, AUDIT_PASS, "auth.secret-reuse", NULL,
                             "secret not used by any other trunk or endpoint");
            continue;
        }
        audit_report_add(report, &where, AUDIT_FAIL, "auth.secret-reuse",
                         "give each trunk and endpoint its own secret ('sipwarden passwd gen')",
                         "same secret as [%s] at %s:%u",
                         other->section == NULL ? "-" : other->section, other->file, other->line);
    }
}

static int compare_str(const char *a, const char *b)
{
    return strcmp(a == NULL ? "" : a, b == NULL ? "" : b);
}

static int compare_findings(const void *a, const void *b)
{
    const struct audit_finding *x = a;
    const struct audit_finding *y = b;
    int c = compare_str(x->file, y->file);
    if (c == 0) {
        c = (x->line > y->line) - (x->line < y->line);
    }
    if (c == 0) {
        c = compare_str(x->section, y->section);
    }
    if (c == 0) {
        c = compare_str(x->check, y->check);
    }
    if (c == 0) {
        c = compare_str(x->message, y->message);
    }
    return c;
}

void audit_report_finish(struct audit_report *report)
{
    if (report->secret_count > 1) {
        qsort(report->secrets, report->secret_count, sizeof(*report->secrets), compare_secrets);
    }
    report_reuse(report);
    if (report->count > 1) {
        qsort(report->items, report->count, sizeof(*report->items), compare_findings);
    }
}

enum audit_status audit_report_worst(const struct audit_report *report)
{
    enum audit_status worst = AUDIT_PASS;
    for (size_t i = 0; i < report->count; i++) {
        if (report->items[i].status > worst) {
            worst = report->items[i].status;
        }
    }
    return worst;
}

static void count_statuses(const struct audit_report *report, size_t counts[3])
{
    counts[AUDIT_PASS] = 0;
    counts[AUDIT_WARN] = 0;
    counts[AUDIT_FAIL] = 0;
    for (size_t i = 0; i < report->count; i++) {
        counts[report->items[i].status]++;
    }
}

static void format_date(int64_t now, char *buf, size_t cap)
{
    time_t t = (time_t)now;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(buf, cap, "%Y-%m-%d", &tm) == 0) {
        (void)snprintf(buf, cap, "?");
    }
}

static int write_text(const struct audit_report *report, FILE *out)
{
    for (size_t i = 0; i < report->count; i++) {
        const struct audit_finding *f = &report->items[i];
        (void)fprintf(out, "%s %-22s %s:%u", audit_status_name(f->status), f->check, f->file,
                      f->line);
        if (f->section != NULL) {
            (void)fprintf(out, " [%s]", f->section);
        }
        (void)fprintf(out, ": %s\n", f->message);
        if (f->status != AUDIT_PASS) {
            (void)fprintf(out, "     why: %s\n", audit_check_why(f->check));
            if (f->fix != NULL) {
                (void)fprintf(out, "     fix: %s\n", f->fix);
            }
        }
    }
    size_t counts[3];
    count_statuses(report, counts);
    char date[32];
    format_date(report->now, date, sizeof(date));
    (void)fprintf(out, "audit: %zu FAIL, %zu WARN, %zu PASS in %zu file%s (as of %s)%s\n",
                  counts[AUDIT_FAIL], counts[AUDIT_WARN], counts[AUDIT_PASS], report->input_count,
                  report->input_count == 1 ? "" : "s", date,
                  report->is_truncated ? "; out of memory: some findings are missing" : "");
    return ferror(out) ? -SW_EIO : 0;
}

static json_t *string_or_null(const char *s)
{
    return s == NULL ? json_null() : json_string(s);
}

static json_t *finding_json(const struct audit_finding *f)
{
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    int rc = json_object_set_new(o, "check", json_string(f->check));
    rc |= json_object_set_new(o, "status", json_string(audit_status_name(f->status)));
    rc |= json_object_set_new(o, "file", json_string(f->file));
    rc |= json_object_set_new(o, "line", json_integer((json_int_t)f->line));
    rc |= json_object_set_new(o, "section", string_or_null(f->section));
    rc |= json_object_set_new(o, "message", json_string(f->message));
    rc |= json_object_set_new(o, "why", json_string(audit_check_why(f->check)));
    rc |= json_object_set_new(o, "fix", string_or_null(f->fix));
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *inputs_json(const struct audit_report *report)
{
    json_t *inputs = json_array();
    for (size_t i = 0; inputs != NULL && i < report->input_count; i++) {
        json_t *o = json_object();
        if (o == NULL ||
            json_object_set_new(o, "file", string_or_null(report->inputs[i].file)) != 0 ||
            json_object_set_new(o, "kind", json_string(report->inputs[i].kind)) != 0 ||
            json_array_append_new(inputs, o) != 0) {
            json_decref(inputs);
            return NULL;
        }
    }
    return inputs;
}

static json_t *report_json(const struct audit_report *report)
{
    json_t *root = json_object();
    json_t *findings = json_array();
    int rc = root == NULL || findings == NULL ? -1 : 0;
    for (size_t i = 0; rc == 0 && i < report->count; i++) {
        rc = json_array_append_new(findings, finding_json(&report->items[i]));
    }
    size_t counts[3];
    count_statuses(report, counts);
    char date[32];
    format_date(report->now, date, sizeof(date));
    json_t *summary =
        json_pack("{s:I, s:I, s:I}", "pass", (json_int_t)counts[AUDIT_PASS], "warn",
                  (json_int_t)counts[AUDIT_WARN], "fail", (json_int_t)counts[AUDIT_FAIL]);
    if (rc == 0) {
        rc |= json_object_set_new(root, "schema", json_integer(AUDIT_JSON_SCHEMA));
        rc |= json_object_set_new(root, "date", json_string(date));
        rc |= json_object_set_new(root, "inputs", inputs_json(report));
        rc |= json_object_set_new(root, "summary", summary);
        summary = NULL;
        rc |= json_object_set_new(root, "result",
                                  json_string(audit_status_name(audit_report_worst(report))));
        rc |= json_object_set_new(root, "complete", json_boolean(!report->is_truncated));
        rc |= json_object_set_new(root, "findings", findings);
        findings = NULL;
    }
    json_decref(summary);
    json_decref(findings);
    if (rc != 0) {
        json_decref(root);
        return NULL;
    }
    return root;
}

int audit_report_write(const struct audit_report *report, enum audit_format format, FILE *out)
{
    if (format == AUDIT_FORMAT_TEXT) {
        return write_text(report, out);
    }
    json_t *root = report_json(report);
    if (root == NULL) {
        return -ENOMEM;
    }
    int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(root);
    if (rc != 0 || fputc('\n', out) == EOF || ferror(out)) {
        return -SW_EIO;
    }
    return 0;
}
