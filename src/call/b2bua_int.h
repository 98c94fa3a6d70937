/*
 * Private to the B2BUA's files (src/call/b2bua*.c): the per-worker
 * object and the functions they share. One worker thread.
 */
#ifndef SW_CALL_B2BUA_INT_H
#define SW_CALL_B2BUA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/sv.h"
#include "call/b2bua.h"
#include "call/dialog.h"
#include "call/txn.h"
#include "sip/method.h"

struct txn;
struct txn_layer;
struct sip_msg;

#define B2BUA_OUT_CAP         ((size_t)66 * 1024)
/* [media] reloads whose calls may still be in progress at once (each keeps its rtpengine). */
#define B2BUA_RETIRED_ANCHORS 8
#define FSTR_SV(f)            sv_make((f).s, (f).len)
#define FSTR_SET(f, value)    b2bua_fstr_set((f).s, sizeof((f).s), &(f).len, (value))

struct b2bua {
    struct loop *loop; /* the worker's, or a test's (b2bua_new_on) */
    txn_send_fn *send; /* worker_send(), or a test's fake transport */
    void *send_ctx;
    unsigned index; /* the worker's index: the owner in the Call-IDs we make */
    struct b2bua_settings settings;
    struct txn_layer *txns;
    struct call *pool;
    size_t pool_cap;
    size_t pool_touched; /* pool[0..pool_touched) have been handed out at least once */
    struct call *free_list;
    struct call *lingering;      /* ended calls not yet released, oldest first... */
    struct call *lingering_tail; /* ...and the newest */
    struct call **by_a;
    struct call **by_b;
    size_t bucket_mask;
    size_t active_calls;
    uint64_t next_call_id;
    char *out;              /* B2BUA_OUT_CAP bytes for building one message */
    struct reg_relay *regs; /* REGISTER relays in flight (b2bua_register.c) */
    size_t reg_cap;
    struct trunk_reg *trunk_regs[16]; /* outbound registrations (b2bua_trunk_reg.c) */
    size_t trunk_reg_count;
    struct arena *scratch;
    struct anchor *anchor; /* media anchoring of new calls through rtpengine; NULL = off */
    /* Anchors a reload replaced, kept while calls of theirs go on (b2bua_media_reload). */
    struct anchor *retired_anchors[B2BUA_RETIRED_ANCHORS];
    size_t retired_anchor_count;
    struct loop_timer anchor_reap_timer; /* frees the retired anchors that are idle */
};

/* Sends `data` to `dst` through the B2BUA's transport: 0 or -errno. */
static inline int b2bua_send(struct b2bua *b, const struct net_dest *dst, struct sv data)
{
    return b->send(b->send_ctx, dst, data);
}

/* Copies `value` into a fixed field; false (and an empty field) when it does not fit. */
bool b2bua_fstr_set(char *dst, size_t cap, size_t *len, struct sv value);

/* b2bua_pool.c: the pool, the tables and a call's slot. */
/* The call with this Call-ID on either leg, or NULL; *is_leg_a tells which. */
struct call *b2bua_find_call(struct b2bua *b, struct sv call_id, bool *is_leg_a);
/* Files the call under its legs' Call-IDs. */
void b2bua_table_insert(struct b2bua *b, struct call *call);
/* A call of this worker that reads as zeroed (call_wipe leaves old text past each value's
 * zeroed length), or NULL when the pool is full (after reclaiming). */
struct call *b2bua_call_alloc(struct b2bua *b);

/* A member of a struct that b2bua_wipe_around leaves as it is. */
struct b2bua_span {
    size_t offset;
    size_t len;
};

#define B2BUA_SPAN(type, member)                               \
    {                                                          \
        offsetof(type, member), sizeof(((type *)NULL)->member) \
    }

/* Zeroes the `size` bytes of `obj` but for the `count` spans of `kept`, in their order and
 * inside it: a call's or a relay's text, read only up to lengths that are zeroed. */
void b2bua_wipe_around(void *obj, size_t size, const struct b2bua_span *kept, size_t count);
/* Gives back a call that never started (nothing was sent for it). */
void b2bua_call_free_unstarted(struct b2bua *b, struct call *call);
/* Gives the concurrent-call places of the route back (each once). */
void b2bua_release_reserved(struct b2bua_route *route);

/* Emits a call event of `kind` with the call's record and `detail`. */
void b2bua_emit_call_event(struct call *call, enum sw_event_kind kind, const char *detail);

/* Marks the call ended (counters, record event) and schedules its release. Idempotent. */
void b2bua_call_end(struct call *call, uint16_t status, const char *why);

/* b2bua_leg.c: the legs. */
bool b2bua_same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
/* `digits` random hex digits in buf (a tag or branch part). */
struct sv b2bua_random_tag(char *buf, size_t digits);
/* Leg A from the caller's INVITE and its source; false when a field does not fit. */
bool b2bua_leg_a_init(struct call *call, struct sip_msg *invite, const struct net_dest *src);
/* Leg B towards the route's target, with the gateway's own Call-ID, tags and CSeq. */
bool b2bua_leg_b_init(struct b2bua *b, struct call *call, const struct b2bua_route *route);
/* What leg B learns from a response to its INVITE (To tag, target, route set). */
void b2bua_leg_b_learn(struct call *call, struct sip_msg *response);

/* Transaction-user callbacks (txn.h). */
void b2bua_txn_response(void *user, struct txn *txn, struct sip_msg *response);
void b2bua_txn_timeout(void *user, struct txn *txn);
void b2bua_txn_terminated(void *user, struct txn *txn);

/* b2bua_register.c: REGISTER relays. */
void b2bua_register_response(struct reg_relay *reg, struct txn *txn, struct sip_msg *response);
void b2bua_register_timeout(struct reg_relay *reg, struct txn *txn);
void b2bua_register_terminated(struct reg_relay *reg, struct txn *txn);
void b2bua_register_free_all(struct b2bua *b);

/* b2bua_trunk_reg.c: the trunks' own registrations at their providers. */
struct trunk_reg;
void b2bua_trunk_reg_response(struct trunk_reg *reg, struct txn *txn, struct sip_msg *response);
void b2bua_trunk_reg_timeout(struct trunk_reg *reg, struct txn *txn);
void b2bua_trunk_reg_terminated(struct trunk_reg *reg, struct txn *txn);
void b2bua_trunk_reg_free_all(struct b2bua *b);

/* b2bua_relay.c: in-dialog requests (BYE, re-INVITE, UPDATE, INFO, OPTIONS, PRACK...). */
void b2bua_relay_request(struct b2bua *b, struct call *call, bool from_a, struct sip_msg *request,
                         const struct net_dest *src);
void b2bua_relay_response(struct relay *relay, struct txn *txn, struct sip_msg *response);
void b2bua_relay_timeout(struct relay *relay, struct txn *txn);
void b2bua_relay_terminated(struct relay *relay, struct txn *txn);
bool b2bua_relay_ack(struct b2bua *b, struct call *call, bool from_a, struct sip_msg *ack);
/* A 2xx to a relayed re-INVITE came again on a leg: our ACK goes again. */
void b2bua_relay_resend_ack(struct b2bua *b, struct call *call, bool on_a, uint32_t cseq);
/* The leg's remote target from the Contact of `msg` (when it has one). */
bool b2bua_leg_learn_target(struct leg *leg, struct sip_msg *msg);
void b2bua_relay_release(struct relay *relay);
/* Sends BYE on a leg with no server side (the gateway ends the call itself). */
void b2bua_send_bye(struct b2bua *b, struct call *call, bool on_a, const char *reason);

/* Sends `bytes`, leg B's ACK for its 2xx, and keeps them for that 2xx's retransmissions. */
void b2bua_send_b_ack_bytes(struct b2bua *b, struct call *call, struct sv bytes);

/* Answers leg A's INVITE with `status` and no body (when it is still unanswered). */
void b2bua_respond_a(struct call *call, uint16_t status, struct sv reason);

/* b2bua_media.c: media anchoring (anchor.h). Sends leg B's INVITE, its SDP anchored first
 * when anchoring is on: false when it could not be sent (the caller answers 503). */
bool b2bua_media_send_b_invite(struct b2bua *b, struct call *call, struct sip_msg *invite);
/* Relays leg B's provisional or 2xx response to leg A, its SDP anchored when the call is. */
void b2bua_media_respond_a(struct call *call, struct sip_msg *response);
/* The call was answered: with [media] timeout, an anchored call whose RTP stops both ways
 * for that long is ended (BYE on both legs, record reason "media-timeout"). */
void b2bua_media_watch(struct call *call);
/* A late offer's answer: leg A's ACK with SDP goes to leg B with rtpengine's SDP. True when
 * the media layer took the ACK (it sends it when rtpengine answered); false: send it as is. */
bool b2bua_media_ack_b(struct b2bua *b, struct call *call, struct sip_msg *ack);
/* Frees the anchors, current and retired (b2bua_free: the calls hold only sessions). */
void b2bua_media_free_all(struct b2bua *b);
/* The call ended: rtpengine forgets it, and a message still waiting is dropped. */
void b2bua_media_end(struct call *call);
/* Sends a relayed request's `bytes` on the other leg; an SDP offer (re-INVITE, UPDATE) of
 * an anchored call goes through rtpengine first. False when nothing could be sent. */
bool b2bua_media_relay_forward(struct b2bua *b, struct relay *relay, struct sip_msg *request,
                               struct sv branch, struct sv bytes);
/* Sends a relayed response's `bytes` back; the 2xx answer of an anchored call goes through
 * rtpengine first: true when it waits for rtpengine (the relay is then released by
 * b2bua_media.c, not by the caller). */
bool b2bua_media_relay_respond(struct relay *relay, uint16_t status, struct sv bytes,
                               struct sip_msg *source);

/* b2bua_record.c: the call's record, sent with each call event. */
void b2bua_record_start(struct call *call, struct sip_msg *invite, const struct b2bua_route *route);
void b2bua_record_ring(struct call *call, uint16_t status);
void b2bua_record_answer(struct call *call);
void b2bua_record_end(struct call *call, const char *why);
/* Does the record match an operator's filter (b2bua.h)? */
bool b2bua_record_matches(const struct call_record *rec, const struct b2bua_call_filter *filter);

/* b2bua_build.c: message text. Each returns the bytes in b->out or an absent view. */
struct sv b2bua_build_b_invite(struct b2bua *b, struct call *call, struct sip_msg *invite,
                               struct sv branch);
struct sv b2bua_build_request(struct b2bua *b, struct call *call, const struct leg *leg,
                              enum sip_method method, uint32_t cseq, struct sv branch,
                              struct sip_msg *source);
struct sv b2bua_build_response(struct b2bua *b, struct call *call, const struct leg *leg,
                               const struct req_copy *req, uint16_t status, struct sv reason,
                               struct sip_msg *source, bool with_contact);
struct sv b2bua_build_ack(struct b2bua *b, const struct leg *leg, uint32_t cseq, struct sv branch,
                          struct sip_msg *source);
struct sv b2bua_build_cancel(struct b2bua *b, struct txn *invite);
/* The INVITE `old` again with a new branch and CSeq and the credentials line added. */
struct sv b2bua_build_reauth_invite(struct b2bua *b, const struct leg *leg, struct sv old,
                                    struct sv branch, uint32_t cseq, struct sv auth_line);

/* Keeps what responding to `request` (from `src`, for received/rport) needs. False when a
 * field does not fit. */
bool b2bua_req_copy_init(struct req_copy *copy, struct sip_msg *request,
                         const struct sockaddr_storage *src);

/* Our host:port and transport for a listener (Via, Contact). */
const struct b2bua_local *b2bua_local_for(const struct b2bua *b, size_t listener,
                                          enum sw_transport transport);

#endif
