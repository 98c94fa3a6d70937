#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/err.h"
#include "stir/b64url.h"
#include "stir/certgen.h"
#include "stir/identity.h"
#include "stir/sign.h"
#include "stir/verify.h"
#include "support/testdata.h"
#include "support/unit.h"
#include "testutil.h"

#define NOW     1800000000
#define X5U     "https://cert.example.net/shaken.pem"
#define ORIG    "12155550121"
#define DEST    "12155550131"
#define DAY_S   86400
#define RFC_IAT 1443208345
#define RFC_X5U "https://cert.example.org/passport.cer"

struct fixture {
    struct tu_pki pki;
    struct stir_verifier *verifier;
    struct stir_signer *signer;
    struct stir_tn orig;
    struct stir_tn dest;
};

static struct stir_tn tn_of(const char *digits)
{
    struct stir_tn tn;
    memset(&tn, 0, sizeof(tn));
    tn.len = (uint8_t)strlen(digits);
    memcpy(tn.digits, digits, tn.len);
    return tn;
}

static struct stir_verifier *make_verifier(const char *ca_file, bool is_partial_chain)
{
    struct stir_verifier_cfg cfg = {
        .ca_file = ca_file,
        .is_partial_chain = is_partial_chain,
        .is_fetch_disabled = true,
    };
    struct stir_verifier *v = NULL;
    assert_int_equal(stir_verifier_new(&cfg, &v, NULL), 0);
    return v;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    tu_pki_init(&f->pki, NOW - 30 * DAY_S, NOW + 30 * DAY_S);
    f->verifier = make_verifier(f->pki.root_path, false);
    assert_int_equal(stir_signer_new_from_key(f->pki.leaf_key, SV(X5U), &f->signer), 0);
    f->orig = tn_of(ORIG);
    f->dest = tn_of(DEST);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    stir_signer_free(f->signer);
    stir_verifier_free(f->verifier);
    tu_pki_fini(&f->pki);
    free(f);
    return 0;
}

static void sign_call(struct fixture *f, enum stir_attest attest, int64_t iat, char *out,
                      size_t cap)
{
    struct stir_sign_req req = {
        .attest = attest, .orig = &f->orig, .dest = &f->dest, .iat = iat, .origid = SV_NULL
    };
    assert_true(stir_signer_sign(f->signer, &req, out, cap) > 0);
}

static enum stir_reason verify_value(struct fixture *f, const char *value, int64_t now,
                                     struct stir_result *result)
{
    struct stir_call call = {
        .identity = sv_from_cstr(value), .orig = &f->orig, .dest = &f->dest, .now_s = now
    };
    assert_int_equal(stir_verify_start(f->verifier, &call, result, NULL, NULL), STIR_VERIFY_DONE);
    return result->reason;
}

static void preload(struct fixture *f)
{
    assert_int_equal(
        stir_verifier_preload(f->verifier, SV(X5U), f->pki.chain_pem, f->pki.chain_len, NOW),
        STIR_OK);
}

static void test_verify_signed_call_passes_inline_from_cache(void **state)
{
    struct fixture *f = *state;
    char value[STIR_IDENTITY_VALUE_MAX];
    sign_call(f, STIR_ATTEST_A, NOW, value, sizeof(value));
    preload(f);
    struct stir_result r;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(verify_value(f, value, NOW + 5, &r), STIR_OK);
        assert_true(r.is_cache_hit);
        /* The chain (leaf + intermediate) stays cached: later calls verify too. */
        assert_int_equal(r.chain_len, 2);
    }
    assert_int_equal(r.passport.attest, STIR_ATTEST_A);
    assert_string_equal(r.passport.x5u, X5U);
    assert_int_equal(strlen(r.passport.origid), 36);
    assert_int_equal(stir_reason_verstat(r.reason), STIR_VERSTAT_PASSED);
    struct stir_verifier_stats stats;
    stir_verifier_get_stats(f->verifier, &stats);
    assert_int_equal(stats.cache.hits, 3);
    assert_int_equal(stats.fetches, 0);
}

static void test_verify_failures_and_their_codes(void **state)
{
    struct fixture *f = *state;
    preload(f);
    char value[STIR_IDENTITY_VALUE_MAX];
    sign_call(f, STIR_ATTEST_B, NOW, value, sizeof(value));
    struct stir_result r;
    assert_int_equal(verify_value(f, value, NOW + 61, &r), STIR_STALE);
    assert_int_equal(stir_reason_sip_code(r.reason), 403);
    assert_int_equal(verify_value(f, value, NOW - 61, &r), STIR_STALE);
    assert_int_equal(verify_value(f, value, NOW + 60, &r), STIR_OK);

    struct stir_tn other = tn_of("12155550199");
    struct stir_call call = { .identity = sv_from_cstr(value), .orig = &other, .now_s = NOW };
    assert_int_equal(stir_verify_start(f->verifier, &call, &r, NULL, NULL), STIR_VERIFY_DONE);
    assert_int_equal(r.reason, STIR_ORIG_MISMATCH);
    call = (struct stir_call){ .identity = sv_from_cstr(value), .dest = &other, .now_s = NOW };
    assert_int_equal(stir_verify_start(f->verifier, &call, &r, NULL, NULL), STIR_VERIFY_DONE);
    assert_int_equal(r.reason, STIR_DEST_MISMATCH);
    assert_int_equal(stir_reason_sip_code(r.reason), 438);
    assert_int_equal(stir_reason_verstat(r.reason), STIR_VERSTAT_FAILED);

    /* Tampered claims: flip one character of the claims part. */
    char tampered[STIR_IDENTITY_VALUE_MAX];
    (void)snprintf(tampered, sizeof(tampered), "%s", value);
    char *dot = strchr(tampered, '.');
    dot[5] = dot[5] == 'A' ? 'B' : 'A';
    assert_int_not_equal(verify_value(f, tampered, NOW, &r), STIR_OK);

    /* A different info parameter than x5u. */
    char *info = strstr(value, ";info=<");
    char swapped[STIR_IDENTITY_VALUE_MAX];
    (void)snprintf(swapped, sizeof(swapped), "%.*s;info=<https://evil.example/c.pem>;ppt=shaken",
                   (int)(info - value), value);
    assert_int_equal(verify_value(f, swapped, NOW, &r), STIR_X5U_MISMATCH);
    assert_int_equal(stir_reason_sip_code(r.reason), 436);
    (void)snprintf(swapped, sizeof(swapped), "%.*s;info=<" X5U ">;alg=ES384", (int)(info - value),
                   value);
    assert_int_equal(verify_value(f, swapped, NOW, &r), STIR_PARAM_MISMATCH);
    (void)snprintf(swapped, sizeof(swapped), "%.*s;info=<" X5U ">;ppt=div", (int)(info - value),
                   value);
    assert_int_equal(verify_value(f, swapped, NOW, &r), STIR_PARAM_MISMATCH);
    assert_int_equal(verify_value(f, "garbage", NOW, &r), STIR_BAD_SYNTAX);
    struct stir_call none = { .identity = SV_NULL, .now_s = NOW };
    assert_int_equal(stir_verify_start(f->verifier, &none, &r, NULL, NULL), STIR_VERIFY_DONE);
    assert_int_equal(r.reason, STIR_NO_IDENTITY);
    assert_int_equal(stir_reason_sip_code(r.reason), 428);
    assert_int_equal(stir_reason_verstat(r.reason), STIR_VERSTAT_NONE);
}

static void test_verify_signature_by_another_key_fails(void **state)
{
    struct fixture *f = *state;
    preload(f);
    EVP_PKEY *other = stir_certgen_key();
    struct stir_signer *impostor = NULL;
    assert_int_equal(stir_signer_new_from_key(other, SV(X5U), &impostor), 0);
    struct stir_sign_req req = {
        .attest = STIR_ATTEST_A, .orig = &f->orig, .dest = &f->dest, .iat = NOW, .origid = SV("o")
    };
    char value[STIR_IDENTITY_VALUE_MAX];
    assert_true(stir_signer_sign(impostor, &req, value, sizeof(value)) > 0);
    struct stir_result r;
    assert_int_equal(verify_value(f, value, NOW, &r), STIR_BAD_SIGNATURE);
    assert_int_equal(stir_reason_sip_code(r.reason), 438);
    stir_signer_free(impostor);
    EVP_PKEY_free(other);
}

static void test_verify_chain_checks(void **state)
{
    struct fixture *f = *state;
    /* Leaf only: the intermediate is missing, the chain does not reach the root. */
    size_t len = 0;
    char *leaf_only = stir_certgen_pem(&f->pki.leaf, 1, &len);
    assert_int_equal(
        stir_verifier_preload(f->verifier, SV("https://a.example/leaf.pem"), leaf_only, len, NOW),
        STIR_CERT_UNTRUSTED);
    sw_free(leaf_only);
    /* The whole chain, but checked at a time outside its validity. */
    assert_int_equal(stir_verifier_preload(f->verifier, SV("https://a.example/old.pem"),
                                           f->pki.chain_pem, f->pki.chain_len, NOW + 60 * DAY_S),
                     STIR_CERT_EXPIRED);
    assert_int_equal(
        stir_verifier_preload(f->verifier, SV("https://a.example/bad.pem"), "not pem", 7, NOW),
        STIR_CERT_BAD);
    /* Cached as valid now, used later than notAfter: the cached verdict is re-dated. */
    preload(f);
    char value[STIR_IDENTITY_VALUE_MAX];
    sign_call(f, STIR_ATTEST_A, NOW + 31 * DAY_S, value, sizeof(value));
    struct stir_result r;
    assert_int_equal(verify_value(f, value, NOW + 31 * DAY_S, &r), STIR_CERT_EXPIRED);
    assert_int_equal(stir_reason_sip_code(r.reason), 437);
}

static void test_verify_untrusted_root(void **state)
{
    struct fixture *f = *state;
    struct tu_pki other;
    tu_pki_init(&other, NOW - DAY_S, NOW + DAY_S);
    struct stir_verifier *v = make_verifier(other.root_path, false);
    assert_int_equal(stir_verifier_preload(v, SV(X5U), f->pki.chain_pem, f->pki.chain_len, NOW),
                     STIR_CERT_UNTRUSTED);
    char value[STIR_IDENTITY_VALUE_MAX];
    sign_call(f, STIR_ATTEST_A, NOW, value, sizeof(value));
    struct stir_call call = { .identity = sv_from_cstr(value), .now_s = NOW };
    struct stir_result r;
    assert_int_equal(stir_verify_start(v, &call, &r, NULL, NULL), STIR_VERIFY_DONE);
    assert_int_equal(r.reason, STIR_CERT_UNTRUSTED);
    stir_verifier_free(v);
    tu_pki_fini(&other);
}

static void test_verify_without_cache_or_fetcher(void **state)
{
    struct fixture *f = *state;
    char value[STIR_IDENTITY_VALUE_MAX];
    sign_call(f, STIR_ATTEST_A, NOW, value, sizeof(value));
    struct stir_result r;
    assert_int_equal(verify_value(f, value, NOW, &r), STIR_CERT_FETCH);
    assert_int_equal(stir_reason_sip_code(r.reason), 436);
    assert_true(r.has_passport);
}

/*
 * RFC 8588 §6 example signed with the RFC 8225 A.1 key (testdata), and the copy with
 * one signature character changed, through the whole verifier, with a certificate for
 * that key pinned as its own anchor.
 */
static void test_verify_rfc8588_examples(void **state)
{
    (void)state;
    EVP_PKEY *key = tu_load_key(tu_stir_data("rfc8225-appA-private-key.pem"));
    struct stir_certgen spec = { .key = key,
                                 .common_name = "RFC 8225 A.1",
                                 .serial = 9,
                                 .not_before_s = RFC_IAT - DAY_S,
                                 .not_after_s = RFC_IAT + DAY_S };
    X509 *cert = stir_certgen_issue(&spec);
    assert_non_null(cert);
    size_t len = 0;
    char *pem = stir_certgen_pem(&cert, 1, &len);
    char dir[] = "/tmp/sw-stir-rfc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[192];
    tu_write_file(dir, "a1.pem", pem, len, 0644, path);
    struct stir_verifier *v = make_verifier(path, true);
    assert_int_equal(stir_verifier_preload(v, SV(RFC_X5U), pem, len, RFC_IAT), STIR_OK);

    char *line = testdata_read_file(tu_stir_data("rfc8588-sec6-identity-header-signed.txt"), &len);
    assert_non_null(line);
    struct stir_tn orig = tn_of("12155550121");
    struct stir_tn dest = tn_of("12155550131");
    struct stir_call call = { .identity = stir_identity_strip_name(sv_make(line, len)),
                              .orig = &orig,
                              .dest = &dest,
                              .now_s = RFC_IAT + 10 };
    struct stir_result r;
    assert_int_equal(stir_verify_start(v, &call, &r, NULL, NULL), STIR_VERIFY_DONE);
    assert_int_equal(r.reason, STIR_OK);
    assert_string_equal(r.passport.origid, "123e4567-e89b-12d3-a456-426655440000");
    free(line);

    char *token = testdata_read_file(tu_stir_data("rfc8588-sec6-example-badsig.jwt"), &len);
    assert_non_null(token);
    char value[1024];
    (void)snprintf(value, sizeof(value), "%.*s;info=<" RFC_X5U ">;alg=ES256;ppt=shaken",
                   (int)sv_trim(sv_make(token, len)).len, token);
    call.identity = sv_from_cstr(value);
    assert_int_equal(stir_verify_start(v, &call, &r, NULL, NULL), STIR_VERIFY_DONE);
    assert_int_equal(r.reason, STIR_BAD_SIGNATURE);
    free(token);

    /* The RFC 8224 §4 example: iat is a string (erratum 5985), so its claims are refused
     * before the missing ppt is looked at. */
    char *old = testdata_read_file(tu_stir_data("rfc8224-sec4-identity-header.txt"), &len);
    call.identity = stir_identity_strip_name(sv_make(old, len));
    assert_int_equal(stir_verify_start(v, &call, &r, NULL, NULL), STIR_VERIFY_DONE);
    assert_int_equal(r.reason, STIR_BAD_CLAIMS);
    free(old);

    stir_verifier_free(v);
    sw_free(pem);
    X509_free(cert);
    EVP_PKEY_free(key);
    (void)unlink(path);
    (void)rmdir(dir);
}

/* The compact form "..sig" of a base PASSporT is rebuilt from the call when allowed. */
static void test_verify_compact_form(void **state)
{
    struct fixture *f = *state;
    struct stir_passport pp;
    memset(&pp, 0, sizeof(pp));
    (void)snprintf(pp.alg, sizeof(pp.alg), "ES256");
    (void)snprintf(pp.typ, sizeof(pp.typ), "passport");
    (void)snprintf(pp.x5u, sizeof(pp.x5u), X5U);
    pp.orig = f->orig;
    pp.dest[0] = f->dest;
    pp.dest_count = 1;
    pp.iat = NOW;
    char token[STIR_TOKEN_MAX];
    long n = stir_sign_passport(f->pki.leaf_key, &pp, token, sizeof(token));
    assert_true(n > 0);
    const char *sig = strrchr(token, '.');
    char value[512];
    (void)snprintf(value, sizeof(value), "..%s;info=<" X5U ">;alg=ES256", sig + 1);
    preload(f);
    struct stir_result r;
    /* SHAKEN-only verifier: the compact form cannot carry attest and origid. */
    assert_int_equal(verify_value(f, value, NOW, &r), STIR_COMPACT_UNSUPPORTED);

    struct stir_verifier_cfg cfg = { .ca_file = f->pki.root_path,
                                     .is_fetch_disabled = true,
                                     .allow_non_shaken = true };
    struct stir_verifier *v = NULL;
    assert_int_equal(stir_verifier_new(&cfg, &v, NULL), 0);
    assert_int_equal(stir_verifier_preload(v, SV(X5U), f->pki.chain_pem, f->pki.chain_len, NOW),
                     STIR_OK);
    struct stir_call call = { .identity = sv_from_cstr(value),
                              .orig = &f->orig,
                              .dest = &f->dest,
                              .now_s = NOW + 3,
                              .date_s = NOW };
    assert_int_equal(stir_verify_start(v, &call, &r, NULL, NULL), STIR_VERIFY_DONE);
    assert_int_equal(r.reason, STIR_OK);
    call.date_s = NOW + 1; /* a different Date rebuilds a different iat */
    assert_int_equal(stir_verify_start(v, &call, &r, NULL, NULL), STIR_VERIFY_DONE);
    assert_int_equal(r.reason, STIR_BAD_SIGNATURE);
    stir_verifier_free(v);
}

/* A TCP listener on 127.0.0.1 that never accepts: TLS handshakes hang until the timeout. */
static int black_hole(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sin);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(listen(fd, 64), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    *port = ntohs(sin.sin_port);
    return fd;
}

struct waiters {
    pthread_mutex_t lock;
    int done;
    int fetch_failures;
};

static void on_done(void *ctx, const struct stir_result *result)
{
    struct waiters *w = ctx;
    pthread_mutex_lock(&w->lock);
    w->done++;
    w->fetch_failures += result->reason == STIR_CERT_FETCH ? 1 : 0;
    pthread_mutex_unlock(&w->lock);
}

/* Twenty calls missing the cache for one URL share one fetch and all get their callback. */
static void test_verify_coalesces_fetches(void **state)
{
    struct fixture *f = *state;
    uint16_t port = 0;
    int fd = black_hole(&port);
    char x5u[64];
    (void)snprintf(x5u, sizeof(x5u), "https://127.0.0.1:%u/shaken.pem", (unsigned)port);
    struct stir_signer *signer = NULL;
    assert_int_equal(stir_signer_new_from_key(f->pki.leaf_key, sv_from_cstr(x5u), &signer), 0);
    struct stir_sign_req req = {
        .attest = STIR_ATTEST_A, .orig = &f->orig, .dest = &f->dest, .iat = NOW, .origid = SV("o")
    };
    char value[STIR_IDENTITY_VALUE_MAX];
    assert_true(stir_signer_sign(signer, &req, value, sizeof(value)) > 0);
    struct stir_verifier_cfg cfg = {
        .ca_file = f->pki.root_path,
        .fetch = { .allow_private = true,
                   .ports = { port },
                   .port_count = 1,
                   .connect_timeout_ms = 300,
                   .total_timeout_ms = 300 },
    };
    struct stir_verifier *v = NULL;
    assert_int_equal(stir_verifier_new(&cfg, &v, NULL), 0);
    struct waiters w = { .done = 0 };
    pthread_mutex_init(&w.lock, NULL);
    struct stir_call call = { .identity = sv_from_cstr(value), .now_s = NOW };
    struct stir_result r;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(stir_verify_start(v, &call, &r, on_done, &w), STIR_VERIFY_PENDING);
    }
    for (int i = 0; i < 500; i++) { /* at most 5 s */
        pthread_mutex_lock(&w.lock);
        int done = w.done;
        pthread_mutex_unlock(&w.lock);
        if (done == 20) {
            break;
        }
        usleep(10000);
    }
    assert_int_equal(w.done, 20);
    assert_int_equal(w.fetch_failures, 20);
    struct stir_verifier_stats stats;
    stir_verifier_get_stats(v, &stats);
    assert_int_equal(stats.fetches, 1);
    /* The failure is remembered briefly: the next call fails inline, without a fetch. */
    assert_int_equal(stir_verify_start(v, &call, &r, on_done, &w), STIR_VERIFY_DONE);
    assert_int_equal(r.reason, STIR_CERT_FETCH);
    assert_true(r.is_cache_hit);
    stir_verifier_free(v);
    stir_signer_free(signer);
    pthread_mutex_destroy(&w.lock);
    (void)close(fd);
}

static void test_verify_reason_tables(void **state)
{
    (void)state;
    for (int i = 0; i < STIR_REASON_COUNT; i++) {
        enum stir_reason reason = (enum stir_reason)i;
        assert_non_null(stir_reason_text(reason));
        assert_non_null(stir_reason_name(reason));
        int code = stir_reason_sip_code(reason);
        assert_true(code == 200 || code == 403 || code == 428 || code == 436 || code == 437 ||
                    code == 438 || code == 500);
        assert_true(strlen(stir_reason_sip_phrase(reason)) > 0);
    }
    assert_string_equal(stir_reason_name(STIR_BAD_SIGNATURE), "BAD_SIGNATURE");
    assert_string_equal(stir_verstat_text(STIR_VERSTAT_PASSED), "TN-Validation-Passed");
    assert_string_equal(stir_verstat_text(STIR_VERSTAT_FAILED), "TN-Validation-Failed");
    assert_string_equal(stir_verstat_text(STIR_VERSTAT_NONE), "No-TN-Validation");
    assert_string_equal(stir_reason_sip_phrase(STIR_STALE), "Stale Date");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_verify_signed_call_passes_inline_from_cache, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_verify_failures_and_their_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_signature_by_another_key_fails, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_verify_chain_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_untrusted_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_without_cache_or_fetcher, setup, teardown),
        cmocka_unit_test(test_verify_rfc8588_examples),
        cmocka_unit_test_setup_teardown(test_verify_compact_form, setup, teardown),
        cmocka_unit_test(test_verify_reason_tables),
        cmocka_unit_test_setup_teardown(test_verify_coalesces_fetches, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
