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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serialize_normalizes),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
