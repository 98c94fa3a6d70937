/*
 * The call's record (base/callrec.h): filled as the call goes (setup, first ring, answer,
 * end) and sent with each call event, so that obs/ writes one call detail record per call
 * without knowing the B2BUA. One worker thread, like the call.
 */
#include <stdio.h>
#include <string.h>

#include "base/addr.h"
#include "base/buf.h"
#include "base/callrec.h"
#include "base/hash.h"
#include "base/time.h"
#include "call/b2bua_int.h"
#include "number/spend.h"
#include "sip/msg.h"

static void set_sv(char *field, size_t cap, struct sv value)
{
    sw_event_set(field, cap, sv_is_present(value) ? value : SV(""));
}

#define REC_SET_SV(field, value) set_sv((field), sizeof(field), (value))

static const char *party_name(enum call_party party)
{
    switch (party) {
    case CALL_PARTY_PBX:
        return "pbx";
    case CALL_PARTY_TRUNK:
        return "trunk";
    case CALL_PARTY_ACCOUNT:
        return "account";
    }
    return "?";
}

static struct sv uri_user(const struct sip_uri *uri)
{
    return uri->scheme == SIP_URI_TEL ? uri->tel_number : uri->user;
}

/* What leg A's INVITE and the route say, for a call placed or refused. */
static void record_invite(struct call_record *rec, struct sip_msg *invite,
                          const struct b2bua_route *route)
{
    rec->policy = route->policy;
    /* Appended, not formatted (#13): "account-account", the longest, fits. */
    char direction[sizeof(rec->direction)];
    struct sw_buf text;
    sw_buf_init(&text, direction, sizeof(direction) - 1);
    sw_buf_str(&text, party_name(route->from_party));
    sw_buf_char(&text, '-');
    sw_buf_str(&text, party_name(route->to_party));
    direction[text.is_overflow ? 0 : text.len] = '\0';
    CALLREC_SET(rec->direction, direction);
    const struct sip_hdr *agent = sip_msg_find(invite, SIP_HDR_USER_AGENT, NULL);
    if (agent != NULL) {
        REC_SET_SV(rec->user_agent, agent->value);
    }
    struct sip_err err = { 0 };
    const struct sip_nameaddr *from = sip_msg_from(invite, &err);
    if (from != NULL) {
        REC_SET_SV(rec->cid_received, uri_user(&from->uri));
    }
    const struct sip_uri *ruri = sip_msg_ruri(invite, &err);
    if (ruri != NULL) {
        REC_SET_SV(rec->dialled, uri_user(ruri));
    }
    rec->setup_us = sw_wall_us();
}

void b2bua_record_start(struct call *call, struct sip_msg *invite, const struct b2bua_route *route)
{
    struct call_record *rec = &call->record;
    memset(rec, 0, sizeof(*rec));
    record_invite(rec, invite, route);
    REC_SET_SV(rec->uniqueid, FSTR_SV(call->b.call_id));
    REC_SET_SV(rec->b_call_id, FSTR_SV(call->b.call_id));
    REC_SET_SV(rec->a_call_id, FSTR_SV(call->a.call_id));
    sw_sockaddr_format(&call->a.dest.addr, rec->src_addr, sizeof(rec->src_addr));
    sw_sockaddr_format(&route->dest.addr, rec->dst_addr, sizeof(rec->dst_addr));
    rec->transport = call->a.dest.transport;
    REC_SET_SV(rec->cid_sent, route->from_user);
    REC_SET_SV(rec->cid_name, route->from_display);
    REC_SET_SV(rec->dialled_sent, route->ruri_user);
    rec->state = CALLREC_STATE_OPEN;
}

void b2bua_record_refused(struct call_record *rec, struct sip_msg *invite,
                          const struct net_dest *src, const struct b2bua_route *route,
                          uint16_t status)
{
    memset(rec, 0, sizeof(*rec));
    record_invite(rec, invite, route);
    struct sv call_id = sip_msg_call_id(invite);
    REC_SET_SV(rec->a_call_id, call_id);
    /* No leg B: a name of its own, the same for a retransmission of the INVITE. */
    char id[sizeof(rec->uniqueid)];
    (void)sw_snprintf(id, sizeof(id), "refused-%016llx",
                      (unsigned long long)sw_hash_sv(sv_is_present(call_id) ? call_id : SV("")));
    CALLREC_SET(rec->uniqueid, id);
    sw_sockaddr_format(&src->addr, rec->src_addr, sizeof(rec->src_addr));
    rec->transport = src->transport;
    rec->end_us = rec->setup_us;
    rec->final_code = status;
    rec->hangup_side = CALLREC_SIDE_GATEWAY;
    rec->state = CALLREC_STATE_COMPLETE;
    CALLREC_SET(rec->end_reason, "refused");
}

void b2bua_record_ring(struct call *call, uint16_t status)
{
    if (status > 100 && call->record.ring_us == 0) {
        call->record.ring_us = sw_wall_us();
    }
}

void b2bua_record_answer(struct call *call)
{
    call->record.answer_us = call->answer_us;
    call->record.final_code = 200;
}

/* Who ended the call, from the reason b2bua_call_end() was given. */
static enum callrec_side side_of(const char *why)
{
    if (strcmp(why, "caller-hangup") == 0 || strcmp(why, "cancelled") == 0) {
        return CALLREC_SIDE_CALLER;
    }
    if (strcmp(why, "callee-hangup") == 0 || strcmp(why, "rejected") == 0) {
        return CALLREC_SIDE_CALLEE;
    }
    return CALLREC_SIDE_GATEWAY;
}

void b2bua_record_end(struct call *call, const char *why)
{
    struct call_record *rec = &call->record;
    rec->end_us = call->end_us;
    rec->final_code = call->answer_us != 0 ? 200 : call->final_status;
    rec->hangup_side = side_of(why);
    rec->state = CALLREC_STATE_COMPLETE;
    CALLREC_SET(rec->end_reason, why);
    /* Priced from the answer (issue #11): the spend counters close exactly this. */
    const struct callrec_policy *p = &rec->policy;
    rec->policy.cost_micro =
        rec->answer_us != 0 && rec->end_us > rec->answer_us
            ? spend_record_cost(p->rate_micro, p->connect_fee_micro, p->first_increment_s,
                                p->next_increment_s, (rec->end_us - rec->answer_us) / 1000u)
            : 0;
}

static bool field_is(const char *field, const char *wanted)
{
    return wanted == NULL || strcmp(field, wanted) == 0;
}

bool b2bua_record_matches(const struct call_record *rec, const struct b2bua_call_filter *filter)
{
    return field_is(rec->uniqueid, filter->id) && field_is(rec->policy.account, filter->account) &&
           field_is(rec->policy.trunk, filter->trunk);
}

size_t b2bua_calls_list(const struct b2bua *b, const struct b2bua_call_filter *filter,
                        struct call_record *out, size_t cap)
{
    size_t count = 0;
    for (size_t i = 0; i < b->pool_touched; i++) {
        const struct call *call = &b->pool[i];
        if (call->owner == NULL || call->state == CALL_STATE_ENDED ||
            !b2bua_record_matches(&call->record, filter)) {
            continue;
        }
        if (count < cap) {
            out[count] = call->record;
        }
        count++;
    }
    return count;
}
