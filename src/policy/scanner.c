#include "policy/scanner.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/hash.h"
#include "base/settab.h"
#include "config/config.h"
#include "sip/msg.h"
#include "sip/nameaddr.h"

#define SCANNER_WAYS  2
#define SCANNER_LOCKS 64

struct scan_entry {
    struct sw_ip ip;
    uint64_t window_start_ms; /* 0 = empty */
    uint32_t distinct;        /* distinct user names within the window */
    uint32_t users[SCANNER_USERS];
    uint8_t stored; /* how many of users[] are valid */
    uint8_t next;   /* where the next name goes once users[] is full */
    bool is_reported;
};

struct scanner {
    bool is_enabled;
    uint32_t max_distinct;
    uint64_t window_ms;
    unsigned v6_prefix_len; /* [ban] ipv6_prefix: one window per IPv6 prefix */
    char **user_agents;     /* [scanner] user_agents, borrowed from the configuration */
    size_t user_agent_count;
    uint64_t *accounts; /* sorted hashes of the accounts' user names */
    size_t account_count;
    struct settab entries; /* of struct scan_entry */
};

static const char *const known_agents[] = {
    "friendly-scanner", "sipcli", "vaxsipuseragent", "pplsip", "sundayddr", "sipscan",
    "sip-scan",         "iwar",   "sipvicious",      "sivus",
};

/* Case-insensitive substring search, bounded by the haystack. */
static bool contains_nocase(struct sv hay, struct sv needle)
{
    if (needle.len == 0 || hay.len < needle.len) {
        return false;
    }
    /* The first byte is compared here: most positions fail on it, and the whole compare
     * per position was the scanner's cost of a registration (callgrind, #13). */
    unsigned char first = (unsigned char)needle.ptr[0] | 0x20u;
    bool is_letter = first >= 'a' && first <= 'z';
    for (size_t i = 0; i + needle.len <= hay.len; i++) {
        unsigned char c = (unsigned char)hay.ptr[i];
        bool is_first = is_letter ? (c | 0x20u) == first : c == (unsigned char)needle.ptr[0];
        if (is_first && sv_eq_nocase(sv_make(hay.ptr + i, needle.len), needle)) {
            return true;
        }
    }
    return false;
}

bool scanner_user_agent_is_known(struct sv user_agent)
{
    for (size_t i = 0; i < sizeof(known_agents) / sizeof(known_agents[0]); i++) {
        if (contains_nocase(user_agent, sv_from_cstr(known_agents[i]))) {
            return true;
        }
    }
    return false;
}

bool scanner_tag_is_sipvicious(struct sv tag)
{
    if (tag.len < 8 || tag.len % 2 != 0) {
        return false;
    }
    /* SIPVicious' tags are the hex of "<text>\x01<a 32-bit random number in decimal>": the
     * decimal tail keeps a phone's random hex tag (which has one 0x01 byte between
     * printable ones about once in 1,700 four-byte tags) from passing for one. */
    size_t ones = 0;
    size_t digits_after = 0;
    for (size_t i = 0; i < tag.len; i += 2) {
        int byte = sv_hex_byte(tag.ptr + i);
        if (byte < 0) {
            return false;
        }
        bool is_digit = byte >= '0' && byte <= '9';
        if (byte == 1 && i > 0) {
            ones++;
        } else if ((ones == 1 && !is_digit) || byte < 0x20 || byte > 0x7e) {
            return false;
        }
        digits_after += ones == 1 && is_digit ? 1u : 0u;
    }
    return ones == 1 && digits_after >= 2 && digits_after <= 10;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void scanner_fini(void *state)
{
    struct scanner *s = state;
    if (s == NULL) {
        return;
    }
    settab_fini(&s->entries);
    sw_free(s->accounts);
    sw_free(s);
}

static int scanner_init(void **state, const struct cfg *cfg, struct sw_diag *diag)
{
    struct scanner *s = sw_calloc(1, sizeof(*s));
    if (s == NULL) {
        sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "scanner", "out of memory");
        return -1;
    }
    s->is_enabled = cfg->scanner.enabled;
    s->max_distinct = cfg->scanner.max_distinct_users;
    s->window_ms = (uint64_t)cfg->scanner.window * 1000u;
    s->v6_prefix_len = cfg->ban.ipv6_prefix;
    s->user_agents = cfg->scanner.user_agents.items;
    s->user_agent_count = cfg->scanner.user_agents.count;
    int err = settab_init(&s->entries, sizeof(struct scan_entry), SCANNER_ENTRIES, SCANNER_WAYS,
                          SCANNER_LOCKS);
    s->accounts = sw_calloc(cfg->account_count + 1, sizeof(*s->accounts));
    if (err != 0 || s->accounts == NULL) {
        scanner_fini(s);
        sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "scanner", "out of memory");
        return -1;
    }
    for (size_t i = 0; i < cfg->account_count; i++) {
        s->accounts[i] = sw_hash_sv(sv_from_cstr(cfg->accounts[i].username));
    }
    s->account_count = cfg->account_count;
    qsort(s->accounts, s->account_count, sizeof(*s->accounts), compare_u64);
    *state = s;
    return 0;
}

static bool is_account(const struct scanner *s, struct sv user)
{
    uint64_t h = sw_hash_sv(user);
    return bsearch(&h, s->accounts, s->account_count, sizeof(h), compare_u64) != NULL;
}

static const char *agent_signature(const struct scanner *s, struct sip_msg *msg)
{
    const struct sip_hdr *ua = sip_msg_find(msg, SIP_HDR_USER_AGENT, NULL);
    if (ua == NULL) {
        return NULL;
    }
    if (scanner_user_agent_is_known(ua->value)) {
        return "scanner User-Agent";
    }
    for (size_t i = 0; i < s->user_agent_count; i++) {
        if (contains_nocase(ua->value, sv_from_cstr(s->user_agents[i]))) {
            return "configured scanner User-Agent";
        }
    }
    return NULL;
}

/* SIPVicious's habits beyond the User-Agent (TOOLS-NOTES §1.2). */
static const char *habit_signature(struct sip_msg *msg)
{
    struct sip_err err = { 0 };
    const struct sip_nameaddr *from = sip_msg_from(msg, &err);
    if (from != NULL) {
        if (sv_eq_nocase(from->display, SV("sipvicious"))) {
            return "From display name sipvicious";
        }
        if (sv_eq(from->uri.host, SV("1.1.1.1"))) {
            return "From host 1.1.1.1";
        }
        if (sv_eq(from->tag, SV("3206210844"))) {
            return "svcrack's fixed From tag";
        }
        if (scanner_tag_is_sipvicious(from->tag)) {
            return "SIPVicious From tag";
        }
    }
    const struct sip_hdr *contact = sip_msg_find(msg, SIP_HDR_CONTACT, NULL);
    if (contact != NULL && (contains_nocase(contact->value, SV("sip:123@1.1.1.1")) ||
                            contains_nocase(contact->value, SV("sip:None@")))) {
        return "SIPVicious Contact";
    }
    const struct sip_hdr *cseq = sip_msg_find(msg, SIP_HDR_CSEQ, NULL);
    if (msg->method == SIP_METHOD_ACK && cseq != NULL &&
        sv_eq(sv_trim(cseq->value), SV("1  ACK"))) {
        return "svwar's ACK";
    }
    return NULL;
}

/* The user name a sweep varies: the To user of REGISTER, the Request-URI user else. */
static struct sv swept_user(struct sip_msg *msg)
{
    struct sip_err err = { 0 };
    if (msg->method == SIP_METHOD_REGISTER) {
        const struct sip_nameaddr *to = sip_msg_to(msg, &err);
        return to != NULL ? to->uri.user : SV_NULL;
    }
    if (msg->method == SIP_METHOD_OPTIONS || msg->method == SIP_METHOD_INVITE) {
        const struct sip_uri *ruri = sip_msg_ruri(msg, &err);
        return ruri != NULL ? ruri->user : SV_NULL;
    }
    return SV_NULL;
}

/* In the locked set `ways`: the source's window, or the one it takes over. */
static struct scan_entry *find_or_take(struct scanner *s, const struct sw_ip *ip,
                                       struct scan_entry *ways, uint64_t now_ms)
{
    struct scan_entry *victim = &ways[0];
    for (size_t w = 0; w < SCANNER_WAYS; w++) {
        struct scan_entry *e = &ways[w];
        if (e->window_start_ms != 0 && sw_ip_eq(&e->ip, ip)) {
            return e;
        }
        bool is_free = e->window_start_ms == 0 || now_ms - e->window_start_ms > s->window_ms;
        bool victim_free =
            victim->window_start_ms == 0 || now_ms - victim->window_start_ms > s->window_ms;
        if (!victim_free && (is_free || e->distinct < victim->distinct)) {
            victim = e;
        }
    }
    memset(victim, 0, sizeof(*victim));
    victim->ip = *ip;
    victim->window_start_ms = now_ms;
    return victim;
}

/* Adds `user` to the source's window; true when the source just went over the limit. */
static bool note_user(struct scanner *s, const struct sw_ip *ip, struct sv user, uint64_t now_ms)
{
    uint64_t ip_hash = sw_hash_bytes(ip->bytes, sizeof(ip->bytes));
    uint32_t user_hash = (uint32_t)sw_hash_sv(user);
    struct scan_entry *e = find_or_take(s, ip, settab_lock(&s->entries, ip_hash), now_ms);
    if (now_ms - e->window_start_ms > s->window_ms) {
        struct sw_ip keep = e->ip;
        memset(e, 0, sizeof(*e));
        e->ip = keep;
        e->window_start_ms = now_ms;
    }
    bool is_new = true;
    for (size_t i = 0; i < e->stored && is_new; i++) {
        is_new = e->users[i] != user_hash;
    }
    bool is_over = false;
    if (is_new) {
        e->distinct++;
        if (e->stored < SCANNER_USERS) {
            e->users[e->stored++] = user_hash;
        } else {
            e->users[e->next] = user_hash;
            e->next = (uint8_t)((e->next + 1) % SCANNER_USERS);
        }
        is_over = e->distinct > s->max_distinct && !e->is_reported;
        e->is_reported = e->is_reported || is_over;
    }
    settab_unlock(&s->entries, ip_hash);
    return is_over;
}

static struct verdict scanner_found(struct stage_ctx *ctx, const char *why)
{
    struct sw_event ev;
    stage_event_init(ctx, &ev, EV_SCANNER, "scanner");
    SW_EVENT_SET(&ev, detail, sv_from_cstr(why));
    struct sip_err err = { 0 };
    const struct sip_nameaddr *from = sip_msg_from(ctx->msg, &err);
    if (from != NULL && sv_is_present(from->uri.user)) {
        SW_EVENT_SET(&ev, account, from->uri.user);
    }
    sw_event_emit(ctx->events, &ev);
    return verdict_drop("scanner");
}

static struct verdict scanner_check(void *state, struct stage_ctx *ctx)
{
    struct scanner *s = state;
    bool is_known = ctx->is_trusted || ctx->is_authenticated || ctx->side != SIDE_UNKNOWN;
    if (!s->is_enabled || is_known || !ctx->msg->is_request) {
        return verdict_continue();
    }
    const char *why = agent_signature(s, ctx->msg);
    if (why == NULL) {
        why = habit_signature(ctx->msg);
    }
    if (why != NULL && ctx->is_source_authed) {
        /* A packet anyone could spoof from there: dropped and reported, and the ban
         * decision spares the address (gateway_obs.c). */
        char detail[128];
        (void)snprintf(detail, sizeof(detail),
                       "%s, from an address an account authenticated "
                       "from: dropped, not banned",
                       why);
        return scanner_found(ctx, detail);
    }
    if (why != NULL) {
        return scanner_found(ctx, why);
    }
    /* A phone dials many numbers: only sources that have not authenticated sweep. */
    struct sv user = swept_user(ctx->msg);
    if (ctx->is_in_dialog || ctx->is_source_authed || !sv_is_present(user) || is_account(s, user)) {
        return verdict_continue();
    }
    struct sw_ip source = sw_ip_aggregate(&ctx->src_ip, s->v6_prefix_len);
    if (note_user(s, &source, user, ctx->now_ms)) {
        char detail[96];
        (void)snprintf(detail, sizeof(detail), "more than %u distinct users within %llu s",
                       s->max_distinct, (unsigned long long)(s->window_ms / 1000u));
        return scanner_found(ctx, detail);
    }
    return verdict_continue();
}

const struct stage scanner_stage = {
    .name = "scanner",
    .init = scanner_init,
    .check = scanner_check,
    .fini = scanner_fini,
};
