/*
 * The identity stage: STIR/SHAKEN in the running gateway (issue #4), the last stage of
 * the pipeline, after callerid has settled the calling number.
 *
 * Outbound signing (an initial INVITE from the PBX or an authenticated account, leaving
 * by the default trunk), when [stir] has signing_key and x5u: the leg towards the
 * provider gets "Identity: <PASSporT>;info=<x5u>;alg=ES256;ppt=shaken" with
 *   orig   the calling number after callerid (its replacement, if any), E.164;
 *   dest   the Request-URI number (else To), normalized with the trunk's country_code;
 *   attest stir_attest_decide(): A caller authenticated and number owned, B
 *          authenticated and not owned (callerid_policy = allow let it pass), C relayed.
 * P-Asserted-Identity of the leg is set to the signed number, so the PBX's own PAI and
 * Identity headers never travel next to ours. A caller that is not a telephone number
 * leaves unsigned; a signing failure (no randomness, crypto) answers 500: fail closed.
 *
 * Inbound verification (an initial INVITE from a trunk), when [stir] has ca_file or
 * ca_dir: every Identity header (at most IDENTITY_MAX_HEADERS) is verified against
 * the calling number (PAI, else From) and the called number (To, else Request-URI). One
 * valid PASSporT makes the call TN-Validation-Passed; otherwise the first header's
 * reason decides (TN-Validation-Failed); no header: No-TN-Validation. The verstat goes
 * on the From of the PBX leg and on its P-Asserted-Identity (RFC 8588, ATIS-1000074);
 * whatever verstat the provider sent is dropped. Every result is an IdentityVerified or
 * IdentityFailed event. The trunk's identity_policy: tag (default), reject (failures
 * get the RFC 8224 response of their reason), require (also 428 without Identity).
 *
 * Holding: a certificate missing from the cache is fetched by the verifier's threads;
 * the call is held (ctx->hold) and its results are parked in a bounded table of
 * IDENTITY_SLOTS slots. The fetch callback resumes the hold; the second pass takes the
 * parked results and decides inline. Retransmissions of a held INVITE are dropped
 * silently while the fetch runs. A full table, or a context that cannot hold, decides
 * at once with STIR_CERT_FETCH for the unfinished headers. Parked results that no second
 * pass claimed within IDENTITY_SLOT_TTL_MS are reclaimed.
 *
 * Thread-safety: check() runs on every worker; the slot table has one mutex, taken for
 * a few instructions; fetch callbacks come from the verifier's threads.
 */
#ifndef SW_POLICY_IDENTITY_H
#define SW_POLICY_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"
#include "policy/stage.h"
#include "stir/reason.h"

/* Identity headers verified per INVITE; further ones are ignored. */
#define IDENTITY_MAX_HEADERS 4
/* Calls that may wait for a certificate at the same time. */
#define IDENTITY_SLOTS       128
/* How long parked results wait for their second pass (the INVITE transaction's 32 s). */
#define IDENTITY_SLOT_TTL_MS 32000

extern const struct stage identity_stage;

/*
 * Puts the certificate chain `pem` in the verifier's cache under `url`, as if fetched
 * (stir_verifier_preload). `stage_state` is what identity_stage.init made. For tests and
 * for pinning a peer's certificate; main thread, before calls flow. Returns the chain
 * verdict, or STIR_INTERNAL when the stage does not verify.
 */
enum stir_reason identity_preload(void *stage_state, struct sv url, const char *pem, size_t len,
                                  int64_t now_s);

#endif
