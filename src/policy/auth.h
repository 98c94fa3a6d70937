/*
 * The auth stage: digest authentication of remote accounts (RFC 3261 §22, RFC 7616,
 * RFC 8760) with no user enumeration.
 *
 * What it challenges: REGISTER and new requests from sources that are on no known side
 * (remote accounts: unknown until they prove who they are), and the PBX's when [auth]
 * challenge_pbx says so. Providers and in-dialog requests pass.
 * Challenges: one per configured algorithm in preference order, qop="auth", stateless
 * nonces (policy/nonce.h); 401 for REGISTER, 407 otherwise.
 * No enumeration: an unknown user, a wrong password and a disabled account get the same
 * fresh challenge, and the same work is done for each (a dummy HA1 for unknown users).
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
