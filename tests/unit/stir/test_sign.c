#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/err.h"
#include "stir/cert.h"
#include "stir/certgen.h"
#include "stir/identity.h"
#include "stir/sign.h"
#include "support/unit.h"
#include "testutil.h"

#define NOW 1800000000
#define X5U "https://cert.example.net/shaken.pem"

static void test_sign_uuid_v4(void **state)
{
    (void)state;
    char a[STIR_UUID_CAP];
    char b[STIR_UUID_CAP];
    assert_int_equal(stir_uuid_v4(a), 0);
    assert_int_equal(stir_uuid_v4(b), 0);
    assert_int_equal(strlen(a), 36);
    assert_string_not_equal(a, b);
    assert_int_equal(a[8], '-');
    assert_int_equal(a[14], '4');
    assert_true(strchr("89ab", a[19]) != NULL);
}

static void write_key(const char *dir, const char *name, EVP_PKEY *key, mode_t mode, char *path)
{
    (void)snprintf(path, 192, "%s/%s", dir, name);
    assert_int_equal(stir_certgen_write_key(path, key), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_sign_key_file_checks(void **state)
{
    (void)state;
    struct tu_pki pki;
    tu_pki_init(&pki, NOW - 100, NOW + 100);
    char key_path[192];
    char open_path[192];
    char cert_path[192];
    write_key(pki.dir, "leaf.key", pki.leaf_key, 0600, key_path);
    write_key(pki.dir, "open.key", pki.leaf_key, 0640, open_path);
    /* Writing a key never replaces an existing file. */
    assert_true(stir_certgen_write_key(key_path, pki.leaf_key) < 0);
    tu_write_file(pki.dir, "leaf.pem", pki.chain_pem, pki.chain_len, 0644, cert_path);

    struct sw_diag diag;
    sw_diag_init(&diag);
    struct stir_signer *signer = NULL;
    struct stir_signer_cfg cfg = { .key_file = open_path, .cert_file = cert_path, .x5u = X5U };
    assert_int_equal(stir_signer_new(&cfg, &signer, &diag), -SW_EPERM_FILE);
    assert_null(signer);
    assert_int_equal(diag.error_count, 1);
    assert_non_null(strstr(diag.entries[0].message, "chmod 600"));
    sw_diag_fini(&diag);

    /* The certificate of another key fails the start-up match. */
    sw_diag_init(&diag);
    char other_path[192];
    size_t len = 0;
    char *root_pem = stir_certgen_pem(&pki.root, 1, &len);
    tu_write_file(pki.dir, "root.crt", root_pem, len, 0644, other_path);
    sw_free(root_pem);
    cfg = (struct stir_signer_cfg){ .key_file = key_path, .cert_file = other_path, .x5u = X5U };
    assert_int_equal(stir_signer_new(&cfg, &signer, &diag), -SW_ECONFIG);
    assert_non_null(strstr(diag.entries[0].message, "does not match"));
    sw_diag_fini(&diag);

    sw_diag_init(&diag);
    cfg = (struct stir_signer_cfg){ .key_file = key_path,
                                    .cert_file = cert_path,
                                    .x5u = "http://cert.example.net/x.pem" };
    assert_int_equal(stir_signer_new(&cfg, &signer, &diag), -SW_ECONFIG);
    sw_diag_fini(&diag);

    /* A cert path that is not a key. */
    sw_diag_init(&diag);
    cfg = (struct stir_signer_cfg){ .key_file = pki.root_path, .x5u = X5U };
    assert_int_equal(chmod(pki.root_path, 0600), 0);
    assert_int_equal(stir_signer_new(&cfg, &signer, &diag), -SW_ECONFIG);
    sw_diag_fini(&diag);

    tu_pki_fini(&pki);
}

static void test_sign_signs_a_call(void **state)
{
    (void)state;
    struct tu_pki pki;
    tu_pki_init(&pki, NOW - 100, NOW + 100);
    char key_path[192];
    char cert_path[192];
    write_key(pki.dir, "leaf.key", pki.leaf_key, 0600, key_path);
    tu_write_file(pki.dir, "leaf.pem", pki.chain_pem, pki.chain_len, 0644, cert_path);
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct stir_signer *signer = NULL;
    struct stir_signer_cfg cfg = { .key_file = key_path, .cert_file = cert_path, .x5u = X5U };
    assert_int_equal(stir_signer_new(&cfg, &signer, &diag), 0);
    assert_int_equal(diag.count, 0);
    sw_diag_fini(&diag);

    struct stir_tn orig;
    struct stir_tn dest;
    assert_int_equal(stir_tn_normalize(SV("+12155550121"), SV_NULL, &orig), 0);
    assert_int_equal(stir_tn_normalize(SV("+12155550131"), SV_NULL, &dest), 0);
    struct stir_sign_req req = { .attest = STIR_ATTEST_B,
                                 .orig = &orig,
                                 .dest = &dest,
                                 .iat = NOW,
                                 .origid = SV("de305d54-75b4-431b-adb2-eb6b9e546014") };
    char value[STIR_IDENTITY_VALUE_MAX];
    long n = stir_signer_sign(signer, &req, value, sizeof(value));
    assert_true(n > 0);
    struct stir_identity id;
    assert_int_equal(stir_identity_parse(sv_make(value, (size_t)n), &id), STIR_OK);
    assert_true(sv_eq(id.info, SV(X5U)));
    assert_true(sv_eq(id.ppt, SV("shaken")));
    assert_true(sv_eq(id.alg, SV("ES256")));
    /* Same claims, same header: only the (random) signature differs between two calls. */
    char again[STIR_IDENTITY_VALUE_MAX];
    assert_int_equal(stir_signer_sign(signer, &req, again, sizeof(again)), n);
    assert_memory_equal(value, again, id.header.len + 1 + id.claims.len);
    req.attest = STIR_ATTEST_NONE;
    assert_int_equal(stir_signer_sign(signer, &req, value, sizeof(value)), -SW_EBADARG);
    req.attest = STIR_ATTEST_A;
    assert_int_equal(stir_signer_sign(signer, &req, value, 100), -SW_ETOOBIG);
    stir_signer_free(signer);
    stir_signer_free(NULL);
    tu_pki_fini(&pki);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_uuid_v4),
        cmocka_unit_test(test_sign_key_file_checks),
        cmocka_unit_test(test_sign_signs_a_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
