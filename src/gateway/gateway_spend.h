/*
 * Private to src/gateway: live enforcement of the spending caps (issue #11). The fraud
 * stage sets the caps of the shared spend store (state/spendstore.h) and refuses new
 * calls a budget cannot carry; this part feeds the store with the calls' progress (from
 * the call events, inline on the emitting worker), and runs one thread that sleeps until
 * the next instant the store names (a cap crossed by the calls in progress, recomputed
 * on every answer and hang-up: a timer, not a polling period) and then ends the calls
 * due, with BYE on both legs, on the workers that own them.
 *
 * Life cycle (main thread): gw_spend_new after the call records are open (it reads the
 * closed spend of the day and month back from them), gw_spend_start before the workers
 * run, gw_spend_stop after they stopped, gw_spend_free. gw_spend_on_event from any
 * thread in between; gw_spend_handle from the control thread.
 */
#ifndef SW_GATEWAY_GATEWAY_SPEND_H
#define SW_GATEWAY_GATEWAY_SPEND_H

#include <stddef.h>

struct cfg;
struct gateway;
struct gw_spend;
struct spend_store;
struct sw_event;

/* NULL when out of memory (logged). `database`: the call records to read spend from, or
 * NULL. */
struct gw_spend *gw_spend_new(struct gateway *gw, const char *database);
int gw_spend_start(struct gw_spend *spend);
void gw_spend_stop(struct gw_spend *spend);
void gw_spend_free(struct gw_spend *spend);

/* The store the spend counters are in (for the cluster to share its caps). */
struct spend_store *gw_spend_store(struct gw_spend *spend);

/* A call event: a rated call started ringing, was answered or ended. Any thread. */
void gw_spend_on_event(struct gw_spend *spend, const struct sw_event *ev);

/*
 * The control socket's "spend [account A | trunk T]" (the words after "spend") into
 * `out`: a line per budget
 *   "budget <key> <today> <month> <live> <daily_cap> <monthly_cap> <answered> <ringing>
 *    <crossing_in_ms> <cluster_today> <grant>"
 * (amounts in micro-units, 0 = no cap, crossing -1 = none; in a cluster, the cluster's
 * closed spend today as Redis last said and what this node's grant leaves, else -1),
 * then "ok".
 */
void gw_spend_handle(struct gw_spend *spend, const char *line, char *out, size_t cap);

/*
 * The budgets as they are now (state/spendstore.h, at most 4096) into `*out`, a new
 * array the caller frees with sw_free; returns how many. 0 and `*out` NULL when there
 * are none, `spend` is NULL or memory is short. Any thread.
 */
struct spend_view;
size_t gw_spend_views(struct gw_spend *spend, struct spend_view **out);

#endif
