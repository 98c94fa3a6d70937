/*
 * The trunks' own registrations at their providers (RFC 3261 §10.2): a REGISTER with the
 * gateway as Contact, the provider's challenge answered with the trunk's credentials,
 * refreshed before it expires, retried with backoff after a failure. A trunk lives in
 * one worker (the gateway puts them all in worker 0); its state bit is shared.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/log.h"
#include "base/random.h"
#include "call/b2bua_int.h"
#include "call/txn.h"
#include "call/uac_auth.h"
#include "sip/msg.h"

#define TRUNK_REG_MAX   16
#define RETRY_FIRST_S   30u
#define RETRY_MAX_S     600u
#define TRUNK_FLAGS_MAX 256

struct trunk_reg {
    enum tu_kind tu_kind;
    struct b2bua *owner;
    size_t trunk;
    char name[64];
    char username[128];
    char domain[256];
    struct net_dest dest;
    struct uac_credentials_copy credentials;
    uint32_t expires_s;
    char call_id[48];
    char from_tag[24];
    uint32_t cseq;
    bool is_auth_tried;
    uint32_t retry_s;
    uint32_t retry_first_s;
    struct txn *client;
    struct loop_timer timer;
};

/* Registration state per trunk index, for any worker to read. */
static atomic_bool trunk_registered[TRUNK_FLAGS_MAX];

bool b2bua_trunk_is_registered(size_t trunk)
{
    return trunk < TRUNK_FLAGS_MAX && atomic_load(&trunk_registered[trunk]);
}

static void set_registered(const struct trunk_reg *reg, bool is_registered)
{
    if (reg->trunk < TRUNK_FLAGS_MAX) {
        atomic_store(&trunk_registered[reg->trunk], is_registered);
    }
}

static struct sv build_register(struct b2bua *b, const struct trunk_reg *reg, struct sv branch,
                                struct sv auth_line)
{
    const struct b2bua_local *local = b2bua_local_for(b, SIZE_MAX, reg->dest.transport);
    const char *transport = reg->dest.transport == SW_TRANSPORT_UDP   ? "UDP"
                            : reg->dest.transport == SW_TRANSPORT_TLS ? "TLS"
                                                                      : "TCP";
    struct sw_buf out;
    sw_buf_init(&out, b->out, B2BUA_OUT_CAP);
    sw_buf_fmt(&out, "REGISTER sip:%s SIP/2.0\r\n", reg->domain);
    sw_buf_fmt(&out, "Via: SIP/2.0/%s %s:%u;branch=" SV_FMT ";rport\r\nMax-Forwards: 70\r\n",
               transport, local->host, local->port, SV_ARG(branch));
    sw_buf_fmt(&out, "From: <sip:%s@%s>;tag=%s\r\nTo: <sip:%s@%s>\r\n", reg->username, reg->domain,
               reg->from_tag, reg->username, reg->domain);
    sw_buf_fmt(&out, "Call-ID: %s\r\nCSeq: %u REGISTER\r\n", reg->call_id, reg->cseq);
    sw_buf_fmt(&out, "Contact: <sip:%s@%s:%u%s>\r\nExpires: %u\r\n", reg->username, local->host,
               local->port,
               reg->dest.transport == SW_TRANSPORT_TLS   ? ";transport=tls"
               : reg->dest.transport == SW_TRANSPORT_TCP ? ";transport=tcp"
                                                         : "",
               reg->expires_s);
    if (b->settings.user_agent.len > 0) {
        sw_buf_fmt(&out, "User-Agent: " SV_FMT "\r\n", SV_ARG(b->settings.user_agent));
    }
    sw_buf_sv(&out, auth_line);
    sw_buf_str(&out, "Content-Length: 0\r\n\r\n");
    return out.is_overflow ? SV_NULL : sw_buf_view(&out);
}

static void arm(struct trunk_reg *reg, uint32_t delay_s);

static void send_register(struct trunk_reg *reg, struct sv auth_line)
{
    struct b2bua *b = reg->owner;
    char branch_buf[32];
    struct sv branch = txn_branch_new(branch_buf, sizeof(branch_buf));
    reg->cseq++;
    struct sv bytes = build_register(b, reg, branch, auth_line);
    if (reg->client != NULL) {
        txn_detach(reg->client);
        reg->client = NULL;
    }
    if (bytes.ptr != NULL) {
        reg->client = txn_client_new(b->txns, SIP_METHOD_REGISTER, branch, &reg->dest, bytes, reg);
    }
    if (reg->client == NULL) {
        arm(reg, reg->retry_s);
    }
}

static void on_timer(struct loop *loop, void *ctx)
{
    (void)loop;
    struct trunk_reg *reg = ctx;
    reg->is_auth_tried = false;
    send_register(reg, SV_NULL);
}

static void arm(struct trunk_reg *reg, uint32_t delay_s)
{
    /* The heap is sized for every transaction; a failure here would only delay a refresh. */
    (void)loop_timer_start(reg->owner->loop, &reg->timer, (uint64_t)delay_s * 1000u, on_timer, reg);
}

static void failed(struct trunk_reg *reg, const char *why, unsigned status)
{
    set_registered(reg, false);
    log_warn(NULL, "trunk %s: registration failed (%s %u), next try in %u s", reg->name, why,
             status, reg->retry_s);
    arm(reg, reg->retry_s);
    reg->retry_s = reg->retry_s * 2 > RETRY_MAX_S ? RETRY_MAX_S : reg->retry_s * 2;
}

void b2bua_trunk_reg_response(struct trunk_reg *reg, struct txn *txn, struct sip_msg *response)
{
    uint16_t status = response->status;
    if (txn != reg->client || status < 200) {
        return;
    }
    char line[2048];
    struct sw_buf auth;
    sw_buf_init(&auth, line, sizeof(line));
    char uri[300];
    (void)snprintf(uri, sizeof(uri), "sip:%s", reg->domain);
    if (uac_auth_answer_once(uac_credentials_copy_get(&reg->credentials), &reg->is_auth_tried,
                             response, SV("REGISTER"), sv_from_cstr(uri), &auth)) {
        send_register(reg, sw_buf_view(&auth));
        return;
    }
    if (status >= 300) {
        failed(reg, "refused", status);
        return;
    }
    uint32_t granted = reg->expires_s;
    uint32_t header = 0;
    if (sip_msg_expires(response, &header) == 0 && header > 0 && header < granted) {
        granted = header;
    }
    if (!b2bua_trunk_is_registered(reg->trunk)) {
        log_notice(NULL, "trunk %s: registered for %u s", reg->name, granted);
    }
    set_registered(reg, true);
    reg->retry_s = reg->retry_first_s;
    arm(reg, granted * 4 / 5 > 0 ? granted * 4 / 5 : 1);
}

void b2bua_trunk_reg_timeout(struct trunk_reg *reg, struct txn *txn)
{
    if (txn == reg->client) {
        reg->client = NULL;
        failed(reg, "no answer", 408);
    }
}

void b2bua_trunk_reg_terminated(struct trunk_reg *reg, struct txn *txn)
{
    if (txn == reg->client) {
        reg->client = NULL;
    }
}

void b2bua_trunk_reg_free_all(struct b2bua *b)
{
    for (size_t i = 0; i < b->trunk_reg_count; i++) {
        struct trunk_reg *reg = b->trunk_regs[i];
        loop_timer_stop(b->loop, &reg->timer);
        if (reg->client != NULL) {
            txn_detach(reg->client); /* its answer, if any, finds nobody */
            reg->client = NULL;
        }
        set_registered(reg, false);
        uac_credentials_copy_wipe(&reg->credentials);
        sw_free(reg);
        b->trunk_regs[i] = NULL;
    }
    b->trunk_reg_count = 0;
}

int b2bua_trunk_register(struct b2bua *b, const struct b2bua_trunk_registration *cfg)
{
    if (b->trunk_reg_count == TRUNK_REG_MAX) {
        return -SW_EFULL;
    }
    struct trunk_reg *reg = sw_calloc(1, sizeof(*reg));
    if (reg == NULL) {
        return -ENOMEM;
    }
    reg->tu_kind = TU_TRUNK_REGISTER;
    reg->owner = b;
    reg->trunk = cfg->trunk;
    reg->dest = cfg->dest;
    reg->expires_s = cfg->expires_s == 0 ? 3600 : cfg->expires_s;
    reg->retry_first_s = cfg->retry_s == 0 ? RETRY_FIRST_S : cfg->retry_s;
    reg->retry_s = reg->retry_first_s;
    int n = snprintf(reg->call_id, sizeof(reg->call_id), "sw%02x", b->index & 0xffu);
    sw_random_hex(reg->call_id + n, 30);
    reg->call_id[n + 30] = '\0';
    sw_random_hex(reg->from_tag, 16);
    reg->from_tag[16] = '\0';
    if (!sv_copy_cstr(cfg->name, reg->name, sizeof(reg->name)) ||
        !sv_copy_cstr(cfg->username, reg->username, sizeof(reg->username)) ||
        !sv_copy_cstr(cfg->domain, reg->domain, sizeof(reg->domain)) ||
        !uac_credentials_copy_set(&reg->credentials, cfg->credentials)) {
        sw_free(reg);
        return -SW_EBADARG;
    }
    b->trunk_regs[b->trunk_reg_count++] = reg;
    send_register(reg, SV_NULL);
    return 0;
}

void b2bua_trunk_unregister_all(struct b2bua *b)
{
    b2bua_trunk_reg_free_all(b);
}
