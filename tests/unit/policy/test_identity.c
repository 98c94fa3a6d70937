#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/arena.h"
#include "base/time.h"
#include "config/config.h"
#include "policy/callerid.h"
#include "policy/identity.h"
#include "sip/msg.h"
#include "stir/certgen.h"
#include "stir/identity.h"
#include "stir/sign.h"
#include "stir/verify.h"
#include "support/unit.h"

#define X5U "https://sti.example:8443/leaf.pem"

/* A small STI PKI: a root (the trust anchor) and a leaf that signs. */
struct pki {
    char dir[64];
    char root_path[128];
    char key_path[128];
    EVP_PKEY *root_key;
    EVP_PKEY *leaf_key;
    X509 *root;
    X509 *leaf;
    char *chain_pem;
    size_t chain_len;
};

/* The SHAKEN profile's TNAuthList: one service provider code (RFC 8226, ATIS-1000080). */
static const unsigned char shaken_spc_list[] = { 0x30, 0x08, 0xa0, 0x06, 0x16,
                                                 0x04, '1',  '2',  '3',  '4' };

static struct pki pki;

static int pki_setup(void **state)
{
    (void)state;
    (void)snprintf(pki.dir, sizeof(pki.dir), "/tmp/sw-identity-XXXXXX");
    if (mkdtemp(pki.dir) == NULL) {
        return -1;
    }
    int64_t now = (int64_t)time(NULL);
    pki.root_key = stir_certgen_key();
    pki.leaf_key = stir_certgen_key();
    struct stir_certgen root = { .key = pki.root_key,
                                 .common_name = "Test STI-CA",
                                 .not_before_s = now - 3600,
                                 .not_after_s = now + 86400,
                                 .is_ca = true,
                                 .serial = 1 };
    pki.root = stir_certgen_issue(&root);
    struct stir_certgen leaf = { .key = pki.leaf_key,
                                 .issuer_key = pki.root_key,
                                 .issuer = pki.root,
                                 .common_name = "SHAKEN test",
                                 .not_before_s = now - 3600,
                                 .not_after_s = now + 86400,
                                 .serial = 2,
                                 .tnauth_der = shaken_spc_list,
                                 .tnauth_der_len = sizeof(shaken_spc_list) };
    pki.leaf = stir_certgen_issue(&leaf);
    if (pki.root == NULL || pki.leaf == NULL) {
        return -1;
    }
    (void)snprintf(pki.root_path, sizeof(pki.root_path), "%s/root.pem", pki.dir);
    (void)snprintf(pki.key_path, sizeof(pki.key_path), "%s/leaf.key", pki.dir);
    X509 *chain[1] = { pki.leaf };
    pki.chain_pem = stir_certgen_pem(chain, 1, &pki.chain_len);
    X509 *anchors[1] = { pki.root };
    if (stir_certgen_write_certs(pki.root_path, anchors, 1) != 0 ||
        stir_certgen_write_key(pki.key_path, pki.leaf_key) != 0 || pki.chain_pem == NULL) {
        return -1;
    }
    return 0;
}

static int pki_teardown(void **state)
{
    (void)state;
    (void)unlink(pki.root_path);
    (void)unlink(pki.key_path);
    (void)rmdir(pki.dir);
    sw_free(pki.chain_pem);
    X509_free(pki.leaf);
    X509_free(pki.root);
    EVP_PKEY_free(pki.leaf_key);
    EVP_PKEY_free(pki.root_key);
    return 0;
}

struct captured {
    struct sw_event events[8];
    size_t count;
};

static void capture(void *ctx, const struct sw_event *event)
{
    struct captured *c = ctx;
    if (c->count < 8) {
        c->events[c->count++] = *event;
    }
}

/* A hold the test resumes by hand: counts how often it was taken and resumed. */
struct test_hold {
    struct stage_hold hold;
    int taken;
    volatile int resumed;
};

static void test_hold_resume(struct stage_hold *hold)
{
    struct test_hold *h = (struct test_hold *)hold;
    __atomic_add_fetch(&h->resumed, 1, __ATOMIC_SEQ_CST);
}

static struct stage_hold *take_test_hold(struct stage_ctx *ctx)
{
    struct test_hold *h = ctx->hold_ctx;
    h->taken++;
    h->hold.resume = test_hold_resume;
    return &h->hold;
}

struct fixture {
    struct cfg *cfg;
    void *callerid;
    void *identity;
    struct arena *arena;
    char text[8192];
    struct sip_msg msg;
    struct stage_ctx ctx;
    struct captured captured;
    struct event_sink sink;
    struct test_hold hold;
};

static void fixture_init(struct fixture *f, const char *trunk_extra, const char *stir_extra)
{
    memset(f, 0, sizeof(*f));
    char conf[4096];
    (void)snprintf(conf, sizeof(conf),
                   "[pbx]\naddress = udp:127.0.0.1:5090\n"
                   "[provider]\ntype = trunk\nprovider = udp:192.0.2.10:5060\n"
                   "domain = provider.example\n"
                   "owned_numbers = +15551230000-+15551230099\n"
                   "default_number = +15551230000\n%s"
                   "[stir]\nsigning_key = %s\nx5u = " X5U "\nca_file = %s\n%s",
                   trunk_extra, pki.key_path, pki.root_path, stir_extra);
    struct sw_diag diag;
    sw_diag_init(&diag);
    f->cfg = cfg_load_string("test.conf", conf, &diag);
    if (f->cfg == NULL) {
        sw_diag_print(&diag, stderr);
    }
    assert_non_null(f->cfg);
    assert_int_equal(callerid_stage.init(&f->callerid, f->cfg, &diag), 0);
    int rc = identity_stage.init(&f->identity, f->cfg, &diag);
    if (rc != 0) {
        sw_diag_print(&diag, stderr);
    }
    assert_int_equal(rc, 0);
    sw_diag_fini(&diag);
    assert_int_equal(
        identity_preload(f->identity, SV(X5U), pki.chain_pem, pki.chain_len, (int64_t)time(NULL)),
        STIR_OK);
    f->arena = arena_new(65536);
    assert_non_null(f->arena);
    f->sink = (struct event_sink){ .emit = capture, .ctx = &f->captured };
}

static void fixture_fini(struct fixture *f)
{
    identity_stage.fini(f->identity);
    callerid_stage.fini(f->callerid);
    arena_free(f->arena);
    cfg_free(f->cfg);
}

/* Parses an INVITE (extra header lines in `extra`) into the fixture's context. */
static void parse(struct fixture *f, enum side side, const char *from_uri, const char *extra)
{
    int n = snprintf(f->text, sizeof(f->text),
                     "INVITE sip:+15550001111@gw.example SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: <%s>;tag=a1\r\n"
                     "To: <sip:+15550001111@gw.example>\r\n"
                     "Call-ID: identity-test@peer\r\n"
                     "CSeq: 1 INVITE\r\n"
                     "%s"
                     "Content-Length: 0\r\n\r\n",
                     from_uri, extra != NULL ? extra : "");
    assert_true(n > 0 && (size_t)n < sizeof(f->text));
    arena_reset(f->arena);
    struct sip_limits limits;
    sip_limits_default(&limits);
    struct sip_err err = { 0 };
    assert_int_equal(
        sip_msg_parse(sv_make(f->text, (size_t)n), false, &limits, f->arena, &f->msg, &err), 0);
    f->captured.count = 0;
    f->ctx = (struct stage_ctx){
        .msg = &f->msg,
        .arena = f->arena,
        .side = side,
        .trunk = 0,
        .is_trusted = side == SIDE_PBX || side == SIDE_PROVIDER,
        .now_ms = sw_mono_ms(),
        .cfg = f->cfg,
        .events = &f->sink,
        .hold = take_test_hold,
        .hold_ctx = &f->hold,
    };
}

static struct verdict run_both(struct fixture *f)
{
    struct verdict v = callerid_stage.check(f->callerid, &f->ctx);
    return v.action != VERDICT_CONTINUE ? v : identity_stage.check(f->identity, &f->ctx);
}

/* Verifies the Identity line the stage added with an independent verifier. */
static void check_signed(const struct fixture *f, const char *orig, enum stir_attest attest)
{
    struct sv extra = f->ctx.edits.extra_headers;
    assert_true(sv_is_present(extra));
    assert_true(sv_starts_with(extra, SV("Identity: ")));
    assert_true(extra.len > 2 && extra.ptr[extra.len - 2] == '\r' &&
                extra.ptr[extra.len - 1] == '\n');
    struct sv value = stir_identity_strip_name(extra);
    struct stir_verifier_cfg vc = { .ca_file = pki.root_path, .is_fetch_disabled = true };
    struct stir_verifier *verifier = NULL;
    assert_int_equal(stir_verifier_new(&vc, &verifier, NULL), 0);
    int64_t now = (int64_t)time(NULL);
    assert_int_equal(stir_verifier_preload(verifier, SV(X5U), pki.chain_pem, pki.chain_len, now),
                     STIR_OK);
    struct stir_tn orig_tn;
    struct stir_tn dest_tn;
    assert_int_equal(stir_tn_normalize(sv_from_cstr(orig), SV_NULL, &orig_tn), 0);
    assert_int_equal(stir_tn_normalize(SV("+15550001111"), SV_NULL, &dest_tn), 0);
    struct stir_call call = { .identity = value, .orig = &orig_tn, .dest = &dest_tn, .now_s = now };
    struct stir_result result;
    assert_int_equal(stir_verify_sync(verifier, &call, &result), STIR_OK);
    assert_int_equal(result.passport.attest, attest);
    assert_string_equal(result.passport.x5u, X5U);
    assert_true(strstr(value.ptr, ";info=<" X5U ">;alg=ES256;ppt=shaken") != NULL);
    stir_verifier_free(verifier);
}

static void test_identity_signs_owned_number_with_a(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "", "");
    parse(&f, SIDE_PBX, "sip:5551230005@pbx", NULL);
    assert_int_equal(run_both(&f).action, VERDICT_CONTINUE);
    check_signed(&f, "+15551230005", STIR_ATTEST_A);
    assert_true(
        sv_eq(f.ctx.edits.asserted_identity, SV("<sip:+15551230005@provider.example;user=phone>")));
    fixture_fini(&f);
}

static void test_identity_signs_the_replacement_number(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "", "");
    parse(&f, SIDE_PBX, "sip:+15559990000@pbx", NULL);
    assert_int_equal(run_both(&f).action, VERDICT_CONTINUE);
    assert_true(sv_eq(f.ctx.edits.caller_user, SV("+15551230000")));
    check_signed(&f, "+15551230000", STIR_ATTEST_A);
    fixture_fini(&f);
}

static void test_identity_allowed_foreign_number_gets_b(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "callerid_policy = allow\n", "");
    parse(&f, SIDE_PBX, "sip:+15559990000@pbx", NULL);
    assert_int_equal(run_both(&f).action, VERDICT_CONTINUE);
    check_signed(&f, "+15559990000", STIR_ATTEST_B);
    fixture_fini(&f);
}

static void test_identity_does_not_sign_what_it_cannot(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "callerid_policy = allow\n", "");
    /* Not a telephone number: unsigned. */
    parse(&f, SIDE_PBX, "sip:alice@pbx", NULL);
    assert_int_equal(run_both(&f).action, VERDICT_CONTINUE);
    assert_false(sv_is_present(f.ctx.edits.extra_headers));
    /* An account that has not authenticated is not the outbound path at all. */
    parse(&f, SIDE_ACCOUNT, "sip:+15551230005@gw", NULL);
    assert_int_equal(identity_stage.check(f.identity, &f.ctx).action, VERDICT_CONTINUE);
    assert_false(sv_is_present(f.ctx.edits.extra_headers));
    /* Relayed from the provider: verified, never signed. */
    parse(&f, SIDE_PROVIDER, "sip:+15551230005@gw", NULL);
    (void)identity_stage.check(f.identity, &f.ctx);
    assert_false(sv_is_present(f.ctx.edits.extra_headers));
    fixture_fini(&f);
}

/* A PASSporT signed by the test leaf, as an "Identity: ...\r\n" line. */
static void identity_line(char *out, size_t cap, const char *orig, const char *dest,
                          enum stir_attest attest, int64_t iat)
{
    struct stir_signer *signer = NULL;
    assert_int_equal(stir_signer_new_from_key(pki.leaf_key, SV(X5U), &signer), 0);
    struct stir_tn o;
    struct stir_tn d;
    assert_int_equal(stir_tn_normalize(sv_from_cstr(orig), SV_NULL, &o), 0);
    assert_int_equal(stir_tn_normalize(sv_from_cstr(dest), SV_NULL, &d), 0);
    struct stir_sign_req req = { .attest = attest, .orig = &o, .dest = &d, .iat = iat };
    char value[STIR_IDENTITY_VALUE_MAX];
    long n = stir_signer_sign(signer, &req, value, sizeof(value));
    assert_true(n > 0);
    stir_signer_free(signer);
    (void)snprintf(out, cap, "Identity: %s\r\n", value);
}

static struct verdict inbound(struct fixture *f, const char *extra)
{
    parse(f, SIDE_PROVIDER, "sip:+12155550121@provider.example", extra);
    return identity_stage.check(f->identity, &f->ctx);
}

static void test_identity_inbound_valid_is_passed(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "", "");
    char lines[6000];
    char id[5000];
    identity_line(id, sizeof(id), "+12155550121", "+15550001111", STIR_ATTEST_A,
                  (int64_t)time(NULL));
    /* The provider's own verstat on PAI must not survive. */
    (void)snprintf(lines, sizeof(lines),
                   "%sP-Asserted-Identity: <sip:+12155550121;verstat=TN-Validation-Failed"
                   "@provider.example;user=phone>\r\n",
                   id);
    struct verdict v = inbound(&f, lines);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_true(sv_eq(f.ctx.edits.verstat, SV("TN-Validation-Passed")));
    assert_true(sv_eq(f.ctx.edits.asserted_identity,
                      SV("<sip:+12155550121;verstat=TN-Validation-Passed@provider.example;"
                         "user=phone>")));
    assert_int_equal(f.hold.taken, 0); /* a cache hit decides inline */
    assert_int_equal(f.captured.count, 1);
    assert_int_equal(f.captured.events[0].kind, EV_IDENTITY_VERIFIED);
    assert_string_equal(f.captured.events[0].session, "identity-test@peer");
    assert_non_null(strstr(f.captured.events[0].detail, "attest=A orig=12155550121"));
    fixture_fini(&f);
}

struct failure_case {
    const char *name;
    const char *orig;
    int64_t iat_offset;
    bool is_tampered;
    int status; /* the RFC 8224 answer under identity_policy = reject */
    const char *reason_name;
};

/* Flips one character inside the signature part of an "Identity: ..." line. */
static void tamper(char *line)
{
    char *params = strchr(line, ';');
    assert_non_null(params);
    char *sig = params;
    while (sig > line && sig[-1] != '.') {
        sig--;
    }
    assert_true(params - sig > 10);
    sig[5] = sig[5] == 'A' ? 'B' : 'A';
}

static void check_failure(struct fixture *f, const struct failure_case *c, bool is_reject)
{
    char id[5000];
    identity_line(id, sizeof(id), c->orig, "+15550001111", STIR_ATTEST_A,
                  (int64_t)time(NULL) + c->iat_offset);
    if (c->is_tampered) {
        tamper(id);
    }
    struct verdict v = inbound(f, id);
    assert_int_equal(f->captured.count, 1);
    assert_int_equal(f->captured.events[0].kind, EV_IDENTITY_FAILED);
    if (strstr(f->captured.events[0].detail, c->reason_name) == NULL) {
        fail_msg("%s: %s", c->name, f->captured.events[0].detail);
    }
    if (!is_reject) {
        assert_int_equal(v.action, VERDICT_CONTINUE);
        assert_true(sv_eq(f->ctx.edits.verstat, SV("TN-Validation-Failed")));
    } else {
        assert_int_equal(v.action, VERDICT_REPLY);
        assert_int_equal(v.status, c->status);
    }
}

static void test_identity_inbound_failures_tag_or_reject(void **state)
{
    (void)state;
    static const struct failure_case cases[] = {
        { "expired", "+12155550121", -3600, false, 403, "STALE" },
        { "tampered", "+12155550121", 0, true, 438, "BAD_SIGNATURE" },
        { "wrong orig", "+12155550199", 0, false, 438, "ORIG_MISMATCH" },
    };
    for (size_t policy = 0; policy < 2; policy++) {
        struct fixture f;
        fixture_init(&f, policy == 0 ? "" : "identity_policy = reject\n", "");
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            check_failure(&f, &cases[i], policy == 1);
        }
        fixture_fini(&f);
    }
}

static void test_identity_inbound_without_identity(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "", "");
    struct verdict v = inbound(&f, NULL);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_true(sv_eq(f.ctx.edits.verstat, SV("No-TN-Validation")));
    assert_int_equal(f.captured.count, 1);
    assert_non_null(strstr(f.captured.events[0].detail, "NO_IDENTITY"));
    fixture_fini(&f);

    fixture_init(&f, "identity_policy = reject\n", "");
    assert_int_equal(inbound(&f, NULL).action, VERDICT_CONTINUE);
    fixture_fini(&f);

    fixture_init(&f, "identity_policy = require\n", "");
    v = inbound(&f, NULL);
    assert_int_equal(v.action, VERDICT_REPLY);
    assert_int_equal(v.status, 428);
    fixture_fini(&f);
}

static void test_identity_one_valid_header_of_two_passes(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "identity_policy = reject\n", "");
    char bad[5000];
    char good[5000];
    char both[10000];
    identity_line(bad, sizeof(bad), "+12155550199", "+15550001111", STIR_ATTEST_C,
                  (int64_t)time(NULL));
    identity_line(good, sizeof(good), "+12155550121", "+15550001111", STIR_ATTEST_B,
                  (int64_t)time(NULL));
    (void)snprintf(both, sizeof(both), "%s%s", bad, good);
    struct verdict v = inbound(&f, both);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_true(sv_eq(f.ctx.edits.verstat, SV("TN-Validation-Passed")));
    assert_int_equal(f.captured.count, 2);
    assert_int_equal(f.captured.events[0].kind, EV_IDENTITY_FAILED);
    assert_int_equal(f.captured.events[1].kind, EV_IDENTITY_VERIFIED);
    fixture_fini(&f);
}

/* The x5u is not cached: the call is held until the fetch ends, then decided. */
static void test_identity_cache_miss_holds_then_decides(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "", "fetch_timeout = 2\n");
    /* Signed for an x5u that is not cached; its fetch is refused (loopback). */
    struct stir_signer *signer = NULL;
    assert_int_equal(
        stir_signer_new_from_key(pki.leaf_key, SV("https://127.0.0.1:8443/x.pem"), &signer), 0);
    struct stir_tn o;
    struct stir_tn d;
    assert_int_equal(stir_tn_normalize(SV("+12155550121"), SV_NULL, &o), 0);
    assert_int_equal(stir_tn_normalize(SV("+15550001111"), SV_NULL, &d), 0);
    struct stir_sign_req req = {
        .attest = STIR_ATTEST_A, .orig = &o, .dest = &d, .iat = (int64_t)time(NULL)
    };
    char value[STIR_IDENTITY_VALUE_MAX];
    assert_true(stir_signer_sign(signer, &req, value, sizeof(value)) > 0);
    stir_signer_free(signer);
    char line[5000];
    (void)snprintf(line, sizeof(line), "Identity: %s\r\n", value);

    struct verdict v = inbound(&f, line);
    assert_int_equal(v.action, VERDICT_HOLD);
    assert_int_equal(f.hold.taken, 1);
    assert_int_equal(f.captured.count, 0);
    /* Bounded wait for the resume (the fetch is refused before any connection). */
    for (int i = 0; i < 500 && __atomic_load_n(&f.hold.resumed, __ATOMIC_SEQ_CST) == 0; i++) {
        struct timespec ts = { .tv_sec = 0, .tv_nsec = 10000000 };
        (void)nanosleep(&ts, NULL);
    }
    assert_int_equal(f.hold.resumed, 1);
    /* The second pass decides inline with the parked result. */
    v = inbound(&f, line);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_int_equal(f.hold.taken, 1);
    assert_true(sv_eq(f.ctx.edits.verstat, SV("TN-Validation-Failed")));
    assert_int_equal(f.captured.count, 1);
    assert_non_null(strstr(f.captured.events[0].detail, "CERT_FETCH"));
    fixture_fini(&f);
}

static void test_identity_retransmission_during_fetch_is_dropped(void **state)
{
    (void)state;
    struct fixture f;
    /* A loopback listener that never accepts: the TLS handshake waits (fetch_timeout). */
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(listener >= 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t addr_len = sizeof(addr);
    assert_int_equal(bind(listener, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(listener, 4), 0);
    assert_int_equal(getsockname(listener, (struct sockaddr *)&addr, &addr_len), 0);
    unsigned port = ntohs(addr.sin_port);
    char stir_extra[128];
    char x5u[64];
    (void)snprintf(stir_extra, sizeof(stir_extra),
                   "fetch_timeout = 1\nfetch_allow_private = yes\nfetch_ports = %u\n", port);
    (void)snprintf(x5u, sizeof(x5u), "https://127.0.0.1:%u/x.pem", port);
    fixture_init(&f, "", stir_extra);
    struct stir_signer *signer = NULL;
    assert_int_equal(stir_signer_new_from_key(pki.leaf_key, sv_from_cstr(x5u), &signer), 0);
    struct stir_tn o;
    struct stir_tn d;
    assert_int_equal(stir_tn_normalize(SV("+12155550121"), SV_NULL, &o), 0);
    assert_int_equal(stir_tn_normalize(SV("+15550001111"), SV_NULL, &d), 0);
    struct stir_sign_req req = {
        .attest = STIR_ATTEST_A, .orig = &o, .dest = &d, .iat = (int64_t)time(NULL)
    };
    char value[STIR_IDENTITY_VALUE_MAX];
    assert_true(stir_signer_sign(signer, &req, value, sizeof(value)) > 0);
    stir_signer_free(signer);
    char line[5000];
    (void)snprintf(line, sizeof(line), "Identity: %s\r\n", value);
    assert_int_equal(inbound(&f, line).action, VERDICT_HOLD);
    struct verdict v = inbound(&f, line);
    if (__atomic_load_n(&f.hold.resumed, __ATOMIC_SEQ_CST) == 0) {
        assert_int_equal(v.action, VERDICT_DROP);
        assert_int_equal(f.hold.taken, 1);
    }
    /* Freeing the stage resumes the hold if the fetch is still running. */
    identity_stage.fini(f.identity);
    f.identity = NULL;
    assert_int_equal(f.hold.resumed, 1);
    callerid_stage.fini(f.callerid);
    arena_free(f.arena);
    cfg_free(f.cfg);
    (void)close(listener);
}

static void test_identity_config_rules(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "[stir]\nx5u = https://a.example/c.pem\n",
        "[stir]\nsigning_key = /nonexistent/key.pem\nx5u = https://a.example/c.pem\n",
        "[stir]\nx5u = http://a.example/c.pem\nsigning_key = /nonexistent\n",
        "[stir]\nsigning_certificate = /etc/hostname\n",
        "[stir]\nfetch_ports = 443, 70000\n",
        "[stir]\ncache_ttl = 7200\ncache_max_ttl = 3600\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char conf[512];
        (void)snprintf(conf, sizeof(conf), "[pbx]\naddress = udp:127.0.0.1:5090\n%s", bad[i]);
        struct sw_diag diag;
        sw_diag_init(&diag);
        struct cfg *cfg = cfg_load_string("t.conf", conf, &diag);
        if (cfg != NULL) {
            fail_msg("accepted: %s", bad[i]);
        }
        sw_diag_fini(&diag);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_signs_owned_number_with_a),
        cmocka_unit_test(test_identity_signs_the_replacement_number),
        cmocka_unit_test(test_identity_allowed_foreign_number_gets_b),
        cmocka_unit_test(test_identity_does_not_sign_what_it_cannot),
        cmocka_unit_test(test_identity_inbound_valid_is_passed),
        cmocka_unit_test(test_identity_inbound_failures_tag_or_reject),
        cmocka_unit_test(test_identity_inbound_without_identity),
        cmocka_unit_test(test_identity_one_valid_header_of_two_passes),
        cmocka_unit_test(test_identity_cache_miss_holds_then_decides),
        cmocka_unit_test(test_identity_retransmission_during_fetch_is_dropped),
        cmocka_unit_test(test_identity_config_rules),
    };
    return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
