#include <stdio.h>
#include <string.h>

#include "base/hash.h"
#include "state/failtrack.h"
#include "support/unit.h"

#define T0 1000000u

static struct sw_ip ip_of(const char *text)
{
    struct sw_ip ip;
    assert_true(sw_ip_parse(sv_from_cstr(text), &ip));
    return ip;
}

static struct sw_ip ip_n(uint32_t n)
{
    char text[64];
    (void)snprintf(text, sizeof(text), "10.%u.%u.%u", (n >> 16) & 255u, (n >> 8) & 255u, n & 255u);
    return ip_of(text);
}

/* One attempt of a scripted sequence: `at_us` after the start. */
struct step {
    uint64_t at_us;
    enum sw_event_kind kind;
    const char *user;    /* NULL = absent */
    const char *call_id; /* NULL = absent */
    uint32_t cseq;
    const char *response; /* NULL = absent */
    enum failtrack_verdict verdict;
    uint32_t failures;
};

struct sequence {
    const char *name;
    struct failtrack_config cfg;
    struct step steps[40];
    const char *reason; /* of the last step, when it bans */
};

#define IP  EV_INVALID_PASSWORD
#define CNT FAILTRACK_COUNTED
#define RTX FAILTRACK_RETRANSMISSION
#define BAN FAILTRACK_BAN
#define MS  1000ull
#define SEC 1000000ull

static const struct sequence sequences[] = {
    { "retransmissions count once",
      { 0 },
      { { 0, IP, "1001", "c1", 2, "r1", CNT, 1 },
        { 500 * MS, IP, "1001", "c1", 2, "r1", RTX, 1 },
        { 1500 * MS, IP, "1001", "c1", 2, "r1", RTX, 1 },
        { 30 * SEC, IP, "1001", "c1", 2, "r1", RTX, 1 },
        /* Past Timer F the same request is a new attempt. */
        { 40 * SEC, IP, "1001", "c1", 2, "r1", CNT, 2 } },
      NULL },
    { "svcrack: same Call-ID and CSeq, a new response per guess",
      { 0 },
      { { 0, IP, "1001", "svc", 2, "g1", CNT, 1 },
        { 6 * MS, IP, "1001", "svc", 2, "g2", CNT, 2 },
        { 12 * MS, IP, "1001", "svc", 2, "g3", BAN, 3 } },
      "InvalidPassword=3" },
    { "different users are different guesses",
      { 0 },
      { { 0, EV_INVALID_ACCOUNT_ID, "1000", "a", 1, NULL, CNT, 1 },
        { 10 * MS, EV_INVALID_ACCOUNT_ID, "1001", "b", 1, NULL, CNT, 2 },
        { 20 * MS, EV_INVALID_ACCOUNT_ID, "1002", "c", 1, NULL, BAN, 3 } },
      "InvalidAccountID=3" },
    /* Issue #10: failures on one Call-ID with a rising CSeq within 2 s counted as one, so
     * a paced guesser got 29 answered guesses per ban. Each is a new guess now. */
    { "one Call-ID, rising CSeq: every failure counts",
      { 0 },
      { { 0, IP, "1001", "paced", 2, "g1", CNT, 1 },
        { 50 * MS, IP, "1001", "paced", 3, "g2", CNT, 2 },
        { 100 * MS, IP, "1001", "paced", 4, "g3", BAN, 3 } },
      "InvalidPassword=3" },
    { "a lower CSeq with another response is a new guess",
      { 0 },
      { { 0, IP, "1001", "c", 5, "r1", CNT, 1 }, { 1 * MS, IP, "1001", "c", 4, "r2", CNT, 2 } },
      NULL },
    { "events without Call-ID always count; other kinds are ignored",
      { 0 },
      { { 0, EV_RATE_EXCEEDED, NULL, NULL, 0, NULL, CNT, 1 },
        { 1 * MS, EV_SUCCESSFUL_AUTH, "1001", "x", 1, NULL, FAILTRACK_IGNORED, 0 },
        { 2 * MS, EV_CHALLENGE_SENT, "1001", "x", 1, NULL, FAILTRACK_IGNORED, 0 },
        { 3 * MS, EV_RATE_EXCEEDED, NULL, NULL, 0, NULL, CNT, 2 },
        { 4 * MS, EV_SCANNER, NULL, NULL, 0, NULL, BAN, 3 } },
      "ScannerDetected=1,RateExceeded=2" },
    { "the reason lists kinds and counts",
      { 0 },
      { { 0, EV_FAILED_ACL, NULL, "a", 1, NULL, CNT, 1 },
        { 1 * MS, IP, "1001", "b", 1, "x", CNT, 2 },
        { 2 * MS, IP, "1002", "c", 1, "y", BAN, 3 },
        /* After "ban now" the source starts from zero. */
        { 3 * MS, IP, "1003", "d", 1, "z", CNT, 1 } },
      NULL },
    { "findtime slides",
      { .maxretry = 3, .findtime_s = 300 },
      { { 0, EV_FAILED_ACL, NULL, "a", 1, NULL, CNT, 1 },
        { 200 * SEC, EV_FAILED_ACL, NULL, "b", 1, NULL, CNT, 2 },
        { 400 * SEC, EV_FAILED_ACL, NULL, "c", 1, NULL, CNT, 2 },
        { 450 * SEC, EV_FAILED_ACL, NULL, "d", 1, NULL, BAN, 3 } },
      "FailedACL=3" },
    { "maxretry 5",
      { .maxretry = 5 },
      { { 0, IP, "u", "a", 1, "1", CNT, 1 },
        { 1 * SEC, IP, "u", "b", 1, "2", CNT, 2 },
        { 2 * SEC, IP, "u", "c", 1, "3", CNT, 3 },
        { 3 * SEC, IP, "u", "d", 1, "4", CNT, 4 },
        { 4 * SEC, IP, "u", "e", 1, "5", BAN, 5 } },
      "InvalidPassword=5" },
};

static void run_sequence(const struct sequence *seq)
{
    struct failtrack *ft = NULL;
    assert_int_equal(failtrack_new(&seq->cfg, &ft), 0);
    struct failtrack_result result = { 0 };
    size_t n = 0;
    for (; n < 40 && (n == 0 || seq->steps[n].call_id != NULL || seq->steps[n].kind != 0); n++) {
        const struct step *s = &seq->steps[n];
        struct failtrack_attempt a = {
            .ip = ip_of("192.0.2.50"),
            .kind = s->kind,
            .user = sv_from_cstr(s->user),
            .realm = SV("sipwarden"),
            .call_id = sv_from_cstr(s->call_id),
            .cseq = s->cseq,
            .response = sv_from_cstr(s->response),
        };
        failtrack_record(ft, &a, T0 + s->at_us / 1000u, &result);
        if (result.verdict != s->verdict || result.failures != s->failures) {
            fail_msg("%s: step %zu: verdict %d failures %u, expected %d %u", seq->name, n,
                     result.verdict, result.failures, s->verdict, s->failures);
        }
    }
    if (seq->reason != NULL) {
        assert_string_equal(result.reason, seq->reason);
    }
    failtrack_free(ft);
}

static void test_failtrack_sequences(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(sequences) / sizeof(sequences[0]); i++) {
        run_sequence(&sequences[i]);
    }
}

static void test_failtrack_reason_order(void **state)
{
    (void)state;
    run_sequence(&sequences[5]);
    struct failtrack *ft = NULL;
    assert_int_equal(failtrack_new(&(struct failtrack_config){ 0 }, &ft), 0);
    struct failtrack_result r;

    static const enum sw_event_kind kinds[] = { EV_FAILED_ACL, IP, IP };

    for (size_t i = 0; i < 3; i++) {
        char id[8];
        (void)snprintf(id, sizeof(id), "c%zu", i);
        struct failtrack_attempt a = { .ip = ip_of("2001:db8::1"),
                                       .kind = kinds[i],
                                       .user = SV("1001"),
                                       .call_id = sv_from_cstr(id),
                                       .cseq = 1 };
        failtrack_record(ft, &a, T0 + i, &r);
    }
    assert_int_equal(r.verdict, BAN);
    assert_string_equal(r.reason, "FailedACL=1,InvalidPassword=2");
    assert_int_equal(failtrack_count(ft), 0);
    failtrack_free(ft);
}

static void test_failtrack_forget(void **state)
{
    (void)state;
    struct failtrack *ft = NULL;
    assert_int_equal(failtrack_new(&(struct failtrack_config){ 0 }, &ft), 0);
    struct failtrack_attempt a = { .ip = ip_of("192.0.2.70"), .kind = EV_FAILED_ACL };
    struct failtrack_result r;
    failtrack_record(ft, &a, T0, &r);
    failtrack_record(ft, &a, T0 + 1, &r);
    assert_int_equal(failtrack_failures(ft, &a.ip, T0 + 1), 2);
    failtrack_forget(ft, &a.ip);
    assert_int_equal(failtrack_failures(ft, &a.ip, T0 + 1), 0);
    assert_int_equal(failtrack_count(ft), 0);
    failtrack_free(ft);
}

/* #9 IPv6: failures from addresses of one /64 add up (and ban), unless per address. */
static void test_failtrack_ipv6_prefix(void **state)
{
    (void)state;
    static const unsigned lens[] = { 64, 128 };
    for (size_t l = 0; l < 2; l++) {
        struct failtrack *ft = NULL;
        assert_int_equal(failtrack_new(&(struct failtrack_config){ .v6_prefix_len = lens[l] }, &ft),
                         0);
        static const char *const sources[] = { "2001:db8:1:2::1", "2001:db8:1:2::2",
                                               "2001:db8:1:2:aaaa::3" };
        struct failtrack_result r;
        for (size_t i = 0; i < 3; i++) {
            struct failtrack_attempt a = { .ip = ip_of(sources[i]), .kind = EV_FAILED_ACL };
            failtrack_record(ft, &a, T0 + i * 1000, &r);
        }
        assert_int_equal(r.verdict, lens[l] == 64 ? FAILTRACK_BAN : FAILTRACK_COUNTED);
        struct sw_ip elsewhere = ip_of("2001:db8:1:3::1");
        assert_int_equal(failtrack_failures(ft, &elsewhere, T0 + 3000), 0);
        failtrack_free(ft);
    }
}

static void test_failtrack_bad_config(void **state)
{
    (void)state;
    struct failtrack *ft = NULL;
    assert_int_not_equal(failtrack_new(&(struct failtrack_config){ .maxretry = 9 }, &ft), 0);
    assert_int_not_equal(failtrack_new(&(struct failtrack_config){ .findtime_s = 8 * 86400 }, &ft),
                         0);
}

/*
 * A million spoofed one-shot sources: the table stays at its capacity, memory does not
 * move, the newest sources are kept, and a source with more failures outlives the flood.
 */
static void test_failtrack_million_sources_bounded(void **state)
{
    (void)state;
    struct failtrack *ft = NULL;
    assert_int_equal(failtrack_new(&(struct failtrack_config){ .max_sources = 4096 }, &ft), 0);
    size_t bytes = failtrack_memory_bytes(ft);
    struct failtrack_result r;
    struct failtrack_attempt forcer = { .ip = ip_of("198.51.100.1"), .kind = EV_FAILED_ACL };
    failtrack_record(ft, &forcer, T0, &r);
    failtrack_record(ft, &forcer, T0 + 1, &r);
    for (uint32_t n = 0; n < 1000000; n++) {
        struct failtrack_attempt a = { .ip = ip_n(n), .kind = EV_FAILED_ACL };
        failtrack_record(ft, &a, T0 + 2 + n / 100, &r);
        assert_int_equal(r.verdict, CNT);
        if (n % 4096 == 0) {
            assert_true(failtrack_count(ft) <= failtrack_capacity(ft));
        }
    }
    uint64_t now = T0 + 2 + 10000;
    assert_int_equal(failtrack_count(ft), failtrack_capacity(ft));
    assert_int_equal(failtrack_capacity(ft), 4096);
    assert_int_equal(failtrack_memory_bytes(ft), bytes);
    assert_int_equal(failtrack_failures(ft, &forcer.ip, now), 2);
    for (uint32_t n = 1000000 - 4; n < 1000000; n++) {
        struct sw_ip ip = ip_n(n);
        assert_int_equal(failtrack_failures(ft, &ip, now), 1);
    }
    struct sw_ip first = ip_n(0);
    assert_int_equal(failtrack_failures(ft, &first, now), 0);
    print_message("failtrack: %zu bytes for %zu sources (%zu per source)\n", bytes,
                  failtrack_capacity(ft), bytes / failtrack_capacity(ft));
    failtrack_free(ft);
}

int main(void)
{
    assert_int_equal(sw_hash_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failtrack_sequences),
        cmocka_unit_test(test_failtrack_reason_order),
        cmocka_unit_test(test_failtrack_ipv6_prefix),
        cmocka_unit_test(test_failtrack_forget),
        cmocka_unit_test(test_failtrack_bad_config),
        cmocka_unit_test(test_failtrack_million_sources_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
