#include "call/route.h"

#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "config/config.h"
#include "sip/msg.h"
#include "sip/uri.h"

void route_target_find(const struct route_table *table, struct sip_msg *msg, bool may_relay,
                       int64_t now_s, struct route_target *out)
{
    out->account = NULL;
    out->is_remote = false;
    out->is_unregistered = false;
    struct sip_err err = { 0 };
    const struct sip_uri *ruri = sip_msg_ruri(msg, &err);
    if (ruri == NULL) {
        return;
    }
    struct sv user = ruri->scheme == SIP_URI_TEL ? ruri->tel_number : ruri->user;
    const struct cfg_account *account =
        sv_is_present(user) ? cfg_account_find(table->cfg, user) : NULL;
    if (account == NULL || !account->enabled) {
        return;
    }
    struct sv name = sv_from_cstr(account->username);
    struct regshare *shared = regshare_installed();
    if (registrar_lookup(name, now_s, &out->binding)) {
        out->account = account;
    } else if (may_relay && shared != NULL && regshare_lookup(shared, name, now_s, &out->holder)) {
        out->account = account;
        out->is_remote = true;
    } else {
        /* In a cluster an account's number is never a number of the outside world. */
        out->is_unregistered = shared != NULL || !may_relay;
    }
}

bool route_base(const struct cfg *cfg, struct sip_msg *msg, struct b2bua_route *route)
{
    struct sip_err err = { 0 };
    const struct sip_uri *ruri = sip_msg_ruri(msg, &err);
    const struct sip_nameaddr *from = sip_msg_from(msg, &err);
    memset(route, 0, sizeof(*route));
    if (ruri == NULL || from == NULL) {
        return false;
    }
    route->ruri_user = ruri->scheme == SIP_URI_TEL ? ruri->tel_number : ruri->user;
    route->from_user = from->uri.scheme == SIP_URI_TEL ? from->uri.tel_number : from->uri.user;
    route->from_display = from->display;
    route->max_duration_s = cfg->general.max_call_duration;
    route->ring_timeout_s = cfg->general.call_timeout;
    if (!sv_is_present(route->from_user)) {
        route->from_user = SV("anonymous");
    }
    return sv_is_present(route->ruri_user) && route->ruri_user.len > 0;
}

/* "NAME: trunk=provider\r\n" in the arena, or absent (no header configured, or full). */
static struct sv origin_line(const struct cfg *cfg, struct arena *arena, const char *kind,
                             const char *name)
{
    const char *header = cfg->pbx.origin_header;
    if (header == NULL || header[0] == '\0') {
        return SV_NULL;
    }
    size_t cap = strlen(header) + strlen(kind) + strlen(name) + 8;
    char *line = arena_alloc(arena, cap);
    if (line == NULL) {
        return SV_NULL;
    }
    int n = sw_snprintf(line, cap, "%s: %s=%s\r\n", header, kind, name);
    return n > 0 && (size_t)n < cap ? sv_make(line, (size_t)n) : SV_NULL;
}

/* A trunk's provider -> the PBX. */
static bool route_from_trunk(const struct route_table *table, size_t trunk, struct arena *arena,
                             struct b2bua_route *route)
{
    const struct cfg_trunk *from = &table->cfg->trunks[trunk];
    route->dest = *table->pbx_dest;
    route->target_host = sv_from_cstr(table->pbx_host);
    route->from_host = sv_from_cstr(table->pbx_host);
    route->from_party = CALL_PARTY_TRUNK;
    route->to_party = CALL_PARTY_PBX;
    route->origin_header = origin_line(table->cfg, arena, "trunk", from->name);
    CALLREC_SET(route->policy.trunk, from->name);
    /* Kept for the Wangiri check when the call ends (gateway_obs.c). */
    CALLREC_SET(route->policy.trunk_country_code,
                from->country_code != NULL ? from->country_code : "");
    route->policy.wangiri_ring_max_s =
        table->cfg->fraud.enabled ? table->cfg->fraud.wangiri_ring_max : 0;
    return true;
}

/* The PBX -> the default trunk. */
static bool route_to_trunk(const struct route_table *table, struct b2bua_route *route)
{
    size_t trunk = table->cfg->default_trunk_index;
    if (trunk >= table->trunk_count) {
        return false;
    }
    const struct route_trunk *hop = &table->trunks[trunk];
    route->dest = hop->dest;
    route->target_host = sv_from_cstr(hop->host);
    route->from_host = sv_from_cstr(hop->host);
    route->is_towards_provider = true;
    route->from_party = CALL_PARTY_PBX;
    route->to_party = CALL_PARTY_TRUNK;
    route->trunk_name = sv_from_cstr(table->cfg->trunks[trunk].name);
    route->credentials = hop->credentials.username != NULL ? &hop->credentials : NULL;
    CALLREC_SET(route->policy.trunk, table->cfg->trunks[trunk].name);
    return true;
}

/* The PBX -> the phone of a remote account with a live binding, here or on another node. */
static bool route_to_account(const struct route_table *table, struct arena *arena,
                             const struct route_target *target, struct b2bua_route *route)
{
    const struct cfg_account *account = target->account;
    const struct registrar_binding *binding = &target->binding;
    struct sip_err err = { 0 };
    struct sip_uri contact;
    if (target->is_remote) {
        if (table->peer_route == NULL ||
            !table->peer_route(table->peer_ctx, arena, account, &target->holder, route)) {
            return false;
        }
    } else if (sip_uri_parse(sv_from_cstr(binding->contact_uri), &contact, &err) != 0) {
        return false;
    } else {
        route->dest = binding->dest;
        route->request_uri = sv_from_cstr(binding->contact_uri);
        route->target_host = contact.host;
    }
    /* The phone learns the gateway's address, never the PBX's. */
    route->from_host = sv_from_cstr(table->local_host);
    route->is_towards_provider = true; /* a phone outside is the internet: hide the PBX */
    route->to_party = CALL_PARTY_ACCOUNT;
    route->from_party = CALL_PARTY_PBX;
    route->credentials = NULL;
    CALLREC_SET(route->policy.account, account->username);
    return true;
}

/*
 * The identity of an account's call is the gateway's to set (issue #9 item 4): From names
 * the account, P-Asserted-Identity the account and its callerid; whatever identity
 * headers the phone wrote (PAI, P-Preferred-Identity, Remote-Party-ID) stay behind.
 */
static void account_identity(const struct route_table *table, struct arena *arena,
                             const struct cfg_account *account, struct b2bua_route *route)
{
    route->from_user = sv_from_cstr(account->username);
    route->from_display = SV(""); /* the phone's display name is its own claim */
    route->verstat = SV_NULL;
    const char *callerid = account->callerid != NULL ? account->callerid : "";
    size_t cap = strlen(account->username) + strlen(table->pbx_host) + strlen(callerid) + 32;
    char *pai = arena_alloc(arena, cap);
    int n = -1;
    if (pai != NULL && callerid[0] != '\0') {
        n = sw_snprintf(pai, cap, "<sip:%s@%s>, <tel:%s>", account->username, table->pbx_host,
                        callerid);
    } else if (pai != NULL) {
        n = sw_snprintf(pai, cap, "<sip:%s@%s>", account->username, table->pbx_host);
    }
    /* Out of arena: no PAI at all rather than the phone's. */
    route->asserted_id = n > 0 && (size_t)n < cap ? sv_make(pai, (size_t)n) : SV("");
}

/* An authenticated account -> the PBX. */
static bool route_from_account(const struct route_table *table, size_t index, struct arena *arena,
                               struct b2bua_route *route)
{
    const struct cfg_account *account = &table->cfg->accounts[index];
    route->dest = *table->pbx_dest;
    route->target_host = sv_from_cstr(table->pbx_host);
    route->from_host = sv_from_cstr(table->pbx_host);
    account_identity(table, arena, account, route);
    CALLREC_SET(route->policy.account, account->username);
    route->origin_header = origin_line(table->cfg, arena, "account", account->username);
    route->from_party = CALL_PARTY_ACCOUNT;
    route->to_party = CALL_PARTY_PBX;
    route->is_towards_provider = false;
    route->credentials = NULL;
    return true;
}

bool route_pick(const struct route_table *table, const struct route_caller *caller,
                const struct route_target *target, struct arena *arena, struct b2bua_route *route)
{
    if (!caller->is_known) {
        return false;
    }
    switch (caller->party) {
    case CALL_PARTY_ACCOUNT:
        return route_from_account(table, caller->index, arena, route);
    case CALL_PARTY_TRUNK:
        return caller->index < table->trunk_count &&
               route_from_trunk(table, caller->index, arena, route);
    case CALL_PARTY_PBX:
        if (target != NULL && target->account != NULL) {
            return route_to_account(table, arena, target, route);
        }
        return route_to_trunk(table, route);
    }
    return false;
}

void route_register(const struct route_table *table, size_t account,
                    const struct uac_credentials *credentials, struct b2bua_register_route *out)
{
    *out = (struct b2bua_register_route){
        .username = sv_from_cstr(table->cfg->accounts[account].username),
        .pbx = *table->pbx_dest,
        .pbx_host = sv_from_cstr(table->pbx_host),
        .credentials = credentials != NULL && credentials->secret != NULL ? credentials : NULL,
        .max_expires_s = 3600,
    };
}
