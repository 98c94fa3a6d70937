/*
 * The semantic answer to a well-formed message (RFC 3261 §8.2, §16.3; RFC 4475 §3.3):
 * what an element in a given role does with it once parsing and sip_msg_validate()
 * succeeded: proceed, reply with a status (416 unsupported scheme, 420 bad extension,
 * 483 too many hops...) or drop. sip_check_message() chains parse, validate and these
 * rules: it is the verdict of `sipwarden lint` and of the sanity stage.
 * Functions use only the message arena; a message belongs to one thread.
 */
#ifndef SW_SIP_CHECK_H
#define SW_SIP_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/sv.h"
#include "sip/msg.h"

enum sip_role {
    SIP_ROLE_PROXY, /* forwards requests: Proxy-Require, Max-Forwards, response routing */
    SIP_ROLE_UAS,   /* consumes requests: Require */
};

enum sip_action {
    SIP_ACTION_PROCEED,
    SIP_ACTION_REPLY, /* answer with `status` (requests only) */
    SIP_ACTION_DROP,  /* discard silently (responses, and what must not be answered) */
};

struct sip_check_cfg {
    enum sip_role role;
    const struct sv *supported; /* option tags this element implements */
    size_t supported_count;
};

struct sip_check_result {
    enum sip_action action;
    uint16_t status;       /* for SIP_ACTION_REPLY */
    const char *reason;    /* static; NULL when proceeding */
    struct sv unsupported; /* 420: "tag1, tag2" for the Unsupported header (in the arena) */
    struct sip_err err;    /* the parse/validation error, when that was the cause */
};

/*
 * Applies the semantic rules to a message that passed sip_msg_validate(): request URI
 * scheme not sip/sips/tel (416), unsupported Proxy-Require (proxy) or Require (UAS)
 * tags (420, listing them), Max-Forwards 0 at a proxy except OPTIONS... (483), a Via
 * branch that is only the magic cookie (400), a REFER without exactly one Refer-To (400,
 * RFC 3515 §2.4.1), a response whose next hop Via is a
 * broadcast or multicast address (drop). Returns 0, or -SW_ENOMEM_ARENA when the
 * Unsupported list does not fit (then `out` says 500).
 */
int sip_check_semantics(struct sip_msg *msg, const struct sip_check_cfg *cfg,
                        struct sip_check_result *out);

/*
 * Parses `raw` (is_stream as sip_msg_parse), validates it and applies the semantic
 * rules: the complete verdict for one message. A malformed request gets REPLY with the
 * parser's status, a malformed response DROP. `msg` holds what could be parsed.
 * Returns 0 when a verdict was reached (always, unless an argument is wrong).
 */
int sip_check_message(struct sv raw, bool is_stream, const struct sip_limits *limits,
                      const struct sip_check_cfg *cfg, struct arena *arena, struct sip_msg *msg,
                      struct sip_check_result *out);

#endif
