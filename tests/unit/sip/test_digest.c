#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "sip/digest.h"
#include "support/testdata.h"
#include "support/unit.h"

/* The columns of testdata/digest/vectors.tsv, in order. */
enum column {
    COL_ID,
    COL_SOURCE,
    COL_ALGORITHM,
    COL_QOP,
    COL_USERNAME,
    COL_REALM,
    COL_PASSWORD,
    COL_METHOD,
    COL_URI,
    COL_NONCE,
    COL_NC,
    COL_CNONCE,
    COL_OPAQUE,
    COL_BODY,
    COL_USERHASH,
    COL_RESPONSE,
    COL_HA1,
    COL_VERIFIED,
    COL_COUNT,
};

#define VECTOR_ROWS 22

/* Turns the C escapes \r \n \\ of the entity_body column into bytes, in place. */
static struct sv unescape(struct sv in, char *buf, size_t cap)
{
    size_t len = 0;
    for (size_t i = 0; i < in.len && len < cap; i++) {
        char c = in.ptr[i];
        if (c == '\\' && i + 1 < in.len) {
            i++;
            c = in.ptr[i];
            if (c == 'r') {
                c = '\r';
            } else if (c == 'n') {
                c = '\n';
            }
        }
        buf[len++] = c;
    }
    return sv_make(buf, len);
}

static bool split_row(struct sv line, struct sv *cols)
{
    size_t n = 0;
    struct sv cell;
    while (n < COL_COUNT && sv_take_until(&line, '\t', &cell)) {
        cols[n++] = cell;
    }
    if (n < COL_COUNT) {
        cols[n++] = line;
    }
    return n == COL_COUNT;
}

static void check_vector(const struct sv *cols)
{
    struct sv id = cols[COL_ID];
    bool is_wrong = id.len >= 5 && memcmp(id.ptr + id.len - 5, "WRONG", 5) == 0;
    enum sip_digest_alg alg = SIP_DIGEST_MD5;
    bool is_sess = true;
    struct sv alg_name = is_wrong ? SV("SHA-512-256") : cols[COL_ALGORITHM];
    assert_true(sip_digest_alg_parse(alg_name, &alg, &is_sess));

    char ha1[SIP_DIGEST_HEX_CAP];
    assert_int_equal(
        sip_digest_ha1(alg, cols[COL_USERNAME], cols[COL_REALM], cols[COL_PASSWORD], ha1), 0);
    assert_int_equal(strlen(ha1), sip_digest_hex_len(alg));
    if (!is_sess && !is_wrong) {
        /* For -sess rows the column holds the session key, checked through the response. */
        assert_true(sv_eq(sv_from_cstr(ha1), cols[COL_HA1]));
    }

    char body_buf[512];
    struct sip_digest_input in = {
        .alg = alg,
        .is_sess = is_sess,
        .ha1_hex = sv_from_cstr(ha1),
        .nonce = cols[COL_NONCE],
        .nc = cols[COL_NC],
        .cnonce = cols[COL_CNONCE],
        .qop = cols[COL_QOP],
        .method = cols[COL_METHOD],
        .uri = cols[COL_URI],
        .body = unescape(cols[COL_BODY], body_buf, sizeof(body_buf)),
    };
    char response[SIP_DIGEST_HEX_CAP];
    assert_int_equal(sip_digest_response_compute(&in, response), 0);
    /* The WRONG row must not reproduce: it is SHA-512 truncated, not SHA-512/256. */
    assert_true(sv_eq(sv_from_cstr(response), cols[COL_RESPONSE]) == !is_wrong);

    if (!sv_eq(in.qop, SV("auth-int"))) {
        char simple[SIP_DIGEST_HEX_CAP];
        assert_int_equal(sip_digest_response(alg, is_sess, in.ha1_hex, in.nonce, in.nc, in.cnonce,
                                             in.qop, in.method, in.uri, simple),
                         0);
        assert_string_equal(simple, response);
    }
    if (cols[COL_USERHASH].len > 0) {
        char userhash[SIP_DIGEST_HEX_CAP];
        assert_int_equal(sip_digest_userhash(alg, cols[COL_USERNAME], cols[COL_REALM], userhash),
                         0);
        assert_true(sv_eq(sv_from_cstr(userhash), cols[COL_USERHASH]) == !is_wrong);
    }
}

static void test_digest_matches_every_vector(void **state)
{
    (void)state;
    const char *dir = testdata_dir();
    assert_non_null(dir);
    char path[1024];
    assert_true((size_t)snprintf(path, sizeof(path), "%s/digest/vectors.tsv", dir) < sizeof(path));
    size_t len = 0;
    char *text = testdata_read_file(path, &len);
    assert_non_null(text);

    struct sv rest = sv_make(text, len);
    struct sv line;
    bool is_header_seen = false;
    int rows = 0;
    while (rest.len > 0) {
        if (!sv_take_until(&rest, '\n', &line)) {
            line = rest;
            rest.len = 0;
        }
        if (line.len == 0 || line.ptr[0] == '#') {
            continue;
        }
        if (!is_header_seen) {
            is_header_seen = true; /* the column names */
            continue;
        }
        struct sv cols[COL_COUNT] = { 0 };
        assert_true(split_row(line, cols));
        check_vector(cols);
        rows++;
    }
    free(text);
    assert_int_equal(rows, VECTOR_ROWS);
}

static void test_digest_alg_parse(void **state)
{
    (void)state;

    static const struct {
        const char *name;
        enum sip_digest_alg alg;
        bool is_ok;
        bool is_sess;
    } cases[] = {
        { "MD5", SIP_DIGEST_MD5, true, false },
        { "md5-sess", SIP_DIGEST_MD5, true, true },
        { "SHA-256", SIP_DIGEST_SHA256, true, false },
        { "sha-256-SESS", SIP_DIGEST_SHA256, true, true },
        { "SHA-512-256", SIP_DIGEST_SHA512_256, true, false },
        { "SHA-512-256-sess", SIP_DIGEST_SHA512_256, true, true },
        { "", SIP_DIGEST_MD5, false, false },
        { "-sess", SIP_DIGEST_MD5, false, false },
        { "SHA-512", SIP_DIGEST_MD5, false, false },
        { "SHA256", SIP_DIGEST_MD5, false, false },
        { "MD5-sess-sess", SIP_DIGEST_MD5, false, false },
        { "AKAv1-MD5", SIP_DIGEST_MD5, false, false },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum sip_digest_alg alg = SIP_DIGEST_SHA256;
        bool is_sess = false;
        bool is_ok = sip_digest_alg_parse(sv_from_cstr(cases[i].name), &alg, &is_sess);
        assert_int_equal(is_ok, cases[i].is_ok);
        if (is_ok) {
            assert_int_equal(alg, cases[i].alg);
            assert_int_equal(is_sess, cases[i].is_sess);
        }
    }
    enum sip_digest_alg alg = SIP_DIGEST_SHA256;
    bool is_sess = true;
    assert_true(sip_digest_alg_parse(SV_NULL, &alg, &is_sess));
    assert_int_equal(alg, SIP_DIGEST_MD5);
    assert_false(is_sess);
    assert_string_equal(sip_digest_alg_name(SIP_DIGEST_SHA512_256), "SHA-512-256");
    assert_int_equal(sip_digest_hex_len(SIP_DIGEST_MD5), 32);
    assert_int_equal(sip_digest_hex_len(SIP_DIGEST_SHA256), 64);
}

static void test_digest_rejects_bad_inputs(void **state)
{
    (void)state;
    /* RFC 2617 §3.5: bob / biloxi.com / zanzibar. */
    const struct sv ha1 = SV("12af60467a33e8518da5c68bbff12b11");
    const struct sv nonce = SV("dcd98b7102dd2f0e8b11d0f600bfb0c093");
    const struct sv uri = SV("sip:bob@biloxi.com");
    char out[SIP_DIGEST_HEX_CAP];

    /* Upper-case stored HA1 gives the same response as lower-case. */
    assert_int_equal(
        sip_digest_response(SIP_DIGEST_MD5, false, SV("12AF60467A33E8518DA5C68BBFF12B11"), nonce,
                            SV("00000001"), SV("0a4f113b"), SV("auth"), SV("INVITE"), uri, out),
        0);
    assert_string_equal(out, "89eb0059246c02b2f6ee02c7961d5ea3");

    const struct {
        struct sv ha1;
        bool is_sess;
        struct sv nc;
        struct sv cnonce;
        struct sv qop;
    } bad[] = {
        { SV("12af60467a33e8518da5c68bbff12b1"), false, SV(""), SV(""), SV("") },
        { SV("12af60467a33e8518da5c68bbff12b1g"), false, SV(""), SV(""), SV("") },
        { SV_NULL, false, SV(""), SV(""), SV("") },
        { SV("12af60467a33e8518da5c68bbff12b11"), false, SV("00000001"), SV(""), SV("auth") },
        { SV("12af60467a33e8518da5c68bbff12b11"), false, SV(""), SV("0a4f113b"), SV("auth") },
        { SV("12af60467a33e8518da5c68bbff12b11"), false, SV("1"), SV("x"), SV("auth-conf") },
        { SV("12af60467a33e8518da5c68bbff12b11"), false, SV("1"), SV("x"), SV("auth-int") },
        { SV("12af60467a33e8518da5c68bbff12b11"), true, SV(""), SV(""), SV("") },
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        out[0] = 'x';
        assert_int_equal(sip_digest_response(SIP_DIGEST_MD5, bad[i].is_sess, bad[i].ha1, nonce,
                                             bad[i].nc, bad[i].cnonce, bad[i].qop, SV("INVITE"),
                                             uri, out),
                         -SW_EBADARG);
        assert_string_equal(out, "");
    }
    /* An MD5-length HA1 is the wrong length for SHA-256. */
    assert_int_equal(sip_digest_response(SIP_DIGEST_SHA256, false, ha1, nonce, SV(""), SV(""),
                                         SV(""), SV("INVITE"), uri, out),
                     -SW_EBADARG);
}

static void test_digest_hex_eq_ct(void **state)
{
    (void)state;
    assert_true(sip_digest_hex_eq_ct(SV("89eb0059"), SV("89eb0059")));
    assert_true(sip_digest_hex_eq_ct(SV("89EB0059"), SV("89eb0059")));
    assert_false(sip_digest_hex_eq_ct(SV("89eb0059"), SV("89eb0058")));
    assert_false(sip_digest_hex_eq_ct(SV("89eb0059"), SV("89eb005")));
    assert_false(sip_digest_hex_eq_ct(SV(""), SV("")));
    assert_false(sip_digest_hex_eq_ct(SV_NULL, SV_NULL));
    /* Only A-F fold: '@' (0x40) must not equal '`' (0x60). */
    assert_false(sip_digest_hex_eq_ct(SV("@"), SV("`")));
    assert_false(sip_digest_hex_eq_ct(SV("G"), SV("g")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest_matches_every_vector),
        cmocka_unit_test(test_digest_alg_parse),
        cmocka_unit_test(test_digest_rejects_bad_inputs),
        cmocka_unit_test(test_digest_hex_eq_ct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
