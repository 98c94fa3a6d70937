/*
 * The unknown-source stage, the last of the pipeline (#10, moved from the gateway): a
 * request that every other stage let through is still refused when nobody we know sent
 * it: not the PBX, not a provider's range, not an account that authenticated on it, and
 * not part of a dialog the call layer knows. It gets silence and a FailedACL event
 * ("unknown source", module "gateway" as the security log has always named it), which
 * counts towards a ban. The ACK of a challenge we sent statelessly is dropped without an
 * event: it is the end of a normal exchange, not a failure.
 *
 * Stateless; check() from any worker.
 */
#ifndef SW_POLICY_UNKNOWN_H
#define SW_POLICY_UNKNOWN_H

#include "policy/stage.h"

extern const struct stage unknown_stage;

#endif
