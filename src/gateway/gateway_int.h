/*
 * Private to src/gateway: the gateway object and the per-worker state.
 */
#ifndef SW_GATEWAY_GATEWAY_INT_H
#define SW_GATEWAY_GATEWAY_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/event.h"
#include "call/b2bua.h"
#include "call/uac_auth.h"
#include "gateway/gateway.h"
#include "net/worker.h"
#include "sip/msg.h"

#define GW_MAX_LISTENERS 16
#define GW_MAX_OLD_CFGS  64

struct cfg;
struct pipeline;
struct gw_obs;
struct gate;
struct arena;

/* A trunk's next hop, resolved at start (a DNS name is looked up once). */
struct gw_trunk_hop {
    struct net_dest dest;
    char host[256]; /* Request-URI/From host towards this trunk */
    /* Owned copies: a reload frees the configuration they came from, calls may go on. */
    struct uac_credentials credentials;
    char *tls_server_name;
};

struct gateway {
    _Atomic(struct cfg *) cfg;
    _Atomic(struct pipeline *) pipeline;
    /* Superseded configurations stay alive until exit: a worker may still read one. */
    struct cfg *old_cfgs[GW_MAX_OLD_CFGS];
    struct pipeline *old_pipelines[GW_MAX_OLD_CFGS];
    size_t old_count;
    char *config_path;
    _Atomic(struct gate *) gate; /* swapped on reload; superseded ones stay (gateway_obs.c) */
    struct net_group *net;
    struct net_tls_settings *tls;
    struct b2bua_local locals[GW_MAX_LISTENERS];
    size_t local_count;
    struct gw_trunk_hop *trunk_hops;
    size_t trunk_hop_count;
    struct uac_credentials *account_creds; /* per account, for the PBX's challenges */
    size_t account_count;
    struct net_dest pbx_dest;
    char pbx_host[256];
    struct event_sink events;
    struct gw_obs *obs; /* gateway_obs.h: event queue, logs, bans, metrics, control */
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
};

/* gateway_msg.c: one received message, from parse to the call layer. */
void gw_on_message(void *app, struct worker *worker, const struct net_msg *msg);
void gw_process(struct gateway *gw, struct worker *worker, const struct net_msg *net,
                bool may_hand_off);

/* gateway_accounts.c: remote accounts' credentials and the registrar. */
int gw_accounts_init(struct gateway *gw, const struct cfg *cfg);
void gw_accounts_fini(struct gateway *gw);

/* gateway_obs.c: the event sink (inline ban decision, then the event queue). */
void gw_events_init(struct gateway *gw);

#endif
