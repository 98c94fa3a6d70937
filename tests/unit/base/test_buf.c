#include <stdint.h>

#include "base/buf.h"
#include "support/unit.h"

static void test_buf_appends_and_flags_overflow(void **state)
{
    (void)state;
    char storage[16];
    struct sw_buf buf;
    sw_buf_init(&buf, storage, sizeof(storage));
    sw_buf_str(&buf, "SIP/2.0 ");
    sw_buf_u64(&buf, 200);
    sw_buf_char(&buf, ' ');
    assert_false(buf.is_overflow);
    assert_true(sv_eq(sw_buf_view(&buf), SV("SIP/2.0 200 ")));
    sw_buf_sv(&buf, SV("OK-but-too-long"));
    assert_true(buf.is_overflow);
    assert_int_equal(buf.len, 12);
    sw_buf_fmt(&buf, "%d", 1);
    assert_int_equal(buf.len, 12);

    sw_buf_init(&buf, storage, sizeof(storage));
    sw_buf_fmt(&buf, "%s=%u", "cseq", 42u);
    sw_buf_u64(&buf, 0);
    sw_buf_u64(&buf, UINT64_MAX);
    assert_true(buf.is_overflow);
    assert_true(sv_eq(sw_buf_view(&buf), SV("cseq=420")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_appends_and_flags_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
