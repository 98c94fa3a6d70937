/*
 * The media stage: SRTP required by a TLS trunk (source and destination), SDES keys refused
 * on legs without TLS, DTLS-SRTP and media_encryption, weak crypto lines removed into
 * ctx->edits.sdp, malformed SDP, and what is not an offer; with anchoring, the media
 * rtpengine gives each side instead of the receiver's refusals.
 */
#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "config/config.h"
#include "policy/media.h"
#include "sip/msg.h"
#include "stage_fixture.h"
#include "support/unit.h"

/* prov: a TLS trunk (srtp auto: required); plain: a UDP trunk; strict: UDP, srtp required
 * with DTLS only. The PBX talks UDP. Calls from the PBX leave by prov. */
static const char conf[] = "[general]\n"
                           "default_trunk = prov\n"
                           "[pbx]\n"
                           "address = udp:127.0.0.1:5090\n"
                           "[prov]\n"
                           "type = trunk\n"
                           "provider = tls:192.0.2.1:5061\n"
                           "[plain]\n"
                           "type = trunk\n"
                           "provider = udp:198.51.100.1:5060\n"
                           "[strict]\n"
                           "type = trunk\n"
                           "provider = udp:203.0.113.1:5060\n"
                           "media_encryption = dtls\n"
                           "srtp = required\n";

#define SDP_HEAD "v=0\r\no=x 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n"
#define KEY_80 \
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
#define KEY_32 \
    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"

static const char plain_rtp[] = SDP_HEAD "m=audio 6000 RTP/AVP 0 8\r\n";
static const char sdes[] = SDP_HEAD "m=audio 6000 RTP/SAVP 0\r\n" KEY_80;
static const char sdes_with_weak[] =
    SDP_HEAD "m=audio 6000 RTP/SAVP 0\r\n" KEY_80 KEY_32 "a=crypto:3 AES_CM_128_HMAC_SHA1_80 "
             "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9 "
             "UNENCRYPTED_SRTCP\r\n";
static const char dtls[] = SDP_HEAD "m=audio 6000 UDP/TLS/RTP/SAVPF 0\r\n"
                                    "a=fingerprint:sha-256 AB:CD:EF\r\n"
                                    "a=setup:actpass\r\n";
static const char disabled_plain[] = SDP_HEAD "m=audio 6000 UDP/TLS/RTP/SAVPF 0\r\n"
                                              "a=fingerprint:sha-256 AB:CD:EF\r\n"
                                              "m=video 0 RTP/AVP 96\r\n";

/* Runs the stage on `method` with `sdp` (NULL: no body) from `src_ip` over `transport`. */
static struct verdict run(struct fixture *f, const char *src_ip, enum sw_transport transport,
                          const char *method, const char *sdp)
{
    char text[3072];
    const char *body = sdp != NULL ? sdp : "";
    int n = snprintf(text, sizeof(text),
                     "%s sip:+15550001111@gw.example SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-1\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: <sip:+15551230000@x>;tag=a1\r\n"
                     "To: <sip:+15550001111@gw.example>\r\n"
                     "Call-ID: media-test@x\r\n"
                     "CSeq: 1 %s\r\n"
                     "%s"
                     "Content-Length: %zu\r\n\r\n%s",
                     method, src_ip, method, sdp != NULL ? "Content-Type: application/sdp\r\n" : "",
                     strlen(body), body);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    fixture_prepare(f, src_ip, 0, text);
    f->ctx.transport = transport;
    f->event_count = 0;
    return f->stage->check(f->state, &f->ctx);
}

static void assert_refused(const struct fixture *f, struct verdict v, uint16_t status,
                           const char *warning_part)
{
    assert_int_equal(v.action, VERDICT_REPLY);
    assert_int_equal(v.status, status);
    assert_true(sv_starts_with(v.extra_headers, SV("Warning: 399 sipwarden \"")));
    char headers[512];
    assert_true(sv_copy_cstr(v.extra_headers, headers, sizeof(headers)));
    if (strstr(headers, warning_part) == NULL) {
        fail_msg("warning '%s' lacks '%s'", headers, warning_part);
    }
    assert_int_equal(f->event_count, 1);
    assert_int_equal(f->events[0].kind, status == 400 ? EV_MALFORMED : EV_POLICY_HIT);
}

static void test_tls_trunk_requires_srtp(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &media_stage, conf);
    struct verdict v = run(&f, "192.0.2.1", SW_TRANSPORT_TLS, "INVITE", plain_rtp);
    assert_refused(&f, v, 488, "SRTP required by trunk prov: audio stream is RTP/AVP");
    /* DTLS-SRTP carries no keys in the SDP: it may cross to the PBX's UDP leg. */
    v = run(&f, "192.0.2.1", SW_TRANSPORT_TLS, "INVITE", dtls);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_false(sv_is_present(f.ctx.edits.sdp));
    assert_int_equal(f.event_count, 0);
    /* A disabled stream (port 0) needs no SRTP. */
    v = run(&f, "192.0.2.1", SW_TRANSPORT_TLS, "UPDATE", disabled_plain);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    /* The PBX's offer goes to prov (the default trunk), which requires SRTP. */
    v = run(&f, "127.0.0.1", SW_TRANSPORT_UDP, "INVITE", plain_rtp);
    assert_refused(&f, v, 488, "SRTP required by trunk prov");
    fixture_fini(&f);
}

static void test_keys_only_over_tls(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &media_stage, conf);
    /* prov's address says TLS, but this INVITE came over UDP: the keys were in clear. */
    struct verdict v = run(&f, "192.0.2.1", SW_TRANSPORT_UDP, "INVITE", sdes);
    assert_refused(&f, v, 488, "SDES keys (a=crypto) refused on a leg without TLS (trunk prov)");
    /* From the PBX over UDP: refused although prov would carry them over TLS. */
    v = run(&f, "127.0.0.1", SW_TRANSPORT_UDP, "INVITE", sdes);
    assert_refused(&f, v, 488, "without TLS (PBX pbx)");
    /* From a TLS provider towards the PBX on UDP: the PBX leg would carry them in clear. */
    v = run(&f, "192.0.2.1", SW_TRANSPORT_TLS, "PRACK", sdes);
    assert_int_equal(v.action, VERDICT_REPLY);
    assert_int_equal(v.status, 488);
    fixture_fini(&f);
}

static void test_plain_trunk_and_media_encryption(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &media_stage, conf);
    /* UDP, srtp auto: optional. */
    struct verdict v = run(&f, "198.51.100.1", SW_TRANSPORT_UDP, "INVITE", plain_rtp);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_int_equal(f.event_count, 0);
    /* strict requires DTLS-SRTP: plain RTP is refused, DTLS passes. */
    v = run(&f, "203.0.113.1", SW_TRANSPORT_UDP, "INVITE", plain_rtp);
    assert_refused(&f, v, 488, "SRTP required by trunk strict");
    v = run(&f, "203.0.113.1", SW_TRANSPORT_UDP, "INVITE", dtls);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    fixture_fini(&f);
    /* A PBX on TLS that speaks plain RTP says so; its trunk too. */
    fixture_init(&f, &media_stage,
                 "[pbx]\naddress = tls:127.0.0.1:5091\nsrtp = optional\n"
                 "[prov]\ntype = trunk\nprovider = tls:192.0.2.1:5061\n");
    v = run(&f, "127.0.0.1", SW_TRANSPORT_TLS, "INVITE", plain_rtp);
    assert_refused(&f, v, 488, "SRTP required by trunk prov");
    v = run(&f, "192.0.2.1", SW_TRANSPORT_TLS, "INVITE", plain_rtp);
    assert_refused(&f, v, 488, "SRTP required by trunk prov");
    fixture_fini(&f);
    fixture_init(&f, &media_stage,
                 "[pbx]\naddress = tls:127.0.0.1:5091\n"
                 "[prov]\ntype = trunk\nprovider = tls:192.0.2.1:5061\nsrtp = optional\n");
    v = run(&f, "192.0.2.1", SW_TRANSPORT_TLS, "INVITE", plain_rtp);
    assert_refused(&f, v, 488, "SRTP required by PBX pbx");
    fixture_fini(&f);
}

static void test_weak_crypto_is_removed(void **state)
{
    (void)state;
    struct fixture f;
    /* The PBX on TLS too, so that keys may travel on both legs. */
    const char *text = "[general]\ndefault_trunk = prov\n"
                       "[pbx]\naddress = tls:127.0.0.1:5091\n"
                       "[prov]\ntype = trunk\nprovider = tls:192.0.2.1:5061\n";
    fixture_init(&f, &media_stage, text);
    struct verdict v = run(&f, "192.0.2.1", SW_TRANSPORT_TLS, "INVITE", sdes_with_weak);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_true(sv_eq(f.ctx.edits.sdp, sv_from_cstr(sdes)));
    assert_int_equal(f.event_count, 1);
    assert_int_equal(f.events[0].kind, EV_POLICY_HIT);
    assert_string_equal(f.events[0].detail, "2 weak SRTP crypto offer(s) removed");
    /* Only weak lines: nothing acceptable is left, and prov requires SRTP. */
    static const char only_weak[] = SDP_HEAD "m=audio 6000 RTP/SAVP 0\r\n"
                                             "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abcd "
                                             "UNENCRYPTED_SRTP\r\n";
    v = run(&f, "192.0.2.1", SW_TRANSPORT_TLS, "INVITE", only_weak);
    assert_refused(&f, v, 488, "SRTP required by trunk prov");
    fixture_fini(&f);
}

static void test_malformed_sdp_and_non_offers(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &media_stage, conf);
    struct verdict v = run(&f, "192.0.2.1", SW_TRANSPORT_TLS, "INVITE", "v=1\r\n");
    assert_refused(&f, v, 400, "malformed SDP at byte 2: SDP must start with v=0");
    v = run(&f, "192.0.2.1", SW_TRANSPORT_TLS, "INVITE", SDP_HEAD "m=audio x RTP/AVP 0\r\n");
    assert_refused(&f, v, 400, "bad m= port");
    /* A quote in a peer's token cannot end the Warning's quoted string. */
    v = run(&f, "192.0.2.1", SW_TRANSPORT_TLS, "INVITE", SDP_HEAD "m=au\"dio 6000 RTP/AVP 0\r\n");
    assert_refused(&f, v, 488, "au?dio stream");
    /* No body (a delayed offer), another method, or another body type: not checked. */
    v = run(&f, "192.0.2.1", SW_TRANSPORT_TLS, "INVITE", NULL);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    v = run(&f, "192.0.2.1", SW_TRANSPORT_TLS, "MESSAGE", plain_rtp);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_int_equal(f.event_count, 0);
    fixture_fini(&f);
}

static void test_anchored_media_per_leg(void **state)
{
    (void)state;
    char text[1024];
    (void)snprintf(text, sizeof(text), "%s[media]\nrtpengine = udp:127.0.0.1:2223\n", conf);
    struct fixture f;
    fixture_init(&f, &media_stage, text);
    /* The PBX's plain offer towards prov (TLS, SRTP required): SDES keyed by rtpengine;
     * the PBX (UDP) keeps plain RTP; without rtpengine it may not cross. */
    struct verdict v = run(&f, "127.0.0.1", SW_TRANSPORT_UDP, "INVITE", plain_rtp);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_int_equal(f.ctx.edits.media_to_b, ANCHOR_PROTOCOL_SDES);
    assert_int_equal(f.ctx.edits.media_to_a, ANCHOR_PROTOCOL_RTP);
    assert_true(f.ctx.edits.is_anchor_needed);
    /* prov's SDES offer over TLS towards the PBX on UDP: plain RTP there, SDES back. */
    v = run(&f, "192.0.2.1", SW_TRANSPORT_TLS, "INVITE", sdes);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_int_equal(f.ctx.edits.media_to_b, ANCHOR_PROTOCOL_RTP);
    assert_int_equal(f.ctx.edits.media_to_a, ANCHOR_PROTOCOL_SDES);
    assert_true(f.ctx.edits.is_anchor_needed);
    /* A plain offer between two plain sides needs no relay to be acceptable. */
    v = run(&f, "198.51.100.1", SW_TRANSPORT_UDP, "INVITE", plain_rtp);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_int_equal(f.ctx.edits.media_to_b, ANCHOR_PROTOCOL_RTP);
    assert_false(f.ctx.edits.is_anchor_needed);
    /* The sender's own policy still judges its offer: keys in clear, SRTP it requires. */
    v = run(&f, "192.0.2.1", SW_TRANSPORT_UDP, "INVITE", sdes);
    assert_refused(&f, v, 488, "without TLS (trunk prov)");
    v = run(&f, "192.0.2.1", SW_TRANSPORT_TLS, "INVITE", plain_rtp);
    assert_refused(&f, v, 488, "SRTP required by trunk prov");
    /* A late offer (no SDP) gets the same choice for both sides. */
    v = run(&f, "127.0.0.1", SW_TRANSPORT_UDP, "INVITE", NULL);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_int_equal(f.ctx.edits.media_to_b, ANCHOR_PROTOCOL_SDES);
    assert_int_equal(f.ctx.edits.media_to_a, ANCHOR_PROTOCOL_RTP);
    /* strict (UDP, SRTP required, DTLS only) gets DTLS-SRTP from rtpengine. */
    v = run(&f, "203.0.113.1", SW_TRANSPORT_UDP, "INVITE", dtls);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_int_equal(f.ctx.edits.media_to_a, ANCHOR_PROTOCOL_DTLS);
    fixture_fini(&f);

    /* A PBX that requires SRTP with SDES only, on UDP: rtpengine cannot key it. */
    (void)snprintf(text, sizeof(text),
                   "[pbx]\naddress = udp:127.0.0.1:5090\nmedia_encryption = sdes\n"
                   "srtp = required\n[prov]\ntype = trunk\nprovider = tls:192.0.2.1:5061\n"
                   "[media]\nrtpengine = udp:127.0.0.1:2223\n");
    fixture_init(&f, &media_stage, text);
    v = run(&f, "192.0.2.1", SW_TRANSPORT_TLS, "INVITE", sdes);
    assert_refused(&f, v, 488, "SRTP required by PBX pbx cannot be keyed");
    fixture_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_trunk_requires_srtp),
        cmocka_unit_test(test_keys_only_over_tls),
        cmocka_unit_test(test_plain_trunk_and_media_encryption),
        cmocka_unit_test(test_weak_crypto_is_removed),
        cmocka_unit_test(test_malformed_sdp_and_non_offers),
        cmocka_unit_test(test_anchored_media_per_leg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
