/*
 * SIP request methods (RFC 3261 §7.1 and extensions). Methods are case-sensitive
 * (RFC 3261 §7.1): "invite" is an unknown method, not INVITE. Pure, thread-safe.
 */
#ifndef SW_SIP_METHOD_H
#define SW_SIP_METHOD_H

#include "base/sv.h"

enum sip_method {
    SIP_METHOD_UNKNOWN,
    SIP_METHOD_INVITE,
    SIP_METHOD_ACK,
    SIP_METHOD_BYE,
    SIP_METHOD_CANCEL,
    SIP_METHOD_REGISTER,
    SIP_METHOD_OPTIONS,
    SIP_METHOD_PRACK,
    SIP_METHOD_UPDATE,
    SIP_METHOD_INFO,
    SIP_METHOD_SUBSCRIBE,
    SIP_METHOD_NOTIFY,
    SIP_METHOD_REFER,
    SIP_METHOD_MESSAGE,
    SIP_METHOD_PUBLISH,
    SIP_METHOD_COUNT
};

/* The method named exactly `name`, or SIP_METHOD_UNKNOWN (also for an empty view). */
enum sip_method sip_method_from_sv(struct sv name);

/* The canonical name of `method` ("INVITE"...); "" for SIP_METHOD_UNKNOWN. */
const char *sip_method_name(enum sip_method method);

#endif
