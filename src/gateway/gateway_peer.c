/*
 * Node-to-node relaying of calls to remote accounts (issue #15, policy/peer.h): the
 * routing side (a call for an account whose phone another node holds goes to that node,
 * signed) and the admitting side (a relayed INVITE from a peer, checked).
 */
#include <stdio.h>
#include <string.h>

#include "base/addr.h"
#include "base/arena.h"
#include "base/log.h"
#include "base/time.h"
#include "config/config.h"
#include "gateway/gateway_int.h"
#include "policy/peer.h"
#include "sip/msg.h"
#include "state/regshare.h"

static const char *const transport_names[] = { "udp", "tcp", "tls" };

void gw_peer_address(const struct cfg *cfg, char *out, size_t cap)
{
    const struct cfg_endpoint *ep = &cfg->cluster.address;
    out[0] = '\0';
    if (!ep->is_set || (unsigned)ep->transport > SW_TRANSPORT_TLS) {
        return;
    }
    bool is_v6 = strchr(ep->host, ':') != NULL;
    (void)snprintf(out, cap, is_v6 ? "%s:[%s]:%u" : "%s:%s:%u", transport_names[ep->transport],
                   ep->host, ep->port);
}

bool gw_peer_is_source(const struct gw_gen *gen, const struct sw_ip *ip)
{
    const struct cfg_cidrs *peers = &gen->cfg->cluster.peers;
    for (size_t i = 0; i < peers->count; i++) {
        if (sw_cidr_contains(&peers->items[i], ip)) {
            return true;
        }
    }
    return false;
}

bool gw_peer_admits(const struct gw_gen *gen, struct sip_msg *msg)
{
    struct sip_err err = { 0 };
    const struct sip_uri *ruri = sip_msg_ruri(msg, &err);
    return ruri != NULL && gen->peer_secret_len > 0 &&
           peer_verify(sv_make(gen->peer_secret, gen->peer_secret_len), msg, ruri->user,
                       sw_wall_s());
}

/* "udp:127.0.0.11:5070" -> the destination; false unless a peer's address. */
static bool holder_dest(const struct gw_gen *gen, const char *address, struct net_dest *out,
                        struct sv *hostport)
{
    struct sv text = sv_from_cstr(address);
    struct sv name;
    if (!sv_take_until(&text, ':', &name)) {
        return false;
    }
    memset(out, 0, sizeof(*out));
    bool is_known = false;
    for (size_t i = 0; i < sizeof(transport_names) / sizeof(transport_names[0]); i++) {
        if (sv_eq(name, sv_from_cstr(transport_names[i]))) {
            out->transport = (enum sw_transport)i;
            is_known = true;
        }
    }
    struct sw_ip ip;
    if (!is_known || !sw_sockaddr_parse(text, 5060, &out->addr) ||
        !sw_ip_from_sockaddr(&out->addr, &ip) || !gw_peer_is_source(gen, &ip)) {
        return false; /* whatever Redis says, calls only go to the configured peers */
    }
    out->listener = SIZE_MAX;
    *hostport = text;
    return true;
}

bool gw_peer_route(const struct gw_gen *gen, struct arena *arena, const struct cfg_account *account,
                   const struct regshare_holder *holder, struct b2bua_route *route)
{
    struct sv hostport;
    if (gen->peer_secret_len == 0 || !holder_dest(gen, holder->address, &route->dest, &hostport)) {
        /* A configuration error, not an attack (only calls to a registered account get
         * here): the operator must learn why the phone does not ring. */
        log_warn(NULL,
                 "cluster: the phone of account %s is held by the node at %s, which %s: the "
                 "call is not relayed",
                 account->username, holder->address,
                 gen->peer_secret_len == 0 ? "cannot be signed for (no [cluster] peer_secret_file)"
                                           : "is not in [cluster] peers");
        return false;
    }
    const char *node = gen->cfg->cluster.node != NULL ? gen->cfg->cluster.node : "node";
    char *line = arena_alloc(arena, PEER_LINE_CAP);
    struct sv account_name = sv_from_cstr(account->username);
    struct sv signed_line =
        line == NULL
            ? SV_NULL
            : peer_sign(sv_make(gen->peer_secret, gen->peer_secret_len), sv_from_cstr(node),
                        account_name, sw_wall_s(), line, PEER_LINE_CAP);
    if (signed_line.ptr == NULL) {
        return false;
    }
    route->ruri_user = account_name;
    route->target_host = hostport;
    route->request_uri = SV_NULL;
    route->extra_headers = signed_line;
    return true;
}
