/* src/sip/sdp.c: the session description fields media policy reads. */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "sip/sdp.h"
#include "support/guarded.h"
#include "support/unit.h"

static int teardown(void **state)
{
    (void)state;
    guarded_release_all();
    return 0;
}

static struct sip_sdp sdp;

static void test_sdp_srtp_offer(void **state)
{
    (void)state;
    struct sip_err err = { 0 };
    assert_int_equal(
        sip_sdp_parse(guarded_sv("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
                                 "t=0 0\r\na=sendrecv\r\n"
                                 "m=audio 49170 RTP/SAVP 0 8 101\r\n"
                                 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
                                 "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32\r\n"
                                 "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:abc KDR=1\r\n"
                                 "a=rtcp-mux\r\na=recvonly\r\n"
                                 "m=video 0/2 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP6 2001:db8::1\r\n"
                                 "a=fingerprint:sha-256 AB:CD\r\na=setup:actpass\n\r\n"),
                      &sdp, &err),
        0);
    assert_true(sv_eq(sdp.conn.address, SV("192.0.2.1")));
    assert_int_equal(sdp.direction, SIP_SDP_DIR_SENDRECV);
    assert_int_equal(sdp.media_count, 2);
    const struct sip_sdp_media *audio = &sdp.media[0];
    assert_true(sv_eq(audio->media, SV("audio")));
    assert_int_equal(audio->port, 49170);
    assert_int_equal(audio->format_count, 3);
    assert_true(sip_sdp_media_is_srtp(audio));
    assert_int_equal(audio->crypto_count, 2);
    assert_int_equal(audio->crypto[1].tag, 2);
    assert_true(sv_eq(audio->crypto[1].suite, SV("AES_CM_128_HMAC_SHA1_32")));
    assert_true(sv_eq(audio->crypto[1].session_params, SV("KDR=1")));
    assert_true(audio->has_rtcp_mux);
    assert_int_equal(audio->direction, SIP_SDP_DIR_RECVONLY);
    assert_ptr_equal(sip_sdp_media_conn(&sdp, audio), &sdp.conn);
    const struct sip_sdp_media *video = &sdp.media[1];
    assert_int_equal(video->port_count, 2);
    assert_true(sv_eq(video->conn.addr_type, SV("IP6")));
    assert_ptr_equal(sip_sdp_media_conn(&sdp, video), &video->conn);
    assert_true(sv_eq(video->fingerprint, SV("sha-256 AB:CD")));
    assert_true(sv_eq(video->setup, SV("actpass")));

    assert_int_equal(
        sip_sdp_parse(guarded_sv("v=0\nm=audio 4000 RTP/AVP 0\nc=IN IP4 224.2.1.1/127/3\n"), &sdp,
                      &err),
        0);
    assert_false(sip_sdp_media_is_srtp(&sdp.media[0]));
    assert_true(sv_eq(sdp.media[0].conn.address, SV("224.2.1.1")));
    assert_false(sdp.conn.is_present);
}

static const char *const bad[] = {
    "",
    "o=- 1 1 IN IP4 h\r\n",
    "v=1\r\n",
    "v=0\r\nc=IN IP4\r\n",
    "v=0\r\nc=IN  IP4 h\r\n",
    "v=0\r\nm=audio x RTP/AVP 0\r\n",
    "v=0\r\nm=audio 70000 RTP/AVP 0\r\n",
    "v=0\r\nm=audio 4000 RTP/AVP\r\n",
    "v=0\r\nm=audio 4000/0 RTP/AVP 0\r\n",
    "v=0\r\nm=audio 4000 RTP/AVP 0\r\na=crypto:x AES inline:k\r\n",
    "v=0\r\nm=audio 4000 RTP/AVP 0\r\na=crypto:1 AES\r\n",
    "v=0\r\nbad line\r\n",
    "v=0\r\nX=1\r\n",
};

static void test_sdp_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sip_err err = { 0 };
        if (sip_sdp_parse(guarded_sv(bad[i]), &sdp, &err) != -SW_EBADSDP) {
            fail_msg("accepted bad SDP %zu", i);
        }
    }
}

static void test_sdp_bounds(void **state)
{
    (void)state;
    static char text[8192];
    struct sip_err err = { 0 };
    for (size_t media = SIP_SDP_MAX_MEDIA; media <= SIP_SDP_MAX_MEDIA + 1; media++) {
        size_t len = (size_t)snprintf(text, sizeof(text), "v=0\r\n");
        for (size_t i = 0; i < media; i++) {
            len += (size_t)snprintf(text + len, sizeof(text) - len, "m=audio %zu RTP/AVP 0\r\n",
                                    4000 + i);
        }
        int rc = sip_sdp_parse(guarded_copy(text, len), &sdp, &err);
        assert_int_equal(rc, media == SIP_SDP_MAX_MEDIA ? 0 : -SW_EBADSDP);
    }
    for (size_t crypto = SIP_SDP_MAX_CRYPTO; crypto <= SIP_SDP_MAX_CRYPTO + 1; crypto++) {
        size_t len = (size_t)snprintf(text, sizeof(text), "v=0\r\nm=audio 4000 RTP/SAVP 0\r\n");
        for (size_t i = 0; i < crypto; i++) {
            len += (size_t)snprintf(text + len, sizeof(text) - len,
                                    "a=crypto:%zu AES_CM_128_HMAC_SHA1_80 inline:k\r\n", i);
        }
        int rc = sip_sdp_parse(guarded_copy(text, len), &sdp, &err);
        assert_int_equal(rc, crypto == SIP_SDP_MAX_CRYPTO ? 0 : -SW_EBADSDP);
    }
}

static void test_sdp_crypto_ratings(void **state)
{
    (void)state;
    struct sip_err err = { 0 };
    const char *text = "v=0\r\n"
                       "m=audio 4000 RTP/SAVP 0\r\n"
                       "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:a2V5a2V5|2^20|1:32\r\n"
                       "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:a2V5a2V5\r\n"
                       "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:a2V5 UNENCRYPTED_SRTP\r\n"
                       "a=crypto:4 AES_CM_128_HMAC_SHA1_80 inline:a2V5 KDR=1 UNENCRYPTED_SRTCP\r\n"
                       "a=crypto:5 F8_128_HMAC_SHA1_80 inline:a2V5\r\n"
                       "a=crypto:6 AES_CM_128_HMAC_SHA1_80 notinline:a2V5\r\n"
                       "a=crypto:7 AEAD_AES_256_GCM inline:a2V5;inline:b2V5\r\n"
                       "a=crypto:8 AES_256_CM_HMAC_SHA1_80 inline:a2V5;inline:\r\n"
                       "a=crypto:9 AES_CM_128_HMAC_SHA1_80 inline:a2V5 UNAUTHENTICATED_SRTP\r\n"
                       "m=audio 4002 RTP/SAVP 0\r\n"
                       "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:a2V5a2V5\r\n"
                       "m=audio 4004 UDP/TLS/RTP/SAVPF 0\r\n"
                       "a=fingerprint:sha-256 AB:CD\r\n"
                       "m=image 4006 udptl t38\r\n";
    assert_int_equal(sip_sdp_parse(guarded_sv(text), &sdp, &err), 0);

    static const enum sip_sdp_crypto_rating want[] = {
        SIP_SDP_CRYPTO_OK,          SIP_SDP_CRYPTO_SHORT_TAG,     SIP_SDP_CRYPTO_UNENCRYPTED,
        SIP_SDP_CRYPTO_UNENCRYPTED, SIP_SDP_CRYPTO_UNKNOWN_SUITE, SIP_SDP_CRYPTO_BAD_KEY,
        SIP_SDP_CRYPTO_OK,          SIP_SDP_CRYPTO_BAD_KEY,       SIP_SDP_CRYPTO_UNENCRYPTED,
    };

    assert_int_equal(sdp.media[0].crypto_count, 9);
    for (size_t i = 0; i < 9; i++) {
        if (sip_sdp_crypto_rate(&sdp.media[0], i) != want[i]) {
            fail_msg("crypto %zu rated %d, want %d", i + 1, sip_sdp_crypto_rate(&sdp.media[0], i),
                     want[i]);
        }
    }
    /* A 32-bit tag alone is acceptable: nothing stronger was offered. */
    assert_int_equal(sip_sdp_crypto_rate(&sdp.media[1], 0), SIP_SDP_CRYPTO_OK);
    assert_true(sip_sdp_media_is_rtp(&sdp.media[0]));
    assert_false(sip_sdp_media_is_dtls(&sdp, &sdp.media[0]));
    assert_true(sip_sdp_media_is_dtls(&sdp, &sdp.media[2]));
    assert_false(sip_sdp_media_is_rtp(&sdp.media[3]));
}

static void test_sdp_next_line(void **state)
{
    (void)state;
    struct sv cur = SV("v=0\r\n\r\nm=x\nlast\r");
    struct sv line;
    assert_true(sip_sdp_next_line(&cur, &line));
    assert_true(sv_eq(line, SV("v=0")));
    assert_true(sip_sdp_next_line(&cur, &line));
    assert_true(sv_eq(line, SV("m=x")));
    assert_true(sip_sdp_next_line(&cur, &line));
    assert_true(sv_eq(line, SV("last")));
    assert_false(sip_sdp_next_line(&cur, &line));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sdp_srtp_offer), cmocka_unit_test(test_sdp_bad),
        cmocka_unit_test(test_sdp_bounds),     cmocka_unit_test(test_sdp_crypto_ratings),
        cmocka_unit_test(test_sdp_next_line),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
