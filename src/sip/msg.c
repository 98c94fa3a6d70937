#include "sip/msg.h"

#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "sip/chars.h"
#include "sip/hdr_hash.h"
#include "sip/scan.h"

void sip_limits_default(struct sip_limits *l)
{
    l->max_msg_bytes = SIP_MAX_MSG_BYTES;
    l->max_headers = SIP_MAX_HEADERS;
    l->max_line_bytes = SIP_MAX_LINE_BYTES;
}

size_t sip_frame_keepalive_len(struct sv buf)
{
    size_t i = 0;
    while (i < buf.len && (buf.ptr[i] == '\r' || buf.ptr[i] == '\n')) {
        i++;
    }
    return i;
}

/* One physical line: [start, end) without its CR LF / LF, `next` after the LF. */
struct line {
    const char *start;
    const char *end;
    const char *next;
};

enum line_rc { LINE_OK, LINE_NONE, LINE_TOO_LONG };

/* Finds the line at `p` within [p, limit). LINE_NONE when no LF is there (and the rest
 * is not over the line limit). */
static inline enum line_rc line_take(const char *p, const char *limit, size_t max_line,
                                     struct line *out)
{
    SW_ASSERT(p != NULL);
    size_t avail = (size_t)(limit - p);
    size_t scan = avail < max_line + 2 ? avail : max_line + 2;
    const char *lf = memchr(p, '\n', scan);
    if (lf == NULL) {
        return scan > max_line + 1 ? LINE_TOO_LONG : LINE_NONE;
    }
    const char *end = (lf > p && lf[-1] == '\r') ? lf - 1 : lf;
    if ((size_t)(end - p) > max_line) {
        return LINE_TOO_LONG;
    }
    *out = (struct line){ .start = p, .end = end, .next = lf + 1 };
    return LINE_OK;
}

/* The common line of a datagram or a framed message, decided by one search for the
 * first CR or LF: a line that ends in LF or CR LF within the line limit. Anything
 * else (a bare CR, no line end, a long line) is left to line_take() and its checks. */
static inline bool line_take_fast(const char *p, const char *limit, size_t max_line,
                                  struct line *out)
{
    size_t avail = (size_t)(limit - p);
    size_t scan = avail < max_line + 1 ? avail : max_line + 1;
    const char *eol = sip_scan_either(p, p + scan, '\r', '\n');
    if (eol == p + scan) {
        return false;
    }
    if (*eol == '\n') {
        *out = (struct line){ .start = p, .end = eol, .next = eol + 1 };
        return true;
    }
    if (eol + 1 < limit && eol[1] == '\n') {
        *out = (struct line){ .start = p, .end = eol, .next = eol + 2 };
        return true;
    }
    return false;
}

/* The header name of a line ("Name  :"), or an absent view when it has no colon after
 * a token. `*colon` gets the position after ':' and `*id` the header's identifier.
 * A name that matches a known header is made of token bytes by construction (the
 * lookup folds only letters), so only unknown names are checked byte by byte. */
static inline struct sv header_name(const char *p, const char *end, const char **colon,
                                    enum sip_hdr_id *id)
{
    const char *c = NULL;
    size_t len = sip_hdr_name_scan(p, end, &c, id);
    if (len == 0) {
        return SV_NULL;
    }
    if (*id == SIP_HDR_OTHER) {
        for (size_t i = 0; i < len; i++) {
            if (!sip_char_is(p[i], SIP_C_TOKEN)) {
                return SV_NULL;
            }
        }
    }
    *colon = c + 1;
    return sip_sv(p, len);
}

/* Content-Length = 1*DIGIT (RFC 3261 §20.14): no sign, no overflow. */
static bool content_length_parse(struct sv value, size_t *out)
{
    uint64_t wide = 0;
    if (!sip_digits_u64(sip_lws_trim(value), &wide) || wide > SIZE_MAX) {
        return false;
    }
    *out = (size_t)wide;
    return true;
}

struct frame_scan {
    size_t header_len; /* up to and including the empty line */
    size_t headers;
    struct sv cl_value; /* from the first byte after ':' to the end of its last line */
    bool has_cl;
    bool in_cl; /* the last header line was Content-Length (for its continuations) */
};

static int frame_fail(struct sip_err *err, int code, size_t pos, const char *reason,
                      uint16_t status)
{
    return sip_err_set(err, code, pos, reason, status);
}

/* Accounts for one header line (or continuation) of a stream message in `scan`. */
static int frame_line(const struct line *ln, size_t pos, const struct sip_limits *limits,
                      struct frame_scan *scan, struct sip_err *err)
{
    if (sip_char_is(ln->start[0], SIP_C_WS)) {
        if (scan->in_cl) {
            scan->cl_value.len = (size_t)(ln->end - scan->cl_value.ptr);
        }
        return 0;
    }
    scan->in_cl = false;
    if (++scan->headers > limits->max_headers) {
        return frame_fail(err, -SW_EBADMSG, pos, "too many headers", 400);
    }
    const char *colon = NULL;
    enum sip_hdr_id id = SIP_HDR_OTHER;
    struct sv name = header_name(ln->start, ln->end, &colon, &id);
    if (name.ptr == NULL || id != SIP_HDR_CONTENT_LENGTH) {
        return 0;
    }
    if (scan->has_cl) {
        return frame_fail(err, -SW_EBADMSG, pos, "multiple Content-Length headers", 400);
    }
    scan->has_cl = true;
    scan->in_cl = true;
    scan->cl_value = sip_sv(colon, (size_t)(ln->end - colon));
    return 0;
}

/* Walks the header lines of a stream message; fills `scan` once the empty line is seen. */
static int frame_headers(struct sv rem, const struct sip_limits *limits, struct frame_scan *scan,
                         struct sip_err *err)
{
    size_t window = rem.len < limits->max_msg_bytes ? rem.len : limits->max_msg_bytes;
    const char *p = rem.ptr;
    const char *limit = rem.ptr + window;
    bool is_first = true;
    for (;;) {
        struct line ln;
        enum line_rc rc = line_take(p, limit, limits->max_line_bytes, &ln);
        if (rc == LINE_TOO_LONG) {
            return frame_fail(err, -SW_EBADMSG, (size_t)(p - rem.ptr), "line too long", 400);
        }
        if (rc == LINE_NONE) {
            if (window >= limits->max_msg_bytes) {
                return frame_fail(err, -SW_ETOOBIG, window, "headers too large", 513);
            }
            return -SW_EINCOMPLETE;
        }
        if (ln.end == ln.start) {
            scan->header_len = (size_t)(ln.next - rem.ptr);
            return 0;
        }
        if (!is_first) {
            int err_rc = frame_line(&ln, (size_t)(p - rem.ptr), limits, scan, err);
            if (err_rc != 0) {
                return err_rc;
            }
        }
        is_first = false;
        p = ln.next;
    }
}

int sip_frame(struct sv buf, const struct sip_limits *limits, size_t *msg_len, struct sip_err *err)
{
    if (buf.ptr == NULL) {
        return -SW_EINCOMPLETE;
    }
    size_t skip = sip_frame_keepalive_len(buf);
    struct sv rem = sip_sv(buf.ptr + skip, buf.len - skip);
    if (rem.len == 0) {
        return -SW_EINCOMPLETE;
    }
    struct frame_scan scan = { 0 };
    int rc = frame_headers(rem, limits, &scan, err);
    if (rc != 0) {
        return rc;
    }
    if (!scan.has_cl) {
        return frame_fail(err, -SW_EBADMSG, skip, "Content-Length required on streams", 400);
    }
    size_t body_len = 0;
    if (!content_length_parse(scan.cl_value, &body_len)) {
        return frame_fail(err, -SW_EBADMSG, (size_t)(scan.cl_value.ptr - buf.ptr),
                          "bad Content-Length", 400);
    }
    if (body_len > limits->max_msg_bytes || scan.header_len + body_len > limits->max_msg_bytes) {
        return frame_fail(err, -SW_ETOOBIG, skip, "message too large", 513);
    }
    if (rem.len < scan.header_len + body_len) {
        return -SW_EINCOMPLETE;
    }
    *msg_len = skip + scan.header_len + body_len;
    return 0;
}

/* True when `s` starts with "SIP/" in any case (RFC 3261 §7.1: the literal is
 * case-insensitive). */
static bool starts_with_sip(struct sv s)
{
    return s.len >= 4 && (s.ptr[0] | 0x20) == 's' && (s.ptr[1] | 0x20) == 'i' &&
           (s.ptr[2] | 0x20) == 'p' && s.ptr[3] == '/';
}

/* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (RFC 3261 §7.1, "SIP" case-insensitive). */
static inline bool version_is_valid(struct sv v)
{
    /* "SIP/2.0" as every peer writes it: one compare instead of the walk. */
    if (v.len == 7 && memcmp(v.ptr, "SIP/2.0", 7) == 0) {
        return true;
    }
    if (v.len < 7 || !starts_with_sip(v)) {
        return false;
    }
    size_t i = 4;
    size_t major = 0;
    while (i < v.len && sip_char_is(v.ptr[i], SIP_C_DIGIT)) {
        i++;
        major++;
    }
    if (major == 0 || i >= v.len || v.ptr[i] != '.') {
        return false;
    }
    i++;
    size_t minor = 0;
    while (i < v.len && sip_char_is(v.ptr[i], SIP_C_DIGIT)) {
        i++;
        minor++;
    }
    return minor > 0 && i == v.len;
}

struct parser {
    struct sv raw; /* the input, for error positions */
    const char *end;
    const struct sip_limits *limits;
    struct sip_msg *msg;
    struct sip_err *err;
    uint16_t bad_status; /* 400 for requests, 0 (drop) for responses */
};

static int parse_fail(const struct parser *ps, const char *at, const char *reason)
{
    return sip_err_set(ps->err, -SW_EBADMSG, (size_t)(at - ps->raw.ptr), reason, ps->bad_status);
}

/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (RFC 3261 §7.2). */
static int parse_status_line(struct parser *ps, const struct line *ln)
{
    struct sip_msg *msg = ps->msg;
    const char *sp = memchr(ln->start, ' ', (size_t)(ln->end - ln->start));
    if (sp == NULL) {
        return parse_fail(ps, ln->start, "bad status line");
    }
    msg->version = sip_sv(ln->start, (size_t)(sp - ln->start));
    if (!version_is_valid(msg->version)) {
        return parse_fail(ps, ln->start, "bad SIP version");
    }
    const char *code = sp + 1;
    size_t rest = (size_t)(ln->end - code);
    if (rest < 3 || !sip_char_is(code[0], SIP_C_DIGIT) || !sip_char_is(code[1], SIP_C_DIGIT) ||
        !sip_char_is(code[2], SIP_C_DIGIT) || (rest > 3 && code[3] != ' ')) {
        return parse_fail(ps, code, "bad status code");
    }
    unsigned status = (unsigned)(code[0] - '0') * 100 + (unsigned)(code[1] - '0') * 10 +
                      (unsigned)(code[2] - '0');
    if (status < 100 || status > 699) {
        return parse_fail(ps, code, "status code out of range");
    }
    msg->status = (uint16_t)status;
    /* Everything after the SP up to the line end is the reason, possibly empty
     * (RFC 4475 §3.1.1.13). */
    msg->reason = rest > 3 ? sip_sv(code + 4, rest - 4) : sip_sv(code + 3, 0);
    return 0;
}

/* Request-Line = Method SP Request-URI SP SIP-Version: exactly one SP each (RFC 3261
 * §7.1, RFC 4475 §3.1.2.8-10). */
static int parse_request_line(struct parser *ps, const struct line *ln)
{
    struct sip_msg *msg = ps->msg;
    const char *p = ln->start;
    p = sip_char_run(p, ln->end, SIP_C_TOKEN);
    if (p == ln->start || p >= ln->end || *p != ' ') {
        return parse_fail(ps, p, "bad method");
    }
    msg->method_name = sip_sv(ln->start, (size_t)(p - ln->start));
    msg->method = sip_method_from_sv(msg->method_name);
    const char *uri = p + 1;
    const char *sp = sip_scan_byte(uri, ln->end, ' ');
    if (sp == ln->end || sp == uri) {
        return parse_fail(ps, uri, "bad Request-URI");
    }
    msg->ruri = sip_sv(uri, (size_t)(sp - uri));
    msg->version = sip_sv(sp + 1, (size_t)(ln->end - sp - 1));
    if (!version_is_valid(msg->version)) {
        return parse_fail(ps, sp + 1, "bad SIP version");
    }
    return 0;
}

static int parse_start_line(struct parser *ps, const char *p, const char **next)
{
    struct line ln;
    /* line_take_fast() ends the line where line_take() would when it takes it: at the
     * first LF, its first CR or LF being that LF or a CR before it. */
    enum line_rc rc = line_take_fast(p, ps->end, ps->limits->max_line_bytes, &ln)
                          ? LINE_OK
                          : line_take(p, ps->end, ps->limits->max_line_bytes, &ln);
    if (rc == LINE_TOO_LONG) {
        return parse_fail(ps, p, "start line too long");
    }
    if (rc == LINE_NONE) {
        return parse_fail(ps, ps->end, "no end of start line");
    }
    *next = ln.next;
    if (starts_with_sip(sip_sv(p, (size_t)(ln.end - p)))) {
        ps->msg->is_request = false;
        ps->bad_status = 0;
        return parse_status_line(ps, &ln);
    }
    ps->msg->is_request = true;
    return parse_request_line(ps, &ln);
}

/* Adds a header line to the index; `colon` is the byte after ':'. */
static int index_header(struct parser *ps, struct sv name, enum sip_hdr_id id, const char *colon,
                        const struct line *ln)
{
    struct sip_msg *msg = ps->msg;
    if (msg->hdr_count >= ps->limits->max_headers) {
        return parse_fail(ps, ln->start, "too many headers");
    }
    struct sip_hdr *hdr = &msg->hdrs[msg->hdr_count];
    hdr->id = id;
    hdr->name = name;
    hdr->value = sip_lws_trim(sip_sv(colon, (size_t)(ln->end - colon)));
    msg->hdr_count++;
    if (msg->hdr_first[id] == 0) {
        msg->hdr_first[id] = (uint16_t)msg->hdr_count;
    }
    msg->hdr_lines[id]++;
    return 0;
}

#if defined(__SSE2__)
/* The end of the line at `p` (its first CR or LF), given the CR/LF mask of its first
 * sixteen bytes. */
static inline const char *line_end_find(const char *p, const char *limit, unsigned eols)
{
    if (eols != 0) {
        return p + __builtin_ctz(eols);
    }
    return sip_scan_eol(p + 16, limit);
}

/* The first ':' of the line [p, eol), given the ':' mask of its first sixteen bytes
 * already cut to the bytes before the line end. */
static inline const char *line_colon_find(const char *p, const char *eol, unsigned colons)
{
    if (colons != 0) {
        return p + __builtin_ctz(colons);
    }
    return eol - p > 16 ? sip_scan_byte(p + 16, eol, ':') : eol;
}

/* The byte after the line end `eol` (CR LF or a bare LF), or NULL for a bare CR or
 * no line end before `limit`. */
static inline const char *line_next(const char *eol, const char *limit)
{
    if (limit - eol >= 2) {
        /* CR LF, the common end, as one two-byte compare. */
        uint16_t pair;
        uint16_t crlf;
        memcpy(&pair, eol, 2);
        memcpy(&crlf, "\r\n", 2);
        if (pair == crlf) {
            return eol + 2;
        }
    }
    if (eol == limit) {
        return NULL;
    }
    if (*eol == '\n') {
        return eol + 1;
    }
    return eol + 1 < limit && eol[1] == '\n' ? eol + 2 : NULL;
}

/* The value [value, end) of one physical line without leading and trailing SP/HTAB
 * (the line holds no CR or LF, so this is sip_lws_trim()). */
static inline struct sv line_value(const char *value, const char *end)
{
    /* The one SP after the colon that nearly every header has, without the loop. */
    if (value < end && *value == ' ') {
        value++;
    }
    while (value < end && sip_char_is(*value, SIP_C_WS)) {
        value++;
    }
    while (end > value && sip_char_is(end[-1], SIP_C_WS)) {
        end--;
    }
    return sip_sv(value, (size_t)(end - value));
}

/*
 * Indexes the header lines of the common shape from `p`, in one pass over each: the
 * first CR or LF ends the line (CR LF or a bare LF) within the line limit, the same
 * sixteen-byte loads find its first ':', and the name before it is known or a token.
 * Returns the first line it does not take (an empty line, a continuation, fewer than
 * sixteen bytes left, a bare CR, a long or a bad line, a full index), which the
 * general loop then takes with its checks. `*value_start` follows the last line taken.
 */
static const char *index_fast_lines(struct parser *ps, const char *p, const char **value_start)
{
    SW_ASSERT(p != NULL);
    struct sip_msg *msg = ps->msg;
    const char *limit = ps->end;
    size_t max_line = ps->limits->max_line_bytes;
    size_t count = msg->hdr_count;
    size_t max_count = ps->limits->max_headers;
    /* A first byte up to SP is a continuation (SP, HTAB), the empty line or a control
     * byte: the general path's. */
    while (limit - p >= 16 && count < max_count && (unsigned char)p[0] > ' ') {
        unsigned eols = 0;
        unsigned colons = 0;
        sip_scan_line_masks(p, &eols, &colons);
        /* The bits below the first line end (all of them when the end is further). */
        colons &= (eols & (0U - eols)) - 1;
        const char *eol = line_end_find(p, limit, eols);
        const char *colon = line_colon_find(p, eol, colons);
        const char *next = line_next(eol, limit);
        if (next == NULL || colon == eol || colon == p || (size_t)(eol - p) > max_line) {
            break;
        }
        const char *name_end = colon;
        while (sip_char_is(name_end[-1], SIP_C_WS)) {
            name_end--;
        }
        size_t name_len = (size_t)(name_end - p);
        enum sip_hdr_id id = hdr_hash_lookup_padded(p, name_len);
        if (id == SIP_HDR_OTHER &&
            (name_len == 0 || sip_char_run(p, name_end, SIP_C_TOKEN) != name_end)) {
            break;
        }
        msg->hdrs[count] = (struct sip_hdr){ .id = id,
                                             .name = sip_sv(p, name_len),
                                             .value = line_value(colon + 1, eol) };
        count++;
        if (msg->hdr_first[id] == 0) {
            msg->hdr_first[id] = (uint16_t)count;
        }
        msg->hdr_lines[id]++;
        *value_start = colon + 1;
        p = next;
    }
    msg->hdr_count = count;
    return p;
}
#endif

/* One header line or a continuation of the previous one (RFC 3261 §7.3.1 folding). */
static int parse_header_line(struct parser *ps, const struct line *ln, const char **value_start)
{
    struct sip_msg *msg = ps->msg;
    SW_ASSERT(ln->start != NULL && ln->start < ln->end);
    if (sip_char_is(ln->start[0], SIP_C_WS)) {
        if (msg->hdr_count == 0) {
            return parse_fail(ps, ln->start, "continuation line without header");
        }
        struct sip_hdr *last = &msg->hdrs[msg->hdr_count - 1];
        last->value = sip_lws_trim(sip_sv(*value_start, (size_t)(ln->end - *value_start)));
        return 0;
    }
    enum sip_hdr_id id = SIP_HDR_OTHER;
    const char *colon = NULL;
    struct sv name = header_name(ln->start, ln->end, &colon, &id);
    if (name.ptr == NULL) {
        return parse_fail(ps, ln->start, "bad header line");
    }
    *value_start = colon;
    return index_header(ps, name, id, colon, ln);
}

/* The header line at `p`: 0 with `ln` set (no CR inside it), 1 when a datagram ends
 * after its last header line (RFC 5118 §4.10 archive files: the body is empty), or an
 * error. */
static int next_header_line(struct parser *ps, const char *p, bool is_stream, struct line *ln)
{
    size_t max_line = ps->limits->max_line_bytes;
    if (line_take_fast(p, ps->end, max_line, ln)) {
        return 0;
    }
    enum line_rc rc = line_take(p, ps->end, max_line, ln);
    if (rc == LINE_TOO_LONG) {
        return parse_fail(ps, p, "header line too long");
    }
    if (rc == LINE_NONE) {
        if (is_stream) {
            return parse_fail(ps, p, "no end of headers");
        }
        if (p == ps->end) {
            return 1;
        }
        *ln = (struct line){ .start = p, .end = ps->end, .next = ps->end };
    }
    if (sip_scan_byte(ln->start, ln->end, '\r') != ln->end) {
        /* A CR that does not end a line would be LWS to us and a line end to another
         * parser: refuse the ambiguity. */
        return parse_fail(ps, ln->start, "bare CR in header");
    }
    return 0;
}

/* Parses the header lines from `p`; `*body` gets the first byte after the empty line. */
static int parse_headers(struct parser *ps, const char *p, bool is_stream, const char **body)
{
    const char *value_start = NULL;
    struct line ln = { 0 };
    for (;;) {
#if defined(__SSE2__)
        p = index_fast_lines(ps, p, &value_start);
#endif
        int rc = next_header_line(ps, p, is_stream, &ln);
        if (rc != 0) {
            *body = p;
            return rc > 0 ? 0 : rc;
        }
        if (ln.start == ln.end) {
            *body = ln.next;
            return 0;
        }
        rc = parse_header_line(ps, &ln, &value_start);
        if (rc != 0) {
            return rc;
        }
        p = ln.next;
    }
}

/* Body framing (RFC 3261 §18.3, §20.14). */
static int parse_body(struct parser *ps, const char *body, bool is_stream, const char *start)
{
    struct sip_msg *msg = ps->msg;
    size_t avail = (size_t)(ps->end - body);
    if (msg->hdr_lines[SIP_HDR_CONTENT_LENGTH] > 1) {
        return parse_fail(ps, body, "multiple Content-Length headers");
    }
    const struct sip_hdr *cl = sip_msg_find(msg, SIP_HDR_CONTENT_LENGTH, NULL);
    if (cl == NULL) {
        if (is_stream) {
            return parse_fail(ps, body, "Content-Length required on streams");
        }
        msg->body = sip_sv(body, avail);
    } else {
        if (!content_length_parse(cl->value, &msg->content_length)) {
            return parse_fail(ps, cl->value.ptr, "bad Content-Length");
        }
        msg->has_content_length = true;
        if (msg->content_length > avail) {
            return parse_fail(ps, body, "Content-Length larger than the message");
        }
        msg->body = sip_sv(body, msg->content_length);
    }
    msg->raw = sip_sv(start, (size_t)(msg->body.ptr + msg->body.len - start));
    return 0;
}

static void msg_reset(struct sip_msg *msg, struct arena *arena, bool is_stream)
{
    msg->is_request = false;
    msg->method = SIP_METHOD_UNKNOWN;
    msg->method_name = SV_NULL;
    msg->ruri = SV_NULL;
    msg->status = 0;
    msg->reason = SV_NULL;
    msg->version = SV_NULL;
    msg->hdrs = NULL;
    msg->hdr_count = 0;
    msg->body = SV_NULL;
    msg->raw = SV_NULL;
    msg->arena = arena;
    msg->is_stream = is_stream;
    msg->has_content_length = false;
    msg->content_length = 0;
    memset(msg->hdr_first, 0, sizeof(msg->hdr_first));
    memset(msg->hdr_lines, 0, sizeof(msg->hdr_lines));
    msg->cache.done = 0;
}

int sip_msg_parse(struct sv raw, bool is_stream, const struct sip_limits *limits,
                  struct arena *arena, struct sip_msg *msg, struct sip_err *err)
{
    msg_reset(msg, arena, is_stream);
    struct parser ps = { .raw = raw, .limits = limits, .msg = msg, .err = err, .bad_status = 400 };
    if (raw.ptr == NULL) {
        return parse_fail(&ps, raw.ptr, "empty message");
    }
    size_t skip = sip_frame_keepalive_len(raw);
    const char *start = raw.ptr + skip;
    ps.end = raw.ptr + raw.len;
    bool is_response = starts_with_sip(sip_sv(start, raw.len - skip));
    if (raw.len - skip > limits->max_msg_bytes) {
        return sip_err_set(err, -SW_ETOOBIG, limits->max_msg_bytes, "message too large",
                           is_response ? 0 : 513);
    }
    if (start == ps.end) {
        return parse_fail(&ps, start, "empty message");
    }
    size_t max_headers =
        limits->max_headers < SIP_MAX_HEADERS_CAP ? limits->max_headers : SIP_MAX_HEADERS_CAP;
    msg->hdrs = arena_alloc(arena, max_headers * sizeof(*msg->hdrs));
    if (msg->hdrs == NULL) {
        return sip_err_set(err, -SW_ENOMEM_ARENA, 0, "arena exhausted", is_response ? 0 : 513);
    }
    struct sip_limits capped = *limits;
    capped.max_headers = max_headers;
    ps.limits = &capped;
    const char *p = NULL;
    int rc = parse_start_line(&ps, start, &p);
    if (rc != 0) {
        return rc;
    }
    const char *body = NULL;
    rc = parse_headers(&ps, p, is_stream, &body);
    if (rc != 0) {
        return rc;
    }
    return parse_body(&ps, body, is_stream, start);
}

const struct sip_hdr *sip_msg_find_name(const struct sip_msg *msg, struct sv name,
                                        const struct sip_hdr *after)
{
    enum sip_hdr_id id = sip_hdr_lookup(name);
    if (id != SIP_HDR_OTHER) {
        return sip_msg_find(msg, id, after);
    }
    const struct sip_hdr *end = msg->hdrs + msg->hdr_count;
    for (const struct sip_hdr *h = after == NULL ? msg->hdrs : after + 1; h < end; h++) {
        if (h->id == SIP_HDR_OTHER && sv_eq_nocase(h->name, name)) {
            return h;
        }
    }
    return NULL;
}

int sip_msg_content_length(const struct sip_msg *msg, size_t *out)
{
    if (!msg->has_content_length) {
        return -SW_ENOTFOUND;
    }
    *out = msg->content_length;
    return 0;
}
