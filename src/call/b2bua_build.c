/*
 * Message text of the B2BUA. Topology hiding is decided here: a message leaving on a leg
 * carries only that leg's Call-ID, tags, our Via and Contact, and the headers of an
 * explicit allow-list; everything else (User-Agent, Server, unknown X- headers, Via and
 * Record-Route of the far side) stays behind.
 */
#include <string.h>

#include "base/addr.h"
#include "base/assert.h"
#include "call/b2bua_int.h"
#include "call/privacy.h"
#include "call/reply.h"
#include "call/txn.h"
#include "sip/msg.h"

/* Headers that may cross from one leg to the other (RFC 3261 end-to-end headers). */
static const enum sip_hdr_id relayed_request_headers[] = {
    SIP_HDR_CONTENT_TYPE,
    SIP_HDR_CONTENT_DISPOSITION,
    SIP_HDR_CONTENT_ENCODING,
    SIP_HDR_CONTENT_LANGUAGE,
    SIP_HDR_ACCEPT,
    SIP_HDR_ACCEPT_ENCODING,
    SIP_HDR_ACCEPT_LANGUAGE,
    SIP_HDR_ALLOW,
    SIP_HDR_SUPPORTED,
    SIP_HDR_REQUIRE,
    SIP_HDR_SESSION_EXPIRES,
    SIP_HDR_MIN_SE,
    SIP_HDR_PRIVACY,
    SIP_HDR_SUBJECT,
    SIP_HDR_PRIORITY,
    SIP_HDR_EVENT,
    SIP_HDR_ALLOW_EVENTS,
    SIP_HDR_SUBSCRIPTION_STATE,
    SIP_HDR_RSEQ,
    SIP_HDR_REASON,
    SIP_HDR_MIME_VERSION,
    SIP_HDR_P_ASSERTED_IDENTITY,
    SIP_HDR_IDENTITY,
};

static const enum sip_hdr_id relayed_response_headers[] = {
    SIP_HDR_CONTENT_TYPE,     SIP_HDR_CONTENT_DISPOSITION,
    SIP_HDR_CONTENT_ENCODING, SIP_HDR_CONTENT_LANGUAGE,
    SIP_HDR_ACCEPT,           SIP_HDR_ALLOW,
    SIP_HDR_SUPPORTED,        SIP_HDR_REQUIRE,
    SIP_HDR_UNSUPPORTED,      SIP_HDR_RSEQ,
    SIP_HDR_SESSION_EXPIRES,  SIP_HDR_MIN_SE,
    SIP_HDR_RETRY_AFTER,      SIP_HDR_REASON,
    SIP_HDR_PRIVACY,          SIP_HDR_ALLOW_EVENTS,
    SIP_HDR_MIME_VERSION,     SIP_HDR_P_ASSERTED_IDENTITY,
};

static const char *transport_token(enum sw_transport t)
{
    switch (t) {
    case SW_TRANSPORT_TCP:
        return "TCP";
    case SW_TRANSPORT_TLS:
        return "TLS";
    case SW_TRANSPORT_WS:
        return "WS";
    case SW_TRANSPORT_WSS:
        return "WSS";
    case SW_TRANSPORT_UDP:
        break;
    }
    return "UDP";
}

const struct b2bua_local *b2bua_local_for(const struct b2bua *b, size_t listener,
                                          enum sw_transport transport)
{
    if (listener < b->settings.local_count) {
        return &b->settings.locals[listener];
    }
    for (size_t i = 0; i < b->settings.local_count; i++) {
        if (b->settings.locals[i].transport == transport) {
            return &b->settings.locals[i];
        }
    }
    return b->settings.local_count > 0 ? &b->settings.locals[0] : NULL;
}

static bool is_hidden(const struct b2bua *b, struct sv name)
{
    for (size_t i = 0; i < b->settings.hide_header_count; i++) {
        if (sv_eq_nocase(name, b->settings.hide_headers[i])) {
            return true;
        }
    }
    return false;
}

/* How the headers of a message are copied onto the other leg. */
struct copy_rules {
    bool is_towards_provider; /* hide_headers and the privacy rules apply */
    bool is_identity_skipped; /* P-Asserted-Identity and Identity: the policy sets its own */
    bool is_body_dropped;     /* the body stays behind, and so do the headers describing it */
};

static bool is_body_header(enum sip_hdr_id id)
{
    return id == SIP_HDR_CONTENT_TYPE || id == SIP_HDR_CONTENT_DISPOSITION ||
           id == SIP_HDR_CONTENT_ENCODING || id == SIP_HDR_CONTENT_LANGUAGE ||
           id == SIP_HDR_MIME_VERSION;
}

static bool is_skipped(const struct copy_rules *rules, enum sip_hdr_id id)
{
    bool is_identity = id == SIP_HDR_P_ASSERTED_IDENTITY || id == SIP_HDR_IDENTITY;
    return (rules->is_identity_skipped && is_identity) ||
           (rules->is_body_dropped && is_body_header(id));
}

/*
 * The message text is appended piece by piece rather than formatted: the builders made
 * some seventy sw_buf_fmt calls per call, about 21,000 instructions (callgrind, #13). Text
 * from the wire goes through sw_buf_text, so the bytes are those "%.*s" wrote.
 */
static void put_line(struct sw_buf *out, const char *name, struct sv value)
{
    sw_buf_str(out, name);
    sw_buf_text(out, value);
    sw_buf_str(out, "\r\n");
}

static void put_header(struct sw_buf *out, struct sv name, struct sv value)
{
    sw_buf_text(out, name);
    sw_buf_str(out, ": ");
    sw_buf_text(out, value);
    sw_buf_str(out, "\r\n");
}

/* "From: <from>\r\nTo: <to>\r\nCall-ID: <id>\r\nCSeq: <seq> <method>\r\n" */
static void put_dialog(struct sw_buf *out, struct sv from, struct sv to, struct sv call_id,
                       uint32_t cseq, const char *method)
{
    put_line(out, "From: ", from);
    put_line(out, "To: ", to);
    put_line(out, "Call-ID: ", call_id);
    sw_buf_str(out, "CSeq: ");
    sw_buf_u64(out, cseq);
    sw_buf_char(out, ' ');
    sw_buf_str(out, method);
    sw_buf_str(out, "\r\n");
}

/* "<method> <uri> SIP/2.0\r\n" */
static void put_request_line(struct sw_buf *out, const char *method, struct sv uri)
{
    sw_buf_str(out, method);
    sw_buf_char(out, ' ');
    sw_buf_text(out, uri);
    sw_buf_str(out, " SIP/2.0\r\n");
}

static void put_host_port(struct sw_buf *out, const struct b2bua_local *local)
{
    SW_ASSERT(local != NULL); /* b2bua_local_for: the gateway has a listener */
    sw_buf_str(out, local->host);
    sw_buf_char(out, ':');
    sw_buf_u64(out, local->port);
}

static void copy_allowed(struct b2bua *b, struct sw_buf *out, struct sip_msg *source,
                         const enum sip_hdr_id *ids, size_t count, const struct copy_rules *rules)
{
    for (size_t i = 0; i < count; i++) {
        if (is_skipped(rules, ids[i])) {
            continue;
        }
        for (const struct sip_hdr *h = sip_msg_find(source, ids[i], NULL); h != NULL;
             h = sip_msg_find(source, ids[i], h)) {
            struct sv name = sip_hdr_name(ids[i]);
            /* Towards the provider: hidden names go, and Reason, Retry-After and Subject
             * leave cleaned of the PBX's text (privacy.h) or not at all. */
            if (rules->is_towards_provider &&
                (is_hidden(b, name) ||
                 privacy_header_write(&b->settings.privacy, out, ids[i], h->value))) {
                continue;
            }
            put_header(out, name, h->value);
        }
    }
}

static void put_via(struct sw_buf *out, const struct b2bua_local *local,
                    enum sw_transport transport, struct sv branch)
{
    sw_buf_str(out, "Via: SIP/2.0/");
    sw_buf_str(out, transport_token(transport));
    sw_buf_char(out, ' ');
    put_host_port(out, local);
    sw_buf_str(out, ";branch=");
    sw_buf_text(out, branch);
    sw_buf_str(out, ";rport\r\n");
}

static void put_contact(struct sw_buf *out, const struct b2bua_local *local,
                        enum sw_transport transport)
{
    sw_buf_str(out, "Contact: <sip:sw@");
    put_host_port(out, local);
    if (transport != SW_TRANSPORT_UDP) {
        sw_buf_str(out, transport == SW_TRANSPORT_TLS ? ";transport=tls" : ";transport=tcp");
    }
    sw_buf_str(out, ">\r\n");
}

static void put_body(struct sw_buf *out, struct sip_msg *source)
{
    size_t len = source == NULL ? 0 : source->body.len;
    sw_buf_str(out, "Content-Length: ");
    sw_buf_u64(out, len);
    sw_buf_str(out, "\r\n\r\n");
    if (len > 0) {
        sw_buf_sv(out, source->body);
    }
}

static struct sv finish(struct sw_buf *out)
{
    return out->is_overflow ? SV_NULL : sw_buf_view(out);
}

static void put_max_forwards(struct sw_buf *out, uint32_t max_forwards)
{
    sw_buf_str(out, "Max-Forwards: ");
    sw_buf_u64(out, max_forwards);
    sw_buf_str(out, "\r\n");
}

static uint32_t next_max_forwards(struct sip_msg *source)
{
    uint32_t mf = 70;
    if (source != NULL && sip_msg_max_forwards(source, &mf) == 0 && mf > 0) {
        return mf - 1 < 70 ? mf - 1 : 70;
    }
    return 70;
}

struct sv b2bua_build_b_invite(struct b2bua *b, struct call *call, struct sip_msg *invite,
                               struct sv branch)
{
    const struct b2bua_route *route = &call->route;
    const struct leg *leg = &call->b;
    const struct b2bua_local *local = b2bua_local_for(b, leg->listener, leg->dest.transport);
    struct sw_buf out;
    sw_buf_init(&out, b->out, B2BUA_OUT_CAP);
    put_request_line(&out, "INVITE", FSTR_SV(leg->remote_target));
    put_via(&out, local, leg->dest.transport, branch);
    put_max_forwards(&out, next_max_forwards(invite));
    put_dialog(&out, FSTR_SV(leg->local_hdr), FSTR_SV(leg->remote_hdr), FSTR_SV(leg->call_id),
               leg->local_cseq, "INVITE");
    put_contact(&out, local, leg->dest.transport);
    if (b->settings.user_agent.len > 0) {
        put_line(&out, "User-Agent: ", b->settings.user_agent);
    }
    /* A present asserted_id replaces every received identity header; an empty one sends
     * none (the policy found nothing it may assert). */
    if (sv_is_present(route->asserted_id) && route->asserted_id.len > 0) {
        put_line(&out, "P-Asserted-Identity: ", route->asserted_id);
    }
    const struct copy_rules rules = {
        .is_towards_provider = route->is_towards_provider,
        .is_identity_skipped = sv_is_present(route->asserted_id),
    };
    copy_allowed(b, &out, invite, relayed_request_headers,
                 sizeof(relayed_request_headers) / sizeof(relayed_request_headers[0]), &rules);
    sw_buf_sv(&out, route->extra_headers);
    sw_buf_sv(&out, route->origin_header);
    put_body(&out, invite);
    return finish(&out);
}

static void put_rack(struct sw_buf *out, const struct leg *leg, struct sip_msg *source)
{
    const struct sip_hdr *rack = sip_msg_find(source, SIP_HDR_RACK, NULL);
    if (rack == NULL) {
        return;
    }
    /* RFC 3262 §7.2: RAck = rseq cseq method; the CSeq is the INVITE's on this leg. */
    struct sv cur = sip_lws_trim(rack->value);
    struct sv rseq;
    sv_take_until(&cur, ' ', &rseq);
    sw_buf_str(out, "RAck: ");
    sw_buf_text(out, rseq);
    sw_buf_char(out, ' ');
    sw_buf_u64(out, leg->invite_cseq);
    sw_buf_str(out, " INVITE\r\n");
}

/* NOLINTNEXTLINE(readability-function-size): a message is built from that many parts. */
struct sv b2bua_build_request(struct b2bua *b, struct call *call, const struct leg *leg,
                              enum sip_method method, uint32_t cseq, struct sv branch,
                              struct sip_msg *source)
{
    const struct b2bua_local *local = b2bua_local_for(b, leg->listener, leg->dest.transport);
    bool towards_provider = call->route.is_towards_provider == !leg->is_a;
    struct sw_buf out;
    sw_buf_init(&out, b->out, B2BUA_OUT_CAP);
    const char *name = sip_method_name(method);
    put_request_line(&out, name, FSTR_SV(leg->remote_target));
    put_via(&out, local, leg->dest.transport, branch);
    put_max_forwards(&out, next_max_forwards(source));
    put_dialog(&out, FSTR_SV(leg->local_hdr), FSTR_SV(leg->remote_hdr), FSTR_SV(leg->call_id), cseq,
               name);
    if (leg->routes.len > 0) {
        put_line(&out, "Route: ", FSTR_SV(leg->routes));
    }
    if (method == SIP_METHOD_INVITE || method == SIP_METHOD_UPDATE ||
        method == SIP_METHOD_SUBSCRIBE || method == SIP_METHOD_NOTIFY) {
        put_contact(&out, local, leg->dest.transport);
    }
    if (b->settings.user_agent.len > 0) {
        put_line(&out, "User-Agent: ", b->settings.user_agent);
    }
    if (source != NULL) {
        const struct copy_rules rules = { .is_towards_provider = towards_provider };
        copy_allowed(b, &out, source, relayed_request_headers,
                     sizeof(relayed_request_headers) / sizeof(relayed_request_headers[0]), &rules);
        put_rack(&out, leg, source);
    }
    put_body(&out, source);
    return finish(&out);
}

/* NOLINTNEXTLINE(readability-function-size): a message is built from that many parts. */
struct sv b2bua_build_response(struct b2bua *b, struct call *call, const struct leg *leg,
                               const struct req_copy *req, uint16_t status, struct sv reason,
                               struct sip_msg *source, bool with_contact)
{
    const struct b2bua_local *local = b2bua_local_for(b, leg->listener, leg->dest.transport);
    bool towards_provider = call->route.is_towards_provider == !leg->is_a;
    const struct privacy_rules *privacy = &b->settings.privacy;
    if (towards_provider && privacy->is_phrase_standard) {
        reason = sv_from_cstr(privacy_reason_phrase(status)); /* never the PBX's own text */
    }
    const struct copy_rules rules = {
        .is_towards_provider = towards_provider,
        .is_body_dropped = towards_provider && status >= 300 && privacy->is_error_body_dropped,
    };
    struct sw_buf out;
    sw_buf_init(&out, b->out, B2BUA_OUT_CAP);
    sw_buf_str(&out, "SIP/2.0 ");
    sw_buf_u64(&out, status);
    sw_buf_char(&out, ' ');
    sw_buf_text(&out, reason);
    sw_buf_str(&out, "\r\n");
    sw_buf_put(&out, req->vias, req->vias_len);
    put_line(&out, "From: ", FSTR_SV(req->from));
    sw_buf_str(&out, "To: ");
    sw_buf_text(&out, FSTR_SV(req->to));
    if (!req->has_to_tag && status > 100) {
        sw_buf_str(&out, ";tag=");
        sw_buf_text(&out, FSTR_SV(leg->local_tag));
    }
    sw_buf_str(&out, "\r\n");
    put_line(&out, "Call-ID: ", FSTR_SV(req->call_id));
    sw_buf_str(&out, "CSeq: ");
    sw_buf_u64(&out, req->cseq);
    sw_buf_char(&out, ' ');
    sw_buf_str(&out, req->method);
    sw_buf_str(&out, "\r\n");
    if (with_contact) {
        put_contact(&out, local, leg->dest.transport);
    }
    if (b->settings.user_agent.len > 0) {
        put_line(&out, "Server: ", b->settings.user_agent);
    }
    if (source != NULL) {
        copy_allowed(b, &out, source, relayed_response_headers,
                     sizeof(relayed_response_headers) / sizeof(relayed_response_headers[0]),
                     &rules);
    }
    put_body(&out, rules.is_body_dropped ? NULL : source);
    return finish(&out);
}

struct sv b2bua_build_ack(struct b2bua *b, const struct leg *leg, uint32_t cseq, struct sv branch,
                          struct sip_msg *source)
{
    const struct b2bua_local *local = b2bua_local_for(b, leg->listener, leg->dest.transport);
    struct sw_buf out;
    sw_buf_init(&out, b->out, B2BUA_OUT_CAP);
    put_request_line(&out, "ACK", FSTR_SV(leg->remote_target));
    put_via(&out, local, leg->dest.transport, branch);
    sw_buf_str(&out, "Max-Forwards: 70\r\n");
    put_dialog(&out, FSTR_SV(leg->local_hdr), FSTR_SV(leg->remote_hdr), FSTR_SV(leg->call_id), cseq,
               "ACK");
    if (leg->routes.len > 0) {
        put_line(&out, "Route: ", FSTR_SV(leg->routes));
    }
    if (source != NULL && source->body.len > 0) {
        const struct sip_hdr *ctype = sip_msg_find(source, SIP_HDR_CONTENT_TYPE, NULL);
        if (ctype != NULL) {
            put_line(&out, "Content-Type: ", ctype->value);
        }
    }
    put_body(&out, source);
    return finish(&out);
}

/* RFC 3261 §9.1: CANCEL copies Request-URI, Call-ID, To, From, CSeq number and the top Via
 * of the INVITE it cancels, and its Route headers. */
struct sv b2bua_build_cancel(struct b2bua *b, struct txn *invite)
{
    struct sip_limits limits;
    sip_limits_default(&limits);
    struct sip_msg msg;
    struct sip_err err = { 0 };
    arena_reset(b->scratch);
    if (sip_msg_parse(txn_request(invite), false, &limits, b->scratch, &msg, &err) != 0) {
        return SV_NULL;
    }
    const struct sip_hdr *via = sip_msg_find(&msg, SIP_HDR_VIA, NULL);
    const struct sip_hdr *from = sip_msg_find(&msg, SIP_HDR_FROM, NULL);
    const struct sip_hdr *to = sip_msg_find(&msg, SIP_HDR_TO, NULL);
    const struct sip_cseq *cseq = sip_msg_cseq(&msg, &err);
    if (via == NULL || from == NULL || to == NULL || cseq == NULL) {
        return SV_NULL;
    }
    struct sw_buf out;
    sw_buf_init(&out, b->out, B2BUA_OUT_CAP);
    put_request_line(&out, "CANCEL", msg.ruri);
    put_line(&out, "Via: ", via->value);
    sw_buf_str(&out, "Max-Forwards: 70\r\n");
    put_dialog(&out, from->value, to->value, sip_msg_call_id(&msg), cseq->seq, "CANCEL");
    for (const struct sip_hdr *r = sip_msg_find(&msg, SIP_HDR_ROUTE, NULL); r != NULL;
         r = sip_msg_find(&msg, SIP_HDR_ROUTE, r)) {
        put_line(&out, "Route: ", r->value);
    }
    sw_buf_str(&out, "Content-Length: 0\r\n\r\n");
    return finish(&out);
}

bool b2bua_req_copy_init(struct req_copy *copy, struct sip_msg *request,
                         const struct sockaddr_storage *src)
{
    struct sw_buf vias;
    sw_buf_init(&vias, copy->vias, sizeof(copy->vias));
    bool is_top = true;
    for (const struct sip_hdr *h = sip_msg_find(request, SIP_HDR_VIA, NULL); h != NULL;
         h = sip_msg_find(request, SIP_HDR_VIA, h)) {
        if (is_top) {
            reply_put_top_via(&vias, h->value, src);
            is_top = false;
        } else {
            put_line(&vias, "Via: ", h->value);
        }
    }
    copy->vias_len = vias.len;
    const struct sip_hdr *from = sip_msg_find(request, SIP_HDR_FROM, NULL);
    const struct sip_hdr *to = sip_msg_find(request, SIP_HDR_TO, NULL);
    struct sip_err err = { 0 };
    const struct sip_cseq *cseq = sip_msg_cseq(request, &err);
    if (vias.is_overflow || from == NULL || to == NULL || cseq == NULL) {
        return false;
    }
    copy->cseq = cseq->seq;
    const struct sip_nameaddr *to_parsed = sip_msg_to(request, &err);
    copy->has_to_tag = to_parsed != NULL && sv_is_present(to_parsed->tag);
    if (!sv_copy_cstr(cseq->method_name, copy->method, sizeof(copy->method))) {
        return false;
    }
    return FSTR_SET(copy->from, from->value) && FSTR_SET(copy->to, to->value) &&
           FSTR_SET(copy->call_id, sip_msg_call_id(request));
}

struct sv b2bua_build_reauth_invite(struct b2bua *b, const struct leg *leg, struct sv old,
                                    struct sv branch, uint32_t cseq, struct sv auth_line)
{
    struct sip_limits limits;
    sip_limits_default(&limits);
    struct sip_msg msg;
    struct sip_err err = { 0 };
    arena_reset(b->scratch);
    if (sip_msg_parse(old, false, &limits, b->scratch, &msg, &err) != 0) {
        return SV_NULL;
    }
    const struct b2bua_local *local = b2bua_local_for(b, leg->listener, leg->dest.transport);
    struct sw_buf out;
    sw_buf_init(&out, b->out, B2BUA_OUT_CAP);
    put_request_line(&out, "INVITE", msg.ruri);
    for (size_t i = 0; i < msg.hdr_count; i++) {
        const struct sip_hdr *h = &msg.hdrs[i];
        switch (h->id) {
        case SIP_HDR_VIA:
            put_via(&out, local, leg->dest.transport, branch);
            break;
        case SIP_HDR_CSEQ:
            sw_buf_str(&out, "CSeq: ");
            sw_buf_u64(&out, cseq);
            sw_buf_str(&out, " INVITE\r\n");
            break;
        case SIP_HDR_AUTHORIZATION:
        case SIP_HDR_PROXY_AUTHORIZATION:
        case SIP_HDR_CONTENT_LENGTH:
            break;
        default:
            put_header(&out, h->name, h->value);
            break;
        }
    }
    sw_buf_sv(&out, auth_line);
    put_body(&out, &msg);
    return finish(&out);
}
