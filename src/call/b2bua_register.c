/*
 * REGISTER of remote accounts across the gateway: the phone's REGISTER (already
 * authenticated by the auth stage) becomes the gateway's own REGISTER to the PBX, with
 * the Contact pointing at the gateway, so the PBX never learns where phones are. The
 * PBX's verdict comes back to the phone; on 200 the phone's real address is kept in the
 * registrar for calls the PBX sends to it.
 */
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/random.h"
#include "base/time.h"
#include "call/b2bua_int.h"
#include "call/reply.h"
#include "call/txn.h"
#include "call/uac_auth.h"
#include "sip/msg.h"

#define REG_RELAYS_PER_WORKER 1024
#define REG_DEFAULT_EXPIRES   3600u
#define REG_MIN_EXPIRES       60u

static struct reg_relay *reg_alloc(struct b2bua *b)
{
    if (b->regs == NULL) {
        b->regs = sw_calloc(REG_RELAYS_PER_WORKER, sizeof(*b->regs));
        b->reg_cap = b->regs == NULL ? 0 : REG_RELAYS_PER_WORKER;
    }
    for (size_t i = 0; i < b->reg_cap; i++) {
        if (!b->regs[i].is_used) {
            struct reg_relay *reg = &b->regs[i];
            memset(reg, 0, sizeof(*reg));
            reg->tu_kind = TU_REGISTER;
            reg->is_used = true;
            reg->owner = b;
            return reg;
        }
    }
    return NULL;
}

static void reg_release(struct reg_relay *reg)
{
    if (reg->server != NULL) {
        txn_detach(reg->server);
    }
    if (reg->client != NULL) {
        txn_detach(reg->client);
    }
    memset(reg, 0, sizeof(*reg));
}

void b2bua_register_free_all(struct b2bua *b)
{
    sw_free(b->regs);
    b->regs = NULL;
    b->reg_cap = 0;
}

/* The response to the phone, built from its REGISTER. */
static void reg_respond(struct reg_relay *reg, uint16_t status, const char *reason, struct sv extra)
{
    if (reg->server == NULL) {
        return;
    }
    struct b2bua *b = reg->owner;
    const struct req_copy *req = &reg->req;
    struct sw_buf out;
    sw_buf_init(&out, b->out, B2BUA_OUT_CAP);
    sw_buf_fmt(&out, "SIP/2.0 %u %s\r\n", status, reason);
    sw_buf_put(&out, req->vias, req->vias_len);
    sw_buf_fmt(&out, "From: " SV_FMT "\r\nTo: " SV_FMT, SV_ARG(FSTR_SV(req->from)),
               SV_ARG(FSTR_SV(req->to)));
    if (!req->has_to_tag) {
        char tag[16];
        sw_random_hex(tag, sizeof(tag));
        sw_buf_fmt(&out, ";tag=%.*s", (int)sizeof(tag), tag);
    }
    sw_buf_fmt(&out, "\r\nCall-ID: " SV_FMT "\r\nCSeq: %u REGISTER\r\n",
               SV_ARG(FSTR_SV(req->call_id)), req->cseq);
    sw_buf_sv(&out, extra);
    if (b->settings.user_agent.len > 0) {
        sw_buf_fmt(&out, "Server: " SV_FMT "\r\n", SV_ARG(b->settings.user_agent));
    }
    sw_buf_str(&out, "Content-Length: 0\r\n\r\n");
    if (!out.is_overflow) {
        (void)txn_server_respond(reg->server, status, sw_buf_view(&out));
    }
}

/* What the phone asks: its Contact URI and the expiry (Contact param, else Expires). */
static bool read_request(struct reg_relay *reg, struct sip_msg *request, uint32_t max_expires)
{
    struct sip_contact contact;
    size_t count = 0;
    bool is_star = false;
    struct sip_err err = { 0 };
    if (sip_msg_contacts(request, &contact, 1, &count, &is_star, &err) != 0 && count != 1) {
        return false;
    }
    uint32_t expires = REG_DEFAULT_EXPIRES;
    uint32_t header_expires = 0;
    if (sip_msg_expires(request, &header_expires) == 0) {
        expires = header_expires;
    }
    if (count == 1 && sv_is_present(contact.expires)) {
        uint32_t param = 0;
        if (sv_to_u32(contact.expires, &param)) {
            expires = param;
        }
    }
    reg->is_unregister = is_star || expires == 0;
    if (!reg->is_unregister) {
        if (count == 0 ||
            !b2bua_fstr_set(reg->binding.contact_uri, sizeof(reg->binding.contact_uri),
                            &(size_t){ 0 }, contact.addr.uri_text)) {
            return false;
        }
        if (expires < REG_MIN_EXPIRES) {
            expires = REG_MIN_EXPIRES;
        }
    }
    reg->expires_s = expires > max_expires ? max_expires : expires;
    return true;
}

static struct sv build_pbx_register(struct b2bua *b, const struct reg_relay *reg, struct sv branch,
                                    struct sv auth_line)
{
    const struct b2bua_local *local = b2bua_local_for(b, SIZE_MAX, reg->pbx.transport);
    struct sw_buf out;
    sw_buf_init(&out, b->out, B2BUA_OUT_CAP);
    sw_buf_fmt(&out, "REGISTER %s SIP/2.0\r\n", reg->pbx_uri);
    sw_buf_fmt(&out, "Via: SIP/2.0/%s %s:%u;branch=" SV_FMT ";rport\r\nMax-Forwards: 70\r\n",
               reg->pbx.transport == SW_TRANSPORT_UDP   ? "UDP"
               : reg->pbx.transport == SW_TRANSPORT_TLS ? "TLS"
                                                        : "TCP",
               local->host, local->port, SV_ARG(branch));
    /* %.*s, not %.16s: sw_buf_fmt's fast path takes only the former. */
    sw_buf_fmt(&out, "From: <sip:%s@%s>;tag=%.*s\r\n", reg->username, reg->pbx_host, 16,
               reg->call_id + 4);
    sw_buf_fmt(&out, "To: <sip:%s@%s>\r\nCall-ID: %s\r\nCSeq: %u REGISTER\r\n", reg->username,
               reg->pbx_host, reg->call_id, reg->cseq);
    if (reg->is_unregister) {
        sw_buf_str(&out, "Contact: *\r\nExpires: 0\r\n");
    } else {
        sw_buf_fmt(&out, "Contact: <sip:%s@%s:%u>\r\nExpires: %u\r\n", reg->username, local->host,
                   local->port, reg->expires_s);
    }
    if (b->settings.user_agent.len > 0) {
        sw_buf_fmt(&out, "User-Agent: " SV_FMT "\r\n", SV_ARG(b->settings.user_agent));
    }
    sw_buf_sv(&out, auth_line);
    sw_buf_str(&out, "Content-Length: 0\r\n\r\n");
    return out.is_overflow ? SV_NULL : sw_buf_view(&out);
}

static bool send_to_pbx(struct b2bua *b, struct reg_relay *reg, struct sv auth_line)
{
    char branch_buf[32];
    struct sv branch = txn_branch_new(branch_buf, sizeof(branch_buf));
    struct sv bytes = build_pbx_register(b, reg, branch, auth_line);
    if (bytes.ptr == NULL) {
        return false;
    }
    if (reg->client != NULL) {
        txn_detach(reg->client);
    }
    reg->client = txn_client_new(b->txns, SIP_METHOD_REGISTER, branch, &reg->pbx, bytes, reg);
    return reg->client != NULL;
}

static bool reg_init(struct b2bua *b, struct reg_relay *reg, struct sip_msg *request,
                     const struct net_dest *src, const struct b2bua_register_route *route)
{
    if (!uac_credentials_copy_set(&reg->credentials, route->credentials)) {
        return false;
    }
    reg->pbx = route->pbx;
    reg->binding.dest = *src;
    reg->cseq = 1;
    /* "sw", the worker's index in two hex digits, then 30 random ones: what "sw%02x"
     * printed, without snprintf's cost on every registration. */
    static const char hex[] = "0123456789abcdef";
    reg->call_id[0] = 's';
    reg->call_id[1] = 'w';
    reg->call_id[2] = hex[(b->index >> 4) & 0xfu];
    reg->call_id[3] = hex[b->index & 0xfu];
    sw_random_hex(reg->call_id + 4, 30);
    reg->call_id[4 + 30] = '\0';
    return b2bua_req_copy_init(&reg->req, request, &src->addr) &&
           sv_copy_cstr(route->username, reg->username, sizeof(reg->username)) &&
           sv_copy_cstr(route->pbx_host, reg->pbx_host, sizeof(reg->pbx_host)) &&
           sw_snprintf(reg->pbx_uri, sizeof(reg->pbx_uri), "sip:" SV_FMT, SV_ARG(route->pbx_host)) <
               (int)sizeof(reg->pbx_uri) &&
           read_request(reg, request,
                        route->max_expires_s == 0 ? REG_DEFAULT_EXPIRES : route->max_expires_s);
}

void b2bua_on_register(struct b2bua *b, struct sip_msg *request, const struct net_dest *src,
                       const struct b2bua_register_route *route)
{
    struct reg_relay *reg = reg_alloc(b);
    if (reg == NULL) {
        return; /* like a lost datagram: the phone retransmits */
    }
    if (!reg_init(b, reg, request, src, route)) {
        reg_release(reg);
        return;
    }
    reg->server = txn_server_new(b->txns, request, src, reg);
    if (reg->server == NULL) {
        reg_release(reg);
        return;
    }
    if (!send_to_pbx(b, reg, SV_NULL)) {
        reg_respond(reg, 503, "Service Unavailable", SV_NULL);
        reg_release(reg);
    }
}

/*
 * What the PBX granted (RFC 3261 §10.3 step 8): the expires parameter of the Contact it
 * returns for us, else its Expires header, never more than we asked for. The phone is told
 * exactly that, so it refreshes before the PBX forgets it.
 */
static uint32_t granted_expires(const struct reg_relay *reg, struct sip_msg *response)
{
    uint32_t granted = reg->expires_s;
    uint32_t value = 0;
    struct sip_contact contacts[8];
    size_t count = 0;
    bool is_star = false;
    struct sip_err err = { 0 };
    if (sip_msg_contacts(response, contacts, 8, &count, &is_star, &err) == 0) {
        for (size_t i = 0; i < count; i++) {
            if (sv_is_present(contacts[i].expires) && sv_to_u32(contacts[i].expires, &value) &&
                value < granted) {
                granted = value;
            }
        }
    }
    if (sip_msg_expires(response, &value) == 0 && value < granted) {
        granted = value;
    }
    return granted;
}

static void reg_accepted(struct reg_relay *reg, struct sip_msg *response)
{
    uint32_t granted = granted_expires(reg, response);
    char extra[REGISTRAR_URI_CAP + 64] = "";
    struct sv account = sv_from_cstr(reg->username);
    if (reg->is_unregister) {
        registrar_remove(account);
    } else {
        reg->binding.expires_at = sw_wall_s() + (int64_t)granted;
        if (!registrar_store(account, &reg->binding)) {
            reg_respond(reg, 503, "Service Unavailable", SV_NULL);
            return;
        }
        (void)sw_snprintf(extra, sizeof(extra), "Contact: <%s>;expires=%u\r\n",
                          reg->binding.contact_uri, granted);
    }
    reg_respond(reg, 200, "OK", sv_from_cstr(extra));
}

static void emit_pbx_refusal(struct reg_relay *reg, uint16_t status)
{
    struct sw_event ev;
    sw_event_init(&ev, EV_PBX_AUTH_FAILED);
    ev.remote = reg->binding.dest.addr;
    ev.transport = reg->binding.dest.transport;
    SW_EVENT_SET(&ev, account, sv_from_cstr(reg->username));
    SW_EVENT_SET(&ev, session, FSTR_SV(reg->req.call_id));
    ev.cseq = reg->req.cseq; /* so the failure tracker counts each refused attempt */
    (void)snprintf(ev.detail, sizeof(ev.detail), "the PBX refused the registration with %u",
                   status);
    SW_EVENT_SET(&ev, module, SV("registrar"));
    sw_event_emit(reg->owner->settings.events, &ev);
}

void b2bua_register_response(struct reg_relay *reg, struct txn *txn, struct sip_msg *response)
{
    uint16_t status = response->status;
    if (txn != reg->client || status < 200) {
        return;
    }
    char line[2048];
    struct sw_buf auth;
    sw_buf_init(&auth, line, sizeof(line));
    if (uac_auth_answer_once(uac_credentials_copy_get(&reg->credentials), &reg->is_auth_tried,
                             response, SV("REGISTER"), sv_from_cstr(reg->pbx_uri), &auth)) {
        reg->cseq++;
        if (send_to_pbx(reg->owner, reg, sw_buf_view(&auth))) {
            return;
        }
    }
    if (status < 300) {
        reg_accepted(reg, response);
    } else {
        /* The PBX's refusal counts against the source like our own (issue #3). */
        emit_pbx_refusal(reg, status);
        uint16_t answer = status == 401 || status == 407 ? 403 : status;
        reg_respond(reg, answer, reply_reason(answer), SV_NULL);
    }
    reg_release(reg);
}

void b2bua_register_timeout(struct reg_relay *reg, struct txn *txn)
{
    if (txn == reg->client) {
        reg_respond(reg, 504, "Server Time-out", SV_NULL);
        reg_release(reg);
    }
}

void b2bua_register_terminated(struct reg_relay *reg, struct txn *txn)
{
    if (txn == reg->server) {
        reg->server = NULL;
    } else if (txn == reg->client) {
        reg->client = NULL;
    }
}
