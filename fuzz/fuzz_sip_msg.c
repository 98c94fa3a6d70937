/*
 * fuzz_sip_msg: parses one input as a UDP datagram and as a stream, calls every lazy
 * accessor, validation, the semantic checks and the serializer, and checks that parse ->
 * serialize -> parse keeps the method, status, header count, Call-ID and CSeq. Every
 * view handed out must stay inside the input (zero-copy) or the arena. No global state.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "sip/auth.h"
#include "sip/check.h"
#include "sip/msg.h"
#include "sip/sdp.h"
#include "sip/serialize.h"

#define FUZZ_ARENA_BYTES ((size_t)256 * 1024)

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

static void touch_headers(struct sip_msg *msg, struct sv in)
{
    struct sip_err err;
    for (size_t i = 0; i < msg->hdr_count; i++) {
        const struct sip_hdr *h = &msg->hdrs[i];
        check_inside(h->name, in);
        check_inside(h->value, in);
        if (sip_msg_find_name(msg, h->name, NULL) == NULL) {
            abort(); /* a header of the index must be found by its own name */
        }
        if (h->id == SIP_HDR_AUTHORIZATION || h->id == SIP_HDR_PROXY_AUTHORIZATION ||
            h->id == SIP_HDR_WWW_AUTHENTICATE || h->id == SIP_HDR_PROXY_AUTHENTICATE) {
            struct sip_auth auth;
            if (sip_auth_parse(h->value, &auth, &err) == 0) {
                check_inside(auth.nonce, in);
                check_inside(auth.response, in);
            }
        }
    }
}

static void touch_lists(struct sip_msg *msg, struct sv in)
{
    struct sip_err err;
    struct sip_via vias[8];
    struct sip_contact contacts[8];
    struct sip_nameaddr addrs[8];
    struct sv tags[8];
    size_t count = 0;
    bool is_star = false;
    if (sip_msg_vias(msg, vias, 8, &count, &err) == 0) {
        for (size_t i = 0; i < count; i++) {
            check_inside(vias[i].branch, in);
            check_inside(vias[i].host, in);
        }
    }
    if (sip_msg_contacts(msg, contacts, 8, &count, &is_star, &err) == 0) {
        for (size_t i = 0; i < count; i++) {
            check_inside(contacts[i].addr.uri.host, in);
        }
    }

    static const enum sip_hdr_id addr_ids[] = { SIP_HDR_ROUTE, SIP_HDR_RECORD_ROUTE,
                                                SIP_HDR_P_ASSERTED_IDENTITY, SIP_HDR_PATH };

    for (size_t k = 0; k < sizeof(addr_ids) / sizeof(addr_ids[0]); k++) {
        (void)sip_msg_nameaddrs(msg, addr_ids[k], addrs, 8, &count, &err);
    }

    static const enum sip_hdr_id tag_ids[] = { SIP_HDR_REQUIRE, SIP_HDR_PROXY_REQUIRE,
                                               SIP_HDR_SUPPORTED, SIP_HDR_UNSUPPORTED };

    for (size_t k = 0; k < sizeof(tag_ids) / sizeof(tag_ids[0]); k++) {
        (void)sip_msg_option_tags(msg, tag_ids[k], tags, 8, &count);
    }
}

static void touch_accessors(struct sip_msg *msg, struct sv in)
{
    struct sip_err err;
    uint32_t value = 0;
    size_t len = 0;
    const struct sip_nameaddr *from = sip_msg_from(msg, &err);
    if (from != NULL) {
        check_inside(from->tag, in);
        check_inside(from->uri.user, in);
    }
    (void)sip_msg_to(msg, &err);
    check_inside(sip_msg_call_id(msg), in);
    (void)sip_msg_cseq(msg, &err);
    (void)sip_msg_top_via(msg, &err);
    (void)sip_msg_ruri(msg, &err);
    (void)sip_msg_max_forwards(msg, &value);
    (void)sip_msg_expires(msg, &value);
    (void)sip_msg_content_length(msg, &len);
    touch_headers(msg, in);
    touch_lists(msg, in);
    static struct sip_sdp sdp;
    if (sip_sdp_parse(msg->body, &sdp, &err) == 0) {
        for (size_t i = 0; i < sdp.media_count; i++) {
            (void)sip_sdp_media_conn(&sdp, &sdp.media[i]);
            (void)sip_sdp_media_is_srtp(&sdp.media[i]);
        }
    }
    (void)sip_msg_validate(msg, &err);
    const struct sv supported[] = { SV("100rel"), SV("timer") };
    struct sip_check_cfg cfg = { .role = SIP_ROLE_PROXY,
                                 .supported = supported,
                                 .supported_count = 2 };
    struct sip_check_result result;
    (void)sip_check_semantics(msg, &cfg, &result);
    cfg.role = SIP_ROLE_UAS;
    (void)sip_check_semantics(msg, &cfg, &result);
}

/* Collapses every LWS run holding a CR or LF to one SP, as the serializer does. */
static size_t unfold(struct sv v, char *out)
{
    size_t n = 0;
    size_t i = 0;
    while (i < v.len) {
        size_t j = i;
        bool has_eol = false;
        while (j < v.len &&
               (v.ptr[j] == ' ' || v.ptr[j] == '\t' || v.ptr[j] == '\r' || v.ptr[j] == '\n')) {
            has_eol = has_eol || v.ptr[j] == '\r' || v.ptr[j] == '\n';
            j++;
        }
        if (j > i) {
            if (has_eol) {
                out[n++] = ' ';
            } else {
                memcpy(out + n, v.ptr + i, j - i);
                n += j - i;
            }
            i = j;
        } else {
            out[n++] = v.ptr[i++];
        }
    }
    return n;
}

static bool unfolded_eq(struct sv a, struct sv b)
{
    if (a.ptr == NULL || b.ptr == NULL) {
        return a.ptr == b.ptr;
    }
    char *ua = malloc(a.len + 1);
    char *ub = malloc(b.len + 1);
    if (ua == NULL || ub == NULL) {
        abort();
    }
    size_t la = unfold(a, ua);
    size_t lb = unfold(b, ub);
    bool is_eq = la == lb && memcmp(ua, ub, la) == 0;
    free(ua);
    free(ub);
    return is_eq;
}

static void roundtrip(struct sip_msg *msg, struct arena *arena)
{
    struct sip_err err;
    const struct sip_cseq *cseq = sip_msg_cseq(msg, &err);
    struct sip_cseq first = cseq != NULL ? *cseq : (struct sip_cseq){ 0 };
    size_t cap = msg->raw.len * 2 + msg->hdr_count * 32 + 1024;
    char *storage = malloc(cap);
    if (storage == NULL) {
        abort();
    }
    struct sw_buf out;
    sw_buf_init(&out, storage, cap);
    if (sip_msg_serialize(msg, &out) != 0) {
        abort();
    }
    /* Unfolding may join lines and compact names grow: relax the size limits only. */
    struct sip_limits limits = { .max_msg_bytes = cap,
                                 .max_headers = SIP_MAX_HEADERS,
                                 .max_line_bytes = cap };
    struct sip_msg again;
    arena_reset(arena);
    if (sip_msg_parse(sw_buf_view(&out), false, &limits, arena, &again, &err) != 0 ||
        again.is_request != msg->is_request || again.method != msg->method ||
        !sv_eq(again.method_name, msg->method_name) || again.status != msg->status ||
        again.hdr_count != msg->hdr_count ||
        !unfolded_eq(sip_msg_call_id(&again), sip_msg_call_id(msg))) {
        abort();
    }
    const struct sip_cseq *second = sip_msg_cseq(&again, &err);
    if ((cseq == NULL) != (second == NULL) ||
        (second != NULL &&
         (second->seq != first.seq || !sv_eq(second->method_name, first.method_name)))) {
        abort();
    }
    free(storage);
}

/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > SIP_MAX_MSG_BYTES + 16) {
        return 0;
    }
    struct sv in = sv_make((const char *)data, size);
    struct arena *arena = arena_new(FUZZ_ARENA_BYTES);
    if (arena == NULL) {
        return 0;
    }
    struct sip_limits limits;
    sip_limits_default(&limits);
    struct sip_msg msg;
    struct sip_err err;
    if (sip_msg_parse(in, false, &limits, arena, &msg, &err) == 0) {
        check_inside(msg.raw, in);
        check_inside(msg.body, in);
        touch_accessors(&msg, in);
        roundtrip(&msg, arena);
    }
    size_t msg_len = 0;
    if (sip_frame(in, &limits, &msg_len, &err) == 0) {
        if (msg_len > size) {
            abort();
        }
        arena_reset(arena);
        if (sip_msg_parse(sv_make(in.ptr, msg_len), true, &limits, arena, &msg, &err) == 0) {
            touch_accessors(&msg, in);
        }
    }
    arena_free(arena);
    return 0;
}
