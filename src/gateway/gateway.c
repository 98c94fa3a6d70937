/*
 * Building, running and reloading the gateway; the `sipwarden run` command.
 */
#include "gateway/gateway.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/alloc.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/log.h"
#include "call/anchor.h"
#include "call/registrar.h"
#include "config/config.h"
#include "gateway/gateway_int.h"
#include "gateway/gateway_notify.h"
#include "gateway/gateway_obs.h"
#include "net/stream.h"
#include "policy/gate.h"
#include "policy/limits.h"
#include "policy/pipeline.h"
#include "state/callcount.h"

/* The pools' sizes are [general] max_calls_per_worker and max_transactions_per_worker. A
 * call keeps its legs and up to four in-dialog relays in place (about 28 KiB): the default
 * 8,192 per worker is about 230 MiB of address space, touched only as calls come. An
 * ended call gives its slot back within milliseconds; its transactions stay for up to
 * 64*T1 (timer J of the BYE): at 4,000 calls/s per worker that is about 170,000
 * transactions (632 bytes each; the default 262,144 is 150 MiB of address space, touched
 * as they come). Since #13 a completed non-INVITE transaction on UDP (the BYE's) leaves
 * the pool for a compact record of its key and response (call/txn.h), so the pool holds
 * the live ones and the lingering cost the record's bytes. With 131,072 the call benchmark got 503s
 * after 20 s at 8,000 calls/s on two workers. */
/* The heap holds the exact timers (coarse ones wait in the loop's wheel, uncounted): at
 * most a retransmission and a due-now life timer per transaction, three per call, and
 * room for registrations, connections and the stages. The transaction layer aborts
 * rather than leak when a timer cannot start, so this is a bound, not an estimate. */
static size_t max_timers_per_worker(const struct cfg *cfg)
{
    return 2 * (size_t)cfg->general.max_transactions_per_worker +
           3 * (size_t)cfg->general.max_calls_per_worker + 65536;
}

static void prepare_locals(struct gateway *gw, const struct cfg *cfg)
{
    gw->local_count = net_group_listener_count(gw->net);
    for (size_t i = 0; i < gw->local_count && i < GW_MAX_LISTENERS; i++) {
        const struct net_listener *l = net_group_listener(gw->net, i);
        struct b2bua_local *local = &gw->locals[i];
        char ip[SW_ADDR_STRLEN];
        if (cfg->general.advertise_address != NULL) {
            (void)snprintf(ip, sizeof(ip), "%s", cfg->general.advertise_address);
        } else {
            sw_sockaddr_format_ip(&l->addr, ip, sizeof(ip));
        }
        bool is_v6 = strchr(ip, ':') != NULL;
        (void)snprintf(local->host, sizeof(local->host), is_v6 ? "[%s]" : "%s", ip);
        local->port = sw_sockaddr_port(&l->addr);
        local->transport = l->transport;
    }
}

/*
 * Trunks with register = yes keep a registration at their provider, all from worker 0.
 * A reload starts them again with the new generation's addresses and credentials.
 */
void gw_register_trunks(struct gateway *gw, const struct gw_gen *gen, struct b2bua *b2bua)
{
    (void)gw;
    b2bua_trunk_unregister_all(b2bua);
    const struct cfg *cfg = gen->cfg;
    for (size_t i = 0; i < cfg->trunk_count && i < gen->trunk_hop_count; i++) {
        const struct cfg_trunk *t = &cfg->trunks[i];
        const struct route_trunk *hop = &gen->trunk_hops[i];
        if (!t->is_register) {
            continue;
        }
        const char *user = t->from_user != NULL ? t->from_user : t->username;
        struct b2bua_trunk_registration reg = {
            .trunk = i,
            .name = sv_from_cstr(t->name),
            .username = sv_from_cstr(user != NULL ? user : t->name),
            .domain = sv_from_cstr(hop->host),
            .dest = hop->dest,
            .credentials = hop->credentials.username != NULL ? &hop->credentials : NULL,
            .expires_s = t->register_expires,
            .retry_s = t->register_retry,
        };
        int rc = b2bua_trunk_register(b2bua, &reg);
        if (rc != 0) {
            log_err(NULL, "trunk %s: cannot start its registration: %s", t->name, sw_strerror(rc));
        }
    }
}

/* [media] as the B2BUA's anchoring settings (no server: anchoring off), with the health
 * view every worker shares. */
static void media_settings(struct gateway *gw, const struct cfg *cfg, struct anchor_settings *out)
{
    const struct cfg_media *m = &cfg->media;
    out->engines.health = &gw->media_health;
    out->engines.server_count = m->engine_count;
    for (size_t i = 0; i < m->engine_count && i < RTPENGINE_MAX_SERVERS; i++) {
        out->engines.servers[i].addr = m->engines[i].addr;
        out->engines.servers[i].weight = m->engines[i].weight;
    }
    out->engines.retransmit_ms = m->rtpengine_retransmit_ms;
    out->engines.max_tries = m->rtpengine_tries;
    out->engines.ping_interval_ms = m->rtpengine_ping_interval * 1000u;
    out->is_pass_when_unreachable = m->rtpengine_unreachable == CFG_RTPENGINE_PASS;
    out->media_timeout_ms = m->timeout * 1000u;
}

void gw_media_follow(const struct gw_gen *gen, struct gw_worker *state, struct worker *worker)
{
    if (state->b2bua == NULL || state->media_serial == gen->serial ||
        state->media_failed_serial == gen->serial) {
        return;
    }
    struct anchor_settings media = { 0 };
    media_settings(state->gw, gen->cfg, &media);
    if (anchor_settings_equal(&media, &state->media)) {
        state->media_serial = gen->serial;
        return;
    }
    bool is_on = media.engines.server_count > 0;
    int rc = b2bua_media_reload(state->b2bua, is_on ? &media : NULL);
    if (rc != 0) {
        /* Tried again by the next call after the next reload. */
        state->media_failed_serial = gen->serial;
        log_err(NULL,
                "reload: worker %u: [media] not applied (%s): new calls keep the earlier "
                "rtpengines",
                worker_index(worker), sw_strerror(rc));
        return;
    }
    state->media = media;
    state->media_serial = gen->serial;
    log_notice(NULL,
               "reload: worker %u: new calls use the reloaded [media] (%zu rtpengine(s)); calls "
               "in progress keep theirs (%zu earlier set(s) in use)",
               worker_index(worker), media.engines.server_count, b2bua_media_retired(state->b2bua));
}

static void on_worker_start(void *app, struct worker *worker)
{
    struct gateway *gw = app;
    struct gw_worker *state = sw_calloc(1, sizeof(*state));
    if (state == NULL) {
        log_err(NULL, "worker %u: out of memory", worker_index(worker));
        return;
    }
    struct gw_gen *gen = gw_gen_enter(gw, worker_index(worker));
    const struct cfg *cfg = gen->cfg;
    struct anchor_settings media = { 0 };
    media_settings(gw, cfg, &media);
    struct b2bua_settings settings = {
        .max_calls = cfg->general.max_calls_per_worker,
        .max_txns = cfg->general.max_transactions_per_worker,
        .user_agent = sv_from_cstr(cfg->general.user_agent),
        .hide_headers = gw->hide_headers,
        .hide_header_count = gw->hide_header_count,
        .privacy = {
            .is_phrase_standard = cfg->pbx.standard_reason_phrases,
            .is_error_body_dropped = cfg->pbx.drop_error_bodies,
            .is_reason_sanitized = cfg->pbx.sanitize_reason,
            .is_retry_after_sanitized = cfg->pbx.sanitize_retry_after,
            .is_subject_dropped = cfg->pbx.sanitize_subject,
        },
        .locals = gw->locals,
        .local_count = gw->local_count,
        .events = &gw->events,
        .media = media.engines.server_count > 0 ? &media : NULL,
    };
    state->gw = gw;
    state->media = media;
    state->media_serial = gen->serial;
    state->arena = arena_new((size_t)256 * 1024);
    state->b2bua = b2bua_new(worker, &settings);
    if (state->arena == NULL || state->b2bua == NULL) {
        log_err(NULL, "worker %u: cannot allocate the call tables", worker_index(worker));
    } else if (worker_index(worker) == 0) {
        gw_register_trunks(gw, gen, state->b2bua);
    }
    gw_gen_leave(gw, worker_index(worker));
    worker_set_app_state(worker, state);
}

static void on_worker_stop(void *app, struct worker *worker)
{
    (void)app;
    struct gw_worker *state = worker_app_state(worker);
    if (state == NULL) {
        return;
    }
    if (state->b2bua != NULL) {
        size_t linger_bytes = 0;
        size_t lingering = b2bua_txn_lingering(state->b2bua, &linger_bytes);
        log_notice(NULL,
                   "worker %u: stopped with active_calls=%zu transactions=%zu lingering=%zu "
                   "(%zu bytes)",
                   worker_index(worker), b2bua_call_count(state->b2bua),
                   b2bua_txn_count(state->b2bua), lingering, linger_bytes);
    }
    b2bua_free(state->b2bua);
    arena_free(state->arena);
    sw_free(state);
    worker_set_app_state(worker, NULL);
}

static int open_network(struct gateway *gw, const struct cfg *cfg, struct sw_diag *diag)
{
    struct net_listener listeners[GW_MAX_LISTENERS];
    size_t count = cfg->general.listen.count;
    if (count > GW_MAX_LISTENERS) {
        sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "listen", "at most %d listeners",
                    GW_MAX_LISTENERS);
        return -SW_ECONFIG;
    }
    for (size_t i = 0; i < count; i++) {
        listeners[i].transport = cfg->general.listen.items[i].transport;
        listeners[i].addr = cfg->general.listen.items[i].addr;
    }
    struct net_tls_options tls = {
        .certificate = cfg->tls.certificate,
        .private_key = cfg->tls.private_key,
        .ca_file = cfg->tls.ca_file,
        .ciphers = cfg->tls.ciphers,
        .min_version = cfg->tls.min_version == CFG_TLS_1_3 ? 0x0304 /* TLS1_3_VERSION */
                                                           : 0x0303 /* TLS1_2_VERSION */,
        .require_client_certificate = cfg->tls.require_client_certificate,
        .is_server_unverified = !cfg->tls.verify_server,
    };
    char errbuf[256] = "";
    int rc = net_tls_settings_new(&tls, &gw->tls, errbuf, sizeof(errbuf));
    if (rc != 0) {
        sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "tls", "%s", errbuf);
        return rc;
    }
    struct net_settings settings = {
        .worker_count = cfg->general.workers,
        .tls = gw->tls,
        .max_timers = max_timers_per_worker(cfg),
        .on_socket = gw->kdrop != NULL ? gw_kdrop_on_socket : NULL,
        .socket_ctx = gw,
        .max_connections_total = gw_fds_connection_budget(cfg),
        .max_connections_per_source = cfg->general.max_connections_per_source,
        .max_connections_per_unknown_source = cfg->general.max_connections_per_unknown_source,
        .source_v6_prefix_len = cfg->ban.ipv6_prefix,
        .first_byte_timeout_ms = cfg->general.first_byte_timeout * 1000u,
        .idle_timeout_ms = cfg->general.idle_timeout * 1000u,
        .steer_udp = cfg->general.steer_udp,
        .use_ring = cfg->general.io_uring,
    };
    struct net_handlers handlers = {
        .on_message = gw_on_message,
        .on_start = on_worker_start,
        .on_stop = on_worker_stop,
        .is_source_known = gw_source_is_known,
    };
    rc =
        net_group_new(listeners, count, &settings, &handlers, gw, &gw->net, errbuf, sizeof(errbuf));
    if (rc != 0) {
        sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "listen", "%s", errbuf);
    }
    return rc;
}

/* Room for the registrations of every account a reload may add. */
static size_t registrar_capacity(const struct cfg *cfg)
{
    size_t wanted = 4 * (cfg->trunk_count + cfg->account_count);
    return wanted < 4096 ? 4096 : wanted;
}

int gateway_new(struct cfg *cfg, const char *config_path, struct gateway **out,
                struct sw_diag *diag)
{
    struct gateway *gw = sw_calloc(1, sizeof(*gw));
    if (gw == NULL) {
        cfg_free(cfg);
        return -ENOMEM;
    }
    gw->config_path = config_path != NULL ? sw_strdup(config_path) : NULL;
    (void)rtpengine_health_init(&gw->media_health); /* default attributes: cannot fail */
    gw_events_init(gw);
    sip_limits_default(&gw->limits);
    gw->limits.max_msg_bytes = cfg->general.max_message_bytes;
    gw->limits.max_headers = cfg->general.max_headers;
    gw->limits.max_line_bytes = cfg->general.max_line_bytes;
    /* Copies: a reload frees the configuration these names came from. */
    for (size_t i = 0; i < cfg->pbx.hide_headers.count && i < 32; i++) {
        char *name = sw_strdup(cfg->pbx.hide_headers.items[i]);
        if (name != NULL) {
            gw->hide_headers[gw->hide_header_count++] = sv_from_cstr(name);
        }
    }
    /* The limits stage's counters, shared by every generation (policy/limits.h). */
    gw->calls = callcount_acquire(limits_table_capacity(cfg));
    int rc = gw->calls == NULL ? -ENOMEM : registrar_init(registrar_capacity(cfg));
    struct gw_gen *gen = NULL;
    if (rc == 0) {
        rc = gw_gen_new(gw, cfg, &gen, diag);
    } else {
        cfg_free(cfg);
    }
    if (rc == 0) {
        gw_gen_publish(gw, gen);
        rc = gw_obs_new(gw, gen->cfg, diag);
    }
    if (rc == 0) {
        gw_kdrop_open(gw, gen->cfg); /* before the network: every socket gets the filter */
    }
    if (rc == 0) {
        /* Published already, but read by nobody until the network opens below. */
        gen->gate = gw_gate_new(gw, gen->cfg);
        rc = gen->gate == NULL ? -ENOMEM : 0;
    }
    if (rc == 0) {
        rc = open_network(gw, gen->cfg, diag);
    }
    if (rc == 0) {
        rc = gw_obs_attach(gw, gen->cfg, diag);
    }
    if (rc != 0) {
        gateway_free(gw);
        return rc;
    }
    prepare_locals(gw, gen->cfg);
    if (gen->cfg->pbx.is_port_matched) {
        log_notice(NULL,
                   "pbx: %s is shared with other local processes: only requests from its port "
                   "%u count as the PBX's ([pbx] match_port)",
                   gen->cfg->pbx.address.host, gen->cfg->pbx.address.port);
    }
    gw_steer_report(gw);
    if (gw->kdrop != NULL) {
        log_notice(NULL, "ban: kernel drop filter attached to %zu sockets", gw->kdrop_sockets);
    }
    *out = gw;
    return 0;
}

void gateway_free(struct gateway *gw)
{
    if (gw == NULL) {
        return;
    }
    net_group_free(gw->net);
    gw_obs_free(gw);  /* after the workers, before the gate whose hooks it serves */
    gw->kdrop = NULL; /* freed with the ban store, its backend */
    net_tls_settings_free(gw->tls);
    struct gw_gen *current = atomic_exchange(&gw->gen, NULL);
    while (gw->retired != NULL) {
        struct gw_gen *next = gw->retired->next_retired;
        if (gw->retired != gw->first) {
            gw_gen_free(gw->retired);
        }
        gw->retired = next;
    }
    if (gw->first != current) {
        gw_gen_free(gw->first);
    }
    gw_gen_free(current);
    for (size_t i = 0; i < gw->hide_header_count; i++) {
        sw_free_const(gw->hide_headers[i].ptr);
    }
    gw_interned_free(gw);
    registrar_fini();
    callcount_release_shared(gw->calls);
    rtpengine_health_destroy(&gw->media_health); /* after the workers, whose clients read it */
    sw_free(gw->config_path);
    sw_free(gw);
}

static void register_trunks_task(struct worker *worker, void *arg)
{
    struct gateway *gw = arg;
    struct gw_worker *state = worker_app_state(worker);
    if (state == NULL || state->b2bua == NULL) {
        return;
    }
    struct gw_gen *gen = gw_gen_enter(gw, worker_index(worker));
    gw_register_trunks(gw, gen, state->b2bua);
    gw_gen_leave(gw, worker_index(worker));
}

static void log_diag(const struct sw_diag *diag)
{
    for (size_t i = 0; i < diag->count; i++) {
        const struct sw_diag_entry *e = &diag->entries[i];
        log_err(NULL, "reload: %s:%u: %s: %s", e->file != NULL ? e->file : "-", e->line,
                e->key != NULL ? e->key : "-", e->message != NULL ? e->message : "");
    }
}

/*
 * SIGHUP: a new generation from the file, published at once. Calls in progress keep
 * their legs, their copied credentials and their counters (keyed by name); the bindings of
 * accounts that are gone are dropped (their calls in progress finish normally); the trunks
 * register again with their new credentials.
 */
static void reload(struct gateway *gw)
{
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *fresh =
        gw->config_path != NULL ? cfg_load_file(gw->config_path, &diag) : cfg_load_default(&diag);
    struct gw_gen *gen = NULL;
    int rc = fresh == NULL ? -SW_ECONFIG : gw_gen_new(gw, fresh, &gen, &diag);
    if (rc == 0) {
        gen->gate = gw_gate_new(gw, gen->cfg); /* the deny ranges of the new [acl] */
        rc = gen->gate == NULL ? -ENOMEM : gw_obs_prepare_reload(gw, gen->cfg, &diag);
        if (rc != 0) {
            gw_gen_free(gen);
        }
    }
    if (rc != 0) {
        log_diag(&diag);
        log_err(NULL, "reload: configuration refused, the running one stays");
        sw_diag_fini(&diag);
        return;
    }
    sw_diag_fini(&diag);
    gw_gen_publish(gw, gen);
    gw_kdrop_set_deny(gw, gen->cfg); /* the kernel filter follows the new [acl] too */
    gw_obs_reloaded(gw, gen->cfg);
    size_t dropped = gw_gen_drop_removed_bindings(gen);
    if (gw->net != NULL && net_group_worker_count(gw->net) > 0) {
        /* NULL-free argument: nothing to free if the queue is full (then logged). */
        if (worker_post(net_group_worker(gw->net, 0), register_trunks_task, gw) != 0) {
            log_err(NULL, "reload: worker 0 is busy; trunk registrations keep their old settings");
        }
    }
    log_set_level((enum log_level)gen->cfg->general.log_level);
    log_notice(NULL,
               "reload: configuration reloaded (listeners change only with a restart); calls "
               "in progress continue; %zu binding(s) of removed accounts dropped",
               dropped);
}

static void end_calls_task(struct worker *worker, void *arg)
{
    (void)arg;
    struct gw_worker *state = worker_app_state(worker);
    if (state != NULL && state->b2bua != NULL) {
        b2bua_end_all(state->b2bua, "shutdown");
    }
}

static void end_all_calls(struct gateway *gw)
{
    unsigned count = net_group_worker_count(gw->net);
    for (unsigned i = 0; i < count; i++) {
        /* NULL argument: nothing to free if the queue is full. */
        (void)worker_post(net_group_worker(gw->net, i), end_calls_task, NULL);
    }
    /* Give the BYEs a moment to leave before the sockets close. */
    struct timespec pause = { .tv_sec = 0, .tv_nsec = 300000000L };
    (void)nanosleep(&pause, NULL);
}

/*
 * The signals the main thread takes synchronously (sigtimedwait). Blocked before the first
 * thread starts, so every thread inherits the mask: a thread made earlier (the event
 * writer, a certificate fetcher of the first pipeline) would otherwise take a SIGHUP that
 * arrives while the main thread is busy reloading, and its default action ends the process.
 */
static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, set, NULL);
}

int gateway_run(struct gateway *gw)
{
    sigset_t set;
    block_signals(&set);
    (void)signal(SIGPIPE, SIG_IGN);
    gw->main_thread = pthread_self();
    int rc = gw_obs_start(gw);
    if (rc != 0) {
        log_err(NULL, "cannot start the event and ban threads: %s", sw_strerror(rc));
        return rc;
    }
    rc = net_group_start(gw->net);
    if (rc != 0) {
        log_err(NULL, "cannot start the workers: %s", sw_strerror(rc));
        return rc;
    }
    unsigned workers = net_group_worker_count(gw->net);
    log_notice(NULL, "sipwarden: serving with %u workers", workers);
    gw_notify(GW_NOTIFY_READY, workers);
    while (!atomic_load(&gw->is_stopping)) {
        gw_notify_watchdog();
        struct timespec tick = { .tv_sec = 1, .tv_nsec = 0 };
        int sig = sigtimedwait(&set, NULL, &tick);
        (void)gw_gen_reclaim(gw); /* what a worker still held at the last reload */
        if (sig == SIGHUP || sig == SIGUSR1) {
            gw_notify(GW_NOTIFY_RELOADING, workers);
            gw_obs_reopen(gw); /* log rotation: the security log opens its file again */
            reload(gw);
            gw_notify(GW_NOTIFY_READY, workers);
        } else if (sig == SIGINT || sig == SIGTERM) {
            log_notice(NULL, "sipwarden: stopping (signal %d)", sig);
            atomic_store(&gw->is_stopping, true);
        }
    }
    gw_notify(GW_NOTIFY_STOPPING, workers);
    const struct gw_gen *gen = atomic_load(&gw->gen);
    for (size_t i = 0; i < gen->trunk_hop_count; i++) {
        log_notice(NULL, "trunk %s: calls_in_progress=%u at stop", gen->cfg->trunks[i].name,
                   callcount_value(gen->trunk_hops[i].calls));
    }
    end_all_calls(gw);
    net_group_stop(gw->net);
    gw_obs_stop(gw);
    log_notice(NULL, "sipwarden: stopped");
    return 0;
}

void gateway_request_stop(struct gateway *gw)
{
    atomic_store(&gw->is_stopping, true);
}

static void print_run_usage(FILE *out)
{
    (void)fprintf(out, "usage: sipwarden run [-c FILE] [--log-level LEVEL]\n"
                       "  -c, --config FILE    configuration (default: the embedded loopback "
                       "demo)\n"
                       "  --log-level LEVEL    err|warn|notice|info|debug (overrides the file)\n"
                       "Runs in the foreground, logging to stderr. SIGTERM stops, SIGHUP "
                       "reloads.\n");
}

static int write_pidfile(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return -errno;
    }
    (void)fprintf(f, "%ld\n", (long)getpid());
    return fclose(f) == 0 ? 0 : -errno;
}

static struct cfg *load_for_run(const char *path, struct sw_diag *diag)
{
    struct cfg *cfg = path != NULL ? cfg_load_file(path, diag) : cfg_load_default(diag);
    sw_diag_print(diag, stderr);
    return cfg;
}

static int serve(struct cfg *cfg, const char *path)
{
    char *pidfile = cfg->general.pidfile != NULL ? sw_strdup(cfg->general.pidfile) : NULL;
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct gateway *gw = NULL;
    int rc = gateway_new(cfg, path, &gw, &diag);
    sw_diag_print(&diag, stderr);
    sw_diag_fini(&diag);
    if (rc == 0 && pidfile != NULL && write_pidfile(pidfile) != 0) {
        log_err(NULL, "cannot write pidfile %s", pidfile);
    }
    if (rc == 0) {
        rc = gateway_run(gw);
        gateway_free(gw);
    }
    if (pidfile != NULL) {
        (void)unlink(pidfile);
        sw_free(pidfile);
    }
    return rc == 0 ? 0 : 1;
}

int gateway_run_main(int argc, char **argv)
{
    static const struct option options[] = {
        { "config", required_argument, NULL, 'c' },
        { "log-level", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *path = NULL;
    const char *level = NULL;
    int opt;
    optind = 1;
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): options are parsed once, before any thread. */
    while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 'l':
            level = optarg;
            break;
        case 'h':
            print_run_usage(stdout);
            return 0;
        default:
            print_run_usage(stderr);
            return 2;
        }
    }
    enum log_level parsed_level = LOG_LEVEL_NOTICE;
    if (optind != argc || (level != NULL && !log_level_parse(sv_from_cstr(level), &parsed_level))) {
        print_run_usage(stderr);
        return 2;
    }
    if (sw_hash_init() != 0) {
        (void)fprintf(stderr, "sipwarden: no entropy for hashing\n");
        return 1;
    }
    /* The worker threads' heaps grew and shrank back with every few calls (mprotect, 0.3
     * system calls per call in bench/calls): keep up to 16 MiB of freed memory per heap and
     * grow by 1 MiB at a time. Best effort: glibc's defaults otherwise. */
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): before any thread starts. */
    (void)mallopt(M_TRIM_THRESHOLD, 16 << 20);
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): before any thread starts. */
    (void)mallopt(M_TOP_PAD, 1 << 20);
    sigset_t signals;
    block_signals(&signals);
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = load_for_run(path, &diag);
    sw_diag_fini(&diag);
    if (cfg == NULL) {
        return 1;
    }
    log_set_level(level != NULL ? parsed_level : (enum log_level)cfg->general.log_level);
    return serve(cfg, path);
}
