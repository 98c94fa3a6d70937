/*
 * The acl stage: which source addresses may send at all, by the transport source address
 * only (never a header).
 *
 * Rules, IPv4 and IPv6 (an IPv4-mapped address is the IPv4 address):
 *  - permit ranges: [acl] permit, [pbx] permit, every trunk's permit, every account's
 *    permit (a remote account's address may try to authenticate);
 *  - deny ranges: [acl] deny and every trunk's deny.
 * The most specific matching range decides (the longest prefix); between a permit and a
 * deny of the same length, deny wins. When no range matches, the source is denied if
 * [acl] permit lists anything (a list with permits denies everything else) and allowed
 * otherwise (anyone may try, and the auth stage decides).
 * Trunks: only a trunk's permit ranges (minus its deny ranges) are that trunk
 * (policy/classify.h); a trunk's deny range is denied here altogether.
 * Accounts: an account's own permit/deny lists apply once the source has proven that
 * account (ctx->side == SIDE_ACCOUNT or ctx->is_authenticated, ctx->account set): the most
 * specific of them decides, and an account with permits refuses every other address.
 * They are never applied to the name a request merely claims, because answering such a
 * request differently would tell an attacker which account names exist.
 *
 * Denied: a FailedACL event (detail names the deciding range) and a silent drop, or 403
 * when [acl] deny_reply = 403 (never for ACK). Metrics: the events counter.
 * Blocks nothing else; runs before ratelimit so that denied sources cost no bucket.
 */
#ifndef SW_POLICY_ACL_H
#define SW_POLICY_ACL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/addr.h"
#include "policy/stage.h"

struct cfg;
struct cfg_account;

extern const struct stage acl_stage;

/*
 * True when `ip` may send before authentication under `cfg` (the rules above, without
 * the accounts' own lists). When `rule` is not NULL it receives the deciding range, or a
 * /0 range with prefix_len 255 when no range matched. O(ranges). Pure; any thread.
 */
bool acl_source_is_allowed(const struct cfg *cfg, const struct sw_ip *ip, struct sw_cidr *rule);

/* True when `account`'s permit/deny lists admit `ip` (see above). Pure; any thread. */
bool acl_account_permits(const struct cfg_account *account, const struct sw_ip *ip);

/*
 * The ranges of [acl] deny that the gate may drop before parsing: those that contain no
 * more specific permit range, since that permit would decide for the addresses it covers.
 * Writes at most `cap` ranges to `out`; returns how many were written.
 */
size_t acl_gate_deny_ranges(const struct cfg *cfg, struct sw_cidr *out, size_t cap);

#endif
