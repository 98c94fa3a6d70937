/*
 * Private to src/gateway: the gateway object and the per-worker state.
 */
#ifndef SW_GATEWAY_GATEWAY_INT_H
#define SW_GATEWAY_GATEWAY_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "base/event.h"
#include "call/b2bua.h"
#include "call/route.h"
#include "call/uac_auth.h"
#include "gateway/gateway.h"
#include "net/worker.h"
#include "sip/msg.h"

#define GW_MAX_LISTENERS  16
/* Threads that may hold a generation: the workers (a Call-ID names its owner in two hex
 * digits, so there are at most 256), then the control thread and the admin server's. */
#define GW_READER_CONTROL 256
#define GW_READER_ADMIN   257
#define GW_MAX_READERS    258

struct cfg;
struct pipeline;
struct gw_obs;
struct gate;
struct arena;
struct callcount;
struct callcount_slot;
struct ban_bpf;
struct metrics;

/* What the gateway keeps per remote account, next to its configuration section. */
struct gw_account {
    struct uac_credentials credentials; /* for the PBX's challenges (views, see above) */
    struct callcount_slot *calls;       /* keyed by the account's name (policy/limits.h) */
};

/*
 * One reload generation: the configuration and what is built from it, indexed as the
 * configuration is (trunk i, account i). A reader takes it with gw_gen_enter and lets go
 * with gw_gen_leave; everything a call keeps beyond one message is copied or keyed by name.
 */
struct gw_gen {
    struct gateway *gw;
    struct cfg *cfg;
    struct gate *gate; /* the first look at every packet: bans, [acl] deny, packet budget */
    struct pipeline *pipeline;
    struct route_trunk *trunk_hops; /* cfg->trunk_count; resolved when the generation is built */
    size_t trunk_hop_count;
    struct gw_account *accounts; /* cfg->account_count */
    struct net_dest pbx_dest;
    char pbx_host[256];
    uint64_t serial; /* 1, 2...: which reload built it (the workers follow its [media]) */
    struct gw_gen *next_retired;
    char peer_secret[256];  /* [cluster] peer_secret_file's line (#15); wiped when freed */
    size_t peer_secret_len; /* 0 = no relaying between nodes */
};

/* A string kept until the gateway is freed (TLS server names that calls point to). */
struct gw_interned {
    struct gw_interned *next;
    char text[];
};

struct gateway {
    _Atomic(struct gw_gen *) gen;
    _Atomic(struct gw_gen *) hazards[GW_MAX_READERS]; /* reader i is inside this generation */
    struct gw_gen *retired; /* superseded, freed once no reader holds them (main thread) */
    /* The generation the gateway started with: what only a restart changes (the ban,
     * log, state and admin objects, the workers' settings) was built from its
     * configuration and may point into it, so it is freed last, by gateway_free. */
    struct gw_gen *first;
    struct gw_interned *interned;
    /* The shared concurrent-call counters (acquired), which the limits stage keeps; the
     * gateway reads the trunks' for its reports. */
    struct callcount *calls;
    /* Each rtpengine's health as every worker's ng client saw it last (call/rtpengine.h). */
    struct rtpengine_health media_health;
    char *config_path;
    uint64_t gen_serial; /* the last generation's serial (main thread) */
    struct net_group *net;
    struct net_tls_settings *tls;
    struct b2bua_local locals[GW_MAX_LISTENERS];
    size_t local_count;
    struct event_sink events;
    struct gw_obs *obs;    /* gateway_obs.h: event queue, logs, bans, metrics, control */
    struct ban_bpf *kdrop; /* [ban] kernel_drop; NULL = off or refused; owned by the ban
                              store (a backend), freed with it */
    size_t kdrop_sockets;  /* sockets the filter is attached to */
    /* Messages a worker handed to the worker owning their Call-ID (gw_steer_*), by the
       Call-ID scan before any parse ([0]) or by the parsed Call-ID ([1]). */
    atomic_uint_fast64_t handoffs[2];
    struct sv hide_headers[32];
    size_t hide_header_count;
    struct sip_limits limits;
    atomic_bool is_stopping;
    pthread_t main_thread;
};

struct gw_worker {
    struct gateway *gw;
    struct b2bua *b2bua;
    struct arena *arena;
    struct anchor_settings media; /* [media] of the B2BUA's anchor for new calls... */
    uint64_t media_serial;        /* ...as of this generation */
    uint64_t media_failed_serial; /* the last generation whose [media] could not apply */
};

/* gateway_gen.c: reload generations. */
/* Builds a generation from `cfg` (taken over, freed on failure). Main thread. */
int gw_gen_new(struct gateway *gw, struct cfg *cfg, struct gw_gen **out, struct sw_diag *diag);
void gw_gen_free(struct gw_gen *gen);
/* The current generation for reader `reader` (a worker's index), held until
 * gw_gen_leave. Lock-free; the worker's thread only. */
struct gw_gen *gw_gen_enter(struct gateway *gw, unsigned reader);
void gw_gen_leave(struct gateway *gw, unsigned reader);
/* Makes `fresh` current and retires the previous one. Main thread. */
void gw_gen_publish(struct gateway *gw, struct gw_gen *fresh);
/* Frees retired generations that no reader holds; returns how many are still held. */
size_t gw_gen_reclaim(struct gateway *gw);
/* Forgets the registrations of accounts the generation no longer has; returns how many. */
size_t gw_gen_drop_removed_bindings(const struct gw_gen *gen);
/* A copy of `text` that lives as long as the gateway (NULL for NULL). Main thread. */
const char *gw_intern(struct gateway *gw, const char *text);
/* Frees every interned string (gateway_free, when no call is left). */
void gw_interned_free(struct gateway *gw);

/*
 * gateway_peer.c: calls relayed between the nodes of a cluster (#15, policy/peer.h). Any
 * thread that holds the generation.
 */
struct regshare_holder;
struct sw_ip;
struct cfg_account;
/* This node's [cluster] address as published ("udp:host:port"); "" when unset. */
void gw_peer_address(const struct cfg *cfg, char *out, size_t cap);
/* True when `ip` is in [cluster] peers. */
bool gw_peer_is_source(const struct gw_gen *gen, const struct sw_ip *ip);
/* True when `msg` is signed with the peers' secret for its Request-URI's user, recently. */
bool gw_peer_admits(const struct gw_gen *gen, struct sip_msg *msg);
/*
 * Points `route` (already routed to the account) at the node holding its binding, signed;
 * false when the holder's address is not one of [cluster] peers or signing fails.
 */
bool gw_peer_route(const struct gw_gen *gen, struct arena *arena, const struct cfg_account *account,
                   const struct regshare_holder *holder, struct b2bua_route *route);

/*
 * gateway_msg.c: one received message, from parse to the call layer. A message is handled
 * by the worker owning its call: how it reached the worker bounds its hand-offs (a scan
 * of its Call-ID may hand it on once, before any parse; the parse's owner once more).
 */
enum gw_hop {
    GW_HOP_NETWORK, /* as received */
    GW_HOP_SCANNED, /* handed on by the Call-ID scan (net_steer_scan_owner) */
    GW_HOP_FINAL,   /* handed on by the parsed Call-ID, or held and resumed: stays here */
};

void gw_on_message(void *app, struct worker *worker, const struct net_msg *msg);
void gw_process(struct gateway *gw, struct worker *worker, const struct net_msg *net,
                enum gw_hop hop);
/* gateway.c: a new call on `worker` is about to start: when `gen` brought other [media]
 * settings, new calls use them from now on (calls in progress keep their rtpengine). */
void gw_media_follow(const struct gw_gen *gen, struct gw_worker *state, struct worker *worker);
/* Starts the trunks' registrations of `gen` on `b2bua` (worker 0), ending earlier ones. */
void gw_register_trunks(struct gateway *gw, const struct gw_gen *gen, struct b2bua *b2bua);

/* The admin HTTP server's connections at once (gateway_admin.c), kept out of the budget
 * of the SIP connections (gateway_fds.c). */
#define GW_ADMIN_MAX_CONNECTIONS 64

/*
 * gateway_fds.c, main thread at start: raises the soft descriptor limit to the hard one
 * and returns the TCP/TLS connections the workers may hold in all: what is left after a
 * reserve for the process's files, sockets, the admin server and the control socket,
 * and never more than cfg general.max_connections when that is set (#9 item 10).
 */
size_t gw_fds_connection_budget(const struct cfg *cfg);

/* A worker's thread, outside any message: true when `src` is the PBX or a trunk provider
 * (the higher connection cap). */
bool gw_source_is_known(void *app, struct worker *worker, const struct sockaddr_storage *src);

/*
 * gateway_fraud.c: the fraud store's counters in [state] path across restarts
 * (state/fraud_sqlite.h). gw_fraud_open (main thread, before the workers) restores them;
 * NULL in *out without a database. gw_fraud_save writes what changed (the housekeeping
 * thread, once a second); gw_fraud_close saves a last time and closes (NULL: no-op).
 */
struct gw_fraud;
int gw_fraud_open(const struct cfg *cfg, struct gw_fraud **out);
void gw_fraud_save(struct gw_fraud *fraud);
void gw_fraud_close(struct gw_fraud *fraud);

/* gateway_obs.c: the event sink (inline ban decision, then the event queue). */
void gw_events_init(struct gateway *gw);

/*
 * gateway_kdrop.c: [ban] kernel_drop (state/ban_bpf.h), all from the main thread.
 * gw_kdrop_open (after gw_obs_new, before the network) loads the filter and attaches it to
 * the ban store as a backend, or says once why the kernel refused and leaves gw->kdrop
 * NULL (the gate alone drops). gw_kdrop_on_socket is the network's net_settings.on_socket.
 * gw_kdrop_set_deny copies the gate's [acl] deny ranges of `cfg` into the filter (start,
 * reload).
 */
void gw_kdrop_open(struct gateway *gw, const struct cfg *cfg);
void gw_kdrop_on_socket(void *ctx, int fd, enum sw_transport transport);
void gw_kdrop_set_deny(struct gateway *gw, const struct cfg *cfg);

/*
 * The filter's metrics: sipwarden_kernel_drops_total{reason}, and its own cost while BPF
 * statistics are enabled (sipwarden_kernel_filter_runs_total and
 * _run_nanoseconds_total). Added once at start; updated by the housekeeping thread into
 * metrics slot `slot` (they stay 0 while gw->kdrop is NULL).
 */
struct gw_kdrop_series {
    uint32_t drops[2]; /* BAN_BPF_DROP_BANNED, BAN_BPF_DROP_DENIED */
    uint32_t runs;
    uint32_t run_ns;
};

int gw_kdrop_metrics_add(struct metrics *metrics, struct gw_kdrop_series *out);
void gw_kdrop_metrics_update(const struct gateway *gw, struct metrics *metrics, unsigned slot,
                             const struct gw_kdrop_series *series);

/*
 * gateway_steer.c: UDP steering by Call-ID (net/steer.h) and what it leaves to the
 * workers: sipwarden_udp_steered_total{how} (the kernel program's counts) and
 * sipwarden_worker_handoffs_total (messages one worker handed to another). Added once at
 * start; updated by the housekeeping thread into metrics slot `slot`. gw_steer_report
 * says once at start whether the kernel steers.
 */
struct gw_steer_series {
    uint32_t steered[3];  /* STEER_BY_OWNER, STEER_BY_HASH, STEER_UNMATCHED */
    uint32_t handoffs[2]; /* by="scan", by="parse" */
};

int gw_steer_metrics_add(struct metrics *metrics, struct gw_steer_series *out);
void gw_steer_metrics_update(struct gateway *gw, struct metrics *metrics, unsigned slot,
                             const struct gw_steer_series *series);
void gw_steer_report(const struct gateway *gw);

#endif
