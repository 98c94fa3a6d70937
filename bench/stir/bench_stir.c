/*
 * STIR/SHAKEN benchmark, one thread (one core): how many Identity headers sipwarden
 * signs and verifies per second. A verification is the whole inline path of a call
 * whose x5u certificate is cached (parse, base64url, JSON, claim checks, cache lookup,
 * ES256 verify); a signature is the whole stir_signer_sign (origid UUID, canonical
 * JSON, base64url, ES256 sign). The bare OpenSSL ES256 operations are measured too, to
 * show what the rest costs. Every loop is bounded by a count and by a time limit.
 *
 *   bench_stir [-n N] [-t SECONDS]      defaults: N = 20000, 20 s per loop at most
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/time.h"
#include "stir/certgen.h"
#include "stir/jws.h"
#include "stir/sign.h"
#include "stir/verify.h"

#define X5U       "https://cert.example.net/shaken.pem"
#define RAW_INPUT "eyJhbGciOiJFUzI1NiJ9.eyJpYXQiOjF9"

struct loop_result {
    unsigned long count;
    double wall_s;
    double cpu_s;
};

static double thread_cpu_s(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* always available on Linux */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct bench_ctx {
    EVP_PKEY *key;
    struct stir_signer *signer;
    struct stir_verifier *verifier;
    struct stir_tn orig;
    struct stir_tn dest;
    char value[STIR_IDENTITY_VALUE_MAX];
    unsigned char raw_sig[STIR_ES256_SIG_LEN];
    int64_t now;
    unsigned long failures;
};

typedef void op_fn(struct bench_ctx *ctx);

static void op_sign(struct bench_ctx *ctx)
{
    struct stir_sign_req req = {
        .attest = STIR_ATTEST_A, .orig = &ctx->orig, .dest = &ctx->dest, .iat = ctx->now
    };
    char out[STIR_IDENTITY_VALUE_MAX];
    ctx->failures += stir_signer_sign(ctx->signer, &req, out, sizeof(out)) > 0 ? 0U : 1U;
}

static void op_verify(struct bench_ctx *ctx)
{
    struct stir_call call = { .identity = sv_from_cstr(ctx->value),
                              .orig = &ctx->orig,
                              .dest = &ctx->dest,
                              .now_s = ctx->now };
    struct stir_result result;
    enum stir_verify_status st = stir_verify_start(ctx->verifier, &call, &result, NULL, NULL);
    ctx->failures += st == STIR_VERIFY_DONE && result.reason == STIR_OK ? 0U : 1U;
}

static void op_raw_sign(struct bench_ctx *ctx)
{
    unsigned char sig[STIR_ES256_SIG_LEN];
    ctx->failures += stir_jws_sign(ctx->key, SV(RAW_INPUT), sig) == 0 ? 0U : 1U;
}

static void op_raw_verify(struct bench_ctx *ctx)
{
    ctx->failures += stir_jws_verify(ctx->key, SV(RAW_INPUT), ctx->raw_sig) == 0 ? 0U : 1U;
}

static struct loop_result run(op_fn *op, struct bench_ctx *ctx, unsigned long n, double max_s)
{
    uint64_t start_us = sw_mono_us();
    double cpu0 = thread_cpu_s();
    unsigned long i = 0;
    for (; i < n; i++) {
        op(ctx);
        if ((i & 255U) == 0 && (double)(sw_mono_us() - start_us) / 1e6 > max_s) {
            i++;
            break;
        }
    }
    struct loop_result r = { .count = i,
                             .wall_s = (double)(sw_mono_us() - start_us) / 1e6,
                             .cpu_s = thread_cpu_s() - cpu0 };
    return r;
}

static void report(const char *name, struct loop_result r)
{
    (void)printf("%-28s %8lu ops  %7.3f s cpu  %9.0f ops/s per core  %7.1f us/op\n", name, r.count,
                 r.cpu_s, (double)r.count / r.cpu_s, r.cpu_s * 1e6 / (double)r.count);
}

static int setup(struct bench_ctx *ctx)
{
    ctx->now = sw_wall_s();
    ctx->key = stir_certgen_key();
    struct stir_certgen spec = { .key = ctx->key,
                                 .common_name = "bench",
                                 .serial = 1,
                                 .not_before_s = ctx->now - 60,
                                 .not_after_s = ctx->now + 86400 };
    X509 *cert = ctx->key != NULL ? stir_certgen_issue(&spec) : NULL;
    size_t len = 0;
    char *pem = cert != NULL ? stir_certgen_pem(&cert, 1, &len) : NULL;
    struct stir_verifier_cfg cfg = {
        .ca_pem = pem, .ca_pem_len = len, .is_partial_chain = true, .is_fetch_disabled = true
    };
    int rc = pem == NULL ? -1 : stir_verifier_new(&cfg, &ctx->verifier, NULL);
    if (rc == 0 && stir_verifier_preload(ctx->verifier, SV(X5U), pem, len, ctx->now) != STIR_OK) {
        rc = -1;
    }
    X509_free(cert);
    sw_free(pem);
    if (rc != 0 || stir_signer_new_from_key(ctx->key, SV(X5U), &ctx->signer) != 0 ||
        stir_tn_normalize(SV("+12155550121"), SV_NULL, &ctx->orig) != 0 ||
        stir_tn_normalize(SV("+12155550131"), SV_NULL, &ctx->dest) != 0) {
        return -1;
    }
    struct stir_sign_req req = {
        .attest = STIR_ATTEST_A, .orig = &ctx->orig, .dest = &ctx->dest, .iat = ctx->now
    };
    if (stir_jws_sign(ctx->key, SV(RAW_INPUT), ctx->raw_sig) != 0) {
        return -1;
    }
    return stir_signer_sign(ctx->signer, &req, ctx->value, sizeof(ctx->value)) > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    unsigned long n = 20000;
    double max_s = 20.0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-n") == 0) {
            n = strtoul(argv[i + 1], NULL, 10);
        } else if (strcmp(argv[i], "-t") == 0) {
            max_s = strtod(argv[i + 1], NULL);
        }
    }
    struct bench_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    if (n == 0 || setup(&ctx) != 0) {
        (void)fprintf(stderr, "bench_stir: setup failed\n");
        return 1;
    }
    (void)printf("# one thread, %lu iterations or %.0f s per loop\n", n, max_s);
    report("sign (stir_signer_sign)", run(op_sign, &ctx, n, max_s));
    report("verify, cache hit", run(op_verify, &ctx, n, max_s));
    report("ES256 sign only (OpenSSL)", run(op_raw_sign, &ctx, n, max_s));
    report("ES256 verify only (OpenSSL)", run(op_raw_verify, &ctx, n, max_s));
    struct stir_verifier_stats stats;
    stir_verifier_get_stats(ctx.verifier, &stats);
    (void)printf("# failures %lu, cache hits %llu, fetches %llu\n", ctx.failures,
                 (unsigned long long)stats.cache.hits, (unsigned long long)stats.fetches);
    stir_signer_free(ctx.signer);
    stir_verifier_free(ctx.verifier);
    EVP_PKEY_free(ctx.key);
    return ctx.failures == 0 ? 0 : 1;
}
