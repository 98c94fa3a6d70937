/*
 * src/sip/msg.c, msg_get.c and msg_check.c: the start line, header index, folding,
 * compact forms, line ends, limits, stream framing and the typed accessors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "sip/msg.h"
#include "support/guarded.h"
#include "support/unit.h"

static struct arena *test_arena;

static int setup(void **state)
{
    (void)state;
    test_arena = arena_new(64 * 1024);
    return test_arena == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_free(test_arena);
    guarded_release_all();
    return 0;
}

static const char invite[] = "INVITE sip:bob@example.com SIP/2.0\r\n"
                             "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport\r\n"
                             "Max-Forwards: 70\r\n"
                             "To: Bob <sip:bob@example.com>\r\n"
                             "From: \"Alice\" <sip:alice@example.org>;tag=1928301774\r\n"
                             "Call-ID: a84b4c76e66710@pc33.example.org\r\n"
                             "CSeq: 314159 INVITE\r\n"
                             "Contact: <sip:alice@192.0.2.1>\r\n"
                             "Content-Type: application/sdp\r\n"
                             "Content-Length: 4\r\n"
                             "\r\n"
                             "v=0\n";

static int parse(const char *text, bool is_stream, struct sip_msg *msg, struct sip_err *err)
{
    struct sip_limits limits;
    sip_limits_default(&limits);
    arena_reset(test_arena);
    return sip_msg_parse(guarded_sv(text), is_stream, &limits, test_arena, msg, err);
}

static void test_parse_invite(void **state)
{
    (void)state;
    struct sip_msg msg;
    struct sip_err err = { 0 };
    assert_int_equal(parse(invite, false, &msg, &err), 0);
    assert_int_equal(sip_msg_validate(&msg, &err), 0);
    assert_true(msg.is_request);
    assert_int_equal(msg.method, SIP_METHOD_INVITE);
    assert_true(sv_eq(msg.ruri, SV("sip:bob@example.com")));
    assert_int_equal(msg.hdr_count, 9);
    assert_true(sv_eq(msg.body, SV("v=0\n")));
    assert_true(sv_eq(sip_msg_call_id(&msg), SV("a84b4c76e66710@pc33.example.org")));
    const struct sip_cseq *cseq = sip_msg_cseq(&msg, &err);
    assert_int_equal(cseq->seq, 314159);
    assert_int_equal(cseq->method, SIP_METHOD_INVITE);
    const struct sip_via *via = sip_msg_top_via(&msg, &err);
    assert_true(sv_eq(via->transport, SV("UDP")));
    assert_true(sv_eq(via->host, SV("192.0.2.1")));
    assert_int_equal(via->port, 5060);
    assert_true(sv_eq(via->branch, SV("z9hG4bK776asdhds")));
    assert_true(via->has_rport);
    assert_int_equal(via->rport.len, 0);
    assert_true(sv_eq(sip_msg_from(&msg, &err)->tag, SV("1928301774")));
    assert_true(sv_eq(sip_msg_from(&msg, &err)->display, SV("Alice")));
    assert_null(sip_msg_to(&msg, &err)->tag.ptr);
    uint32_t mf = 0;
    assert_int_equal(sip_msg_max_forwards(&msg, &mf), 0);
    assert_int_equal(mf, 70);
    size_t cl = 0;
    assert_int_equal(sip_msg_content_length(&msg, &cl), 0);
    assert_int_equal(cl, 4);
    assert_int_equal(sip_msg_expires(&msg, &mf), -SW_ENOTFOUND);
    assert_true(sv_eq(sip_msg_ruri(&msg, &err)->user, SV("bob")));
}

static void test_parse_response_and_find(void **state)
{
    (void)state;
    struct sip_msg msg;
    struct sip_err err = { 0 };
    assert_int_equal(
        parse("SIP/2.0 180 Ringing\r\n"
              "v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b;branch=z9hG4bK2\n"
              "Via: SIP/2.0/UDP c\n"
              "f: <sip:a@b>;tag=1\nt: <sip:c@d>;tag=2\ni: x@y\nCSeq: 1 INVITE\n"
              "X-Custom: one\nx-custom: two\nl: 0\n\n",
              false, &msg, &err),
        0);
    assert_false(msg.is_request);
    assert_int_equal(msg.status, 180);
    assert_true(sv_eq(msg.reason, SV("Ringing")));
    assert_int_equal(sip_msg_validate(&msg, &err), 0);
    struct sip_via vias[3];
    size_t count = 0;
    assert_int_equal(sip_msg_vias(&msg, vias, 3, &count, &err), 0);
    assert_int_equal(count, 3);
    assert_true(sv_eq(vias[1].transport, SV("TCP")));
    assert_int_equal(sip_msg_vias(&msg, vias, 2, &count, &err), -SW_EFULL);
    assert_int_equal(sip_msg_hdr_lines(&msg, SIP_HDR_VIA), 2);
    const struct sip_hdr *h = sip_msg_find_name(&msg, SV("X-CUSTOM"), NULL);
    assert_true(sv_eq(h->value, SV("one")));
    h = sip_msg_find_name(&msg, SV("x-custom"), h);
    assert_true(sv_eq(h->value, SV("two")));
    assert_null(sip_msg_find_name(&msg, SV("x-custom"), h));
    assert_non_null(sip_msg_find_name(&msg, SV("Call-ID"), NULL));
    assert_int_equal(sip_msg_find(&msg, SIP_HDR_CALL_ID, NULL)->id, SIP_HDR_CALL_ID);
}

/* Names and values as the one-pass header loop takes them: SP/HTAB before the colon and
 * around the value, upper case, names of every length class, an empty value. */
static void test_header_names_and_values(void **state)
{
    (void)state;
    struct sip_msg msg;
    struct sip_err err = { 0 };
    assert_int_equal(parse("OPTIONS sip:a@b SIP/2.0\r\n"
                           "SUBJECT \t:\t hello world \t\r\n"
                           "To:<sip:a@b>\r\n"
                           "P-ASSERTED-IDENTITY:   <sip:c@d>\r\n"
                           "X-Empty-Value-Header:\r\n"
                           "Content-Encoding : gzip\r\n"
                           "Content-Language: en\r\n"
                           "X-Unknown_Token.1: v\r\n"
                           "l: 0\r\n\r\n",
                           false, &msg, &err),
                     0);
    assert_int_equal(msg.hdr_count, 8);

    const enum sip_hdr_id ids[] = { SIP_HDR_SUBJECT,
                                    SIP_HDR_TO,
                                    SIP_HDR_P_ASSERTED_IDENTITY,
                                    SIP_HDR_OTHER,
                                    SIP_HDR_CONTENT_ENCODING,
                                    SIP_HDR_CONTENT_LANGUAGE,
                                    SIP_HDR_OTHER,
                                    SIP_HDR_CONTENT_LENGTH };

    const char *const names[] = { "SUBJECT",
                                  "To",
                                  "P-ASSERTED-IDENTITY",
                                  "X-Empty-Value-Header",
                                  "Content-Encoding",
                                  "Content-Language",
                                  "X-Unknown_Token.1",
                                  "l" };
    const char *const values[] = { "hello world", "<sip:a@b>", "<sip:c@d>", "",
                                   "gzip",        "en",        "v",         "0" };
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(msg.hdrs[i].id, ids[i]);
        assert_true(sv_eq(msg.hdrs[i].name, sv_from_cstr(names[i])));
        assert_true(sv_eq(msg.hdrs[i].value, sv_from_cstr(values[i])));
    }
    assert_int_equal(sip_msg_hdr_lines(&msg, SIP_HDR_OTHER), 2);
}

static void test_folding_stays_a_view(void **state)
{
    (void)state;
    struct sip_msg msg;
    struct sip_err err = { 0 };
    assert_int_equal(
        parse("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP\r\n  h.example.com\r\n"
              "\t;branch=z9hG4bKx\r\nTo: <sip:a@b>\r\nFrom:\r\n <sip:c@d>\r\n ;tag=9\r\n"
              "Call-ID: 1\r\nCSeq:\r\n 8\r\n  OPTIONS\r\nSubject: a\r\n  b  \r\n\r\n",
              false, &msg, &err),
        0);
    assert_int_equal(sip_msg_validate(&msg, &err), 0);
    const struct sip_via *via = sip_msg_top_via(&msg, &err);
    assert_true(sv_eq(via->host, SV("h.example.com")));
    assert_true(sv_eq(via->branch, SV("z9hG4bKx")));
    assert_true(sv_eq(sip_msg_from(&msg, &err)->tag, SV("9")));
    assert_int_equal(sip_msg_cseq(&msg, &err)->seq, 8);
    assert_true(sv_eq(sip_msg_find(&msg, SIP_HDR_SUBJECT, NULL)->value, SV("a\r\n  b")));
}

struct bad_case {
    const char *text;
    int rc;
    uint16_t status;
    const char *reason;
};

static const struct bad_case parse_failures[] = {
    { "INVITE sip:a@b SIP/2.0\r\nVia SIP/2.0/UDP x\r\n\r\n", -SW_EBADMSG, 400, "bad header line" },
    { "INVITE sip:a@b SIP/2.0\r\n Via: x\r\n\r\n", -SW_EBADMSG, 400,
      "continuation line without header" },
    { "INVITE sip:a@b SIP/2.0\r\nVia: a\rb\r\n\r\n", -SW_EBADMSG, 400, "bare CR in header" },
    /* The same with lines long enough for the one-pass header loop, which must hand
     * them to the general path. */
    { "INVITE sip:a@b SIP/2.0\r\nVia: a\rb and more bytes\r\n\r\n", -SW_EBADMSG, 400,
      "bare CR in header" },
    { "INVITE sip:a@b SIP/2.0\r\nBad Name: some value here\r\n\r\n", -SW_EBADMSG, 400,
      "bad header line" },
    { "INVITE sip:a@b SIP/2.0\r\n: no name at all here\r\n\r\n", -SW_EBADMSG, 400,
      "bad header line" },
    { "INVITE sip:a@b SIP/2.0\r\n\tVia: a continuation first\r\n\r\n", -SW_EBADMSG, 400,
      "continuation line without header" },
    { "INVITE  sip:a@b SIP/2.0\r\n\r\n", -SW_EBADMSG, 400, "bad Request-URI" },
    { "INVITE sip:a@b SIP/2.0 \r\n\r\n", -SW_EBADMSG, 400, "bad SIP version" },
    { "INVITE sip:a@b SIP/2.\r\n\r\n", -SW_EBADMSG, 400, "bad SIP version" },
    { "INVITE sip:a@b\r\n\r\n", -SW_EBADMSG, 400, "bad Request-URI" },
    { "INV(ITE sip:a@b SIP/2.0\r\n\r\n", -SW_EBADMSG, 400, "bad method" },
    { "SIP/2.0 99 Low\r\n\r\n", -SW_EBADMSG, 0, "bad status code" },
    { "SIP/2.0 099 Low\r\n\r\n", -SW_EBADMSG, 0, "status code out of range" },
    { "SIP/2.0 1000 Big\r\n\r\n", -SW_EBADMSG, 0, "bad status code" },
    { "SIP/2.0 200OK\r\n\r\n", -SW_EBADMSG, 0, "bad status code" },
    { "SIP/2.0 200 OK\r\nl: 5\r\n\r\nabc", -SW_EBADMSG, 0,
      "Content-Length larger than the message" },
    { "OPTIONS sip:a@b SIP/2.0\r\nl: +5\r\n\r\nabcde", -SW_EBADMSG, 400, "bad Content-Length" },
    { "OPTIONS sip:a@b SIP/2.0\r\nl: 99999999999999999999999\r\n\r\n", -SW_EBADMSG, 400,
      "bad Content-Length" },
    { "OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 1\r\n\r\na", -SW_EBADMSG, 400,
      "multiple Content-Length headers" },
    { "OPTIONS sip:a@b SIP/2.0", -SW_EBADMSG, 400, "no end of start line" },
    { "", -SW_EBADMSG, 400, "empty message" },
    { "\r\n\r\n", -SW_EBADMSG, 400, "empty message" },
};

static void test_parse_failures(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(parse_failures) / sizeof(parse_failures[0]); i++) {
        const struct bad_case *bc = &parse_failures[i];
        struct sip_msg msg;
        struct sip_err err = { 0 };
        int rc = parse(bc->text, false, &msg, &err);
        if (rc != bc->rc || err.status != bc->status || strcmp(err.reason, bc->reason) != 0) {
            fail_msg("case %zu: rc %d status %u reason %s", i, rc, err.status,
                     err.reason ? err.reason : "-");
        }
    }
}

static const struct bad_case validate_failures[] = {
    { "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nTo: <sip:a@b>\r\nFrom: <sip:a@b>;tag=1\r\n"
      "Call-ID: 1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 256\r\n\r\n",
      -SW_EBADMSG, 400, "bad Max-Forwards" },
    { "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nTo: <sip:a@b>\r\nFrom: <sip:a@b>;tag=1\r\n"
      "Call-ID: 1 2\r\nCSeq: 1 OPTIONS\r\n\r\n",
      -SW_EBADMSG, 400, "bad Call-ID" },
    { "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nTo: <sip:a@b>\r\nFrom: <sip:a@b>;tag=1\r\n"
      "Call-ID: 1\r\nCSeq: 1 OPTIONS\r\nContact: *, <sip:a@b>\r\n\r\n",
      -SW_EBADMSG, 400, "Contact '*' mixed with others" },
    { "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nTo: <sip:a@b>\r\nFrom: <sip:a@b>;tag=1\r\n"
      "Call-ID: 1\r\nCSeq: 1 OPTIONS\r\nContact: <sip:a@b>\r\nContact: *\r\n\r\n",
      -SW_EBADMSG, 400, "Contact '*' mixed with others" },
    { "OPTIONS sip:a@b SIP/2.0\r\nTo: <sip:a@b>\r\nFrom: <sip:a@b>;tag=1\r\n"
      "Call-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n",
      -SW_EBADMSG, 400, "missing Via" },
    { "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h,\r\nTo: <sip:a@b>\r\nFrom: <sip:a@b>;tag=1\r\n"
      "Call-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n",
      -SW_EBADMSG, 400, "empty Via" },
    { "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nTo: <sip:a@b>\r\nFrom: <sip:a@b>;tag=1\r\n"
      "Call-ID: 1\r\nCSeq: 1 OPTIONS\r\nExpires: 1x\r\n\r\n",
      -SW_EBADMSG, 400, "bad Expires" },
    { "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\nTo: <sip:a@b>\r\nFrom: <sip:a@b>;tag=1\r\n"
      "Call-ID: 1\r\nCSeq: x OPTIONS\r\n\r\n",
      -SW_EBADMSG, 0, "bad CSeq number" },
    { "SIP/3.0 200 OK\r\n\r\n", -SW_EBADMSG, 0, "SIP version not supported" },
};

static void test_validate_failures(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(validate_failures) / sizeof(validate_failures[0]); i++) {
        const struct bad_case *bc = &validate_failures[i];
        struct sip_msg msg;
        struct sip_err err = { 0 };
        assert_int_equal(parse(bc->text, false, &msg, &err), 0);
        int rc = sip_msg_validate(&msg, &err);
        if (rc != bc->rc || err.status != bc->status || strcmp(err.reason, bc->reason) != 0) {
            fail_msg("case %zu: rc %d status %u reason %s", i, rc, err.status,
                     err.reason ? err.reason : "-");
        }
    }
}

static void test_contacts_star_and_expires(void **state)
{
    (void)state;
    struct sip_msg msg;
    struct sip_err err = { 0 };
    assert_int_equal(parse("REGISTER sip:r SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nTo: <sip:a@r>\r\n"
                           "From: <sip:a@r>;tag=1\r\nCall-ID: 1\r\nCSeq: 2 REGISTER\r\n"
                           "Contact: *\r\nExpires: 0\r\n\r\n",
                           false, &msg, &err),
                     0);
    assert_int_equal(sip_msg_validate(&msg, &err), 0);
    struct sip_contact contacts[2];
    size_t count = 9;
    bool is_star = false;
    assert_int_equal(sip_msg_contacts(&msg, contacts, 2, &count, &is_star, &err), 0);
    assert_true(is_star);
    assert_int_equal(count, 0);
    uint32_t expires = 9;
    assert_int_equal(sip_msg_expires(&msg, &expires), 0);
    assert_int_equal(expires, 0);

    assert_int_equal(parse("REGISTER sip:r SIP/2.0\r\nContact: <sip:a@h>;expires=60;q=0.5, "
                           "\"x, y\" <sip:b@h;lr>\r\nExpires: 99999999999\r\n\r\n",
                           false, &msg, &err),
                     0);
    assert_int_equal(sip_msg_contacts(&msg, contacts, 2, &count, &is_star, &err), 0);
    assert_int_equal(count, 2);
    assert_true(sv_eq(contacts[0].expires, SV("60")));
    assert_true(sv_eq(contacts[0].q, SV("0.5")));
    assert_true(sv_eq(contacts[1].addr.display, SV("x, y")));
    assert_int_equal(sip_msg_expires(&msg, &expires), 0);
    assert_int_equal(expires, 3600);
    struct sip_nameaddr routes[2];
    assert_int_equal(sip_msg_nameaddrs(&msg, SIP_HDR_ROUTE, routes, 2, &count, &err), 0);
    assert_int_equal(count, 0);
}

/* The same view: same bytes of the same buffer (or both absent). */
static bool sv_same(struct sv a, struct sv b)
{
    return a.ptr == b.ptr && a.len == b.len;
}

static void assert_same_contact(const struct sip_contact *a, const struct sip_contact *b)
{
    assert_true(sv_same(a->addr.display, b->addr.display));
    assert_true(sv_same(a->addr.uri_text, b->addr.uri_text));
    assert_true(sv_same(a->addr.uri.host, b->addr.uri.host));
    assert_true(sv_same(a->addr.uri.user, b->addr.uri.user));
    assert_true(sv_same(a->addr.params, b->addr.params));
    assert_true(sv_same(a->addr.tag, b->addr.tag));
    assert_true(sv_same(a->expires, b->expires));
    assert_true(sv_same(a->q, b->q));
}

/* The values sip_msg_validate() caches for the accessors (top Via, first Contact) are
 * the ones the accessors compute on a message that was never validated. */
static void test_validate_cache_matches_accessors(void **state)
{
    (void)state;
    static const char *const texts[] = {
        invite,
        "REGISTER sip:r SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/TCP g\r\n"
        "To: <sip:a@r>\r\nFrom: <sip:a@r>;tag=1\r\nCall-ID: 1\r\nCSeq: 2 REGISTER\r\n"
        "Contact: \"x, y\" <sip:a@h>;expires=60, <sip:b@h>\r\n\r\n",
        "REGISTER sip:r SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nTo: <sip:a@r>\r\n"
        "From: <sip:a@r>;tag=1\r\nCall-ID: 1\r\nCSeq: 2 REGISTER\r\nContact: *\r\n\r\n",
        "OPTIONS sip:r SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nTo: <sip:a@r>\r\n"
        "From: <sip:a@r>;tag=1\r\nCall-ID: 1\r\nCSeq: 2 OPTIONS\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct sip_msg plain;
        struct sip_msg checked;
        struct sip_err err = { 0 };
        struct sip_contact want[2];
        struct sip_contact got[2];
        size_t want_count = 9;
        size_t got_count = 8;
        bool want_star = false;
        bool got_star = true;
        /* One buffer for both parses, so that equal views are equal bytes. */
        struct sv text = guarded_sv(texts[i]);
        struct sip_limits limits;
        sip_limits_default(&limits);
        arena_reset(test_arena);
        assert_int_equal(sip_msg_parse(text, false, &limits, test_arena, &plain, &err), 0);
        struct sip_via want_via = *sip_msg_top_via(&plain, &err);
        int want_rc = sip_msg_contacts(&plain, want, 2, &want_count, &want_star, &err);
        arena_reset(test_arena);
        assert_int_equal(sip_msg_parse(text, false, &limits, test_arena, &checked, &err), 0);
        assert_int_equal(sip_msg_validate(&checked, &err), 0);
        const struct sip_via *via = sip_msg_top_via(&checked, &err);
        assert_non_null(via);
        assert_true(sv_same(via->raw, want_via.raw) && sv_same(via->host, want_via.host));
        assert_true(sv_same(via->branch, want_via.branch) && sv_same(via->params, want_via.params));
        assert_int_equal(via->port, want_via.port);
        assert_int_equal(sip_msg_contacts(&checked, got, 2, &got_count, &got_star, &err), want_rc);
        assert_int_equal(got_count, want_count);
        assert_int_equal(got_star, want_star);
        for (size_t j = 0; j < got_count; j++) {
            assert_same_contact(&got[j], &want[j]);
        }
        if (got_count == 1) {
            /* No room: the cached answer says so like the walk does. */
            assert_int_equal(sip_msg_contacts(&checked, got, 0, &got_count, &got_star, &err),
                             -SW_EFULL);
            assert_int_equal(got_count, 0);
        }
    }
}

static void test_limits(void **state)
{
    (void)state;
    struct sip_limits limits;
    sip_limits_default(&limits);
    struct sip_msg msg;
    struct sip_err err = { 0 };
    static char big[70000];

    /* Over 65535 bytes: 513 without looking further. */
    memset(big, 'a', sizeof(big));
    memcpy(big, "OPTIONS sip:a@b SIP/2.0\r\n", 25);
    arena_reset(test_arena);
    assert_int_equal(
        sip_msg_parse(guarded_copy(big, 65536), false, &limits, test_arena, &msg, &err),
        -SW_ETOOBIG);
    assert_int_equal(err.status, 513);

    /* A line of 8193 bytes: 400; 8192 is fine. */
    size_t len = (size_t)snprintf(big, sizeof(big), "OPTIONS sip:a@b SIP/2.0\r\nX: ");
    memset(big + len, 'b', 8192 - 3);
    len += 8192 - 3;
    memcpy(big + len, "\r\n\r\n", 4);
    arena_reset(test_arena);
    assert_int_equal(
        sip_msg_parse(guarded_copy(big, len + 4), false, &limits, test_arena, &msg, &err), 0);
    big[len] = 'b';
    memcpy(big + len + 1, "\r\n\r\n", 4);
    arena_reset(test_arena);
    assert_int_equal(
        sip_msg_parse(guarded_copy(big, len + 5), false, &limits, test_arena, &msg, &err),
        -SW_EBADMSG);
    assert_int_equal(err.status, 400);
    assert_string_equal(err.reason, "header line too long");

    /* 128 headers are fine, 129 are not. */
    for (size_t headers = 128; headers <= 129; headers++) {
        len = (size_t)snprintf(big, sizeof(big), "OPTIONS sip:a@b SIP/2.0\r\n");
        for (size_t i = 0; i < headers; i++) {
            len += (size_t)snprintf(big + len, sizeof(big) - len, "X-H: %zu\r\n", i);
        }
        len += (size_t)snprintf(big + len, sizeof(big) - len, "\r\n");
        arena_reset(test_arena);
        int rc = sip_msg_parse(guarded_copy(big, len), false, &limits, test_arena, &msg, &err);
        assert_int_equal(rc, headers == 128 ? 0 : -SW_EBADMSG);
    }

    /* The arena too small for the index: 513, never malloc. */
    struct arena *tiny = arena_new(64);
    assert_int_equal(sip_msg_parse(guarded_sv(invite), false, &limits, tiny, &msg, &err),
                     -SW_ENOMEM_ARENA);
    assert_int_equal(err.status, 513);
    arena_free(tiny);
}

static void test_bare_lf_and_datagram_rules(void **state)
{
    (void)state;
    struct sip_msg msg;
    struct sip_err err = { 0 };
    /* Headers ending with the datagram, no empty line. */
    assert_int_equal(parse("OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h\nl: 0", false, &msg, &err),
                     0);
    assert_int_equal(msg.hdr_count, 2);
    assert_int_equal(msg.body.len, 0);
    /* ...which a stream refuses. */
    assert_int_equal(parse("OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h\nl: 0", true, &msg, &err),
                     -SW_EBADMSG);
    /* No Content-Length: the rest of the datagram, but streams require it. */
    assert_int_equal(parse("MESSAGE sip:a@b SIP/2.0\r\nVia: x\r\n\r\nhello", false, &msg, &err), 0);
    assert_true(sv_eq(msg.body, SV("hello")));
    assert_int_equal(parse("MESSAGE sip:a@b SIP/2.0\r\nVia: x\r\n\r\nhello", true, &msg, &err),
                     -SW_EBADMSG);
    assert_string_equal(err.reason, "Content-Length required on streams");
    /* Trailing octets after the body are not part of the message. */
    assert_int_equal(parse("MESSAGE sip:a@b SIP/2.0\r\nl: 2\r\n\r\nhello", false, &msg, &err), 0);
    assert_true(sv_eq(msg.body, SV("he")));
    assert_int_equal(msg.raw.len, strlen("MESSAGE sip:a@b SIP/2.0\r\nl: 2\r\n\r\nhe"));
    /* Leading CRLFs are skipped (RFC 3261 §7.5). */
    assert_int_equal(parse("\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\nl: 0\r\n\r\n", true, &msg, &err), 0);
    assert_true(sv_eq(msg.method_name, SV("OPTIONS")));
}

static const char stream_msgs[] = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 5\r\n\r\nhello"
                                  "\r\n\r\n"
                                  "MESSAGE sip:a@b SIP/2.0\r\nl:\r\n 3\r\nVia: x\r\n\r\nabc"
                                  "SIP/2.0 200 OK\nContent-Length: 0\n\n";

/* Feeds `stream_msgs` in pieces of `step` bytes and checks the three messages come out. */
static void frame_in_steps(size_t step)
{
    struct sip_limits limits;
    sip_limits_default(&limits);
    static const size_t want[] = { 51, 4 + 46, 34 };
    size_t total = strlen(stream_msgs);
    size_t consumed = 0;
    size_t avail = 0;
    size_t found = 0;
    while (consumed < total) {
        avail = avail + step > total ? total : avail + step;
        for (;;) {
            struct sv view = guarded_copy(stream_msgs + consumed, avail - consumed);
            size_t msg_len = 0;
            struct sip_err err = { 0 };
            int rc = sip_frame(view, &limits, &msg_len, &err);
            if (rc == -SW_EINCOMPLETE) {
                break;
            }
            assert_int_equal(rc, 0);
            assert_true(found < 3);
            assert_int_equal(msg_len, want[found]);
            struct sip_msg msg;
            arena_reset(test_arena);
            assert_int_equal(
                sip_msg_parse(sv_make(view.ptr, msg_len), true, &limits, test_arena, &msg, &err),
                0);
            found++;
            consumed += msg_len;
        }
        guarded_release_all();
    }
    assert_int_equal(found, 3);
}

static void test_frame_split_and_coalesced(void **state)
{
    (void)state;
    frame_in_steps(1);
    frame_in_steps(7);
    frame_in_steps(sizeof(stream_msgs));
}

static void test_frame_errors(void **state)
{
    (void)state;
    struct sip_limits limits;
    sip_limits_default(&limits);
    size_t msg_len = 0;
    struct sip_err err = { 0 };
    assert_int_equal(
        sip_frame(guarded_sv("OPTIONS sip:a@b SIP/2.0\r\n\r\n"), &limits, &msg_len, &err),
        -SW_EBADMSG);
    assert_string_equal(err.reason, "Content-Length required on streams");
    assert_int_equal(
        sip_frame(guarded_sv("OPTIONS sip:a@b SIP/2.0\r\nl: -9\r\n\r\n"), &limits, &msg_len, &err),
        -SW_EBADMSG);
    assert_int_equal(sip_frame(guarded_sv("OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nl: 1\r\n\r\n"),
                               &limits, &msg_len, &err),
                     -SW_EBADMSG);
    assert_int_equal(sip_frame(guarded_sv("OPTIONS sip:a@b SIP/2.0\r\nl: 70000\r\n\r\n"), &limits,
                               &msg_len, &err),
                     -SW_ETOOBIG);
    assert_int_equal(err.status, 513);
    assert_int_equal(sip_frame(guarded_sv("\r\n\r\n"), &limits, &msg_len, &err), -SW_EINCOMPLETE);
    assert_int_equal(sip_frame_keepalive_len(guarded_sv("\r\n\r\nO")), 4);

    /* Headers that never end: 513 once max_msg_bytes are buffered, not before. */
    static char big[SIP_MAX_MSG_BYTES + 10];
    memset(big, 'x', sizeof(big));
    memcpy(big, "OPTIONS sip:a@b SIP/2.0\r\n", 25);
    for (size_t i = 25; i + 12 < sizeof(big); i += 12) {
        memcpy(big + i, "X-Pad: abc\r\n", 12);
    }
    limits.max_headers = 100000;
    assert_int_equal(sip_frame(guarded_copy(big, 30000), &limits, &msg_len, &err), -SW_EINCOMPLETE);
    assert_int_equal(sip_frame(guarded_copy(big, sizeof(big)), &limits, &msg_len, &err),
                     -SW_ETOOBIG);
    /* A line longer than the limit is refused without waiting for its end. */
    sip_limits_default(&limits);
    memset(big + 25, 'y', 9000);
    assert_int_equal(sip_frame(guarded_copy(big, 9100), &limits, &msg_len, &err), -SW_EBADMSG);
    assert_string_equal(err.reason, "line too long");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_invite),
        cmocka_unit_test(test_parse_response_and_find),
        cmocka_unit_test(test_header_names_and_values),
        cmocka_unit_test(test_folding_stays_a_view),
        cmocka_unit_test(test_parse_failures),
        cmocka_unit_test(test_validate_failures),
        cmocka_unit_test(test_contacts_star_and_expires),
        cmocka_unit_test(test_validate_cache_matches_accessors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_bare_lf_and_datagram_rules),
        cmocka_unit_test(test_frame_split_and_coalesced),
        cmocka_unit_test(test_frame_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
