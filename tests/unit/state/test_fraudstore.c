/*
 * The window counters of the fraud store (state/fraudstore.c): the calls of the last minute,
 * the international calls of the last hour and the distinct destinations of the last hour
 * that the store follows from dial to dial equal those of a pass over the buckets (how the
 * store counted before issue #13, the reference below), over a long random walk of one
 * key with idle spells, a clock that goes back, and restarts (the key saved and loaded
 * into a new store, which counts on from there).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/fraudstore.h"
#include "support/unit.h"

#define BUCKETS   60
#define MINUTE_MS 60000LL
#define HOUR_MS   3600000LL

/* The pass over the buckets, on buckets of its own. */
struct reference {
    int64_t second_of[BUCKETS];
    uint32_t per_second[BUCKETS];
    int64_t minute_of[BUCKETS];
    uint32_t intl_per_minute[BUCKETS];
};

static uint32_t reference_window(int64_t *of, uint32_t *counts, int64_t unit, uint32_t add)
{
    size_t at = (size_t)(unit % BUCKETS);
    if (of[at] != unit) {
        of[at] = unit;
        counts[at] = 0;
    }
    counts[at] += add;
    uint32_t sum = 0;
    for (size_t i = 0; i < BUCKETS; i++) {
        sum += of[i] > unit - BUCKETS ? counts[i] : 0u;
    }
    return sum;
}

struct saved {
    unsigned char *image;
    size_t len;
};

static void save_one(void *ctx, struct sv key, const void *image, size_t len)
{
    struct saved *s = ctx;
    assert_true(sv_eq(key, SV("trunk:x")));
    free(s->image);
    s->image = malloc(len);
    assert_non_null(s->image);
    memcpy(s->image, image, len);
    s->len = len;
}

/* The key saved from `from` and loaded into a new store, as at a restart. */
static struct fraud_store *restarted(struct fraud_store *from)
{
    struct saved saved = { 0 };
    assert_int_equal(fraud_store_export_keys(from, 0, true, save_one, &saved), 1);
    fraud_store_free(from);
    struct fraud_store *to = fraud_store_new_memory(64, 64);
    assert_non_null(to);
    assert_true(fraud_store_import_key(to, SV("trunk:x"), saved.image, saved.len, 0));
    free(saved.image);
    return to;
}

static uint64_t next_random(uint64_t *seed)
{
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    return *seed;
}

/* The next dial's time: mostly seconds apart, sometimes an idle spell, rarely back. */
static int64_t next_time(int64_t t, uint64_t r)
{
    unsigned roll = (unsigned)(r % 1000);
    int64_t span = (int64_t)(r >> 20);
    if (roll < 3) {
        return t - span % (20 * MINUTE_MS);
    }
    if (roll < 10) {
        return t + span % (2 * HOUR_MS);
    }
    if (roll < 60) {
        return t + span % (3 * MINUTE_MS);
    }
    return t + span % 3000;
}

static void test_fraudstore_windows_equal_the_pass_over_the_buckets(void **state)
{
    (void)state;
    struct fraud_store *store = fraud_store_new_memory(64, 64);
    struct fraud_store *steady = fraud_store_new_memory(64, 64); /* never restarted */
    assert_non_null(store);
    assert_non_null(steady);
    struct reference *ref = calloc(1, sizeof(*ref));
    assert_non_null(ref);
    struct velocity_cfg cfg = { 0 }; /* counting only */
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    int64_t t = 10000000; /* the store adds a day to every time: never near 0 */
    for (unsigned i = 0; i < 100000; i++) {
        uint64_t r = next_random(&seed);
        t = next_time(t, r);
        if (r % 5000 == 7) {
            store = restarted(store);
        }
        char digits[32];
        (void)snprintf(digits, sizeof(digits), "4420%07u", (unsigned)((r >> 40) % 600));
        bool is_international = (r >> 33) % 3 != 0;
        struct fraud_dial d = { sv_from_cstr(digits), is_international, t };
        struct fraud_dial_result got;
        fraud_store_dial(store, SV("trunk:x"), &d, &cfg, &got);
        int64_t biased = t + 86400000;
        assert_int_equal(got.calls_minute,
                         reference_window(ref->second_of, ref->per_second, biased / 1000 + 1, 1));
        assert_int_equal(got.international_hour,
                         reference_window(ref->minute_of, ref->intl_per_minute,
                                          biased / MINUTE_MS + 1, is_international ? 1u : 0u));
        assert_true(got.distinct_hour >= 1 && got.distinct_hour <= FRAUD_DISTINCT_MAX);
        struct fraud_dial_result kept;
        fraud_store_dial(steady, SV("trunk:x"), &d, &cfg, &kept);
        assert_int_equal(got.distinct_hour, kept.distinct_hour);
        assert_int_equal(got.calls_minute, kept.calls_minute);
    }
    free(ref);
    fraud_store_free(store);
    fraud_store_free(steady);
}

static void count_export(void *ctx, struct sv key, const void *image, size_t len)
{
    (void)key;
    (void)image;
    (void)len;
    (*(size_t *)ctx)++;
}

static void dial_key(struct fraud_store *store, const char *key, int64_t now_ms)
{
    struct velocity_cfg cfg = { 0 };
    struct fraud_dial d = { SV("442071234567"), true, now_ms };
    struct fraud_dial_result r;
    fraud_store_dial(store, sv_from_cstr(key), &d, &cfg, &r);
}

/* An export hands over the keys changed since the last one, each once; `is_all` every key. */
static void test_fraudstore_export_takes_each_changed_key_once(void **state)
{
    (void)state;
    struct fraud_store *store = fraud_store_new_memory(256, 64);
    assert_non_null(store);
    char key[32];
    for (unsigned i = 0; i < 100; i++) {
        (void)snprintf(key, sizeof(key), "account:a%u", i);
        dial_key(store, key, 1000 + i);
        dial_key(store, key, 2000 + i); /* changed twice, exported once */
    }
    size_t n = 0;
    assert_int_equal(fraud_store_export_keys(store, 0, false, count_export, &n), 100);
    assert_int_equal(n, 100);
    assert_int_equal(fraud_store_export_keys(store, 0, false, count_export, &n), 0);
    dial_key(store, "account:a7", 3000);
    fraud_store_dial_end(store, SV("account:a9"), SV("442071234567"), 2009, 5000);
    assert_int_equal(fraud_store_export_keys(store, 0, false, count_export, &n), 2);
    dial_key(store, "account:a3", 4000);
    assert_int_equal(fraud_store_export_keys(store, 0, true, count_export, &n), 100);
    assert_int_equal(fraud_store_export_keys(store, 0, false, count_export, &n), 0);
    fraud_store_free(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fraudstore_windows_equal_the_pass_over_the_buckets),
        cmocka_unit_test(test_fraudstore_export_takes_each_changed_key_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
