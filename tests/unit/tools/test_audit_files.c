#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "support/unit.h"
#include "tools/audit_files.h"

#define DAY 86400L

static char tmp_dir[64];
static EVP_PKEY *key;

static int setup(void **state)
{
    (void)state;
    (void)snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/sw-auditfiles-XXXXXX");
    key = EVP_EC_gen("P-256");
    return mkdtemp(tmp_dir) == NULL || key == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(key);
    char cmd[128];
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
    /* NOLINTNEXTLINE(concurrency-mt-unsafe,cert-env33-c): removes the test's own folder. */
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes a self-signed certificate valid from now+from_s to now+to_s (and the key). */
static void write_cert(const char *path, long from_s, long to_s, bool with_key, mode_t mode)
{
    X509 *cert = X509_new();
    assert_non_null(cert);
    assert_int_equal(X509_set_version(cert, 2), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(cert), 1), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(cert), from_s));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(cert), to_s));
    X509_NAME *name = X509_get_subject_name(cert);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                                (const unsigned char *)"pbx.test.invalid", -1, -1,
                                                0),
                     1);
    assert_int_equal(X509_set_issuer_name(cert, name), 1);
    assert_int_equal(X509_set_pubkey(cert, key), 1);
    assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_X509(f, cert), 1);
    if (with_key) {
        assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
    }
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
    X509_free(cert);
}

static const struct audit_finding *only_finding(const struct audit_report *report,
                                                const char *check)
{
    const struct audit_finding *found = NULL;
    for (size_t i = 0; i < report->count; i++) {
        if (strcmp(report->items[i].check, check) == 0) {
            assert_null(found);
            found = &report->items[i];
        }
    }
    assert_non_null(found);
    return found;
}

static void check_cert(const char *name, long from_s, long to_s, enum audit_status expected,
                       const char *needle)
{
    char path[128];
    (void)snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    write_cert(path, from_s, to_s, false, 0644);
    struct audit_report report;
    audit_report_init(&report, (int64_t)time(NULL));
    /* The configuration is in tmp_dir: a relative path resolves against its folder. */
    char conf[128];
    (void)snprintf(conf, sizeof(conf), "%s/sip.conf", tmp_dir);
    struct audit_where where = { .file = conf, .line = 7, .section = SV("general") };
    audit_files_check_certificate(&report, &where, sv_from_cstr(name));
    const struct audit_finding *f = only_finding(&report, "files.certificate");
    assert_int_equal(f->status, expected);
    if (strstr(f->message, needle) == NULL) {
        fail_msg("'%s' lacks '%s'", f->message, needle);
    }
    audit_report_fini(&report);
}

static void test_files_certificate_dates(void **state)
{
    (void)state;
    check_cert("expired.pem", -400 * DAY, -2 * DAY, AUDIT_FAIL, "expired on");
    check_cert("soon.pem", -300 * DAY, 10 * DAY, AUDIT_WARN, "expires on");
    check_cert("edge.pem", -300 * DAY, 31 * DAY, AUDIT_PASS, "valid until");
    check_cert("fine.pem", -DAY, 365 * DAY, AUDIT_PASS, "valid until");
}

static void test_files_key_modes(void **state)
{
    (void)state;

    const struct {
        mode_t mode;
        enum audit_status status;
        const char *needle;
    } cases[] = {
        { 0600, AUDIT_PASS, "mode 0600" },        { 0400, AUDIT_PASS, "mode 0400" },
        { 0640, AUDIT_FAIL, "its group" },        { 0604, AUDIT_FAIL, "all users" },
        { 0644, AUDIT_FAIL, "group and others" },
    };

    char path[128];
    (void)snprintf(path, sizeof(path), "%s/key.pem", tmp_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
    assert_int_equal(fclose(f), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(chmod(path, cases[i].mode), 0);
        struct audit_report report;
        audit_report_init(&report, 0);
        struct audit_where where = { .file = "/etc/asterisk/pjsip.conf", .line = 3 };
        audit_files_check_key(&report, &where, sv_from_cstr(path));
        const struct audit_finding *finding = only_finding(&report, "files.private-key");
        assert_int_equal(finding->status, cases[i].status);
        assert_non_null(strstr(finding->message, cases[i].needle));
        if (cases[i].status == AUDIT_FAIL) {
            assert_non_null(strstr(finding->fix, "chmod 600 '"));
        }
        audit_report_fini(&report);
    }
}

static void test_files_combined_and_missing(void **state)
{
    (void)state;
    char path[128];
    (void)snprintf(path, sizeof(path), "%s/combined.pem", tmp_dir);
    write_cert(path, -DAY, 365 * DAY, true, 0644);
    struct audit_report report;
    audit_report_init(&report, (int64_t)time(NULL));
    struct audit_where where = { .file = "sip.conf", .line = 1 };
    audit_files_check_certificate(&report, &where, sv_from_cstr(path));
    assert_int_equal(only_finding(&report, "files.certificate")->status, AUDIT_PASS);
    assert_int_equal(only_finding(&report, "files.private-key")->status, AUDIT_FAIL);
    audit_report_fini(&report);

    audit_report_init(&report, 0);
    audit_files_check_certificate(&report, &where, SV("/nonexistent/cert.pem"));
    audit_files_check_key(&report, &where, SV("/nonexistent/key.pem"));
    assert_int_equal(only_finding(&report, "files.certificate")->status, AUDIT_WARN);
    assert_int_equal(only_finding(&report, "files.private-key")->status, AUDIT_WARN);
    audit_report_fini(&report);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_files_certificate_dates),
        cmocka_unit_test(test_files_key_modes),
        cmocka_unit_test(test_files_combined_and_missing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
