/*
 * The failure tracker: counts failures per source address within `findtime` and says
 * "ban now" when `maxretry` is reached (fail2ban's rule, inline).
 *
 * What counts as a new guess. Only failure kinds count (sw_event_kind_is_failure). An
 * attempt is counted once:
 *  - A retransmission is not counted: the same Call-ID, CSeq and credential (digest
 *    response, or none) from the same source within `retrans_window_ms` (default 32 s,
 *    RFC 3261 Timer F) is the same request sent again. The last FAILTRACK_RETRANS
 *    fingerprints per source are remembered.
 *  - Everything else is a new guess, also a failure on the same Call-ID with a higher
 *    CSeq: the auth stage answers failed credentials with 403, not with a new challenge,
 *    so a client has no reason to retry them and a phone with a wrong stored password
 *    costs one failure per registration attempt (baresip used to send 15 in 5 ms against
 *    fresh challenges), while an attacker who retries on one Call-ID, however paced, gets
 *    maxretry answered guesses per ban. Events without a Call-ID (rate exceeded) are
 *    always new.
 * On "ban now" the source's counters are cleared; the ban store remembers the offence.
 *
 * Bounds: at most `max_sources` sources are tracked (rounded up to a multiple of
 * FAILTRACK_SHARDS). Memory is fixed at creation, whatever the number of spoofed sources:
 * failtrack_memory_bytes() = 142 bytes per source on x86-64 (record, index slots, free
 * list) plus about 12 KiB; 65,536 sources (the default) = 8.9 MiB.
 * When a shard is full, the tracker looks at its FAILTRACK_EVICT_SAMPLE least recently
 * failing sources and drops the one with the fewest failures within findtime (the least
 * recent on a tie), so a flood of one-shot sources does not wash out a real brute forcer
 * that has failed more often.
 *
 * Times are monotonic milliseconds (sw_mono_ms()). Thread-safe: sharded, one short
 * critical section per call.
 */
#ifndef SW_STATE_FAILTRACK_H
#define SW_STATE_FAILTRACK_H

#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "base/event.h"
#include "base/sv.h"

#define FAILTRACK_SHARDS       64
#define FAILTRACK_MAXRETRY_MAX 8
#define FAILTRACK_RETRANS      4
#define FAILTRACK_EVICT_SAMPLE 8
#define FAILTRACK_REASON_CAP   96

enum failtrack_verdict {
    FAILTRACK_IGNORED,        /* not a failure kind */
    FAILTRACK_RETRANSMISSION, /* the same request again: not counted */
    FAILTRACK_COUNTED,        /* a new failure, below maxretry */
    FAILTRACK_BAN,            /* maxretry reached within findtime: ban now */
};

struct failtrack_config {
    uint32_t maxretry;          /* 0 = 3; 1..FAILTRACK_MAXRETRY_MAX */
    uint32_t findtime_s;        /* 0 = 300; at most 7 days */
    uint32_t retrans_window_ms; /* 0 = 32000 */
    size_t max_sources;         /* 0 = 65536 */
    unsigned v6_prefix_len;     /* IPv6 sources count per prefix (sw_ip_aggregate); 0 = 128 */
};

/* One failed attempt, as the stage saw it. Views are only read during the call. */
struct failtrack_attempt {
    struct sw_ip ip; /* the transport source, never a header */
    enum sw_event_kind kind;
    struct sv user;    /* user name the request carried; absent or empty when none */
    struct sv realm;   /* realm of its credentials; absent when none */
    struct sv call_id; /* absent for aggregated events (rate exceeded, scanner) */
    uint32_t cseq;
    struct sv response; /* the credential sent (digest response); absent when none */
};

struct failtrack_result {
    enum failtrack_verdict verdict;
    uint32_t failures;                 /* failures within findtime, this one included */
    char reason[FAILTRACK_REASON_CAP]; /* on BAN: "InvalidPassword=2,FailedACL=1" */
};

struct failtrack;

/* Creates a tracker. Returns 0, -SW_EBADARG for a bad config, or -ENOMEM. */
int failtrack_new(const struct failtrack_config *cfg, struct failtrack **out);

/* Frees the tracker; NULL is a no-op. */
void failtrack_free(struct failtrack *ft);

/* Records one attempt at `now_ms` and says whether to ban its source. */
void failtrack_record(struct failtrack *ft, const struct failtrack_attempt *attempt,
                      uint64_t now_ms, struct failtrack_result *out);

/* Forgets a source (e.g. after it authenticated successfully). */
void failtrack_forget(struct failtrack *ft, const struct sw_ip *ip);

/* Failures of `ip` within findtime at `now_ms` (0 when untracked). */
uint32_t failtrack_failures(const struct failtrack *ft, const struct sw_ip *ip, uint64_t now_ms);

/* Sources tracked now, most sources, and bytes allocated (fixed at creation). */
size_t failtrack_count(const struct failtrack *ft);
size_t failtrack_capacity(const struct failtrack *ft);
size_t failtrack_memory_bytes(const struct failtrack *ft);

#endif
