/*
 * Fuzz harness for the Identity header and the PASSporT decoder: the input is an Identity
 * header value (or a whole "Identity:" line). It goes through the header parser, the
 * base64url and JSON decoders and the whole verifier, with the certificate of a fixed
 * key (RFC 8225 A.1, the key the seed tokens are signed with) preloaded under the
 * token's own info URL, so valid signatures reach the cache-hit path. The raw input is
 * also fed to the JSON claim decoders and the telephone-number normalizer. Everything is
 * created and freed per input: no state survives between inputs.
 */
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "stir/certgen.h"
#include "stir/identity.h"
#include "stir/passport.h"
#include "stir/tn.h"
#include "stir/verify.h"

/* NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The RFC 8225 Appendix A.1 test key (testdata/stir/rfc8225-appA-private-key.pem). */
static const char rfc8225_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgi7q2TZvN9VDFg8Vy\n"
    "qCP06bETrR2v8MRvr89rn4i+UAahRANCAAQWfaj1HUETpoNCrOtp9KA8o0V79IuW\n"
    "ARKt9C1cFPkyd3FBP4SeiNZxQhDrD0tdBHls3/wFe8++K2FrPyQF9vuh\n"
    "-----END PRIVATE KEY-----\n";

/* The seeds' iat (RFC 8588 §6) plus a few seconds. */
#define FUZZ_NOW 1443208350

/* A self-signed certificate for the fixed key, valid 1970..9999, as PEM. */
static char *fixed_cert_pem(size_t *len)
{
    BIO *bio = BIO_new_mem_buf(rfc8225_key_pem, (int)sizeof(rfc8225_key_pem) - 1);
    EVP_PKEY *key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    struct stir_certgen spec = {
        .key = key,
        .common_name = "fuzz",
        .not_before_s = 0,
        .not_after_s = 253402300799, /* 9999-12-31T23:59:59Z */
        .serial = 1,
    };
    X509 *cert = key != NULL ? stir_certgen_issue(&spec) : NULL;
    char *pem = cert != NULL ? stir_certgen_pem(&cert, 1, len) : NULL;
    X509_free(cert);
    EVP_PKEY_free(key);
    return pem;
}

static void verify_input(struct sv value, const char *pem, size_t pem_len)
{
    struct stir_verifier_cfg cfg = {
        .ca_pem = pem,
        .ca_pem_len = pem_len,
        .is_partial_chain = true,
        .iat_window_s = INT32_MAX,
        .allow_non_shaken = true,
        .is_fetch_disabled = true,
    };
    struct stir_verifier *v = NULL;
    if (stir_verifier_new(&cfg, &v, NULL) != 0) {
        return;
    }
    struct stir_identity id;
    if (stir_identity_parse(value, &id) == STIR_OK) {
        (void)stir_verifier_preload(v, id.info, pem, pem_len, FUZZ_NOW); /* verdict unused */
    }
    struct stir_tn orig;
    struct stir_tn dest;
    (void)stir_tn_normalize(SV("+12155550121"), SV_NULL, &orig); /* constant input */
    (void)stir_tn_normalize(SV("+12155550131"), SV_NULL, &dest);
    struct stir_call call = { .identity = value, .now_s = FUZZ_NOW };
    struct stir_result result;
    (void)stir_verify_start(v, &call, &result, NULL, NULL); /* always DONE without fetcher */
    call.orig = &orig;
    call.dest = &dest;
    call.date_s = FUZZ_NOW - 5;
    (void)stir_verify_start(v, &call, &result, NULL, NULL);
    stir_verifier_free(v);
}

/* NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192) {
        return 0;
    }
    struct sv input = sv_make((const char *)data, size);
    struct sv value = stir_identity_strip_name(input);
    struct stir_passport pp;
    memset(&pp, 0, sizeof(pp));
    (void)stir_passport_decode_header(input, &pp); /* only crashes and leaks matter here */
    (void)stir_passport_decode_claims(input, &pp);
    struct stir_tn tn;
    (void)stir_tn_normalize(input, SV("1"), &tn);
    (void)stir_tn_from_uri(input, SV("44"), &tn);
    size_t pem_len = 0;
    char *pem = fixed_cert_pem(&pem_len);
    if (pem != NULL) {
        verify_input(value, pem, pem_len);
    }
    sw_free(pem);
    return 0;
}
