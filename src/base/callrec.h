/*
 * The payload of the call events (EV_CALL_STARTED, EV_CALL_ANSWERED, EV_CALL_ENDED): what
 * a call detail record needs, filled by the call layer and the policy stages, formatted
 * and stored by obs/ (obs/cdr.h). A plain value: fixed NUL-terminated fields, no views, so
 * a consumer may copy it to another thread. Strings are truncated to their field size.
 */
#ifndef SW_BASE_CALLREC_H
#define SW_BASE_CALLREC_H

#include <stdint.h>

#include "base/event.h"

/* Who ended the call. */
enum callrec_side {
    CALLREC_SIDE_NONE, /* not ended (yet) */
    CALLREC_SIDE_CALLER,
    CALLREC_SIDE_CALLEE,
    CALLREC_SIDE_GATEWAY, /* timeouts, limits, an operator, shutdown */
};

/* Where the record stands: a row is written at answer (open) and again at the end. */
enum callrec_state {
    CALLREC_STATE_OPEN,        /* answered, not ended */
    CALLREC_STATE_COMPLETE,    /* ended normally */
    CALLREC_STATE_INTERRUPTED, /* open when the gateway stopped without ending it */
};

/* What the policy stages decided about a call; the gateway copies it into the route. */
struct callrec_policy {
    char account[64];      /* the authenticated account, or "" */
    char trunk[64];        /* the trunk the call came from or goes to, or "" */
    char dialled_e164[40]; /* the dialled number in E.164 (+...), or "" */
    char country[8];       /* ISO 3166 alpha-2 of the destination, or "" */
    char number_class[24]; /* fixed, mobile, premium, ..., or "" */
    char attestation[4];   /* STIR/SHAKEN A/B/C, or "" */
    char verstat[40];      /* RFC 8588 verstat, or "" */
    char rule[64];         /* the policy rule that applied, or "" */
    char action[16];       /* what it did: allow, warn, ... or "" */
    int64_t rate_micro;    /* price per minute in micro-units; 0 = unrated */
    int64_t cost_micro;    /* the call's cost in micro-units, set when it ends */
    /* The rest of the deck's rate (number/money.h struct rate); first_increment_s == 0:
     * the call is not rated (no rate deck, or not judged). */
    int64_t connect_fee_micro;
    uint32_t first_increment_s;
    uint32_t next_increment_s;
    /* For the fraud policy's feedback when the call ends (not written to the records):
     * the velocity key the stage judged the call under ("account:NAME", "trunk:NAME" or
     * ""), and for a call from a trunk the trunk's country calling code and the Wangiri
     * ring limit in seconds (0 = not watched). */
    char fraud_key[72];
    char trunk_country_code[8];
    uint32_t wangiri_ring_max_s;
    int64_t dialled_mono_ms; /* monotonic time the stage judged the call */
};

struct call_record {
    char uniqueid[48];   /* unique over nodes: leg B's Call-ID, which the gateway made */
    char a_call_id[128]; /* leg A's Call-ID (as received) */
    char b_call_id[48];  /* leg B's Call-ID */
    char node[64];       /* the gateway's node name */
    char direction[16];  /* "trunk-pbx", "pbx-trunk", "account-pbx"... (dcontext) */
    char src_addr[64];   /* leg A's transport source, ip:port */
    char dst_addr[64];   /* leg B's next hop, ip:port */
    enum sw_transport transport;
    char user_agent[96];   /* leg A's User-Agent, or "" */
    char cid_received[64]; /* caller ID as received (leg A's From user) */
    char cid_sent[64];     /* caller ID as sent on leg B */
    char cid_name[64];     /* display name as sent on leg B, or "" */
    char dialled[64];      /* dialled number as received (leg A's Request-URI user) */
    char dialled_sent[64]; /* the Request-URI user sent on leg B */
    struct callrec_policy policy;
    uint64_t setup_us;   /* wall clock: the INVITE arrived */
    uint64_t ring_us;    /* first provisional above 100 from leg B; 0 = none */
    uint64_t answer_us;  /* 0 = not answered */
    uint64_t end_us;     /* 0 = not ended */
    uint16_t final_code; /* the final SIP status of the call's INVITE (200 answered) */
    enum callrec_side hangup_side;
    enum callrec_state state;
    char end_reason[32]; /* "caller-hangup", "cancelled", "ring-timeout"... */
};

/* Copies a C string into a fixed field, truncated and NUL-terminated. */
#define CALLREC_SET(field, cstr) sw_event_set((field), sizeof(field), sv_from_cstr(cstr))

#endif
