#include "policy/ban_decide.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "base/alloc.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/settab.h"
#include "base/time.h"
#include "state/ban.h"
#include "state/cluster.h"
#include "state/failtrack.h"

#define AUTHED_WAYS  4
#define AUTHED_LOCKS 64

struct authed_slot {
    struct sw_ip ip;
    int64_t until_s; /* 0 = empty */
};

struct ban_decider {
    struct ban_store *bans;
    struct failtrack *fails;
    struct cluster *_Atomic cluster; /* NULL = failures are counted here only */
    unsigned v6_prefix_len;
    struct settab authed; /* of struct authed_slot, BAN_DECIDE_AUTHED_SLOTS */
};

int ban_decide_new(struct ban_store *bans, struct failtrack *fails, unsigned v6_prefix_len,
                   struct ban_decider **out)
{
    *out = NULL;
    struct ban_decider *d = sw_calloc(1, sizeof(*d));
    if (d == NULL || settab_init(&d->authed, sizeof(struct authed_slot), BAN_DECIDE_AUTHED_SLOTS,
                                 AUTHED_WAYS, AUTHED_LOCKS) != 0) {
        sw_free(d);
        return -ENOMEM;
    }
    d->bans = bans;
    d->fails = fails;
    d->v6_prefix_len = v6_prefix_len;
    *out = d;
    return 0;
}

void ban_decide_free(struct ban_decider *decider)
{
    if (decider == NULL) {
        return;
    }
    settab_fini(&decider->authed);
    sw_free(decider);
}

void ban_decide_set_cluster(struct ban_decider *decider, struct cluster *cluster)
{
    atomic_store_explicit(&decider->cluster, cluster, memory_order_release);
}

void ban_decide_ban(struct ban_decider *decider, const struct sw_ip *ip, const char *reason)
{
    struct ban_request req = { .ip = *ip, .source = BAN_SOURCE_AUTO, .reason = reason };
    struct ban_entry entry;
    enum ban_outcome outcome = ban_store_add(decider->bans, &req, sw_wall_s(), &entry);
    if (outcome == BAN_OUTCOME_ADDED) {
        char text[SW_ADDR_STRLEN];
        char key[SW_ADDR_STRLEN + 16] = "";
        sw_ip_format(ip, text, sizeof(text));
        if (!sw_ip_eq(&entry.ip, ip)) {
            /* #9 IPv6: the ban covers the source's prefix. */
            char prefix[SW_ADDR_STRLEN];
            sw_ip_format(&entry.ip, prefix, sizeof(prefix));
            (void)snprintf(key, sizeof(key), " as %s/%u", prefix, decider->v6_prefix_len);
        }
        log_notice(NULL, "ban: %s%s banned for %lld s, offence %u (%s)", text, key,
                   entry.end_s == BAN_FOREVER ? -1LL : (long long)(entry.end_s - entry.start_s),
                   entry.offence, reason);
    } else if (outcome == BAN_OUTCOME_FULL) {
        log_warn(NULL, "ban: table full of manual bans, a ban was refused");
    }
}

static uint64_t ip_hash(const struct sw_ip *ip)
{
    return sw_hash_bytes(ip->bytes, sizeof(ip->bytes));
}

static void authed_note(struct ban_decider *d, const struct sw_ip *ip, int64_t now_s)
{
    uint64_t hash = ip_hash(ip);
    struct authed_slot *ways = settab_lock(&d->authed, hash);
    struct authed_slot *victim = &ways[0];
    for (size_t w = 0; w < AUTHED_WAYS; w++) {
        if (ways[w].until_s != 0 && sw_ip_eq(&ways[w].ip, ip)) {
            victim = &ways[w];
            break;
        }
        if (ways[w].until_s < victim->until_s) {
            victim = &ways[w];
        }
    }
    victim->ip = *ip;
    victim->until_s = now_s + BAN_DECIDE_AUTHED_TTL_S;
    settab_unlock(&d->authed, hash);
}

static bool authed_has(struct ban_decider *d, const struct sw_ip *ip, int64_t now_s)
{
    uint64_t hash = ip_hash(ip);
    const struct authed_slot *ways = settab_lock(&d->authed, hash);
    bool is_found = false;
    for (size_t w = 0; w < AUTHED_WAYS && !is_found; w++) {
        is_found = ways[w].until_s > now_s && sw_ip_eq(&ways[w].ip, ip);
    }
    settab_unlock(&d->authed, hash);
    return is_found;
}

bool ban_decide_is_authenticated(struct ban_decider *decider, const struct sw_ip *ip)
{
    return authed_has(decider, ip, sw_wall_s());
}

static struct sv field_or_absent(const char *field)
{
    return field[0] != '\0' ? sv_from_cstr(field) : SV_NULL;
}

/* A failure for the tracker (and the cluster's shared count). */
static void count_failure(struct ban_decider *d, const struct sw_ip *ip, const struct sw_event *ev)
{
    struct failtrack_attempt attempt = {
        .ip = *ip,
        .kind = ev->kind,
        .user = field_or_absent(ev->account),
        .realm = SV_NULL,
        .call_id = field_or_absent(ev->session),
        .cseq = ev->cseq,
        .response = field_or_absent(ev->response),
    };
    struct failtrack_result result;
    failtrack_record(d->fails, &attempt, sw_mono_ms(), &result);
    if (result.verdict == FAILTRACK_BAN) {
        ban_decide_ban(d, ip, result.reason);
        return;
    }
    struct cluster *cluster = atomic_load_explicit(&d->cluster, memory_order_acquire);
    if (result.verdict == FAILTRACK_COUNTED && cluster != NULL) {
        /* #15: the cluster's count bans a guesser that spreads over the nodes. */
        struct sw_ip key = ban_store_key(d->bans, ip);
        cluster_failure(cluster, &key);
    }
}

void ban_decide_event(struct ban_decider *decider, const struct sw_event *ev)
{
    struct sw_ip ip;
    if (!sw_ip_from_sockaddr(&ev->remote, &ip)) {
        return;
    }
    if (ev->kind == EV_SUCCESSFUL_AUTH) {
        authed_note(decider, &ip, sw_wall_s());
        return;
    }
    if (!sw_event_kind_is_failure(ev->kind) || ban_store_is_exempt(decider->bans, &ip)) {
        return; /* exempt sources are still logged: the event is queued all the same */
    }
    bool is_authed = (ev->kind == EV_RATE_EXCEEDED || ev->kind == EV_SCANNER) &&
                     authed_has(decider, &ip, sw_wall_s());
    if (ev->kind == EV_RATE_EXCEEDED && is_authed) {
        return; /* volume alone never bans an address an account authenticated from */
    }
    if (ev->kind == EV_SCANNER) {
        /* From an address an account authenticated from, a fingerprint is a packet anyone
         * could have spoofed: the stage dropped it and the log has it; no ban. */
        if (!is_authed) {
            ban_decide_ban(decider, &ip, "ScannerDetected=1");
        }
        return;
    }
    count_failure(decider, &ip, ev);
}
