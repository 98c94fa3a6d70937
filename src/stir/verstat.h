/*
 * Telling the PBX what verification found, as carriers do (ATIS-1000074, 3GPP TS 24.229):
 * a verstat parameter on the calling party's URI (P-Asserted-Identity, or From). Any
 * verstat that arrived from the peer is removed first: only our own verdict may reach
 * the PBX. Pure functions on caller storage; thread-safe.
 */
#ifndef SW_STIR_VERSTAT_H
#define SW_STIR_VERSTAT_H

#include <stddef.h>

#include "base/event.h"
#include "base/sv.h"
#include "stir/reason.h"

struct stir_result;

/*
 * Rewrites `uri` (optionally in <>, which are kept) with `verstat`:
 *   sip:/sips: the parameter goes at the end of the user part (RFC 3261 user parameters,
 *     "sip:+12155551212;verstat=TN-Validation-Passed@host;user=phone"); verstat found in
 *     the user part or among the URI parameters is dropped;
 *   tel: the parameter is appended after the other parameters, any old one dropped.
 * Writes into `out` (capacity `cap`, NUL added). Returns the length, -SW_EBADARG for a
 * URI of another scheme or a sip URI without a user part, -SW_ETOOBIG.
 */
long stir_verstat_apply(struct sv uri, enum stir_verstat verstat, char *out, size_t cap);

/*
 * Fills a security event for a verification: EV_IDENTITY_VERIFIED or EV_IDENTITY_FAILED,
 * module "identity", detail "<REASON> <code> attest=<A|B|C> orig=<tn> x5u=<url>" (what
 * is known). Sets only kind, module, detail; the caller adds addresses and Call-ID.
 */
void stir_verstat_event(const struct stir_result *result, struct sw_event *event);

#endif
