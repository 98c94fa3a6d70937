/* fuzz_auth_hdr: Authorization / WWW-Authenticate values; views stay inside the input. */
#include <stdint.h>
#include <stdlib.h>

#include "sip/auth.h"

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
    if (size > 8192) {
        return 0;
    }
    struct sv in = sv_make((const char *)data, size);
    struct sip_auth auth;
    struct sip_err err;
    if (sip_auth_parse(in, &auth, &err) != 0) {
        if (err.pos > in.len) {
            abort();
        }
        return 0;
    }
    const struct sv fields[] = { auth.scheme, auth.username, auth.realm,     auth.nonce,
                                 auth.uri,    auth.response, auth.algorithm, auth.cnonce,
                                 auth.opaque, auth.qop,      auth.nc,        auth.stale,
                                 auth.domain, auth.userhash, auth.params };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        check_inside(fields[i], in);
    }
    return 0;
}
