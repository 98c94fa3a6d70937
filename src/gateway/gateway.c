/*
 * Building, running and reloading the gateway; the `sipwarden run` command.
 */
#include "gateway/gateway.h"

#include <errno.h>
#include <getopt.h>
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
#include "config/config.h"
#include "gateway/gateway_int.h"
#include "gateway/gateway_obs.h"
#include "net/stream.h"
#include "policy/gate.h"
#include "policy/pipeline.h"

/* A call keeps its legs and up to four in-dialog relays in place (about 28 KiB): 8,192 per
 * worker is about 230 MiB of address space, touched only as calls come. An ended call
 * gives its slot back within milliseconds; its transactions stay for up to 64*T1 (timer J
 * of the BYE): at 4,000 calls/s per worker that is about 170,000 transactions (600 bytes
 * each; 150 MiB of address space, touched as they come). With 131,072 the call benchmark
 * got 503s after 20 s at 8,000 calls/s on two workers. */
#define GW_MAX_CALLS_PER_WORKER  8192
#define GW_MAX_TXNS_PER_WORKER   262144
/* The heap holds the exact timers (coarse ones wait in the loop's wheel, uncounted): at
 * most a retransmission and a due-now life timer per transaction, three per call, and
 * room for registrations, connections and the stages. The transaction layer aborts
 * rather than leak when a timer cannot start, so this is a bound, not an estimate. */
#define GW_MAX_TIMERS_PER_WORKER (2 * GW_MAX_TXNS_PER_WORKER + 3 * GW_MAX_CALLS_PER_WORKER + 65536)

static bool resolve_endpoint(const struct cfg_endpoint *ep, struct sockaddr_storage *out)
{
    if (ep->is_ip) {
        *out = ep->addr;
        return true;
    }
    struct addrinfo hints = { .ai_socktype = SOCK_DGRAM };
    struct addrinfo *res = NULL;
    char port[8];
    (void)snprintf(port, sizeof(port), "%u", ep->port);
    if (getaddrinfo(ep->host, port, &hints, &res) != 0 || res == NULL) {
        return false;
    }
    memset(out, 0, sizeof(*out));
    memcpy(out, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return true;
}

static void format_hostport(char *out, size_t cap, const char *host, uint16_t port,
                            uint16_t default_port)
{
    bool is_v6 = strchr(host, ':') != NULL;
    if (port == default_port) {
        (void)snprintf(out, cap, is_v6 ? "[%s]" : "%s", host);
    } else {
        (void)snprintf(out, cap, is_v6 ? "[%s]:%u" : "%s:%u", host, port);
    }
}

static char *dup_or_null(const char *s)
{
    return s == NULL ? NULL : sw_strdup(s);
}

static void free_hops(struct gateway *gw)
{
    for (size_t i = 0; gw->trunk_hops != NULL && i < gw->trunk_hop_count; i++) {
        struct gw_trunk_hop *hop = &gw->trunk_hops[i];
        sw_free(hop->tls_server_name);
        sw_free_secret(hop->credentials.username);
        sw_free_secret(hop->credentials.secret);
        sw_free_secret(hop->credentials.ha1_md5);
        sw_free_secret(hop->credentials.ha1_sha256);
    }
    sw_free(gw->trunk_hops);
    gw->trunk_hops = NULL;
}

static int prepare_hops(struct gateway *gw, const struct cfg *cfg, struct sw_diag *diag)
{
    gw->trunk_hops =
        sw_calloc(cfg->trunk_count == 0 ? 1 : cfg->trunk_count, sizeof(*gw->trunk_hops));
    if (gw->trunk_hops == NULL) {
        return -ENOMEM;
    }
    gw->trunk_hop_count = cfg->trunk_count;
    for (size_t i = 0; i < cfg->trunk_count; i++) {
        const struct cfg_trunk *t = &cfg->trunks[i];
        struct gw_trunk_hop *hop = &gw->trunk_hops[i];
        if (!resolve_endpoint(&t->provider, &hop->dest.addr)) {
            sw_diag_add(diag, DIAG_ERROR, cfg->source, t->line, "provider",
                        "trunk %s: cannot resolve %s", t->name, t->provider.host);
            return -SW_ECONFIG;
        }
        hop->dest.transport = t->provider.transport;
        hop->dest.listener = SIZE_MAX;
        hop->tls_server_name = dup_or_null(t->tls_server_name);
        hop->dest.tls_server_name = hop->tls_server_name;
        const char *user = t->auth_username != NULL ? t->auth_username : t->username;
        hop->credentials.username = dup_or_null(user);
        hop->credentials.secret = dup_or_null(t->secret);
        hop->credentials.ha1_md5 = dup_or_null(t->ha1);
        hop->credentials.ha1_sha256 = dup_or_null(t->ha1_sha256);
        uint16_t std_port = t->provider.transport == SW_TRANSPORT_TLS ? 5061 : 5060;
        if (t->domain != NULL && strcmp(t->domain, t->provider.host) != 0) {
            (void)snprintf(hop->host, sizeof(hop->host), "%s", t->domain);
        } else {
            format_hostport(hop->host, sizeof(hop->host), t->provider.host, t->provider.port,
                            std_port);
        }
    }
    const struct cfg_endpoint *pbx = &cfg->pbx.address;
    if (!resolve_endpoint(pbx, &gw->pbx_dest.addr)) {
        sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "pbx.address", "cannot resolve %s",
                    pbx->host);
        return -SW_ECONFIG;
    }
    gw->pbx_dest.transport = pbx->transport;
    gw->pbx_dest.listener = SIZE_MAX;
    format_hostport(gw->pbx_host, sizeof(gw->pbx_host), pbx->host, pbx->port,
                    pbx->transport == SW_TRANSPORT_TLS ? 5061 : 5060);
    return 0;
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

/* Trunks with register = yes keep a registration at their provider, all from worker 0. */
static void register_trunks(struct gateway *gw, const struct cfg *cfg, struct b2bua *b2bua)
{
    for (size_t i = 0; i < cfg->trunk_count && i < gw->trunk_hop_count; i++) {
        const struct cfg_trunk *t = &cfg->trunks[i];
        const struct gw_trunk_hop *hop = &gw->trunk_hops[i];
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
        };
        int rc = b2bua_trunk_register(b2bua, &reg);
        if (rc != 0) {
            log_err(NULL, "trunk %s: cannot start its registration: %s", t->name, sw_strerror(rc));
        }
    }
}

static void on_worker_start(void *app, struct worker *worker)
{
    struct gateway *gw = app;
    struct gw_worker *state = sw_calloc(1, sizeof(*state));
    if (state == NULL) {
        log_err(NULL, "worker %u: out of memory", worker_index(worker));
        return;
    }
    const struct cfg *cfg = atomic_load(&gw->cfg);
    struct b2bua_settings settings = {
        .max_calls = GW_MAX_CALLS_PER_WORKER,
        .max_txns = GW_MAX_TXNS_PER_WORKER,
        .user_agent = sv_from_cstr(cfg->general.user_agent),
        .hide_headers = gw->hide_headers,
        .hide_header_count = gw->hide_header_count,
        .locals = gw->locals,
        .local_count = gw->local_count,
        .events = &gw->events,
    };
    state->gw = gw;
    state->arena = arena_new((size_t)256 * 1024);
    state->b2bua = b2bua_new(worker, &settings);
    if (state->arena == NULL || state->b2bua == NULL) {
        log_err(NULL, "worker %u: cannot allocate the call tables", worker_index(worker));
    } else if (worker_index(worker) == 0) {
        register_trunks(gw, cfg, state->b2bua);
    }
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
        log_notice(NULL, "worker %u: stopped with active_calls=%zu transactions=%zu",
                   worker_index(worker), b2bua_call_count(state->b2bua),
                   b2bua_txn_count(state->b2bua));
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
    struct net_settings settings = { .worker_count = cfg->general.workers,
                                     .tls = gw->tls,
                                     .max_timers = GW_MAX_TIMERS_PER_WORKER };
    struct net_handlers handlers = {
        .on_message = gw_on_message,
        .on_start = on_worker_start,
        .on_stop = on_worker_stop,
    };
    rc =
        net_group_new(listeners, count, &settings, &handlers, gw, &gw->net, errbuf, sizeof(errbuf));
    if (rc != 0) {
        sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "listen", "%s", errbuf);
    }
    return rc;
}

int gateway_new(struct cfg *cfg, const char *config_path, struct gateway **out,
                struct sw_diag *diag)
{
    struct gateway *gw = sw_calloc(1, sizeof(*gw));
    if (gw == NULL) {
        cfg_free(cfg);
        return -ENOMEM;
    }
    atomic_store(&gw->cfg, cfg);
    gw->config_path = config_path != NULL ? sw_strdup(config_path) : NULL;
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
    struct pipeline *pipeline = pipeline_new(cfg, diag);
    atomic_store(&gw->pipeline, pipeline);
    int rc = pipeline == NULL ? -SW_ECONFIG : gw_obs_new(gw, cfg, diag);
    atomic_store(&gw->gate, rc == 0 ? gw_gate_new(gw, cfg) : NULL);
    if (rc == 0 && atomic_load(&gw->gate) == NULL) {
        rc = -ENOMEM;
    }
    if (rc == 0) {
        rc = b2bua_counters_init(cfg->trunk_count, cfg->account_count);
    }
    if (rc == 0) {
        rc = prepare_hops(gw, cfg, diag);
    }
    if (rc == 0) {
        rc = gw_accounts_init(gw, cfg);
    }
    if (rc == 0) {
        rc = open_network(gw, cfg, diag);
    }
    if (rc == 0) {
        rc = gw_obs_attach(gw, cfg, diag);
    }
    if (rc != 0) {
        gateway_free(gw);
        return rc;
    }
    prepare_locals(gw, cfg);
    *out = gw;
    return 0;
}

void gateway_free(struct gateway *gw)
{
    if (gw == NULL) {
        return;
    }
    net_group_free(gw->net);
    gw_obs_free(gw); /* after the workers, before the gate whose hooks it serves */
    net_tls_settings_free(gw->tls);
    gate_free(atomic_load(&gw->gate));
    pipeline_free(atomic_load(&gw->pipeline));
    cfg_free(atomic_load(&gw->cfg));
    for (size_t i = 0; i < gw->old_count; i++) {
        pipeline_free(gw->old_pipelines[i]);
        cfg_free(gw->old_cfgs[i]);
    }
    b2bua_counters_fini();
    for (size_t i = 0; i < gw->hide_header_count; i++) {
        sw_free_const(gw->hide_headers[i].ptr);
    }
    free_hops(gw);
    gw_accounts_fini(gw);
    sw_free(gw->config_path);
    sw_free(gw);
}

static void reload(struct gateway *gw)
{
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *fresh =
        gw->config_path != NULL ? cfg_load_file(gw->config_path, &diag) : cfg_load_default(&diag);
    struct pipeline *pipeline = fresh != NULL ? pipeline_new(fresh, &diag) : NULL;
    if (fresh == NULL || pipeline == NULL) {
        for (size_t i = 0; i < diag.count; i++) {
            const struct sw_diag_entry *e = &diag.entries[i];
            log_err(NULL, "reload: %s:%u: %s: %s", e->file != NULL ? e->file : "-", e->line,
                    e->key != NULL ? e->key : "-", e->message != NULL ? e->message : "");
        }
        log_err(NULL, "reload: configuration refused, the running one stays");
        cfg_free(fresh);
        sw_diag_fini(&diag);
        return;
    }
    sw_diag_fini(&diag);
    if (gw->old_count == GW_MAX_OLD_CFGS) {
        /* Superseded long ago (at least one reload back): no worker still reads them. */
        for (size_t i = 0; i + 1 < gw->old_count; i++) {
            pipeline_free(gw->old_pipelines[i]);
            cfg_free(gw->old_cfgs[i]);
        }
        gw->old_cfgs[0] = gw->old_cfgs[gw->old_count - 1];
        gw->old_pipelines[0] = gw->old_pipelines[gw->old_count - 1];
        gw->old_count = 1;
    }
    gw->old_cfgs[gw->old_count] = atomic_exchange(&gw->cfg, fresh);
    gw->old_pipelines[gw->old_count] = atomic_exchange(&gw->pipeline, pipeline);
    gw->old_count++;
    gw_obs_swap_gate(gw, fresh); /* the gate's deny ranges follow the new [acl] */
    log_set_level((enum log_level)fresh->general.log_level);
    log_notice(NULL, "reload: configuration reloaded (listeners and trunk addresses change "
                     "only with a restart); calls in progress continue");
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

int gateway_run(struct gateway *gw)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    /* Workers inherit the mask: only this thread takes the signals, synchronously. */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
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
    log_notice(NULL, "sipwarden: serving with %u workers", net_group_worker_count(gw->net));
    while (!atomic_load(&gw->is_stopping)) {
        struct timespec tick = { .tv_sec = 1, .tv_nsec = 0 };
        int sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGHUP || sig == SIGUSR1) {
            gw_obs_reopen(gw); /* log rotation: the security log opens its file again */
            reload(gw);
        } else if (sig == SIGINT || sig == SIGTERM) {
            log_notice(NULL, "sipwarden: stopping (signal %d)", sig);
            atomic_store(&gw->is_stopping, true);
        }
    }
    const struct cfg *cfg = atomic_load(&gw->cfg);
    for (size_t i = 0; i < cfg->trunk_count; i++) {
        log_notice(NULL, "trunk %s: calls_in_progress=%u at stop", cfg->trunks[i].name,
                   b2bua_party_calls(CALL_PARTY_TRUNK, i));
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
