/*
 * The media stage (issue #14): SRTP policy on the SDP offers of INVITE, re-INVITE, UPDATE
 * and PRACK (application/sdp bodies; a request without SDP is not checked, and the
 * offers and answers in responses are the call layer's).
 *
 * Every offer is checked against two policies: that of the side that sent it (a trunk, an
 * account or the PBX: its media_encryption and srtp keys),
 * and that of the side it goes to (a call from a provider or an account goes to the PBX;
 * a call from the PBX goes to a registered account its Request-URI names, else to the
 * default trunk). srtp auto means required when that side's signalling is TLS (the
 * transport the request came in on, or the transport of the side's configured address).
 * In this order:
 *   - malformed SDP: 400 with a Warning (EV_MALFORMED);
 *   - a=crypto keys on a leg that is not TLS (either side): 488, since keys in clear
 *     text protect nothing (PolicyHit);
 *   - a required policy: every active RTP stream (port not 0) must offer acceptable SRTP:
 *     RTP/SAVP(F) with at least one acceptable a=crypto line (media_encryption sdes or
 *     any), or UDP/TLS/RTP/SAVP(F) with a fingerprint (dtls or any). Else 488 with
 *     "Warning: 399 sipwarden "..."" naming the side (PolicyHit);
 *   - weak a=crypto lines (sip_sdp_crypto_rate: unencrypted or unauthenticated flags, a
 *     32-bit tag next to an 80-bit one, unknown suites, bad keys): in a stream that also
 *     offers an acceptable line they are removed: ctx->edits.sdp holds the SDP without
 *     them, and a PolicyHit event says so. A stream with only weak lines fails a required
 *     policy and is reported (PolicyHit) under an optional one.
 * With media anchoring ([media] rtpengine) rtpengine keys each leg on its own, so the side
 * the offer goes to refuses nothing; its policy chooses instead what rtpengine gives it
 * (ctx->edits.media_to_b, and media_to_a for the sender): SRTP where required (SDES on a
 * TLS leg, else DTLS-SRTP when allowed; neither: 488), plain RTP/AVP on a leg without TLS
 * (keys never travel there in clear), as offered otherwise. An offer that the receiver's
 * policy alone would refuse sets ctx->edits.is_anchor_needed: it never crosses unanchored.
 * An INVITE without SDP (a late offer) gets the same choice of media for both sides.
 * Stage state is built at init and read-only afterwards; check() is thread-safe.
 */
#ifndef SW_POLICY_MEDIA_H
#define SW_POLICY_MEDIA_H

#include "policy/stage.h"

extern const struct stage media_stage;

#endif
