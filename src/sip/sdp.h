/*
 * Session descriptions (RFC 4566, RFC 8866): the parts media policy needs. Connection
 * data (session level and per media), each m= line with its port, transport protocol
 * and formats, SDES crypto attributes (RFC 4568), DTLS fingerprint and setup (RFC 8122,
 * RFC 4145), rtcp-mux (RFC 5761) and direction. Counts are bounded: more than
 * SIP_SDP_MAX_MEDIA m= lines or SIP_SDP_MAX_CRYPTO crypto lines per media is an error,
 * never a silent truncation (a policy must not miss an insecure stream).
 * Views point into the body. Lines may end in CRLF or LF. Pure, thread-safe.
 */
#ifndef SW_SIP_SDP_H
#define SW_SIP_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"
#include "sip/err.h"

#define SIP_SDP_MAX_MEDIA  16
#define SIP_SDP_MAX_CRYPTO 16

enum sip_sdp_direction {
    SIP_SDP_DIR_NONE, /* no direction attribute (sendrecv by default) */
    SIP_SDP_DIR_SENDRECV,
    SIP_SDP_DIR_SENDONLY,
    SIP_SDP_DIR_RECVONLY,
    SIP_SDP_DIR_INACTIVE,
};

/* c= line: "IN IP4 192.0.2.1" (address may carry /ttl/count for multicast). */
struct sip_sdp_conn {
    bool is_present;
    struct sv net_type;  /* "IN" */
    struct sv addr_type; /* "IP4", "IP6" */
    struct sv address;   /* without any /ttl or /count suffix */
};

/* a=crypto:<tag> <crypto-suite> <key-params> [<session-params>] (RFC 4568 §9.1). */
struct sip_sdp_crypto {
    uint32_t tag;
    struct sv suite;          /* e.g. "AES_CM_128_HMAC_SHA1_80" */
    struct sv key_params;     /* e.g. "inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^20|1:32" */
    struct sv session_params; /* the rest, absent when none */
};

/* How one a=crypto line rates as an offer of keys (RFC 4568 §6.2, RFC 6188, RFC 7714). */
enum sip_sdp_crypto_rating {
    SIP_SDP_CRYPTO_OK,            /* a known suite with inline keys and full protection */
    SIP_SDP_CRYPTO_SHORT_TAG,     /* a 32-bit tag while the same m= offers an 80-bit one */
    SIP_SDP_CRYPTO_UNENCRYPTED,   /* UNENCRYPTED_SRTP, UNENCRYPTED_SRTCP, UNAUTHENTICATED_SRTP */
    SIP_SDP_CRYPTO_UNKNOWN_SUITE, /* not one of the suites listed at sip_sdp_crypto_rate() */
    SIP_SDP_CRYPTO_BAD_KEY,       /* key-params without "inline:<key>" */
};

struct sip_sdp_media {
    struct sv media; /* "audio", "video", "application"... */
    uint16_t port;
    uint32_t port_count; /* 1 when not given */
    struct sv proto;     /* "RTP/AVP", "RTP/SAVP", "RTP/SAVPF", "UDP/TLS/RTP/SAVP"... */
    struct sv formats;   /* the raw format list, e.g. "0 8 101" */
    size_t format_count;
    struct sip_sdp_conn conn; /* its own c= (is_present false: the session one applies) */
    struct sip_sdp_crypto crypto[SIP_SDP_MAX_CRYPTO];
    size_t crypto_count;
    struct sv fingerprint; /* "sha-256 AB:CD:..." as written, absent when none */
    struct sv setup;       /* a=setup value, absent when none */
    bool has_rtcp_mux;
    enum sip_sdp_direction direction;
};

struct sip_sdp {
    uint32_t version; /* v= */
    struct sv origin; /* o= value */
    struct sv session_name;
    struct sip_sdp_conn conn; /* session-level c= */
    struct sv fingerprint;    /* session-level a=fingerprint */
    enum sip_sdp_direction direction;
    struct sip_sdp_media media[SIP_SDP_MAX_MEDIA];
    size_t media_count;
};

/*
 * Parses `body` into `out`. Requires v=0 first, every line "<letter>=<value>", and
 * well-formed c=, m= and a=crypto lines; unknown lines and attributes are skipped.
 * Returns 0, or -SW_EBADSDP with err->pos relative to `body` (err->status = 400;
 * a UAS would answer 488 by policy).
 */
int sip_sdp_parse(struct sv body, struct sip_sdp *out, struct sip_err *err);

/*
 * Moves `cur` past the next non-blank line of an SDP body: `line` gets it without its CR
 * and LF. False when only blank lines (or nothing) remain.
 */
bool sip_sdp_next_line(struct sv *cur, struct sv *line);

/* The c= that applies to `media`: its own, else the session-level one (may be absent). */
const struct sip_sdp_conn *sip_sdp_media_conn(const struct sip_sdp *sdp,
                                              const struct sip_sdp_media *media);

/* True when the media protocol is a secure RTP profile (RTP/SAVP, RTP/SAVPF, UDP/TLS/...). */
bool sip_sdp_media_is_srtp(const struct sip_sdp_media *media);

/*
 * Rates media->crypto[index]. Known suites: AES_CM_128_HMAC_SHA1_80/_32 (RFC 4568),
 * AES_192_CM_HMAC_SHA1_80/_32 and AES_256_CM_HMAC_SHA1_80/_32 (RFC 6188),
 * AEAD_AES_128_GCM and AEAD_AES_256_GCM (RFC 7714). A _32 suite is only weak when the same
 * m= also offers a suite with a longer tag (an answerer could then be led to the weaker).
 */
enum sip_sdp_crypto_rating sip_sdp_crypto_rate(const struct sip_sdp_media *media, size_t index);

/* True when the media carries RTP (its protocol names RTP: RTP/AVP, RTP/SAVP...). */
bool sip_sdp_media_is_rtp(const struct sip_sdp_media *media);

/* True when the media uses DTLS-SRTP (UDP/TLS/RTP/... with an a=fingerprint, RFC 5763). */
bool sip_sdp_media_is_dtls(const struct sip_sdp *sdp, const struct sip_sdp_media *media);

#endif
