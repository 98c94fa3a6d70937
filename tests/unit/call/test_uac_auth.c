#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "call/uac_auth.h"
#include "sip/auth.h"
#include "sip/digest.h"
#include "sip/msg.h"
#include "support/guarded.h"
#include "support/unit.h"

static struct sip_msg *parse(struct arena *arena, const char *text)
{
    static struct sip_msg msg;
    struct sip_limits limits;
    sip_limits_default(&limits);
    struct sip_err err = { 0 };
    assert_int_equal(sip_msg_parse(guarded_sv(text), false, &limits, arena, &msg, &err), 0);
    return &msg;
}

#define CHALLENGE_HEAD                                                                      \
    "SIP/2.0 %s\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKq\r\nFrom: <sip:a@b>;tag=1\r\n" \
    "To: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n"

/* The Authorization line we wrote, parsed back, must carry a response the server computes
 * from the same secret. */
static void check_answer(const char *line, struct sv method, struct sv uri, const char *user,
                         const char *secret, enum sip_digest_alg alg)
{
    const char *value = strchr(line, ':') + 2;
    struct sip_auth a;
    struct sip_err err = { 0 };
    assert_int_equal(sip_auth_parse(sv_make(value, strlen(value) - 2), &a, &err), 0);
    char ha1[SIP_DIGEST_HEX_CAP];
    char expected[SIP_DIGEST_HEX_CAP];
    assert_int_equal(sip_digest_ha1(alg, sv_from_cstr(user), a.realm, sv_from_cstr(secret), ha1),
                     0);
    assert_int_equal(sip_digest_response(alg, false, sv_from_cstr(ha1), a.nonce, a.nc, a.cnonce,
                                         a.qop, method, uri, expected),
                     0);
    assert_true(sv_eq(sv_from_cstr(expected), a.response));
    assert_true(sv_eq(a.uri, uri));
}

static void test_uac_auth_prefers_sha256_with_qop(void **state)
{
    (void)state;
    struct arena *arena = arena_new(64 * 1024);
    char text[1024];
    (void)snprintf(text, sizeof(text),
                   CHALLENGE_HEAD "Proxy-Authenticate: Digest realm=\"p\", nonce=\"n1\", "
                                  "algorithm=MD5, qop=\"auth\"\r\n"
                                  "Proxy-Authenticate: Digest realm=\"p\", nonce=\"n2\", "
                                  "algorithm=SHA-256, qop=\"auth,auth-int\"\r\n"
                                  "Content-Length: 0\r\n\r\n",
                   "407 Proxy Authentication Required");
    struct sip_msg *msg = parse(arena, text);
    struct uac_credentials creds = { .username = "trunk", .secret = "s3cret" };
    char line[1024];
    struct sw_buf out;
    sw_buf_init(&out, line, sizeof(line) - 1);
    assert_true(uac_auth_answer(&creds, msg, SV("INVITE"), SV("sip:1@p"), &out));
    line[out.len] = '\0';
    assert_non_null(strstr(line, "Proxy-Authorization: Digest username=\"trunk\""));
    assert_non_null(strstr(line, "algorithm=SHA-256"));
    assert_non_null(strstr(line, "qop=auth, nc=00000001"));
    check_answer(line, SV("INVITE"), SV("sip:1@p"), "trunk", "s3cret", SIP_DIGEST_SHA256);
    arena_free(arena);
    guarded_release_all();
}

static void test_uac_auth_md5_ha1_without_qop(void **state)
{
    (void)state;
    struct arena *arena = arena_new(64 * 1024);
    char text[1024];
    (void)snprintf(text, sizeof(text),
                   CHALLENGE_HEAD "WWW-Authenticate: Digest realm=\"r\", nonce=\"abc\"\r\n"
                                  "Content-Length: 0\r\n\r\n",
                   "401 Unauthorized");
    struct sip_msg *msg = parse(arena, text);
    char ha1[SIP_DIGEST_HEX_CAP];
    assert_int_equal(sip_digest_ha1(SIP_DIGEST_MD5, SV("u"), SV("r"), SV("pw"), ha1), 0);
    struct uac_credentials creds = { .username = "u", .ha1_md5 = ha1 };
    char line[1024];
    struct sw_buf out;
    sw_buf_init(&out, line, sizeof(line) - 1);
    assert_true(uac_auth_answer(&creds, msg, SV("REGISTER"), SV("sip:r"), &out));
    line[out.len] = '\0';
    assert_non_null(strstr(line, "Authorization: Digest"));
    assert_null(strstr(line, "qop="));
    check_answer(line, SV("REGISTER"), SV("sip:r"), "u", "pw", SIP_DIGEST_MD5);
    /* Only an SHA-256 HA1 and an MD5 challenge: nothing we can answer. */
    struct uac_credentials wrong = { .username = "u", .ha1_sha256 = ha1 };
    sw_buf_init(&out, line, sizeof(line) - 1);
    assert_false(uac_auth_answer(&wrong, msg, SV("REGISTER"), SV("sip:r"), &out));
    assert_false(uac_auth_answer(NULL, msg, SV("REGISTER"), SV("sip:r"), &out));
    arena_free(arena);
    guarded_release_all();
}

/* One answer per request: a second challenge, a non-challenge or no credentials get none. */
static void test_uac_auth_answers_once(void **state)
{
    (void)state;
    struct arena *arena = arena_new(64 * 1024);
    char text[1024];
    (void)snprintf(text, sizeof(text),
                   CHALLENGE_HEAD "WWW-Authenticate: Digest realm=\"p\", nonce=\"n\", "
                                  "algorithm=MD5, qop=\"auth\"\r\nContent-Length: 0\r\n\r\n",
                   "401 Unauthorized");
    struct sip_msg *msg = parse(arena, text);
    struct uac_credentials creds = { .username = "trunk", .secret = "s3cret" };
    char line[1024];
    struct sw_buf out;
    bool is_tried = false;
    sw_buf_init(&out, line, sizeof(line));
    assert_false(uac_auth_answer_once(NULL, &is_tried, msg, SV("REGISTER"), SV("sip:p"), &out));
    assert_false(is_tried);
    assert_true(uac_auth_answer_once(&creds, &is_tried, msg, SV("REGISTER"), SV("sip:p"), &out));
    assert_true(is_tried);
    assert_true(sv_starts_with(sw_buf_view(&out), SV("Authorization: Digest ")));
    sw_buf_init(&out, line, sizeof(line));
    assert_false(uac_auth_answer_once(&creds, &is_tried, msg, SV("REGISTER"), SV("sip:p"), &out));
    assert_int_equal(out.len, 0);
    msg->status = 403;
    is_tried = false;
    assert_false(uac_auth_answer_once(&creds, &is_tried, msg, SV("REGISTER"), SV("sip:p"), &out));
    assert_false(is_tried);
    arena_free(arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uac_auth_prefers_sha256_with_qop),
        cmocka_unit_test(test_uac_auth_md5_ha1_without_qop),
        cmocka_unit_test(test_uac_auth_answers_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
