/*
 * The sanity chain (#10, "the policy in one place"): what every received message passes
 * before anything acts on it, in this order, in the daemon and in `sipwarden lint` alike:
 *   1. sanity_read(): parsing and the RFC 3261 §8.2 / §16.3 validation every message needs
 *      (sip_msg_parse, sip_msg_validate): 400, 505, 501, 513 or a drop;
 *   2. sanity_judge(), which is the sanity stage: what RFC 3261 asks of a request beyond
 *      that: Max-Forwards (483 at zero), Proxy-Require tags we do not support (420),
 *      Request-URI schemes other than sip/sips/tel (416), a REFER without exactly one
 *      Refer-To (400); a response routed to a broadcast address is dropped.
 * The daemon runs step 1 as soon as a message arrives and step 2 as a stage of the
 * pipeline (after the cheap source checks: acl, ratelimit, scanner); lint runs both at
 * once (sanity_chain_run).
 *
 * The drop-or-reply rule, here only: a request is answered with the status the check
 * names when its sender is trusted (the PBX, a provider) or [general] malformed_reply is
 * "reply"; towards anyone else it is dropped, so that a scanner learns nothing. An ACK
 * and a response are never answered. Both steps emit MalformedMessage: step 1 as module
 * "gateway" (its historical name, which the security log's readers match), step 2 as
 * module "sanity".
 */
#ifndef SW_POLICY_SANITY_H
#define SW_POLICY_SANITY_H

#include <stdbool.h>

#include "policy/stage.h"
#include "sip/check.h"
#include "sip/msg.h"

/* What step 1 found. */
struct sanity_read_result {
    struct verdict verdict; /* CONTINUE, or the REPLY/DROP of the rule above */
    bool is_parsed;         /* the header index exists: a reply can be built from it */
    struct sip_err err;     /* why parsing or validation refused the message */
};

extern const struct stage sanity_stage;

/*
 * Step 1: parses `raw` (is_stream as sip_msg_parse) into `msg` in ctx->arena and validates
 * it. Returns true when the message may go on (out->verdict CONTINUE); otherwise emits
 * MalformedMessage and gives the rule's verdict. A request that did not even parse has no
 * header index to build an answer from: its REPLY verdict says what it deserves (lint
 * reports it), and the daemon, which cannot address an answer, drops it.
 * ctx->msg is left as it was (the caller sets it when it goes on).
 */
bool sanity_read(const struct stage_ctx *ctx, struct sv raw, bool is_stream,
                 const struct sip_limits *limits, struct sip_msg *msg,
                 struct sanity_read_result *out);

/*
 * Step 2 on ctx->msg (the sanity stage is this with SIP_ROLE_PROXY): the semantic rules of
 * sip/check.h for `role` as a verdict; a 420 carries its Unsupported line in
 * extra_headers, and every refusal its reason (static). A message that could not be
 * checked (arena exhausted) is refused (stage_fail_closed), never passed.
 */
struct verdict sanity_judge(struct stage_ctx *ctx, enum sip_role role);

/*
 * The whole chain on one message, as `sipwarden lint` runs it: step 1, then step 2 for
 * `role`. `ctx` is prepared by the caller except ctx->msg, which is set to `msg` once the
 * message passed step 1. Returns the verdict of the first step that refused, or CONTINUE;
 * `out` is step 1's result.
 */
struct verdict sanity_chain_run(struct stage_ctx *ctx, struct sv raw, bool is_stream,
                                const struct sip_limits *limits, enum sip_role role,
                                struct sip_msg *msg, struct sanity_read_result *out);

#endif
