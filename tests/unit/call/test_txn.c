/*
 * The transaction layer (call/txn.c) against RFC 3261 §17 and RFC 6026, with a manual
 * clock (loop_advance_ms) and a fake transport that records every send: each timer from
 * A to K at its moment, every state of the four machines, retransmissions answered and
 * lost, reliable transports without retransmission timers, the Accepted state, the pool
 * limit and the matching rules.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "base/arena.h"
#include "base/err.h"
#include "call/txn.h"
#include "net/loop.h"
#include "sip/msg.h"
#include "support/unit.h"

#define MAX_SENDS 64

/* The fake transport: what was sent when, and an optional failure. */
struct wire {
    struct loop *loop;
    size_t count;
    uint64_t at_ms[MAX_SENDS];
    char first_line[MAX_SENDS][48];
    int fail_with; /* returned by the next send when nonzero */
};

/* What the transaction user saw. */
struct tu {
    size_t responses;
    uint16_t last_status;
    size_t timeouts;
    size_t terminated;
};

struct bench {
    struct loop *loop;
    struct wire wire;
    struct tu tu;
    struct txn_layer *layer;
    struct arena *arena;
    uint64_t start_ms;
    struct sip_msg msg;
};

static int fake_send(void *ctx, const struct net_dest *dst, struct sv data)
{
    (void)dst;
    struct wire *w = ctx;
    if (w->fail_with != 0) {
        int rc = w->fail_with;
        w->fail_with = 0;
        return rc;
    }
    assert_true(w->count < MAX_SENDS);
    w->at_ms[w->count] = loop_now_ms(w->loop);
    size_t len = (size_t)sv_find_char(data, '\r');
    len = len < sizeof(w->first_line[0]) - 1 ? len : sizeof(w->first_line[0]) - 1;
    memcpy(w->first_line[w->count], data.ptr, len);
    w->first_line[w->count][len] = '\0';
    w->count++;
    return 0;
}

static void on_response(void *user, struct txn *txn, struct sip_msg *response)
{
    (void)txn;
    struct tu *tu = user;
    tu->responses++;
    tu->last_status = response->status;
}

static void on_timeout(void *user, struct txn *txn)
{
    (void)txn;
    struct tu *tu = user;
    tu->timeouts++;
}

static void on_terminated(void *user, struct txn *txn)
{
    (void)txn;
    struct tu *tu = user;
    tu->terminated++;
}

static const struct txn_user_ops tu_ops = {
    .on_response = on_response,
    .on_timeout = on_timeout,
    .on_terminated = on_terminated,
};

static int bench_setup(void **state)
{
    struct bench *b = calloc(1, sizeof(*b));
    assert_non_null(b);
    b->loop = loop_new(64, NULL, NULL);
    assert_non_null(b->loop);
    b->wire.loop = b->loop;
    b->layer = txn_layer_new_on(b->loop, fake_send, &b->wire, 4, &tu_ops);
    assert_non_null(b->layer);
    b->arena = arena_new((size_t)64 * 1024);
    assert_non_null(b->arena);
    b->start_ms = loop_now_ms(b->loop);
    *state = b;
    return 0;
}

static int bench_teardown(void **state)
{
    struct bench *b = *state;
    /* Every test ends with the pool empty and no timer left behind. */
    assert_int_equal(txn_layer_count(b->layer), 0);
    assert_int_equal(loop_timer_count(b->loop), 0);
    txn_layer_free(b->layer);
    arena_free(b->arena);
    loop_free(b->loop);
    free(b);
    return 0;
}

/* The moment of send `i`, relative to the start of the test. */
static uint64_t sent_at(const struct bench *b, size_t i)
{
    assert_true(i < b->wire.count);
    return b->wire.at_ms[i] - b->start_ms;
}

static struct net_dest dest(enum sw_transport transport)
{
    struct net_dest d = { .transport = transport, .listener = SIZE_MAX };
    assert_true(sw_sockaddr_parse(SV("192.0.2.20:5060"), 5060, &d.addr));
    return d;
}

#define BRANCH "z9hG4bK-txn-test-1"

static char text[2048];

static const char *request_text(const char *method, const char *via_transport, const char *branch)
{
    (void)snprintf(text, sizeof(text),
                   "%s sip:100@192.0.2.20 SIP/2.0\r\n"
                   "Via: SIP/2.0/%s 198.51.100.7:5060;branch=%s\r\n"
                   "Max-Forwards: 70\r\n"
                   "From: <sip:200@198.51.100.7>;tag=f1\r\n"
                   "To: <sip:100@192.0.2.20>\r\n"
                   "Call-ID: txn-1@198.51.100.7\r\n"
                   "CSeq: 1 %s\r\n"
                   "Content-Length: 0\r\n\r\n",
                   method, via_transport, branch, method);
    return text;
}

static const char *response_text(uint16_t status, const char *method)
{
    (void)snprintf(text, sizeof(text),
                   "SIP/2.0 %u Whatever\r\n"
                   "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=" BRANCH "\r\n"
                   "From: <sip:200@198.51.100.7>;tag=f1\r\n"
                   "To: <sip:100@192.0.2.20>;tag=t9\r\n"
                   "Call-ID: txn-1@198.51.100.7\r\n"
                   "CSeq: 1 %s\r\n"
                   "Content-Length: 0\r\n\r\n",
                   status, method);
    return text;
}

/* Parses `raw` into b->msg (the arena is reset: one message at a time). */
static struct sip_msg *parse(struct bench *b, const char *raw)
{
    struct sip_limits limits;
    sip_limits_default(&limits);
    struct sip_err err = { 0 };
    arena_reset(b->arena);
    assert_int_equal(sip_msg_parse(sv_from_cstr(raw), false, &limits, b->arena, &b->msg, &err), 0);
    return &b->msg;
}

static struct txn *client_new(struct bench *b, enum sip_method method, const char *name,
                              enum sw_transport transport)
{
    struct net_dest d = dest(transport);
    const char *raw = request_text(name, transport == SW_TRANSPORT_UDP ? "UDP" : "TCP", BRANCH);
    struct txn *txn = txn_client_new(b->layer, method, SV(BRANCH), &d, sv_from_cstr(raw), &b->tu);
    assert_non_null(txn);
    return txn;
}

/* Delivers a response to the client transaction it belongs to; returns delivery. */
static bool client_gets(struct bench *b, uint16_t status, const char *method)
{
    struct sip_msg *msg = parse(b, response_text(status, method));
    struct txn *txn = txn_client_find(b->layer, msg);
    assert_non_null(txn);
    return txn_client_receive(txn, msg);
}

static struct txn *server_new(struct bench *b, const char *method, enum sw_transport transport)
{
    struct sip_msg *msg =
        parse(b, request_text(method, transport == SW_TRANSPORT_UDP ? "UDP" : "TCP", BRANCH));
    assert_null(txn_server_find(b->layer, msg));
    struct net_dest d = dest(transport);
    struct txn *txn = txn_server_new(b->layer, msg, &d, &b->tu);
    assert_non_null(txn);
    return txn;
}

/* A retransmission (or ACK) of the server transaction's request; returns absorption. */
static bool server_gets(struct bench *b, const char *method)
{
    struct sip_msg *msg = parse(b, request_text(method, "UDP", BRANCH));
    struct txn *txn = txn_server_find(b->layer, msg);
    assert_non_null(txn);
    return txn_server_absorb(txn, msg);
}

static struct sv response_bytes(uint16_t status, const char *method)
{
    return sv_from_cstr(response_text(status, method));
}

/* ---- client INVITE (§17.1.1) ------------------------------------------------------ */

static void test_txn_client_invite_timer_a_doubles_then_timer_b_times_out(void **state)
{
    struct bench *b = *state;
    struct txn *txn = client_new(b, SIP_METHOD_INVITE, "INVITE", SW_TRANSPORT_UDP);
    assert_int_equal(txn_state(txn), TXN_CALLING);
    /* Every request lost: timer A at T1, 2T1, 4T1, ... without cap (§17.1.1.2). */
    loop_advance_ms(b->loop, 31999);
    static const uint64_t expected[] = { 0, 500, 1500, 3500, 7500, 15500, 31500 };
    assert_int_equal(b->wire.count, 7);
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(sent_at(b, i), expected[i]);
        assert_string_equal(b->wire.first_line[i], "INVITE sip:100@192.0.2.20 SIP/2.0");
    }
    assert_int_equal(b->tu.timeouts, 0);
    /* Timer B = 64*T1: the TU hears a timeout and the transaction ends (at the coarse
     * timers' next tick at most 100 ms later). */
    loop_advance_ms(b->loop, 101);
    assert_int_equal(b->tu.timeouts, 1);
    assert_int_equal(b->tu.terminated, 1);
    assert_int_equal(b->wire.count, 7);
}

static void test_txn_client_invite_provisional_stops_retransmission(void **state)
{
    struct bench *b = *state;
    struct txn *txn = client_new(b, SIP_METHOD_INVITE, "INVITE", SW_TRANSPORT_UDP);
    loop_advance_ms(b->loop, 600); /* the first request was lost: one retransmission */
    assert_int_equal(b->wire.count, 2);
    assert_true(client_gets(b, 180, "INVITE"));
    assert_int_equal(txn_state(txn), TXN_PROCEEDING);
    assert_int_equal(b->tu.last_status, 180);
    /* Proceeding: neither timer A nor B; the TU's ringing timeout governs. */
    loop_advance_ms(b->loop, 60000);
    assert_int_equal(b->wire.count, 2);
    assert_int_equal(b->tu.timeouts, 0);
    assert_true(client_gets(b, 200, "INVITE"));
    assert_int_equal(b->tu.responses, 2);
    /* A 2xx ends the client transaction at once; the TU ACKs end to end (§17.1.1.2). */
    loop_advance_ms(b->loop, 1);
    assert_int_equal(b->tu.terminated, 1);
}

static void test_txn_client_invite_final_error_acks_and_timer_d_absorbs(void **state)
{
    struct bench *b = *state;
    struct txn *txn = client_new(b, SIP_METHOD_INVITE, "INVITE", SW_TRANSPORT_UDP);
    assert_true(client_gets(b, 486, "INVITE"));
    assert_int_equal(txn_state(txn), TXN_COMPLETED);
    assert_int_equal(b->tu.last_status, 486);
    /* §17.1.1.3: the ACK goes out at once, with the INVITE's branch and the response's To. */
    assert_int_equal(b->wire.count, 2);
    assert_string_equal(b->wire.first_line[1], "ACK sip:100@192.0.2.20 SIP/2.0");
    /* Our ACK was lost: the retransmitted 486 is absorbed and gets the ACK again. */
    loop_advance_ms(b->loop, 2000);
    assert_false(client_gets(b, 486, "INVITE"));
    assert_int_equal(b->tu.responses, 1);
    assert_int_equal(b->wire.count, 3);
    assert_string_equal(b->wire.first_line[2], "ACK sip:100@192.0.2.20 SIP/2.0");
    /* Timer D: 32 s on UDP, then Terminated, without a timeout. */
    loop_advance_ms(b->loop, 29999);
    assert_int_equal(b->tu.terminated, 0);
    loop_advance_ms(b->loop, 101);
    assert_int_equal(b->tu.terminated, 1);
    assert_int_equal(b->tu.timeouts, 0);
}

static void test_txn_client_invite_reliable_has_no_retransmission_and_d_zero(void **state)
{
    struct bench *b = *state;
    struct txn *txn = client_new(b, SIP_METHOD_INVITE, "INVITE", SW_TRANSPORT_TCP);
    loop_advance_ms(b->loop, 31000);
    assert_int_equal(b->wire.count, 1); /* no timer A on a reliable transport */
    assert_true(client_gets(b, 603, "INVITE"));
    assert_int_equal(txn_state(txn), TXN_COMPLETED);
    assert_int_equal(b->wire.count, 2); /* the ACK */
    loop_advance_ms(b->loop, 1);        /* timer D = 0 */
    assert_int_equal(b->tu.terminated, 1);
}

static void test_txn_client_invite_reliable_timer_b_still_applies(void **state)
{
    struct bench *b = *state;
    (void)client_new(b, SIP_METHOD_INVITE, "INVITE", SW_TRANSPORT_TCP);
    loop_advance_ms(b->loop, 32100);
    assert_int_equal(b->wire.count, 1);
    assert_int_equal(b->tu.timeouts, 1);
    assert_int_equal(b->tu.terminated, 1);
}

/* ---- client non-INVITE (§17.1.2) -------------------------------------------------- */

static void test_txn_client_non_invite_timer_e_caps_at_t2_then_timer_f(void **state)
{
    struct bench *b = *state;
    struct txn *txn = client_new(b, SIP_METHOD_OPTIONS, "OPTIONS", SW_TRANSPORT_UDP);
    assert_int_equal(txn_state(txn), TXN_TRYING);
    loop_advance_ms(b->loop, 31999);
    /* Timer E: T1, 2T1, 4T1, then every T2 (§17.1.2.2). */
    static const uint64_t expected[] = { 0,     500,   1500,  3500,  7500, 11500,
                                         15500, 19500, 23500, 27500, 31500 };
    assert_int_equal(b->wire.count, 11);
    for (size_t i = 0; i < 11; i++) {
        assert_int_equal(sent_at(b, i), expected[i]);
    }
    loop_advance_ms(b->loop, 101); /* timer F */
    assert_int_equal(b->tu.timeouts, 1);
    assert_int_equal(b->tu.terminated, 1);
}

static void test_txn_client_non_invite_proceeding_retransmits_every_t2(void **state)
{
    struct bench *b = *state;
    struct txn *txn = client_new(b, SIP_METHOD_REGISTER, "REGISTER", SW_TRANSPORT_UDP);
    assert_true(client_gets(b, 100, "REGISTER"));
    assert_int_equal(txn_state(txn), TXN_PROCEEDING);
    loop_advance_ms(b->loop, 8000);
    /* Timer E keeps running in Proceeding, at T2 after the pending one (500). */
    assert_int_equal(b->wire.count, 3);
    assert_int_equal(sent_at(b, 1), 500);
    assert_int_equal(sent_at(b, 2), 4500);
    assert_true(client_gets(b, 200, "REGISTER"));
    assert_int_equal(txn_state(txn), TXN_COMPLETED);
    /* Completed: a retransmitted final is absorbed, nothing is sent. */
    assert_false(client_gets(b, 200, "REGISTER"));
    assert_int_equal(b->tu.responses, 2);
    /* Timer K = T4 on UDP. */
    loop_advance_ms(b->loop, 4999);
    assert_int_equal(b->tu.terminated, 0);
    loop_advance_ms(b->loop, 101);
    assert_int_equal(b->tu.terminated, 1);
    assert_int_equal(b->wire.count, 3);
}

static void test_txn_client_non_invite_reliable_timer_k_zero(void **state)
{
    struct bench *b = *state;
    (void)client_new(b, SIP_METHOD_BYE, "BYE", SW_TRANSPORT_TCP);
    loop_advance_ms(b->loop, 10000);
    assert_int_equal(b->wire.count, 1); /* no timer E */
    assert_true(client_gets(b, 200, "BYE"));
    loop_advance_ms(b->loop, 1);
    assert_int_equal(b->tu.terminated, 1);
}

static void test_txn_client_send_failure_gives_no_transaction(void **state)
{
    struct bench *b = *state;
    struct net_dest d = dest(SW_TRANSPORT_UDP);
    b->wire.fail_with = -ENETUNREACH;
    assert_null(txn_client_new(b->layer, SIP_METHOD_OPTIONS, SV(BRANCH), &d,
                               sv_from_cstr(request_text("OPTIONS", "UDP", BRANCH)), &b->tu));
    assert_int_equal(b->tu.terminated, 0); /* the TU never owned it */
}

/* ---- server INVITE (§17.2.1, RFC 6026) -------------------------------------------- */

static void test_txn_server_invite_error_timer_g_then_h(void **state)
{
    struct bench *b = *state;
    struct txn *txn = server_new(b, "INVITE", SW_TRANSPORT_UDP);
    assert_int_equal(txn_state(txn), TXN_PROCEEDING);
    /* A retransmitted INVITE before any response: absorbed, nothing to resend. */
    assert_true(server_gets(b, "INVITE"));
    assert_int_equal(b->wire.count, 0);
    assert_int_equal(txn_server_respond(txn, 180, response_bytes(180, "INVITE")), 0);
    assert_true(server_gets(b, "INVITE"));
    assert_int_equal(b->wire.count, 2); /* the 180 again */
    assert_int_equal(txn_server_respond(txn, 486, response_bytes(486, "INVITE")), 0);
    assert_int_equal(txn_state(txn), TXN_COMPLETED);
    /* Every 486 lost: timer G at T1, 2T1, 4T1, then T2 (§17.2.1). */
    loop_advance_ms(b->loop, 31999);
    static const uint64_t expected[] = { 500,   1500,  3500,  7500,  11500,
                                         15500, 19500, 23500, 27500, 31500 };
    assert_int_equal(b->wire.count, 3 + 10);
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(sent_at(b, 3 + i), expected[i]);
        assert_string_equal(b->wire.first_line[3 + i], "SIP/2.0 486 Whatever");
    }
    /* Timer H: the ACK never came; the transaction ends (the TU is not told: no ACK
     * after an error is the peer's problem, not a dialog's). */
    loop_advance_ms(b->loop, 101);
    assert_int_equal(b->tu.terminated, 1);
    assert_int_equal(b->tu.timeouts, 0);
}

static void test_txn_server_invite_ack_confirms_and_timer_i_absorbs(void **state)
{
    struct bench *b = *state;
    struct txn *txn = server_new(b, "INVITE", SW_TRANSPORT_UDP);
    assert_int_equal(txn_server_respond(txn, 404, response_bytes(404, "INVITE")), 0);
    loop_advance_ms(b->loop, 600); /* one G retransmission */
    assert_int_equal(b->wire.count, 2);
    assert_true(server_gets(b, "ACK"));
    assert_int_equal(txn_state(txn), TXN_CONFIRMED);
    /* Confirmed: G stopped, retransmitted ACKs absorbed for timer I = T4. */
    loop_advance_ms(b->loop, 4000);
    assert_true(server_gets(b, "ACK"));
    assert_int_equal(b->wire.count, 2);
    assert_int_equal(b->tu.terminated, 0);
    loop_advance_ms(b->loop, 1100);
    assert_int_equal(b->tu.terminated, 1);
}

static void test_txn_server_invite_accepted_retransmits_2xx_until_acked(void **state)
{
    struct bench *b = *state;
    struct txn *txn = server_new(b, "INVITE", SW_TRANSPORT_UDP);
    assert_int_equal(txn_server_respond(txn, 200, response_bytes(200, "INVITE")), 0);
    /* RFC 6026 §7.1: Accepted; the 2xx goes again on each retransmitted INVITE and on
     * the timer until the TU reports the ACK. */
    assert_int_equal(txn_state(txn), TXN_ACCEPTED);
    assert_true(server_gets(b, "INVITE"));
    assert_int_equal(b->wire.count, 2);
    loop_advance_ms(b->loop, 1600);
    assert_int_equal(b->wire.count, 4); /* at 500 and 1500 */
    assert_string_equal(b->wire.first_line[3], "SIP/2.0 200 Whatever");
    /* Responding again in Accepted is refused: one final per transaction. */
    assert_int_equal(txn_server_respond(txn, 486, response_bytes(486, "INVITE")), -SW_EBADARG);
    txn_server_acked(txn);
    assert_int_equal(txn_state(txn), TXN_TERMINATED);
    loop_advance_ms(b->loop, 4000);
    assert_int_equal(b->wire.count, 4); /* no more 2xx */
    /* It lingers T4 so a late INVITE retransmission still finds its 2xx. */
    assert_true(server_gets(b, "INVITE"));
    assert_int_equal(b->wire.count, 5);
    loop_advance_ms(b->loop, 1100);
    assert_int_equal(b->tu.terminated, 1);
    assert_int_equal(b->tu.timeouts, 0);
}

static void test_txn_server_invite_accepted_without_ack_times_out(void **state)
{
    struct bench *b = *state;
    struct txn *txn = server_new(b, "INVITE", SW_TRANSPORT_UDP);
    assert_int_equal(txn_server_respond(txn, 200, response_bytes(200, "INVITE")), 0);
    /* Timer L (64*T1): the ACK never came; the TU ends the dialog (§13.3.1.4). */
    loop_advance_ms(b->loop, 32100);
    assert_int_equal(b->tu.timeouts, 1);
    assert_int_equal(b->tu.terminated, 1);
    assert_true(b->wire.count > 5);
}

static void test_txn_server_invite_reliable_no_timer_g_and_i_zero(void **state)
{
    struct bench *b = *state;
    struct txn *txn = server_new(b, "INVITE", SW_TRANSPORT_TCP);
    assert_int_equal(txn_server_respond(txn, 486, response_bytes(486, "INVITE")), 0);
    loop_advance_ms(b->loop, 10000);
    assert_int_equal(b->wire.count, 1); /* no timer G */
    assert_true(server_gets(b, "ACK"));
    assert_int_equal(txn_state(txn), TXN_CONFIRMED);
    loop_advance_ms(b->loop, 1); /* timer I = 0 */
    assert_int_equal(b->tu.terminated, 1);
}

static void test_txn_server_invite_never_answered_ends(void **state)
{
    struct bench *b = *state;
    (void)server_new(b, "INVITE", SW_TRANSPORT_UDP);
    /* A TU that never answers must not hold the slot forever (5 minutes). */
    loop_advance_ms(b->loop, (uint64_t)5 * 60 * 1000 + 100);
    assert_int_equal(b->tu.terminated, 1);
    assert_int_equal(b->wire.count, 0);
}

/* ---- server non-INVITE (§17.2.2) -------------------------------------------------- */

/* A retransmitted request answered by a lingering record: true when it was. */
static bool lingering_gets(struct bench *b, const char *method)
{
    struct sip_msg *msg = parse(b, request_text(method, "UDP", BRANCH));
    assert_null(txn_server_find(b->layer, msg));
    return txn_server_absorb_lingering(b->layer, msg);
}

static void test_txn_server_non_invite_states_and_timer_j(void **state)
{
    struct bench *b = *state;
    struct txn *txn = server_new(b, "REGISTER", SW_TRANSPORT_UDP);
    assert_int_equal(txn_state(txn), TXN_TRYING);
    assert_true(server_gets(b, "REGISTER")); /* Trying: retransmissions absorbed silently */
    assert_int_equal(b->wire.count, 0);
    assert_int_equal(txn_server_respond(txn, 100, response_bytes(100, "REGISTER")), 0);
    assert_int_equal(txn_state(txn), TXN_PROCEEDING);
    assert_true(server_gets(b, "REGISTER"));
    assert_int_equal(b->wire.count, 2);
    assert_string_equal(b->wire.first_line[1], "SIP/2.0 100 Whatever");
    struct sv final = response_bytes(200, "REGISTER");
    assert_int_equal(txn_server_respond(txn, 200, final), 0);
    assert_int_equal(txn_state(txn), TXN_COMPLETED);
    assert_true(server_gets(b, "REGISTER")); /* until the record takes over */
    assert_int_equal(b->wire.count, 4);
    /* Completed: the pool slot is freed and the TU told; a compact record holds the key
       and the final response, and answers retransmissions with it. */
    loop_advance_ms(b->loop, 200);
    assert_int_equal(b->tu.terminated, 1);
    assert_int_equal(txn_layer_count(b->layer), 0);
    size_t bytes = 0;
    assert_int_equal(txn_layer_lingering(b->layer, &bytes), 1);
    assert_true(bytes >= final.len + strlen(BRANCH));
    assert_true(bytes < final.len + strlen(BRANCH) + 256);
    /* No timer retransmits a non-INVITE final; a retransmitted request gets it. */
    loop_advance_ms(b->loop, 10000);
    assert_int_equal(b->wire.count, 4);
    assert_true(lingering_gets(b, "REGISTER"));
    assert_int_equal(b->wire.count, 5);
    assert_string_equal(b->wire.first_line[4], "SIP/2.0 200 Whatever");
    /* Another method with the same branch is another transaction. */
    assert_false(lingering_gets(b, "OPTIONS"));
    /* Timer J = 64*T1 on UDP (the coarse timers may add up to 200 ms). */
    loop_advance_ms(b->loop, 21000);
    assert_int_equal(txn_layer_lingering(b->layer, NULL), 1);
    loop_advance_ms(b->loop, 1300);
    assert_int_equal(txn_layer_lingering(b->layer, &bytes), 0);
    assert_int_equal(bytes, 0);
    assert_false(lingering_gets(b, "REGISTER"));
    assert_int_equal(b->wire.count, 5);
}

static void test_txn_server_non_invite_reliable_timer_j_zero(void **state)
{
    struct bench *b = *state;
    struct txn *txn = server_new(b, "OPTIONS", SW_TRANSPORT_TCP);
    assert_int_equal(txn_server_respond(txn, 200, response_bytes(200, "OPTIONS")), 0);
    loop_advance_ms(b->loop, 1);
    assert_int_equal(b->tu.terminated, 1);
}

/* ---- matching and the pool -------------------------------------------------------- */

static void test_txn_matching_rules(void **state)
{
    struct bench *b = *state;
    struct txn *invite = server_new(b, "INVITE", SW_TRANSPORT_UDP);
    /* §17.2.3: the ACK and a CANCEL find the INVITE by branch and sent-by. */
    struct sip_msg *msg = parse(b, request_text("ACK", "UDP", BRANCH));
    assert_ptr_equal(txn_server_find(b->layer, msg), invite);
    msg = parse(b, request_text("CANCEL", "UDP", BRANCH));
    assert_null(txn_server_find(b->layer, msg)); /* a CANCEL is its own transaction */
    assert_ptr_equal(txn_server_find_invite(b->layer, msg), invite);
    /* Another branch, or the same branch from another sent-by, is another transaction. */
    msg = parse(b, request_text("INVITE", "UDP", "z9hG4bK-other"));
    assert_null(txn_server_find(b->layer, msg));
    char other[2048];
    (void)snprintf(other, sizeof(other), "%s", request_text("INVITE", "UDP", BRANCH));
    char *host = strstr(other, "198.51.100.7:5060;branch");
    assert_non_null(host);
    memcpy(host, "198.51.100.8", 12);
    msg = parse(b, other);
    assert_null(txn_server_find(b->layer, msg));
    /* A branch without the RFC 3261 cookie makes no transaction (RFC 2543 peers). */
    msg = parse(b, request_text("OPTIONS", "UDP", "abc123"));
    struct net_dest d = dest(SW_TRANSPORT_UDP);
    assert_null(txn_server_new(b->layer, msg, &d, &b->tu));
    /* A response matches a client transaction by branch and CSeq method only. */
    struct txn *client = client_new(b, SIP_METHOD_OPTIONS, "OPTIONS", SW_TRANSPORT_UDP);
    msg = parse(b, response_text(200, "OPTIONS"));
    assert_ptr_equal(txn_client_find(b->layer, msg), client);
    msg = parse(b, response_text(200, "REGISTER"));
    assert_null(txn_client_find(b->layer, msg));
    assert_int_equal(txn_server_respond(invite, 500, response_bytes(500, "INVITE")), 0);
    assert_true(client_gets(b, 200, "OPTIONS"));
    loop_advance_ms(b->loop, 40000);
    assert_int_equal(b->tu.terminated, 2);
}

static void test_txn_pool_full_then_reusable_at_once(void **state)
{
    struct bench *b = *state;
    struct net_dest d = dest(SW_TRANSPORT_TCP);
    struct txn *txns[4];
    char branch[4][32];
    for (size_t i = 0; i < 4; i++) {
        (void)snprintf(branch[i], sizeof(branch[i]), "z9hG4bK-pool-%zu", i);
        txns[i] = txn_client_new(b->layer, SIP_METHOD_OPTIONS, sv_from_cstr(branch[i]), &d,
                                 sv_from_cstr(request_text("OPTIONS", "TCP", branch[i])), &b->tu);
        assert_non_null(txns[i]);
    }
    assert_int_equal(txn_layer_count(b->layer), 4);
    /* Full: the caller answers 503. */
    assert_null(txn_client_new(b->layer, SIP_METHOD_OPTIONS, SV("z9hG4bK-pool-x"), &d,
                               sv_from_cstr(request_text("OPTIONS", "TCP", "z9hG4bK-pool-x")),
                               &b->tu));
    struct sip_msg *msg = parse(b, request_text("OPTIONS", "UDP", "z9hG4bK-srv"));
    assert_null(txn_server_new(b->layer, msg, &d, &b->tu));
    /* A finished one frees its slot for the next request at once. */
    txn_detach(txns[0]);
    char resp[2048];
    (void)snprintf(resp, sizeof(resp),
                   "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 198.51.100.7:5060;branch=%s\r\n"
                   "From: <sip:200@198.51.100.7>;tag=f1\r\nTo: <sip:100@192.0.2.20>;tag=t9\r\n"
                   "Call-ID: txn-1@198.51.100.7\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
                   branch[0]);
    msg = parse(b, resp);
    assert_ptr_equal(txn_client_find(b->layer, msg), txns[0]);
    assert_true(txn_client_receive(txns[0], msg));
    loop_advance_ms(b->loop, 1); /* timer K = 0 on TCP */
    assert_int_equal(txn_layer_count(b->layer), 3);
    assert_int_equal(b->tu.responses, 0); /* detached: no callback */
    msg = parse(b, request_text("OPTIONS", "UDP", "z9hG4bK-srv"));
    struct txn *reused = txn_server_new(b->layer, msg, &d, &b->tu);
    assert_non_null(reused);
    assert_int_equal(txn_server_respond(reused, 200, response_bytes(200, "OPTIONS")), 0);
    loop_advance_ms(b->loop, 32100); /* B/F of the others; J = 0 */
    assert_int_equal(txn_layer_count(b->layer), 0);
}

#define TXN_TEST(fn) cmocka_unit_test_setup_teardown(fn, bench_setup, bench_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TXN_TEST(test_txn_client_invite_timer_a_doubles_then_timer_b_times_out),
        TXN_TEST(test_txn_client_invite_provisional_stops_retransmission),
        TXN_TEST(test_txn_client_invite_final_error_acks_and_timer_d_absorbs),
        TXN_TEST(test_txn_client_invite_reliable_has_no_retransmission_and_d_zero),
        TXN_TEST(test_txn_client_invite_reliable_timer_b_still_applies),
        TXN_TEST(test_txn_client_non_invite_timer_e_caps_at_t2_then_timer_f),
        TXN_TEST(test_txn_client_non_invite_proceeding_retransmits_every_t2),
        TXN_TEST(test_txn_client_non_invite_reliable_timer_k_zero),
        TXN_TEST(test_txn_client_send_failure_gives_no_transaction),
        TXN_TEST(test_txn_server_invite_error_timer_g_then_h),
        TXN_TEST(test_txn_server_invite_ack_confirms_and_timer_i_absorbs),
        TXN_TEST(test_txn_server_invite_accepted_retransmits_2xx_until_acked),
        TXN_TEST(test_txn_server_invite_accepted_without_ack_times_out),
        TXN_TEST(test_txn_server_invite_reliable_no_timer_g_and_i_zero),
        TXN_TEST(test_txn_server_invite_never_answered_ends),
        TXN_TEST(test_txn_server_non_invite_states_and_timer_j),
        TXN_TEST(test_txn_server_non_invite_reliable_timer_j_zero),
        TXN_TEST(test_txn_matching_rules),
        TXN_TEST(test_txn_pool_full_then_reusable_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
