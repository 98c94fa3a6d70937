#include "sip/method.h"

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
            memcmp(text, name.ptr, name.len) == 0) {
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
