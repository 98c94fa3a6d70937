/*
 * Private to src/gateway: the alert rules' wiring (issue #12). The engine (obs/alert.h)
 * is an event-queue sink; its sinks (obs/alert_sink.h) have their own threads; the
 * housekeeping thread feeds what the gateway measures (trunk registrations, events
 * dropped, certificates) and ticks the engine once a second.
 *
 * Life cycle (main thread): gw_alerts_new before the event queue is built, then
 * gw_alerts_sink as one of its sinks; gw_alerts_start when the gateway starts (this is
 * the "gateway restarted" alert); gw_alerts_tick from the housekeeping thread;
 * gw_alerts_prepare and gw_alerts_reloaded around the publication of a SIGHUP reload;
 * gw_alerts_free after the event queue was freed.
 */
#ifndef SW_GATEWAY_GATEWAY_ALERTS_H
#define SW_GATEWAY_GATEWAY_ALERTS_H

#include <stdint.h>

#include "base/diag.h"
#include "base/event.h"

struct cfg;
struct gw_alerts;
struct metrics;

/* Builds the rules and sinks of `cfg`. Returns 0 or -errno (with a diag entry). */
int gw_alerts_new(const struct cfg *cfg, struct gw_alerts **out, struct sw_diag *diag);

/* The open and recent alerts (obs/alert_log.h) for the admin API; NULL for NULL. */
struct alert_log;
struct alert_log *gw_alerts_log(struct gw_alerts *alerts);

/* The engine as an event-queue sink. */
struct event_sink gw_alerts_sink(struct gw_alerts *alerts);

/*
 * Registers the alert figures in `metrics` (before the writers start); gw_alerts_tick
 * then writes them in `slot`, which the housekeeping thread owns:
 *   sipwarden_alerts_firing                       incidents open now
 *   sipwarden_alert_messages_total                alerts, updates and resolutions sent
 *   sipwarden_alert_deliveries_total{sink,result} delivered, failed (attempts), given_up,
 *                                                 dropped (full queue): 4 series a sink
 * Returns 0 or an error of metrics_*_add.
 */
int gw_alerts_add_metrics(struct gw_alerts *alerts, struct metrics *metrics, unsigned slot);

/* Starts the sinks' threads and reports the start. Returns 0 or -errno. */
int gw_alerts_start(struct gw_alerts *alerts);

/* Once a second: `events_dropped` is the event queue's total so far. */
void gw_alerts_tick(struct gw_alerts *alerts, uint64_t events_dropped);

/*
 * Before a SIGHUP reload to `cfg` is published: opens its [alerts] geoip_db again (the
 * file may have been replaced by a newer database) and, when its rules or sinks differ
 * from those in force, builds and starts its sinks. Returns 0, or an error with a diag
 * entry (a database at the key's line): the reload is then refused and what is in force
 * stays. (A bad [alerts] section or rule or sink section never gets here: the
 * configuration loader refuses it with file:line.) NULL `alerts` is a no-op. Main thread.
 */
int gw_alerts_prepare(struct gw_alerts *alerts, const struct cfg *cfg, struct sw_diag *diag);

/*
 * After a SIGHUP reload to `cfg`: its rules, trunks and the database gw_alerts_prepare
 * opened replace those in force (obs/alert.h, alert_engine_reconfigure: rules of the same
 * name, metric, scope and window keep their counts and open incidents; the countries and
 * addresses seen stay), and the engine delivers to the sinks gw_alerts_prepare started
 * from then on. The sinks before are drained (at most 5 s, then a retry waiting is given
 * up and counted) and joined on this thread; their delivery figures carry on under the
 * same sink names (a sink of a new name has none until a restart). The learned call peak
 * applies again at the next tick. The certificates' and trunk registrations' watch stays
 * that of the start. Main thread.
 */
void gw_alerts_reloaded(struct gw_alerts *alerts, const struct cfg *cfg);

/*
 * Keeps the SHA-256 of the configuration file at `path`, just loaded (at start or by a
 * reload), in the database's config history: the incident report's evidence of when the
 * configuration changed. NULL `path` (the embedded default) or no database: nothing kept.
 * Main thread.
 */
void gw_alerts_note_config(struct gw_alerts *alerts, const char *path);

/* Delivers what is queued, stops and frees; NULL is a no-op. */
void gw_alerts_free(struct gw_alerts *alerts);

#endif
