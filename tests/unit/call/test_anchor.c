/*
 * Anchoring sessions against a fake rtpengine: what an offer, an answer, a re-INVITE from
 * the callee and the end of a call ask of rtpengine (tags, flags, pinning to the server
 * that answered the first offer, delete only for calls rtpengine knows), one request in
 * flight per session, cancel, and the weak a=crypto lines of rtpengine's SDP removed; the
 * packet count of a session (query) beside its offers, and what a bad count answer gives;
 * what a [media] reload reads: when an anchor is idle, and when two settings are the same.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/addr.h"
#include "base/err.h"
#include "call/anchor.h"
#include "call/bencode.h"
#include "net/loop.h"
#include "ng_peer.h"
#include "support/unit.h"

#define BUDGET_MS 5000

struct result {
    int calls;
    int status;
    char sdp[256];
};

static void on_done(void *ctx, int status, struct sv sdp)
{
    struct result *r = ctx;
    r->calls++;
    r->status = status;
    (void)sv_copy_cstr(sdp.ptr != NULL ? sdp : SV(""), r->sdp, sizeof(r->sdp));
}

struct setup {
    struct loop *loop;
    struct peer peers[2];
    struct anchor *anchor;
};

static void setup_open(struct setup *s, size_t servers, bool is_pass)
{
    s->loop = loop_new(16, NULL, NULL);
    assert_non_null(s->loop);
    struct anchor_settings settings = { .engines = { .server_count = servers,
                                                     .retransmit_ms = 2000 },
                                        .is_pass_when_unreachable = is_pass };
    for (size_t i = 0; i < servers; i++) {
        peer_open(&s->peers[i]);
        settings.engines.servers[i].addr = s->peers[i].addr;
    }
    int err = 0;
    s->anchor = anchor_new(s->loop, &settings, &err);
    assert_int_equal(err, 0);
    assert_non_null(s->anchor);
    assert_true(anchor_passes_unreachable(s->anchor) == is_pass);
}

static void setup_close(struct setup *s, size_t servers)
{
    assert_int_equal(rtpengine_pending(anchor_client(s->anchor)), 0);
    anchor_free(s->anchor);
    for (size_t i = 0; i < servers; i++) {
        peer_close(&s->peers[i]);
    }
    loop_free(s->loop);
}

static void assert_str(const struct peer *p, const char *key, const char *want)
{
    struct sv got = bencode_dict_str(&p->doc, 0, sv_from_cstr(key));
    if (want == NULL) {
        assert_null(got.ptr);
        return;
    }
    if (!sv_eq(got, sv_from_cstr(want))) {
        fail_msg("%s: got '" SV_FMT "', want '%s'", key, SV_ARG(got), want);
    }
}

/* The list `key` of the request holds `want` (count items, in order). */
static void assert_list(const struct peer *p, const char *key, const char *const *want,
                        size_t count)
{
    uint32_t list = bencode_dict_get(&p->doc, 0, sv_from_cstr(key));
    assert_true(list != BENCODE_NONE);
    assert_int_equal(p->doc.nodes[list].count, count);
    uint32_t item = bencode_first(&p->doc, list);
    for (size_t i = 0; i < count; i++) {
        assert_true(sv_eq(p->doc.nodes[item].str, sv_from_cstr(want[i])));
        item = p->doc.nodes[item].next;
    }
}

/* Answers the peer's last request and runs the loop until `r` got its callback. */
static void answer_and_wait(struct setup *s, struct peer *p, const char *dict, struct result *r)
{
    peer_answer(p, p->cookie, dict);
    uint64_t end = sw_mono_ms() + BUDGET_MS;
    while (r->calls == 0 && sw_mono_ms() < end) {
        assert_true(loop_run_once(s->loop, 10) >= 0);
    }
    assert_int_equal(r->calls, 1);
}

/* The caller's first offer, to a leg that needs SRTP, and rtpengine's answer to it. */
static void first_offer_to_srtp(struct setup *s, struct peer *p, struct anchor_session *session)
{
    struct result r = { 0 };
    struct anchor_leg to_provider = { .transport_protocol = SV("RTP/SAVP") };
    assert_int_equal(anchor_offer(session, ANCHOR_CALLER, SV("v=0\r\n"), &to_provider, on_done, &r),
                     0);
    assert_int_equal(anchor_offer(session, ANCHOR_CALLER, SV("v=0\r\n"), NULL, on_done, &r),
                     -EALREADY);
    assert_true(peer_recv(p, s->loop, BUDGET_MS));
    assert_str(p, "command", "offer");
    assert_str(p, "call-id", "b-leg-call-id@gw");
    assert_str(p, "from-tag", "caller");
    assert_str(p, "to-tag", NULL);
    assert_str(p, "ICE", "remove");
    assert_str(p, "transport-protocol", "RTP/SAVP");
    static const char *const flags[] = { "trust-address", "strict-source" };
    static const char *const replace[] = { "origin", "session-connection" };
    assert_list(p, "flags", flags, 2);
    assert_list(p, "replace", replace, 2);
    /* rtpengine's weak SDES offers do not reach the callback. */
    const char *relayed = "v=0\r\nm=audio 4 RTP/SAVP 0\r\n"
                          "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:YWJj\r\n"
                          "a=crypto:2 NULL_HMAC_SHA1_80 inline:YWJj\r\n"
                          "a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:YWJj\r\n";
    char dict[512];
    (void)snprintf(dict, sizeof(dict), "d6:result2:ok3:sdp%zu:%se", strlen(relayed), relayed);
    answer_and_wait(s, p, dict, &r);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.sdp, "v=0\r\nm=audio 4 RTP/SAVP 0\r\n"
                               "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:YWJj\r\n");
    assert_true(session->is_created);
    assert_int_equal(session->server, 0);
}

static void test_a_call_offer_answer_reinvite_end(void **state)
{
    (void)state;
    struct setup s;
    setup_open(&s, 1, false);
    struct peer *p = &s.peers[0];
    struct anchor_session session;
    anchor_session_init(s.anchor, &session, SV("b-leg-call-id@gw"));
    assert_int_equal(session.server, RTPENGINE_ANY_SERVER);

    first_offer_to_srtp(&s, p, &session);
    struct result r = { 0 };

    /* The callee's answer: the offerer in from-tag, the answerer in to-tag. */
    r = (struct result){ 0 };
    struct anchor_leg to_pbx = { .transport_protocol = SV("RTP/AVP") };
    assert_int_equal(anchor_answer(&session, ANCHOR_CALLEE, SV("v=0\r\n"), &to_pbx, on_done, &r),
                     0);
    assert_true(peer_recv(p, s.loop, BUDGET_MS));
    assert_str(p, "command", "answer");
    assert_str(p, "from-tag", "caller");
    assert_str(p, "to-tag", "callee");
    assert_str(p, "transport-protocol", "RTP/AVP");
    answer_and_wait(&s, p, "d6:result2:ok3:sdp5:v=0\r\ne", &r);

    /* A re-INVITE from the callee, and the caller's answer to it. */
    r = (struct result){ 0 };
    assert_int_equal(anchor_offer(&session, ANCHOR_CALLEE, SV("v=0\r\n"), NULL, on_done, &r), 0);
    assert_true(peer_recv(p, s.loop, BUDGET_MS));
    assert_str(p, "from-tag", "callee");
    assert_str(p, "to-tag", "caller");
    assert_str(p, "transport-protocol", NULL);
    answer_and_wait(&s, p, "d6:result2:ok3:sdp5:v=0\r\ne", &r);
    r = (struct result){ 0 };
    assert_int_equal(anchor_answer(&session, ANCHOR_CALLER, SV("v=0\r\n"), NULL, on_done, &r), 0);
    assert_true(peer_recv(p, s.loop, BUDGET_MS));
    assert_str(p, "from-tag", "callee");
    assert_str(p, "to-tag", "caller");
    answer_and_wait(&s, p, "d6:result5:error12:error-reason3:bade", &r);
    assert_int_equal(r.status, -EPROTO);

    /* The end: delete, nobody waits for its answer. */
    anchor_end(&session);
    assert_true(peer_recv(p, s.loop, BUDGET_MS));
    assert_str(p, "command", "delete");
    assert_str(p, "call-id", "b-leg-call-id@gw");
    assert_str(p, "from-tag", "caller");
    peer_answer(p, p->cookie, "d6:result2:oke");
    uint64_t end = sw_mono_ms() + BUDGET_MS;
    while (rtpengine_pending(anchor_client(s.anchor)) > 0 && sw_mono_ms() < end) {
        assert_true(loop_run_once(s.loop, 10) >= 0);
    }
    anchor_end(&session); /* twice: a no-op */
    setup_close(&s, 1);
}

static void test_a_call_rtpengine_never_knew_sends_no_delete(void **state)
{
    (void)state;
    struct setup s;
    setup_open(&s, 1, true);
    struct peer *p = &s.peers[0];
    struct anchor_session session;
    anchor_session_init(s.anchor, &session, SV("x@gw"));
    struct result r = { 0 };
    assert_int_equal(anchor_offer(&session, ANCHOR_CALLER, SV("v=0\r\n"), NULL, on_done, &r), 0);
    assert_true(peer_recv(p, s.loop, BUDGET_MS));
    /* The caller cancels while the offer is in flight: no callback, no delete. */
    anchor_end(&session);
    assert_int_equal(rtpengine_pending(anchor_client(s.anchor)), 0);
    peer_answer(p, p->cookie, "d6:result2:ok3:sdp5:v=0\r\ne");
    uint64_t end = sw_mono_ms() + 200;
    while (sw_mono_ms() < end) {
        assert_true(loop_run_once(s.loop, 10) >= 0);
    }
    assert_int_equal(r.calls, 0);
    assert_int_equal(recv(p->fd, p->data, sizeof(p->data), MSG_DONTWAIT), -1);
    /* A refused offer creates nothing either. */
    anchor_session_init(s.anchor, &session, SV("y@gw"));
    assert_int_equal(anchor_offer(&session, ANCHOR_CALLER, SV("v=0\r\n"), NULL, on_done, &r), 0);
    assert_true(peer_recv(p, s.loop, BUDGET_MS));
    answer_and_wait(&s, p, "d6:result5:error12:error-reason3:bade", &r);
    assert_false(session.is_created);
    anchor_end(&session);
    assert_int_equal(recv(p->fd, p->data, sizeof(p->data), MSG_DONTWAIT), -1);
    setup_close(&s, 1);
}

static void test_the_session_stays_on_its_rtpengine(void **state)
{
    (void)state;
    struct setup s;
    setup_open(&s, 2, false);
    struct anchor_session session;
    anchor_session_init(s.anchor, &session, SV("pinned@gw"));
    struct result r = { 0 };
    assert_int_equal(anchor_offer(&session, ANCHOR_CALLER, SV("v=0\r\n"), NULL, on_done, &r), 0);
    /* Whichever rtpengine got the offer answers it. */
    uint64_t end = sw_mono_ms() + BUDGET_MS;
    size_t got = 2;
    while (got == 2 && sw_mono_ms() < end) {
        for (size_t i = 0; i < 2 && got == 2; i++) {
            if (peer_recv(&s.peers[i], s.loop, 10)) {
                got = i;
            }
        }
    }
    assert_true(got < 2);
    answer_and_wait(&s, &s.peers[got], "d6:result2:ok3:sdp5:v=0\r\ne", &r);
    assert_int_equal(session.server, got);
    for (int i = 0; i < 4; i++) {
        r = (struct result){ 0 };
        assert_int_equal(anchor_answer(&session, ANCHOR_CALLEE, SV("v=0\r\n"), NULL, on_done, &r),
                         0);
        assert_true(peer_recv(&s.peers[got], s.loop, BUDGET_MS));
        answer_and_wait(&s, &s.peers[got], "d6:result2:ok3:sdp5:v=0\r\ne", &r);
    }
    assert_int_equal(recv(s.peers[1 - got].fd, s.peers[1 - got].data, 16, MSG_DONTWAIT), -1);
    anchor_end(&session);
    assert_true(peer_recv(&s.peers[got], s.loop, BUDGET_MS));
    assert_str(&s.peers[got], "command", "delete");
    peer_answer(&s.peers[got], s.peers[got].cookie, "d6:result2:oke");
    end = sw_mono_ms() + BUDGET_MS;
    while (rtpengine_pending(anchor_client(s.anchor)) > 0 && sw_mono_ms() < end) {
        assert_true(loop_run_once(s.loop, 10) >= 0);
    }
    setup_close(&s, 2);
}

struct counted {
    int calls;
    int status;
    uint64_t packets;
};

static void on_counted(void *ctx, int status, uint64_t packets)
{
    struct counted *c = ctx;
    c->calls++;
    c->status = status;
    c->packets = packets;
}

/* Sends a query, answers it with `dict`, and returns what the callback got. */
static struct counted query_answered(struct setup *s, struct anchor_session *session,
                                     const char *dict)
{
    struct counted c = { 0 };
    struct peer *p = &s->peers[0];
    assert_int_equal(anchor_query(session, on_counted, &c), 0);
    assert_int_equal(anchor_query(session, on_counted, &c), -EALREADY);
    assert_true(peer_recv(p, s->loop, BUDGET_MS));
    assert_str(p, "command", "query");
    assert_str(p, "call-id", "q@gw");
    assert_str(p, "sdp", NULL);
    peer_answer(p, p->cookie, dict);
    uint64_t end = sw_mono_ms() + BUDGET_MS;
    while (c.calls == 0 && sw_mono_ms() < end) {
        assert_true(loop_run_once(s->loop, 10) >= 0);
    }
    assert_int_equal(c.calls, 1);
    return c;
}

static void test_a_session_counts_its_packets(void **state)
{
    (void)state;
    struct setup s;
    setup_open(&s, 1, false);
    struct peer *p = &s.peers[0];
    struct anchor_session session;
    anchor_session_init(s.anchor, &session, SV("q@gw"));
    struct counted c = { 0 };
    /* Nothing to ask before rtpengine knows the call. */
    assert_int_equal(anchor_query(&session, on_counted, &c), -ENOENT);
    struct result r = { 0 };
    assert_int_equal(anchor_offer(&session, ANCHOR_CALLER, SV("v=0\r\n"), NULL, on_done, &r), 0);
    assert_true(peer_recv(p, s.loop, BUDGET_MS));
    answer_and_wait(&s, p, "d6:result2:ok3:sdp5:v=0\r\ne", &r);

    c = query_answered(
        &s, &session, "d6:result2:ok6:totalsd4:RTCPd7:packetsi3ee3:RTPd5:bytesi9e7:packetsi42eeee");
    assert_int_equal(c.status, 0);
    assert_int_equal(c.packets, 42);
    c = query_answered(&s, &session, "d6:result5:error12:error-reason15:Unknown call-ide");
    assert_int_equal(c.status, -EPROTO);
    c = query_answered(&s, &session, "d6:result2:oke");
    assert_int_equal(c.status, -SW_EBADMSG);
    c = query_answered(&s, &session, "d6:result2:ok6:totalsd3:RTPd7:packets3:manyeee");
    assert_int_equal(c.status, -SW_EBADMSG);
    c = query_answered(&s, &session, "d6:result2:ok6:totalsd3:RTPd7:packetsi-1eeee");
    assert_int_equal(c.status, -SW_EBADMSG);

    /* A query in flight holds up no offer, and the end forgets it without a callback. */
    c = (struct counted){ 0 };
    assert_int_equal(anchor_query(&session, on_counted, &c), 0);
    r = (struct result){ 0 };
    assert_int_equal(anchor_offer(&session, ANCHOR_CALLEE, SV("v=0\r\n"), NULL, on_done, &r), 0);
    assert_int_equal(rtpengine_pending(anchor_client(s.anchor)), 2);
    assert_true(peer_recv(p, s.loop, BUDGET_MS));
    assert_str(p, "command", "query");
    assert_true(peer_recv(p, s.loop, BUDGET_MS));
    assert_str(p, "command", "offer");
    anchor_end(&session);
    assert_true(peer_recv(p, s.loop, BUDGET_MS));
    assert_str(p, "command", "delete");
    peer_answer(p, p->cookie, "d6:result2:oke");
    uint64_t end = sw_mono_ms() + BUDGET_MS;
    while (rtpengine_pending(anchor_client(s.anchor)) > 0 && sw_mono_ms() < end) {
        assert_true(loop_run_once(s.loop, 10) >= 0);
    }
    assert_int_equal(c.calls, 0);
    assert_int_equal(r.calls, 0);
    setup_close(&s, 1);
}

/* What a reload asks of an anchor: is it idle (no session, no delete in flight), and are
 * two [media] settings the same? */
static void test_an_anchor_is_idle_once_its_sessions_ended(void **state)
{
    (void)state;
    struct setup s;
    setup_open(&s, 1, false);
    struct peer *p = &s.peers[0];
    assert_true(anchor_is_idle(s.anchor));
    struct anchor_session one;
    struct anchor_session two;
    anchor_session_init(s.anchor, &one, SV("one@gw"));
    anchor_session_init(s.anchor, &two, SV("two@gw"));
    anchor_end(&two);
    assert_false(anchor_is_idle(s.anchor)); /* one is still there */
    struct result r = { 0 };
    assert_int_equal(anchor_offer(&one, ANCHOR_CALLER, SV("v=0\r\n"), NULL, on_done, &r), 0);
    assert_true(peer_recv(p, s.loop, BUDGET_MS));
    answer_and_wait(&s, p, "d6:result2:ok3:sdp5:v=0\r\ne", &r);
    anchor_end(&one);
    assert_false(anchor_is_idle(s.anchor)); /* its delete is in flight */
    assert_true(peer_recv(p, s.loop, BUDGET_MS));
    assert_str(p, "command", "delete");
    peer_answer(p, p->cookie, "d6:result2:oke");
    uint64_t end = sw_mono_ms() + BUDGET_MS;
    while (!anchor_is_idle(s.anchor) && sw_mono_ms() < end) {
        assert_true(loop_run_once(s.loop, 10) >= 0);
    }
    assert_true(anchor_is_idle(s.anchor));
    /* A NULL anchor (anchoring off after a reload) leaves the session unused. */
    anchor_session_init(NULL, &one, SV("off@gw"));
    assert_null(one.owner);
    anchor_end(&one);
    setup_close(&s, 1);
}

static void test_anchor_settings_compare_every_field(void **state)
{
    (void)state;
    struct anchor_settings a = { .engines = { .server_count = 2, .retransmit_ms = 500 },
                                 .media_timeout_ms = 60000 };
    assert_true(sw_sockaddr_parse(SV("127.0.0.1:2223"), 0, &a.engines.servers[0].addr));
    assert_true(sw_sockaddr_parse(SV("127.0.0.1:2224"), 0, &a.engines.servers[1].addr));
    struct anchor_settings b = a;
    assert_true(anchor_settings_equal(&a, &b));
    b.engines.servers[1].weight = 3;
    assert_false(anchor_settings_equal(&a, &b));
    b = a;
    assert_true(sw_sockaddr_parse(SV("127.0.0.1:2225"), 0, &b.engines.servers[1].addr));
    assert_false(anchor_settings_equal(&a, &b));
    b = a;
    b.engines.server_count = 1;
    assert_false(anchor_settings_equal(&a, &b));
    b = a;
    b.is_pass_when_unreachable = true;
    assert_false(anchor_settings_equal(&a, &b));
    b = a;
    b.media_timeout_ms = 0;
    assert_false(anchor_settings_equal(&a, &b));
    b = a;
    b.engines.ping_interval_ms = 1000;
    assert_false(anchor_settings_equal(&a, &b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_call_offer_answer_reinvite_end),
        cmocka_unit_test(test_a_call_rtpengine_never_knew_sends_no_delete),
        cmocka_unit_test(test_the_session_stays_on_its_rtpengine),
        cmocka_unit_test(test_a_session_counts_its_packets),
        cmocka_unit_test(test_an_anchor_is_idle_once_its_sessions_ended),
        cmocka_unit_test(test_anchor_settings_compare_every_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
