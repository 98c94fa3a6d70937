#include "number/tzif.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "number/numfile.h"

#define TZIF_HEADER_LEN 44
#define TZ_MAX_LEAPS    0        /* leap-second ("right/") zones are refused */
#define TZ_UTOFF_MIN    (-89999) /* RFC 8536 §3.2: -25 h < utoff < 26 h */
#define TZ_UTOFF_MAX    93599
#define TZ_RULE_HOURS   167                /* RFC 8536 §3.3.1: rule times from -167 h to 167 h */
#define TZ_TIME_LIMIT   (INT64_C(1) << 56) /* instants beyond ±2^56 s are clamped */
#define SECONDS_PER_DAY 86400

/* One end of the daylight-saving period of a POSIX TZ rule. */
struct tz_rule_date {
    char kind; /* 'M' (month.week.day), 'J' (Julian 1-365, no Feb 29), 'N' (0-365) */
    int month; /* M: 1-12 */
    int week;  /* M: 1-5, 5 = last */
    int day;   /* M: weekday 0-6 (Sunday = 0); J: 1-365; N: 0-365 */
    int32_t time_s;
};

struct tz_rule {
    int32_t std_off; /* UTC offsets: local = UTC + off */
    int32_t dst_off;
    bool has_dst;
    struct tz_rule_date start;
    struct tz_rule_date end;
};

struct tz_zone {
    int64_t *times;   /* transition instants, strictly ascending */
    uint8_t *indices; /* the type in force from each transition on */
    int32_t *offsets; /* the UTC offset of each type */
    uint32_t time_count;
    uint32_t type_count;
    bool has_rule;
    struct tz_rule rule;
};

/* The counts of one TZif header (RFC 8536 §3.1). */
struct tzif_counts {
    uint32_t isut;
    uint32_t isstd;
    uint32_t leap;
    uint32_t time;
    uint32_t type;
    uint32_t chars;
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* ---- dates (proleptic Gregorian, days since 1970-01-01) ---- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t year_of_days(int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    return yoe + era * 400 + (mp >= 10 ? 1 : 0);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_len(int64_t y, int m)
{
    static const int len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

/* The local instant (seconds since the epoch, local wall clock) a rule date names in `y`. */
static int64_t rule_local_s(const struct tz_rule_date *date, int64_t y)
{
    int64_t days = 0;
    if (date->kind == 'M') {
        int64_t first = days_from_civil(y, date->month, 1);
        int weekday = (int)((first % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
        int mday = 1 + (date->day - weekday + 7) % 7 + (date->week - 1) * 7;
        while (mday > month_len(y, date->month)) {
            mday -= 7;
        }
        days = first + mday - 1;
    } else if (date->kind == 'J') {
        days = days_from_civil(y, 1, 1) + date->day - 1 + (is_leap(y) && date->day >= 60 ? 1 : 0);
    } else {
        days = days_from_civil(y, 1, 1) + date->day;
    }
    return days * SECONDS_PER_DAY + date->time_s;
}

static int32_t rule_offset(const struct tz_rule *rule, int64_t utc_s)
{
    if (!rule->has_dst) {
        return rule->std_off;
    }
    int64_t y = year_of_days(floor_div(utc_s + rule->std_off, SECONDS_PER_DAY));
    /* POSIX: the start is given in standard time, the end in daylight-saving time. */
    int64_t start = rule_local_s(&rule->start, y) - rule->std_off;
    int64_t end = rule_local_s(&rule->end, y) - rule->dst_off;
    bool is_dst = start < end ? (utc_s >= start && utc_s < end) : !(utc_s >= end && utc_s < start);
    return is_dst ? rule->dst_off : rule->std_off;
}

int32_t tz_zone_offset(const struct tz_zone *zone, int64_t utc_s)
{
    if (utc_s > TZ_TIME_LIMIT) {
        utc_s = TZ_TIME_LIMIT;
    } else if (utc_s < -TZ_TIME_LIMIT) {
        utc_s = -TZ_TIME_LIMIT;
    }
    if (zone->time_count == 0 || utc_s < zone->times[0]) {
        /* RFC 8536 §3.2: before the first transition, type 0 applies. */
        return zone->time_count == 0 && zone->has_rule ? rule_offset(&zone->rule, utc_s)
                                                       : zone->offsets[0];
    }
    if (utc_s >= zone->times[zone->time_count - 1] && zone->has_rule) {
        return rule_offset(&zone->rule, utc_s);
    }
    uint32_t lo = 0;
    uint32_t hi = zone->time_count; /* times[lo] <= utc_s < times[hi] */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (zone->times[mid] <= utc_s) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return zone->offsets[zone->indices[lo]];
}

/* ---- POSIX TZ rules (RFC 8536 §3.3) ---- */

static bool take_char(struct sv *cur, char c)
{
    if (cur->len > 0 && cur->ptr[0] == c) {
        *cur = sv_slice(*cur, 1, cur->len - 1);
        return true;
    }
    return false;
}

/* Reads up to `max_digits` digits into *value (at least one). */
static bool take_number(struct sv *cur, size_t max_digits, int *value)
{
    size_t n = 0;
    *value = 0;
    while (n < cur->len && n < max_digits && cur->ptr[n] >= '0' && cur->ptr[n] <= '9') {
        *value = *value * 10 + (cur->ptr[n] - '0');
        n++;
    }
    *cur = sv_slice(*cur, n, cur->len - n);
    return n > 0;
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A zone abbreviation: three or more letters, or <...> with letters, digits, '+', '-'. */
static bool take_name(struct sv *cur)
{
    size_t n = 0;
    if (take_char(cur, '<')) {
        while (n < cur->len &&
               (is_alpha(cur->ptr[n]) || (cur->ptr[n] >= '0' && cur->ptr[n] <= '9') ||
                cur->ptr[n] == '+' || cur->ptr[n] == '-')) {
            n++;
        }
        *cur = sv_slice(*cur, n, cur->len - n);
        return n >= 3 && take_char(cur, '>');
    }
    while (n < cur->len && is_alpha(cur->ptr[n])) {
        n++;
    }
    *cur = sv_slice(*cur, n, cur->len - n);
    return n >= 3;
}

/* [+-]hh[:mm[:ss]] with hh <= max_hours, as signed seconds. */
static bool take_hms(struct sv *cur, int max_hours, int32_t *seconds)
{
    int sign = take_char(cur, '-') ? -1 : 1;
    if (sign > 0) {
        (void)take_char(cur, '+'); /* optional */
    }
    int h = 0;
    int m = 0;
    int s = 0;
    if (!take_number(cur, 3, &h) || h > max_hours) {
        return false;
    }
    if (take_char(cur, ':') && (!take_number(cur, 2, &m) || m > 59 ||
                                (take_char(cur, ':') && (!take_number(cur, 2, &s) || s > 59)))) {
        return false;
    }
    *seconds = sign * (h * 3600 + m * 60 + s);
    return true;
}

static bool take_rule_date(struct sv *cur, struct tz_rule_date *date)
{
    date->time_s = 7200; /* POSIX: 02:00:00 when no time is given */
    bool ok = false;
    if (take_char(cur, 'M')) {
        date->kind = 'M';
        ok = take_number(cur, 2, &date->month) && date->month >= 1 && date->month <= 12 &&
             take_char(cur, '.') && take_number(cur, 1, &date->week) && date->week >= 1 &&
             date->week <= 5 && take_char(cur, '.') && take_number(cur, 1, &date->day) &&
             date->day <= 6;
    } else if (take_char(cur, 'J')) {
        date->kind = 'J';
        ok = take_number(cur, 3, &date->day) && date->day >= 1 && date->day <= 365;
    } else {
        date->kind = 'N';
        ok = take_number(cur, 3, &date->day) && date->day <= 365;
    }
    if (ok && take_char(cur, '/')) {
        ok = take_hms(cur, TZ_RULE_HOURS, &date->time_s);
    }
    return ok;
}

static bool parse_rule(struct sv text, struct tz_rule *rule)
{
    struct sv cur = text;
    int32_t posix = 0;
    memset(rule, 0, sizeof(*rule));
    if (!take_name(&cur) || !take_hms(&cur, 24, &posix)) {
        return false;
    }
    rule->std_off = -posix; /* POSIX offsets count west of Greenwich */
    if (cur.len == 0) {
        return true;
    }
    if (!take_name(&cur)) {
        return false;
    }
    rule->has_dst = true;
    rule->dst_off = rule->std_off + 3600;
    if (cur.len > 0 && cur.ptr[0] != ',') {
        if (!take_hms(&cur, 24, &posix)) {
            return false;
        }
        rule->dst_off = -posix;
    }
    /* A daylight-saving name without its dates has no defined rule: refused. */
    return take_char(&cur, ',') && take_rule_date(&cur, &rule->start) && take_char(&cur, ',') &&
           take_rule_date(&cur, &rule->end) && cur.len == 0;
}

static struct tz_zone *zone_new(uint32_t time_count, uint32_t type_count)
{
    struct tz_zone *zone = sw_calloc(1, sizeof(*zone));
    if (zone == NULL) {
        return NULL;
    }
    zone->times = sw_calloc(time_count + 1, sizeof(*zone->times));
    zone->indices = sw_calloc(time_count + 1, sizeof(*zone->indices));
    zone->offsets = sw_calloc(type_count + 1, sizeof(*zone->offsets));
    if (zone->times == NULL || zone->indices == NULL || zone->offsets == NULL) {
        tz_zone_free(zone);
        return NULL;
    }
    zone->time_count = time_count;
    zone->type_count = type_count;
    return zone;
}

int tz_zone_parse_rule(struct sv rule, struct tz_zone **out)
{
    *out = NULL;
    struct tz_rule parsed;
    if (rule.len > TZ_MAX_FOOTER || !parse_rule(rule, &parsed)) {
        return -SW_EBADARG;
    }
    struct tz_zone *zone = zone_new(0, 1);
    if (zone == NULL) {
        return -ENOMEM;
    }
    zone->offsets[0] = parsed.std_off;
    zone->has_rule = true;
    zone->rule = parsed;
    *out = zone;
    return 0;
}

void tz_zone_free(struct tz_zone *zone)
{
    if (zone == NULL) {
        return;
    }
    sw_free(zone->times);
    sw_free(zone->indices);
    sw_free(zone->offsets);
    sw_free(zone);
}

/* ---- TZif (RFC 8536 §3) ---- */

static const char *read_header(const uint8_t *p, size_t len, struct tzif_counts *c, int *version)
{
    if (len < TZIF_HEADER_LEN || memcmp(p, "TZif", 4) != 0) {
        return "not a TZif file";
    }
    if (p[4] != 0 && (p[4] < '2' || p[4] > '4')) {
        return "unknown TZif version";
    }
    *version = p[4] == 0 ? 1 : p[4] - '0';
    c->isut = be32(p + 20);
    c->isstd = be32(p + 24);
    c->leap = be32(p + 28);
    c->time = be32(p + 32);
    c->type = be32(p + 36);
    c->chars = be32(p + 40);
    if (c->type == 0 || c->type > TZ_MAX_TYPES || c->time > TZ_MAX_TRANSITIONS || c->chars == 0 ||
        c->chars > 4096) {
        return "counts out of range";
    }
    if (c->leap > TZ_MAX_LEAPS) {
        return "leap-second zones are not supported";
    }
    if ((c->isut != 0 && c->isut != c->type) || (c->isstd != 0 && c->isstd != c->type)) {
        return "indicator counts differ from the type count";
    }
    return NULL;
}

/* Bytes of the data block after a header whose times take `time_size` bytes. */
static size_t block_len(const struct tzif_counts *c, size_t time_size)
{
    return (size_t)c->time * (time_size + 1) + (size_t)c->type * 6 + c->chars +
           (size_t)c->leap * (time_size + 4) + c->isstd + c->isut;
}

static const char *read_block(const uint8_t *p, const struct tzif_counts *c, size_t time_size,
                              struct tz_zone *zone)
{
    const uint8_t *idx = p + (size_t)c->time * time_size;
    const uint8_t *types = idx + c->time;
    for (uint32_t i = 0; i < c->time; i++) {
        zone->times[i] =
            time_size == 8 ? be64(p + (size_t)i * 8) : (int64_t)(int32_t)be32(p + (size_t)i * 4);
        if (i > 0 && zone->times[i] <= zone->times[i - 1]) {
            return "transition times not ascending";
        }
        if (idx[i] >= c->type) {
            return "transition type out of range";
        }
        zone->indices[i] = idx[i];
    }
    for (uint32_t i = 0; i < c->type; i++) {
        const uint8_t *t = types + (size_t)i * 6;
        int32_t utoff = (int32_t)be32(t);
        if (utoff < TZ_UTOFF_MIN || utoff > TZ_UTOFF_MAX || t[4] > 1 || t[5] >= c->chars) {
            return "bad local time type";
        }
        zone->offsets[i] = utoff;
    }
    return NULL;
}

static const char *read_footer(const uint8_t *p, size_t len, struct tz_zone *zone)
{
    if (len < 2 || p[0] != '\n') {
        return "missing footer";
    }
    const uint8_t *nl = memchr(p + 1, '\n', len - 1);
    if (nl == NULL || (size_t)(nl - p) - 1 > TZ_MAX_FOOTER) {
        return "bad footer";
    }
    struct sv rule = sv_make((const char *)p + 1, (size_t)(nl - p) - 1);
    if (rule.len == 0) {
        return NULL; /* no rule: the last transition's type goes on */
    }
    if (!parse_rule(rule, &zone->rule)) {
        return "bad footer rule";
    }
    zone->has_rule = true;
    return NULL;
}

/* Parses the header at `p` and the block after it; *next points past the block. */
static const char *read_section(const uint8_t *p, size_t len, size_t time_size,
                                struct tzif_counts *c, int *version, size_t *next)
{
    const char *why = read_header(p, len, c, version);
    if (why != NULL) {
        return why;
    }
    *next = TZIF_HEADER_LEN + block_len(c, time_size);
    return *next > len ? "truncated" : NULL;
}

int tz_zone_parse(const uint8_t *data, size_t len, struct tz_zone **out, const char **reason)
{
    *out = NULL;
    struct tzif_counts c;
    int version = 0;
    size_t v1_end = 0;
    const char *why =
        len > TZ_MAX_FILE ? "file too large" : read_section(data, len, 4, &c, &version, &v1_end);
    const uint8_t *block = data + TZIF_HEADER_LEN;
    size_t time_size = 4;
    size_t end = v1_end;
    if (why == NULL && version >= 2) {
        /* RFC 8536 §3: readers of version 2+ skip the 32-bit block and use the second one. */
        int version2 = 0;
        size_t v2_end = 0;
        why = read_section(data + v1_end, len - v1_end, 8, &c, &version2, &v2_end);
        block = data + v1_end + TZIF_HEADER_LEN;
        time_size = 8;
        end = v1_end + v2_end;
    }
    struct tz_zone *zone = NULL;
    if (why == NULL && (zone = zone_new(c.time, c.type)) == NULL) {
        return -ENOMEM;
    }
    if (why == NULL) {
        why = read_block(block, &c, time_size, zone);
    }
    if (why == NULL && version >= 2) {
        why = read_footer(data + end, len - end, zone);
    }
    if (why != NULL) {
        tz_zone_free(zone);
        *reason = why;
        return -SW_EBADARG;
    }
    *out = zone;
    return 0;
}

static bool valid_zone_name(struct sv name)
{
    if (name.len == 0 || name.len > TZ_MAX_NAME || name.ptr[0] == '/' ||
        name.ptr[name.len - 1] == '/') {
        return false;
    }
    for (size_t i = 0; i < name.len; i++) {
        char c = name.ptr[i];
        bool is_ok = is_alpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '+' ||
                     (c == '/' && name.ptr[i - 1] != '/');
        if (!is_ok) {
            return false;
        }
    }
    /* No part may start with '.' (the set above has no '.'), so ".." cannot occur. */
    return true;
}

int tz_zone_load(const char *root, struct sv name, struct tz_zone **out, const char **reason)
{
    *out = NULL;
    *reason = NULL;
    if (!valid_zone_name(name)) {
        *reason = "not a tz database zone name";
        return -SW_EBADARG;
    }
    char path[512];
    int n = snprintf(path, sizeof(path), "%s/" SV_FMT, root != NULL ? root : TZ_DEFAULT_ROOT,
                     SV_ARG(name));
    if (n < 0 || (size_t)n >= sizeof(path)) {
        *reason = "zone path too long";
        return -SW_EBADARG;
    }
    char *buf = NULL;
    size_t len = 0;
    int err = numfile_read(path, TZ_MAX_FILE, &buf, &len);
    if (err != 0) {
        *reason = "cannot read the zone file";
        return err;
    }
    err = tz_zone_parse((const uint8_t *)buf, len, out, reason);
    sw_free(buf);
    return err;
}
