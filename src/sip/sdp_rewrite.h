/*
 * The SDP rewrite of media anchoring and of the SDP policy, as a pure function: the body
 * is copied line by line into an output buffer with the connection addresses and ports of
 * a media relay (rtpengine) in place of the endpoint's, the endpoint's ICE candidates
 * removed (they name its addresses), and chosen a=crypto lines removed (weak offers).
 * Everything else is copied as written; lines end in CRLF. The shapes (RFC 3264):
 * - a disabled or rejected stream (port 0) keeps port 0, whatever the relay says;
 * - hold written the RFC 2543 way (c= 0.0.0.0 / ::) keeps that address;
 * - several m= lines get one port each, in order; a relay port of 0 keeps the original;
 * - IPv6: the relay's address type is written with its address ("IN IP6 2001:db8::1").
 * Pure and thread-safe; the caller owns every buffer.
 */
#ifndef SW_SIP_SDP_REWRITE_H
#define SW_SIP_SDP_REWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/sv.h"
#include "sip/sdp.h"

struct sip_sdp_rewrite {
    struct sv addr_type;                     /* "IP4" or "IP6"; absent: keep c= and o= */
    struct sv address;                       /* the relay's media address */
    bool is_origin_replaced;                 /* o= gets the relay's address too */
    uint16_t ports[SIP_SDP_MAX_MEDIA];       /* the relay's port per m= line, 0 = keep */
    size_t port_count;                       /* entries of ports[] used */
    bool is_ice_removed;                     /* drop a=candidate, a=ice-*, a=remote-candidates */
    uint32_t drop_crypto[SIP_SDP_MAX_MEDIA]; /* bit i: remove the i-th a=crypto of that m= */
};

/*
 * Fills `spec` (address, address type, ports) from `relay`, the SDP a relay returned for
 * the same offer or answer: the session c= (or the first media's) and each m= port.
 * Returns 0, or -SW_EBADSDP when the relay's SDP names no connection address.
 */
int sip_sdp_rewrite_from_relay(const struct sip_sdp *relay, struct sip_sdp_rewrite *spec);

/*
 * Writes `body` rewritten by `spec` to `out`. `body` must have parsed with sip_sdp_parse()
 * (the rewrite trusts its shape). Returns 0, -SW_ETOOBIG when `out` is too small (its
 * content is then undefined), or -SW_EBADSDP when `body` has more m= lines than
 * SIP_SDP_MAX_MEDIA.
 */
int sip_sdp_rewrite(struct sv body, const struct sip_sdp_rewrite *spec, struct sw_buf *out);

#endif
