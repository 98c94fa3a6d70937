/*
 * Schedules: weekdays and time-of-day ranges in a tz database zone, e.g.
 *     mon-fri 08:00-18:00 Europe/Berlin
 *     mon-fri,sat 08:00-12:30,13:30-17:00 America/New_York
 *     sun-sat 22:00-06:00 UTC                (a range past midnight belongs to its start day)
 * "is time T inside" is answered from the zone's own transition data (tzif.h), so it is
 * right across daylight-saving changes and never touches the process's TZ.
 *
 * A schedule is built once (configuration thread), then read-only: any thread may call
 * schedule_contains.
 */
#ifndef SW_NUMBER_SCHEDULE_H
#define SW_NUMBER_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/sv.h"

#define SCHEDULE_MAX_RANGES 8

struct tz_zone;

struct schedule_range {
    uint16_t start_min; /* minutes after local midnight, 0..1439 */
    uint16_t end_min;   /* 1..1440; below start_min: the range ends the next day */
};

struct schedule {
    uint8_t days; /* bit 0 = Monday ... bit 6 = Sunday */
    uint8_t range_count;
    struct schedule_range ranges[SCHEDULE_MAX_RANGES];
    struct tz_zone *zone; /* owned */
};

/*
 * Parses "DAYS RANGES ZONE": DAYS is a comma list of days or day ranges (mon, tue, wed,
 * thu, fri, sat, sun; "mon-fri"; "sun-sat" for every day), RANGES a comma list of HH:MM-HH:MM
 * (24:00 allowed as an end; an end before its start runs past midnight), ZONE a tz
 * database name read from `zoneinfo_root` (NULL: /usr/share/zoneinfo). Returns 0, or
 * -SW_EBADARG with *reason (static text), -errno or -ENOMEM; `out` is then empty.
 */
int schedule_parse(struct sv text, const char *zoneinfo_root, struct schedule *out,
                   const char **reason);

/* Frees the zone; the schedule is then empty. */
void schedule_fini(struct schedule *schedule);

/* True when the instant `utc_s` (seconds since the epoch) falls inside the schedule. */
bool schedule_contains(const struct schedule *schedule, int64_t utc_s);

#endif
