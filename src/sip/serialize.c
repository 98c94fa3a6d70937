#include "sip/serialize.h"

#include "base/err.h"
#include "sip/chars.h"
#include "sip/msg.h"

/* Writes `value` with every fold (CR/LF and the WS around it) collapsed to one SP. */
static void put_unfolded(struct sw_buf *out, struct sv value)
{
    size_t i = 0;
    while (i < value.len) {
        size_t run = i;
        while (run < value.len && value.ptr[run] != '\r' && value.ptr[run] != '\n') {
            run++;
        }
        size_t keep = run;
        while (keep > i && sip_char_is(value.ptr[keep - 1], SIP_C_WS)) {
            keep--;
        }
        sw_buf_put(out, value.ptr + i, keep - i);
        if (run == value.len) {
            if (keep < run) {
                sw_buf_put(out, value.ptr + keep, run - keep);
            }
            return;
        }
        while (run < value.len && sip_char_is(value.ptr[run], SIP_C_LWS)) {
            run++;
        }
        sw_buf_char(out, ' ');
        i = run;
    }
}

int sip_msg_serialize(const struct sip_msg *msg, struct sw_buf *out)
{
    if (msg->is_request) {
        sw_buf_sv(out, msg->method_name);
        sw_buf_char(out, ' ');
        sw_buf_sv(out, msg->ruri);
        sw_buf_char(out, ' ');
        sw_buf_sv(out, msg->version);
    } else {
        sw_buf_sv(out, msg->version);
        sw_buf_char(out, ' ');
        sw_buf_u64(out, msg->status);
        sw_buf_char(out, ' ');
        sw_buf_sv(out, msg->reason);
    }
    sw_buf_str(out, "\r\n");
    for (size_t i = 0; i < msg->hdr_count; i++) {
        const struct sip_hdr *h = &msg->hdrs[i];
        sw_buf_sv(out, h->id == SIP_HDR_OTHER ? h->name : sip_hdr_name(h->id));
        sw_buf_str(out, ": ");
        put_unfolded(out, h->value);
        sw_buf_str(out, "\r\n");
    }
    sw_buf_str(out, "\r\n");
    sw_buf_sv(out, msg->body);
    return out->is_overflow ? -SW_EFULL : 0;
}

/* True for a "Content-Length:" or compact "l:" header line (RFC 3261 §7.3.3, §20.14). */
static bool is_content_length(struct sv line)
{
    long colon = sv_find_char(line, ':');
    if (colon <= 0) {
        return false;
    }
    struct sv name = sv_trim(sv_slice(line, 0, (size_t)colon));
    return sv_eq_nocase(name, SV("Content-Length")) || sv_eq_nocase(name, SV("l"));
}

int sip_msg_replace_body(struct sv text, struct sv body, struct sw_buf *out)
{
    struct sv cur = text;
    struct sv line;
    bool has_end = false;
    /* Each turn consumes one line: bounded by the text's length. */
    while (!has_end && sv_take_until(&cur, '\n', &line)) {
        if (line.len > 0 && line.ptr[line.len - 1] == '\r') {
            line.len--;
        }
        if (line.len == 0) {
            has_end = true;
        } else if (!is_content_length(line)) {
            sw_buf_sv(out, line);
            sw_buf_str(out, "\r\n");
        }
    }
    if (!has_end) {
        return -SW_EBADMSG;
    }
    sw_buf_str(out, "Content-Length: ");
    sw_buf_u64(out, body.len);
    sw_buf_str(out, "\r\n\r\n");
    sw_buf_sv(out, body);
    return out->is_overflow ? -SW_EFULL : 0;
}
