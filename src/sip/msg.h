/*
 * SIP messages (RFC 3261 §7): stream framing, the zero-copy parse into a header index,
 * the checks every message must pass, and lazy typed accessors.
 *
 * Ownership: every view of a `struct sip_msg` points into the buffer given to
 * sip_msg_parse() or into `msg->arena`; the message is valid until that buffer is
 * reused or the arena is reset. The receive buffer is never written. Accessors parse
 * on first use and cache the typed value inside the message (hence the non-const
 * `struct sip_msg *`); a failed parse is not cached. A message belongs to one thread.
 *
 * Implementation: msg.c (framing, parse, index), msg_get.c (typed accessors),
 * msg_check.c (validation).
 */
#ifndef SW_SIP_MSG_H
#define SW_SIP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/sv.h"
#include "sip/err.h"
#include "sip/hdr.h"
#include "sip/method.h"
#include "sip/nameaddr.h"
#include "sip/uri.h"
#include "sip/via.h"

/* The defaults of sip_limits_default(). */
#define SIP_MAX_MSG_BYTES   65535
#define SIP_MAX_HEADERS     128
#define SIP_MAX_LINE_BYTES  8192
/* The largest max_headers accepted (the index stores positions in 16 bits). */
#define SIP_MAX_HEADERS_CAP 4096

struct sip_limits {
    size_t max_msg_bytes;  /* start line + headers + body; over it: 513 */
    size_t max_headers;    /* header lines; over it: 400 */
    size_t max_line_bytes; /* one physical line; over it: 400 */
};

struct sip_cseq {
    uint32_t seq;
    enum sip_method method;
    struct sv method_name;
};

/* Private: the bits of sip_msg_cache.done (msg_get.c fills the fields, msg_check.c
 * fills top_via and the Contact fields while it validates every Via and Contact). */
enum sip_msg_cache_bit {
    SIP_MSG_CACHE_FROM = 1 << 0,
    SIP_MSG_CACHE_TO = 1 << 1,
    SIP_MSG_CACHE_CSEQ = 1 << 2,
    SIP_MSG_CACHE_TOP_VIA = 1 << 3,
    SIP_MSG_CACHE_RURI = 1 << 4,
    SIP_MSG_CACHE_MAX_FORWARDS = 1 << 5,
    SIP_MSG_CACHE_CONTACTS = 1 << 6, /* every Contact value parsed: count, star, first */
};

/* Private: typed values parsed on first use. Use the accessors, not these fields. */
struct sip_msg_cache {
    uint32_t done; /* SIP_MSG_CACHE_... bits set once the field holds a value */
    struct sip_nameaddr from;
    struct sip_nameaddr to;
    struct sip_cseq cseq;
    struct sip_via top_via;
    struct sip_uri ruri;
    uint32_t max_forwards;
    size_t contact_values;      /* Contact values, a '*' included */
    bool is_contact_star;       /* one of them is '*' (then it is the only one) */
    struct sip_contact contact; /* the first value when it is not '*' */
};

struct sip_msg {
    bool is_request;
    enum sip_method method; /* requests */
    struct sv method_name;
    struct sv ruri;
    uint16_t status; /* responses */
    struct sv reason;
    struct sv version; /* "SIP/2.0" as written */
    struct sip_hdr *hdrs;
    size_t hdr_count;
    struct sv body;
    struct sv raw; /* the message: start line to the end of the body (trailing octets excluded) */
    struct arena *arena;
    bool is_stream;
    bool has_content_length;
    size_t content_length;
    /* Private index: position + 1 of the first header of each id (0 = none) and the
     * number of lines with that id. */
    uint16_t hdr_first[SIP_HDR_COUNT];
    uint16_t hdr_lines[SIP_HDR_COUNT];
    struct sip_msg_cache cache;
};

/* Fills `l` with 65535 bytes, 128 headers, 8192-byte lines. */
void sip_limits_default(struct sip_limits *l);

/*
 * Stream framing (RFC 3261 §18.3): returns 0 with `*msg_len` when `buf` starts with a
 * complete message (headers + Content-Length body; leading CRLFs, which §7.5 says to
 * ignore, are counted in `*msg_len` and skipped by sip_msg_parse), -SW_EINCOMPLETE when
 * more bytes are needed, or -SW_EBADMSG / -SW_ETOOBIG with `err` set (Content-Length is
 * required on streams). Reads at most limits->max_msg_bytes (+ the leading CRLFs) of
 * `buf` and never past it. After an error the stream has lost framing: close it.
 */
int sip_frame(struct sv buf, const struct sip_limits *limits, size_t *msg_len, struct sip_err *err);

/*
 * The number of leading CR/LF bytes of `buf`: the RFC 5626 §3.5.1 keep-alive ("\r\n\r\n"
 * ping, answered by "\r\n") that a stream transport consumes before framing.
 */
size_t sip_frame_keepalive_len(struct sv buf);

/*
 * Parses one complete message (a UDP datagram or a framed stream message) into `msg`.
 * is_stream=false: a missing Content-Length means "the rest of the datagram" (RFC 3261
 * §18.3 / RFC 2543 compatibility), trailing bytes after the body are ignored (RFC 4475
 * §3.1.1.8), and the end of the datagram also ends the headers. is_stream=true:
 * Content-Length is required. Both CRLF and bare LF end lines. Allocates only from
 * `arena` (the header index). Returns 0, or -SW_EBADMSG / -SW_ETOOBIG /
 * -SW_ENOMEM_ARENA with err->status 400 or 513 (0 for a response: drop it).
 */
int sip_msg_parse(struct sv raw, bool is_stream, const struct sip_limits *limits,
                  struct arena *arena, struct sip_msg *msg, struct sip_err *err);

/*
 * The checks of RFC 3261 §8.2 / §16.3 every message must pass before processing:
 * SIP/2.0 (505), To, From, Call-ID and CSeq exactly once, at least one Via, at most one
 * Max-Forwards, every Via and Contact well-formed, From/To well-formed, CSeq number in
 * 32 bits and its method equal to the request's (400; 501 for an unknown method), a
 * parseable Request-URI without headers, scalar ranges (Max-Forwards <= 255, Expires),
 * Date in GMT. Returns 0 or -SW_EBADMSG with err->status set (0 for responses: drop).
 */
int sip_msg_validate(struct sip_msg *msg, struct sip_err *err);

/*
 * The next header with `id` after `after` (NULL: the first one), or NULL. For
 * SIP_HDR_OTHER use sip_msg_find_name(). Inline: every accessor starts with it.
 */
static inline const struct sip_hdr *sip_msg_find(const struct sip_msg *msg, enum sip_hdr_id id,
                                                 const struct sip_hdr *after)
{
    if ((unsigned)id >= SIP_HDR_COUNT) {
        return NULL;
    }
    if (after == NULL) {
        uint16_t first = msg->hdr_first[id];
        return first == 0 ? NULL : &msg->hdrs[first - 1];
    }
    const struct sip_hdr *end = msg->hdrs + msg->hdr_count;
    for (const struct sip_hdr *h = after + 1; h < end; h++) {
        if (h->id == id) {
            return h;
        }
    }
    return NULL;
}

/* The next header named `name` (ASCII case-insensitive, compact forms resolved). */
const struct sip_hdr *sip_msg_find_name(const struct sip_msg *msg, struct sv name,
                                        const struct sip_hdr *after);

/* The number of header lines with `id` (a Via line with two values counts once). */
static inline size_t sip_msg_hdr_lines(const struct sip_msg *msg, enum sip_hdr_id id)
{
    return (unsigned)id < SIP_HDR_COUNT ? msg->hdr_lines[id] : 0;
}

/* Private: the parsing halves of the accessors below (msg_get.c), for a value not
 * cached yet. Call the accessors. */
const struct sip_nameaddr *sip_msg_from_load(struct sip_msg *msg, struct sip_err *err);
const struct sip_nameaddr *sip_msg_to_load(struct sip_msg *msg, struct sip_err *err);
const struct sip_cseq *sip_msg_cseq_load(struct sip_msg *msg, struct sip_err *err);
const struct sip_via *sip_msg_top_via_load(struct sip_msg *msg, struct sip_err *err);
const struct sip_uri *sip_msg_ruri_load(struct sip_msg *msg, struct sip_err *err);
int sip_msg_max_forwards_load(struct sip_msg *msg, uint32_t *out);

/*
 * Lazy typed accessors (msg_get.c). Each returns NULL (or a negative code) with `err`
 * set when the header is absent (-SW_ENOTFOUND, status 400) or malformed. Inline for
 * the cached value: validation, the stages and the proxy ask for the same fields.
 */
static inline const struct sip_nameaddr *sip_msg_from(struct sip_msg *msg, struct sip_err *err)
{
    if ((msg->cache.done & SIP_MSG_CACHE_FROM) != 0) {
        return &msg->cache.from;
    }
    return sip_msg_from_load(msg, err);
}

static inline const struct sip_nameaddr *sip_msg_to(struct sip_msg *msg, struct sip_err *err)
{
    if ((msg->cache.done & SIP_MSG_CACHE_TO) != 0) {
        return &msg->cache.to;
    }
    return sip_msg_to_load(msg, err);
}

static inline const struct sip_cseq *sip_msg_cseq(struct sip_msg *msg, struct sip_err *err)
{
    if ((msg->cache.done & SIP_MSG_CACHE_CSEQ) != 0) {
        return &msg->cache.cseq;
    }
    return sip_msg_cseq_load(msg, err);
}

static inline const struct sip_via *sip_msg_top_via(struct sip_msg *msg, struct sip_err *err)
{
    if ((msg->cache.done & SIP_MSG_CACHE_TOP_VIA) != 0) {
        return &msg->cache.top_via;
    }
    return sip_msg_top_via_load(msg, err);
}

static inline const struct sip_uri *sip_msg_ruri(struct sip_msg *msg, struct sip_err *err)
{
    if ((msg->cache.done & SIP_MSG_CACHE_RURI) != 0) {
        return &msg->cache.ruri;
    }
    return sip_msg_ruri_load(msg, err);
}

/* The Call-ID value (LWS-trimmed), or the absent view. */
static inline struct sv sip_msg_call_id(struct sip_msg *msg)
{
    const struct sip_hdr *hdr = sip_msg_find(msg, SIP_HDR_CALL_ID, NULL);
    return hdr == NULL ? SV_NULL : hdr->value;
}

/*
 * Every Via value, in order, including comma-separated ones. Writes at most `cap` to
 * `out` and the total in `*count`; -SW_EFULL when there are more than `cap` (then
 * `*count` = cap), -SW_EBADMSG when one is malformed.
 */
int sip_msg_vias(struct sip_msg *msg, struct sip_via *out, size_t cap, size_t *count,
                 struct sip_err *err);

/* Max-Forwards: 0, -SW_ENOTFOUND when absent, -SW_EBADMSG when not 0..255. */
static inline int sip_msg_max_forwards(struct sip_msg *msg, uint32_t *out)
{
    if ((msg->cache.done & SIP_MSG_CACHE_MAX_FORWARDS) != 0) {
        *out = msg->cache.max_forwards;
        return 0;
    }
    return sip_msg_max_forwards_load(msg, out);
}

/*
 * Every Contact value as sip_msg_vias(). `*is_star` is true for "Contact: *" (then
 * `*count` = 0; a '*' mixed with other values is -SW_EBADMSG, RFC 3261 §10.2.2).
 * No Contact header: 0 with `*count` = 0.
 */
int sip_msg_contacts(struct sip_msg *msg, struct sip_contact *out, size_t cap, size_t *count,
                     bool *is_star, struct sip_err *err);

/*
 * Every value of a name-addr list header `id` (Route, Record-Route, Path,
 * P-Asserted-Identity...), as sip_msg_vias().
 */
int sip_msg_nameaddrs(struct sip_msg *msg, enum sip_hdr_id id, struct sip_nameaddr *out, size_t cap,
                      size_t *count, struct sip_err *err);

/*
 * Every option tag of Require, Proxy-Require, Supported or Unsupported (`id`), views into
 * the message, as sip_msg_vias() (-SW_EBADMSG when one is not a token).
 */
int sip_msg_option_tags(struct sip_msg *msg, enum sip_hdr_id id, struct sv *out, size_t cap,
                        size_t *count);

/*
 * Expires header in seconds: 0, -SW_ENOTFOUND when absent, -SW_EBADMSG when not
 * delta-seconds. A value over 2^32-1 reads as 3600 (RFC 4475 §3.1.2.4 allows the default).
 */
int sip_msg_expires(struct sip_msg *msg, uint32_t *out);

/* Content-Length as parsed: 0, or -SW_ENOTFOUND when the message had none. */
int sip_msg_content_length(const struct sip_msg *msg, size_t *out);

#endif
