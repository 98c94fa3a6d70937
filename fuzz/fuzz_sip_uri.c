/*
 * fuzz_sip_uri: the URI, name-addr, Contact and Via grammars and the list / parameter
 * scanners on one input. Every view handed out must point inside the input.
 */
#include <stdint.h>
#include <stdlib.h>

#include "sip/hdr.h"
#include "sip/nameaddr.h"
#include "sip/uri.h"
#include "sip/via.h"

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

static void fuzz_uri(struct sv in)
{
    struct sip_uri uri;
    struct sip_err err;
    if (sip_uri_parse(in, &uri, &err) != 0) {
        if (err.pos > in.len) {
            abort();
        }
        return;
    }
    check_inside(uri.user, in);
    check_inside(uri.password, in);
    check_inside(uri.host, in);
    check_inside(uri.params, in);
    check_inside(uri.headers, in);
    struct sv value;
    if (sip_params_find(uri.params, SV("transport"), &value)) {
        check_inside(value, in);
    }
    char decoded[256];
    size_t len = 0;
    if (uri.user.ptr != NULL && sip_uri_unescape(uri.user, decoded, sizeof(decoded), &len) == 0 &&
        len > uri.user.len) {
        abort();
    }
    (void)sip_uri_escaped_eq(uri.user, uri.password);
}

static void fuzz_scanners(struct sv in)
{
    struct sv cur = in;
    struct sv item;
    size_t guard = 0;
    while (sip_list_next(&cur, &item)) {
        check_inside(item, in);
        if (++guard > in.len + 2) {
            abort(); /* the cursor must shrink */
        }
    }
    cur = in;
    struct sv name;
    struct sv value;
    guard = 0;
    while (sip_params_next(&cur, &name, &value) == 1) {
        check_inside(name, in);
        check_inside(value, in);
        if (++guard > in.len) {
            abort();
        }
    }
    bool is_ipv6 = false;
    if (sip_host_len(in, &is_ipv6) > in.len) {
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
    struct sip_err err;
    fuzz_uri(in);
    struct sip_nameaddr na;
    if (sip_nameaddr_parse(in, &na, &err) == 0) {
        check_inside(na.display, in);
        check_inside(na.uri_text, in);
        check_inside(na.tag, in);
    }
    struct sip_contact contact;
    bool is_star = false;
    (void)sip_contact_parse(in, &contact, &is_star, &err);
    struct sip_via via;
    if (sip_via_parse(in, &via, &err) == 0) {
        check_inside(via.host, in);
        check_inside(via.branch, in);
        check_inside(via.rport, in);
        (void)sip_via_has_rfc3261_branch(&via);
    }
    fuzz_scanners(in);
    return 0;
}
