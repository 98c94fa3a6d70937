#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "stir/cache.h"
#include "stir/cert.h"
#include "support/unit.h"
#include "testutil.h"

#define NOW 1800000000

static STACK_OF(X509) * chain_of(const struct tu_pki *pki)
{
    STACK_OF(X509) *chain = stir_cert_chain_parse(pki->chain_pem, pki->chain_len);
    assert_non_null(chain);
    return chain;
}

static void put(struct stir_cache *cache, const struct tu_pki *pki, const char *url,
                uint64_t expires_ms, size_t bytes)
{
    struct stir_cache_put p = {
        .url = sv_from_cstr(url),
        .chain = chain_of(pki),
        .status = STIR_OK,
        .valid_from_s = NOW - 10,
        .valid_until_s = NOW + 10,
        .expires_ms = expires_ms,
        .bytes = bytes,
    };
    assert_int_equal(stir_cache_insert(cache, &p), 0);
}

static bool has(struct stir_cache *cache, const char *url, uint64_t now_ms)
{
    struct stir_cache_hit hit;
    bool is_hit = stir_cache_lookup(cache, sv_from_cstr(url), now_ms, &hit);
    EVP_PKEY_free(hit.key);
    return is_hit;
}

static void test_cache_keeps_chain_and_expires(void **state)
{
    (void)state;
    struct tu_pki pki;
    tu_pki_init(&pki, NOW - 100, NOW + 100);
    struct stir_cache_cfg cfg = { 0 };
    struct stir_cache *cache = stir_cache_new(&cfg);
    assert_non_null(cache);
    put(cache, &pki, "https://a/1", 1000, 100);
    struct stir_cache_hit hit;
    assert_true(stir_cache_lookup(cache, SV("https://a/1"), 999, &hit));
    assert_int_equal(hit.status, STIR_OK);
    assert_int_equal(hit.chain_len, 2);
    assert_non_null(hit.key);
    assert_int_equal(EVP_PKEY_eq(hit.key, pki.leaf_key), 1);
    EVP_PKEY_free(hit.key);
    assert_false(has(cache, "https://a/2", 0));
    assert_false(has(cache, "https://a/1", 1000)); /* expired and dropped */
    struct stir_cache_stats stats;
    stir_cache_get_stats(cache, &stats);
    assert_int_equal(stats.entries, 0);
    assert_int_equal(stats.bytes, 0);
    assert_int_equal(stats.hits, 1);
    assert_int_equal(stats.misses, 2);
    /* Failure entries carry no key. */
    struct stir_cache_put fail = { .url = SV("https://a/3"),
                                   .status = STIR_CERT_FETCH,
                                   .expires_ms = 50 };
    assert_int_equal(stir_cache_insert(cache, &fail), 0);
    assert_true(stir_cache_lookup(cache, SV("https://a/3"), 10, &hit));
    assert_int_equal(hit.status, STIR_CERT_FETCH);
    assert_null(hit.key);
    stir_cache_free(cache);
    tu_pki_fini(&pki);
}

static void test_cache_lru_bounds(void **state)
{
    (void)state;
    struct tu_pki pki;
    tu_pki_init(&pki, NOW - 100, NOW + 100);
    struct stir_cache_cfg cfg = { .max_entries = 3, .max_bytes = 1000 };
    struct stir_cache *cache = stir_cache_new(&cfg);
    assert_non_null(cache);
    put(cache, &pki, "https://a/1", 1000, 10);
    put(cache, &pki, "https://a/2", 1000, 10);
    put(cache, &pki, "https://a/3", 1000, 10);
    assert_true(has(cache, "https://a/1", 0)); /* 1 becomes most recent; 2 is the oldest */
    put(cache, &pki, "https://a/4", 1000, 10);
    assert_false(has(cache, "https://a/2", 0));
    assert_true(has(cache, "https://a/1", 0));
    assert_true(has(cache, "https://a/3", 0));
    assert_true(has(cache, "https://a/4", 0));
    /* Bytes: a big entry pushes out as many old ones as needed. */
    put(cache, &pki, "https://a/5", 1000, 980);
    struct stir_cache_stats stats;
    stir_cache_get_stats(cache, &stats);
    assert_true(stats.bytes <= 1000);
    assert_int_equal(stats.entries, 1);
    assert_true(has(cache, "https://a/5", 0));
    /* An entry larger than the whole cache is refused; the caller keeps its chain. */
    STACK_OF(X509) *chain = chain_of(&pki);
    struct stir_cache_put huge = { .url = SV("https://a/6"),
                                   .chain = chain,
                                   .status = STIR_OK,
                                   .expires_ms = 1000,
                                   .bytes = 2000 };
    assert_int_equal(stir_cache_insert(cache, &huge), -SW_ETOOBIG);
    sk_X509_pop_free(chain, X509_free);
    /* Replacing an entry keeps one copy. */
    put(cache, &pki, "https://a/5", 1000, 20);
    stir_cache_get_stats(cache, &stats);
    assert_int_equal(stats.entries, 1);
    stir_cache_clear(cache);
    stir_cache_get_stats(cache, &stats);
    assert_int_equal(stats.entries, 0);
    stir_cache_free(cache);
    stir_cache_free(NULL);
    tu_pki_fini(&pki);
}

static void test_cache_many_entries(void **state)
{
    (void)state;
    struct tu_pki pki;
    tu_pki_init(&pki, NOW - 100, NOW + 100);
    struct stir_cache_cfg cfg = { .max_entries = 64 };
    struct stir_cache *cache = stir_cache_new(&cfg);
    assert_non_null(cache);
    char url[64];
    for (int i = 0; i < 500; i++) {
        (void)snprintf(url, sizeof(url), "https://h%d.example/c.pem", i);
        put(cache, &pki, url, 1000, 100);
    }
    struct stir_cache_stats stats;
    stir_cache_get_stats(cache, &stats);
    assert_int_equal(stats.entries, 64);
    assert_int_equal(stats.evictions, 500 - 64);
    assert_true(has(cache, "https://h499.example/c.pem", 0));
    assert_false(has(cache, "https://h0.example/c.pem", 0));
    stir_cache_free(cache);
    tu_pki_fini(&pki);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_keeps_chain_and_expires),
        cmocka_unit_test(test_cache_lru_bounds),
        cmocka_unit_test(test_cache_many_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
