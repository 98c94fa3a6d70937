/* src/sip/serialize.c: parse -> serialize -> parse keeps the message. */
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "sip/msg.h"
#include "sip/serialize.h"
#include "support/guarded.h"
#include "support/unit.h"

static int teardown(void **state)
{
    (void)state;
    guarded_release_all();
    return 0;
}

static void test_serialize_normalizes(void **state)
{
    (void)state;
    struct arena *arena = arena_new(32 * 1024);
    struct sip_limits limits;
    sip_limits_default(&limits);
    struct sip_msg msg;
    struct sip_err err = { 0 };
    assert_int_equal(sip_msg_parse(guarded_sv("MESSAGE sip:a@b SIP/2.0\n"
                                              "v: SIP/2.0/UDP h;branch=z9hG4bK1\n"
                                              "Subject:  one\r\n   two \r\n\tthree\r\n"
                                              "X-Odd :x\n"
                                              "l: 2\n\nhi"),
                                   false, &limits, arena, &msg, &err),
                     0);
    char storage[512];
    struct sw_buf out;
    sw_buf_init(&out, storage, sizeof(storage));
    assert_int_equal(sip_msg_serialize(&msg, &out), 0);
    assert_true(sv_eq(sw_buf_view(&out), SV("MESSAGE sip:a@b SIP/2.0\r\n"
                                            "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                                            "Subject: one two three\r\n"
                                            "X-Odd: x\r\n"
                                            "Content-Length: 2\r\n\r\nhi")));

    struct sip_msg again;
    arena_reset(arena);
    assert_int_equal(sip_msg_parse(sw_buf_view(&out), false, &limits, arena, &again, &err), 0);
    assert_int_equal(again.hdr_count, 4);

    sw_buf_init(&out, storage, 10);
    assert_int_equal(sip_msg_serialize(&msg, &out), -SW_EFULL);
    arena_free(arena);
}

static void test_replace_body(void **state)
{
    (void)state;
    static const char text[] = "INVITE sip:b@x SIP/2.0\r\n"
                               "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                               "Content-Type: application/sdp\r\n"
                               "Content-Length: 5\r\n"
                               "l: 5\r\n"
                               "CSeq: 1 INVITE\r\n"
                               "\r\n"
                               "hello";
    char storage[512];
    struct sw_buf out;
    sw_buf_init(&out, storage, sizeof(storage));
    assert_int_equal(sip_msg_replace_body(sv_make(text, sizeof(text) - 1), SV("v=0\r\n"), &out), 0);
    static const char want[] = "INVITE sip:b@x SIP/2.0\r\n"
                               "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                               "Content-Type: application/sdp\r\n"
                               "CSeq: 1 INVITE\r\n"
                               "Content-Length: 5\r\n"
                               "\r\n"
                               "v=0\r\n";
    assert_int_equal(out.len, sizeof(want) - 1);
    assert_memory_equal(out.ptr, want, out.len);
    /* An empty body; a message without the end of its headers; a small buffer. */
    sw_buf_init(&out, storage, sizeof(storage));
    assert_int_equal(sip_msg_replace_body(SV("SIP/2.0 200 OK\r\nl: 3\r\n\r\nabc"), SV(""), &out),
                     0);
    assert_int_equal(out.len, strlen("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
    sw_buf_init(&out, storage, sizeof(storage));
    assert_int_equal(sip_msg_replace_body(SV("SIP/2.0 200 OK\r\nl: 3\r\n"), SV(""), &out),
                     -SW_EBADMSG);
    sw_buf_init(&out, storage, 16);
    assert_int_equal(sip_msg_replace_body(sv_make(text, sizeof(text) - 1), SV("v=0\r\n"), &out),
                     -SW_EFULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serialize_normalizes),
        cmocka_unit_test(test_replace_body),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
