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

/* Appended piece by piece, not formatted: a call's responses copy its requests' Vias
 * (#13). Received text goes through sw_buf_text, so the bytes are those "%.*s" wrote. */
static void put_line(struct sw_buf *out, const char *name, struct sv value)
{
    sw_buf_str(out, name);
    sw_buf_text(out, value);
    sw_buf_str(out, "\r\n");
}

/* Does the sent-by `host` name `ip` (`ip_text` as sw_ip_format wrote it)? The text is
 * compared first: a sent-by that is the source as we print it needs no inet_pton. */
static bool is_host_ip(struct sv host, const char *ip_text, const struct sw_ip *ip)
{
    if (ip_text[0] != '\0' && sv_eq(host, sv_from_cstr(ip_text))) {
        return true;
    }
    struct sw_ip sent_by;
    return sw_ip_parse(host, &sent_by) && sw_ip_eq(&sent_by, ip);
}

void reply_put_top_via(struct sw_buf *out, struct sv via_value, const struct sockaddr_storage *src)
{
    struct sip_via via;
    struct sip_err err = { 0 };
    struct sw_ip ip;
    if (src == NULL || sv_find_char(via_value, ',') >= 0 ||
        sip_via_parse(via_value, &via, &err) != 0 || !sw_ip_from_sockaddr(src, &ip)) {
        put_line(out, "Via: ", via_value);
        return;
    }
    char ip_text[SW_ADDR_STRLEN];
    sw_ip_format(&ip, ip_text, sizeof(ip_text));
    size_t head = via.params.ptr != NULL ? (size_t)(via.params.ptr - via_value.ptr) : via_value.len;
    sw_buf_str(out, "Via: ");
    sw_buf_text(out, sv_slice(via_value, 0, head));
    struct sv cur = via.params;
    struct sv name;
    struct sv value;
    while (cur.ptr != NULL && sip_params_next(&cur, &name, &value) == 1) {
        if (sv_eq_nocase(name, SV("received")) || sv_eq_nocase(name, SV("rport"))) {
            continue;
        }
        sw_buf_char(out, ';');
        sw_buf_text(out, name);
        if (sv_is_present(value)) {
            sw_buf_char(out, '=');
            sw_buf_text(out, value);
        }
    }
    struct sv host = via.host;
    if (host.len > 2 && host.ptr[0] == '[') {
        host = sv_slice(host, 1, host.len - 2);
    }
    if (via.has_rport || !is_host_ip(host, ip_text, &ip)) {
        sw_buf_str(out, ";received=");
        sw_buf_str(out, ip_text);
    }
    if (via.has_rport) {
        sw_buf_str(out, ";rport=");
        sw_buf_u64(out, sw_sockaddr_port(src));
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
            put_line(out, "Via: ", h->value);
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
    sw_buf_str(out, "SIP/2.0 ");
    sw_buf_u64(out, status);
    sw_buf_char(out, ' ');
    sw_buf_str(out, reason != NULL ? reason : reply_reason(status));
    sw_buf_str(out, "\r\n");
    copy_vias(out, request, extra != NULL ? extra->src : NULL);
    put_line(out, "From: ", from->value);
    sw_buf_str(out, "To: ");
    sw_buf_text(out, to->value);
    if (add_tag) {
        sw_buf_str(out, ";tag=");
        sw_buf_text(out, extra->to_tag);
    }
    sw_buf_str(out, "\r\n");
    put_line(out, "Call-ID: ", call_id);
    put_line(out, "CSeq: ", cseq->value);
    size_t body_len = 0;
    if (extra != NULL) {
        if (sv_is_present(extra->server) && extra->server.len > 0) {
            put_line(out, "Server: ", extra->server);
        }
        sw_buf_sv(out, extra->headers);
        if (extra->body.len > 0) {
            put_line(out, "Content-Type: ", extra->content_type);
            body_len = extra->body.len;
        }
    }
    sw_buf_str(out, "Content-Length: ");
    sw_buf_u64(out, body_len);
    sw_buf_str(out, "\r\n\r\n");
    if (body_len > 0) {
        sw_buf_sv(out, extra->body);
    }
    return out->is_overflow ? -SW_ETOOBIG : 0;
}
