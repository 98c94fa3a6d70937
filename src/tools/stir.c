#include "tools/stir.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/alloc.h"
#include "base/diag.h"
#include "base/err.h"
#include "base/time.h"
#include "stir/b64url.h"
#include "stir/certgen.h"
#include "stir/identity.h"
#include "stir/sign.h"
#include "stir/verify.h"

#define EXIT_OK      0
#define EXIT_INVALID 1
#define EXIT_USAGE   2

#define MAX_REPEAT 1000
#define MAX_DAYS   3650
#define PATH_CAP   4096

static void usage(FILE *out)
{
    (void)fprintf(
        out, "usage: sipwarden stir keygen --out DIR [--cn NAME] [--days N]\n"
             "       sipwarden stir sign --key K --x5u URL --orig TN --dest TN --attest A|B|C\n"
             "                           [--iat N] [--origid UUID] [--cert C] [--country CC]\n"
             "       sipwarden stir verify (--cert CERT | --ca CA [--allow-private]\n"
             "                             [--allow-port N]... [--tls-ca FILE])\n"
             "                             [--orig TN --dest TN] [--now EPOCH] [--window S]\n"
             "                             [--repeat N] [--country CC] 'IDENTITY-VALUE'\n");
}

static bool parse_i64(const char *text, int64_t min, int64_t max, int64_t *out)
{
    uint64_t value = 0;
    if (!sv_to_u64(sv_from_cstr(text), &value) || value > (uint64_t)max || (int64_t)value < min) {
        return false;
    }
    *out = (int64_t)value;
    return true;
}

/* A number from the command line: national with --country, global with '+', or bare
 * E.164 digits (what a PASSporT carries). */
static bool parse_tn(const char *text, const char *country, struct stir_tn *out)
{
    if (stir_tn_normalize(sv_from_cstr(text), sv_from_cstr(country), out) == 0) {
        return true;
    }
    char global[STIR_TN_MAX_INPUT + 2];
    int n = snprintf(global, sizeof(global), "+%s", text);
    return n > 0 && (size_t)n < sizeof(global) &&
           stir_tn_normalize(sv_make(global, (size_t)n), SV_NULL, out) == 0;
}

/* keygen ----------------------------------------------------------------------------- */

struct keygen_opts {
    const char *out_dir;
    const char *cn;
    int64_t days;
};

static int keygen_write(const struct keygen_opts *o, EVP_PKEY *key, X509 *cert)
{
    char key_path[PATH_CAP];
    char cert_path[PATH_CAP];
    (void)snprintf(key_path, sizeof(key_path), "%s/shaken.key", o->out_dir);   /* checked below */
    (void)snprintf(cert_path, sizeof(cert_path), "%s/shaken.pem", o->out_dir); /* likewise */
    if (strlen(o->out_dir) + 16 >= PATH_CAP) {
        (void)fprintf(stderr, "stir keygen: output directory name too long\n");
        return EXIT_INVALID;
    }
    int rc = stir_certgen_write_key(key_path, key);
    if (rc != 0) {
        (void)fprintf(stderr, "stir keygen: %s: %s%s\n", key_path, sw_strerror(rc),
                      rc == -EEXIST ? " (a key is never overwritten)" : "");
        return EXIT_INVALID;
    }
    rc = stir_certgen_write_certs(cert_path, &cert, 1);
    if (rc != 0) {
        (void)fprintf(stderr, "stir keygen: %s: %s\n", cert_path, sw_strerror(rc));
        return EXIT_INVALID;
    }
    (void)printf("key: %s\ncert: %s\n", key_path, cert_path);
    return EXIT_OK;
}

static int keygen_run(const struct keygen_opts *o)
{
    if (mkdir(o->out_dir, 0700) == -1 && errno != EEXIST) {
        (void)fprintf(stderr, "stir keygen: %s: %s\n", o->out_dir,
                      strerror(errno)); /* NOLINT(concurrency-mt-unsafe): main thread */
        return EXIT_INVALID;
    }
    EVP_PKEY *key = stir_certgen_key();
    int64_t now = sw_wall_s();
    struct stir_certgen spec = {
        .key = key,
        .common_name = o->cn,
        .organization = "sipwarden STIR/SHAKEN test (no TNAuthList)",
        .not_before_s = now - 3600,
        .not_after_s = now + o->days * 86400,
        .is_ca = true,
        .serial = (uint64_t)now,
    };
    X509 *cert = key != NULL ? stir_certgen_issue(&spec) : NULL;
    int status = EXIT_INVALID;
    if (cert == NULL) {
        (void)fprintf(stderr, "stir keygen: cannot create the key or certificate\n");
    } else {
        status = keygen_write(o, key, cert);
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    return status;
}

static int keygen_main(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "out", required_argument, NULL, 'o' },
        { "cn", required_argument, NULL, 'c' },
        { "days", required_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct keygen_opts o = { .cn = "SHAKEN 1234 sipwarden test", .days = 365 };
    int c = 0;
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): options are parsed once, on the main thread. */
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        if (c == 'o') {
            o.out_dir = optarg;
        } else if (c == 'c') {
            o.cn = optarg;
        } else if (c == 'd' && parse_i64(optarg, 1, MAX_DAYS, &o.days)) {
            continue;
        } else {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? EXIT_OK : EXIT_USAGE;
        }
    }
    if (o.out_dir == NULL || optind != argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    return keygen_run(&o);
}

/* sign ------------------------------------------------------------------------------- */

struct sign_opts {
    const char *key;
    const char *cert;
    const char *x5u;
    const char *orig;
    const char *dest;
    const char *attest;
    const char *origid;
    const char *country;
    int64_t iat;
};

static int sign_run(const struct sign_opts *o)
{
    struct stir_tn orig;
    struct stir_tn dest;
    enum stir_attest attest = STIR_ATTEST_NONE;
    if (!parse_tn(o->orig, o->country, &orig) || !parse_tn(o->dest, o->country, &dest) ||
        !stir_attest_parse(sv_from_cstr(o->attest), &attest)) {
        (void)fprintf(
            stderr, "stir sign: --orig/--dest must be telephone numbers and --attest A, B or C\n");
        return EXIT_USAGE;
    }
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct stir_signer *signer = NULL;
    struct stir_signer_cfg cfg = { .key_file = o->key, .cert_file = o->cert, .x5u = o->x5u };
    if (stir_signer_new(&cfg, &signer, &diag) != 0) {
        sw_diag_print(&diag, stderr);
        sw_diag_fini(&diag);
        return EXIT_INVALID;
    }
    sw_diag_fini(&diag);
    struct stir_sign_req req = {
        .attest = attest,
        .orig = &orig,
        .dest = &dest,
        .iat = o->iat != 0 ? o->iat : sw_wall_s(),
        .origid = sv_from_cstr(o->origid),
    };
    char value[STIR_IDENTITY_VALUE_MAX];
    long n = stir_signer_sign(signer, &req, value, sizeof(value));
    stir_signer_free(signer);
    if (n < 0) {
        (void)fprintf(stderr, "stir sign: %s\n", sw_strerror((int)n));
        return EXIT_INVALID;
    }
    (void)printf("%s\n", value);
    return EXIT_OK;
}

static bool sign_option(int c, const char *arg, struct sign_opts *o)
{
    switch (c) {
    case 'k':
        o->key = arg;
        return true;
    case 'c':
        o->cert = arg;
        return true;
    case 'x':
        o->x5u = arg;
        return true;
    case 'o':
        o->orig = arg;
        return true;
    case 'd':
        o->dest = arg;
        return true;
    case 'a':
        o->attest = arg;
        return true;
    case 'u':
        o->origid = arg;
        return true;
    case 'C':
        o->country = arg;
        return true;
    case 'i':
        return parse_i64(arg, 1, INT32_MAX * 4LL, &o->iat);
    default:
        return false;
    }
}

static int sign_main(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "key", required_argument, NULL, 'k' },
        { "cert", required_argument, NULL, 'c' },
        { "x5u", required_argument, NULL, 'x' },
        { "orig", required_argument, NULL, 'o' },
        { "dest", required_argument, NULL, 'd' },
        { "attest", required_argument, NULL, 'a' },
        { "origid", required_argument, NULL, 'u' },
        { "iat", required_argument, NULL, 'i' },
        { "country", required_argument, NULL, 'C' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct sign_opts o = { .country = "" };
    int c = 0;
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): options are parsed once, on the main thread. */
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        if (!sign_option(c, optarg, &o)) {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? EXIT_OK : EXIT_USAGE;
        }
    }
    if (o.key == NULL || o.x5u == NULL || o.orig == NULL || o.dest == NULL || o.attest == NULL ||
        optind != argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    return sign_run(&o);
}

/* verify ----------------------------------------------------------------------------- */

struct verify_opts {
    const char *cert;
    const char *ca;
    const char *tls_ca;
    const char *orig;
    const char *dest;
    const char *country;
    bool allow_private;
    uint16_t ports[STIR_FETCH_PORTS_MAX];
    size_t port_count;
    int64_t now;
    int64_t window;
    int64_t repeat;
};

/* Prints one base64url part as the JSON it holds (or why it cannot). */
static void print_part(const char *label, struct sv part)
{
    unsigned char json[STIR_PASSPORT_JSON_MAX + 4];
    long n = STIR_B64URL_DECODED_MAX(part.len) < sizeof(json) - 1
                 ? stir_b64url_decode(part, json, sizeof(json) - 1)
                 : -SW_ETOOBIG;
    if (n < 0) {
        (void)printf("%s: (not valid base64url)\n", label);
        return;
    }
    /* The token is untrusted: print control characters as '?'. */
    for (long i = 0; i < n; i++) {
        json[i] = json[i] < 0x20 || json[i] == 0x7f ? '?' : json[i];
    }
    (void)printf("%s: %.*s\n", label, (int)n, (const char *)json);
}

static void print_decoded(struct sv value)
{
    struct stir_identity id;
    if (stir_identity_parse(value, &id) != STIR_OK) {
        (void)printf("identity: (malformed)\n");
        return;
    }
    if (id.is_compact) {
        (void)printf("form: compact (header and claims rebuilt from the call)\n");
    } else {
        print_part("header", id.header);
        print_part("claims", id.claims);
    }
    (void)printf("info: " SV_FMT "\n", SV_ARG(id.info));
}

static void print_result(const struct stir_result *r, int64_t iteration)
{
    if (r->chain_len > 0 || r->is_cache_hit) {
        (void)printf("certificate[%lld]: %s, chain of %zu\n", (long long)iteration,
                     r->is_cache_hit ? "cached" : "fetched", r->chain_len);
    }
    (void)printf("verdict: %s\n", r->reason == STIR_OK ? "valid" : "invalid");
    (void)printf("reason: %s (%s)\n", stir_reason_text(r->reason), stir_reason_name(r->reason));
    if (r->detail[0] != '\0') {
        (void)printf("detail: %s\n", r->detail);
    }
    if (r->reason != STIR_OK) {
        (void)printf("sip: %d %s\n", stir_reason_sip_code(r->reason),
                     stir_reason_sip_phrase(r->reason));
    }
    (void)printf("verstat: %s\n", stir_verstat_text(stir_reason_verstat(r->reason)));
    if (r->has_passport && r->reason == STIR_OK) {
        (void)printf("attest: %s\norig: %s\n", stir_attest_text(r->passport.attest),
                     r->passport.orig.digits);
    }
}

/* --cert: trust that bundle for the token's info URL, no fetch. */
static int preload_cert(struct stir_verifier *v, const char *path, struct sv value, int64_t now)
{
    struct stir_identity id;
    if (stir_identity_parse(value, &id) != STIR_OK) {
        return 0; /* verification reports the syntax error */
    }
    FILE *f = fopen(path, "rb");
    char pem[65536];
    size_t len = f != NULL ? fread(pem, 1, sizeof(pem), f) : 0;
    if (f == NULL || ferror(f) != 0 || feof(f) == 0) {
        (void)fprintf(stderr, "stir verify: cannot read %s\n", path);
        if (f != NULL) {
            (void)fclose(f); /* read-only */
        }
        return -SW_EIO;
    }
    (void)fclose(f); /* read-only */
    enum stir_reason r = stir_verifier_preload(v, id.info, pem, len, now);
    if (r != STIR_OK) {
        (void)printf("certificate: %s\n", stir_reason_text(r));
    }
    return 0;
}

static struct stir_verifier *verify_make(const struct verify_opts *o, struct sv value)
{
    struct stir_verifier_cfg cfg = {
        .ca_file = o->cert != NULL ? o->cert : o->ca,
        .is_partial_chain = o->cert != NULL,
        .iat_window_s = o->window,
        .is_fetch_disabled = o->cert != NULL,
        .fetch = { .allow_private = o->allow_private,
                   .tls_ca_file = o->tls_ca,
                   .port_count = o->port_count },
    };
    memcpy(cfg.fetch.ports, o->ports, sizeof(o->ports));
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct stir_verifier *v = NULL;
    if (stir_verifier_new(&cfg, &v, &diag) != 0) {
        sw_diag_print(&diag, stderr);
    } else if (o->cert != NULL && preload_cert(v, o->cert, value, o->now) != 0) {
        stir_verifier_free(v);
        v = NULL;
    }
    sw_diag_fini(&diag);
    return v;
}

static int verify_run(const struct verify_opts *o, const char *arg)
{
    struct stir_tn orig;
    struct stir_tn dest;
    if ((o->orig != NULL && !parse_tn(o->orig, o->country, &orig)) ||
        (o->dest != NULL && !parse_tn(o->dest, o->country, &dest))) {
        (void)fprintf(stderr, "stir verify: --orig/--dest must be telephone numbers\n");
        return EXIT_USAGE;
    }
    struct sv value = stir_identity_strip_name(sv_from_cstr(arg));
    print_decoded(value);
    struct stir_verifier *v = verify_make(o, value);
    if (v == NULL) {
        return EXIT_INVALID;
    }
    struct stir_call call = {
        .identity = value,
        .orig = o->orig != NULL ? &orig : NULL,
        .dest = o->dest != NULL ? &dest : NULL,
        .now_s = o->now,
    };
    struct stir_result result;
    for (int64_t i = 0; i < o->repeat; i++) {
        (void)stir_verify_sync(v, &call, &result); /* the reason is in result */
        print_result(&result, i);
    }
    struct stir_verifier_stats stats;
    stir_verifier_get_stats(v, &stats);
    (void)printf("fetches: %llu\n", (unsigned long long)stats.fetches);
    stir_verifier_free(v);
    return result.reason == STIR_OK ? EXIT_OK : EXIT_INVALID;
}

static bool verify_option(int c, const char *arg, struct verify_opts *o)
{
    int64_t port = 0;
    switch (c) {
    case 'c':
        o->cert = arg;
        return true;
    case 'a':
        o->ca = arg;
        return true;
    case 't':
        o->tls_ca = arg;
        return true;
    case 'o':
        o->orig = arg;
        return true;
    case 'd':
        o->dest = arg;
        return true;
    case 'C':
        o->country = arg;
        return true;
    case 'P':
        o->allow_private = true;
        return true;
    case 'p':
        if (o->port_count == STIR_FETCH_PORTS_MAX || !parse_i64(arg, 1, 65535, &port)) {
            return false;
        }
        o->ports[o->port_count++] = (uint16_t)port;
        return true;
    case 'n':
        return parse_i64(arg, 1, INT32_MAX * 4LL, &o->now);
    case 'w':
        return parse_i64(arg, 1, 86400, &o->window);
    case 'r':
        return parse_i64(arg, 1, MAX_REPEAT, &o->repeat);
    default:
        return false;
    }
}

static int verify_main(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "cert", required_argument, NULL, 'c' },
        { "ca", required_argument, NULL, 'a' },
        { "tls-ca", required_argument, NULL, 't' },
        { "orig", required_argument, NULL, 'o' },
        { "dest", required_argument, NULL, 'd' },
        { "country", required_argument, NULL, 'C' },
        { "allow-private", no_argument, NULL, 'P' },
        { "allow-port", required_argument, NULL, 'p' },
        { "now", required_argument, NULL, 'n' },
        { "window", required_argument, NULL, 'w' },
        { "repeat", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct verify_opts o = { .country = "", .repeat = 1 };
    int c = 0;
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): options are parsed once, on the main thread. */
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        if (!verify_option(c, optarg, &o)) {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? EXIT_OK : EXIT_USAGE;
        }
    }
    /* Exactly one of --cert and --ca, and exactly one header value. */
    if ((o.cert == NULL) == (o.ca == NULL) || optind + 1 != argc ||
        (o.cert != NULL && (o.allow_private || o.port_count > 0 || o.tls_ca != NULL))) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (o.now == 0) {
        o.now = sw_wall_s();
    }
    return verify_run(&o, argv[optind]);
}

int tools_stir_main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *sub = argv[1];
    optind = 1; /* each subcommand parses its own argv, starting after its name */
    if (strcmp(sub, "keygen") == 0) {
        return keygen_main(argc - 1, argv + 1);
    }
    if (strcmp(sub, "sign") == 0) {
        return sign_main(argc - 1, argv + 1);
    }
    if (strcmp(sub, "verify") == 0) {
        return verify_main(argc - 1, argv + 1);
    }
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    usage(stderr);
    return EXIT_USAGE;
}
