/* fuzz_sdp: session descriptions; bounded counts and views inside the body. */
#include <stdint.h>
#include <stdlib.h>

#include "sip/sdp.h"

/* libFuzzer's entry point: its name is not ours to choose. */
/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    }
    free(sdp);
    return 0;
}
