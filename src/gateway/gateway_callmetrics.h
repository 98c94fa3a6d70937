/*
 * The money side on /metrics (issue #12): calls by party, direction and result, the
 * international calls of each trunk, and each budget's spend. Label cardinality is
 * bounded: the parties are the trunks and accounts of the configuration the gateway
 * started with and those reloads added (at most GW_CALL_METRICS_PARTIES in all, never
 * removed; past that "other").
 *
 *   sipwarden_calls_total{party="trunk:T"|"account:A"|"other",
 *                         direction="inbound"|"outbound", result="answered"|"busy"|
 *                         "no_answer"|"failed"}            calls ended (inbound = to the PBX)
 *   sipwarden_international_calls_total{party="trunk:T"}   outbound calls abroad
 *   sipwarden_spend_micro{budget="global"|"trunk:T"|"account:A",
 *                         period="today"|"month"|"live"}   in the deck's micro-units
 *
 * Threads: gw_call_metrics_new before the writers start and _reload (main thread); _count
 * from the thread that owns `slot`; _spend from the housekeeping thread.
 */
#ifndef SW_GATEWAY_GATEWAY_CALLMETRICS_H
#define SW_GATEWAY_GATEWAY_CALLMETRICS_H

#include <stddef.h>

#include "base/callrec.h"

#define GW_CALL_METRICS_PARTIES 128

struct cfg;
struct gw_call_metrics;
struct gw_spend;
struct metrics;

/* Registers the families and series. Returns 0, -ENOMEM or the registry's error. */
int gw_call_metrics_new(struct metrics *reg, const struct cfg *cfg, struct gw_call_metrics **out);
void gw_call_metrics_free(struct gw_call_metrics *cm);

/*
 * After a reload to `cfg`: registers the series of its trunks and accounts that have none
 * yet, while room remains, and makes them findable; calls of a party beyond the bound, or
 * whose series the registry had no room for, count as "other". Returns the parties added.
 * NULL `cm` is a no-op.
 */
size_t gw_call_metrics_reload(struct gw_call_metrics *cm, const struct cfg *cfg);

/* Counts an ended call's record. */
void gw_call_metrics_count(struct gw_call_metrics *cm, unsigned slot,
                           const struct call_record *rec);

/* Sets the spend gauges from the budgets as they are now. */
void gw_call_metrics_spend(struct gw_call_metrics *cm, unsigned slot, struct gw_spend *spend);

#endif
