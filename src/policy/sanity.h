/*
 * The sanity stage: what RFC 3261 asks of every request before anything acts on it,
 * beyond what parsing already refused: Max-Forwards (483 at zero), Proxy-Require tags we
 * do not support (420), Request-URI schemes other than sip/sips/tel (416). Its verdicts
 * towards untrusted sources follow [general] malformed_reply (drop by default), so that
 * a scanner learns nothing; the PBX and providers get the answer. Emits MalformedMessage.
 */
#ifndef SW_POLICY_SANITY_H
#define SW_POLICY_SANITY_H

#include "policy/stage.h"

extern const struct stage sanity_stage;

#endif
