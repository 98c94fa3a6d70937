/*
 * The inline ban decision (DESIGN.md; issue #10, "the policy in one place"): an event
 * consumer called by the thread that emitted the event, so that the gate drops the next
 * packet of a source that just earned its ban. The address is always the event's transport
 * source, never a header.
 *
 * The rules:
 *  - a failure (sw_event_kind_is_failure) is counted by the failure tracker; at maxretry
 *    within findtime the source is banned (fail2ban's rule), and each counted failure is
 *    also handed to the cluster, whose shared count may ban a guesser spread over nodes;
 *  - a scanner fingerprint bans at once;
 *  - an address an account authenticated from within the hour is never banned for volume
 *    (RateExceeded) nor for a fingerprint (a packet anyone could spoof from it), so an office
 *    NAT re-registering after an outage keeps working; its password failures still count;
 *  - exempt sources ([ban] never_ban) are never banned (their events are still logged).
 *
 * Bounds: the authenticated addresses live in a fixed table of BAN_DECIDE_AUTHED_SLOTS
 * (4-way sets; when a set is full, the entry that expires first gives way).
 *
 * Threads: ban_decide_event, ban_decide_ban and ban_decide_is_authenticated from any
 * thread at once; new, set_cluster and free while no other thread uses the decider.
 */
#ifndef SW_POLICY_BAN_DECIDE_H
#define SW_POLICY_BAN_DECIDE_H

#include <stdbool.h>

#include "base/addr.h"
#include "base/event.h"

#define BAN_DECIDE_AUTHED_SLOTS 16384
#define BAN_DECIDE_AUTHED_TTL_S 3600

struct ban_store;
struct failtrack;
struct cluster;
struct ban_decider;

/* A decider over `bans` and `fails` (borrowed: they outlive it); `v6_prefix_len` only names
 * the prefix an IPv6 ban covers in its log line. 0 or -ENOMEM. */
int ban_decide_new(struct ban_store *bans, struct failtrack *fails, unsigned v6_prefix_len,
                   struct ban_decider **out);

/* Frees; NULL is a no-op. */
void ban_decide_free(struct ban_decider *decider);

/* Counted failures go to `cluster` too from now on (borrowed; NULL: none). */
void ban_decide_set_cluster(struct ban_decider *decider, struct cluster *cluster);

/* Applies the rules to one event. */
void ban_decide_event(struct ban_decider *decider, const struct sw_event *ev);

/* Bans `ip` now with `reason` (the failure tracker's words, or the cluster's), logging a
 * new ban; an exempt address is refused by the ban store. */
void ban_decide_ban(struct ban_decider *decider, const struct sw_ip *ip, const char *reason);

/* True when an account authenticated from `ip` within the last hour. */
bool ban_decide_is_authenticated(struct ban_decider *decider, const struct sw_ip *ip);

#endif
