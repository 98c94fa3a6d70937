/*
 * The B2BUA (call/b2bua*.c) through its test seam (b2bua_new_on): a manual clock
 * (loop_advance_ms) and a fake transport that keeps every message sent, parsed again with
 * sip/msg.h to assert on it. Calls are driven by feeding requests and responses to
 * b2bua_on_request / b2bua_on_response: answer and hang-up from either leg, CANCEL before
 * and after a provisional (RFC 3261 §9.1) and racing the 200, rejections, the ring and
 * leg B timeouts, re-INVITE both ways and glare (491), a retransmitted INVITE, the pool
 * limit, and with a fake rtpengine (ng_peer.h) the order of a PRACK's anchored answer and
 * the INVITE's 2xx; every test ends with no call, no transaction and no timer left, and with
 * neither leg having seen the other's addresses or Call-ID (topology hiding).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "base/arena.h"
#include "call/b2bua.h"
#include "net/loop.h"
#include "ng_peer.h"
#include "sip/msg.h"
#include "support/unit.h"

#define MAX_SENDS 96
#define A_HOST    "198.51.100.7"
#define B_HOST    "203.0.113.5"
#define GW_HOST   "192.0.2.1"
#define A_CALL_ID "a-call-%d@" A_HOST

/* One message the B2BUA sent: its text and whether it went to leg B's peer. */
struct sent {
    char *text;
    bool to_b;
};

struct bench {
    struct loop *loop;
    struct b2bua *b2bua;
    struct b2bua_local local;
    struct net_dest a_src;
    struct net_dest b_dest;
    struct sent sent[MAX_SENDS];
    size_t count;
    struct arena *in_arena; /* the message fed to the B2BUA */
    struct sip_msg in;
    struct arena *out_arena; /* a sent message parsed again */
    struct sip_msg out;
    char text[4096];
    bool has_engine;
    struct peer engine; /* a fake rtpengine, with media anchoring */
    /* What the next message a peer sends carries besides: header lines (each ending in
     * CRLF) and an SDP body; reset once it is sent. */
    const char *next_headers;
    const char *next_sdp;
};

/* The next message a peer sends carries `headers` and `sdp` too. */
static void next_carries(struct bench *t, const char *headers, const char *sdp)
{
    t->next_headers = headers;
    t->next_sdp = sdp;
}

/* The end of a peer's message from its last Contact on: what next_carries() set (then
 * forgotten), Content-Length, the blank line and the body. */
static void carried(struct bench *t, char *out, size_t cap)
{
    const char *headers = t->next_headers != NULL ? t->next_headers : "";
    const char *sdp = t->next_sdp != NULL ? t->next_sdp : "";
    int n = snprintf(out, cap, "%s%sContent-Length: %zu\r\n\r\n%s", headers,
                     *sdp != '\0' ? "Content-Type: application/sdp\r\n" : "", strlen(sdp), sdp);
    assert_true(n > 0 && (size_t)n < cap);
    next_carries(t, NULL, NULL);
}

static int fake_send(void *ctx, const struct net_dest *dst, struct sv data)
{
    struct bench *t = ctx;
    assert_true(t->count < MAX_SENDS);
    struct sent *s = &t->sent[t->count++];
    s->text = malloc(data.len + 1);
    assert_non_null(s->text);
    memcpy(s->text, data.ptr, data.len);
    s->text[data.len] = '\0';
    s->to_b = sw_sockaddr_eq(&dst->addr, &t->b_dest.addr);
    return 0;
}

static struct net_dest dest_of(const char *addr)
{
    struct net_dest d = { .transport = SW_TRANSPORT_UDP, .listener = 0 };
    assert_true(sw_sockaddr_parse(sv_from_cstr(addr), 5060, &d.addr));
    return d;
}

static struct bench *bench_new_on(size_t max_calls, bool has_engine)
{
    struct bench *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    t->loop = loop_new(256, NULL, NULL);
    assert_non_null(t->loop);
    (void)snprintf(t->local.host, sizeof(t->local.host), GW_HOST);
    t->local.port = 5060;
    t->local.transport = SW_TRANSPORT_UDP;
    struct b2bua_settings settings = {
        .max_calls = max_calls,
        .max_txns = 64,
        .user_agent = SV("sipwarden-test"),
        .locals = &t->local,
        .local_count = 1,
    };
    t->a_src = dest_of(A_HOST ":5060");
    t->b_dest = dest_of(B_HOST ":5060");
    struct anchor_settings media = { .engines = { .server_count = 1 } };
    t->has_engine = has_engine;
    if (has_engine) {
        peer_open(&t->engine);
        media.engines.servers[0].addr = t->engine.addr;
        settings.media = &media;
    }
    t->b2bua = b2bua_new_on(t->loop, fake_send, t, 0, &settings);
    assert_non_null(t->b2bua);
    t->in_arena = arena_new((size_t)64 * 1024);
    t->out_arena = arena_new((size_t)64 * 1024);
    assert_non_null(t->in_arena);
    assert_non_null(t->out_arena);
    return t;
}

static int setup(void **state)
{
    *state = bench_new_on(16, false);
    return 0;
}

static int setup_pool_of_two(void **state)
{
    *state = bench_new_on(2, false);
    return 0;
}

static int setup_with_engine(void **state)
{
    *state = bench_new_on(16, true);
    return 0;
}

static void assert_hidden(const struct sent *s)
{
    /* Leg A's addresses and Call-IDs never reach leg B, nor leg B's reach leg A. */
    if (s->to_b) {
        assert_null(strstr(s->text, A_HOST));
        assert_null(strstr(s->text, "a-call-"));
    } else {
        assert_null(strstr(s->text, B_HOST));
        assert_null(strstr(s->text, "Call-ID: sw00"));
    }
}

static int teardown(void **state)
{
    struct bench *t = *state;
    /* Every transaction runs out (timers D, H, J, K are at most 64*T1) and ended calls
     * are released: nothing is left behind. */
    for (int i = 0; i < 40; i++) {
        loop_advance_ms(t->loop, 1000);
    }
    assert_int_equal(b2bua_call_count(t->b2bua), 0);
    assert_int_equal(b2bua_txn_count(t->b2bua), 0);
    assert_int_equal(loop_timer_count(t->loop), 0);
    for (size_t i = 0; i < t->count; i++) {
        assert_hidden(&t->sent[i]);
        free(t->sent[i].text);
    }
    b2bua_free(t->b2bua);
    if (t->has_engine) {
        peer_close(&t->engine);
    }
    arena_free(t->in_arena);
    arena_free(t->out_arena);
    loop_free(t->loop);
    free(t);
    return 0;
}

/* ---- what was sent ---- */

/* Does sent message `i` start with `prefix` ("INVITE ", "SIP/2.0 180")? */
static bool sent_is(const struct bench *t, size_t i, bool to_b, const char *prefix)
{
    return t->sent[i].to_b == to_b && strncmp(t->sent[i].text, prefix, strlen(prefix)) == 0;
}

static size_t count_sent(const struct bench *t, size_t from, bool to_b, const char *prefix)
{
    size_t n = 0;
    for (size_t i = from; i < t->count; i++) {
        n += sent_is(t, i, to_b, prefix) ? 1 : 0;
    }
    return n;
}

/* The last message since `from` on a leg that starts with `prefix`; fails when none. */
static size_t last_sent(const struct bench *t, size_t from, bool to_b, const char *prefix)
{
    for (size_t i = t->count; i > from; i--) {
        if (sent_is(t, i - 1, to_b, prefix)) {
            return i - 1;
        }
    }
    fail_msg("nothing sent to leg %s starting with %s", to_b ? "B" : "A", prefix);
    return 0;
}

static struct sip_msg *parse_into(struct arena *arena, const char *raw, struct sip_msg *msg)
{
    struct sip_limits limits;
    sip_limits_default(&limits);
    struct sip_err err = { 0 };
    arena_reset(arena);
    assert_int_equal(sip_msg_parse(sv_from_cstr(raw), false, &limits, arena, msg, &err), 0);
    return msg;
}

static struct sip_msg *sent_msg(struct bench *t, size_t i)
{
    return parse_into(t->out_arena, t->sent[i].text, &t->out);
}

/* Copies header `id` of sent message `i` into `out`. */
static void sent_hdr(struct bench *t, size_t i, enum sip_hdr_id id, char *out, size_t cap)
{
    const struct sip_hdr *h = sip_msg_find(sent_msg(t, i), id, NULL);
    assert_non_null(h);
    assert_true(h->value.len < cap);
    memcpy(out, h->value.ptr, h->value.len);
    out[h->value.len] = '\0';
}

static uint32_t sent_cseq(struct bench *t, size_t i)
{
    struct sip_err err = { 0 };
    const struct sip_cseq *cseq = sip_msg_cseq(sent_msg(t, i), &err);
    assert_non_null(cseq);
    return cseq->seq;
}

/* ---- what the peers send ---- */

/*
 * A peer's answer to the request the B2BUA sent as message `i`: its Via, From, To, Call-ID
 * and CSeq, the To tag "btag" added when `add_tag` and the To has none, and `contact`
 * (with what next_carries() set).
 */
static struct sip_msg *answer_to(struct bench *t, size_t i, uint16_t status, bool add_tag,
                                 const char *contact)
{
    char via[512];
    char from[512];
    char to[512];
    char call_id[256];
    char cseq[64];
    sent_hdr(t, i, SIP_HDR_VIA, via, sizeof(via));
    sent_hdr(t, i, SIP_HDR_FROM, from, sizeof(from));
    sent_hdr(t, i, SIP_HDR_TO, to, sizeof(to));
    sent_hdr(t, i, SIP_HDR_CALL_ID, call_id, sizeof(call_id));
    sent_hdr(t, i, SIP_HDR_CSEQ, cseq, sizeof(cseq));
    bool is_tagged = add_tag && strstr(to, "tag=") == NULL;
    char tail[1024];
    carried(t, tail, sizeof(tail));
    (void)snprintf(t->text, sizeof(t->text),
                   "SIP/2.0 %u Whatever\r\nVia: %s\r\nFrom: %s\r\nTo: %s%s\r\n"
                   "Call-ID: %s\r\nCSeq: %s\r\nContact: <%s>\r\n%s",
                   status, via, from, to, is_tagged ? ";tag=btag" : "", call_id, cseq, contact,
                   tail);
    return parse_into(t->in_arena, t->text, &t->in);
}

/* Leg B's peer answers message `i` (its To tag from the first answer past 100 on). */
static void b_answers(struct bench *t, size_t i, uint16_t status)
{
    struct sip_msg *m = answer_to(t, i, status, status > 100, "sip:100@" B_HOST ":5060");
    b2bua_on_response(t->b2bua, m, &t->b_dest.addr);
}

/* Leg A's peer answers message `i` (a request within its dialog: the To is tagged). */
static void a_answers(struct bench *t, size_t i, uint16_t status)
{
    struct sip_msg *m = answer_to(t, i, status, false, "sip:200@" A_HOST ":5060");
    b2bua_on_response(t->b2bua, m, &t->a_src.addr);
}

/* A request from leg A's peer in call `n` (with what next_carries() set); `to_tag` is the
 * gateway's tag or NULL. */
static void a_sends(struct bench *t, int n, const char *method, uint32_t cseq, const char *branch,
                    const char *to_tag)
{
    /* An INVITE without a To tag comes with leg B's route, as from the gateway. */
    bool is_new_call = strcmp(method, "INVITE") == 0 && to_tag == NULL;
    char call_id[64];
    char tail[1024];
    carried(t, tail, sizeof(tail));
    (void)snprintf(call_id, sizeof(call_id), A_CALL_ID, n);
    (void)snprintf(t->text, sizeof(t->text),
                   "%s sip:100@" GW_HOST " SIP/2.0\r\nVia: SIP/2.0/UDP " A_HOST
                   ":5060;branch=z9hG4bK-%s-%d\r\nMax-Forwards: 70\r\n"
                   "From: <sip:200@" A_HOST ">;tag=atag%d\r\nTo: <sip:100@" GW_HOST ">%s%s\r\n"
                   "Call-ID: %s\r\nCSeq: %u %s\r\nContact: <sip:200@" A_HOST ":5060>\r\n"
                   "%s",
                   method, branch, n, n, to_tag != NULL ? ";tag=" : "",
                   to_tag != NULL ? to_tag : "", call_id, cseq, method, tail);
    struct b2bua_route route = {
        .dest = t->b_dest,
        .ruri_user = SV("100"),
        .target_host = SV(B_HOST),
        .from_user = SV("200"),
        .from_host = SV(GW_HOST),
        .ring_timeout_s = 60,
    };
    b2bua_on_request(t->b2bua, parse_into(t->in_arena, t->text, &t->in), &t->a_src,
                     is_new_call ? &route : NULL);
}

/* A request from leg B's peer in the dialog of the INVITE the B2BUA sent as message `i`. */
static void b_sends(struct bench *t, size_t i, const char *method, uint32_t cseq,
                    const char *branch)
{
    char from[512];
    char call_id[256];
    sent_hdr(t, i, SIP_HDR_FROM, from, sizeof(from));
    sent_hdr(t, i, SIP_HDR_CALL_ID, call_id, sizeof(call_id));
    (void)snprintf(t->text, sizeof(t->text),
                   "%s sip:gw@" GW_HOST " SIP/2.0\r\nVia: SIP/2.0/UDP " B_HOST
                   ":5060;branch=z9hG4bK-%s\r\nMax-Forwards: 70\r\n"
                   "From: <sip:100@" B_HOST ">;tag=btag\r\nTo: %s\r\nCall-ID: %s\r\n"
                   "CSeq: %u %s\r\nContact: <sip:100@" B_HOST ":5060>\r\n"
                   "Content-Length: 0\r\n\r\n",
                   method, branch, from, call_id, cseq, method);
    b2bua_on_request(t->b2bua, parse_into(t->in_arena, t->text, &t->in), &t->b_dest, NULL);
}

/* The tag the gateway gave leg A, from its last response to A with one. */
static void gw_tag_on_a(struct bench *t, size_t i, char *out, size_t cap)
{
    struct sip_err err = { 0 };
    const struct sip_nameaddr *to = sip_msg_to(sent_msg(t, i), &err);
    assert_non_null(to);
    assert_true(sv_is_present(to->tag) && to->tag.len < cap);
    memcpy(out, to->tag.ptr, to->tag.len);
    out[to->tag.len] = '\0';
}

/* Starts call `n` from A and brings it to CONFIRMED; returns leg B's INVITE index. */
static size_t answered_call(struct bench *t, int n, char *gw_tag, size_t cap)
{
    a_sends(t, n, "INVITE", 1, "inv", NULL);
    size_t inv = last_sent(t, 0, true, "INVITE ");
    assert_int_equal(sent_is(t, last_sent(t, 0, false, "SIP/2.0 100"), false, "SIP/2.0 100"), 1);
    b_answers(t, inv, 180);
    b_answers(t, inv, 200);
    size_t ok = last_sent(t, inv, false, "SIP/2.0 200");
    gw_tag_on_a(t, ok, gw_tag, cap);
    /* Late offer: leg B's ACK waits for A's (which carries the answer). */
    assert_int_equal(count_sent(t, inv, true, "ACK "), 0);
    a_sends(t, n, "ACK", 1, "ack", gw_tag);
    assert_int_equal(count_sent(t, inv, true, "ACK "), 1);
    assert_int_equal(b2bua_call_count(t->b2bua), 1);
    return inv;
}

/* ---- media anchoring through the fake rtpengine ---- */

#define SDP_OF(host, port)                                                                 \
    "v=0\r\no=x 1 1 IN IP4 " host "\r\ns=-\r\nc=IN IP4 " host "\r\nt=0 0\r\nm=audio " port \
    " RTP/AVP 0\r\n"
#define ENGINE_BUDGET_MS 5000

/* Runs the loop until the fake rtpengine got a request; fails when none comes. */
static void engine_receives(struct bench *t, const char *command)
{
    assert_true(peer_recv(&t->engine, t->loop, ENGINE_BUDGET_MS));
    struct sv got = bencode_dict_str(&t->engine.doc, 0, SV("command"));
    if (!sv_eq(got, sv_from_cstr(command))) {
        fail_msg("rtpengine got '" SV_FMT "', want '%s'", SV_ARG(got), command);
    }
}

/* The fake rtpengine answers its last request with `sdp` (NULL: none). */
static void engine_replies(struct bench *t, const char *sdp)
{
    char dict[512];
    if (sdp != NULL) {
        (void)snprintf(dict, sizeof(dict), "d6:result2:ok3:sdp%zu:%se", strlen(sdp), sdp);
    } else {
        (void)snprintf(dict, sizeof(dict), "d6:result2:oke");
    }
    peer_answer(&t->engine, t->engine.cookie, dict);
    /* Until the B2BUA sent something, or (a reply without SDP) read the reply. */
    size_t before = t->count;
    int handled = 0;
    for (int i = 0; i < ENGINE_BUDGET_MS / 5 && t->count == before && handled == 0; i++) {
        handled = loop_run_once(t->loop, 5);
        assert_true(handled >= 0);
        handled = sdp != NULL ? 0 : handled;
    }
}

/* The RAck leg A's peer sends for the reliable provisional the B2BUA sent as message `i`. */
static void rack_for(const struct bench *t, size_t i, char *out, size_t cap)
{
    const char *rseq = strstr(t->sent[i].text, "RSeq: ");
    assert_non_null(rseq);
    (void)snprintf(out, cap, "RAck: %ld 1 INVITE\r\n", strtol(rseq + 6, NULL, 10));
}

/* ---- tests ---- */

static void test_b2bua_call_answered_then_bye_from_a(void **state)
{
    struct bench *t = *state;
    char tag[64];
    size_t inv = answered_call(t, 1, tag, sizeof(tag));
    /* Leg B is a dialog of its own: our Call-ID, our From tag, CSeq 1, one Via of ours. */
    struct sip_msg *m = sent_msg(t, inv);
    assert_true(sv_starts_with(sip_msg_call_id(m), SV("sw00")));
    assert_int_equal(sip_msg_hdr_lines(m, SIP_HDR_VIA), 1);
    assert_int_equal(sent_cseq(t, inv), 1);
    assert_int_equal(count_sent(t, 0, false, "SIP/2.0 180"), 1);
    size_t mark = t->count;
    a_sends(t, 1, "BYE", 2, "bye", tag);
    size_t bye = last_sent(t, mark, true, "BYE ");
    assert_int_equal(sent_cseq(t, bye), 2);
    assert_int_equal(b2bua_call_count(t->b2bua), 0);
    b_answers(t, bye, 200);
    assert_int_equal(count_sent(t, mark, false, "SIP/2.0 200"), 1);
}

static void test_b2bua_call_answered_then_bye_from_b(void **state)
{
    struct bench *t = *state;
    char tag[64];
    size_t inv = answered_call(t, 1, tag, sizeof(tag));
    size_t mark = t->count;
    b_sends(t, inv, "BYE", 1, "bbye");
    size_t bye = last_sent(t, mark, false, "BYE ");
    /* On leg A the gateway's CSeq continues from the caller's view: its own count, 1. */
    assert_int_equal(sent_cseq(t, bye), 1);
    a_answers(t, bye, 200);
    assert_int_equal(count_sent(t, mark, true, "SIP/2.0 200"), 1);
    assert_int_equal(b2bua_call_count(t->b2bua), 0);
}

static void test_b2bua_cancel_after_provisional_goes_to_b(void **state)
{
    struct bench *t = *state;
    a_sends(t, 1, "INVITE", 1, "inv", NULL);
    size_t inv = last_sent(t, 0, true, "INVITE ");
    b_answers(t, inv, 180);
    size_t mark = t->count;
    a_sends(t, 1, "CANCEL", 1, "inv", NULL);
    assert_int_equal(count_sent(t, mark, false, "SIP/2.0 200"), 1);
    assert_int_equal(count_sent(t, mark, false, "SIP/2.0 487"), 1);
    size_t cancel = last_sent(t, mark, true, "CANCEL ");
    assert_int_equal(sent_cseq(t, cancel), 1);
    b_answers(t, cancel, 200);
    b_answers(t, inv, 487);
    /* The 487 is ACKed on leg B by the transaction (RFC 3261 §17.1.1.3). */
    assert_int_equal(count_sent(t, mark, true, "ACK "), 1);
    a_sends(t, 1, "ACK", 1, "inv", NULL); /* A's ACK of the 487: absorbed */
    assert_int_equal(count_sent(t, mark, false, "SIP/2.0 487"), 1);
}

static void test_b2bua_cancel_before_provisional_waits_for_one(void **state)
{
    struct bench *t = *state;
    a_sends(t, 1, "INVITE", 1, "inv", NULL);
    size_t inv = last_sent(t, 0, true, "INVITE ");
    b_answers(t, inv, 100);
    size_t mark = t->count;
    a_sends(t, 1, "CANCEL", 1, "inv", NULL);
    assert_int_equal(count_sent(t, mark, false, "SIP/2.0 487"), 1);
    /* RFC 3261 §9.1: no CANCEL before a provisional response. */
    assert_int_equal(count_sent(t, mark, true, "CANCEL "), 0);
    b_answers(t, inv, 180);
    size_t cancel = last_sent(t, mark, true, "CANCEL ");
    assert_int_equal(count_sent(t, mark, false, "SIP/2.0 180"), 0); /* A has hung up */
    b_answers(t, cancel, 200);
    b_answers(t, inv, 487);
    assert_int_equal(count_sent(t, mark, true, "ACK "), 1);
}

static void test_b2bua_cancel_racing_200_acks_and_byes_leg_b(void **state)
{
    struct bench *t = *state;
    a_sends(t, 1, "INVITE", 1, "inv", NULL);
    size_t inv = last_sent(t, 0, true, "INVITE ");
    b_answers(t, inv, 180);
    size_t mark = t->count;
    a_sends(t, 1, "CANCEL", 1, "inv", NULL);
    size_t cancel = last_sent(t, mark, true, "CANCEL ");
    b_answers(t, inv, 200); /* crossed our CANCEL */
    b_answers(t, cancel, 200);
    assert_int_equal(count_sent(t, mark, true, "ACK "), 1);
    size_t bye = last_sent(t, mark, true, "BYE ");
    assert_int_equal(sent_cseq(t, bye), 2);
    assert_int_equal(count_sent(t, mark, false, "SIP/2.0 200"), 1); /* the CANCEL's only */
    assert_int_equal(count_sent(t, mark, false, "SIP/2.0 487"), 1);
    b_answers(t, bye, 200);
    assert_int_equal(b2bua_call_count(t->b2bua), 0);
}

static void test_b2bua_busy_relayed_with_acks(void **state)
{
    struct bench *t = *state;
    a_sends(t, 1, "INVITE", 1, "inv", NULL);
    size_t inv = last_sent(t, 0, true, "INVITE ");
    size_t mark = t->count;
    b_answers(t, inv, 486);
    assert_int_equal(count_sent(t, mark, true, "ACK "), 1);
    size_t busy = last_sent(t, mark, false, "SIP/2.0 486");
    assert_true(strstr(t->sent[busy].text, "CSeq: 1 INVITE") != NULL);
    assert_int_equal(b2bua_call_count(t->b2bua), 0);
    a_sends(t, 1, "ACK", 1, "inv", NULL);
    /* Unacknowledged for a while it would be retransmitted: acknowledged, it is not. */
    loop_advance_ms(t->loop, 2000);
    assert_int_equal(count_sent(t, mark, false, "SIP/2.0 486"), 1);
}

static void test_b2bua_ring_timeout_cancels_b_and_answers_480(void **state)
{
    struct bench *t = *state;
    a_sends(t, 1, "INVITE", 1, "inv", NULL);
    size_t inv = last_sent(t, 0, true, "INVITE ");
    b_answers(t, inv, 180);
    size_t mark = t->count;
    loop_advance_ms(t->loop, 59000);
    assert_int_equal(count_sent(t, mark, false, "SIP/2.0 480"), 0);
    loop_advance_ms(t->loop, 1000);
    assert_int_equal(count_sent(t, mark, false, "SIP/2.0 480"), 1);
    size_t cancel = last_sent(t, mark, true, "CANCEL ");
    a_sends(t, 1, "ACK", 1, "inv", NULL);
    b_answers(t, cancel, 200);
    b_answers(t, inv, 487);
    assert_int_equal(b2bua_call_count(t->b2bua), 0);
}

static void test_b2bua_leg_b_timeout_answers_408(void **state)
{
    struct bench *t = *state;
    a_sends(t, 1, "INVITE", 1, "inv", NULL);
    /* Leg B never answers: timer A retransmits, timer B (64*T1) gives up. */
    loop_advance_ms(t->loop, 31999);
    assert_int_equal(count_sent(t, 0, true, "INVITE "), 7);
    assert_int_equal(count_sent(t, 0, false, "SIP/2.0 408"), 0);
    loop_advance_ms(t->loop, 101); /* timer B: at the coarse timers' next tick */
    assert_int_equal(count_sent(t, 0, false, "SIP/2.0 408"), 1);
    assert_int_equal(b2bua_call_count(t->b2bua), 0);
    a_sends(t, 1, "ACK", 1, "inv", NULL);
}

static void test_b2bua_reinvite_from_a_then_from_b(void **state)
{
    struct bench *t = *state;
    char tag[64];
    size_t inv = answered_call(t, 1, tag, sizeof(tag));
    size_t mark = t->count;
    a_sends(t, 1, "INVITE", 2, "reinv-a", tag);
    size_t re = last_sent(t, mark, true, "INVITE ");
    assert_int_equal(sent_cseq(t, re), 2);
    b_answers(t, re, 200);
    size_t ok = last_sent(t, mark, false, "SIP/2.0 200");
    assert_true(strstr(t->sent[ok].text, "CSeq: 2 INVITE") != NULL);
    a_sends(t, 1, "ACK", 2, "reack-a", tag);
    assert_int_equal(count_sent(t, mark, true, "ACK "), 1);
    mark = t->count;
    b_sends(t, inv, "INVITE", 1, "reinv-b");
    re = last_sent(t, mark, false, "INVITE ");
    assert_int_equal(sent_cseq(t, re), 1);
    a_answers(t, re, 200);
    assert_int_equal(count_sent(t, mark, true, "SIP/2.0 200"), 1);
    b_sends(t, inv, "ACK", 1, "reack-b");
    assert_int_equal(count_sent(t, mark, false, "ACK "), 1);
    assert_int_equal(b2bua_call_count(t->b2bua), 1);
    a_sends(t, 1, "BYE", 3, "bye", tag);
    b_answers(t, last_sent(t, mark, true, "BYE "), 200);
}

static void test_b2bua_reinvite_glare_gets_491(void **state)
{
    struct bench *t = *state;
    char tag[64];
    size_t inv = answered_call(t, 1, tag, sizeof(tag));
    size_t mark = t->count;
    a_sends(t, 1, "INVITE", 2, "reinv-a", tag);
    size_t re = last_sent(t, mark, true, "INVITE ");
    b_sends(t, inv, "INVITE", 1, "reinv-b"); /* crosses ours: RFC 3261 §14.2 */
    size_t glare = last_sent(t, mark, true, "SIP/2.0 491");
    assert_true(strstr(t->sent[glare].text, "CSeq: 1 INVITE") != NULL);
    assert_int_equal(count_sent(t, mark, false, "INVITE "), 0);
    b_sends(t, inv, "ACK", 1, "reinv-b"); /* its ACK of the 491: absorbed */
    b_answers(t, re, 200);
    a_sends(t, 1, "ACK", 2, "reack-a", tag);
    assert_int_equal(count_sent(t, mark, true, "ACK "), 1);
    b_sends(t, inv, "BYE", 2, "bbye");
    a_answers(t, last_sent(t, mark, false, "BYE "), 200);
}

static void test_b2bua_reinvite_refused_by_b_reaches_a_as_491(void **state)
{
    struct bench *t = *state;
    char tag[64];
    size_t inv = answered_call(t, 1, tag, sizeof(tag));
    size_t mark = t->count;
    a_sends(t, 1, "INVITE", 2, "reinv-a", tag);
    b_answers(t, last_sent(t, mark, true, "INVITE "), 491);
    assert_int_equal(count_sent(t, mark, true, "ACK "), 1); /* by leg B's transaction */
    size_t glare = last_sent(t, mark, false, "SIP/2.0 491");
    assert_true(strstr(t->sent[glare].text, "CSeq: 2 INVITE") != NULL);
    a_sends(t, 1, "ACK", 2, "reinv-a", tag); /* A's ACK of the 491: absorbed, not relayed */
    assert_int_equal(count_sent(t, mark, true, "ACK "), 1);
    /* The call goes on: a later re-INVITE is relayed again. */
    a_sends(t, 1, "INVITE", 3, "reinv-a2", tag);
    size_t again = last_sent(t, mark, true, "INVITE ");
    assert_int_equal(sent_cseq(t, again), 3);
    b_answers(t, again, 200);
    a_sends(t, 1, "ACK", 3, "reack-a2", tag);
    assert_int_equal(count_sent(t, mark, true, "ACK "), 2);
    b_sends(t, inv, "BYE", 2, "bbye");
    a_answers(t, last_sent(t, mark, false, "BYE "), 200);
}

static void test_b2bua_retransmitted_invite_is_absorbed(void **state)
{
    struct bench *t = *state;
    a_sends(t, 1, "INVITE", 1, "inv", NULL);
    a_sends(t, 1, "INVITE", 1, "inv", NULL);
    assert_int_equal(count_sent(t, 0, true, "INVITE "), 1);
    assert_int_equal(count_sent(t, 0, false, "SIP/2.0 100"), 2); /* the 100 again */
    assert_int_equal(b2bua_call_count(t->b2bua), 1);
    size_t inv = last_sent(t, 0, true, "INVITE ");
    b_answers(t, inv, 486);
    a_sends(t, 1, "ACK", 1, "inv", NULL);
}

static void test_b2bua_pool_full_answers_503_and_freed_slot_is_reused(void **state)
{
    struct bench *t = *state;
    a_sends(t, 1, "INVITE", 1, "inv", NULL);
    a_sends(t, 2, "INVITE", 1, "inv", NULL);
    assert_int_equal(b2bua_call_count(t->b2bua), 2);
    size_t mark = t->count;
    a_sends(t, 3, "INVITE", 1, "inv", NULL);
    assert_int_equal(count_sent(t, mark, false, "SIP/2.0 503"), 1);
    assert_int_equal(count_sent(t, mark, true, "INVITE "), 0);
    a_sends(t, 3, "ACK", 1, "inv", NULL);
    /* Call 1 is refused by B: nothing of it is in flight once its 486 is ACKed. */
    size_t first = 0;
    while (!sent_is(t, first, true, "INVITE ")) {
        first++;
    }
    b_answers(t, first, 486);
    a_sends(t, 1, "ACK", 1, "inv", NULL);
    /* Reusable at once: a new call does not wait for the ended one's settle timer. */
    mark = t->count;
    a_sends(t, 4, "INVITE", 1, "inv", NULL);
    assert_int_equal(count_sent(t, mark, false, "SIP/2.0 503"), 0);
    assert_int_equal(count_sent(t, mark, true, "INVITE "), 1);
    assert_int_equal(b2bua_call_count(t->b2bua), 2);
    b_answers(t, last_sent(t, mark, true, "INVITE "), 486);
    a_sends(t, 4, "ACK", 1, "inv", NULL);
    size_t second = first + 1;
    while (!sent_is(t, second, true, "INVITE ")) {
        second++;
    }
    b_answers(t, second, 486);
    a_sends(t, 2, "ACK", 1, "inv", NULL);
}

static void test_b2bua_pool_keeps_an_ended_call_with_a_bye_in_flight(void **state)
{
    struct bench *t = *state;
    char tag[64];
    (void)answered_call(t, 1, tag, sizeof(tag));
    a_sends(t, 2, "INVITE", 1, "inv", NULL);
    size_t second = last_sent(t, 0, true, "INVITE ");
    size_t mark = t->count;
    a_sends(t, 1, "BYE", 2, "bye", tag);
    size_t bye = last_sent(t, mark, true, "BYE ");
    /* Call 1 has ended but its BYE waits for leg B's answer: its slot is not free yet. */
    a_sends(t, 3, "INVITE", 1, "inv", NULL);
    assert_int_equal(count_sent(t, mark, false, "SIP/2.0 503"), 1);
    a_sends(t, 3, "ACK", 1, "inv", NULL);
    b_answers(t, bye, 200);
    mark = t->count;
    a_sends(t, 4, "INVITE", 1, "inv", NULL);
    assert_int_equal(count_sent(t, mark, false, "SIP/2.0 503"), 0);
    b_answers(t, last_sent(t, mark, true, "INVITE "), 486);
    a_sends(t, 4, "ACK", 1, "inv", NULL);
    b_answers(t, second, 486);
    a_sends(t, 2, "ACK", 1, "inv", NULL);
}

/*
 * RFC 3262 with a late offer: B's reliable 183 carries no SDP, A's PRACK offers and B's
 * 200 of the PRACK answers through rtpengine. B's 200 of the INVITE (no SDP) comes while
 * that answer is with rtpengine: it must reach A after the PRACK's 200, never before it
 * (A would see its INVITE answered with its PRACK's offer still open).
 */
static void test_b2bua_media_invite_2xx_waits_for_the_prack_answer(void **state)
{
    struct bench *t = *state;
    a_sends(t, 1, "INVITE", 1, "inv", NULL);
    size_t inv = last_sent(t, 0, true, "INVITE ");
    next_carries(t, "Require: 100rel\r\nRSeq: 7\r\n", NULL);
    b_answers(t, inv, 183);
    size_t early = last_sent(t, inv, false, "SIP/2.0 183");
    char tag[64];
    char rack[64];
    gw_tag_on_a(t, early, tag, sizeof(tag));
    rack_for(t, early, rack, sizeof(rack));
    next_carries(t, rack, SDP_OF(A_HOST, "4000"));
    a_sends(t, 1, "PRACK", 2, "prack", tag);
    engine_receives(t, "offer");
    engine_replies(t, SDP_OF(GW_HOST, "30000"));
    size_t prack = last_sent(t, early, true, "PRACK ");
    assert_non_null(strstr(t->sent[prack].text, "m=audio 30000 "));
    size_t mark = t->count;
    next_carries(t, NULL, SDP_OF(B_HOST, "6000"));
    b_answers(t, prack, 200);
    engine_receives(t, "answer");
    b_answers(t, inv, 200);
    assert_int_equal(count_sent(t, mark, false, "SIP/2.0 200"), 0);
    engine_replies(t, SDP_OF(GW_HOST, "30002"));
    assert_int_equal(count_sent(t, mark, false, "SIP/2.0 200"), 2);
    size_t first = mark;
    while (!sent_is(t, first, false, "SIP/2.0 200")) {
        first++;
    }
    assert_non_null(strstr(t->sent[first].text, "CSeq: 2 PRACK"));
    assert_non_null(strstr(t->sent[first].text, "m=audio 30002 "));
    size_t final = last_sent(t, mark, false, "SIP/2.0 200");
    assert_non_null(strstr(t->sent[final].text, "CSeq: 1 INVITE"));
    a_sends(t, 1, "ACK", 1, "ack", tag);
    assert_int_equal(count_sent(t, mark, true, "ACK "), 1);
    a_sends(t, 1, "BYE", 3, "bye", tag);
    b_answers(t, last_sent(t, mark, true, "BYE "), 200);
    engine_receives(t, "delete");
    engine_replies(t, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_b2bua_call_answered_then_bye_from_a, setup, teardown),
        cmocka_unit_test_setup_teardown(test_b2bua_call_answered_then_bye_from_b, setup, teardown),
        cmocka_unit_test_setup_teardown(test_b2bua_cancel_after_provisional_goes_to_b, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_b2bua_cancel_before_provisional_waits_for_one, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_b2bua_cancel_racing_200_acks_and_byes_leg_b, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_b2bua_busy_relayed_with_acks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_b2bua_ring_timeout_cancels_b_and_answers_480, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_b2bua_leg_b_timeout_answers_408, setup, teardown),
        cmocka_unit_test_setup_teardown(test_b2bua_reinvite_from_a_then_from_b, setup, teardown),
        cmocka_unit_test_setup_teardown(test_b2bua_reinvite_glare_gets_491, setup, teardown),
        cmocka_unit_test_setup_teardown(test_b2bua_reinvite_refused_by_b_reaches_a_as_491, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_b2bua_retransmitted_invite_is_absorbed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_b2bua_pool_full_answers_503_and_freed_slot_is_reused,
                                        setup_pool_of_two, teardown),
        cmocka_unit_test_setup_teardown(test_b2bua_media_invite_2xx_waits_for_the_prack_answer,
                                        setup_with_engine, teardown),
        cmocka_unit_test_setup_teardown(test_b2bua_pool_keeps_an_ended_call_with_a_bye_in_flight,
                                        setup_pool_of_two, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
