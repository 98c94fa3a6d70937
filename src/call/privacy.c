#include "call/privacy.h"

#include <string.h>

#include "call/reply.h"
#include "sip/uri.h"

/* Longest cause code kept (Q.850 causes have 3 digits, SIP status codes 3). */
#define CAUSE_MAX_DIGITS 5
/* Longest delta-seconds kept: 2^32 - 1 has 10 digits (RFC 3261 §25.1 delta-seconds). */
#define DELTA_MAX_DIGITS 10

const char *privacy_reason_phrase(uint16_t status)
{
    const char *phrase = reply_reason(status);
    if (strcmp(phrase, "Unknown") != 0) {
        return phrase;
    }
    /* RFC 3261 §21: the class names, the only meaning a peer may rely on anyway. */
    static const char *const classes[] = {
        "Unknown",         "Provisional",    "Successful",     "Redirection",
        "Request Failure", "Server Failure", "Global Failure",
    };
    unsigned cls = status / 100u;
    return cls < sizeof(classes) / sizeof(classes[0]) ? classes[cls] : "Unknown";
}

static bool all_digits(struct sv s, size_t max)
{
    if (s.len == 0 || s.len > max) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') {
            return false;
        }
    }
    return true;
}

/* Reason = "Reason" HCOLON reason-value *(COMMA reason-value) (RFC 3326 §2). */
static void write_reason(struct sw_buf *out, struct sv value)
{
    struct sv cur = value;
    struct sv item;
    /* Bounded: sip_list_next always shrinks the cursor. */
    while (sip_list_next(&cur, &item)) {
        struct sv protocol;
        if (!sip_token_take(&item, &protocol)) {
            continue;
        }
        struct sv cause;
        if (sip_params_find(sv_trim(item), SV("cause"), &cause) &&
            all_digits(cause, CAUSE_MAX_DIGITS)) {
            sw_buf_fmt(out, "Reason: " SV_FMT ";cause=" SV_FMT "\r\n", SV_ARG(protocol),
                       SV_ARG(cause));
        }
    }
}

/* Retry-After = delta-seconds [ comment ] *( SEMI retry-param ) (RFC 3261 §20.33). */
static void write_retry_after(struct sw_buf *out, struct sv value)
{
    struct sv v = sv_trim(value);
    size_t digits = 0;
    while (digits < v.len && v.ptr[digits] >= '0' && v.ptr[digits] <= '9') {
        digits++;
    }
    struct sv seconds = sv_slice(v, 0, digits);
    if (all_digits(seconds, DELTA_MAX_DIGITS)) {
        sw_buf_fmt(out, "Retry-After: " SV_FMT "\r\n", SV_ARG(seconds));
    }
}

bool privacy_header_write(const struct privacy_rules *rules, struct sw_buf *out, enum sip_hdr_id id,
                          struct sv value)
{
    switch (id) {
    case SIP_HDR_REASON:
        if (!rules->is_reason_sanitized) {
            return false;
        }
        write_reason(out, value);
        return true;
    case SIP_HDR_RETRY_AFTER:
        if (!rules->is_retry_after_sanitized) {
            return false;
        }
        write_retry_after(out, value);
        return true;
    case SIP_HDR_SUBJECT:
        return rules->is_subject_dropped;
    default:
        return false;
    }
}
