/*
 * [ban] kernel_drop (gateway_int.h): the BPF socket filter of state/ban_bpf.h wired to the
 * ban store, the gate's deny ranges and every socket the network opens.
 */
#include "base/err.h"
#include "base/log.h"
#include "config/config.h"
#include "gateway/gateway_int.h"
#include "gateway/gateway_obs.h"
#include "obs/metrics.h"
#include "policy/acl.h"
#include "state/ban.h"
#include "state/ban_bpf.h"

void gw_kdrop_set_deny(struct gateway *gw, const struct cfg *cfg)
{
    if (gw->kdrop == NULL) {
        return;
    }
    struct sw_cidr deny[BAN_BPF_MAX_DENY];
    size_t count = acl_gate_deny_ranges(cfg, deny, BAN_BPF_MAX_DENY);
    int rc = ban_bpf_set_deny(gw->kdrop, deny, count);
    if (rc != 0) {
        log_err(NULL,
                "ban: kernel drop: cannot load the [acl] deny ranges: %s; the gate drops "
                "them in user space",
                sw_strerror(rc));
    }
}

void gw_kdrop_open(struct gateway *gw, const struct cfg *cfg)
{
    struct ban_store *bans = gw_obs_bans(gw);
    if (!cfg->ban.kernel_drop || bans == NULL) {
        log_notice(NULL, "ban: kernel drop off ([ban] kernel_drop = no): the gate drops banned "
                         "sources in user space");
        return;
    }
    char why[256] = "";
    struct ban_bpf *bpf = NULL;
    int rc = ban_bpf_new(ban_store_capacity(bans), &bpf, why, sizeof(why));
    if (rc != 0) {
        log_warn(NULL,
                 "ban: kernel drop unavailable (%s); the gate drops banned sources in user "
                 "space",
                 why);
        return;
    }
    /* The backend's load copies every active ban in; from now on every change reaches it. */
    rc = ban_store_attach(bans, &ban_bpf_ops, bpf);
    if (rc != 0) {
        ban_bpf_free(bpf);
        log_warn(NULL,
                 "ban: kernel drop unavailable (ban store backend: %s); the gate drops "
                 "banned sources in user space",
                 sw_strerror(rc));
        return;
    }
    gw->kdrop = bpf;
    gw_kdrop_set_deny(gw, cfg);
    log_notice(NULL, "ban: kernel drop on: %zu bans in the socket filter's map",
               ban_bpf_count(bpf));
}

void gw_kdrop_on_socket(void *ctx, int fd, enum sw_transport transport)
{
    struct gateway *gw = ctx;
    if (gw->kdrop == NULL) {
        return;
    }
    int rc = ban_bpf_attach_socket(gw->kdrop, fd);
    if (rc != 0) {
        /* Listeners are few: one line each says which is unprotected in the kernel. */
        log_warn(NULL,
                 "ban: kernel drop: cannot attach the filter to a %s socket: %s; the gate "
                 "drops its banned sources in user space",
                 transport == SW_TRANSPORT_UDP ? "UDP" : "listening", sw_strerror(rc));
        return;
    }
    gw->kdrop_sockets++;
}

int gw_kdrop_metrics_add(struct metrics *metrics, struct gw_kdrop_series *out)
{
    static const char *const labels[] = { "reason" };
    static const char *const reasons[BAN_BPF_COUNTERS] = {
        [BAN_BPF_DROP_BANNED] = "banned",
        [BAN_BPF_DROP_DENIED] = "denied",
    };
    _Static_assert(BAN_BPF_COUNTERS == sizeof(out->drops) / sizeof(out->drops[0]),
                   "one series per drop reason");
    struct metrics_family_def drops = {
        .name = "sipwarden_kernel_drops_total",
        .help = "Packets the kernel socket filter dropped before any worker saw them "
                "([ban] kernel_drop), by reason.",
        .type = METRIC_COUNTER,
        .label_names = labels,
        .label_count = 1,
    };
    uint32_t family = 0;
    int rc = metrics_family_add(metrics, &drops, &family);
    for (size_t i = 0; i < BAN_BPF_COUNTERS && rc == 0; i++) {
        const char *value[] = { reasons[i] };
        rc = metrics_series_add(metrics, family, value, &out->drops[i]);
    }
    const struct metrics_family_def cost[2] = {
        { .name = "sipwarden_kernel_filter_runs_total",
          .help = "Packets the kernel socket filter judged (0 unless BPF statistics are "
                  "enabled).",
          .type = METRIC_COUNTER },
        { .name = "sipwarden_kernel_filter_run_nanoseconds_total",
          .help = "CPU time the kernel socket filter took in all (0 unless BPF statistics are "
                  "enabled).",
          .type = METRIC_COUNTER },
    };
    uint32_t *const series[2] = { &out->runs, &out->run_ns };
    for (size_t i = 0; i < 2 && rc == 0; i++) {
        rc = metrics_family_add(metrics, &cost[i], &family);
        if (rc == 0) {
            rc = metrics_series_add(metrics, family, NULL, series[i]);
        }
    }
    return rc;
}

void gw_kdrop_metrics_update(const struct gateway *gw, struct metrics *metrics, unsigned slot,
                             const struct gw_kdrop_series *series)
{
    if (gw->kdrop == NULL) {
        return;
    }
    uint64_t drops[BAN_BPF_COUNTERS];
    ban_bpf_drops(gw->kdrop, drops);
    for (size_t i = 0; i < BAN_BPF_COUNTERS; i++) {
        metrics_set(metrics, slot, series->drops[i], (int64_t)drops[i]);
    }
    uint64_t runs = 0;
    uint64_t run_ns = 0;
    ban_bpf_run_stats(gw->kdrop, &runs, &run_ns);
    metrics_set(metrics, slot, series->runs, (int64_t)runs);
    metrics_set(metrics, slot, series->run_ns, (int64_t)run_ns);
}
