/*
 * Metrics: a small registry of counters and gauges, rendered in the Prometheus text
 * exposition format 0.0.4 (HELP and TYPE lines, labels).
 *
 * Families (a name, help text, type and label names) and their series (one set of label
 * values each) are registered at start-up; the hot path then adds to a series by number.
 * Every writer thread owns a slot (workers 0..N-1, then the consumer and housekeeping
 * threads): a slot is an array of cells only its thread writes, with relaxed atomic
 * loads and stores, no read-modify-write and no lock; a scrape sums the slots. Gauges
 * work the same way: each thread sets its own part, the scrape adds the parts.
 *
 * Threads: metrics_new, the *_add registration functions and metrics_free belong to the
 * main thread before the writers start; metrics_series_add may also run later on the main
 * thread (a reload's new trunks and accounts): a series is published complete, a scrape
 * shows it from then on, and its writer may use it once the number is handed over;
 * metrics_add/metrics_set for slot s only to the thread that owns s; metrics_render and
 * metrics_value from any thread (the admin HTTP thread), seeing each cell's latest value.
 */
#ifndef SW_OBS_METRICS_H
#define SW_OBS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/event.h"

#define METRICS_LABELS_MAX 3

enum metric_type {
    METRIC_COUNTER,
    METRIC_GAUGE,
};

struct metrics_config {
    unsigned slot_count; /* writer threads; at least 1 */
    size_t max_series;   /* 0 = 1024 */
    size_t max_families; /* 0 = 128 (or max_series if smaller); <= max_series */
};

struct metrics;

/* Creates an empty registry. Returns 0, -SW_EBADARG or -ENOMEM. */
int metrics_new(const struct metrics_config *cfg, struct metrics **out);

/* Frees the registry; NULL is a no-op. */
void metrics_free(struct metrics *reg);

/* A family to register: `name` must match [a-zA-Z_:][a-zA-Z0-9_:]* and each label name
 * [a-zA-Z_][a-zA-Z0-9_]* (not starting with "__"). */
struct metrics_family_def {
    const char *name;
    const char *help;
    enum metric_type type;
    const char *const *label_names;
    size_t label_count; /* at most METRICS_LABELS_MAX */
};

/*
 * Registers a family (strings are copied). Returns 0 and *family, -SW_EBADARG,
 * -SW_EFULL or -ENOMEM.
 */
int metrics_family_add(struct metrics *reg, const struct metrics_family_def *def, uint32_t *family);

/*
 * Registers a series of `family` with one value per label name (copied; any bytes, they
 * are escaped when rendered). Returns 0 and *series, -SW_EBADARG, -SW_EFULL or -ENOMEM.
 */
int metrics_series_add(struct metrics *reg, uint32_t family, const char *const *label_values,
                       uint32_t *series);

/* Adds `delta` to a counter (or gauge) in slot `slot`. Lock-free. */
void metrics_add(struct metrics *reg, unsigned slot, uint32_t series, uint64_t delta);

/* Sets slot `slot`'s part of a gauge. Lock-free. */
void metrics_set(struct metrics *reg, unsigned slot, uint32_t series, int64_t value);

/* The sum over the slots (a gauge's parts are signed; read it as int64_t). */
uint64_t metrics_value(const struct metrics *reg, uint32_t series);

/*
 * Renders every family in registration order. Returns 0, or -SW_ETOOBIG when `out`
 * overflowed (out->is_overflow is set as well).
 */
int metrics_render(const struct metrics *reg, struct sw_buf *out);

/*
 * Security events counted by kind: sipwarden_events_total{event="FailedACL"}. Register it
 * with metrics_events_init; metrics_events_emit is an event_emit_fn (ctx = the struct) to
 * add as an event-queue sink; it writes slot `slot`, which the consumer thread owns.
 */
struct metrics_events {
    struct metrics *reg;
    unsigned slot;
    uint32_t series[EV_KIND_COUNT];
};

/* Registers the family and one series per kind. Returns 0 or an error of *_add. */
int metrics_events_init(struct metrics_events *events, struct metrics *reg, unsigned slot);

void metrics_events_emit(void *ctx, const struct sw_event *event);

#endif
