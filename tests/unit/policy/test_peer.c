#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "policy/peer.h"
#include "sip/msg.h"
#include "support/unit.h"

#define SECRET SV("peer-secret-of-the-cluster")
#define NOW    1790000000

/* An INVITE for 1001 with `lines` (complete header lines) added; parsed into `msg`. */
static void parse_invite(struct arena *arena, char *text, size_t cap, const char *lines,
                         struct sip_msg *msg)
{
    int n = snprintf(text, cap,
                     "INVITE sip:1001@127.0.0.11:5070 SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.12:5070;branch=z9hG4bK-1\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: <sip:pbx@127.0.0.12>;tag=a1\r\n"
                     "To: <sip:1001@127.0.0.11:5070>\r\n"
                     "Call-ID: peer-test@b\r\n"
                     "CSeq: 1 INVITE\r\n"
                     "%s"
                     "Content-Length: 0\r\n\r\n",
                     lines);
    assert_true(n > 0 && (size_t)n < cap);
    struct sip_limits limits;
    sip_limits_default(&limits);
    struct sip_err err = { 0 };
    arena_reset(arena);
    assert_int_equal(sip_msg_parse(sv_make(text, (size_t)n), false, &limits, arena, msg, &err), 0);
}

/* Whether an INVITE carrying `lines` verifies for 1001 at `now_s`. */
static bool verifies(const char *lines, struct sv secret, int64_t now_s)
{
    struct arena *arena = arena_new(65536);
    assert_non_null(arena);
    char text[2048];
    struct sip_msg msg;
    parse_invite(arena, text, sizeof(text), lines, &msg);
    bool is_ok = peer_verify(secret, &msg, SV("1001"), now_s);
    arena_free(arena);
    return is_ok;
}

static void sign(struct sv secret, struct sv account, int64_t now_s, char *line)
{
    struct sv signed_line = peer_sign(secret, SV("b"), account, now_s, line, PEER_LINE_CAP);
    assert_non_null(signed_line.ptr);
    assert_int_equal(signed_line.len, strlen(line));
    assert_true(sv_starts_with(signed_line, SV("X-Sipwarden-Peer: node=b;t=1790000000;mac=")));
}

static void test_peer_signed_invite_verifies(void **state)
{
    (void)state;
    char line[PEER_LINE_CAP];
    sign(SECRET, SV("1001"), NOW, line);
    assert_true(verifies(line, SECRET, NOW));
    assert_true(verifies(line, SECRET, NOW + PEER_MAX_AGE_S));
    assert_true(verifies(line, SECRET, NOW - PEER_MAX_AGE_S)); /* clocks a little apart */
}

static void test_peer_refuses_what_is_not_signed_for_it(void **state)
{
    (void)state;
    char line[PEER_LINE_CAP];
    sign(SECRET, SV("1001"), NOW, line);
    assert_false(verifies("", SECRET, NOW));                        /* no header */
    assert_false(verifies(line, SV("another-secret"), NOW));        /* other secret */
    assert_false(verifies(line, SECRET, NOW + PEER_MAX_AGE_S + 1)); /* too old */
    assert_false(verifies(line, SECRET, NOW - PEER_MAX_AGE_S - 1)); /* from the future */
    char twice[2 * PEER_LINE_CAP];
    (void)snprintf(twice, sizeof(twice), "%s%s", line, line);
    assert_false(verifies(twice, SECRET, NOW)); /* two headers: never guess */
    char other[PEER_LINE_CAP];
    sign(SECRET, SV("1002"), NOW, other);
    assert_false(verifies(other, SECRET, NOW)); /* signed for another account */
    /* The time changed after signing. */
    char moved[PEER_LINE_CAP];
    (void)snprintf(moved, sizeof(moved), "%s", line);
    char *t = strstr(moved, "t=1790000000");
    assert_non_null(t);
    t[11] = '1';
    assert_false(verifies(moved, SECRET, NOW));
    assert_false(verifies("X-Sipwarden-Peer: node=b;t=1790000000;mac=00\r\n", SECRET, NOW));
    assert_false(verifies("X-Sipwarden-Peer: node=b;t=-5;mac=00\r\n", SECRET, NOW));
}

static void test_peer_sign_refuses_long_node(void **state)
{
    (void)state;
    char line[PEER_LINE_CAP];
    char node[80];
    memset(node, 'n', sizeof(node));
    assert_null(
        peer_sign(SECRET, sv_make(node, sizeof(node)), SV("1001"), NOW, line, sizeof(line)).ptr);
    assert_null(peer_sign(SV(""), SV("b"), SV("1001"), NOW, line, sizeof(line)).ptr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peer_signed_invite_verifies),
        cmocka_unit_test(test_peer_refuses_what_is_not_signed_for_it),
        cmocka_unit_test(test_peer_sign_refuses_long_node),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
