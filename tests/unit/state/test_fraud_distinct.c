/*
 * The distinct destinations of the last hour (state/fraud_distinct.c): the count with the
 * index stays exact as destinations leave the window, as the ring overwrites its oldest,
 * after the index is rebuilt (a restart's import) and when the clock goes back; it and the
 * ring always equal those of a plain pass over the ring, the way the store counted before
 * the index (the reference below), over a long random walk. Also through the store: a key
 * saved and loaded counts on as the key that stayed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/fraud_distinct.h"
#include "state/fraudstore.h"
#include "support/unit.h"

#define HOUR_MS   3600000LL
#define MINUTE_MS 60000LL
#define START_MS  100000000LL

/* The count before the index: one pass over the whole ring (what the store did up to
 * issue #13), on a ring of its own. */
static uint32_t reference_count(struct fraud_distinct_ring *ring, uint64_t hash, int64_t now_ms)
{
    int64_t since = now_ms - HOUR_MS;
    bool is_known = false;
    uint32_t count = 0;
    for (size_t i = 0; i < FRAUD_DISTINCT_MAX; i++) {
        struct fraud_distinct_dest *d = &ring->dests[i];
        bool is_recent = d->hash != 0 && d->at_ms > since;
        if (is_recent && d->hash == hash) {
            d->at_ms = now_ms;
            is_known = true;
        }
        count += is_recent ? 1u : 0u;
    }
    if (!is_known) {
        struct fraud_distinct_dest *slot = &ring->dests[ring->next];
        count -= slot->hash != 0 && slot->at_ms > since ? 1u : 0u;
        *slot = (struct fraud_distinct_dest){ hash, now_ms };
        ring->next = (ring->next + 1) % FRAUD_DISTINCT_MAX;
        count++;
    }
    return count;
}

/* A ring counted with the index and the same ring counted by the reference. */
struct pair {
    struct fraud_distinct_ring ring;
    struct fraud_distinct_index index;
    struct fraud_distinct_ring reference;
};

static struct pair *pair_new(void)
{
    struct pair *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    return p;
}

/* Dials destination `number` at `now_ms` on both; both counts must agree. */
static uint32_t pair_dial(struct pair *p, uint64_t number, int64_t now_ms)
{
    uint64_t hash = (number * 0x9e3779b97f4a7c15ull) | 1u;
    uint32_t expected = reference_count(&p->reference, hash, now_ms);
    uint32_t got = fraud_distinct_count(&p->ring, &p->index, hash, now_ms, HOUR_MS);
    assert_int_equal(got, expected);
    assert_memory_equal(&p->ring, &p->reference, sizeof(p->ring));
    return got;
}

static void test_fraud_distinct_window_roll_over(void **state)
{
    (void)state;
    struct pair *p = pair_new();
    int64_t t = START_MS;
    assert_int_equal(pair_dial(p, 1, t), 1);
    assert_int_equal(pair_dial(p, 2, t + 10 * MINUTE_MS), 2);
    assert_int_equal(pair_dial(p, 1, t + 50 * MINUTE_MS), 2); /* again: its time moves on */
    assert_int_equal(pair_dial(p, 3, t + 65 * MINUTE_MS), 3); /* 1 and 2 still in the hour */
    assert_int_equal(pair_dial(p, 4, t + 71 * MINUTE_MS), 3); /* 2 left at 70 min */
    /* 1 leaves exactly an hour after its last dial: at 110 min it no longer counts. */
    assert_int_equal(pair_dial(p, 5, t + 110 * MINUTE_MS - 1), 4);
    assert_int_equal(pair_dial(p, 6, t + 110 * MINUTE_MS), 4);
    /* 2 is new again after it left; long after, everything has left. */
    assert_int_equal(pair_dial(p, 2, t + 111 * MINUTE_MS), 5);
    assert_int_equal(pair_dial(p, 7, t + 5 * HOUR_MS), 1);
    free(p);
}

static void test_fraud_distinct_eviction_of_the_oldest(void **state)
{
    (void)state;
    struct pair *p = pair_new();
    int64_t t = START_MS;
    for (uint64_t i = 1; i <= FRAUD_DISTINCT_MAX; i++) {
        assert_int_equal(pair_dial(p, i, t + (int64_t)i), i);
    }
    /* Dialled again, the first keeps its place in the ring: the next new one overwrites it. */
    assert_int_equal(pair_dial(p, 1, t + 1000), FRAUD_DISTINCT_MAX);
    assert_int_equal(pair_dial(p, 1000, t + 1001), FRAUD_DISTINCT_MAX);
    assert_int_equal(pair_dial(p, 1, t + 1002), FRAUD_DISTINCT_MAX); /* new: 2 made room */
    assert_int_equal(pair_dial(p, 3, t + 1003), FRAUD_DISTINCT_MAX); /* still there */
    /* An hour on only 1000, 1 and 3 are left, and the new one overwrites 3 (the ring's
     * oldest slot, however recent its last dial). */
    assert_int_equal(pair_dial(p, 2000, t + HOUR_MS + 1000), 3);
    free(p);
}

static void test_fraud_distinct_rebuilt_after_restart_and_clock_back(void **state)
{
    (void)state;
    struct pair *p = pair_new();
    int64_t t = START_MS;
    for (uint64_t i = 0; i < 300; i++) {
        (void)pair_dial(p, i % 200, t + (int64_t)i * 20000);
    }
    /* A restart: the ring comes back from the image, the index from the ring. */
    fraud_distinct_index_reset(&p->index);
    t += 300 * 20000LL;
    assert_int_equal(pair_dial(p, 7, t), 179); /* the last 179 dials' numbers, 7 among them */
    /* The clock goes back by ten minutes (a restored image ahead of a rebooted clock). */
    (void)pair_dial(p, 900, t - 10 * MINUTE_MS);
    (void)pair_dial(p, 7, t - 9 * MINUTE_MS);
    (void)pair_dial(p, 901, t + MINUTE_MS);
    (void)pair_dial(p, 900, t + 2 * MINUTE_MS);
    free(p);
}

/* A long random walk: mostly steps forward of up to `step_ms`, some jumps past the hour, a
 * few steps back, index resets, destinations from a pool larger than the ring, and dials
 * up to `jitter_ms` behind the walk (another worker's clock, read a little earlier). */
static void random_walk(uint64_t seed, int64_t step_ms, int64_t jitter_ms)
{
    struct pair *p = pair_new();
    int64_t t = START_MS;
    for (unsigned i = 0; i < 200000; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        unsigned roll = (unsigned)(seed % 1000);
        int64_t span = (int64_t)(seed >> 20);
        if (roll < 3) {
            t -= span % (30 * MINUTE_MS);
        } else if (roll < 8) {
            t += span % (2 * HOUR_MS);
        } else if (roll < 10) {
            fraud_distinct_index_reset(&p->index);
        } else {
            t += span % step_ms;
        }
        int64_t behind = roll % 3 == 0 ? (span >> 16) % jitter_ms : 0;
        uint64_t pool = roll < 500 ? 700 : 60;
        (void)pair_dial(p, (seed >> 32) % pool, t - behind);
    }
    free(p);
}

static void test_fraud_distinct_random_walk_equals_reference(void **state)
{
    (void)state;
    random_walk(0x2545f4914f6cdd1dull, 30000, 40);
    random_walk(0x9e3779b97f4a7c15ull, 200, 300); /* dense: destinations leave every dial */
}

struct saved {
    char key[FRAUD_KEY_CAP];
    unsigned char *image;
    size_t len;
};

static void save_one(void *ctx, struct sv key, const void *image, size_t len)
{
    struct saved *s = ctx;
    assert_true(sv_copy_cstr(key, s->key, sizeof(s->key)));
    s->image = malloc(len);
    assert_non_null(s->image);
    memcpy(s->image, image, len);
    s->len = len;
}

static void test_fraud_distinct_store_counts_on_after_import(void **state)
{
    (void)state;
    struct fraud_store *a = fraud_store_new_memory(64, 64);
    struct fraud_store *b = fraud_store_new_memory(64, 64);
    assert_non_null(a);
    assert_non_null(b);
    struct velocity_cfg cfg = { 0 }; /* counting only */
    char digits[32];
    int64_t t = 5000000;
    for (unsigned i = 0; i < 600; i++, t += 9000) {
        (void)snprintf(digits, sizeof(digits), "4420%07u", i % 550);
        struct fraud_dial d = { sv_from_cstr(digits), true, t };
        struct fraud_dial_result r;
        fraud_store_dial(a, SV("trunk:x"), &d, &cfg, &r);
    }
    struct saved saved = { 0 };
    assert_int_equal(fraud_store_export_keys(a, 0, true, save_one, &saved), 1);
    assert_true(fraud_store_import_key(b, sv_from_cstr(saved.key), saved.image, saved.len, 0));
    for (unsigned i = 0; i < 800; i++, t += 7000) {
        (void)snprintf(digits, sizeof(digits), "4420%07u", (i * 7) % 650);
        struct fraud_dial d = { sv_from_cstr(digits), true, t };
        struct fraud_dial_result ra;
        struct fraud_dial_result rb;
        fraud_store_dial(a, SV("trunk:x"), &d, &cfg, &ra);
        fraud_store_dial(b, SV("trunk:x"), &d, &cfg, &rb);
        assert_int_equal(ra.distinct_hour, rb.distinct_hour);
        assert_int_equal(ra.calls_minute, rb.calls_minute);
        assert_int_equal(ra.international_hour, rb.international_hour);
        assert_true(ra.distinct_hour >= 1 && ra.distinct_hour <= FRAUD_DISTINCT_MAX);
    }
    free(saved.image);
    fraud_store_free(a);
    fraud_store_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fraud_distinct_window_roll_over),
        cmocka_unit_test(test_fraud_distinct_eviction_of_the_oldest),
        cmocka_unit_test(test_fraud_distinct_rebuilt_after_restart_and_clock_back),
        cmocka_unit_test(test_fraud_distinct_random_walk_equals_reference),
        cmocka_unit_test(test_fraud_distinct_store_counts_on_after_import),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
