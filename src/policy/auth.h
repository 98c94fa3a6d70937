/*
 * The auth stage: digest authentication of remote accounts (RFC 3261 §22, RFC 7616,
 * RFC 8760) with no user enumeration.
 *
 * What it challenges: REGISTER and new requests from sources that are on no known side
 * (remote accounts: unknown until they prove who they are), and the PBX's when [auth]
 * challenge_pbx says so. Providers and in-dialog requests pass.
 * Challenges: one per configured algorithm in preference order, qop="auth", stateless
 * nonces (policy/nonce.h); 401 for REGISTER, 407 otherwise.
 * An account disabled by the operator or the fraud policy (state/isolation.h) that gives
 * its right password gets the 403 of a wrong one and a PolicyHit event, no failure: its
 * phone retrying must not ban its address.
 * Failed credentials: a wrong password, an unknown user and an account with enabled = no
 * get the same
 * 403 instead of a fresh challenge (RFC 3261 §21.4.4: the request should not be repeated),
 * and the same work is done for each (a dummy HA1 for unknown users): no user enumeration, and a
 * client stops at the first refusal instead of retrying its stored credentials against every new
 * challenge (baresip sends 15 in 5 ms), so every further failure on a Call-ID is a new
 * guess that the failure tracker counts. A stale nonce gets a fresh challenge with
 * stale=true and is no failure. Credentials that cannot be checked (a forged nonce, a
 * replayed nonce count, a realm or algorithm we did not offer) get a fresh challenge and
 * count as a failure.
 * Accounts with permit/deny lists: from outside them the right password gets the same 403
 * as a wrong one (no password oracle) and counts as a failure (FailedACL).
 * Events: ChallengeSent, SuccessfulAuth, InvalidAccountID (unknown user),
 * InvalidPassword (wrong response), ChallengeResponseFailed (forged nonce, replayed nc,
 * realm or algorithm we did not offer), FailedACL (the account's permit/deny refuses this
 * source). On success ctx->is_authenticated, ctx->account and ctx->side = SIDE_ACCOUNT.
 */
#ifndef SW_POLICY_AUTH_H
#define SW_POLICY_AUTH_H

#include <stdint.h>

#include "policy/stage.h"

extern const struct stage auth_stage;

/* The wall clock nonces are issued and checked by (seconds since the epoch). */
typedef int64_t auth_clock_fn(void);

/*
 * The seam for unit tests (tests/unit/policy/test_auth.c): nonces use `clock` instead of
 * sw_wall_s(), so that a nonce can grow stale without waiting; NULL restores sw_wall_s().
 * Call before any worker runs the stage; the daemon never calls it.
 */
void auth_clock_set(auth_clock_fn *clock);

#endif
