#include "call/reply.h"

#include "base/addr.h"
#include "base/err.h"
#include "sip/msg.h"

struct reason_entry {
    uint16_t status;
    const char *text;
};

static const struct reason_entry reasons[] = {
    { 100, "Trying" },
    { 180, "Ringing" },
    { 183, "Session Progress" },
    { 200, "OK" },
    { 400, "Bad Request" },
    { 401, "Unauthorized" },
    { 403, "Forbidden" },
    { 404, "Not Found" },
    { 405, "Method Not Allowed" },
    { 407, "Proxy Authentication Required" },
    { 408, "Request Timeout" },
    { 413, "Request Entity Too Large" },
    { 415, "Unsupported Media Type" },
    { 416, "Unsupported URI Scheme" },
    { 420, "Bad Extension" },
    { 423, "Interval Too Brief" },
    { 480, "Temporarily Unavailable" },
    { 481, "Call/Transaction Does Not Exist" },
    { 482, "Loop Detected" },
    { 483, "Too Many Hops" },
    { 484, "Address Incomplete" },
    { 486, "Busy Here" },
    { 487, "Request Terminated" },
    { 488, "Not Acceptable Here" },
    { 491, "Request Pending" },
    { 500, "Server Internal Error" },
    { 501, "Not Implemented" },
    { 502, "Bad Gateway" },
    { 503, "Service Unavailable" },
    { 504, "Server Time-out" },
    { 505, "Version Not Supported" },
    { 513, "Message Too Large" },
    { 603, "Decline" },
};

const char *reply_reason(uint16_t status)
{
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        if (reasons[i].status == status) {
            return reasons[i].text;
        }
    }
    return "Unknown";
}

void reply_put_top_via(struct sw_buf *out, struct sv via_value, const struct sockaddr_storage *src)
{
    struct sip_via via;
    struct sip_err err = { 0 };
    struct sw_ip ip;
    if (src == NULL || sv_find_char(via_value, ',') >= 0 ||
        sip_via_parse(via_value, &via, &err) != 0 || !sw_ip_from_sockaddr(src, &ip)) {
        sw_buf_fmt(out, "Via: " SV_FMT "\r\n", SV_ARG(via_value));
        return;
    }
    char ip_text[SW_ADDR_STRLEN];
    sw_ip_format(&ip, ip_text, sizeof(ip_text));
    size_t head = via.params.ptr != NULL ? (size_t)(via.params.ptr - via_value.ptr) : via_value.len;
    sw_buf_fmt(out, "Via: " SV_FMT, SV_ARG(sv_slice(via_value, 0, head)));
    struct sv cur = via.params;
    struct sv name;
    struct sv value;
    while (cur.ptr != NULL && sip_params_next(&cur, &name, &value) == 1) {
        if (sv_eq_nocase(name, SV("received")) || sv_eq_nocase(name, SV("rport"))) {
            continue;
        }
        sw_buf_fmt(out, ";" SV_FMT, SV_ARG(name));
        if (sv_is_present(value)) {
            sw_buf_fmt(out, "=" SV_FMT, SV_ARG(value));
        }
    }
    struct sv host = via.host;
    if (host.len > 2 && host.ptr[0] == '[') {
        host = sv_slice(host, 1, host.len - 2);
    }
    struct sw_ip sent_by;
    if (via.has_rport || !sw_ip_parse(host, &sent_by) || !sw_ip_eq(&sent_by, &ip)) {
        sw_buf_fmt(out, ";received=%s", ip_text);
    }
    if (via.has_rport) {
        sw_buf_fmt(out, ";rport=%u", sw_sockaddr_port(src));
    }
    sw_buf_str(out, "\r\n");
}

static void copy_vias(struct sw_buf *out, struct sip_msg *request,
                      const struct sockaddr_storage *src)
{
    bool is_top = true;
    for (const struct sip_hdr *h = sip_msg_find(request, SIP_HDR_VIA, NULL); h != NULL;
         h = sip_msg_find(request, SIP_HDR_VIA, h)) {
        if (is_top) {
            reply_put_top_via(out, h->value, src);
            is_top = false;
        } else {
            sw_buf_fmt(out, "Via: " SV_FMT "\r\n", SV_ARG(h->value));
        }
    }
}

int reply_build(struct sw_buf *out, struct sip_msg *request, uint16_t status, const char *reason,
                const struct reply_extra *extra)
{
    const struct sip_hdr *from = sip_msg_find(request, SIP_HDR_FROM, NULL);
    const struct sip_hdr *to = sip_msg_find(request, SIP_HDR_TO, NULL);
    const struct sip_hdr *cseq = sip_msg_find(request, SIP_HDR_CSEQ, NULL);
    struct sv call_id = sip_msg_call_id(request);
    if (from == NULL || to == NULL || cseq == NULL || call_id.ptr == NULL ||
        sip_msg_find(request, SIP_HDR_VIA, NULL) == NULL) {
        return -SW_EBADMSG;
    }
    struct sip_err err = { 0 };
    const struct sip_nameaddr *to_parsed = sip_msg_to(request, &err);
    bool add_tag = extra != NULL && sv_is_present(extra->to_tag) && status > 100 &&
                   (to_parsed == NULL || !sv_is_present(to_parsed->tag));
    sw_buf_fmt(out, "SIP/2.0 %u %s\r\n", status, reason != NULL ? reason : reply_reason(status));
    copy_vias(out, request, extra != NULL ? extra->src : NULL);
    sw_buf_fmt(out, "From: " SV_FMT "\r\nTo: " SV_FMT, SV_ARG(from->value), SV_ARG(to->value));
    if (add_tag) {
        sw_buf_fmt(out, ";tag=" SV_FMT, SV_ARG(extra->to_tag));
    }
    sw_buf_fmt(out, "\r\nCall-ID: " SV_FMT "\r\nCSeq: " SV_FMT "\r\n", SV_ARG(call_id),
               SV_ARG(cseq->value));
    size_t body_len = 0;
    if (extra != NULL) {
        if (sv_is_present(extra->server) && extra->server.len > 0) {
            sw_buf_fmt(out, "Server: " SV_FMT "\r\n", SV_ARG(extra->server));
        }
        sw_buf_sv(out, extra->headers);
        if (extra->body.len > 0) {
            sw_buf_fmt(out, "Content-Type: " SV_FMT "\r\n", SV_ARG(extra->content_type));
            body_len = extra->body.len;
        }
    }
    sw_buf_fmt(out, "Content-Length: %zu\r\n\r\n", body_len);
    if (body_len > 0) {
        sw_buf_sv(out, extra->body);
    }
    return out->is_overflow ? -SW_ETOOBIG : 0;
}
