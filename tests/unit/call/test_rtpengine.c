/*
 * The ng client against fake rtpengines: UDP sockets on 127.0.0.1 that this test reads and
 * answers by hand. Covers the datagram format, cookie matching, retransmission, time-out,
 * "error" answers, forged and late answers, cancel, the pending limit, failover between
 * weighted servers on a refused port, health checks bringing a server back, and a health
 * view shared between clients.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/err.h"
#include "base/time.h"
#include "call/bencode.h"
#include "call/rtpengine.h"
#include "net/loop.h"
#include "ng_peer.h"
#include "support/unit.h"

#define BUDGET_MS 5000

struct outcome {
    int calls;
    int status;
    size_t server;
    char sdp[256];
    char reason[64];
};

static void on_done(void *ctx, const struct rtpengine_reply *reply)
{
    struct outcome *o = ctx;
    o->calls++;
    o->status = reply->status;
    o->server = reply->server;
    (void)sv_copy_cstr(reply->sdp.ptr != NULL ? reply->sdp : SV(""), o->sdp, sizeof(o->sdp));
    (void)sv_copy_cstr(reply->error_reason.ptr != NULL ? reply->error_reason : SV(""), o->reason,
                       sizeof(o->reason));
}

static void run_until_done(struct loop *loop, const struct outcome *o, int budget_ms)
{
    uint64_t end = sw_mono_ms() + (uint64_t)budget_ms;
    while (o->calls == 0 && sw_mono_ms() < end) {
        assert_true(loop_run_once(loop, 10) >= 0);
    }
}

/* Runs the loop for `ms` (to let stray datagrams arrive). */
static void run_for(struct loop *loop, int ms)
{
    uint64_t end = sw_mono_ms() + (uint64_t)ms;
    while (sw_mono_ms() < end) {
        assert_true(loop_run_once(loop, 10) >= 0);
    }
}

struct setup {
    struct loop *loop;
    struct peer peers[2];
    struct rtpengine *client;
};

static void setup_open(struct setup *s, size_t servers, const struct rtpengine_settings *extra)
{
    s->loop = loop_new(16, NULL, NULL);
    assert_non_null(s->loop);
    struct rtpengine_settings settings = *extra;
    settings.server_count = servers;
    for (size_t i = 0; i < servers; i++) {
        peer_open(&s->peers[i]);
        settings.servers[i].addr = s->peers[i].addr;
        settings.servers[i].weight = extra->servers[i].weight;
    }
    int err = 0;
    s->client = rtpengine_new(s->loop, &settings, &err);
    assert_int_equal(err, 0);
    assert_non_null(s->client);
}

static void setup_close(struct setup *s, size_t servers)
{
    assert_int_equal(rtpengine_pending(s->client), 0);
    rtpengine_free(s->client);
    for (size_t i = 0; i < servers; i++) {
        peer_close(&s->peers[i]);
    }
    loop_free(s->loop);
}

static const struct rtpengine_request *offer(void)
{
    static struct sv flags[2];
    static struct rtpengine_request r;
    flags[0] = SV("trust-address");
    flags[1] = SV("strict-source");
    r = (struct rtpengine_request){
        .command = RTPENGINE_OFFER,
        .call_id = SV("abc@host"),
        .from_tag = SV("ft1"),
        .sdp = SV("v=0\r\n"),
        .options = { { .key = "ICE", .value = SV("remove") } },
        .option_count = 1,
        .lists = { { .key = "flags", .items = flags, .count = 2 } },
        .list_count = 1,
        .server = RTPENGINE_ANY_SERVER,
    };
    return &r;
}

static void test_offer_is_encoded_and_answered(void **state)
{
    (void)state;
    struct setup s;
    setup_open(&s, 1, &(struct rtpengine_settings){ .retransmit_ms = 2000 });
    struct outcome o = { 0 };
    uint64_t handle = 0;
    assert_int_equal(rtpengine_send(s.client, offer(), on_done, &o, &handle), 0);
    assert_true(handle != 0);
    struct peer *p = &s.peers[0];
    assert_true(peer_recv(p, s.loop, BUDGET_MS));
    const struct bencode_doc *doc = &p->doc;
    assert_true(sv_eq(bencode_dict_str(doc, 0, SV("command")), SV("offer")));
    assert_true(sv_eq(bencode_dict_str(doc, 0, SV("call-id")), SV("abc@host")));
    assert_true(sv_eq(bencode_dict_str(doc, 0, SV("from-tag")), SV("ft1")));
    assert_null(bencode_dict_str(doc, 0, SV("to-tag")).ptr);
    assert_true(sv_eq(bencode_dict_str(doc, 0, SV("sdp")), SV("v=0\r\n")));
    assert_true(sv_eq(bencode_dict_str(doc, 0, SV("ICE")), SV("remove")));
    uint32_t flags = bencode_dict_get(doc, 0, SV("flags"));
    assert_int_equal(doc->nodes[flags].count, 2);
    assert_true(sv_eq(doc->nodes[bencode_first(doc, flags)].str, SV("trust-address")));
    assert_int_equal(o.calls, 0);
    peer_answer(p, p->cookie, "d6:result2:ok3:sdp7:v=0\r\nc=e");
    run_until_done(s.loop, &o, BUDGET_MS);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.status, 0);
    assert_int_equal(o.server, 0);
    assert_string_equal(o.sdp, "v=0\r\nc=");
    /* The same answer again (a duplicate) matches nothing now. */
    peer_answer(p, p->cookie, "d6:result2:ok3:sdp7:v=0\r\nc=e");
    run_for(s.loop, 100);
    assert_int_equal(o.calls, 1);
    struct rtpengine_stats st = rtpengine_stats(s.client);
    assert_int_equal(st.answers, 1);
    assert_int_equal(st.stray, 1);
    setup_close(&s, 1);
}

static void test_retransmits_with_the_same_cookie(void **state)
{
    (void)state;
    struct setup s;
    setup_open(&s, 1, &(struct rtpengine_settings){ .retransmit_ms = 100, .max_tries = 5 });
    struct outcome o = { 0 };
    assert_int_equal(rtpengine_send(s.client, offer(), on_done, &o, NULL), 0);
    struct peer *p = &s.peers[0];
    assert_true(peer_recv(p, s.loop, BUDGET_MS));
    char first[64];
    assert_true(sv_copy_cstr(p->cookie, first, sizeof(first)));
    assert_true(peer_recv(p, s.loop, BUDGET_MS)); /* the first went unanswered */
    assert_true(sv_eq(p->cookie, sv_from_cstr(first)));
    peer_answer(p, p->cookie, "d6:result2:ok3:sdp3:v=0e");
    run_until_done(s.loop, &o, BUDGET_MS);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.status, 0);
    assert_true(rtpengine_stats(s.client).retransmits >= 1);
    setup_close(&s, 1);
}

static void test_times_out_and_marks_the_server_down(void **state)
{
    (void)state;
    struct setup s;
    setup_open(&s, 1, &(struct rtpengine_settings){ .retransmit_ms = 100, .max_tries = 2 });
    struct outcome o = { 0 };
    assert_int_equal(rtpengine_send(s.client, offer(), on_done, &o, NULL), 0);
    run_until_done(s.loop, &o, BUDGET_MS);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.status, -ETIMEDOUT);
    assert_false(rtpengine_server_is_up(s.client, 0));
    struct rtpengine_stats st = rtpengine_stats(s.client);
    assert_int_equal(st.sent, 2);
    assert_int_equal(st.timeouts, 1);
    /* Without health checks the next call still tries the only server, and its answer
     * brings it back. */
    struct outcome again = { 0 };
    peer_drain(&s.peers[0]); /* the timed-out request's two datagrams */
    assert_int_equal(rtpengine_send(s.client, offer(), on_done, &again, NULL), 0);
    assert_true(peer_recv(&s.peers[0], s.loop, BUDGET_MS));
    peer_answer(&s.peers[0], s.peers[0].cookie, "d6:result4:ponge");
    run_until_done(s.loop, &again, BUDGET_MS);
    assert_int_equal(again.status, 0);
    assert_true(rtpengine_server_is_up(s.client, 0));
    setup_close(&s, 1);
}

static void test_error_and_malformed_answers(void **state)
{
    (void)state;
    struct setup s;
    setup_open(&s, 1, &(struct rtpengine_settings){ .retransmit_ms = 2000 });
    struct peer *p = &s.peers[0];
    struct outcome o = { 0 };
    assert_int_equal(rtpengine_send(s.client, offer(), on_done, &o, NULL), 0);
    assert_true(peer_recv(p, s.loop, BUDGET_MS));
    peer_answer(p, p->cookie, "d6:result5:error12:error-reason12:Unknown calle");
    run_until_done(s.loop, &o, BUDGET_MS);
    assert_int_equal(o.status, -EPROTO);
    assert_string_equal(o.reason, "Unknown call");

    static const char *const bad[] = { "d6:result", "l2:oke", "d3:sdp1:xe" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct outcome m = { 0 };
        assert_int_equal(rtpengine_send(s.client, offer(), on_done, &m, NULL), 0);
        assert_true(peer_recv(p, s.loop, BUDGET_MS));
        peer_answer(p, p->cookie, bad[i]);
        run_until_done(s.loop, &m, BUDGET_MS);
        assert_int_equal(m.status, -SW_EBADMSG);
    }
    setup_close(&s, 1);
}

static void test_forged_cookies_and_cancel(void **state)
{
    (void)state;
    struct setup s;
    setup_open(&s, 1, &(struct rtpengine_settings){ .retransmit_ms = 2000 });
    struct peer *p = &s.peers[0];
    struct outcome o = { 0 };
    uint64_t handle = 0;
    assert_int_equal(rtpengine_send(s.client, offer(), on_done, &o, &handle), 0);
    assert_true(peer_recv(p, s.loop, BUDGET_MS));
    char forged[64];
    assert_true(sv_copy_cstr(p->cookie, forged, sizeof(forged)));
    forged[0] = forged[0] == 'a' ? 'b' : 'a'; /* another client's prefix */
    peer_answer(p, sv_from_cstr(forged), "d6:result2:oke");
    peer_answer(p, SV("12345"), "d6:result2:oke");
    run_for(s.loop, 100);
    assert_int_equal(o.calls, 0);
    assert_int_equal(rtpengine_stats(s.client).stray, 2);
    /* The request's own answer after a cancel is stray too, and no callback runs. */
    rtpengine_cancel(s.client, handle);
    rtpengine_cancel(s.client, handle); /* twice: a no-op */
    assert_int_equal(rtpengine_pending(s.client), 0);
    peer_answer(p, p->cookie, "d6:result2:oke");
    run_for(s.loop, 100);
    assert_int_equal(o.calls, 0);
    assert_true(rtpengine_stats(s.client).stray >= 3);
    setup_close(&s, 1);
}

static void test_limits_and_bad_requests(void **state)
{
    (void)state;
    struct setup s;
    setup_open(&s, 1, &(struct rtpengine_settings){ .retransmit_ms = 2000, .max_pending = 2 });
    struct outcome o[3] = { 0 };
    uint64_t handles[2];
    assert_int_equal(rtpengine_send(s.client, offer(), on_done, &o[0], &handles[0]), 0);
    assert_int_equal(rtpengine_send(s.client, offer(), on_done, &o[1], &handles[1]), 0);
    assert_int_equal(rtpengine_send(s.client, offer(), on_done, &o[2], NULL), -SW_EFULL);
    rtpengine_cancel(s.client, handles[0]);
    rtpengine_cancel(s.client, handles[1]);
    struct rtpengine_request r = *offer();
    r.call_id = SV_NULL;
    assert_int_equal(rtpengine_send(s.client, &r, on_done, &o[2], NULL), -SW_EBADARG);
    r = *offer();
    r.server = 1;
    assert_int_equal(rtpengine_send(s.client, &r, on_done, &o[2], NULL), -SW_EBADARG);
    static char huge[70000];
    memset(huge, 'x', sizeof(huge));
    r = *offer();
    r.sdp = sv_make(huge, sizeof(huge));
    assert_int_equal(rtpengine_send(s.client, &r, on_done, &o[2], NULL), -SW_ETOOBIG);
    assert_int_equal(o[0].calls + o[1].calls + o[2].calls, 0);
    setup_close(&s, 1);
}

static void test_fails_over_from_a_refused_port(void **state)
{
    (void)state;
    struct setup s;
    struct rtpengine_settings settings = { .retransmit_ms = 2000 };
    settings.servers[0].weight = 100000;
    settings.servers[1].weight = 1;
    setup_open(&s, 2, &settings);
    peer_close(&s.peers[0]); /* nothing listens there now: ICMP port unreachable */
    for (int i = 0; i < 4; i++) {
        struct outcome o = { 0 };
        assert_int_equal(rtpengine_send(s.client, offer(), on_done, &o, NULL), 0);
        struct peer *p = &s.peers[1];
        assert_true(peer_recv(p, s.loop, BUDGET_MS));
        peer_answer(p, p->cookie, "d6:result2:oke");
        run_until_done(s.loop, &o, BUDGET_MS);
        assert_int_equal(o.status, 0);
        assert_int_equal(o.server, 1);
    }
    assert_false(rtpengine_server_is_up(s.client, 0));
    assert_true(rtpengine_server_is_up(s.client, 1));
    setup_close(&s, 2);
}

static void test_health_checks_bring_a_server_back(void **state)
{
    (void)state;
    struct setup s;
    setup_open(&s, 1,
               &(struct rtpengine_settings){
                   .retransmit_ms = 100, .max_tries = 1, .ping_interval_ms = 300 });
    struct peer *p = &s.peers[0];
    /* The first ping goes unanswered: the server is down and new calls fail at once. */
    assert_true(peer_recv(p, s.loop, BUDGET_MS));
    assert_true(sv_eq(bencode_dict_str(&p->doc, 0, SV("command")), SV("ping")));
    uint64_t end = sw_mono_ms() + BUDGET_MS;
    while (rtpengine_server_is_up(s.client, 0) && sw_mono_ms() < end) {
        assert_true(loop_run_once(s.loop, 10) >= 0);
    }
    assert_false(rtpengine_server_is_up(s.client, 0));
    struct outcome o = { 0 };
    assert_int_equal(rtpengine_send(s.client, offer(), on_done, &o, NULL), -EHOSTUNREACH);
    /* The next ping is answered: up again. */
    assert_true(peer_recv(p, s.loop, BUDGET_MS));
    peer_answer(p, p->cookie, "d6:result4:ponge");
    end = sw_mono_ms() + BUDGET_MS;
    while (!rtpengine_server_is_up(s.client, 0) && sw_mono_ms() < end) {
        assert_true(loop_run_once(s.loop, 10) >= 0);
    }
    assert_true(rtpengine_server_is_up(s.client, 0));
    assert_int_equal(rtpengine_send(s.client, offer(), on_done, &o, NULL), 0);
    assert_true(peer_recv(p, s.loop, BUDGET_MS));
    while (!sv_eq(bencode_dict_str(&p->doc, 0, SV("command")), SV("offer"))) {
        assert_true(peer_recv(p, s.loop, BUDGET_MS)); /* skip pings */
    }
    peer_answer(p, p->cookie, "d6:result2:oke");
    run_until_done(s.loop, &o, BUDGET_MS);
    assert_int_equal(o.status, 0);
    /* Pings may be in flight; freeing forgets them without callbacks. */
    rtpengine_free(s.client);
    peer_close(p);
    loop_free(s.loop);
}

/* Two clients sharing a health table (two workers of one gateway): one client's time-out
 * marks the server down for both, and the other's answered request brings it back for both. */
static void test_health_is_shared_between_clients(void **state)
{
    (void)state;
    struct rtpengine_health health;
    assert_int_equal(rtpengine_health_init(&health), 0);
    struct setup s;
    setup_open(
        &s, 1,
        &(struct rtpengine_settings){ .health = &health, .retransmit_ms = 100, .max_tries = 1 });
    struct rtpengine_settings settings = {
        .health = &health, .server_count = 1, .retransmit_ms = 100, .max_tries = 1
    };
    settings.servers[0].addr = s.peers[0].addr;
    int err = 0;
    struct rtpengine *other = rtpengine_new(s.loop, &settings, &err);
    assert_non_null(other);
    struct outcome o = { 0 };
    assert_int_equal(rtpengine_send(s.client, offer(), on_done, &o, NULL), 0);
    run_until_done(s.loop, &o, BUDGET_MS);
    assert_int_equal(o.status, -ETIMEDOUT);
    assert_false(rtpengine_server_is_up(s.client, 0));
    assert_false(rtpengine_server_is_up(other, 0));
    peer_drain(&s.peers[0]);
    struct outcome again = { 0 };
    assert_int_equal(rtpengine_send(other, offer(), on_done, &again, NULL), 0);
    assert_true(peer_recv(&s.peers[0], s.loop, BUDGET_MS));
    peer_answer(&s.peers[0], s.peers[0].cookie, "d6:result2:oke");
    run_until_done(s.loop, &again, BUDGET_MS);
    assert_int_equal(again.status, 0);
    assert_true(rtpengine_server_is_up(other, 0));
    assert_true(rtpengine_server_is_up(s.client, 0));
    rtpengine_free(other);
    setup_close(&s, 1);
    rtpengine_health_destroy(&health);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offer_is_encoded_and_answered),
        cmocka_unit_test(test_retransmits_with_the_same_cookie),
        cmocka_unit_test(test_times_out_and_marks_the_server_down),
        cmocka_unit_test(test_error_and_malformed_answers),
        cmocka_unit_test(test_forged_cookies_and_cancel),
        cmocka_unit_test(test_limits_and_bad_requests),
        cmocka_unit_test(test_fails_over_from_a_refused_port),
        cmocka_unit_test(test_health_checks_bring_a_server_back),
        cmocka_unit_test(test_health_is_shared_between_clients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
