/*
 * Time zones without setenv("TZ")/localtime (neither is thread-safe): the zone's TZif file
 * (RFC 8536) from the tz database (/usr/share/zoneinfo, Debian package tzdata) is read and
 * validated here, and the UTC offset of any instant is computed from its transitions and,
 * past the last one, from its POSIX TZ footer rule (e.g. "CET-1CEST,M3.5.0,M10.5.0/3").
 *
 * A zone is loaded once (configuration thread) and then read-only: tz_zone_offset may be
 * called from any thread.
 */
#ifndef SW_NUMBER_TZIF_H
#define SW_NUMBER_TZIF_H

#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"

#define TZ_DEFAULT_ROOT    "/usr/share/zoneinfo"
#define TZ_MAX_NAME        64
#define TZ_MAX_FILE        262144u /* 256 KiB; the largest zone file today is under 4 KiB */
#define TZ_MAX_TRANSITIONS 4096u
#define TZ_MAX_TYPES       256u
#define TZ_MAX_FOOTER      128u

struct tz_zone;

/*
 * Parses the TZif data `data` (versions 1 to 4). Returns 0 and *out (owned by the caller),
 * or -SW_EBADARG with *reason (a static string) saying what is wrong, or -ENOMEM.
 */
int tz_zone_parse(const uint8_t *data, size_t len, struct tz_zone **out, const char **reason);

/*
 * Loads the zone `name` ("Europe/Berlin": letters, digits, '_', '-', '+' and '/' between
 * non-empty parts, at most TZ_MAX_NAME bytes, no "..") from the folder `root` (NULL:
 * TZ_DEFAULT_ROOT). Returns 0, -SW_EBADARG (bad name or file, *reason says which), -errno
 * when the file cannot be read, or -ENOMEM.
 */
int tz_zone_load(const char *root, struct sv name, struct tz_zone **out, const char **reason);

/* Frees the zone; NULL is a no-op. */
void tz_zone_free(struct tz_zone *zone);

/* The offset from UTC in seconds (local = UTC + offset) in force at `utc_s`. */
int32_t tz_zone_offset(const struct tz_zone *zone, int64_t utc_s);

/*
 * Parses a POSIX TZ rule (RFC 8536 §3.3, POSIX.1 TZ with the M, J and plain day forms) on
 * its own. Exposed for the tests and the fuzz target: returns 0 or -SW_EBADARG.
 */
int tz_zone_parse_rule(struct sv rule, struct tz_zone **out);

#endif
