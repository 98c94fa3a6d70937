#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "obs/apireq.h"
#include "support/unit.h"

static void test_apireq_routes(void **state)
{
    (void)state;

    static const struct {
        const char *method;
        const char *path;
        int rc;
        enum api_route route;
    } cases[] = {
        { "GET", "/api/v1/status", 0, API_STATUS },
        { "GET", "/api/v1/calls", 0, API_CALLS },
        { "GET", "/api/v1/bans", 0, API_BANS },
        { "GET", "/api/v1/trunks", 0, API_TRUNKS },
        { "GET", "/api/v1/accounts", 0, API_ACCOUNTS },
        { "GET", "/api/v1/alerts", 0, API_ALERTS },
        { "GET", "/api/v1/events", 0, API_EVENTS },
        { "GET", "/api/v1/cdrs", 0, API_CDRS },
        { "POST", "/api/v1/bans/add", 0, API_BAN_ADD },
        { "POST", "/api/v1/bans/remove", 0, API_BAN_REMOVE },
        { "POST", "/api/v1/calls/kill", 0, API_CALL_KILL },
        { "POST", "/api/v1/accounts/disable", 0, API_ACCOUNT_DISABLE },
        { "POST", "/api/v1/accounts/enable", 0, API_ACCOUNT_ENABLE },
        { "POST", "/api/v1/trunks/isolate", 0, API_TRUNK_ISOLATE },
        { "POST", "/api/v1/trunks/restore", 0, API_TRUNK_RESTORE },
        { "POST", "/api/v1/status", -EPERM, API_STATUS },
        { "GET", "/api/v1/bans/add", -EPERM, API_BAN_ADD },
        { "DELETE", "/api/v1/bans", -EPERM, API_BANS },
        { "GET", "/api/v1/status/", -ENOENT, API_STATUS },
        { "GET", "/api/v2/status", -ENOENT, API_STATUS },
        { "GET", "/api/v1/", -ENOENT, API_STATUS },
        { "GET", "", -ENOENT, API_STATUS },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct api_request req;
        int rc = api_request_route(cases[i].method, cases[i].path, &req);
        assert_int_equal(rc, cases[i].rc);
        if (rc != -ENOENT) {
            assert_int_equal(req.route, cases[i].route);
            bool is_post =
                strstr(cases[i].path, "/add") != NULL || strstr(cases[i].path, "/remove") != NULL ||
                strstr(cases[i].path, "/kill") != NULL || strstr(cases[i].path, "able") != NULL ||
                strstr(cases[i].path, "/isolate") != NULL ||
                strstr(cases[i].path, "/restore") != NULL;
            assert_int_equal(api_route_is_action(req.route), is_post);
        }
    }
}

/* Parses `body` for the POST route of `path`, then checks it; the code of the first refusal. */
static int body(const char *path, const char *text, struct api_request *req, char *error)
{
    assert_int_equal(api_request_route("POST", path, req), 0);
    int rc = api_request_body(req, text, strlen(text), error);
    return rc != 0 ? rc : api_request_check(req, error);
}

static void test_apireq_bodies(void **state)
{
    (void)state;

    static const struct {
        const char *path;
        const char *body;
        int rc;
        const char *error; /* part of the message, or NULL */
    } cases[] = {
        { "/api/v1/accounts/disable", "{\"account\":\"1001\",\"reason\":\"stolen phone\"}", 0,
          NULL },
        { "/api/v1/accounts/disable", "{\"account\":\"1001\"}", 0, NULL },
        { "/api/v1/accounts/disable", "{}", -EINVAL, "account is required" },
        { "/api/v1/accounts/disable", "{\"account\":\"\"}", -EINVAL, "account" },
        { "/api/v1/accounts/disable", "{\"account\":\"a b\"}", -EINVAL, "account" },
        { "/api/v1/accounts/disable", "{\"account\":\"a\\u0000b\"}", -EINVAL, "bad JSON" },
        { "/api/v1/accounts/disable", "{\"account\":1001}", -EINVAL, "a string" },
        { "/api/v1/accounts/disable", "{\"account\":\"1001\",\"trunk\":\"x\"}", -EINVAL,
          "unknown field: trunk" },
        { "/api/v1/accounts/disable", "{\"account\":\"1001\",\"account\":\"1002\"}", -EINVAL,
          "bad JSON" },
        { "/api/v1/accounts/enable", "{\"account\":\"1001\",\"reason\":\"x\"}", -EINVAL,
          "unknown field: reason" },
        { "/api/v1/accounts/enable", "[\"1001\"]", -EINVAL, "JSON object" },
        { "/api/v1/accounts/enable", "{\"account\":\"1001\"", -EINVAL, "bad JSON" },
        { "/api/v1/accounts/enable", "", -EINVAL, "bad JSON" },
        { "/api/v1/accounts/enable", "null", -EINVAL, "bad JSON" },
        { "/api/v1/trunks/isolate", "{\"trunk\":\"provider\",\"reason\":\"toll fraud\"}", 0, NULL },
        { "/api/v1/trunks/isolate", "{\"trunk\":\"provider\",\"reason\":\"a\\nb\"}", -EINVAL,
          "reason" },
        { "/api/v1/trunks/restore", "{\"trunk\":\"provider\"}", 0, NULL },
        { "/api/v1/bans/add", "{\"ip\":\"192.0.2.1\"}", 0, NULL },
        { "/api/v1/bans/add", "{\"ip\":\"192.0.2.1\",\"seconds\":600}", 0, NULL },
        { "/api/v1/bans/add", "{\"ip\":\"192.0.2.1\",\"forever\":true}", 0, NULL },
        { "/api/v1/bans/add", "{\"ip\":\"192.0.2.1\",\"forever\":true,\"seconds\":5}", -EINVAL,
          "exclude" },
        { "/api/v1/bans/add", "{\"ip\":\"192.0.2.1\",\"seconds\":-1}", -EINVAL, "seconds" },
        { "/api/v1/bans/add", "{\"ip\":\"192.0.2.1\",\"seconds\":1.5}", -EINVAL, "seconds" },
        { "/api/v1/bans/add", "{\"ip\":\"192.0.2.1\",\"seconds\":99999999999}", -EINVAL,
          "seconds" },
        { "/api/v1/bans/add", "{\"ip\":\"192.0.2.1\",\"forever\":\"yes\"}", -EINVAL, "forever" },
        { "/api/v1/bans/remove", "{\"ip\":\"2001:db8::1\"}", 0, NULL },
        { "/api/v1/bans/remove", "{\"ip\":\"192.0.2.1\",\"seconds\":5}", -EINVAL,
          "unknown field: seconds" },
        { "/api/v1/calls/kill", "{\"id\":\"abc\"}", 0, NULL },
        { "/api/v1/calls/kill", "{\"trunk\":\"provider\"}", 0, NULL },
        { "/api/v1/calls/kill", "{}", -EINVAL, "exactly one" },
        { "/api/v1/calls/kill", "{\"id\":\"abc\",\"account\":\"1001\"}", -EINVAL, "exactly one" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct api_request req;
        char error[API_ERROR_CAP] = "";
        int rc = body(cases[i].path, cases[i].body, &req, error);
        if (rc != cases[i].rc ||
            (cases[i].error != NULL && strstr(error, cases[i].error) == NULL)) {
            fail_msg("case %zu (%s %s): rc %d, error '%s'", i, cases[i].path, cases[i].body, rc,
                     error);
        }
    }
    struct api_request req;
    char error[API_ERROR_CAP] = "";
    /* jansson quotes the bad byte in its message; a control character never reaches the
     * answer or a log (found by fuzz_apireq). */
    assert_int_equal(body("/api/v1/calls/kill", "{\x1f\"trunk\":\"provider\"}", &req, error),
                     -EINVAL);
    assert_non_null(strstr(error, "bad JSON"));
    for (const char *c = error; *c != '\0'; c++) {
        assert_true((unsigned char)*c >= 0x20 && *c != 0x7f);
    }
    assert_int_equal(
        body("/api/v1/bans/add", "{\"ip\":\"192.0.2.1\",\"seconds\":600}", &req, error), 0);
    assert_string_equal(req.ip, "192.0.2.1");
    assert_int_equal(req.seconds, 600);
    assert_false(req.is_forever);
    assert_int_equal(
        body("/api/v1/trunks/isolate", "{\"trunk\":\"p\",\"reason\":\"why not\"}", &req, error), 0);
    assert_string_equal(req.trunk, "p");
    assert_string_equal(req.reason, "why not");
}

static void test_apireq_body_bounds(void **state)
{
    (void)state;
    static char big[API_BODY_MAX + 2];
    memset(big, ' ', sizeof(big) - 1);
    big[0] = '{';
    big[API_BODY_MAX] = '}';
    struct api_request req;
    char error[API_ERROR_CAP] = "";
    assert_int_equal(api_request_route("POST", "/api/v1/accounts/enable", &req), 0);
    assert_int_equal(api_request_body(&req, big, API_BODY_MAX + 1, error), -E2BIG);
    /* A name of API_NAME_CAP - 1 bytes fits; one more does not. */
    char text[256];
    char name[API_NAME_CAP + 1];
    memset(name, 'a', API_NAME_CAP - 1);
    name[API_NAME_CAP - 1] = '\0';
    (void)snprintf(text, sizeof(text), "{\"account\":\"%s\"}", name);
    assert_int_equal(body("/api/v1/accounts/enable", text, &req, error), 0);
    name[API_NAME_CAP - 1] = 'a';
    name[API_NAME_CAP] = '\0';
    (void)snprintf(text, sizeof(text), "{\"account\":\"%s\"}", name);
    assert_int_equal(body("/api/v1/accounts/enable", text, &req, error), -EINVAL);
}

static void test_apireq_queries(void **state)
{
    (void)state;
    struct api_request req;
    char error[API_ERROR_CAP] = "";
    assert_int_equal(api_request_route("GET", "/api/v1/cdrs", &req), 0);
    assert_int_equal(api_request_query(&req, "since", "2026-12-01", error), 0);
    assert_int_equal(req.since_ms, 1796083200000LL);
    assert_int_equal(api_request_query(&req, "until", "1796169600", error), 0);
    assert_int_equal(req.until_ms, 1796169600000LL);
    assert_int_equal(api_request_query(&req, "account", "1001", error), 0);
    assert_int_equal(api_request_query(&req, "trunk", "provider", error), 0);
    assert_int_equal(api_request_query(&req, "limit", "10", error), 0);
    assert_int_equal(req.limit, 10);
    assert_int_equal(api_request_check(&req, error), 0);
    assert_int_equal(api_request_query(&req, "since", "2026-13-01", error), -EINVAL);
    assert_int_equal(api_request_query(&req, "since", NULL, error), -EINVAL);
    assert_int_equal(api_request_query(&req, "limit", "0", error), -EINVAL);
    assert_int_equal(api_request_query(&req, "limit", "1001", error), -EINVAL);
    assert_int_equal(api_request_query(&req, "limit", "-1", error), -EINVAL);
    assert_int_equal(api_request_query(&req, "id", "x", error), -EINVAL);
    assert_non_null(strstr(error, "unknown argument: id"));
    assert_int_equal(api_request_query(&req, "nosuch", "x", error), -EINVAL);
    assert_int_equal(api_request_query(&req, "account", "", error), -EINVAL);
    /* until before since */
    assert_int_equal(api_request_query(&req, "until", "2026-11-01", error), 0);
    assert_int_equal(api_request_check(&req, error), -EINVAL);
    /* Routes without arguments take none. */
    assert_int_equal(api_request_route("GET", "/api/v1/status", &req), 0);
    assert_int_equal(api_request_query(&req, "limit", "5", error), -EINVAL);
    assert_int_equal(api_request_route("GET", "/api/v1/calls", &req), 0);
    assert_int_equal(api_request_query(&req, "trunk", "provider", error), 0);
    assert_int_equal(api_request_query(&req, "since", "1", error), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apireq_routes),
        cmocka_unit_test(test_apireq_bodies),
        cmocka_unit_test(test_apireq_body_bounds),
        cmocka_unit_test(test_apireq_queries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
