#include "sip/method.h"

#include <stdint.h>
#include <string.h>

static const char *const method_names[SIP_METHOD_COUNT] = {
    [SIP_METHOD_UNKNOWN] = "",
    [SIP_METHOD_INVITE] = "INVITE",
    [SIP_METHOD_ACK] = "ACK",
    [SIP_METHOD_BYE] = "BYE",
    [SIP_METHOD_CANCEL] = "CANCEL",
    [SIP_METHOD_REGISTER] = "REGISTER",
    [SIP_METHOD_OPTIONS] = "OPTIONS",
    [SIP_METHOD_PRACK] = "PRACK",
    [SIP_METHOD_UPDATE] = "UPDATE",
    [SIP_METHOD_INFO] = "INFO",
    [SIP_METHOD_SUBSCRIBE] = "SUBSCRIBE",
    [SIP_METHOD_NOTIFY] = "NOTIFY",
    [SIP_METHOD_REFER] = "REFER",
    [SIP_METHOD_MESSAGE] = "MESSAGE",
    [SIP_METHOD_PUBLISH] = "PUBLISH",
};

static const unsigned char method_lens[SIP_METHOD_COUNT] = {
    [SIP_METHOD_INVITE] = 6,    [SIP_METHOD_ACK] = 3,      [SIP_METHOD_BYE] = 3,
    [SIP_METHOD_CANCEL] = 6,    [SIP_METHOD_REGISTER] = 8, [SIP_METHOD_OPTIONS] = 7,
    [SIP_METHOD_PRACK] = 5,     [SIP_METHOD_UPDATE] = 6,   [SIP_METHOD_INFO] = 4,
    [SIP_METHOD_SUBSCRIBE] = 9, [SIP_METHOD_NOTIFY] = 6,   [SIP_METHOD_REFER] = 5,
    [SIP_METHOD_MESSAGE] = 7,   [SIP_METHOD_PUBLISH] = 7,
};

/* Equality of two byte strings of `len` bytes, 3 to 16, as two overlapping loads per
 * side instead of a memcmp call: method names are that short. */
static inline bool bytes_eq_short(const char *a, const char *b, size_t len)
{
    if (len >= 8) {
        uint64_t a0;
        uint64_t a1;
        uint64_t b0;
        uint64_t b1;
        memcpy(&a0, a, 8);
        memcpy(&a1, a + len - 8, 8);
        memcpy(&b0, b, 8);
        memcpy(&b1, b + len - 8, 8);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    if (len >= 4) {
        uint32_t a0;
        uint32_t a1;
        uint32_t b0;
        uint32_t b1;
        memcpy(&a0, a, 4);
        memcpy(&a1, a + len - 4, 4);
        memcpy(&b0, b, 4);
        memcpy(&b1, b + len - 4, 4);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    return a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
}

enum sip_method sip_method_from_sv(struct sv name)
{
    /* The first letter and the length pick at most two candidates, so a request
     * costs one or two memcmp instead of a walk over every method. */
    if (name.ptr == NULL || name.len < 3 || name.len > 9) {
        return SIP_METHOD_UNKNOWN;
    }

    static const enum sip_method by_letter[][2] = {
        ['A' - 'A'] = { SIP_METHOD_ACK, SIP_METHOD_UNKNOWN },
        ['B' - 'A'] = { SIP_METHOD_BYE, SIP_METHOD_UNKNOWN },
        ['C' - 'A'] = { SIP_METHOD_CANCEL, SIP_METHOD_UNKNOWN },
        ['I' - 'A'] = { SIP_METHOD_INVITE, SIP_METHOD_INFO },
        ['M' - 'A'] = { SIP_METHOD_MESSAGE, SIP_METHOD_UNKNOWN },
        ['N' - 'A'] = { SIP_METHOD_NOTIFY, SIP_METHOD_UNKNOWN },
        ['O' - 'A'] = { SIP_METHOD_OPTIONS, SIP_METHOD_UNKNOWN },
        ['P' - 'A'] = { SIP_METHOD_PRACK, SIP_METHOD_PUBLISH },
        ['R' - 'A'] = { SIP_METHOD_REGISTER, SIP_METHOD_REFER },
        ['S' - 'A'] = { SIP_METHOD_SUBSCRIBE, SIP_METHOD_UNKNOWN },
        ['U' - 'A'] = { SIP_METHOD_UPDATE, SIP_METHOD_UNKNOWN },
        ['Z' - 'A'] = { SIP_METHOD_UNKNOWN, SIP_METHOD_UNKNOWN },
    };

    unsigned char first = (unsigned char)name.ptr[0];
    if (first < 'A' || first > 'Z') {
        return SIP_METHOD_UNKNOWN;
    }
    for (size_t i = 0; i < 2; i++) {
        enum sip_method candidate = by_letter[first - 'A'][i];
        const char *text = method_names[candidate];
        if (candidate != SIP_METHOD_UNKNOWN && method_lens[candidate] == name.len &&
            bytes_eq_short(text, name.ptr, name.len)) {
            return candidate;
        }
    }
    return SIP_METHOD_UNKNOWN;
}

const char *sip_method_name(enum sip_method method)
{
    if ((unsigned)method >= SIP_METHOD_COUNT) {
        return "";
    }
    return method_names[method];
}
