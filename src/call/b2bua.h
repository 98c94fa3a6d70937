/*
 * The signalling back-to-back user agent between the trunk provider and the PBX (and
 * remote accounts). Every call is two dialogs: leg A towards whoever sent the INVITE and
 * leg B that the gateway creates towards the target, each with its own Call-ID, tags,
 * Via, Contact and CSeq, so that neither side learns the other's topology. One instance
 * per worker; all functions run in that worker's thread. A call lives in the worker that
 * owns its Call-IDs (b2bua_owner_of()): the gateway hands messages to that worker first.
 *
 * Memory: calls come from a pool sized at b2bua_new(); a full pool answers 503.
 */
#ifndef SW_CALL_B2BUA_H
#define SW_CALL_B2BUA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/callrec.h"
#include "base/event.h"
#include "base/sv.h"
#include "call/anchor.h"
#include "call/privacy.h"
#include "call/txn.h"
#include "net/worker.h"

struct sip_msg;
struct b2bua;
struct uac_credentials;
struct callcount_slot;

#define B2BUA_RESERVED_SLOTS 4

/* Where a call comes from or goes to (for counting and records). */
enum call_party {
    CALL_PARTY_PBX,
    CALL_PARTY_TRUNK,
    CALL_PARTY_ACCOUNT,
};

enum call_state {
    CALL_STATE_EARLY,     /* INVITE sent on leg B, no final answer */
    CALL_STATE_CONFIRMED, /* answered */
    CALL_STATE_ENDED,
};

/* How leg B is built for a new call: decided by the gateway from the configuration. */
struct b2bua_route {
    struct net_dest dest;    /* next hop of leg B */
    struct sv ruri_user;     /* user part of the new Request-URI and To */
    struct sv target_host;   /* host[:port] of the Request-URI and To */
    struct sv from_user;     /* user part of From (the caller ID to present) */
    struct sv from_display;  /* display name, or absent */
    struct sv from_host;     /* host of From */
    struct sv asserted_id;   /* P-Asserted-Identity value to send, or absent */
    struct sv verstat;       /* verstat parameter for the From URI (RFC 8588), or absent */
    struct sv extra_headers; /* complete lines added to leg B's INVITE, or absent */
    struct sv origin_header; /* the complete origin line for the PBX, or absent */
    struct sv request_uri;   /* leg B's Request-URI when not sip:ruri_user@target_host */
    struct sv sdp;           /* leg B's SDP instead of the INVITE's (media policy), or absent */
    /* With media anchoring: the media rtpengine gives leg A and leg B (the SDP policy's
     * choice for each side), for every offer of the call. */
    enum anchor_protocol media_to_a;
    enum anchor_protocol media_to_b;
    bool is_anchor_needed;    /* never unanchored, even with rtpengine_unreachable = pass */
    bool is_towards_provider; /* strip the PBX's identifying headers */
    enum call_party from_party;
    enum call_party to_party;
    struct sv trunk_name; /* to_party TRUNK: the trunk's name, for the CallStarted event */
    uint32_t max_duration_s;
    uint32_t ring_timeout_s;
    /* Leg B's credentials for the far side's 401/407 (the trunk's); NULL = none. Borrowed
     * for the call to b2bua_on_request only: the call keeps its own copy. */
    const struct uac_credentials *credentials;
    /* Concurrent-call places the gateway reserved for this call (the caller's, the
     * callee's, the side's; NULL = none). The B2BUA owns them from b2bua_on_request on and
     * gives each back exactly once: when the call ends or when it cannot start. */
    struct callcount_slot *reserved[B2BUA_RESERVED_SLOTS];
    /* What the policy stages found (account, trunk, E.164, rate...): copied into the
     * call's record. */
    struct callrec_policy policy;
};

/* The addresses the gateway puts in Via and Contact for a given listener. */
struct b2bua_local {
    char host[80]; /* "127.0.0.1" or "[2001:db8::1]" */
    uint16_t port;
    enum sw_transport transport;
};

struct b2bua_settings {
    size_t max_calls;              /* per worker */
    size_t max_txns;               /* per worker */
    struct sv user_agent;          /* our User-Agent / Server value; empty = none */
    const struct sv *hide_headers; /* extra header names never sent towards the provider */
    size_t hide_header_count;
    struct privacy_rules privacy;     /* what of the PBX's text may leave towards the provider */
    const struct b2bua_local *locals; /* one per listener, same order */
    size_t local_count;
    const struct event_sink *events;
    const struct anchor_settings *media; /* media anchoring through rtpengine; NULL = off */
};

/* Per-party call counters, shared by all workers (atomics). */
struct call_counters;

/* A B2BUA for `worker`; NULL when out of memory. */
struct b2bua *b2bua_new(struct worker *worker, const struct b2bua_settings *settings);

/*
 * The seam for unit tests (tests/unit/call/test_b2bua.c): a B2BUA whose timers run on
 * `loop` (driven by a manual clock, loop_advance_ms()) and whose messages go through
 * `send` (a fake transport) instead of a worker; `index` stands for the worker's index in
 * the Call-IDs it makes. b2bua_new() is this with the worker's loop, worker_send() and
 * worker_index(). NULL when out of memory.
 */
struct b2bua *b2bua_new_on(struct loop *loop, txn_send_fn *send, void *send_ctx, unsigned index,
                           const struct b2bua_settings *settings);
void b2bua_free(struct b2bua *b2bua);

/*
 * The worker that owns messages with this Call-ID: Call-IDs the gateway made carry their
 * owner; others are hashed.
 */
unsigned b2bua_owner_of(struct sv call_id, unsigned worker_count);

/*
 * A request that passed policy. `src` is where it came from (responses go back there),
 * `route` describes leg B for an initial INVITE (NULL for anything else: in-dialog
 * requests find their call; out-of-dialog non-INVITEs are answered here).
 */
void b2bua_on_request(struct b2bua *b2bua, struct sip_msg *request, const struct net_dest *src,
                      struct b2bua_route *route);

/*
 * The record of an initial INVITE a policy stage refused with `status` (issue #11: every
 * call gets one): leg A as received, what `route` (built as for a call, never used)
 * says, ended at once by the gateway; its uniqueid is made from the Call-ID, so that a
 * retransmission refused again replaces it.
 */
void b2bua_record_refused(struct call_record *rec, struct sip_msg *invite,
                          const struct net_dest *src, const struct b2bua_route *route,
                          uint16_t status);

/* How the REGISTER of an authenticated remote account is relayed to the PBX. */
struct b2bua_register_route {
    struct sv username;                        /* the account's user name (binding key) */
    struct net_dest pbx;                       /* next hop: the PBX */
    struct sv pbx_host;                        /* host[:port] for Request-URI, From, To */
    const struct uac_credentials *credentials; /* for the PBX's 401/407; NULL = none (copied) */
    uint32_t max_expires_s;                    /* registrations granted at most this long */
};

/*
 * A REGISTER from a remote account the auth stage accepted: relayed to the PBX with the
 * Contact rewritten to the gateway; the phone gets the PBX's verdict (200, 403...) and,
 * on 200, its binding (real source address) is kept in the registrar for calls to it.
 */
void b2bua_on_register(struct b2bua *b2bua, struct sip_msg *request, const struct net_dest *src,
                       const struct b2bua_register_route *route);

/*
 * Does this CANCEL target a pending INVITE server transaction of this worker (same top Via
 * branch and sent-by, RFC 3261 §9.2) that came from the CANCEL's source address? Such a
 * CANCEL is the caller hanging up: it needs no policy (RFC 3261 §22.1: never challenged).
 */
bool b2bua_cancel_matches(struct b2bua *b2bua, struct sip_msg *cancel,
                          const struct sockaddr_storage *src);

/* A retransmitted request or an ACK of a non-2xx that a server transaction absorbs: true
 * when absorbed (the gateway then skips policy: it judged the original already). */
bool b2bua_absorb(struct b2bua *b2bua, struct sip_msg *request);

/* An outbound registration of a trunk at its provider (trunk key register = yes). */
struct b2bua_trunk_registration {
    size_t trunk;
    struct sv name;                            /* for logs */
    struct sv username;                        /* the AOR user */
    struct sv domain;                          /* the provider's domain (host[:port]) */
    struct net_dest dest;                      /* the provider's next hop */
    const struct uac_credentials *credentials; /* NULL = none; copied */
    uint32_t expires_s;
    uint32_t retry_s; /* the first backoff; 0 = 30 s */
};

/*
 * Keeps `reg` registered for as long as this worker runs: REGISTER now, answer the
 * provider's challenge with the credentials, refresh at 80% of the granted time, retry
 * with backoff (retry_s, doubled up to 10 min) after failures. At most 16 per worker.
 */
int b2bua_trunk_register(struct b2bua *b, const struct b2bua_trunk_registration *cfg);

/* True when trunk `trunk`'s registration holds now (any worker may ask). */
bool b2bua_trunk_is_registered(size_t trunk);

/*
 * A response from `src`; matched to its client transaction and accepted only when it
 * comes from the address that transaction's request went to, else dropped.
 */
void b2bua_on_response(struct b2bua *b2bua, struct sip_msg *response,
                       const struct sockaddr_storage *src);

/*
 * Does `request` belong to a dialog of this worker, with matching tags, and come from
 * that leg's peer? (For policy: such requests skip the checks of new requests.)
 */
bool b2bua_is_in_dialog(struct b2bua *b2bua, struct sip_msg *request,
                        const struct sockaddr_storage *src);

/*
 * Stops every trunk registration of this worker (a reload then starts them again with the
 * new configuration). The provider keeps each binding until it expires.
 */
void b2bua_trunk_unregister_all(struct b2bua *b2bua);

/* Ends every call of this worker on both legs (shutdown, isolation). */
void b2bua_end_all(struct b2bua *b2bua, const char *reason);

/*
 * Which calls an operator command names: the one whose id (leg B's Call-ID, the record's
 * uniqueid) is `id`, or every call of `account` or of `trunk`; all NULL = every call.
 */
struct b2bua_call_filter {
    const char *id;
    const char *account;
    const char *trunk;
};

/*
 * Copies the records of this worker's live calls (ringing or answered) that match
 * `filter` into out[0..cap); returns how many matched (possibly more than cap).
 */
size_t b2bua_calls_list(const struct b2bua *b2bua, const struct b2bua_call_filter *filter,
                        struct call_record *out, size_t cap);

/*
 * Ends this worker's live calls that match `filter` as b2bua_end_all does (BYE on both
 * legs; CANCEL and 503 while ringing), each with an EV_POLICY_HIT event naming the
 * operator and its record ended by the gateway. Returns how many it ended.
 */
size_t b2bua_calls_kill(struct b2bua *b2bua, const struct b2bua_call_filter *filter);

/*
 * b2bua_calls_kill with the event and the end reason given: each matching call gets an
 * event of `kind` with `detail` (its record attached), then ends with `reason` (the
 * record's end_reason). For the spending caps (EV_FRAUD_BLOCK, "spend-cap").
 */
size_t b2bua_calls_end(struct b2bua *b2bua, const struct b2bua_call_filter *filter,
                       enum sw_event_kind kind, const char *detail, const char *reason);

/* Calls of this worker currently EARLY or CONFIRMED, and transactions in use. */
size_t b2bua_call_count(const struct b2bua *b2bua);
size_t b2bua_txn_count(const struct b2bua *b2bua);

/* Completed non-INVITE transactions lingering until timer J; *bytes: their heap bytes. */
size_t b2bua_txn_lingering(const struct b2bua *b2bua, size_t *bytes);

/*
 * [media] changed (a reload): new calls are anchored with `settings` (NULL: not anchored),
 * while calls in progress keep their rtpengine (requests, queries and the delete at their
 * end go where their offer went); the anchor they use is freed once its last call ended.
 * Returns 0, or -errno / -SW_EBADARG when the new ng client cannot be made, or -SW_EFULL
 * while B2BUA_RETIRED_ANCHORS earlier anchors still serve calls: nothing changes then.
 * The B2BUA's thread.
 */
int b2bua_media_reload(struct b2bua *b2bua, const struct anchor_settings *settings);

/* Anchors of earlier [media] settings still serving calls in progress. */
size_t b2bua_media_retired(const struct b2bua *b2bua);

#endif
