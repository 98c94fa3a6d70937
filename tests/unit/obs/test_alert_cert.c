#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/time.h"
#include "obs/alert_cert.h"
#include "stir/certgen.h"
#include "support/unit.h"

#define DAY_S 86400

static char dir[64];

/* A self-signed certificate valid until `now + left_s`, written to `path`. */
static void write_cert(const char *path, int64_t now, int64_t left_s)
{
    EVP_PKEY *key = stir_certgen_key();
    assert_non_null(key);
    struct stir_certgen spec = { .key = key,
                                 .common_name = "sip.example.net",
                                 .not_before_s = now - DAY_S,
                                 .not_after_s = now + left_s,
                                 .serial = 7 };
    X509 *cert = stir_certgen_issue(&spec);
    assert_non_null(cert);
    assert_int_equal(stir_certgen_write_certs(path, &cert, 1), 0);
    X509_free(cert);
    EVP_PKEY_free(key);
}

static void test_alert_cert_days_left(void **state)
{
    (void)state;
    int64_t now = sw_wall_s();
    char path[128];
    (void)snprintf(path, sizeof(path), "%s/cert.pem", dir);

    static const struct {
        int64_t left_s;
        int64_t days;
    } cases[] = {
        { 45 * DAY_S + 10, 45 }, { 6 * DAY_S + 3600, 6 }, { 3600, 0 },
        { -3600, -1 },           { -10 * DAY_S, -10 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_cert(path, now, cases[i].left_s);
        int64_t days = 99;
        assert_int_equal(alert_cert_days_left(path, now, &days), 0);
        assert_int_equal(days, cases[i].days);
    }
    int64_t days = 0;
    (void)snprintf(path, sizeof(path), "%s/missing.pem", dir);
    assert_int_equal(alert_cert_days_left(path, now, &days), -ENOENT);
}

static int setup(void **state)
{
    (void)state;
    (void)snprintf(dir, sizeof(dir), "/tmp/sw-alert-cert-XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char path[128];
    (void)snprintf(path, sizeof(path), "%s/cert.pem", dir);
    (void)unlink(path);
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alert_cert_days_left),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
