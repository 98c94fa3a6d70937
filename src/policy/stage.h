/*
 * The shape every policy stage shares (DESIGN.md "The path of one message"): a stage reads
 * the message context and returns a verdict (continue, reply with a code, drop silently),
 * and may emit events. A stage never blocks, allocates only from the message arena, and
 * fails closed: an internal error gives the configured reply or a drop, never a pass.
 *
 * Stage state is created once (init, main thread) and shared by every worker: check() is
 * called concurrently from several worker threads and must be thread-safe.
 */
#ifndef SW_POLICY_STAGE_H
#define SW_POLICY_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/addr.h"
#include "base/diag.h"
#include "base/event.h"
#include "base/sv.h"

struct cfg;
struct sip_msg;
struct arena;

/* Who sent a message, decided from its transport source address only. */
enum side {
    SIDE_UNKNOWN,  /* nobody we know: may still be a remote account that authenticates */
    SIDE_PROVIDER, /* a trunk provider's range (ctx->trunk says which) */
    SIDE_PBX,      /* the PBX */
    SIDE_ACCOUNT,  /* a remote account whose registration from this address is known */
};

enum verdict_action {
    VERDICT_CONTINUE,
    VERDICT_REPLY,
    VERDICT_DROP,
};

struct verdict {
    enum verdict_action action;
    uint16_t status;         /* VERDICT_REPLY: the response code */
    const char *reason;      /* VERDICT_REPLY: reason phrase (static); DROP: why, for debug */
    struct sv extra_headers; /* complete "Name: value\r\n" lines (arena), or absent */
};

/* What a stage sees. Views borrow the message; everything lives until the verdict is used. */
struct stage_ctx {
    struct sip_msg *msg;
    struct arena *arena;
    struct sockaddr_storage src; /* the transport source: never taken from headers */
    struct sockaddr_storage local;
    struct sw_ip src_ip;
    enum sw_transport transport;
    enum side side;
    size_t trunk;          /* SIDE_PROVIDER: index into cfg->trunks */
    size_t account;        /* SIDE_ACCOUNT or after authentication: index into cfg->accounts */
    bool is_in_dialog;     /* the call layer knows the dialog (to-tag present and matched) */
    bool is_authenticated; /* set by the auth stage */
    bool is_trusted;       /* the source is on a known side (PBX or provider range) */
    uint64_t now_ms;       /* monotonic */
    unsigned worker;
    const struct cfg *cfg;
    const struct event_sink *events;
};

struct stage {
    const char *name; /* config section and metric label */
    int (*init)(void **state, const struct cfg *cfg, struct sw_diag *diag);
    struct verdict (*check)(void *state, struct stage_ctx *ctx);
    void (*fini)(void *state);
};

/* Verdict helpers. */
struct verdict verdict_continue(void);
struct verdict verdict_drop(const char *why);
struct verdict verdict_reply(uint16_t status, const char *reason);

/*
 * Fills `event` with the context's addresses, transport, Call-ID and User-Agent (when the
 * message has them) and the stage name, ready for the caller to add details and emit.
 */
void stage_event_init(const struct stage_ctx *ctx, struct sw_event *event, enum sw_event_kind kind,
                      const char *module);

#endif
