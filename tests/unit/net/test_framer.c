/*
 * net/framer.c without sockets: keep-alives (RFC 5626 §3.5.1), complete and partial
 * messages, framing errors and the size limit, and the same result for any cut of the
 * bytes (fuzz_stream checks the last property on random input).
 */
#include <string.h>

#include "base/err.h"
#include "net/framer.h"
#include "sip/msg.h"
#include "support/unit.h"

#define MSG                                                \
    "OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\n"                 \
    "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-1\r\n" \
    "From: <sip:probe@127.0.0.1>;tag=1\r\n"                \
    "To: <sip:gw@127.0.0.1>\r\n"                           \
    "Call-ID: c1@127.0.0.1\r\n"                            \
    "CSeq: 1 OPTIONS\r\n"                                  \
    "Content-Length: 5\r\n"                                \
    "\r\n"                                                 \
    "hello"

struct conn_log {
    size_t pongs;
    size_t touches;
    size_t delivered;
    size_t delivered_len;
    int fail_code;
    bool is_closing;
};

static void on_pong(void *ctx)
{
    ((struct conn_log *)ctx)->pongs++;
}

static void on_touch(void *ctx)
{
    ((struct conn_log *)ctx)->touches++;
}

static void on_deliver(void *ctx, struct sv msg)
{
    struct conn_log *log = ctx;
    log->delivered++;
    log->delivered_len += msg.len;
    assert_true(sv_starts_with(msg, SV("OPTIONS ")));
}

static void on_fail(void *ctx, int code, const char *reason)
{
    struct conn_log *log = ctx;
    assert_non_null(reason);
    log->fail_code = code;
    log->is_closing = true;
}

static bool on_is_closing(void *ctx)
{
    return ((const struct conn_log *)ctx)->is_closing;
}

static const struct framer_ops ops = {
    .pong = on_pong,
    .touch = on_touch,
    .deliver = on_deliver,
    .fail = on_fail,
    .is_closing = on_is_closing,
};

struct frame_case {
    const char *bytes;
    size_t consumed;
    size_t delivered;
    size_t pongs;
    size_t touches;
    int fail_code;
    bool is_waiting;
};

static void test_framer_cases(void **state)
{
    (void)state;
    const size_t msg_len = strlen(MSG);
    const struct frame_case cases[] = {
        { MSG, msg_len, 1, 0, 0, 0, false },
        { MSG MSG, 2 * msg_len, 2, 0, 0, 0, false },
        { "\r\n\r\n" MSG, 4 + msg_len, 1, 1, 0, 0, false }, /* a ping, then a message */
        { "\r\n" MSG, 2 + msg_len, 1, 0, 1, 0, false },     /* the peer's pong */
        { "\r\n", 0, 0, 0, 0, 0, true },                    /* may still become a ping */
        { "\r\n\r", 0, 0, 0, 0, 0, true },
        { "\r\n\r\n\r\n", 4, 0, 1, 0, 0, true },
        { MSG "\r\n", msg_len, 1, 0, 0, 0, true },
        { "OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP h", 0, 0, 0, 0, 0, false },
        /* Streams need Content-Length (RFC 3261 §18.3): framing is lost. */
        { "OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\nCall-ID: x\r\n\r\n", 0, 0, 0, 0, -SW_EBADMSG,
          false },
    };
    struct sip_limits limits;
    sip_limits_default(&limits);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct conn_log log = { 0 };
        struct framer_result r = framer_consume(sv_from_cstr(cases[i].bytes), &limits, &ops, &log);
        if (r.consumed != cases[i].consumed || r.is_waiting_keepalive != cases[i].is_waiting ||
            log.delivered != cases[i].delivered || log.pongs != cases[i].pongs ||
            log.touches != cases[i].touches || log.fail_code != cases[i].fail_code) {
            fail_msg("case %zu: consumed %zu waiting %d delivered %zu pongs %zu touches %zu "
                     "fail %d",
                     i, r.consumed, r.is_waiting_keepalive, log.delivered, log.pongs, log.touches,
                     log.fail_code);
        }
        assert_int_equal(r.has_delivered, cases[i].delivered > 0);
    }
}

static void test_framer_refuses_an_incomplete_message_over_the_limit(void **state)
{
    (void)state;
    struct sip_limits limits;
    sip_limits_default(&limits);
    limits.max_msg_bytes = 64;
    struct conn_log log = { 0 };
    /* Headers not finished within the limit: the connection is failed, not grown. */
    const char *bytes = "OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;"
                        "branch=z9hG4bK-1\r\nFrom: <sip:probe@127.0.0.1>";
    (void)framer_consume(sv_from_cstr(bytes), &limits, &ops, &log);
    assert_true(log.is_closing);
    assert_int_not_equal(log.fail_code, 0);
    assert_int_equal(log.delivered, 0);
}

static void test_framer_any_cut_gives_the_same_messages(void **state)
{
    (void)state;
    static const char stream[] = "\r\n\r\n" MSG "\r\n" MSG MSG "\r\n\r\n";
    const size_t len = sizeof(stream) - 1;
    struct sip_limits limits;
    sip_limits_default(&limits);
    /* Every single cut point: the bytes arrive in two reads. */
    for (size_t cut = 0; cut <= len; cut++) {
        struct conn_log log = { 0 };
        char buf[sizeof(stream)];
        memcpy(buf, stream, cut);
        struct framer_result r = framer_consume(sv_make(buf, cut), &limits, &ops, &log);
        size_t kept = cut - r.consumed;
        memmove(buf, buf + r.consumed, kept);
        memcpy(buf + kept, stream + cut, len - cut);
        (void)framer_consume(sv_make(buf, kept + len - cut), &limits, &ops, &log);
        assert_int_equal(log.delivered, 3);
        assert_int_equal(log.delivered_len, 3 * strlen(MSG));
        assert_int_equal(log.pongs, 2);
        assert_int_equal(log.touches, 1);
        assert_int_equal(log.fail_code, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framer_cases),
        cmocka_unit_test(test_framer_refuses_an_incomplete_message_over_the_limit),
        cmocka_unit_test(test_framer_any_cut_gives_the_same_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
