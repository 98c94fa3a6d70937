#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "policy/nonce.h"
#include "support/unit.h"

static struct sw_ip ip_of(const char *text)
{
    struct sw_ip ip;
    assert_true(sw_ip_parse(sv_from_cstr(text), &ip));
    return ip;
}

static void test_nonce_round_trip_and_binding(void **state)
{
    (void)state;
    struct nonce_keeper *k = nonce_keeper_new(300, 1024);
    assert_non_null(k);
    struct sw_ip a = ip_of("192.0.2.10");
    struct sw_ip b = ip_of("192.0.2.11");
    char n1[NONCE_HEX_LEN + 1];
    char n2[NONCE_HEX_LEN + 1];
    nonce_make(k, &a, SV("sipwarden"), 1000, n1);
    nonce_make(k, &a, SV("sipwarden"), 1000, n2);
    assert_int_equal(strlen(n1), NONCE_HEX_LEN);
    assert_string_not_equal(n1, n2); /* same second, same source: still distinct */
    struct sv s1 = sv_from_cstr(n1);
    assert_int_equal(nonce_verify(k, &a, SV("sipwarden"), s1, 1000), NONCE_OK);
    assert_int_equal(nonce_verify(k, &a, SV("sipwarden"), s1, 1300), NONCE_OK);
    assert_int_equal(nonce_verify(k, &a, SV("sipwarden"), s1, 1301), NONCE_STALE);
    assert_int_equal(nonce_verify(k, &b, SV("sipwarden"), s1, 1000), NONCE_FORGED);
    assert_int_equal(nonce_verify(k, &a, SV("other"), s1, 1000), NONCE_FORGED);
    assert_int_equal(nonce_verify(k, &a, SV("sipwarden"), s1, 998), NONCE_FORGED);
    n1[NONCE_HEX_LEN - 1] = n1[NONCE_HEX_LEN - 1] == '0' ? '1' : '0';
    assert_int_equal(nonce_verify(k, &a, SV("sipwarden"), sv_from_cstr(n1), 1000), NONCE_FORGED);
    assert_int_equal(nonce_verify(k, &a, SV("sipwarden"), SV("zz"), 1000), NONCE_FORGED);
    assert_int_equal(nonce_verify(k, &a, SV("sipwarden"), SV(""), 1000), NONCE_FORGED);
    nonce_keeper_free(k);
}

static size_t same_digits(const char *a, const char *b)
{
    size_t n = 0;
    for (size_t i = 0; i < NONCE_HEX_LEN; i++) {
        n += a[i] == b[i];
    }
    return n;
}

/*
 * Issue #9.15: nonces showed their issue time and a global counter in clear (the first
 * 32 digits of two nonces of one second differed in the last digit only). Now nothing of
 * them shows: no time in the digits, and two nonces agree in about 1/16 of their digits,
 * as random strings do (4 of 64 on average; the old ones shared 31 at least).
 */
static void test_nonce_hides_time_and_counter(void **state)
{
    (void)state;
    struct nonce_keeper *k = nonce_keeper_new(300, 64);
    struct sw_ip a = ip_of("192.0.2.10");
    char first[NONCE_HEX_LEN + 1];
    nonce_make(k, &a, SV("r"), 0x5f5e100, first);
    for (int i = 0; i < 100; i++) {
        char next[NONCE_HEX_LEN + 1];
        nonce_make(k, &a, SV("r"), 0x5f5e100 + i / 10, next);
        assert_null(strstr(next, "0000000005f5e1"));
        assert_null(strstr(next, "000000000000"));
        if (i > 0 && same_digits(first, next) > 16) {
            fail_msg("nonces %s and %s share %zu digits", first, next, same_digits(first, next));
        }
        assert_int_equal(nonce_verify(k, &a, SV("r"), sv_from_cstr(next), 0x5f5e100 + 10),
                         NONCE_OK);
    }
    nonce_keeper_free(k);
}

static void test_nonce_other_keeper_rejects(void **state)
{
    (void)state;
    struct nonce_keeper *k1 = nonce_keeper_new(300, 64);
    struct nonce_keeper *k2 = nonce_keeper_new(300, 64);
    struct sw_ip a = ip_of("2001:db8::1");
    char n[NONCE_HEX_LEN + 1];
    nonce_make(k1, &a, SV("r"), 5000, n);
    /* A restart draws a new master: old nonces are not accepted as valid. */
    assert_int_equal(nonce_verify(k2, &a, SV("r"), sv_from_cstr(n), 5000), NONCE_FORGED);
    nonce_keeper_free(k1);
    nonce_keeper_free(k2);
}

/* The verdicts of every kind of answer to nonce `n` (made at 1000 for a, "r"). */
static void expect_verdicts(const struct nonce_keeper *k, const char *n)
{
    struct sw_ip a = ip_of("192.0.2.10");
    struct sw_ip b = ip_of("192.0.2.11");
    struct sv s = sv_from_cstr(n);
    assert_int_equal(nonce_verify(k, &a, SV("r"), s, 1000), NONCE_OK);
    assert_int_equal(nonce_verify(k, &a, SV("r"), s, 1300), NONCE_OK);
    assert_int_equal(nonce_verify(k, &a, SV("r"), s, 1301), NONCE_STALE);
    assert_int_equal(nonce_verify(k, &a, SV("r"), s, 998), NONCE_FORGED);
    assert_int_equal(nonce_verify(k, &b, SV("r"), s, 1000), NONCE_FORGED);
    assert_int_equal(nonce_verify(k, &a, SV("R"), s, 1000), NONCE_FORGED);
}

/*
 * #13: the keeper remembers the latest nonces and checks their answers without decoding
 * them; one it has forgotten (overwritten by later ones) is decoded. Both give the same
 * verdicts, and a nonce altered in any digit is forged either way.
 */
static void test_nonce_remembered_or_not_same_verdicts(void **state)
{
    (void)state;
    struct nonce_keeper *k = nonce_keeper_new(300, 16); /* remembers a few dozen at most */
    struct sw_ip a = ip_of("192.0.2.10");
    char first[NONCE_HEX_LEN + 1];
    nonce_make(k, &a, SV("r"), 1000, first);
    expect_verdicts(k, first); /* remembered */
    char last[NONCE_HEX_LEN + 1];
    for (int i = 0; i < 500; i++) {
        nonce_make(k, &a, SV("r"), 1000, last);
    }
    expect_verdicts(k, first); /* forgotten */
    expect_verdicts(k, last);
    for (size_t i = 0; i < NONCE_HEX_LEN; i++) {
        char altered[NONCE_HEX_LEN + 1];
        memcpy(altered, last, sizeof(altered));
        altered[i] = altered[i] == 'a' ? 'b' : 'a';
        assert_int_equal(nonce_verify(k, &a, SV("r"), sv_from_cstr(altered), 1000), NONCE_FORGED);
    }
    nonce_keeper_free(k);
}

static void test_nonce_count_replay(void **state)
{
    (void)state;
    struct nonce_keeper *k = nonce_keeper_new(300, 1024);
    struct sv nonce = SV("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    assert_true(nonce_accept_nc(k, nonce, SV("00000001")));
    assert_false(nonce_accept_nc(k, nonce, SV("00000001")));
    assert_true(nonce_accept_nc(k, nonce, SV("00000002")));
    assert_true(nonce_accept_nc(k, nonce, SV("0000000A")));
    /* Below the highest but inside the window and unused: accepted once (issue #9.12). */
    assert_true(nonce_accept_nc(k, nonce, SV("00000009")));
    assert_false(nonce_accept_nc(k, nonce, SV("00000009")));
    assert_false(nonce_accept_nc(k, nonce, SV("00000000")));
    assert_false(nonce_accept_nc(k, nonce, SV("1")));
    assert_false(nonce_accept_nc(k, nonce, SV("0000000g")));
    assert_true(nonce_accept_nc(k, SV("another"), SV("00000001")));
    nonce_keeper_free(k);
    nonce_keeper_free(NULL);
}

static struct sv nc_text(uint32_t value, char *buf)
{
    (void)snprintf(buf, 9, "%08x", value);
    return sv_make(buf, 8);
}

/* The window's edges: NONCE_NC_WINDOW counts below the highest, each once. */
static void test_nonce_count_window_edges(void **state)
{
    (void)state;
    struct nonce_keeper *k = nonce_keeper_new(300, 1024);
    struct sv nonce = SV("window-edges");
    char buf[9];
    uint32_t top = 1000;
    assert_true(nonce_accept_nc(k, nonce, nc_text(top, buf)));
    assert_true(nonce_accept_nc(k, nonce, nc_text(top - (NONCE_NC_WINDOW - 1), buf)));
    assert_false(nonce_accept_nc(k, nonce, nc_text(top - (NONCE_NC_WINDOW - 1), buf)));
    assert_false(nonce_accept_nc(k, nonce, nc_text(top - NONCE_NC_WINDOW, buf)));
    assert_true(nonce_accept_nc(k, nonce, nc_text(top - 1, buf)));
    /* A jump of exactly the window forgets everything below the new highest's window. */
    assert_true(nonce_accept_nc(k, nonce, nc_text(top + NONCE_NC_WINDOW, buf)));
    assert_false(nonce_accept_nc(k, nonce, nc_text(top, buf)));
    assert_true(nonce_accept_nc(k, nonce, nc_text(top + 1, buf)));
    assert_false(nonce_accept_nc(k, nonce, nc_text(top + 1, buf)));
    /* A jump of one keeps what was seen: top + 1 is still known as used. */
    assert_true(nonce_accept_nc(k, nonce, nc_text(top + NONCE_NC_WINDOW + 1, buf)));
    assert_false(nonce_accept_nc(k, nonce, nc_text(top + 1, buf)));
    assert_true(nonce_accept_nc(k, nonce, nc_text(top + 2, buf)));
    assert_true(nonce_accept_nc(k, nonce, nc_text(0xffffffffu, buf)));
    assert_false(nonce_accept_nc(k, nonce, nc_text(0xffffffffu, buf)));
    nonce_keeper_free(k);
}

#define NC_THREADS 4
#define NC_ROUNDS  200

struct nc_race {
    struct nonce_keeper *keeper;
    pthread_barrier_t barrier;
    atomic_uint accepted[NC_THREADS * NC_ROUNDS + 1];
};

struct nc_thread {
    struct nc_race *race;
    unsigned index;
};

/* Parallel requests of one client: round r, thread t sends count r * NC_THREADS + t + 1
 * (the client's order is lost between workers), then every thread replays every count. */
static void *nc_worker(void *arg)
{
    const struct nc_thread *self = arg;
    struct nc_race *race = self->race;
    unsigned t = self->index;
    char buf[9];
    for (uint32_t r = 0; r < NC_ROUNDS; r++) {
        (void)pthread_barrier_wait(&race->barrier);
        uint32_t value = r * NC_THREADS + t + 1;
        if (nonce_accept_nc(race->keeper, SV("shared"), nc_text(value, buf))) {
            atomic_fetch_add(&race->accepted[value], 1);
        }
    }
    (void)pthread_barrier_wait(&race->barrier);
    for (uint32_t value = 1; value <= NC_THREADS * NC_ROUNDS; value++) {
        if (nonce_accept_nc(race->keeper, SV("shared"), nc_text(value, buf))) {
            atomic_fetch_add(&race->accepted[value], 1);
        }
    }
    return NULL;
}

static void test_nonce_count_parallel_requests(void **state)
{
    (void)state;
    static struct nc_race race;
    memset(&race, 0, sizeof(race));
    race.keeper = nonce_keeper_new(300, 1024);
    assert_non_null(race.keeper);
    assert_int_equal(pthread_barrier_init(&race.barrier, NULL, NC_THREADS), 0);
    pthread_t threads[NC_THREADS];
    struct nc_thread selves[NC_THREADS];
    for (unsigned t = 0; t < NC_THREADS; t++) {
        selves[t] = (struct nc_thread){ .race = &race, .index = t };
        assert_int_equal(pthread_create(&threads[t], NULL, nc_worker, &selves[t]), 0);
    }
    for (unsigned t = 0; t < NC_THREADS; t++) {
        assert_int_equal(pthread_join(threads[t], NULL), 0);
    }
    for (uint32_t value = 1; value <= NC_THREADS * NC_ROUNDS; value++) {
        if (atomic_load(&race.accepted[value]) != 1) {
            fail_msg("count %u accepted %u times, expected once", value,
                     atomic_load(&race.accepted[value]));
        }
    }
    assert_int_equal(pthread_barrier_destroy(&race.barrier), 0);
    nonce_keeper_free(race.keeper);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nonce_round_trip_and_binding),
        cmocka_unit_test(test_nonce_hides_time_and_counter),
        cmocka_unit_test(test_nonce_other_keeper_rejects),
        cmocka_unit_test(test_nonce_remembered_or_not_same_verdicts),
        cmocka_unit_test(test_nonce_count_replay),
        cmocka_unit_test(test_nonce_count_window_edges),
        cmocka_unit_test(test_nonce_count_parallel_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
