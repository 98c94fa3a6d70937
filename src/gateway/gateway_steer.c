/*
 * UDP steering by Call-ID (gateway_int.h): what the kernel program steered and what the
 * workers still had to hand on, as metrics, and one line at start saying which applies.
 */
#include "base/err.h"
#include "base/log.h"
#include "gateway/gateway_int.h"
#include "net/steer.h"
#include "net/worker.h"
#include "obs/metrics.h"

int gw_steer_metrics_add(struct metrics *metrics, struct gw_steer_series *out)
{
    static const char *const labels[] = { "how" };
    static const char *const hows[STEER_COUNTERS] = {
        [STEER_BY_OWNER] = "owner",
        [STEER_BY_HASH] = "hash",
        [STEER_UNMATCHED] = "unmatched",
    };
    _Static_assert(STEER_COUNTERS == sizeof(out->steered) / sizeof(out->steered[0]),
                   "one series per way of steering");
    struct metrics_family_def steered = {
        .name = "sipwarden_udp_steered_total",
        .help = "UDP datagrams the kernel handed to a worker by their Call-ID: owner (a "
                "Call-ID the gateway made), hash (any other), unmatched (no Call-ID found: "
                "the kernel's own choice).",
        .type = METRIC_COUNTER,
        .label_names = labels,
        .label_count = 1,
    };
    uint32_t family = 0;
    int rc = metrics_family_add(metrics, &steered, &family);
    for (size_t i = 0; i < STEER_COUNTERS && rc == 0; i++) {
        const char *value[] = { hows[i] };
        rc = metrics_series_add(metrics, family, value, &out->steered[i]);
    }
    static const char *const by_labels[] = { "by" };
    struct metrics_family_def handoffs = {
        .name = "sipwarden_worker_handoffs_total",
        .help = "Messages a worker received for a call another worker owns and handed on "
                "(a thread wake-up each): by its Call-ID found before any parse (scan), or "
                "by the parsed Call-ID (parse: the message was parsed twice).",
        .type = METRIC_COUNTER,
        .label_names = by_labels,
        .label_count = 1,
    };
    if (rc == 0) {
        rc = metrics_family_add(metrics, &handoffs, &family);
    }
    static const char *const bys[] = { "scan", "parse" };
    for (size_t i = 0; i < 2 && rc == 0; i++) {
        const char *value[] = { bys[i] };
        rc = metrics_series_add(metrics, family, value, &out->handoffs[i]);
    }
    return rc;
}

void gw_steer_metrics_update(struct gateway *gw, struct metrics *metrics, unsigned slot,
                             const struct gw_steer_series *series)
{
    for (size_t i = 0; i < 2; i++) {
        uint64_t handoffs = atomic_load_explicit(&gw->handoffs[i], memory_order_relaxed);
        metrics_set(metrics, slot, series->handoffs[i], (int64_t)handoffs);
    }
    const struct net_steer *steer = gw->net != NULL ? net_group_steer(gw->net) : NULL;
    if (steer == NULL) {
        return;
    }
    uint64_t counts[STEER_COUNTERS];
    net_steer_counts(steer, counts);
    for (size_t i = 0; i < STEER_COUNTERS; i++) {
        metrics_set(metrics, slot, series->steered[i], (int64_t)counts[i]);
    }
}

void gw_steer_report(const struct gateway *gw)
{
    int refused = net_group_ring_refused(gw->net);
    if (net_group_has_ring(gw->net)) {
        log_notice(NULL, "net: workers wait and receive UDP through io_uring");
    } else if (refused != 0) {
        log_notice(NULL, "net: io_uring refused (%s): workers wait in epoll", sw_strerror(refused));
    }
    if (net_group_steer(gw->net) != NULL) {
        log_notice(NULL, "net: the kernel steers UDP datagrams to the worker owning their "
                         "Call-ID");
        return;
    }
    log_notice(NULL,
               "net: UDP steering by Call-ID off (%s): workers hand messages of calls they "
               "do not own to their owner",
               net_group_steer_why(gw->net));
}
