#include "policy/ratelimit.h"
#include "stage_fixture.h"

static const char conf[] = "[pbx]\naddress = udp:10.0.0.5:5060\n"
                           "[provider]\ntype = trunk\nprovider = udp:203.0.113.10:5060\n"
                           "[ratelimit]\noptions_rate = 2\noptions_burst = 5\n"
                           "register_rate = 5\nregister_burst = 10\n"
                           "known_factor = 20\nflood_threshold = 10\n";

static char request[1024];

static const char *make_request(const char *method, unsigned seq)
{
    (void)snprintf(request, sizeof(request),
                   "%s sip:100@192.0.2.1 SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-%u\r\n"
                   "Max-Forwards: 70\r\n"
                   "From: <sip:a@198.51.100.7>;tag=1\r\n"
                   "To: <sip:100@192.0.2.1>\r\n"
                   "Call-ID: rl-%u\r\n"
                   "CSeq: %u %s\r\n"
                   "Content-Length: 0\r\n\r\n",
                   method, seq, seq, seq, method);
    return request;
}

/* Sends `count` requests at `now_ms` and returns how many passed. */
static unsigned send_many(struct fixture *f, const char *src, const char *method, unsigned count,
                          uint64_t now_ms, struct verdict *last)
{
    unsigned passed = 0;
    for (unsigned i = 0; i < count; i++) {
        *last = fixture_run(f, src, now_ms, make_request(method, i + 1));
        passed += last->action == VERDICT_CONTINUE ? 1 : 0;
    }
    return passed;
}

static void test_ratelimit_unknown_source_gets_its_burst_then_drops(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &ratelimit_stage, conf);
    struct verdict last;
    assert_int_equal(send_many(&f, "198.51.100.7", "OPTIONS", 8, 1000, &last), 5);
    assert_int_equal(last.action, VERDICT_DROP); /* [ratelimit] reply = drop by default */
    /* Classes are separate buckets. */
    assert_int_equal(send_many(&f, "198.51.100.7", "REGISTER", 12, 1000, &last), 10);
    /* Another source has its own bucket; time refills: 2/s, so one second gives 2. */
    assert_int_equal(send_many(&f, "198.51.100.8", "OPTIONS", 5, 1000, &last), 5);
    assert_int_equal(send_many(&f, "198.51.100.7", "OPTIONS", 4, 2000, &last), 2);
    fixture_fini(&f);
}

static void test_ratelimit_flood_is_an_event_only_for_strangers(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &ratelimit_stage, conf);
    struct verdict last;
    /* 5 pass, then 10 over budget make the flood: one RateExceeded event. */
    (void)send_many(&f, "198.51.100.7", "OPTIONS", 40, 1000, &last);
    assert_int_equal(f.event_count, 1);
    assert_int_equal(f.events[0].kind, EV_RATE_EXCEEDED);
    assert_int_equal(f.events[0].count, 10);
    assert_true(sw_event_kind_is_failure(f.events[0].kind));
    /* The provider: no per-source budget at all (its calls are bounded by max_calls, and
     * the gate exempts it too), so a busy trunk is never throttled, and nothing is a failure. */
    f.event_count = 0;
    unsigned passed = send_many(&f, "203.0.113.10", "OPTIONS", 300, 1000, &last);
    assert_int_equal(passed, 300);
    assert_int_equal(last.action, VERDICT_CONTINUE);
    assert_int_equal(f.event_count, 0);
    fixture_fini(&f);
}

static void test_ratelimit_503_when_configured_never_for_ack(void **state)
{
    (void)state;
    char text[1024];
    (void)snprintf(text, sizeof(text), "%sreply = 503\n", conf);
    struct fixture f;
    fixture_init(&f, &ratelimit_stage, text);
    struct verdict last;
    (void)send_many(&f, "198.51.100.7", "OPTIONS", 6, 1000, &last);
    assert_int_equal(last.action, VERDICT_REPLY);
    assert_int_equal(last.status, 503);
    (void)send_many(&f, "198.51.100.7", "ACK", 30, 1000, &last);
    assert_int_equal(last.action, VERDICT_DROP);
    fixture_fini(&f);
}

static void test_ratelimit_authenticated_account_gets_the_known_budget(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &ratelimit_stage, conf);
    unsigned passed = 0;
    for (unsigned i = 0; i < 250; i++) {
        fixture_prepare(&f, "198.51.100.9", 1000, make_request("REGISTER", i + 1));
        f.ctx.is_authenticated = true;
        f.ctx.side = SIDE_ACCOUNT;
        passed += ratelimit_stage.check(f.state, &f.ctx).action == VERDICT_CONTINUE ? 1 : 0;
    }
    assert_int_equal(passed, 200); /* burst 10 x known_factor 20 */
    fixture_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratelimit_unknown_source_gets_its_burst_then_drops),
        cmocka_unit_test(test_ratelimit_flood_is_an_event_only_for_strangers),
        cmocka_unit_test(test_ratelimit_503_when_configured_never_for_ack),
        cmocka_unit_test(test_ratelimit_authenticated_account_gets_the_known_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
