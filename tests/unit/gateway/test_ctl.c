#include <string.h>

#include "base/hash.h"
#include "gateway/gateway_obs.h"
#include "state/ban.h"
#include "support/unit.h"

#define NOW 1800000000

static struct ban_store *store_with_never_ban(void)
{
    static struct sw_cidr never;
    assert_true(sw_cidr_parse(SV("203.0.113.0/24"), &never));
    struct ban_config cfg = { .max_entries = 1024, .never_ban = &never, .never_ban_count = 1 };
    struct ban_store *store = NULL;
    assert_int_equal(ban_store_new(&cfg, &store), 0);
    return store;
}

static void run(struct ban_store *store, const char *line, char *out, size_t cap)
{
    gw_ctl_handle(store, line, NOW, out, cap);
}

static void test_ctl_add_list_del(void **state)
{
    (void)state;
    struct ban_store *store = store_with_never_ban();
    char out[4096];
    run(store, "add 192.0.2.7 600", out, sizeof(out));
    assert_string_equal(out, "ok\n");
    run(store, "add 2001:db8::9 forever", out, sizeof(out));
    assert_string_equal(out, "ok\n");
    run(store, "add 192.0.2.8", out, sizeof(out)); /* [ban] bantime by default */
    assert_string_equal(out, "ok\n");
    run(store, "list", out, sizeof(out));
    assert_non_null(strstr(out, "ban 192.0.2.7 1800000000 1800000600 1 manual manual\n"));
    assert_non_null(strstr(out, "ban 2001:db8::9 1800000000 never 1 manual manual\n"));
    assert_non_null(strstr(out, "ban 192.0.2.8 1800000000 1800086400 1 manual manual\n"));
    assert_non_null(strstr(out, "ok\n"));
    run(store, "del 192.0.2.7", out, sizeof(out));
    assert_string_equal(out, "ok\n");
    run(store, "del 192.0.2.7", out, sizeof(out));
    assert_string_equal(out, "error: 192.0.2.7 is not banned\n");
    run(store, "list", out, sizeof(out));
    assert_null(strstr(out, "192.0.2.7"));
    ban_store_free(store);
}

static void test_ctl_refuses_bad_requests(void **state)
{
    (void)state;
    struct ban_store *store = store_with_never_ban();
    char out[4096];
    static const char *const bad[] = {
        "",
        "lst",
        "add",
        "add 999.1.1.1",
        "add 192.0.2.1 -5",
        "add 192.0.2.1 1x",
        "add 192.0.2.1 60 extra",
        "del",
        "del host.example",
        "list extra",
        "add 192.0.2.1 4294967295",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        run(store, bad[i], out, sizeof(out));
        assert_memory_equal(out, "error: ", 7);
    }
    /* The never-ban list is respected by manual bans too. */
    run(store, "add 203.0.113.5 60", out, sizeof(out));
    assert_non_null(strstr(out, "never-ban"));
    assert_int_equal(ban_store_count(store), 0);
    ban_store_free(store);
}

static void test_ctl_truncates_a_long_list_with_an_error_line(void **state)
{
    (void)state;
    struct ban_store *store = store_with_never_ban();
    char line[64];
    char out[4096];
    for (unsigned i = 0; i < 200; i++) {
        (void)snprintf(line, sizeof(line), "add 198.51.100.%u 600", i);
        run(store, line, out, sizeof(out));
        assert_string_equal(out, "ok\n");
    }
    char small[512];
    run(store, "list", small, sizeof(small));
    assert_true(strlen(small) < sizeof(small));
    assert_non_null(strstr(small, "error: reply truncated\n"));
    ban_store_free(store);
}

static int setup(void **state)
{
    (void)state;
    return sw_hash_init();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctl_add_list_del),
        cmocka_unit_test(test_ctl_refuses_bad_requests),
        cmocka_unit_test(test_ctl_truncates_a_long_list_with_an_error_line),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
