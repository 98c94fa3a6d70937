/*
 * Where a new call goes (#10, "the policy in one place": routing moved here from the
 * gateway): leg B of an initial INVITE that passed the policy, and the relayed
 * registration of an account, chosen from the configuration, the next hops resolved for
 * it and the registrations of remote accounts:
 *   - a call from a trunk's provider goes to the PBX;
 *   - a call from an authenticated account goes to the PBX, under the identity the
 *     gateway gives the account (From and P-Asserted-Identity: its name and callerid);
 *   - a call from the PBX goes to the remote account its Request-URI names when that
 *     account has a live binding (here, or on another node of a cluster, #15: then to
 *     that node, signed), and otherwise out through the default trunk;
 *   - anything else goes nowhere.
 *
 * Views written into a route point into the message, the table (its configuration) or
 * the arena. Pure apart from the registrar and cluster lookups; any worker thread.
 */
#ifndef SW_CALL_ROUTE_H
#define SW_CALL_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "call/b2bua.h"
#include "call/registrar.h"
#include "call/uac_auth.h"
#include "net/worker.h"
#include "state/regshare.h"

struct arena;
struct cfg;
struct cfg_account;
struct callcount_slot;
struct sip_msg;

/* A trunk's next hop, resolved when the configuration was loaded (a DNS name is looked up
 * then). The credentials are views into that configuration. */
struct route_trunk {
    struct net_dest dest;
    char host[256]; /* Request-URI/From host towards this trunk */
    struct uac_credentials credentials;
    struct callcount_slot *calls; /* keyed by the trunk's name (policy/limits.h) */
};

/*
 * Points `route`, already routed to `account`, at the node of the cluster that holds the
 * account's binding (`holder`), signed; false when that node is not one of ours or
 * signing fails (the call then goes nowhere).
 */
typedef bool route_peer_fn(const void *ctx, struct arena *arena, const struct cfg_account *account,
                           const struct regshare_holder *holder, struct b2bua_route *route);

/* What routing reads; every pointer is borrowed for the call of a route_* function. */
struct route_table {
    const struct cfg *cfg;
    const struct route_trunk *trunks; /* cfg->trunks order */
    size_t trunk_count;
    const struct net_dest *pbx_dest;
    const char *pbx_host;      /* host[:port] of the PBX in Request-URI, From and To */
    const char *local_host;    /* the gateway's own host, as remote phones know it */
    route_peer_fn *peer_route; /* calls to a phone another node holds; NULL: none */
    const void *peer_ctx;
};

/* Who a new call comes from, as the policy established it. */
struct route_caller {
    bool is_known;         /* false: nobody a call may come from (the call goes nowhere) */
    enum call_party party; /* is_known: the PBX, a trunk's provider or an account */
    size_t index;          /* TRUNK: cfg->trunks index; ACCOUNT: cfg->accounts index */
};

/* The phone a call from the PBX goes to: its account and live binding. */
struct route_target {
    const struct cfg_account *account; /* NULL = the call is not for a registered phone */
    struct registrar_binding binding;
    bool is_remote;                /* #15: another node holds the binding: relay there */
    struct regshare_holder holder; /* is_remote: which node, where */
    bool is_unregistered;          /* #15: an account of ours that no node has a binding of */
};

/*
 * Does this INVITE from the PBX name an enabled account with a live binding at `now_s`
 * (wall clock): in this node's registrar, or else, when `may_relay`, on another node of
 * the cluster? An enabled account with no binding anywhere is is_unregistered when there
 * is a cluster or relaying is not allowed (in a cluster an account's number is never a
 * number of the outside world). Looked up once per call, before the policy (the caller-ID
 * stage asks) and used again by route_pick().
 */
void route_target_find(const struct route_table *table, struct sip_msg *msg, bool may_relay,
                       int64_t now_s, struct route_target *out);

/*
 * Clears `route` and fills the fields every call shares: who is called and who calls
 * (Request-URI and From users; "anonymous" without one), the display name and the
 * timers of [general]. False when the Request-URI has no user to call.
 */
bool route_base(const struct cfg *cfg, struct sip_msg *msg, struct b2bua_route *route);

/*
 * Chooses leg B for `caller` (see above): next hop, hosts, parties, credentials, the
 * origin header for the PBX and the call record's trunk or account; `target` is
 * route_target_find()'s answer (or NULL): a call from the PBX for a registered phone goes
 * there or nowhere. For an account's call, also its identity
 * (overriding what route_base and the policy set). False when the call goes nowhere.
 */
bool route_pick(const struct route_table *table, const struct route_caller *caller,
                const struct route_target *target, struct arena *arena, struct b2bua_route *route);

/* The relayed REGISTER of account `account` (cfg->accounts index) towards the PBX,
 * answering its challenges with `credentials` (NULL or without a secret: none). */
void route_register(const struct route_table *table, size_t account,
                    const struct uac_credentials *credentials, struct b2bua_register_route *out);

#endif
