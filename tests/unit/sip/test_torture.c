/*
 * RFC 4475 and RFC 5118 torture messages (tests/data): every file gets the
 * exact verdict written in the tables below, as a UDP datagram at a proxy that
 * supports no extension. The tables are checked against each MANIFEST.tsv, so a file
 * added there without a row here fails the test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "sip/check.h"
#include "sip/msg.h"
#include "sip/sdp.h"
#include "support/guarded.h"
#include "support/testdata.h"
#include "support/unit.h"

struct torture_case {
    const char *name;
    const char *expected; /* the manifest's column: valid, invalid, accept-with-care... */
    enum sip_action action;
    uint16_t status;
};

#define OK(n, e)                    \
    {                               \
        n, e, SIP_ACTION_PROCEED, 0 \
    }
#define REPLY(n, e, code)            \
    {                                \
        n, e, SIP_ACTION_REPLY, code \
    }
#define DROP(n, e)               \
    {                            \
        n, e, SIP_ACTION_DROP, 0 \
    }

static const struct torture_case rfc4475_cases[] = {
    OK("wsinv", "valid"),
    OK("intmeth", "valid"),
    OK("esc01", "valid"),
    OK("escnull", "valid"),
    OK("esc02", "valid"),
    OK("lwsdisp", "valid"),
    OK("longreq", "valid"),
    OK("dblreq", "valid"),
    OK("semiuri", "valid"),
    OK("transports", "valid"),
    OK("mpart01", "valid"),
    OK("unreason", "valid"),
    OK("noreason", "valid"),
    REPLY("badinv01", "invalid", 400),
    REPLY("clerr", "invalid", 400),
    REPLY("ncl", "invalid", 400),
    REPLY("scalar02", "invalid", 400),
    DROP("scalarlg", "invalid"),
    REPLY("quotbal", "invalid", 400),
    REPLY("ltgtruri", "invalid", 400),
    REPLY("lwsruri", "invalid", 400),
    REPLY("lwsstart", "invalid", 400),
    REPLY("trws", "invalid", 400),
    REPLY("escruri", "invalid", 400),
    REPLY("baddate", "invalid", 400),
    REPLY("regbadct", "invalid", 400),
    REPLY("badaspec", "invalid", 400),
    REPLY("baddn", "invalid", 400),
    REPLY("badvers", "invalid", 505),
    REPLY("mismatch01", "invalid", 400),
    REPLY("mismatch02", "invalid", 501),
    DROP("bigcode", "invalid"),
    /* RFC 4475 §3.2.1 allows 400 or RFC 2543 matching; a gateway keeps no state for a
     * transaction id it cannot trust, so it answers 400 statelessly. */
    REPLY("badbranch", "accept-with-care", 400),
    REPLY("insuf", "invalid", 400),
    REPLY("unkscm", "accept-with-care", 416),
    REPLY("novelsc", "accept-with-care", 416),
    OK("unksm2", "accept-with-care"),
    REPLY("bext01", "accept-with-care", 420),
    OK("invut", "accept-with-care"),
    OK("regaut01", "accept-with-care"),
    REPLY("multi01", "invalid", 400),
    REPLY("mcl01", "invalid", 400),
    DROP("bcast", "accept-with-care"),
    REPLY("zeromf", "accept-with-care", 483),
    OK("cparam01", "valid"),
    OK("cparam02", "valid"),
    OK("regescrt", "valid"),
    OK("sdp01", "accept-with-care"),
    OK("inv2543", "accept-with-care"),
    REPLY("test", "unreferenced", 400),
};

static const struct torture_case rfc5118_cases[] = {
    OK("ipv6-good", "valid"),
    REPLY("ipv6-bad", "invalid", 400),
    OK("port-ambiguous", "accept-with-care"),
    OK("port-unambiguous", "valid"),
    OK("via-received-param-with-delim", "accept-with-care"),
    OK("via-received-param-no-delim", "valid"),
    /* The archive declares Content-Length 268 for a 242-octet body (251 with CRLF):
     * RFC 3261 §18.3 makes that a 400 over UDP. test_rfc5118_fixed_lengths checks the
     * message with its length corrected. */
    REPLY("ipv6-in-sdp", "valid", 400),
    OK("mult-ip-in-header", "valid"),
    /* Declared 181, archived LF body 180 octets: one short (the CRLF copy is long enough). */
    REPLY("mult-ip-in-sdp", "valid", 400),
    OK("ipv4-mapped-ipv6", "valid"),
    OK("ipv6-bug-abnf-3-colons", "accept-with-care"),
    OK("ipv6-correct-abnf-2-colons", "valid"),
};

/* The CRLF copies in rfc5118/wire differ only where their longer bodies now suffice. */
static const struct torture_case rfc5118_wire_overrides[] = {
    OK("mult-ip-in-sdp", "valid"),
};

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
    test_arena = NULL;
    guarded_release_all();
    return 0;
}

static struct sv read_case(const char *dir, const char *name)
{
    const char *base = testdata_dir();
    if (base == NULL) {
        fail_msg("SW_TESTDATA is not set");
    }
    char path[1024];
    (void)snprintf(path, sizeof(path), "%s/%s/%s.dat", base, dir, name);
    size_t len = 0;
    char *data = testdata_read_file(path, &len);
    if (data == NULL) {
        fail_msg("cannot read %s", path);
    }
    struct sv copy = guarded_copy(data, len);
    free(data);
    return copy;
}

static const struct sip_check_cfg proxy_cfg = { .role = SIP_ROLE_PROXY };

static void check_verdict(const char *dir, const struct torture_case *tc, struct sip_msg *msg,
                          struct sip_check_result *result)
{
    struct sip_limits limits;
    sip_limits_default(&limits);
    arena_reset(test_arena);
    struct sv raw = read_case(dir, tc->name);
    assert_int_equal(sip_check_message(raw, false, &limits, &proxy_cfg, test_arena, msg, result),
                     0);
    if (result->action != tc->action || result->status != tc->status) {
        fail_msg("%s/%s: got action %d status %u (%s), want action %d status %u", dir, tc->name,
                 result->action, result->status, result->reason ? result->reason : "-", tc->action,
                 tc->status);
    }
    if (strcmp(tc->expected, "valid") == 0 || strcmp(tc->expected, "accept-with-care") == 0) {
        /* Well-formed per the RFC: must parse and validate unless its bytes are broken
         * (the rfc5118 length defects, which then fail in the parser, not later). */
        struct sip_err err = { 0 };
        arena_reset(test_arena);
        int rc = sip_msg_parse(raw, false, &limits, test_arena, msg, &err);
        if (rc == 0) {
            assert_int_equal(sip_msg_validate(msg, &err), 0);
        } else {
            assert_int_equal(tc->status, 400);
        }
    }
}

static void run_table(const char *dir, const struct torture_case *cases, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        struct sip_msg msg;
        struct sip_check_result result;
        check_verdict(dir, &cases[i], &msg, &result);
    }
}

/* Each manifest row must appear in `cases` with the same expectation, and vice versa. */
static void check_manifest(const char *dir, const struct torture_case *cases, size_t count)
{
    char path[1024];
    (void)snprintf(path, sizeof(path), "%s/%s/MANIFEST.tsv", testdata_dir(), dir);
    size_t len = 0;
    char *text = testdata_read_file(path, &len);
    assert_non_null(text);
    size_t rows = 0;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        char name[128];
        char section[32];
        char title[512];
        char expected[64];
        if (line[0] == '#' || strncmp(line, "name\t", 5) == 0 ||
            sscanf(line, "%127[^\t]\t%31[^\t]\t%511[^\t]\t%63[^\t]", name, section, title,
                   expected) != 4) {
            continue;
        }
        rows++;
        bool is_found = false;
        for (size_t i = 0; i < count; i++) {
            if (strcmp(cases[i].name, name) == 0) {
                is_found = true;
                assert_string_equal(cases[i].expected, expected);
                if (strcmp(expected, "invalid") == 0) {
                    assert_int_not_equal(cases[i].action, SIP_ACTION_PROCEED);
                }
            }
        }
        if (!is_found) {
            fail_msg("%s: manifest row %s has no expected verdict in this test", dir, name);
        }
    }
    free(text);
    assert_int_equal(rows, count);
}

static void test_rfc4475_verdicts(void **state)
{
    (void)state;
    size_t count = sizeof(rfc4475_cases) / sizeof(rfc4475_cases[0]);
    check_manifest("rfc4475", rfc4475_cases, count);
    run_table("rfc4475", rfc4475_cases, count);
}

static void test_rfc5118_verdicts(void **state)
{
    (void)state;
    size_t count = sizeof(rfc5118_cases) / sizeof(rfc5118_cases[0]);
    check_manifest("rfc5118", rfc5118_cases, count);
    run_table("rfc5118", rfc5118_cases, count);
    for (size_t i = 0; i < count; i++) {
        struct torture_case tc = rfc5118_cases[i];
        for (size_t j = 0; j < sizeof(rfc5118_wire_overrides) / sizeof(rfc5118_wire_overrides[0]);
             j++) {
            if (strcmp(rfc5118_wire_overrides[j].name, tc.name) == 0) {
                tc = rfc5118_wire_overrides[j];
            }
        }
        struct sip_msg msg;
        struct sip_check_result result;
        check_verdict("rfc5118/wire", &tc, &msg, &result);
    }
}

/* Parses one file as a valid message and returns it for field checks. */
static void parse_ok(const char *dir, const char *name, struct sip_msg *msg)
{
    struct sip_limits limits;
    sip_limits_default(&limits);
    struct sip_err err = { 0 };
    arena_reset(test_arena);
    int rc = sip_msg_parse(read_case(dir, name), false, &limits, test_arena, msg, &err);
    if (rc != 0) {
        fail_msg("%s: %s at %zu", name, err.reason, err.pos);
    }
    assert_int_equal(sip_msg_validate(msg, &err), 0);
}

static void test_rfc4475_escapes(void **state)
{
    (void)state;
    struct sip_msg msg;
    struct sip_err err = { 0 };
    char decoded[128];
    size_t len = 0;

    parse_ok("rfc4475", "esc01", &msg);
    const struct sip_uri *ruri = sip_msg_ruri(&msg, &err);
    assert_non_null(ruri);
    assert_int_equal(sip_uri_unescape(ruri->user, decoded, sizeof(decoded), &len), 0);
    assert_memory_equal(decoded, "sips:user@example.com", len);
    assert_int_equal(len, strlen("sips:user@example.com"));
    assert_true(sip_uri_escaped_eq(sip_msg_to(&msg, &err)->uri.user, SV("user")));

    parse_ok("rfc4475", "escnull", &msg);
    struct sip_contact contacts[4];
    size_t count = 0;
    bool is_star = false;
    assert_int_equal(sip_msg_contacts(&msg, contacts, 4, &count, &is_star, &err), 0);
    assert_int_equal(count, 2);
    assert_false(sip_uri_escaped_eq(contacts[0].addr.uri.user, contacts[1].addr.uri.user));

    parse_ok("rfc4475", "esc02", &msg);
    assert_int_equal(msg.method, SIP_METHOD_UNKNOWN);
    assert_true(sv_eq(msg.method_name, SV("RE%47IST%45R")));
    assert_int_equal(sip_msg_contacts(&msg, contacts, 4, &count, &is_star, &err), 0);
    assert_int_equal(count, 2);

    parse_ok("rfc4475", "semiuri", &msg);
    ruri = sip_msg_ruri(&msg, &err);
    assert_true(sv_eq(ruri->user, SV("user;par=u%40example.net")));
    assert_true(sv_eq(ruri->host, SV("example.com")));
}

static void test_rfc4475_structure(void **state)
{
    (void)state;
    struct sip_msg msg;
    struct sip_err err = { 0 };
    struct sip_via vias[64];
    size_t count = 0;

    parse_ok("rfc4475", "longreq", &msg);
    assert_int_equal(sip_msg_vias(&msg, vias, 64, &count, &err), 0);
    assert_int_equal(count, 34);

    parse_ok("rfc4475", "dblreq", &msg);
    assert_int_equal(msg.method, SIP_METHOD_REGISTER);
    assert_int_equal(msg.body.len, 0);

    parse_ok("rfc4475", "mpart01", &msg);
    assert_int_equal(msg.body.len, msg.content_length);
    assert_true(msg.body.len > 0);

    parse_ok("rfc4475", "noreason", &msg);
    assert_int_equal(msg.status, 100);
    assert_true(sv_is_present(msg.reason));
    assert_int_equal(msg.reason.len, 0);

    parse_ok("rfc4475", "cparam01", &msg);
    struct sip_contact contacts[2];
    bool is_star = false;
    assert_int_equal(sip_msg_contacts(&msg, contacts, 2, &count, &is_star, &err), 0);
    assert_null(contacts[0].addr.uri.params.ptr);
    assert_true(sv_starts_with(contacts[0].addr.params, SV(";unknownparam")));

    parse_ok("rfc4475", "cparam02", &msg);
    assert_int_equal(sip_msg_contacts(&msg, contacts, 2, &count, &is_star, &err), 0);
    assert_true(sv_eq(contacts[0].addr.uri.params, SV(";unknownparam")));

    parse_ok("rfc4475", "transports", &msg);
    assert_int_equal(sip_msg_vias(&msg, vias, 64, &count, &err), 0);
    assert_int_equal(count, 5);

    parse_ok("rfc4475", "inv2543", &msg);
    assert_false(msg.has_content_length);
    assert_true(msg.body.len > 0);
    assert_null(sip_msg_top_via(&msg, &err)->branch.ptr);
}

static void test_rfc4475_bext01_lists_tags(void **state)
{
    (void)state;
    struct sip_msg msg;
    struct sip_check_result result;
    const struct torture_case tc = REPLY("bext01", "accept-with-care", 420);
    check_verdict("rfc4475", &tc, &msg, &result);
    assert_true(sv_eq(result.unsupported, SV("noProxiesSupportThis, norDoAnyProxiesSupportThis")));

    /* A UAS judges Require instead of Proxy-Require. */
    struct sip_check_cfg uas = { .role = SIP_ROLE_UAS };
    assert_int_equal(sip_check_semantics(&msg, &uas, &result), 0);
    assert_int_equal(result.status, 420);
    assert_true(sv_eq(result.unsupported, SV("nothingSupportsThis, nothingSupportsThisEither")));

    /* zeromf at a UAS is processed normally. */
    arena_reset(test_arena);
    struct sip_limits limits;
    sip_limits_default(&limits);
    assert_int_equal(sip_check_message(read_case("rfc4475", "zeromf"), false, &limits, &uas,
                                       test_arena, &msg, &result),
                     0);
    assert_int_equal(result.action, SIP_ACTION_PROCEED);
}

static void test_rfc5118_addresses(void **state)
{
    (void)state;
    struct sip_msg msg;
    struct sip_err err = { 0 };

    parse_ok("rfc5118", "port-ambiguous", &msg);
    const struct sip_uri *ruri = sip_msg_ruri(&msg, &err);
    assert_true(sv_eq(ruri->host, SV("[2001:db8::10:5070]")));
    assert_false(ruri->has_port);

    parse_ok("rfc5118", "port-unambiguous", &msg);
    ruri = sip_msg_ruri(&msg, &err);
    assert_true(sv_eq(ruri->host, SV("[2001:db8::10]")));
    assert_int_equal(ruri->port, 5070);

    parse_ok("rfc5118", "via-received-param-with-delim", &msg);
    assert_true(sv_eq(sip_msg_top_via(&msg, &err)->received, SV("[2001:db8::9:255]")));
    parse_ok("rfc5118", "via-received-param-no-delim", &msg);
    assert_true(sv_eq(sip_msg_top_via(&msg, &err)->received, SV("2001:db8::9:255")));

    parse_ok("rfc5118", "ipv6-bug-abnf-3-colons", &msg);
    assert_true(sv_eq(sip_msg_ruri(&msg, &err)->host, SV("[2001:db8:::192.0.2.1]")));
}

/* The three SDP messages with their Content-Length corrected parse, and so do their SDPs. */
static void test_rfc5118_fixed_lengths(void **state)
{
    (void)state;
    static const char *const names[] = { "ipv6-in-sdp", "mult-ip-in-sdp", "ipv4-mapped-ipv6" };
    for (size_t i = 0; i < 3; i++) {
        char path[1024];
        (void)snprintf(path, sizeof(path), "%s/rfc5118/%s.dat", testdata_dir(), names[i]);
        size_t len = 0;
        char *text = testdata_read_file(path, &len); /* NUL-terminated for strstr */
        assert_non_null(text);
        const char *sep = strstr(text, "\n\n");
        assert_non_null(sep);
        size_t body_len = len - (size_t)(sep + 2 - text);
        char fixed[4096];
        const char *cl = strstr(text, "Content-Length: ");
        assert_non_null(cl);
        const char *cl_end = strchr(cl, '\n');
        int n = snprintf(fixed, sizeof(fixed), "%.*sContent-Length: %zu%.*s", (int)(cl - text),
                         text, body_len, (int)(text + len - cl_end), cl_end);
        free(text);
        assert_true(n > 0 && (size_t)n < sizeof(fixed));
        struct sip_msg msg;
        struct sip_limits limits;
        sip_limits_default(&limits);
        struct sip_err err = { 0 };
        arena_reset(test_arena);
        assert_int_equal(
            sip_msg_parse(guarded_copy(fixed, (size_t)n), false, &limits, test_arena, &msg, &err),
            0);
        assert_int_equal(sip_msg_validate(&msg, &err), 0);
        static struct sip_sdp sdp;
        assert_int_equal(sip_sdp_parse(msg.body, &sdp, &err), 0);
        assert_true(sdp.media_count >= 1);
        const struct sip_sdp_conn *conn = sip_sdp_media_conn(&sdp, &sdp.media[0]);
        assert_non_null(conn);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4475_verdicts),          cmocka_unit_test(test_rfc5118_verdicts),
        cmocka_unit_test(test_rfc4475_escapes),           cmocka_unit_test(test_rfc4475_structure),
        cmocka_unit_test(test_rfc4475_bext01_lists_tags), cmocka_unit_test(test_rfc5118_addresses),
        cmocka_unit_test(test_rfc5118_fixed_lengths),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
