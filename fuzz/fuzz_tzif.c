/*
 * fuzz_tzif: the TZif (RFC 8536) zone-file reader and, through its footer, the POSIX TZ
 * rule parser. An accepted zone answers offsets within RFC 8536's bounds for any instant.
 * The input is also tried as a rule on its own.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "number/tzif.h"

/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_zone(const struct tz_zone *zone)
{
    static const int64_t instants[] = {
        INT64_MIN, -2208988800, -1, 0, 1774746000, 1793512800, 4109878800, INT64_MAX,
    };
    for (size_t i = 0; i < sizeof(instants) / sizeof(instants[0]); i++) {
        int32_t offset = tz_zone_offset(zone, instants[i]);
        /* RFC 8536 bounds for types; a footer rule reaches ±24 h ± 1 h of DST at most. */
        if (offset < -26 * 3600 || offset > 26 * 3600) {
            abort();
        }
    }
}

/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tz_zone *zone = NULL;
    const char *reason = NULL;
    int rc = tz_zone_parse(data, size, &zone, &reason);
    if ((rc == 0) != (zone != NULL) || (rc != 0 && rc != -ENOMEM && reason == NULL)) {
        abort();
    }
    if (zone != NULL) {
        check_zone(zone);
        tz_zone_free(zone);
    }
    if (size <= TZ_MAX_FOOTER &&
        tz_zone_parse_rule(sv_make((const char *)data, size), &zone) == 0) {
        check_zone(zone);
        tz_zone_free(zone);
    }
    return 0;
}
