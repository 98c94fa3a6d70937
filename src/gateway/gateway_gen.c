/*
 * One reload generation (gateway_int.h): the configuration and everything built from it
 * that the message path reads (the pipeline, the trunks' next hops and credentials, the
 * accounts' credentials towards the PBX, the concurrent-call slots of each trunk and
 * account, which the limits stage counts in), published behind one pointer and read once
 * per message. The main thread builds and publishes a generation and
 * frees a superseded one once no reader still holds it (hazard pointers: each worker names the
 * generation it is inside).
 */
#include <errno.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"
#include "base/log.h"
#include "call/registrar.h"
#include "config/config.h"
#include "gateway/gateway_int.h"
#include "policy/gate.h"
#include "policy/pipeline.h"
#include "state/callcount.h"
#include "state/redis_link.h"

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

static int prepare_trunk(struct gw_gen *gen, size_t i, struct sw_diag *diag)
{
    const struct cfg *cfg = gen->cfg;
    const struct cfg_trunk *t = &cfg->trunks[i];
    struct route_trunk *hop = &gen->trunk_hops[i];
    if (!resolve_endpoint(&t->provider, &hop->dest.addr)) {
        sw_diag_add(diag, DIAG_ERROR, cfg->source, t->line, "provider",
                    "trunk %s: cannot resolve %s", t->name, t->provider.host);
        return -SW_ECONFIG;
    }
    hop->dest.transport = t->provider.transport;
    hop->dest.listener = SIZE_MAX;
    /* Calls keep their next hop after the generation is gone: the name must outlive it. */
    hop->dest.tls_server_name = gw_intern(gen->gw, t->tls_server_name);
    if (t->tls_server_name != NULL && hop->dest.tls_server_name == NULL) {
        return -ENOMEM;
    }
    /* Views into the generation's configuration: both live and die together. */
    hop->credentials.username = t->auth_username != NULL ? t->auth_username : t->username;
    hop->credentials.secret = t->secret;
    hop->credentials.ha1_md5 = t->ha1;
    hop->credentials.ha1_sha256 = t->ha1_sha256;
    uint16_t std_port = t->provider.transport == SW_TRANSPORT_TLS ? 5061 : 5060;
    if (t->domain != NULL && strcmp(t->domain, t->provider.host) != 0) {
        (void)snprintf(hop->host, sizeof(hop->host), "%s", t->domain);
    } else {
        format_hostport(hop->host, sizeof(hop->host), t->provider.host, t->provider.port, std_port);
    }
    hop->calls = callcount_slot(gen->gw->calls, CALLCOUNT_TRUNK, t->name);
    if (hop->calls == NULL) {
        sw_diag_add(diag, DIAG_ERROR, cfg->source, t->line, "max_calls",
                    "trunk %s: no room for its call counter (too many trunks and accounts)",
                    t->name);
        return -SW_ECONFIG;
    }
    return 0; /* its cap, shared by the cluster with Redis, is the limits stage's */
}

static int prepare_pbx(struct gw_gen *gen, struct sw_diag *diag)
{
    const struct cfg_endpoint *pbx = &gen->cfg->pbx.address;
    if (!resolve_endpoint(pbx, &gen->pbx_dest.addr)) {
        sw_diag_add(diag, DIAG_ERROR, gen->cfg->source, 0, "pbx.address", "cannot resolve %s",
                    pbx->host);
        return -SW_ECONFIG;
    }
    gen->pbx_dest.transport = pbx->transport;
    gen->pbx_dest.listener = SIZE_MAX;
    if (gen->cfg->pbx.domain != NULL) {
        (void)snprintf(gen->pbx_host, sizeof(gen->pbx_host), "%s", gen->cfg->pbx.domain);
    } else {
        format_hostport(gen->pbx_host, sizeof(gen->pbx_host), pbx->host, pbx->port,
                        pbx->transport == SW_TRANSPORT_TLS ? 5061 : 5060);
    }
    return 0;
}

static int prepare_accounts(struct gw_gen *gen, struct sw_diag *diag)
{
    const struct cfg *cfg = gen->cfg;
    for (size_t i = 0; i < cfg->account_count; i++) {
        const struct cfg_account *a = &cfg->accounts[i];
        struct gw_account *acct = &gen->accounts[i];
        /* Our HA1s are for our realm, not the PBX's: only a plain secret can answer it. */
        acct->credentials.username = a->username;
        acct->credentials.secret = a->secret;
        acct->calls = callcount_slot(gen->gw->calls, CALLCOUNT_ACCOUNT, a->username);
        if (acct->calls == NULL) {
            sw_diag_add(diag, DIAG_ERROR, cfg->source, a->line, "max_calls",
                        "account %s: no room for its call counter (too many accounts)",
                        a->username);
            return -SW_ECONFIG;
        }
    }
    return 0;
}

/* #15: the secret relayed INVITEs are signed with (check-config made sure it is private). */
static int prepare_peers(struct gw_gen *gen, struct sw_diag *diag)
{
    const char *path = gen->cfg->cluster.peer_secret_file;
    if (path == NULL) {
        return 0;
    }
    int rc = redis_link_read_password(path, gen->peer_secret, sizeof(gen->peer_secret));
    if (rc != 0) {
        sw_diag_add(diag, DIAG_ERROR, gen->cfg->source, 0, "cluster.peer_secret_file",
                    "cannot read %s: %s", path, sw_strerror(rc));
        return -SW_ECONFIG;
    }
    gen->peer_secret_len = strlen(gen->peer_secret);
    return 0;
}

int gw_gen_new(struct gateway *gw, struct cfg *cfg, struct gw_gen **out, struct sw_diag *diag)
{
    struct gw_gen *gen = sw_calloc(1, sizeof(*gen));
    if (gen == NULL) {
        cfg_free(cfg);
        return -ENOMEM;
    }
    gen->gw = gw;
    gen->cfg = cfg;
    gen->serial = ++gw->gen_serial;
    gen->trunk_hops =
        sw_calloc(cfg->trunk_count == 0 ? 1 : cfg->trunk_count, sizeof(*gen->trunk_hops));
    gen->accounts =
        sw_calloc(cfg->account_count == 0 ? 1 : cfg->account_count, sizeof(*gen->accounts));
    int rc = gen->trunk_hops == NULL || gen->accounts == NULL ? -ENOMEM : 0;
    gen->trunk_hop_count = cfg->trunk_count;
    for (size_t i = 0; rc == 0 && i < cfg->trunk_count; i++) {
        rc = prepare_trunk(gen, i, diag);
    }
    if (rc == 0) {
        rc = prepare_pbx(gen, diag);
    }
    if (rc == 0) {
        rc = prepare_accounts(gen, diag);
    }
    if (rc == 0) {
        rc = prepare_peers(gen, diag);
    }
    if (rc == 0) {
        gen->pipeline = pipeline_new(cfg, diag);
        rc = gen->pipeline == NULL ? -SW_ECONFIG : 0;
    }
    if (rc != 0) {
        gw_gen_free(gen);
        return rc;
    }
    *out = gen;
    return 0;
}

void gw_gen_free(struct gw_gen *gen)
{
    if (gen == NULL) {
        return;
    }
    gate_free(gen->gate);
    pipeline_free(gen->pipeline);
    sw_free(gen->trunk_hops);
    sw_free(gen->accounts);
    OPENSSL_cleanse(gen->peer_secret, sizeof(gen->peer_secret));
    cfg_free(gen->cfg);
    sw_free(gen);
}

struct gw_gen *gw_gen_enter(struct gateway *gw, unsigned reader)
{
    SW_ASSERT(reader < GW_MAX_READERS);
    _Atomic(struct gw_gen *) *hazard = &gw->hazards[reader];
    struct gw_gen *gen = atomic_load(&gw->gen);
    /* Publish, then check that it is still current: a generation retired between the load
     * and the publication is not used (the reclaimer may not have seen the hazard). */
    for (;;) {
        atomic_store(hazard, gen);
        struct gw_gen *now = atomic_load(&gw->gen);
        if (now == gen) {
            return gen;
        }
        gen = now;
    }
}

void gw_gen_leave(struct gateway *gw, unsigned reader)
{
    atomic_store(&gw->hazards[reader], NULL);
}

static bool is_held(struct gateway *gw, const struct gw_gen *gen)
{
    for (size_t i = 0; i < GW_MAX_READERS; i++) {
        if (atomic_load(&gw->hazards[i]) == gen) {
            return true;
        }
    }
    return false;
}

size_t gw_gen_reclaim(struct gateway *gw)
{
    size_t left = 0;
    struct gw_gen **link = &gw->retired;
    while (*link != NULL) {
        struct gw_gen *gen = *link;
        if (is_held(gw, gen)) {
            link = &gen->next_retired;
            left++;
            continue;
        }
        *link = gen->next_retired;
        if (gen != gw->first) {
            gw_gen_free(gen);
        }
    }
    return left;
}

void gw_gen_publish(struct gateway *gw, struct gw_gen *fresh)
{
    struct gw_gen *old = atomic_exchange(&gw->gen, fresh);
    if (gw->first == NULL) {
        gw->first = fresh;
    }
    if (old != NULL) {
        old->next_retired = gw->retired;
        gw->retired = old;
    }
    (void)gw_gen_reclaim(gw); /* what is still held goes at a later tick */
}

static bool account_is_configured(void *ctx, struct sv name)
{
    const struct cfg *cfg = ctx;
    return cfg_account_find(cfg, name) != NULL;
}

size_t gw_gen_drop_removed_bindings(const struct gw_gen *gen)
{
    return registrar_retain(account_is_configured, gen->cfg);
}

const char *gw_intern(struct gateway *gw, const char *text)
{
    if (text == NULL) {
        return NULL;
    }
    for (const struct gw_interned *i = gw->interned; i != NULL; i = i->next) {
        if (strcmp(i->text, text) == 0) {
            return i->text;
        }
    }
    size_t len = strlen(text);
    struct gw_interned *fresh = sw_malloc(sizeof(*fresh) + len + 1);
    if (fresh == NULL) {
        return NULL;
    }
    memcpy(fresh->text, text, len + 1);
    fresh->next = gw->interned;
    gw->interned = fresh;
    return fresh->text;
}

void gw_interned_free(struct gateway *gw)
{
    while (gw->interned != NULL) {
        struct gw_interned *next = gw->interned->next;
        sw_free(gw->interned);
        gw->interned = next;
    }
}
