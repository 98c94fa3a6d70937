/*
 * The digest verifier of the auth stage (policy/auth.c) in the shared stage fixture, with
 * a manual wall clock (auth_clock_set): success, nonce-count replay, a stale nonce (a
 * fresh challenge with stale=true and no failure), a realm or digest uri that is not
 * ours, a nonce issued to another address, and an unknown user answered exactly like a
 * wrong password, both with 403 and no new challenge (issue #10), and the same 403 for
 * the right password from outside an account's permit ranges (issue #9.9).
 */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "policy/auth.h"
#include "sip/digest.h"
#include "stage_fixture.h"

static const char conf[] = "[pbx]\naddress = udp:10.0.0.5:5060\n"
                           "[auth]\nrealm = example.test\nalgorithms = MD5\nnonce_lifetime = 60\n"
                           "[1001]\ntype = account\nsecret = Str0ng-1001-xQ7v-long\n"
                           "[1002]\ntype = account\nsecret = Str0ng-1002-xQ7v-long\n"
                           "permit = 192.0.2.0/24\n";

#define PHONE    "198.51.100.7"
#define PASSWORD "Str0ng-1001-xQ7v-long"

static int64_t fake_now_s = 1700000000;

static int64_t fake_clock(void)
{
    return fake_now_s;
}

static int setup(void **state)
{
    (void)state;
    auth_clock_set(fake_clock);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    auth_clock_set(NULL);
    return 0;
}

/* The fields of one Authorization header; NULL fields take the correct value. */
struct creds {
    const char *user;
    const char *password;
    const char *realm;
    const char *uri;
    const char *nc;
    const char *nonce;
    const char *src; /* the source address; NULL = PHONE */
};

static char request[4096];

static const char *make_register(const char *authorization)
{
    (void)snprintf(request, sizeof(request),
                   "REGISTER sip:192.0.2.1 SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP " PHONE ":5060;branch=z9hG4bK-a1\r\n"
                   "Max-Forwards: 70\r\n"
                   "From: <sip:1001@192.0.2.1>;tag=f1\r\n"
                   "To: <sip:1001@192.0.2.1>\r\n"
                   "Call-ID: auth-1\r\n"
                   "CSeq: 1 REGISTER\r\n"
                   "Contact: <sip:1001@" PHONE ":5060>\r\n"
                   "%s"
                   "Content-Length: 0\r\n\r\n",
                   authorization);
    return request;
}

/* Sends a REGISTER without credentials from `src`; copies the challenge's nonce. */
static void challenge(struct fixture *f, const char *src, char *nonce, size_t cap)
{
    struct verdict v = fixture_run(f, src, 1000, make_register(""));
    assert_int_equal(v.action, VERDICT_REPLY);
    assert_int_equal(v.status, 401);
    char headers[1024];
    assert_true(v.extra_headers.len < sizeof(headers));
    memcpy(headers, v.extra_headers.ptr, v.extra_headers.len);
    headers[v.extra_headers.len] = '\0';
    const char *start = strstr(headers, "nonce=\"");
    assert_non_null(start);
    start += strlen("nonce=\"");
    size_t len = strcspn(start, "\"");
    assert_true(len < cap);
    memcpy(nonce, start, len);
    nonce[len] = '\0';
}

static struct verdict answer(struct fixture *f, const char *nonce, const struct creds *c)
{
    const char *user = c->user != NULL ? c->user : "1001";
    const char *realm = c->realm != NULL ? c->realm : "example.test";
    const char *uri = c->uri != NULL ? c->uri : "sip:192.0.2.1";
    const char *nc = c->nc != NULL ? c->nc : "00000001";
    const char *password = c->password != NULL ? c->password : PASSWORD;
    nonce = c->nonce != NULL ? c->nonce : nonce;
    char ha1[SIP_DIGEST_HEX_CAP];
    char response[SIP_DIGEST_HEX_CAP];
    assert_int_equal(sip_digest_ha1(SIP_DIGEST_MD5, sv_from_cstr(user), sv_from_cstr(realm),
                                    sv_from_cstr(password), ha1),
                     0);
    assert_int_equal(sip_digest_response(SIP_DIGEST_MD5, false, sv_from_cstr(ha1),
                                         sv_from_cstr(nonce), sv_from_cstr(nc), SV("c0ffee"),
                                         SV("auth"), SV("REGISTER"), sv_from_cstr(uri), response),
                     0);
    char line[1024];
    (void)snprintf(line, sizeof(line),
                   "Authorization: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
                   "uri=\"%s\", response=\"%s\", algorithm=MD5, qop=auth, nc=%s, "
                   "cnonce=\"c0ffee\"\r\n",
                   user, realm, nonce, uri, response, nc);
    f->event_count = 0;
    return fixture_run(f, c->src != NULL ? c->src : PHONE, 1000, make_register(line));
}

static bool has_event(const struct fixture *f, enum sw_event_kind kind, const char *detail)
{
    for (size_t i = 0; i < f->event_count && i < FIXTURE_EVENTS; i++) {
        if (f->events[i].kind == kind &&
            (detail == NULL || strstr(f->events[i].detail, detail) != NULL)) {
            return true;
        }
    }
    return false;
}

static bool is_refused(struct verdict v)
{
    return v.action == VERDICT_REPLY && (v.status == 401 || v.status == 403);
}

static void test_auth_accepts_the_right_answer_once_per_nc(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &auth_stage, conf);
    char nonce[128];
    challenge(&f, PHONE, nonce, sizeof(nonce));
    struct creds ok = { 0 };
    struct verdict v = answer(&f, nonce, &ok);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_true(f.ctx.is_authenticated);
    assert_int_equal(f.ctx.side, SIDE_ACCOUNT);
    assert_true(has_event(&f, EV_SUCCESSFUL_AUTH, NULL));
    /* The same nc again is a replay (RFC 7616 §3.4.5), even with a correct response. */
    v = answer(&f, nonce, &ok);
    assert_true(is_refused(v));
    assert_false(f.ctx.is_authenticated);
    assert_true(has_event(&f, EV_CHALLENGE_RESPONSE_FAILED, "replayed nonce count"));
    /* A higher nc on the same nonce is the client's next request. */
    struct creds next = { .nc = "00000002" };
    assert_int_equal(answer(&f, nonce, &next).action, VERDICT_CONTINUE);
    fixture_fini(&f);
}

static void test_auth_stale_nonce_gets_stale_true_and_no_failure(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &auth_stage, conf);
    char nonce[128];
    challenge(&f, PHONE, nonce, sizeof(nonce));
    fake_now_s += 61; /* past nonce_lifetime */
    struct creds ok = { 0 };
    struct verdict v = answer(&f, nonce, &ok);
    fake_now_s -= 61;
    assert_int_equal(v.action, VERDICT_REPLY);
    assert_int_equal(v.status, 401);
    assert_non_null(v.extra_headers.ptr);
    char headers[1024];
    assert_true(v.extra_headers.len < sizeof(headers));
    memcpy(headers, v.extra_headers.ptr, v.extra_headers.len);
    headers[v.extra_headers.len] = '\0';
    assert_non_null(strstr(headers, "stale=true"));
    assert_null(strstr(headers, nonce)); /* a fresh nonce */
    /* The right password on an old nonce is no guess: nothing counts towards a ban. */
    for (size_t i = 0; i < f.event_count && i < FIXTURE_EVENTS; i++) {
        assert_false(sw_event_kind_is_failure(f.events[i].kind));
    }
    assert_false(f.ctx.is_authenticated);
    fixture_fini(&f);
}

static void test_auth_refuses_what_we_did_not_offer(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &auth_stage, conf);
    char nonce[128];
    challenge(&f, PHONE, nonce, sizeof(nonce));
    struct creds realm = { .realm = "other.example" };
    assert_true(is_refused(answer(&f, nonce, &realm)));
    assert_true(has_event(&f, EV_CHALLENGE_RESPONSE_FAILED, "realm not ours"));
    /* A response computed for another Request-URI cannot be moved to this one. */
    struct creds uri = { .uri = "sip:999@evil.example" };
    assert_true(is_refused(answer(&f, nonce, &uri)));
    assert_true(has_event(&f, EV_CHALLENGE_RESPONSE_FAILED, "digest uri"));
    /* A nonce issued to another address is refused from this one. */
    char elsewhere[128];
    challenge(&f, "198.51.100.99", elsewhere, sizeof(elsewhere));
    struct creds moved = { .nonce = elsewhere };
    assert_true(is_refused(answer(&f, nonce, &moved)));
    assert_true(has_event(&f, EV_CHALLENGE_RESPONSE_FAILED, "not issued to this address"));
    /* None of these authenticated anything, and the nonce still works. */
    struct creds ok = { 0 };
    assert_int_equal(answer(&f, nonce, &ok).action, VERDICT_CONTINUE);
    fixture_fini(&f);
}

/* The reply with every nonce="..." value blanked, for comparison. */
static void mask_nonces(struct verdict v, char *out, size_t cap)
{
    assert_true(v.extra_headers.len < cap);
    memcpy(out, v.extra_headers.ptr, v.extra_headers.len);
    out[v.extra_headers.len] = '\0';
    for (char *p = strstr(out, "nonce=\""); p != NULL; p = strstr(p, "nonce=\"")) {
        p += strlen("nonce=\"");
        for (; *p != '\0' && *p != '"'; p++) {
            *p = 'x';
        }
    }
}

static void test_auth_unknown_user_and_wrong_password_answered_alike(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &auth_stage, conf);
    char nonce[128];
    challenge(&f, PHONE, nonce, sizeof(nonce));
    struct creds wrong = { .password = "wrong-password", .nc = "00000001" };
    struct verdict v_wrong = answer(&f, nonce, &wrong);
    assert_true(has_event(&f, EV_INVALID_PASSWORD, NULL));
    char wrong_text[1024];
    if (v_wrong.extra_headers.ptr != NULL) {
        mask_nonces(v_wrong, wrong_text, sizeof(wrong_text));
    }
    struct creds unknown = { .user = "1999", .nc = "00000002" };
    struct verdict v_unknown = answer(&f, nonce, &unknown);
    assert_true(has_event(&f, EV_INVALID_ACCOUNT_ID, NULL));
    /* Same action, status, reason and headers (but the nonce): no user enumeration. */
    assert_true(is_refused(v_wrong));
    assert_int_equal(v_unknown.action, v_wrong.action);
    assert_int_equal(v_unknown.status, v_wrong.status);
    assert_true((v_unknown.reason == NULL) == (v_wrong.reason == NULL));
    assert_int_equal(v_unknown.extra_headers.ptr != NULL, v_wrong.extra_headers.ptr != NULL);
    if (v_wrong.extra_headers.ptr != NULL) {
        char unknown_text[1024];
        mask_nonces(v_unknown, unknown_text, sizeof(unknown_text));
        assert_string_equal(unknown_text, wrong_text);
    }
    assert_false(f.ctx.is_authenticated);
    fixture_fini(&f);
}

/*
 * Issue #10: failed credentials got a fresh challenge, so a client retried them (baresip
 * 15 times in 5 ms) and a failure on the same Call-ID could not be told from such a
 * retry. A wrong password and an unknown user get 403 now, with no challenge.
 */
static void test_auth_failed_credentials_get_403(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &auth_stage, conf);
    char nonce[128];
    challenge(&f, PHONE, nonce, sizeof(nonce));
    struct creds wrong = { .password = "wrong-password", .nc = "00000001" };
    struct verdict v = answer(&f, nonce, &wrong);
    assert_int_equal(v.action, VERDICT_REPLY);
    assert_int_equal(v.status, 403);
    assert_null(v.extra_headers.ptr);
    assert_true(has_event(&f, EV_INVALID_PASSWORD, NULL));
    struct creds unknown = { .user = "1999", .nc = "00000002" };
    v = answer(&f, nonce, &unknown);
    assert_int_equal(v.status, 403);
    assert_null(v.extra_headers.ptr);
    assert_true(has_event(&f, EV_INVALID_ACCOUNT_ID, NULL));
    fixture_fini(&f);
}

/*
 * Issue #9.9: from outside account 1002's permit range a wrong password got 401 and the
 * right one silence (or 403), so the password could be confirmed from anywhere. Both get
 * the same 403 now, also with a replayed count, and both are failures.
 */
static void test_auth_outside_permit_answers_alike(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &auth_stage, conf);
    char nonce[128];
    challenge(&f, PHONE, nonce, sizeof(nonce));
    struct creds wrong = { .user = "1002", .password = "wrong-password", .nc = "00000001" };
    struct verdict v_wrong = answer(&f, nonce, &wrong);
    assert_true(has_event(&f, EV_INVALID_PASSWORD, NULL));
    struct creds right = { .user = "1002", .password = "Str0ng-1002-xQ7v-long", .nc = "00000002" };
    struct verdict v_right = answer(&f, nonce, &right);
    assert_true(has_event(&f, EV_FAILED_ACL, NULL));
    assert_false(f.ctx.is_authenticated);
    assert_int_equal(v_right.action, v_wrong.action);
    assert_int_equal(v_right.status, v_wrong.status);
    assert_int_equal(v_right.status, 403);
    assert_int_equal(v_right.extra_headers.ptr != NULL, v_wrong.extra_headers.ptr != NULL);
    assert_int_equal(answer(&f, nonce, &right).status, 403); /* the count replayed */
    /* From inside the range the right password passes. */
    challenge(&f, "192.0.2.8", nonce, sizeof(nonce));
    struct creds inside = { .user = "1002",
                            .password = "Str0ng-1002-xQ7v-long",
                            .src = "192.0.2.8" };
    assert_int_equal(answer(&f, nonce, &inside).action, VERDICT_CONTINUE);
    assert_true(f.ctx.is_authenticated);
    fixture_fini(&f);
}

/*
 * The stage finds accounts through its own index of the user names (#13): with many
 * accounts, each authenticates as itself (its file index), a name that is none of
 * them, or only a prefix of one, is an unknown account.
 */
static void test_auth_finds_each_of_many_accounts(void **state)
{
    (void)state;

    enum { ACCOUNTS = 40 };

    static char text[8192];
    struct sw_buf b;
    sw_buf_init(&b, text, sizeof(text));
    sw_buf_str(&b, "[pbx]\naddress = udp:10.0.0.5:5060\n"
                   "[auth]\nrealm = example.test\nalgorithms = MD5\n");
    for (unsigned i = 0; i < ACCOUNTS; i++) {
        sw_buf_fmt(&b, "[%u]\ntype = account\nsecret = Str0ng-%u-xQ7v-long\n", 2000 + i, 2000 + i);
    }
    assert_false(b.is_overflow);
    struct fixture f;
    fixture_init(&f, &auth_stage, text);
    char nonce[128];
    for (unsigned i = 0; i < ACCOUNTS; i++) {
        char user[16];
        char password[64];
        (void)snprintf(user, sizeof(user), "%u", 2000 + i);
        (void)snprintf(password, sizeof(password), "Str0ng-%u-xQ7v-long", 2000 + i);
        challenge(&f, PHONE, nonce, sizeof(nonce));
        struct creds c = { .user = user, .password = password };
        assert_int_equal(answer(&f, nonce, &c).action, VERDICT_CONTINUE);
        assert_true(f.ctx.is_authenticated);
        assert_int_equal(f.ctx.account, i);
    }
    static const char *const unknown[] = { "2040", "200", "20000", "" };
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        challenge(&f, PHONE, nonce, sizeof(nonce));
        struct creds c = { .user = unknown[i], .password = "Str0ng-2000-xQ7v-long" };
        assert_int_equal(answer(&f, nonce, &c).status, 403);
        assert_true(has_event(&f, EV_INVALID_ACCOUNT_ID, NULL));
    }
    fixture_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_auth_accepts_the_right_answer_once_per_nc, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_auth_stale_nonce_gets_stale_true_and_no_failure, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_auth_refuses_what_we_did_not_offer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_unknown_user_and_wrong_password_answered_alike,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_failed_credentials_get_403, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_outside_permit_answers_alike, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_finds_each_of_many_accounts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
