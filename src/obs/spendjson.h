/*
 * One spending-cap budget (state/spendstore.h) as JSON, for the two places that show it:
 * `sipwarden spend --json` (from the control socket's line) and the admin API's
 * /api/v1/trunks and /api/v1/accounts. One function, so both say the same things, a
 * cluster's figures included. Stateless; any thread.
 */
#ifndef SW_OBS_SPENDJSON_H
#define SW_OBS_SPENDJSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct spend_view;

/*
 * The object {"budget", "today", "month", "live", "daily_cap", "monthly_cap", "answered",
 * "ringing", "crossing_in_ms", "cluster_today", "grant"} of `v` at monotonic `now_ms`:
 * amounts as the rate deck's money text ("0.70") when `is_text`, else as integer
 * micro-units; a cap of 0 (none), a crossing SPEND_NEVER and the cluster figures outside a
 * cluster (negative) are null. NULL when out of memory.
 */
json_t *spendjson_budget(const struct spend_view *v, int64_t now_ms, bool is_text);

#endif
