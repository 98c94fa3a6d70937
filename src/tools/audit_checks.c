#include "tools/audit_checks.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tools/audit_secret.h"

#define SECONDS_PER_DAY 86400

void audit_checks_secret(struct audit_report *report, const struct audit_where *where,
                         struct sv secret, struct sv user, const char *key, const char *fix)
{
    const struct sv words[] = { user, where->section };
    struct audit_secret_score score;
    audit_secret_score(secret, words, sizeof(words) / sizeof(words[0]), &score);
    char description[256];
    audit_secret_describe(&score, description, sizeof(description));
    if (!score.is_ok) {
        char default_fix[128];
        (void)snprintf(default_fix, sizeof(default_fix),
                       "%s=<a new secret from 'sipwarden passwd gen'>", key);
        audit_report_add(report, where, AUDIT_FAIL, "auth.secret", fix != NULL ? fix : default_fix,
                         "%s is %s", key, description);
    } else {
        audit_report_add(report, where, AUDIT_PASS, "auth.secret", NULL, "%s is %s", key,
                         description);
    }
    /* Without a user name of its own, the section is the account (chan_sip's rule). */
    audit_report_secret(report, where, secret, user.len > 0 ? user : where->section);
}

void audit_checks_rotation_age(struct audit_report *report, const struct audit_where *where,
                               int64_t rotated, const char *fix)
{
    int64_t age_days = (report->now - rotated) / SECONDS_PER_DAY;
    char date[16];
    time_t t = (time_t)rotated;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(date, sizeof(date), "%Y-%m-%d", &tm) == 0) {
        (void)snprintf(date, sizeof(date), "?");
    }
    if (age_days > AUDIT_ROTATION_MAX_DAYS) {
        audit_report_add(report, where, AUDIT_WARN, "auth.rotation", fix,
                         "secret last rotated on %s, %lld days ago (more than %d)", date,
                         (long long)age_days, AUDIT_ROTATION_MAX_DAYS);
    } else {
        audit_report_add(report, where, AUDIT_PASS, "auth.rotation", NULL,
                         "secret rotated on %s, %lld days ago", date,
                         (long long)(age_days < 0 ? 0 : age_days));
    }
}

void audit_checks_rotation_comment(struct audit_report *report,
                                   const struct asterisk_conf_section *section)
{
    const struct asterisk_conf_entry *found = NULL;
    struct sv date = SV_NULL;
    for (size_t i = 0; i < section->entry_count; i++) {
        const struct asterisk_conf_entry *e = &section->entries[i];
        struct sv text = e->value;
        if (e->kind != ASTERISK_CONF_COMMENT || !sv_starts_with_nocase(text, SV("rotated"))) {
            continue;
        }
        struct sv rest = sv_trim(sv_slice(text, 7, text.len));
        if (rest.len == 0 || (rest.ptr[0] != '=' && rest.ptr[0] != ':')) {
            continue;
        }
        found = e;
        date = sv_trim(sv_slice(rest, 1, rest.len));
    }
    if (found == NULL) {
        return;
    }
    struct audit_where where = audit_where_of(section, found);
    int64_t rotated = 0;
    if (!audit_date_parse(sv_slice(date, 0, 10), &rotated)) {
        audit_report_add(report, &where, AUDIT_WARN, "auth.rotation", "; rotated=YYYY-MM-DD",
                         "unreadable rotation date '" SV_FMT "'", SV_ARG(date));
        return;
    }
    audit_checks_rotation_age(report, &where, rotated,
                              "change the secret, then record the day: ; rotated=YYYY-MM-DD");
}

static bool digits(struct sv s, size_t from, size_t count, int *out)
{
    int value = 0;
    for (size_t i = from; i < from + count; i++) {
        if (i >= s.len || s.ptr[i] < '0' || s.ptr[i] > '9') {
            return false;
        }
        value = value * 10 + (s.ptr[i] - '0');
    }
    *out = value;
    return true;
}

bool audit_date_parse(struct sv text, int64_t *out)
{
    int year = 0;
    int month = 0;
    int day = 0;
    if (text.len != 10 || text.ptr[4] != '-' || text.ptr[7] != '-' || !digits(text, 0, 4, &year) ||
        !digits(text, 5, 2, &month) || !digits(text, 8, 2, &day)) {
        return false;
    }
    static const int days_in_month[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool is_leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (year < 1970 || month < 1 || month > 12 || day < 1 || day > days_in_month[month - 1] ||
        (month == 2 && day == 29 && !is_leap)) {
        return false;
    }
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    *out = (int64_t)timegm(&tm);
    return true;
}

bool audit_list_has(struct sv list, struct sv token)
{
    struct sv item;
    bool is_last = false;
    while (!is_last) {
        is_last = !sv_take_until(&list, ',', &item);
        if (sv_eq_nocase(sv_trim(item), token)) {
            return true;
        }
    }
    return false;
}

bool audit_is_true(struct sv value)
{
    static const char *const yes[] = { "yes", "true", "y", "t", "1", "on" };
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (sv_eq_nocase(value, sv_from_cstr(yes[i]))) {
            return true;
        }
    }
    return false;
}

struct sv audit_value(const struct asterisk_conf_entry *e)
{
    return e == NULL ? SV_NULL : e->value;
}

struct audit_where audit_where_of(const struct asterisk_conf_section *section,
                                  const struct asterisk_conf_entry *e)
{
    struct audit_where where = {
        .file = e != NULL ? e->file : section->file,
        .line = e != NULL ? e->line : section->line,
        .section = section->name,
    };
    return where;
}
