#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

static void expect_same(const struct sw_buf *ours, const char *theirs, int theirs_len)
{
    assert_false(ours->is_overflow);
    assert_int_equal(ours->len, (size_t)theirs_len);
    assert_memory_equal(ours->ptr, theirs, (size_t)theirs_len + 1);
}

/* Formats once with sw_buf_fmt and once with snprintf: same text, same NUL after it. */
#define EXPECT_AS_SNPRINTF(...)                                                 \
    do {                                                                        \
        char ours[128];                                                         \
        char theirs[128];                                                       \
        struct sw_buf b;                                                        \
        sw_buf_init(&b, ours, sizeof(ours));                                    \
        sw_buf_fmt(&b, __VA_ARGS__);                                            \
        expect_same(&b, theirs, snprintf(theirs, sizeof(theirs), __VA_ARGS__)); \
    } while (0)

/* The conversions sw_buf_fmt does itself, and others it leaves to vsnprintf. */
/* Every digit count, each side of its power of ten, as printf writes it; no room, nothing. */
static void test_buf_u64_reads_as_printf(void **state)
{
    (void)state;
    char storage[24];
    char theirs[24];
    struct sw_buf buf;
    uint64_t power = 1;
    for (int digits = 1; digits <= 20; digits++) {
        const uint64_t values[] = { power - 1, power, power + 1 };
        for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
            sw_buf_init(&buf, storage, sizeof(storage));
            sw_buf_u64(&buf, values[i]);
            int n = snprintf(theirs, sizeof(theirs), "%llu", (unsigned long long)values[i]);
            assert_false(buf.is_overflow);
            assert_int_equal(buf.len, (size_t)n);
            assert_memory_equal(storage, theirs, (size_t)n);
        }
        power = digits < 20 ? power * 10 : power;
    }
    sw_buf_init(&buf, storage, sizeof(storage));
    sw_buf_u64(&buf, UINT64_MAX);
    assert_true(sv_eq(sw_buf_view(&buf), SV("18446744073709551615")));
    sw_buf_init(&buf, storage, 3);
    sw_buf_str(&buf, "x");
    sw_buf_u64(&buf, 100);
    assert_true(buf.is_overflow);
    assert_int_equal(buf.len, 1);
    sw_buf_init(&buf, storage, 3);
    sw_buf_u64(&buf, 999);
    assert_false(buf.is_overflow);
    assert_true(sv_eq(sw_buf_view(&buf), SV("999")));
}

static void test_buf_fmt_reads_as_printf(void **state)
{
    (void)state;
    const char *view = "sip:alice@example.com;lr";
    EXPECT_AS_SNPRINTF("Via: SIP/2.0/%s %s:%u;branch=%.*s;rport\r\n", "UDP", "192.0.2.1", 5060u, 11,
                       "z9hG4bK-abcdefgh");
    EXPECT_AS_SNPRINTF("%.*s|%.*s|%.*s", 9, view, 0, view, -1, view);
    EXPECT_AS_SNPRINTF("%d %d %u %ld %lld %lu %llu %zu", INT_MIN, -7, UINT_MAX, LONG_MIN, LLONG_MAX,
                       ULONG_MAX, 0ULL, (size_t)12345);
    EXPECT_AS_SNPRINTF("100%% %c%c", 'o', 'k');
    EXPECT_AS_SNPRINTF("no conversion at all");
    EXPECT_AS_SNPRINTF("%.*s", 4, "a\0bc"); /* stops at a NUL inside the precision */
}

static void test_buf_fmt_reads_as_printf_beyond_the_fast_path(void **state)
{
    (void)state;
    /* An empty view may have no bytes at all: nothing printed, as glibc does. */
    char storage[16];
    struct sw_buf buf;
    sw_buf_init(&buf, storage, sizeof(storage));
    const char *volatile none = NULL; /* as SV_ARG passes an empty view's pointer */
    sw_buf_fmt(&buf, "<%.*s>", 0, none);
    assert_string_equal(storage, "<>");
    /* Left to vsnprintf: widths, flags, hex, floating point. */
    EXPECT_AS_SNPRINTF("%05u %-4s| %x %02X %.2f", 42u, "ab", 255u, 10u, 2.5);
    /* The fast path meets the first conversion it does not do after some it did. */
    EXPECT_AS_SNPRINTF("%s=%u %.*s|%05u %s", "cseq", 7u, 2, "abc", 42u, "tail");
    EXPECT_AS_SNPRINTF("tag=%.16s;%d", "0123456789abcdef-cut", -3);
    sw_buf_init(&buf, storage, sizeof(storage));
    sw_buf_str(&buf, "ab");
    sw_buf_fmt(&buf, "%s%.3s", "0123456789abc", "xyz"); /* does not fit, nor would it */
    assert_true(buf.is_overflow);
    assert_int_equal(buf.len, 2);
}

/* A text that does not fit (its NUL included) leaves nothing behind, either way. */
static void test_buf_fmt_overflow_leaves_nothing(void **state)
{
    (void)state;
    char storage[8];
    struct sw_buf buf;
    sw_buf_init(&buf, storage, sizeof(storage));
    sw_buf_str(&buf, "ab");
    sw_buf_fmt(&buf, "%s%u", "cde", 123u); /* 8 bytes: no room for the NUL */
    assert_true(buf.is_overflow);
    assert_int_equal(buf.len, 2);
    sw_buf_init(&buf, storage, sizeof(storage));
    sw_buf_fmt(&buf, "%s%u", "cde", 1u);
    assert_false(buf.is_overflow);
    assert_string_equal(storage, "cde1");
    sw_buf_init(&buf, storage, sizeof(storage));
    sw_buf_fmt(&buf, "%08x", 1u);
    assert_true(buf.is_overflow);
    assert_int_equal(buf.len, 0);
}

/* sw_snprintf is snprintf: the same text, cut at the same byte, the same return value. */
static void expect_snprintf(size_t cap, const char *word, unsigned number)
{
    char ours[32];
    char theirs[32];
    memset(ours, 'x', sizeof(ours));
    memset(theirs, 'x', sizeof(theirs));
    int ours_n = sw_snprintf(ours, cap, "%s=%u;%.*s", word, number, 3, "abcdef");
    int theirs_n = snprintf(theirs, cap, "%s=%u;%.*s", word, number, 3, "abcdef");
    assert_int_equal(ours_n, theirs_n);
    assert_memory_equal(ours, theirs, sizeof(ours));
}

static void test_sw_snprintf_is_snprintf(void **state)
{
    (void)state;
    for (size_t cap = 0; cap <= 20; cap++) {
        expect_snprintf(cap, "cseq", 4294967295u);
        expect_snprintf(cap, "", 0);
    }
    char out[16];
    assert_int_equal(sw_snprintf(out, sizeof(out), "%04u", 7u), 4); /* beyond the fast path */
    assert_string_equal(out, "0007");
    /* Past the fast path after some of it, cut at every length. */
    for (size_t cap = 0; cap <= 20; cap++) {
        char ours[32];
        char theirs[32];
        memset(ours, 'x', sizeof(ours));
        memset(theirs, 'x', sizeof(theirs));
        int ours_n = sw_snprintf(ours, cap, "%s=%u;%03u", "cseq", 12u, 7u);
        int theirs_n = snprintf(theirs, cap, "%s=%u;%03u", "cseq", 12u, 7u);
        assert_int_equal(ours_n, theirs_n);
        assert_memory_equal(ours, theirs, sizeof(ours));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_appends_and_flags_overflow),
        cmocka_unit_test(test_buf_u64_reads_as_printf),
        cmocka_unit_test(test_buf_fmt_reads_as_printf),
        cmocka_unit_test(test_buf_fmt_reads_as_printf_beyond_the_fast_path),
        cmocka_unit_test(test_buf_fmt_overflow_leaves_nothing),
        cmocka_unit_test(test_sw_snprintf_is_snprintf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
