#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "base/random.h"
#include "support/unit.h"

/* Counts of each byte value over many draws: a stuck or zeroed buffer shows at once. */
static void test_random_bytes_cover_every_value_across_blocks(void **state)
{
    (void)state;
    size_t counts[256] = { 0 };
    uint8_t chunk[37]; /* odd size: draws straddle the per-thread block boundary */
    for (size_t round = 0; round < 2000; round++) {
        sw_random_bytes(chunk, sizeof(chunk));
        for (size_t i = 0; i < sizeof(chunk); i++) {
            counts[chunk[i]]++;
        }
    }
    /* 74,000 bytes: each value expected ~289 times; 150 is far below any plausible draw. */
    for (size_t v = 0; v < 256; v++) {
        assert_true(counts[v] > 150);
    }
    uint8_t big[2000];
    uint8_t zero[sizeof(big)] = { 0 };
    sw_random_bytes(big, sizeof(big)); /* larger than one block */
    assert_true(memcmp(big, zero, sizeof(big)) != 0);
    assert_true(memcmp(big + 1500, zero, 64) != 0);
}

static void test_random_hex_is_lowercase_hex_and_distinct(void **state)
{
    (void)state;
    char a[101];
    char b[101];
    sw_random_hex(a, 100); /* more than one internal chunk of 64 digits */
    sw_random_hex(b, 100);
    a[100] = '\0';
    b[100] = '\0';
    for (size_t i = 0; i < 100; i++) {
        assert_non_null(strchr("0123456789abcdef", a[i]));
    }
    assert_string_not_equal(a, b);
    char odd[8] = "xxxxxxx";
    sw_random_hex(odd, 3);
    assert_int_equal(odd[3], 'x'); /* exactly the digits asked for */
}

static void *draw_thread(void *out)
{
    sw_random_bytes(out, 32);
    return NULL;
}

static void test_random_threads_draw_different_bytes(void **state)
{
    (void)state;
    uint8_t first[32];
    uint8_t second[32];
    pthread_t t1;
    pthread_t t2;
    assert_int_equal(pthread_create(&t1, NULL, draw_thread, first), 0);
    assert_int_equal(pthread_create(&t2, NULL, draw_thread, second), 0);
    assert_int_equal(pthread_join(t1, NULL), 0);
    assert_int_equal(pthread_join(t2, NULL), 0);
    assert_true(memcmp(first, second, sizeof(first)) != 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_bytes_cover_every_value_across_blocks),
        cmocka_unit_test(test_random_hex_is_lowercase_hex_and_distinct),
        cmocka_unit_test(test_random_threads_draw_different_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
