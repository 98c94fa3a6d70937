/*
 * fuzz_sdp: session descriptions; bounded counts and views inside the body; crypto ratings;
 * and the anchoring rewrite, whose output must parse again.
 */
#include <stdint.h>
#include <stdlib.h>

#include "base/buf.h"
#include "sip/sdp.h"
#include "sip/sdp_rewrite.h"

/* libFuzzer's entry point: its name is not ours to choose. */
/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Rewrites a parsed `in` as anchoring would (every weak crypto line removed); the result
 * must parse again. */
static void check_rewrite(struct sv in, const struct sip_sdp *sdp)
{
    struct sip_sdp_rewrite spec = {
        .addr_type = SV("IP6"),
        .address = SV("2001:db8::10"),
        .is_origin_replaced = true,
        .is_ice_removed = true,
        .port_count = sdp->media_count,
    };
    for (size_t i = 0; i < sdp->media_count; i++) {
        spec.ports[i] = (uint16_t)(40000 + 2 * i);
        for (size_t k = 0; k < sdp->media[i].crypto_count; k++) {
            if (sip_sdp_crypto_rate(&sdp->media[i], k) != SIP_SDP_CRYPTO_OK) {
                spec.drop_crypto[i] |= 1u << k;
            }
        }
    }
    size_t cap = 8 * in.len + 4096;
    char *storage = malloc(cap);
    struct sip_sdp *again = malloc(sizeof(*again));
    if (storage != NULL && again != NULL) {
        struct sw_buf out;
        sw_buf_init(&out, storage, cap);
        struct sip_err err;
        if (sip_sdp_rewrite(in, &spec, &out) == 0 &&
            sip_sdp_parse(sw_buf_view(&out), again, &err) != 0) {
            abort();
        }
    }
    free(again);
    free(storage);
}

static void check_inside(struct sv v, struct sv in)
{
    if (v.ptr != NULL &&
        (v.ptr < in.ptr || v.len > in.len || v.ptr - in.ptr > (long)(in.len - v.len))) {
        abort();
    }
}

/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65535) {
        return 0;
    }
    struct sv in = sv_make((const char *)data, size);
    struct sip_sdp *sdp = malloc(sizeof(*sdp));
    if (sdp == NULL) {
        return 0;
    }
    struct sip_err err;
    if (sip_sdp_parse(in, sdp, &err) == 0) {
        if (sdp->media_count > SIP_SDP_MAX_MEDIA) {
            abort();
        }
        check_inside(sdp->conn.address, in);
        for (size_t i = 0; i < sdp->media_count; i++) {
            const struct sip_sdp_media *m = &sdp->media[i];
            if (m->crypto_count > SIP_SDP_MAX_CRYPTO) {
                abort();
            }
            check_inside(m->proto, in);
            check_inside(m->formats, in);
            for (size_t k = 0; k < m->crypto_count; k++) {
                check_inside(m->crypto[k].key_params, in);
            }
            const struct sip_sdp_conn *conn = sip_sdp_media_conn(sdp, m);
            if (conn != NULL) {
                check_inside(conn->address, in);
            }
            (void)sip_sdp_media_is_srtp(m);
        }
        check_rewrite(in, sdp);
    }
    free(sdp);
    return 0;
}
