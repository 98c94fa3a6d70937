#include <string.h>

#include "base/addr.h"
#include "base/arena.h"
#include "call/reply.h"
#include "sip/msg.h"
#include "support/guarded.h"
#include "support/unit.h"

static const char invite[] = "INVITE sip:100@192.0.2.1 SIP/2.0\r\n"
                             "Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKabc;rport\r\n"
                             "Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKdef\r\n"
                             "From: <sip:200@example.net>;tag=a1\r\n"
                             "To: <sip:100@example.net>\r\n"
                             "Call-ID: c1@10.0.0.5\r\n"
                             "CSeq: 7 INVITE\r\n"
                             "Content-Length: 0\r\n\r\n";

static void parse(struct arena *arena, struct sv raw, struct sip_msg *msg)
{
    struct sip_limits limits;
    sip_limits_default(&limits);
    struct sip_err err = { 0 };
    assert_int_equal(sip_msg_parse(raw, false, &limits, arena, msg, &err), 0);
}

static void test_reply_copies_request_and_sets_received_rport(void **state)
{
    (void)state;
    struct arena *arena = arena_new(64 * 1024);
    struct sip_msg msg;
    parse(arena, guarded_sv(invite), &msg);
    struct sockaddr_storage src;
    assert_true(sw_sockaddr_parse(SV("198.51.100.7:40000"), 0, &src));
    char storage[2048];
    struct sw_buf out;
    sw_buf_init(&out, storage, sizeof(storage));
    struct reply_extra extra = { .src = &src, .to_tag = SV("xyz"), .server = SV("sipwarden") };
    assert_int_equal(reply_build(&out, &msg, 486, NULL, &extra), 0);
    storage[out.len] = '\0';
    assert_non_null(strstr(storage, "SIP/2.0 486 Busy Here\r\n"));
    assert_non_null(strstr(storage, "Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKabc;received="
                                    "198.51.100.7;rport=40000\r\n"));
    /* Only the top Via is touched. */
    assert_non_null(strstr(storage, "Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKdef\r\n"));
    assert_non_null(strstr(storage, "To: <sip:100@example.net>;tag=xyz\r\n"));
    assert_non_null(strstr(storage, "CSeq: 7 INVITE\r\nServer: sipwarden\r\n"));
    assert_non_null(strstr(storage, "Content-Length: 0\r\n\r\n"));
    arena_free(arena);
    guarded_release_all();
}

static void test_reply_top_via_cases(void **state)
{
    (void)state;
    struct sockaddr_storage src;
    assert_true(sw_sockaddr_parse(SV("10.0.0.9:5060"), 0, &src));
    char storage[512];
    struct sw_buf out;
    /* Sent-by is the source and no rport: unchanged. */
    sw_buf_init(&out, storage, sizeof(storage));
    reply_put_top_via(&out, SV("SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK1"), &src);
    assert_true(sv_eq(sw_buf_view(&out), SV("Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK1\r\n")));
    /* An old received is replaced, never duplicated. */
    sw_buf_init(&out, storage, sizeof(storage));
    reply_put_top_via(&out, SV("SIP/2.0/TCP host.example;received=1.2.3.4;branch=z9hG4bK2"), &src);
    assert_true(sv_eq(sw_buf_view(&out),
                      SV("Via: SIP/2.0/TCP host.example;branch=z9hG4bK2;received=10.0.0.9\r\n")));
    /* No source known: copied as it is. */
    sw_buf_init(&out, storage, sizeof(storage));
    reply_put_top_via(&out, SV("SIP/2.0/UDP a;rport"), NULL);
    assert_true(sv_eq(sw_buf_view(&out), SV("Via: SIP/2.0/UDP a;rport\r\n")));
}

static void test_reply_refuses_incomplete_request(void **state)
{
    (void)state;
    struct arena *arena = arena_new(64 * 1024);
    struct sip_msg msg;
    parse(arena,
          guarded_sv("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n"
                     "Content-Length: 0\r\n\r\n"),
          &msg);
    char storage[256];
    struct sw_buf out;
    sw_buf_init(&out, storage, sizeof(storage));
    assert_int_not_equal(reply_build(&out, &msg, 400, NULL, NULL), 0);
    assert_string_equal(reply_reason(487), "Request Terminated");
    assert_string_equal(reply_reason(299), "Unknown");
    arena_free(arena);
    guarded_release_all();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply_copies_request_and_sets_received_rport),
        cmocka_unit_test(test_reply_top_via_cases),
        cmocka_unit_test(test_reply_refuses_incomplete_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
