/*
 * The shape every policy stage shares (DESIGN.md "The path of one message"): a stage reads
 * the message context and returns a verdict (continue, reply with a code, drop silently),
 * and may emit events. A stage never blocks, allocates only from the message arena, and
 * fails closed: an internal error gives the configured reply or a drop, never a pass.
 *
 * Stage state is created once (init, main thread) and shared by every worker: check() is
 * called concurrently from several worker threads and must be thread-safe.
 */
#ifndef SW_POLICY_STAGE_H
#define SW_POLICY_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/addr.h"
#include "base/diag.h"
#include "base/event.h"
#include "base/sv.h"
#include "call/anchor.h"
#include "number/money.h"

struct cfg;
struct sip_msg;
struct arena;
struct callcount_slot;
struct b2bua_route;

/* Most concurrent-call places one call holds (its trunk's or account's, its side's share
 * of the worker pool, its international count). */
#define STAGE_PLACES_MAX 4

/* Who sent a message, decided from its transport source address only. */
enum side {
    SIDE_UNKNOWN,  /* nobody we know: may still be a remote account that authenticates */
    SIDE_PROVIDER, /* a trunk provider's range (ctx->trunk says which) */
    SIDE_PBX,      /* the PBX */
    SIDE_ACCOUNT,  /* a remote account whose registration from this address is known */
};

enum verdict_action {
    VERDICT_CONTINUE,
    VERDICT_REPLY,
    VERDICT_DROP,
    VERDICT_HOLD, /* the stage took a hold (ctx->hold): nothing more happens now */
};

struct verdict {
    enum verdict_action action;
    uint16_t status;         /* VERDICT_REPLY: the response code */
    const char *reason;      /* VERDICT_REPLY: reason phrase (static); DROP: why, for debug */
    struct sv extra_headers; /* complete "Name: value\r\n" lines (arena), or absent */
};

/*
 * Changes stages ask for on the call's outgoing leg (caller-ID policy, STIR/SHAKEN). Views
 * live in the message arena; absent means "no change".
 */
struct stage_edits {
    struct sv caller_user;       /* replaces the user part of From on the outgoing leg */
    struct sv caller_display;    /* replaces the display name (present and empty: none) */
    struct sv asserted_identity; /* P-Asserted-Identity value for the outgoing leg */
    struct sv verstat;           /* verstat value added to the outgoing From URI (RFC 8588) */
    struct sv extra_headers;     /* complete lines added to the outgoing INVITE */
    struct sv callee_user;       /* replaces the user of the outgoing Request-URI and To */
    struct sv sdp;               /* replaces the SDP body on the outgoing leg (media policy) */
    /* With media anchoring ([media] rtpengine), the media rtpengine gives each side of the
     * call (media stage): A sent the INVITE, B is where it goes. */
    enum anchor_protocol media_to_a;
    enum anchor_protocol media_to_b;
    bool is_anchor_needed; /* the receiver's policy accepts the offer only through rtpengine */
    /* What the fraud stage found out about the dialled number (policy/fraud.h), for the
     * call records and spending caps; absent (and is_rated false) when it did not judge. */
    struct sv dialled_e164;        /* "+" and the E.164 digits */
    struct sv dest_country;        /* ISO 3166 code of the destination ("001": non-geographic) */
    struct sv dest_class;          /* number class, numclass_name() ("premium-rate"...) */
    struct sv fraud_key;           /* "account:NAME" or "trunk:NAME": fraud_call_ended's key */
    bool is_rated;                 /* a rate deck prices the destination */
    int64_t rate_per_minute_micro; /* is_rated: its price per minute, in micro-units */
    struct rate rate;              /* is_rated: the whole rate (fee, increments) */
    /* For the call records: the policy rule that applied to the call and what it did
     * ("allow", "warn", "cap"; "block" when it refused), and the STIR/SHAKEN attestation given on
     * the outgoing leg ("A", "B", "C"); static text or arena views, absent when nothing applied. */
    struct sv policy_rule;
    struct sv policy_action;
    struct sv attestation;
    /* Concurrent-call places the stages reserved for this call (stage_place_take): the
     * call layer takes them over when the call starts; stage_places_release gives them
     * back otherwise (the pipeline does so itself when a stage does not continue). */
    struct callcount_slot *places[STAGE_PLACES_MAX];
    size_t place_count;
};

/* Made by the gateway's ctx->hold(); opaque to stages beyond stage_hold_resume(). */
struct stage_hold {
    void (*resume)(struct stage_hold *hold);
};

/* What a stage sees. Views borrow the message; everything lives until the verdict is used. */
struct stage_ctx {
    struct sip_msg *msg;
    struct arena *arena;
    struct sockaddr_storage src; /* the transport source: never taken from headers */
    struct sockaddr_storage local;
    struct sw_ip src_ip;
    enum sw_transport transport;
    enum side side;
    size_t trunk;            /* SIDE_PROVIDER: index into cfg->trunks */
    size_t account;          /* SIDE_ACCOUNT or after authentication: index into cfg->accounts */
    bool is_in_dialog;       /* the call layer knows the dialog (to-tag present and matched) */
    bool is_authenticated;   /* set by the auth stage */
    bool is_trusted;         /* the source is on a known side (PBX or provider range) */
    bool is_towards_account; /* SIDE_PBX: the Request-URI names an account with a binding */
    bool is_towards_peer;    /* is_towards_account: another node of the cluster holds the
                              * binding and counts the call (state/regshare.h) */
    bool is_from_peer;       /* SIDE_PBX: sent by another node of the cluster ([cluster] peers) */
    bool is_source_authed;   /* an account authenticated from this source address within the
                              * last hour (the gateway's table; set before the stages run) */
    uint64_t now_ms;         /* monotonic */
    unsigned worker;
    size_t callee_account; /* is_towards_account: index into cfg->accounts */
    const struct cfg *cfg;
    const struct event_sink *events;
    struct stage_edits edits;
    /* Asks the gateway to keep this message and run it through the pipeline again when the
     * hold is resumed (e.g. after a certificate fetch); NULL when holding is impossible
     * (then the stage decides without waiting). The stage then returns verdict_hold(). */
    struct stage_hold *(*hold)(struct stage_ctx *ctx);
    void *hold_ctx;
};

struct stage {
    const char *name; /* config section and metric label */
    int (*init)(void **state, const struct cfg *cfg, struct sw_diag *diag);
    struct verdict (*check)(void *state, struct stage_ctx *ctx);
    void (*fini)(void *state);
};

/* Verdict helpers. */
struct verdict verdict_continue(void);
struct verdict verdict_drop(const char *why);
struct verdict verdict_reply(uint16_t status, const char *reason);
struct verdict verdict_hold(void);

/*
 * The refusal for an internal failure (#10, fail closed): 500 towards a trusted side (the
 * PBX or a provider, who may retry elsewhere), a silent drop towards anyone else. `why`
 * (static) is kept for debugging. Never a pass.
 */
struct verdict stage_fail_closed(const struct stage_ctx *ctx, const char *why);

/*
 * Runs one stage's check the way the pipeline does: a check that returns "continue" after
 * an allocation from the message arena was refused during it gets stage_fail_closed()
 * instead, because what it could not allocate (a header edit, a signature, a list) was
 * part of its decision. A check that already refuses keeps its verdict. Every caller of
 * a check goes through here.
 */
struct verdict stage_run(const struct stage *stage, void *state, struct stage_ctx *ctx);

/*
 * Reserves one call on `slot` if fewer than `max` are counted there (0 = no limit) and
 * records the place in ctx->edits: true when taken. A NULL slot takes nothing and
 * succeeds. Exact across threads (state/callcount.h).
 */
bool stage_place_take(struct stage_ctx *ctx, struct callcount_slot *slot, uint32_t max);

/* Gives back every place recorded in ctx->edits (a call that does not start). */
void stage_places_release(struct stage_ctx *ctx);

/*
 * The call layer takes over the places the stages reserved: they move from ctx->edits to
 * route->reserved, which releases them when the call ends (call/b2bua.h).
 */
void stage_places_hand(struct stage_ctx *ctx, struct b2bua_route *route);

/*
 * What the stages decided about a call, written into its leg B: the caller ID and
 * identity edits, the callee, the SDP and media choices, and the findings for the call's
 * record (fraud key, E.164, destination, rate, rule, attestation). Views stay borrowed.
 */
void stage_edits_apply(const struct stage_edits *edits, struct b2bua_route *route);

/*
 * Any thread, exactly once per hold: the held message runs through the whole pipeline
 * again in its worker. A hold that is never resumed leaks its copy: stages must resume
 * every hold they take (also on failure and shutdown).
 */
void stage_hold_resume(struct stage_hold *hold);

/*
 * Fills `event` with the context's addresses, transport, Call-ID, CSeq number and
 * User-Agent (when the message has them) and the stage name, ready for the caller to add
 * details and emit.
 */
void stage_event_init(const struct stage_ctx *ctx, struct sw_event *event, enum sw_event_kind kind,
                      const char *module);

/*
 * Emits the short form of an event that the gateway has always written for the decisions
 * taken before or after the stages (malformed message, unknown source, hairpin, isolated
 * trunk): the context's addresses and transport, `session` (the Call-ID, or absent),
 * `module` and `detail`, and no CSeq or User-Agent, so that the security-log lines the
 * fail2ban filters match stay as they were.
 */
void stage_event_emit_short(const struct stage_ctx *ctx, enum sw_event_kind kind,
                            const char *module, struct sv session, const char *detail);

#endif
