/*
 * The two legs of a call: leg A as the caller's INVITE made it, leg B as the gateway writes
 * it towards the route's target, and what each learns from the other side's messages.
 */
#include <stdio.h>

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
    char local_hdr[LEG_HDR_CAP];
    int n = sw_snprintf(local_hdr, sizeof(local_hdr), SV_FMT ";tag=" SV_FMT, SV_ARG(to->value),
                        SV_ARG(local_tag));
    leg->is_a = true;
    leg->dest = *src;
    leg->listener = src->listener;
    leg->local_cseq = 0;
    leg->invite_cseq = call->a_invite_req.cseq;
    return n > 0 && (size_t)n < sizeof(local_hdr) &&
           FSTR_SET(leg->call_id, sip_msg_call_id(invite)) && FSTR_SET(leg->local_tag, local_tag) &&
           FSTR_SET(leg->remote_tag, from->tag) && FSTR_SET(leg->remote_hdr, from_hdr->value) &&
           FSTR_SET(leg->local_hdr, sv_make(local_hdr, (size_t)n)) &&
           b2bua_leg_learn_target(leg, invite) && leg_routes_from(leg, invite, false);
}

/*
 * Leg B's From: display name, caller ID, verstat and our tag. RFC 8588 §4 (after RFC 8224
 * §6.2.2): verstat is a parameter of the telephone number in the user part, so it goes
 * before the '@': sip:+15551230000;verstat=TN-Validation-Passed@host.
 */
static int format_from(char *out, size_t cap, const struct b2bua_route *route, struct sv tag)
{
    char verstat[96] = "";
    if (sv_is_present(route->verstat) && route->verstat.len < 80) {
        (void)sw_snprintf(verstat, sizeof(verstat), ";verstat=" SV_FMT, SV_ARG(route->verstat));
    }
    if (sv_is_present(route->from_display) && route->from_display.len > 0) {
        return sw_snprintf(out, cap, "\"" SV_FMT "\" <sip:" SV_FMT "%s@" SV_FMT ">;tag=" SV_FMT,
                           SV_ARG(route->from_display), SV_ARG(route->from_user), verstat,
                           SV_ARG(route->from_host), SV_ARG(tag));
    }
    return sw_snprintf(out, cap, "<sip:" SV_FMT "%s@" SV_FMT ">;tag=" SV_FMT,
                       SV_ARG(route->from_user), verstat, SV_ARG(route->from_host), SV_ARG(tag));
}

bool b2bua_leg_b_init(struct b2bua *b, struct call *call, const struct b2bua_route *route)
{
    struct leg *leg = &call->b;
    char id[48];
    int n = sw_snprintf(id, sizeof(id), "sw%02x", b->index & 0xffu);
    sw_random_hex(id + n, 30);
    char tag[16];
    struct sv local_tag = b2bua_random_tag(tag, sizeof(tag));
    char from[LEG_HDR_CAP];
    int from_len = format_from(from, sizeof(from), route, local_tag);
    char target[LEG_HDR_CAP];
    int target_len = sv_is_present(route->request_uri)
                         ? sw_snprintf(target, sizeof(target), SV_FMT, SV_ARG(route->request_uri))
                         : sw_snprintf(target, sizeof(target), "sip:" SV_FMT "@" SV_FMT,
                                       SV_ARG(route->ruri_user), SV_ARG(route->target_host));
    char to[LEG_HDR_CAP];
    int to_len = sw_snprintf(to, sizeof(to), "<sip:" SV_FMT "@" SV_FMT ">",
                             SV_ARG(route->ruri_user), SV_ARG(route->target_host));
    leg->is_a = false;
    leg->dest = route->dest;
    leg->listener = route->dest.listener;
    leg->local_cseq = 1;
    leg->invite_cseq = 1;
    return from_len > 0 && (size_t)from_len < sizeof(from) && target_len > 0 &&
           (size_t)target_len < sizeof(target) && to_len > 0 && (size_t)to_len < sizeof(to) &&
           FSTR_SET(leg->call_id, sv_make(id, (size_t)n + 30)) &&
           FSTR_SET(leg->local_tag, local_tag) &&
           FSTR_SET(leg->local_hdr, sv_make(from, (size_t)from_len)) &&
           FSTR_SET(leg->remote_hdr, sv_make(to, (size_t)to_len)) &&
           FSTR_SET(leg->remote_target, sv_make(target, (size_t)target_len));
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
