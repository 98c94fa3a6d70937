/*
 * src/sip/sdp_rewrite.c: every offer/answer shape anchoring meets (plain offer with ICE,
 * RFC 2543 hold, re-INVITE adding a stream, early media answer, several m= lines with a
 * rejected one and media-level c=, IPv6), weak crypto removal, the relay's SDP as the
 * source of addresses, and output overflow.
 */
#include <string.h>

#include "base/err.h"
#include "sip/sdp.h"
#include "sip/sdp_rewrite.h"
#include "support/guarded.h"
#include "support/unit.h"

static int teardown(void **state)
{
    (void)state;
    guarded_release_all();
    return 0;
}

static struct sip_sdp_rewrite relay_v4(uint16_t port0, uint16_t port1)
{
    struct sip_sdp_rewrite spec = {
        .addr_type = SV("IP4"),
        .address = SV("203.0.113.10"),
        .is_origin_replaced = true,
        .is_ice_removed = true,
        .port_count = 2,
    };
    spec.ports[0] = port0;
    spec.ports[1] = port1;
    return spec;
}

/* Rewrites `in` (which must parse, as must the result) and compares with `want`. */
static void expect_rewrite(const char *in, const struct sip_sdp_rewrite *spec, const char *want)
{
    struct sip_sdp parsed;
    struct sip_err err = { 0 };
    assert_int_equal(sip_sdp_parse(guarded_sv(in), &parsed, &err), 0);
    char storage[4096];
    struct sw_buf out;
    sw_buf_init(&out, storage, sizeof(storage));
    assert_int_equal(sip_sdp_rewrite(guarded_sv(in), spec, &out), 0);
    storage[out.len] = '\0';
    assert_string_equal(storage, want);
    assert_int_equal(sip_sdp_parse(sv_make(storage, out.len), &parsed, &err), 0);
}

static void test_offer_with_ice_is_anchored(void **state)
{
    (void)state;
    struct sip_sdp_rewrite spec = relay_v4(40000, 0);
    expect_rewrite("v=0\r\n"
                   "o=pbx 1 2 IN IP4 10.0.0.5\r\n"
                   "s=-\r\n"
                   "c=IN IP4 10.0.0.5\r\n"
                   "t=0 0\r\n"
                   "a=ice-lite\r\n"
                   "m=audio 6000/2 RTP/AVP 0 8 101\r\n"
                   "a=rtcp:6001 IN IP4 10.0.0.5\r\n"
                   "a=ice-ufrag:abcd\r\n"
                   "a=ice-pwd:secretsecretsecret\r\n"
                   "a=candidate:1 1 UDP 2130706431 10.0.0.5 6000 typ host\r\n"
                   "a=rtpmap:101 telephone-event/8000\r\n"
                   "a=sendrecv\r\n",
                   &spec,
                   "v=0\r\n"
                   "o=pbx 1 2 IN IP4 203.0.113.10\r\n"
                   "s=-\r\n"
                   "c=IN IP4 203.0.113.10\r\n"
                   "t=0 0\r\n"
                   "m=audio 40000 RTP/AVP 0 8 101\r\n"
                   "a=rtcp:40001 IN IP4 203.0.113.10\r\n"
                   "a=rtpmap:101 telephone-event/8000\r\n"
                   "a=sendrecv\r\n");
}

static void test_hold_keeps_its_zero_address(void **state)
{
    (void)state;
    struct sip_sdp_rewrite spec = relay_v4(40002, 0);
    expect_rewrite("v=0\n"
                   "o=pbx 1 3 IN IP4 10.0.0.5\n"
                   "s=-\n"
                   "c=IN IP4 0.0.0.0\n"
                   "t=0 0\n"
                   "m=audio 6000 RTP/AVP 0\n"
                   "a=sendonly\n",
                   &spec,
                   "v=0\r\n"
                   "o=pbx 1 3 IN IP4 203.0.113.10\r\n"
                   "s=-\r\n"
                   "c=IN IP4 0.0.0.0\r\n"
                   "t=0 0\r\n"
                   "m=audio 40002 RTP/AVP 0\r\n"
                   "a=sendonly\r\n");
}

static void test_reinvite_adding_video_and_a_rejected_stream(void **state)
{
    (void)state;
    struct sip_sdp_rewrite spec = relay_v4(40004, 40006);
    spec.ports[2] = 40008; /* rtpengine's port for a stream we rejected: ignored */
    spec.port_count = 3;
    spec.is_origin_replaced = false;
    expect_rewrite("v=0\r\n"
                   "o=pbx 1 4 IN IP4 10.0.0.5\r\n"
                   "s=-\r\n"
                   "t=0 0\r\n"
                   "m=audio 6000 RTP/AVP 0\r\n"
                   "c=IN IP4 10.0.0.5\r\n"
                   "m=video 6002 RTP/AVP 96\r\n"
                   "c=IN IP4 10.0.0.6/127\r\n"
                   "a=rtcp:6003\r\n"
                   "m=image 0 udptl t38\r\n"
                   "c=IN IP4 10.0.0.5\r\n",
                   &spec,
                   "v=0\r\n"
                   "o=pbx 1 4 IN IP4 10.0.0.5\r\n"
                   "s=-\r\n"
                   "t=0 0\r\n"
                   "m=audio 40004 RTP/AVP 0\r\n"
                   "c=IN IP4 203.0.113.10\r\n"
                   "m=video 40006 RTP/AVP 96\r\n"
                   "c=IN IP4 203.0.113.10\r\n"
                   "a=rtcp:40007\r\n"
                   "m=image 0 udptl t38\r\n"
                   "c=IN IP4 203.0.113.10\r\n");
}

static void test_early_media_answer_in_ipv6(void **state)
{
    (void)state;
    struct sip_sdp_rewrite spec = {
        .addr_type = SV("IP6"),
        .address = SV("2001:db8::10"),
        .is_origin_replaced = true,
        .port_count = 1,
        .ports = { 41000 },
    };
    expect_rewrite("v=0\r\n"
                   "o=provider 9 9 IN IP4 192.0.2.7\r\n"
                   "s=-\r\n"
                   "c=IN IP4 192.0.2.7\r\n"
                   "t=0 0\r\n"
                   "m=audio 7000 RTP/AVP 8\r\n"
                   "a=rtcp:7001 IN IP4 192.0.2.7\r\n"
                   "a=candidate:1 1 UDP 1 192.0.2.7 7000 typ host\r\n"
                   "a=recvonly\r\n",
                   &spec,
                   "v=0\r\n"
                   "o=provider 9 9 IN IP6 2001:db8::10\r\n"
                   "s=-\r\n"
                   "c=IN IP6 2001:db8::10\r\n"
                   "t=0 0\r\n"
                   "m=audio 41000 RTP/AVP 8\r\n"
                   "a=rtcp:41001 IN IP6 2001:db8::10\r\n"
                   "a=candidate:1 1 UDP 1 192.0.2.7 7000 typ host\r\n"
                   "a=recvonly\r\n");
}

static void test_weak_crypto_lines_are_removed(void **state)
{
    (void)state;
    /* No address change: the policy alone removes weak offers. */
    struct sip_sdp_rewrite spec = { 0 };
    spec.drop_crypto[0] = (1u << 1) | (1u << 2);
    spec.drop_crypto[1] = 1u << 0;
    expect_rewrite("v=0\r\n"
                   "o=pbx 1 1 IN IP4 10.0.0.5\r\n"
                   "s=-\r\n"
                   "c=IN IP4 10.0.0.5\r\n"
                   "t=0 0\r\n"
                   "m=audio 6000 RTP/SAVP 0\r\n"
                   "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:a2V5\r\n"
                   "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:a2V5\r\n"
                   "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:a2V5 UNENCRYPTED_SRTP\r\n"
                   "a=rtcp:6001\r\n"
                   "m=audio 6002 RTP/SAVP 0\r\n"
                   "a=crypto:1 NULL_CIPHER inline:a2V5\r\n"
                   "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:a2V5\r\n",
                   &spec,
                   "v=0\r\n"
                   "o=pbx 1 1 IN IP4 10.0.0.5\r\n"
                   "s=-\r\n"
                   "c=IN IP4 10.0.0.5\r\n"
                   "t=0 0\r\n"
                   "m=audio 6000 RTP/SAVP 0\r\n"
                   "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:a2V5\r\n"
                   "a=rtcp:6001\r\n"
                   "m=audio 6002 RTP/SAVP 0\r\n"
                   "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:a2V5\r\n");
}

static void test_addresses_come_from_the_relay(void **state)
{
    (void)state;
    const char *relay_text = "v=0\r\n"
                             "o=pbx 1 1 IN IP4 127.0.0.1\r\n"
                             "s=-\r\n"
                             "c=IN IP4 127.0.0.1\r\n"
                             "t=0 0\r\n"
                             "m=audio 40010 RTP/AVP 0\r\n"
                             "m=video 40012 RTP/AVP 96\r\n";
    struct sip_sdp relay;
    struct sip_err err = { 0 };
    assert_int_equal(sip_sdp_parse(guarded_sv(relay_text), &relay, &err), 0);
    struct sip_sdp_rewrite spec = { 0 };
    assert_int_equal(sip_sdp_rewrite_from_relay(&relay, &spec), 0);
    assert_true(sv_eq(spec.address, SV("127.0.0.1")));
    assert_true(sv_eq(spec.addr_type, SV("IP4")));
    assert_int_equal(spec.port_count, 2);
    assert_int_equal(spec.ports[1], 40012);
    /* Only media-level c=: the first one counts. */
    const char *media_only = "v=0\r\nm=audio 40020 RTP/AVP 0\r\nc=IN IP6 ::1\r\n";
    assert_int_equal(sip_sdp_parse(guarded_sv(media_only), &relay, &err), 0);
    assert_int_equal(sip_sdp_rewrite_from_relay(&relay, &spec), 0);
    assert_true(sv_eq(spec.address, SV("::1")));
    const char *none = "v=0\r\nm=audio 40020 RTP/AVP 0\r\n";
    assert_int_equal(sip_sdp_parse(guarded_sv(none), &relay, &err), 0);
    assert_int_equal(sip_sdp_rewrite_from_relay(&relay, &spec), -SW_EBADSDP);
}

static void test_overflow_is_reported(void **state)
{
    (void)state;
    struct sip_sdp_rewrite spec = relay_v4(40000, 0);
    const char *in = "v=0\r\nc=IN IP4 10.0.0.5\r\nm=audio 6000 RTP/AVP 0\r\n";
    char storage[20];
    struct sw_buf out;
    sw_buf_init(&out, storage, sizeof(storage));
    assert_int_equal(sip_sdp_rewrite(guarded_sv(in), &spec, &out), -SW_ETOOBIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offer_with_ice_is_anchored),
        cmocka_unit_test(test_hold_keeps_its_zero_address),
        cmocka_unit_test(test_reinvite_adding_video_and_a_rejected_stream),
        cmocka_unit_test(test_early_media_answer_in_ipv6),
        cmocka_unit_test(test_weak_crypto_lines_are_removed),
        cmocka_unit_test(test_addresses_come_from_the_relay),
        cmocka_unit_test(test_overflow_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
