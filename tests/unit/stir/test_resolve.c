/*
 * The certificate fetchers' name lookups are bounded: a resolver that hangs costs the
 * caller the time limit and no more, the late answer is freed by the lookup's own thread,
 * a fast answer is handed over, and outstanding lookups are capped.
 */
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stir/fetch.h"
#include "stir/resolve.h"
#include "support/unit.h"

static atomic_int slow_lookups_done;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A resolver that hangs for 1.5 s, then answers 127.0.0.1. */
static int slow_lookup(const char *host, const char *service, const struct addrinfo *hints,
                       struct addrinfo **out)
{
    (void)host;
    struct timespec pause = { .tv_sec = 1, .tv_nsec = 500000000L };
    (void)nanosleep(&pause, NULL);
    int rc = getaddrinfo("127.0.0.1", service, hints, out);
    atomic_fetch_add(&slow_lookups_done, 1);
    return rc;
}

static const struct addrinfo stream_hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };

static void test_resolve_answers_within_the_limit(void **state)
{
    (void)state;
    struct addrinfo *list = NULL;
    assert_int_equal(stir_resolve(NULL, "127.0.0.1", "443", &stream_hints, 2000, &list), 0);
    assert_non_null(list);
    freeaddrinfo(list);
}

static void test_resolve_gives_up_at_the_limit(void **state)
{
    (void)state;
    atomic_store(&slow_lookups_done, 0);
    struct addrinfo *list = NULL;
    uint64_t start = now_ms();
    assert_int_equal(stir_resolve(slow_lookup, "x5u.example", "443", &stream_hints, 200, &list),
                     EAI_AGAIN);
    uint64_t took = now_ms() - start;
    assert_null(list);
    assert_true(took >= 190 && took < 1200); /* the limit, not the resolver's 1.5 s */
    /* The abandoned lookup finishes on its own and frees its answer (LSan would say). */
    for (int i = 0; i < 60 && atomic_load(&slow_lookups_done) == 0; i++) {
        usleep(50000);
    }
    assert_int_equal(atomic_load(&slow_lookups_done), 1);
    usleep(50000);
}

static void test_resolve_caps_outstanding_lookups(void **state)
{
    (void)state;
    atomic_store(&slow_lookups_done, 0);
    struct addrinfo *list = NULL;
    for (int i = 0; i < STIR_RESOLVE_MAX_PENDING; i++) {
        assert_int_equal(stir_resolve(slow_lookup, "x5u.example", "443", &stream_hints, 1, &list),
                         EAI_AGAIN);
    }
    /* All slots taken by hanging lookups: the next fails at once, without a thread. */
    uint64_t start = now_ms();
    assert_int_equal(stir_resolve(NULL, "127.0.0.1", "443", &stream_hints, 1000, &list), EAI_AGAIN);
    assert_true(now_ms() - start < 100);
    for (int i = 0; i < 80 && atomic_load(&slow_lookups_done) < STIR_RESOLVE_MAX_PENDING; i++) {
        usleep(50000);
    }
    assert_int_equal(atomic_load(&slow_lookups_done), STIR_RESOLVE_MAX_PENDING);
    usleep(50000);
    assert_int_equal(stir_resolve(NULL, "127.0.0.1", "443", &stream_hints, 1000, &list), 0);
    freeaddrinfo(list);
}

/* Through the fetch: a hanging resolver fails the fetch within its total time limit. */
static void test_fetch_is_bounded_by_its_timeout(void **state)
{
    (void)state;
    atomic_store(&slow_lookups_done, 0);
    struct stir_fetch_cfg cfg = { .total_timeout_ms = 300, .resolve = slow_lookup };
    struct stir_fetch_result result;
    uint64_t start = now_ms();
    assert_int_not_equal(stir_fetch_url(&cfg, "https://x5u.example/cert.pem", &result), 0);
    assert_true(now_ms() - start < 1200);
    assert_non_null(strstr(result.error, "cannot resolve x5u.example"));
    stir_fetch_result_fini(&result);
    for (int i = 0; i < 60 && atomic_load(&slow_lookups_done) == 0; i++) {
        usleep(50000);
    }
    usleep(50000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve_answers_within_the_limit),
        cmocka_unit_test(test_resolve_gives_up_at_the_limit),
        cmocka_unit_test(test_resolve_caps_outstanding_lookups),
        cmocka_unit_test(test_fetch_is_bounded_by_its_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
