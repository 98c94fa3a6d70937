/*
 * The two legs of a call: leg A as the caller's INVITE made it, leg B as the gateway writes
 * it towards the route's target, and what each learns from the other side's messages.
 */
#include "base/addr.h"
#include "base/buf.h"
#include "base/random.h"
#include "call/b2bua.h"
#include "call/b2bua_int.h"
#include "sip/msg.h"

bool b2bua_same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    struct sw_ip ia;
    struct sw_ip ib;
    return sw_ip_from_sockaddr(a, &ia) && sw_ip_from_sockaddr(b, &ib) && sw_ip_eq(&ia, &ib);
}

/* ---- legs ---- */

struct sv b2bua_random_tag(char *buf, size_t digits)
{
    sw_random_hex(buf, digits);
    return sv_make(buf, digits);
}

static bool leg_routes_from(struct leg *leg, struct sip_msg *msg, bool reverse)
{
    struct sv values[16];
    size_t count = 0;
    for (const struct sip_hdr *h = sip_msg_find(msg, SIP_HDR_RECORD_ROUTE, NULL);
         h != NULL && count < 16; h = sip_msg_find(msg, SIP_HDR_RECORD_ROUTE, h)) {
        values[count++] = h->value;
    }
    struct sw_buf out;
    sw_buf_init(&out, leg->routes.s, sizeof(leg->routes.s) - 1);
    for (size_t i = 0; i < count; i++) {
        struct sv v = values[reverse ? count - 1 - i : i];
        if (i > 0) {
            sw_buf_str(&out, ", ");
        }
        sw_buf_sv(&out, v);
    }
    leg->routes.len = out.is_overflow ? 0 : out.len;
    leg->routes.s[leg->routes.len] = '\0';
    return !out.is_overflow;
}

bool b2bua_leg_learn_target(struct leg *leg, struct sip_msg *msg)
{
    struct sip_contact contact;
    size_t count = 0;
    bool is_star = false;
    struct sip_err err = { 0 };
    if (sip_msg_contacts(msg, &contact, 1, &count, &is_star, &err) != 0 || count == 0) {
        return count == 0 && !is_star;
    }
    return FSTR_SET(leg->remote_target, contact.addr.uri_text);
}

/*
 * A fixed string written in place by appends (fstr_open, then fstr_close), instead of
 * formatted on the stack and copied: leg B's four values took five sw_snprintf calls, one
 * of them through vsnprintf, per call (#13). Text from the wire goes through sw_buf_text,
 * so the values are those "%.*s" wrote.
 */
#define FSTR_OPEN(out, f) sw_buf_init((out), (f).s, sizeof((f).s) - 1)

/* Ends the value `out` wrote into `s`: false (and an empty value) when it did not fit. */
static bool fstr_close(struct sw_buf *out, size_t *len)
{
    *len = out->is_overflow ? 0 : out->len;
    out->ptr[*len] = '\0';
    return !out->is_overflow;
}

bool b2bua_leg_a_init(struct call *call, struct sip_msg *invite, const struct net_dest *src)
{
    struct leg *leg = &call->a;
    struct sip_err err = { 0 };
    const struct sip_nameaddr *from = sip_msg_from(invite, &err);
    const struct sip_hdr *to = sip_msg_find(invite, SIP_HDR_TO, NULL);
    const struct sip_hdr *from_hdr = sip_msg_find(invite, SIP_HDR_FROM, NULL);
    if (from == NULL || to == NULL || from_hdr == NULL) {
        return false;
    }
    char tag[16];
    struct sv local_tag = b2bua_random_tag(tag, sizeof(tag));
    struct sw_buf local_hdr;
    FSTR_OPEN(&local_hdr, leg->local_hdr);
    sw_buf_text(&local_hdr, to->value);
    sw_buf_str(&local_hdr, ";tag=");
    sw_buf_sv(&local_hdr, local_tag);
    leg->is_a = true;
    leg->dest = *src;
    leg->listener = src->listener;
    leg->local_cseq = 0;
    leg->invite_cseq = call->a_invite_req.cseq;
    return fstr_close(&local_hdr, &leg->local_hdr.len) &&
           FSTR_SET(leg->call_id, sip_msg_call_id(invite)) && FSTR_SET(leg->local_tag, local_tag) &&
           FSTR_SET(leg->remote_tag, from->tag) && FSTR_SET(leg->remote_hdr, from_hdr->value) &&
           b2bua_leg_learn_target(leg, invite) && leg_routes_from(leg, invite, false);
}

/* "sip:<user>@<host>" */
static void put_sip_uri(struct sw_buf *out, struct sv user, struct sv host)
{
    sw_buf_str(out, "sip:");
    sw_buf_text(out, user);
    sw_buf_char(out, '@');
    sw_buf_text(out, host);
}

/*
 * Leg B's From: display name, caller ID, verstat and our tag. RFC 8588 §4 (after RFC 8224
 * §6.2.2): verstat is a parameter of the telephone number in the user part, so it goes
 * before the '@': sip:+15551230000;verstat=TN-Validation-Passed@host.
 */
static bool leg_b_from(struct leg *leg, const struct b2bua_route *route, struct sv tag)
{
    struct sw_buf out;
    FSTR_OPEN(&out, leg->local_hdr);
    if (sv_is_present(route->from_display) && route->from_display.len > 0) {
        sw_buf_char(&out, '"');
        sw_buf_text(&out, route->from_display);
        sw_buf_str(&out, "\" ");
    }
    sw_buf_str(&out, "<sip:");
    sw_buf_text(&out, route->from_user);
    if (sv_is_present(route->verstat) && route->verstat.len < 80) {
        sw_buf_str(&out, ";verstat=");
        sw_buf_text(&out, route->verstat);
    }
    sw_buf_char(&out, '@');
    sw_buf_text(&out, route->from_host);
    sw_buf_str(&out, ">;tag=");
    sw_buf_sv(&out, tag);
    return fstr_close(&out, &leg->local_hdr.len);
}

bool b2bua_leg_b_init(struct b2bua *b, struct call *call, const struct b2bua_route *route)
{
    struct leg *leg = &call->b;
    /* "sw", the worker's index in two hex digits, then 30 random ones. */
    static const char hex[] = "0123456789abcdef";
    char id[2 + 2 + 30];
    id[0] = 's';
    id[1] = 'w';
    id[2] = hex[(b->index >> 4) & 0xfu];
    id[3] = hex[b->index & 0xfu];
    sw_random_hex(id + 4, 30);
    char tag[16];
    struct sv local_tag = b2bua_random_tag(tag, sizeof(tag));
    struct sw_buf target;
    FSTR_OPEN(&target, leg->remote_target);
    if (sv_is_present(route->request_uri)) {
        sw_buf_text(&target, route->request_uri);
    } else {
        put_sip_uri(&target, route->ruri_user, route->target_host);
    }
    struct sw_buf to;
    FSTR_OPEN(&to, leg->remote_hdr);
    sw_buf_char(&to, '<');
    put_sip_uri(&to, route->ruri_user, route->target_host);
    sw_buf_char(&to, '>');
    leg->is_a = false;
    leg->dest = route->dest;
    leg->listener = route->dest.listener;
    leg->local_cseq = 1;
    leg->invite_cseq = 1;
    bool is_target_set = fstr_close(&target, &leg->remote_target.len) && target.len > 0;
    bool is_to_set = fstr_close(&to, &leg->remote_hdr.len);
    return is_target_set && is_to_set && leg_b_from(leg, route, local_tag) &&
           FSTR_SET(leg->call_id, sv_make(id, sizeof(id))) && FSTR_SET(leg->local_tag, local_tag);
}

/* Leg B learns its peer from a response that carries a To tag (RFC 3261 §12.1.2). */
void b2bua_leg_b_learn(struct call *call, struct sip_msg *response)
{
    struct sip_err err = { 0 };
    const struct sip_nameaddr *to = sip_msg_to(response, &err);
    const struct sip_hdr *to_hdr = sip_msg_find(response, SIP_HDR_TO, NULL);
    if (to == NULL || to_hdr == NULL || !sv_is_present(to->tag)) {
        return;
    }
    struct leg *leg = &call->b;
    bool is_first = leg->remote_tag.len == 0;
    if (!is_first && !sv_eq(FSTR_SV(leg->remote_tag), to->tag)) {
        return; /* another fork's early dialog: we follow the first one */
    }
    if (is_first) {
        (void)FSTR_SET(leg->remote_tag, to->tag);
        (void)FSTR_SET(leg->remote_hdr, to_hdr->value);
    }
    (void)b2bua_leg_learn_target(leg, response);
    (void)leg_routes_from(leg, response, true);
}
