#include "call/anchor.h"

#include <errno.h>
#include <string.h>

#include "base/addr.h"
#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/err.h"
#include "sip/sdp.h"
#include "sip/sdp_rewrite.h"

/* rtpengine's SDP is at most one datagram; without weak lines it only shrinks, but LF-only
 * lines would become CRLF. */
#define SCRATCH_CAP ((size_t)2 * 65536)

struct anchor {
    struct rtpengine *client;
    size_t sessions; /* started and not ended: a retired anchor is freed only at 0 */
    bool is_pass_when_unreachable;
    uint32_t media_timeout_ms;
    struct sip_sdp *parsed; /* scratch for the weak-crypto filter */
    char *scratch;
};

struct anchor_leg anchor_leg_for(enum anchor_protocol protocol)
{
    switch (protocol) {
    case ANCHOR_PROTOCOL_RTP:
        return (struct anchor_leg){ .transport_protocol = SV("RTP/AVP") };
    case ANCHOR_PROTOCOL_SDES:
        return (struct anchor_leg){ .transport_protocol = SV("RTP/SAVP") };
    case ANCHOR_PROTOCOL_DTLS:
        return (struct anchor_leg){ .transport_protocol = SV("UDP/TLS/RTP/SAVP") };
    case ANCHOR_PROTOCOL_AS_OFFERED:
    default:
        return (struct anchor_leg){ .transport_protocol = SV_NULL };
    }
}

static const char *const party_tags[] = { [ANCHOR_CALLER] = "caller", [ANCHOR_CALLEE] = "callee" };

struct anchor *anchor_new(struct loop *loop, const struct anchor_settings *settings, int *err)
{
    struct anchor *a = sw_calloc(1, sizeof(*a));
    if (a == NULL) {
        *err = -ENOMEM;
        return NULL;
    }
    a->parsed = sw_malloc(sizeof(*a->parsed));
    a->scratch = sw_malloc(SCRATCH_CAP);
    a->client = a->parsed == NULL || a->scratch == NULL
                    ? NULL
                    : rtpengine_new(loop, &settings->engines, err);
    if (a->client == NULL) {
        *err = a->parsed == NULL || a->scratch == NULL ? -ENOMEM : *err;
        anchor_free(a);
        return NULL;
    }
    a->is_pass_when_unreachable = settings->is_pass_when_unreachable;
    a->media_timeout_ms = settings->media_timeout_ms;
    return a;
}

void anchor_free(struct anchor *a)
{
    if (a == NULL) {
        return;
    }
    rtpengine_free(a->client);
    sw_free(a->parsed);
    sw_free(a->scratch);
    sw_free(a);
}

bool anchor_passes_unreachable(const struct anchor *a)
{
    return a->is_pass_when_unreachable;
}

uint32_t anchor_media_timeout_ms(const struct anchor *a)
{
    return a->media_timeout_ms;
}

struct rtpengine *anchor_client(struct anchor *a)
{
    return a->client;
}

void anchor_session_init(struct anchor *a, struct anchor_session *s, struct sv call_id)
{
    memset(s, 0, sizeof(*s));
    if (a == NULL) {
        return;
    }
    a->sessions++;
    s->owner = a;
    s->server = RTPENGINE_ANY_SERVER;
    s->call_id_len = call_id.len < sizeof(s->call_id) ? call_id.len : sizeof(s->call_id);
    memcpy(s->call_id, call_id.ptr, s->call_id_len);
}

static enum anchor_party other_party(enum anchor_party p)
{
    return p == ANCHOR_CALLER ? ANCHOR_CALLEE : ANCHOR_CALLER;
}

/*
 * rtpengine offers every SDES suite it knows (NULL and F8 ciphers, 32-bit tags next to
 * 80-bit ones): the policy's weak lines leave its SDP before a peer sees them. Returns the
 * filtered SDP (in a->scratch) or `sdp` itself when nothing is weak or it does not parse.
 */
static struct sv drop_weak_crypto(struct anchor *a, struct sv sdp)
{
    struct sip_err err = { 0 };
    if (sdp.len == 0 || sip_sdp_parse(sdp, a->parsed, &err) != 0) {
        return sdp;
    }
    struct sip_sdp_rewrite spec = { 0 };
    bool has_weak = false;
    for (size_t i = 0; i < a->parsed->media_count; i++) {
        const struct sip_sdp_media *m = &a->parsed->media[i];
        for (size_t k = 0; k < m->crypto_count; k++) {
            if (sip_sdp_crypto_rate(m, k) != SIP_SDP_CRYPTO_OK) {
                spec.drop_crypto[i] |= 1u << k;
                has_weak = true;
            }
        }
    }
    struct sw_buf out;
    sw_buf_init(&out, a->scratch, SCRATCH_CAP);
    if (!has_weak || sip_sdp_rewrite(sdp, &spec, &out) != 0) {
        return sdp;
    }
    return sw_buf_view(&out);
}

static void on_reply(void *ctx, const struct rtpengine_reply *reply)
{
    struct anchor_session *s = ctx;
    s->pending = 0;
    struct sv sdp = reply->sdp;
    if (reply->status == 0) {
        s->server = reply->server; /* every later request of the call goes there */
        s->is_created = true;
        sdp = drop_weak_crypto(s->owner, sdp);
    }
    anchor_done_fn *done = s->done;
    s->done = NULL;
    done(s->done_ctx, reply->status, sdp);
}

/* An offer or an answer of a session. */
struct sdp_request {
    enum rtpengine_command command;
    enum anchor_party offerer;
    bool has_to_tag;
    struct sv sdp;
    const struct anchor_leg *to;
};

/* The request every offer and answer of a session shares (anchor.h lists why). */
static int send_sdp(struct anchor_session *s, const struct sdp_request *q, anchor_done_fn *done,
                    void *ctx)
{
    if (s->pending != 0) {
        return -EALREADY;
    }
    struct sv flags[2] = { SV("trust-address"), SV("strict-source") };
    struct sv replace[2] = { SV("origin"), SV("session-connection") };
    struct rtpengine_request r = {
        .command = q->command,
        .call_id = sv_make(s->call_id, s->call_id_len),
        .from_tag = sv_from_cstr(party_tags[q->offerer]),
        .to_tag = q->has_to_tag ? sv_from_cstr(party_tags[other_party(q->offerer)]) : SV_NULL,
        .sdp = q->sdp,
        .options = { { .key = "ICE", .value = SV("remove") } },
        .option_count = 1,
        .lists = { { .key = "flags", .items = flags, .count = 2 },
                   { .key = "replace", .items = replace, .count = 2 } },
        .list_count = 2,
        .server = s->server,
    };
    if (q->to != NULL && sv_is_present(q->to->transport_protocol)) {
        r.options[r.option_count++] =
            (struct rtpengine_option){ .key = "transport-protocol",
                                       .value = q->to->transport_protocol };
    }
    s->done = done;
    s->done_ctx = ctx;
    int rc = rtpengine_send(s->owner->client, &r, on_reply, s, &s->pending);
    if (rc != 0) {
        s->done = NULL;
        s->pending = 0;
    }
    return rc;
}

int anchor_offer(struct anchor_session *s, enum anchor_party from, struct sv sdp,
                 const struct anchor_leg *to, anchor_done_fn *done, void *ctx)
{
    SW_ASSERT(done != NULL);
    struct sdp_request q = { .command = RTPENGINE_OFFER,
                             .offerer = from,
                             .has_to_tag = s->is_answered,
                             .sdp = sdp,
                             .to = to };
    return send_sdp(s, &q, done, ctx);
}

int anchor_answer(struct anchor_session *s, enum anchor_party from, struct sv sdp,
                  const struct anchor_leg *to, anchor_done_fn *done, void *ctx)
{
    SW_ASSERT(done != NULL);
    /* ng names the offerer in from-tag and the answerer in to-tag. */
    struct sdp_request q = { .command = RTPENGINE_ANSWER,
                             .offerer = other_party(from),
                             .has_to_tag = true,
                             .sdp = sdp,
                             .to = to };
    int rc = send_sdp(s, &q, done, ctx);
    if (rc == 0) {
        s->is_answered = true;
    }
    return rc;
}

void anchor_cancel(struct anchor_session *s)
{
    if (s->pending != 0) {
        rtpengine_cancel(s->owner->client, s->pending);
        s->pending = 0;
        s->done = NULL;
    }
}

/* totals.RTP.packets of a query's answer, or -1 when it is missing. */
static int64_t rtp_packets(const struct bencode_doc *doc)
{
    uint32_t totals = bencode_dict_get(doc, 0, SV("totals"));
    uint32_t rtp = totals == BENCODE_NONE ? BENCODE_NONE : bencode_dict_get(doc, totals, SV("RTP"));
    uint32_t packets =
        rtp == BENCODE_NONE ? BENCODE_NONE : bencode_dict_get(doc, rtp, SV("packets"));
    if (packets == BENCODE_NONE || doc->nodes[packets].type != BENCODE_INTEGER ||
        doc->nodes[packets].integer < 0) {
        return -1;
    }
    return doc->nodes[packets].integer;
}

static void on_query_reply(void *ctx, const struct rtpengine_reply *reply)
{
    struct anchor_session *s = ctx;
    s->query_pending = 0;
    int status = reply->status;
    int64_t packets = status == 0 ? rtp_packets(reply->doc) : 0;
    if (packets < 0) {
        status = -SW_EBADMSG;
        packets = 0;
    }
    anchor_query_fn *done = s->query_done;
    s->query_done = NULL;
    done(s->query_ctx, status, (uint64_t)packets);
}

int anchor_query(struct anchor_session *s, anchor_query_fn *done, void *ctx)
{
    SW_ASSERT(done != NULL);
    if (!s->is_created) {
        return -ENOENT;
    }
    if (s->query_pending != 0) {
        return -EALREADY;
    }
    struct rtpengine_request r = {
        .command = RTPENGINE_QUERY,
        .call_id = sv_make(s->call_id, s->call_id_len),
        .server = s->server,
    };
    s->query_done = done;
    s->query_ctx = ctx;
    int rc = rtpengine_send(s->owner->client, &r, on_query_reply, s, &s->query_pending);
    if (rc != 0) {
        s->query_done = NULL;
        s->query_pending = 0;
    }
    return rc;
}

static void on_delete_reply(void *ctx, const struct rtpengine_reply *reply)
{
    /* Nobody waits: a lost delete ends in rtpengine's own timeout of silent calls. */
    (void)ctx;
    (void)reply;
}

void anchor_end(struct anchor_session *s)
{
    if (s->owner == NULL) {
        return;
    }
    anchor_cancel(s);
    if (s->query_pending != 0) {
        rtpengine_cancel(s->owner->client, s->query_pending);
        s->query_pending = 0;
        s->query_done = NULL;
    }
    if (s->is_created) {
        struct rtpengine_request r = {
            .command = RTPENGINE_DELETE,
            .call_id = sv_make(s->call_id, s->call_id_len),
            .from_tag = sv_from_cstr(party_tags[ANCHOR_CALLER]),
            .server = s->server,
        };
        /* A full table or a vanished server: rtpengine's timeout of silent calls ends it. */
        (void)rtpengine_send(s->owner->client, &r, on_delete_reply, NULL, NULL);
    }
    SW_ASSERT(s->owner->sessions > 0);
    s->owner->sessions--;
    s->is_created = false;
    s->owner = NULL;
}

bool anchor_is_idle(const struct anchor *a)
{
    return a->sessions == 0 && rtpengine_pending(a->client) == 0;
}

bool anchor_settings_equal(const struct anchor_settings *x, const struct anchor_settings *y)
{
    const struct rtpengine_settings *ex = &x->engines;
    const struct rtpengine_settings *ey = &y->engines;
    if (ex->server_count != ey->server_count || ex->retransmit_ms != ey->retransmit_ms ||
        ex->max_tries != ey->max_tries || ex->ping_interval_ms != ey->ping_interval_ms ||
        ex->max_pending != ey->max_pending ||
        x->is_pass_when_unreachable != y->is_pass_when_unreachable ||
        x->media_timeout_ms != y->media_timeout_ms) {
        return false;
    }
    for (size_t i = 0; i < ex->server_count && i < RTPENGINE_MAX_SERVERS; i++) {
        if (ex->servers[i].weight != ey->servers[i].weight ||
            !sw_sockaddr_eq(&ex->servers[i].addr, &ey->servers[i].addr)) {
            return false;
        }
    }
    return true;
}
