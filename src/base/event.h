/*
 * Security and call events: the second path of DESIGN.md. Stages and the call layer
 * fill a `struct sw_event` and hand it to an `event_sink`; obs/ provides the sinks
 * (security log, ban store, metrics, call records). An event is self-contained (no
 * views into a receive buffer), so a sink may queue it and let another thread consume it.
 * Strings are truncated to their field size; sinks neutralize them before writing.
 * The emit function must be callable from the thread that produces the event.
 */
#ifndef SW_BASE_EVENT_H
#define SW_BASE_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/sv.h"

struct call_record;

/* X(name, asterisk-name, counts-as-failure). The Asterisk names feed fail2ban filters. */
#define SW_EVENT_MAP(X)                                              \
    X(EV_FAILED_ACL, "FailedACL", true)                              \
    X(EV_INVALID_ACCOUNT_ID, "InvalidAccountID", true)               \
    X(EV_CHALLENGE_RESPONSE_FAILED, "ChallengeResponseFailed", true) \
    X(EV_INVALID_PASSWORD, "InvalidPassword", true)                  \
    X(EV_CHALLENGE_SENT, "ChallengeSent", false)                     \
    X(EV_SUCCESSFUL_AUTH, "SuccessfulAuth", false)                   \
    X(EV_SCANNER, "ScannerDetected", true)                           \
    X(EV_RATE_EXCEEDED, "RateExceeded", true)                        \
    X(EV_MALFORMED, "MalformedMessage", true)                        \
    X(EV_REQUEST_NOT_ALLOWED, "RequestNotAllowed", true)             \
    X(EV_PBX_AUTH_FAILED, "PbxAuthFailed", true)                     \
    X(EV_BAN_ADDED, "BanAdded", false)                               \
    X(EV_BAN_REMOVED, "BanRemoved", false)                           \
    X(EV_CALL_STARTED, "CallStarted", false)                         \
    X(EV_CALL_ANSWERED, "CallAnswered", false)                       \
    X(EV_CALL_ENDED, "CallEnded", false)                             \
    X(EV_POLICY_HIT, "PolicyHit", false)                             \
    X(EV_CALLERID_REPLACED, "CallerIdReplaced", false)               \
    X(EV_IDENTITY_VERIFIED, "IdentityVerified", false)               \
    X(EV_IDENTITY_FAILED, "IdentityFailed", false)                   \
    X(EV_FRAUD_BLOCK, "FraudBlock", false)                           \
    X(EV_FRAUD_WARN, "FraudWarn", false)                             \
    X(EV_CLUSTER_DEGRADED, "ClusterDegraded", false)                 \
    X(EV_CLUSTER_RESTORED, "ClusterRestored", false)                 \
    X(EV_MEDIA_RELAY_UNREACHABLE, "MediaRelayUnreachable", false)

enum sw_event_kind {

#define SW_EVENT_ENUM(name, text, failure) name,
    SW_EVENT_MAP(SW_EVENT_ENUM)
#undef SW_EVENT_ENUM
        EV_KIND_COUNT
};

enum sw_transport {
    SW_TRANSPORT_UDP,
    SW_TRANSPORT_TCP,
    SW_TRANSPORT_TLS,
    SW_TRANSPORT_WS,
    SW_TRANSPORT_WSS,
};

struct sw_event {
    enum sw_event_kind kind;
    uint64_t wall_us; /* when it happened */
    enum sw_transport transport;
    struct sockaddr_storage remote; /* the transport source: never read from headers */
    struct sockaddr_storage local;
    char account[64];    /* user name as the peer sent it, or "" */
    char session[128];   /* Call-ID, or "" */
    char user_agent[96]; /* User-Agent, or "" */
    char detail[256];    /* reason or free text */
    char challenge[72];  /* nonce we sent / the peer echoed (ours: NONCE_HEX_LEN 64) */
    char response[160];  /* digest response the peer sent */
    char module[32];     /* the stage or layer that emitted it */
    uint32_t count;      /* for aggregated events (rate exceeded), else 1 */
    uint32_t cseq;       /* CSeq number of the request, 0 when none: the failure tracker
                          * tells retransmissions and retry bursts from new guesses by it */
    /* Call events: the call's record (base/callrec.h), else NULL. Borrowed for the emit
     * call only: a sink that queues the event copies the record or clears the pointer. */
    const struct call_record *record;
};

typedef void event_emit_fn(void *ctx, const struct sw_event *event);
typedef void event_flush_fn(void *ctx);

struct event_sink {
    event_emit_fn *emit; /* NULL = discard */
    void *ctx;
    /* Writes out what `emit` held back, if it holds any (NULL: it never does). An event
     * queue calls it after each batch it delivered. */
    event_flush_fn *flush;
};

/* Asterisk's SecurityEvent name of `kind` (e.g. "FailedACL"). */
const char *sw_event_kind_name(enum sw_event_kind kind);

/* True when the kind counts as a failure towards a ban. */
bool sw_event_kind_is_failure(enum sw_event_kind kind);

/* Parses a kind by its name (case-insensitive); false when unknown. */
bool sw_event_kind_parse(struct sv name, enum sw_event_kind *out);

/* Zeroes `event`, sets kind, time and count 1. */
void sw_event_init(struct sw_event *event, enum sw_event_kind kind);

/* Copies a view into a fixed field, truncated and NUL-terminated. */
void sw_event_set(char *field, size_t cap, struct sv value);

/* Delivers to the sink (no-op when the sink or its emit is NULL). */
void sw_event_emit(const struct event_sink *sink, const struct sw_event *event);

/* Calls the sink's flush, if it has one; NULL is a no-op. */
void sw_event_flush(const struct event_sink *sink);

#define SW_EVENT_SET(event, field, value) \
    sw_event_set((event)->field, sizeof((event)->field), value)

#endif
