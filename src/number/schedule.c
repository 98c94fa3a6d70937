#include "number/schedule.h"

#include <string.h>

#include "base/err.h"
#include "number/tzif.h"

static const char *const day_names[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

static int day_index(struct sv name)
{
    for (int i = 0; i < 7; i++) {
        if (sv_eq_nocase(name, sv_from_cstr(day_names[i]))) {
            return i;
        }
    }
    return -1;
}

/* "mon", "mon-fri", "fri-mon" (wraps), comma-separated. */
static bool parse_days(struct sv text, uint8_t *days)
{
    struct sv cur = text;
    bool more = true;
    *days = 0;
    while (more) {
        struct sv item;
        more = sv_take_until(&cur, ',', &item);
        struct sv first = item;
        struct sv last = SV_NULL;
        long dash = sv_find_char(item, '-');
        if (dash >= 0) {
            first = sv_slice(item, 0, (size_t)dash);
            last = sv_slice(item, (size_t)dash + 1, item.len - (size_t)dash - 1);
        }
        int from = day_index(first);
        int to = dash >= 0 ? day_index(last) : from;
        if (from < 0 || to < 0) {
            return false;
        }
        for (int d = from, n = 0; n < 7; d = (d + 1) % 7, n++) {
            *days = (uint8_t)(*days | 1u << d);
            if (d == to) {
                break;
            }
        }
    }
    return true;
}

/* "HH:MM" into minutes; 24:00 only when `is_end`. */
static bool parse_clock(struct sv text, bool is_end, uint16_t *minutes)
{
    uint32_t h = 0;
    uint32_t m = 0;
    if (text.len != 5 || text.ptr[2] != ':' || !sv_to_u32(sv_slice(text, 0, 2), &h) ||
        !sv_to_u32(sv_slice(text, 3, 2), &m) || m > 59 || h > 24 ||
        (h == 24 && (m != 0 || !is_end))) {
        return false;
    }
    *minutes = (uint16_t)(h * 60 + m);
    return true;
}

static bool parse_ranges(struct sv text, struct schedule *out)
{
    struct sv cur = text;
    bool more = true;
    while (more) {
        struct sv item;
        more = sv_take_until(&cur, ',', &item);
        long dash = sv_find_char(item, '-');
        if (dash < 0 || out->range_count == SCHEDULE_MAX_RANGES) {
            return false;
        }
        struct schedule_range *r = &out->ranges[out->range_count];
        if (!parse_clock(sv_slice(item, 0, (size_t)dash), false, &r->start_min) ||
            !parse_clock(sv_slice(item, (size_t)dash + 1, item.len - (size_t)dash - 1), true,
                         &r->end_min) ||
            r->start_min == r->end_min) {
            return false;
        }
        out->range_count++;
    }
    return true;
}

/* The next space-separated word of `cur`. */
static struct sv next_word(struct sv *cur)
{
    *cur = sv_trim(*cur);
    struct sv word;
    (void)sv_take_until(cur, ' ', &word); /* no space: the word is the rest */
    return word;
}

int schedule_parse(struct sv text, const char *zoneinfo_root, struct schedule *out,
                   const char **reason)
{
    memset(out, 0, sizeof(*out));
    struct sv cur = text;
    struct sv days = next_word(&cur);
    struct sv ranges = next_word(&cur);
    struct sv zone = next_word(&cur);
    if (sv_trim(cur).len != 0 || zone.len == 0) {
        *reason = "expected DAYS RANGES ZONE (mon-fri 08:00-18:00 Europe/Berlin)";
        return -SW_EBADARG;
    }
    if (!parse_days(days, &out->days)) {
        *reason = "days: expected mon..sun, ranges like mon-fri, separated by commas";
        return -SW_EBADARG;
    }
    if (!parse_ranges(ranges, out)) {
        *reason = "hours: expected up to 8 ranges HH:MM-HH:MM, separated by commas";
        memset(out, 0, sizeof(*out));
        return -SW_EBADARG;
    }
    int err = tz_zone_load(zoneinfo_root, zone, &out->zone, reason);
    if (err != 0) {
        memset(out, 0, sizeof(*out));
    }
    return err;
}

void schedule_fini(struct schedule *schedule)
{
    tz_zone_free(schedule->zone);
    memset(schedule, 0, sizeof(*schedule));
}

bool schedule_contains(const struct schedule *schedule, int64_t utc_s)
{
    if (schedule->zone == NULL) {
        return false;
    }
    /* Far beyond any calendar of interest; keeps the sums below from overflowing. */
    const int64_t limit = INT64_C(1) << 56;
    utc_s = utc_s > limit ? limit : utc_s < -limit ? -limit : utc_s;
    int64_t local = utc_s + tz_zone_offset(schedule->zone, utc_s);
    int64_t days = local / 86400 - (local % 86400 < 0 ? 1 : 0);
    int minute = (int)((local - days * 86400) / 60);
    int today = (int)(((days % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday: index 3 */
    int yesterday = (today + 6) % 7;
    bool is_today = (schedule->days & (1u << today)) != 0;
    bool was_yesterday = (schedule->days & (1u << yesterday)) != 0;
    for (size_t i = 0; i < schedule->range_count; i++) {
        const struct schedule_range *r = &schedule->ranges[i];
        if (r->start_min < r->end_min) {
            if (is_today && minute >= r->start_min && minute < r->end_min) {
                return true;
            }
        } else if ((is_today && minute >= r->start_min) || (was_yesterday && minute < r->end_min)) {
            return true;
        }
    }
    return false;
}
