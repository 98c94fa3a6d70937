#include "call/txn.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "base/alloc.h"
#include "base/arena.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/random.h"
#include "sip/msg.h"

#define TXN_BRANCH_MAX  128
#define TXN_SENT_BY_MAX 128
#define TXN_TIMEOUT_MS  ((uint64_t)64 * SIP_T1_MS)

struct txn {
    struct txn *next; /* bucket chain, or the free list */
    struct txn_layer *layer;
    uint64_t hash;
    bool is_server;
    bool is_in_use;
    enum sip_method method;
    enum txn_state state;
    uint16_t last_status;
    char branch[TXN_BRANCH_MAX];
    size_t branch_len;
    char sent_by[TXN_SENT_BY_MAX];
    size_t sent_by_len;
    struct net_dest dest;
    char *msg; /* client: the request; server: the last response */
    size_t msg_len;
    char *ack; /* client INVITE: the ACK of a non-2xx final */
    size_t ack_len;
    uint32_t interval_ms;
    bool is_to_linger; /* non-INVITE final sent on UDP: becomes a struct txn_linger */
    struct loop_timer retx_timer;
    struct loop_timer life_timer;
    void *user;
};

/*
 * A non-INVITE server transaction on UDP that sent its final response waits 64*T1 (timer
 * J) only to answer retransmissions of its request with that response (RFC 3261
 * §17.2.2): it needs its key, where to send and the response, nothing else. It leaves the
 * pool for this record, one allocation of the header, the branch, the sent-by and the
 * response, chained in its own buckets and in a FIFO of expiries: every record lives the
 * same TXN_TIMEOUT_MS, so the oldest ends first and one timer serves them all.
 */
struct txn_linger {
    struct txn_linger *next;  /* bucket chain */
    struct txn_linger *later; /* the FIFO: the record that ends next after this one */
    uint64_t hash;
    uint64_t end_ms;
    size_t listener;

    union {
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } addr;

    uint32_t response_len;
    uint8_t method; /* enum sip_method */
    uint8_t branch_len;
    uint8_t sent_by_len;
    char bytes[]; /* branch, sent-by, response */
};

struct txn_layer {
    struct loop *loop;
    txn_send_fn *send;
    void *send_ctx;
    struct txn_user_ops ops;
    struct txn *pool;
    size_t pool_cap;
    size_t pool_touched; /* pool[0..pool_touched) have been handed out at least once */
    struct txn *free_list;
    size_t in_use;
    struct txn **buckets;
    size_t bucket_mask;
    struct arena *scratch;              /* parsing our own stored requests to build ACKs */
    struct txn_linger **linger_buckets; /* bucket_mask + 1 chains */
    struct txn_linger *linger_oldest;   /* the FIFO of expiries */
    struct txn_linger *linger_newest;
    struct loop_timer linger_timer; /* armed for linger_oldest's end */
    size_t linger_count;
    size_t linger_bytes;
};

static bool is_reliable(const struct txn *txn)
{
    return txn->dest.transport != SW_TRANSPORT_UDP;
}

static int send_by_worker(void *ctx, const struct net_dest *dst, struct sv data)
{
    return worker_send(ctx, dst, data);
}

struct txn_layer *txn_layer_new(struct worker *worker, size_t max_txns,
                                const struct txn_user_ops *ops)
{
    return txn_layer_new_on(worker_loop(worker), send_by_worker, worker, max_txns, ops);
}

struct txn_layer *txn_layer_new_on(struct loop *loop, txn_send_fn *send, void *send_ctx,
                                   size_t max_txns, const struct txn_user_ops *ops)
{
    struct txn_layer *layer = sw_calloc(1, sizeof(*layer));
    if (layer == NULL) {
        return NULL;
    }
    size_t buckets = 1024;
    while (buckets < max_txns && buckets < ((size_t)1 << 30)) {
        buckets <<= 1;
    }
    layer->loop = loop;
    layer->send = send;
    layer->send_ctx = send_ctx;
    layer->ops = *ops;
    layer->pool = sw_calloc(max_txns == 0 ? 1 : max_txns, sizeof(*layer->pool));
    layer->pool_cap = max_txns;
    /* An array of pointers: the size of one pointer is meant. */
    layer->buckets =
        sw_calloc(buckets, sizeof(*layer->buckets)); /* NOLINT(bugprone-sizeof-expression) */
    layer->linger_buckets =
        sw_calloc(buckets, sizeof(*layer->linger_buckets)); /* NOLINT(bugprone-sizeof-expression) */
    layer->bucket_mask = buckets - 1;
    layer->scratch = arena_new((size_t)64 * 1024);
    if (layer->pool == NULL || layer->buckets == NULL || layer->linger_buckets == NULL ||
        layer->scratch == NULL) {
        txn_layer_free(layer);
        return NULL;
    }
    return layer;
}

static void txn_release_buffers(struct txn *txn)
{
    sw_free(txn->msg);
    txn->msg = NULL;
    sw_free(txn->ack);
    txn->ack = NULL;
}

void txn_layer_free(struct txn_layer *layer)
{
    if (layer == NULL) {
        return;
    }
    for (size_t i = 0; layer->pool != NULL && i < layer->pool_touched; i++) {
        struct txn *txn = &layer->pool[i];
        if (txn->is_in_use) {
            loop_timer_stop(layer->loop, &txn->retx_timer);
            loop_timer_stop(layer->loop, &txn->life_timer);
            txn_release_buffers(txn);
        }
    }
    loop_timer_stop(layer->loop, &layer->linger_timer);
    for (size_t i = 0; i < layer->linger_count && layer->linger_oldest != NULL; i++) {
        struct txn_linger *rec = layer->linger_oldest;
        layer->linger_oldest = rec->later;
        sw_free(rec);
    }
    sw_free(layer->pool);
    sw_free(layer->buckets);
    sw_free(layer->linger_buckets);
    arena_free(layer->scratch);
    sw_free(layer);
}

size_t txn_layer_count(const struct txn_layer *layer)
{
    return layer->in_use;
}

static uint64_t key_hash(bool is_server, enum sip_method method, struct sv branch)
{
    /* ACK and CANCEL live in the INVITE's family only through explicit lookups. */
    uint64_t h = sw_hash_sv(branch);
    return h ^ ((uint64_t)method << 1) ^ (is_server ? 1u : 0u);
}

static struct loop *txn_loop(const struct txn *txn)
{
    return txn->layer->loop;
}

static void bucket_insert(struct txn_layer *layer, struct txn *txn)
{
    size_t b = txn->hash & layer->bucket_mask;
    txn->next = layer->buckets[b];
    layer->buckets[b] = txn;
}

static void bucket_remove(struct txn_layer *layer, struct txn *txn)
{
    struct txn **link = &layer->buckets[txn->hash & layer->bucket_mask];
    while (*link != NULL) {
        if (*link == txn) {
            *link = txn->next;
            return;
        }
        link = &(*link)->next;
    }
}

static void txn_destroy(struct txn *txn)
{
    struct txn_layer *layer = txn->layer;
    if (txn->user != NULL && layer->ops.on_terminated != NULL) {
        layer->ops.on_terminated(txn->user, txn);
    }
    loop_timer_stop(txn_loop(txn), &txn->retx_timer);
    loop_timer_stop(txn_loop(txn), &txn->life_timer);
    bucket_remove(layer, txn);
    txn_release_buffers(txn);
    memset(txn, 0, sizeof(*txn));
    txn->next = layer->free_list;
    layer->free_list = txn;
    layer->in_use--;
}

static bool linger_add(struct txn *txn);
static void arm_life(struct txn *txn, uint64_t delay_ms);

static void on_life_timer(struct loop *loop, void *ctx)
{
    (void)loop;
    struct txn *txn = ctx;
    if (txn->is_to_linger && !linger_add(txn)) {
        /* No memory for the record: the transaction itself waits out timer J. */
        txn->is_to_linger = false;
        arm_life(txn, TXN_TIMEOUT_MS);
        return;
    }
    bool is_timeout = txn->state == TXN_ACCEPTED ||
                      (!txn->is_server && (txn->state == TXN_TRYING || txn->state == TXN_CALLING ||
                                           txn->state == TXN_PROCEEDING));
    if (is_timeout && txn->user != NULL && txn->layer->ops.on_timeout != NULL) {
        txn->layer->ops.on_timeout(txn->user, txn);
    }
    txn->state = TXN_TERMINATED;
    txn_destroy(txn);
}

static void arm_life(struct txn *txn, uint64_t delay_ms)
{
    /* A full timer heap would leak the transaction; the heap is sized for the pool. The
     * life timers (B, D, F, H, I, J, K, L) end or time out transactions: 100 ms later than
     * their nominal moment changes nothing a peer can see, and they then share wake-ups. */
    int rc = loop_timer_start_coarse(txn_loop(txn), &txn->life_timer, delay_ms, on_life_timer, txn);
    SW_ASSERT(rc == 0);
}

static void send_stored(struct txn *txn, const char *bytes, size_t len)
{
    if (bytes == NULL) {
        return;
    }
    /* Loss is what retransmission is for; a failed send is not an error here. */
    (void)txn->layer->send(txn->layer->send_ctx, &txn->dest, sv_make(bytes, len));
}

static void on_retx_timer(struct loop *loop, void *ctx)
{
    (void)loop;
    struct txn *txn = ctx;
    send_stored(txn, txn->msg, txn->msg_len);
    bool is_invite_client = !txn->is_server && txn->method == SIP_METHOD_INVITE;
    uint32_t next = txn->interval_ms * 2;
    /* Timer A doubles without cap; E (in PROCEEDING: T2) and G cap at T2. */
    if (!is_invite_client && next > SIP_T2_MS) {
        next = SIP_T2_MS;
    }
    if (!txn->is_server && txn->method != SIP_METHOD_INVITE && txn->state == TXN_PROCEEDING) {
        next = SIP_T2_MS;
    }
    txn->interval_ms = next;
    int rc = loop_timer_start(txn_loop(txn), &txn->retx_timer, next, on_retx_timer, txn);
    SW_ASSERT(rc == 0);
}

static void arm_retx(struct txn *txn)
{
    if (is_reliable(txn)) {
        return;
    }
    txn->interval_ms = SIP_T1_MS;
    int rc = loop_timer_start(txn_loop(txn), &txn->retx_timer, SIP_T1_MS, on_retx_timer, txn);
    SW_ASSERT(rc == 0);
}

static bool store_copy(char **slot, size_t *len, struct sv bytes)
{
    char *copy = sw_malloc(bytes.len);
    if (copy == NULL) {
        return false;
    }
    memcpy(copy, bytes.ptr, bytes.len);
    sw_free(*slot);
    *slot = copy;
    *len = bytes.len;
    return true;
}

static struct txn *txn_alloc(struct txn_layer *layer)
{
    /* Fresh slots only when none is free: the pool's pages are touched as the load
     * grows, not all at start (it is 78 MiB per worker at full size). */
    struct txn *txn = layer->free_list;
    if (txn != NULL) {
        layer->free_list = txn->next;
    } else if (layer->pool_touched < layer->pool_cap) {
        txn = &layer->pool[layer->pool_touched++];
    } else {
        return NULL;
    }
    memset(txn, 0, sizeof(*txn));
    txn->layer = layer;
    txn->is_in_use = true;
    layer->in_use++;
    return txn;
}

static bool via_key(struct sip_msg *msg, struct sv *branch, struct sv *sent_by)
{
    struct sip_err err = { 0 };
    const struct sip_via *via = sip_msg_top_via(msg, &err);
    if (via == NULL || !sip_via_has_rfc3261_branch(via) || via->branch.len >= TXN_BRANCH_MAX) {
        return false;
    }
    *branch = via->branch;
    /* sent-by = host[:port]; the raw via holds it after the transport. */
    *sent_by = via->host;
    return via->host.len < TXN_SENT_BY_MAX;
}

static struct txn *find(struct txn_layer *layer, bool is_server, enum sip_method method,
                        struct sv branch, struct sv sent_by)
{
    uint64_t h = key_hash(is_server, method, branch);
    for (struct txn *t = layer->buckets[h & layer->bucket_mask]; t != NULL; t = t->next) {
        if (t->hash == h && t->is_server == is_server && t->method == method &&
            sv_eq(sv_make(t->branch, t->branch_len), branch) &&
            (!is_server || sv_eq_nocase(sv_make(t->sent_by, t->sent_by_len), sent_by))) {
            return t;
        }
    }
    return NULL;
}

/* ---- lingering non-INVITE server transactions ----------------------------------- */

static struct sv linger_branch(const struct txn_linger *rec)
{
    return sv_make(rec->bytes, rec->branch_len);
}

static struct sv linger_sent_by(const struct txn_linger *rec)
{
    return sv_make(rec->bytes + rec->branch_len, rec->sent_by_len);
}

static void linger_remove(struct txn_layer *layer, struct txn_linger *rec)
{
    struct txn_linger **link = &layer->linger_buckets[rec->hash & layer->bucket_mask];
    while (*link != NULL && *link != rec) {
        link = &(*link)->next;
    }
    if (*link == rec) {
        *link = rec->next;
    }
    layer->linger_count--;
    layer->linger_bytes -= sizeof(*rec) + rec->branch_len + rec->sent_by_len + rec->response_len;
}

static void on_linger_timer(struct loop *loop, void *ctx)
{
    struct txn_layer *layer = ctx;
    uint64_t now_ms = loop_now_ms(loop);
    /* Oldest first: the FIFO is in order of end, so the walk stops at the first live one. */
    while (layer->linger_oldest != NULL && layer->linger_oldest->end_ms <= now_ms) {
        struct txn_linger *rec = layer->linger_oldest;
        layer->linger_oldest = rec->later;
        linger_remove(layer, rec);
        sw_free(rec);
    }
    if (layer->linger_oldest == NULL) {
        layer->linger_newest = NULL;
        return;
    }
    int rc = loop_timer_start_coarse(loop, &layer->linger_timer,
                                     layer->linger_oldest->end_ms - now_ms, on_linger_timer, layer);
    SW_ASSERT(rc == 0);
}

/* Copies what a retransmission needs out of `txn` (about to be freed). False: no memory. */
static bool linger_add(struct txn *txn)
{
    struct txn_layer *layer = txn->layer;
    bool has_addr = txn->dest.addr.ss_family == AF_INET || txn->dest.addr.ss_family == AF_INET6;
    /* Bounded like the pool: beyond pool_cap records the transaction waits in the pool. */
    if (!has_addr || layer->linger_count >= layer->pool_cap || txn->msg == NULL ||
        txn->msg_len > UINT32_MAX || txn->branch_len > UINT8_MAX || txn->sent_by_len > UINT8_MAX) {
        return false;
    }
    size_t len = txn->branch_len + txn->sent_by_len + txn->msg_len;
    struct txn_linger *rec = sw_malloc(sizeof(*rec) + len);
    if (rec == NULL) {
        return false;
    }
    memset(rec, 0, sizeof(*rec));
    rec->hash = txn->hash;
    rec->end_ms = loop_now_ms(layer->loop) + TXN_TIMEOUT_MS;
    rec->listener = txn->dest.listener;
    memcpy(&rec->addr, &txn->dest.addr,
           txn->dest.addr.ss_family == AF_INET ? sizeof(rec->addr.v4) : sizeof(rec->addr.v6));
    rec->method = (uint8_t)txn->method;
    rec->branch_len = (uint8_t)txn->branch_len;
    rec->sent_by_len = (uint8_t)txn->sent_by_len;
    rec->response_len = (uint32_t)txn->msg_len;
    memcpy(rec->bytes, txn->branch, txn->branch_len);
    memcpy(rec->bytes + txn->branch_len, txn->sent_by, txn->sent_by_len);
    memcpy(rec->bytes + txn->branch_len + txn->sent_by_len, txn->msg, txn->msg_len);
    size_t b = rec->hash & layer->bucket_mask;
    rec->next = layer->linger_buckets[b];
    layer->linger_buckets[b] = rec;
    if (layer->linger_newest != NULL) {
        layer->linger_newest->later = rec;
    } else {
        layer->linger_oldest = rec;
        int rc = loop_timer_start_coarse(layer->loop, &layer->linger_timer, TXN_TIMEOUT_MS,
                                         on_linger_timer, layer);
        SW_ASSERT(rc == 0);
    }
    layer->linger_newest = rec;
    layer->linger_count++;
    layer->linger_bytes += sizeof(*rec) + len;
    return true;
}

bool txn_server_absorb_lingering(struct txn_layer *layer, struct sip_msg *request)
{
    struct sv branch;
    struct sv sent_by;
    if (layer->linger_count == 0 || request->method == SIP_METHOD_INVITE ||
        request->method == SIP_METHOD_ACK || !via_key(request, &branch, &sent_by)) {
        return false;
    }
    uint64_t h = key_hash(true, request->method, branch);
    for (const struct txn_linger *rec = layer->linger_buckets[h & layer->bucket_mask]; rec != NULL;
         rec = rec->next) {
        if (rec->hash == h && rec->method == (uint8_t)request->method &&
            sv_eq(linger_branch(rec), branch) && sv_eq_nocase(linger_sent_by(rec), sent_by)) {
            struct net_dest dest = { .transport = SW_TRANSPORT_UDP, .listener = rec->listener };
            memcpy(&dest.addr, &rec->addr, sizeof(rec->addr));
            struct sv response =
                sv_make(linger_sent_by(rec).ptr + rec->sent_by_len, rec->response_len);
            /* Loss is what retransmission is for; a failed send is not an error here. */
            (void)layer->send(layer->send_ctx, &dest, response);
            return true;
        }
    }
    return false;
}

size_t txn_layer_lingering(const struct txn_layer *layer, size_t *bytes)
{
    if (bytes != NULL) {
        *bytes = layer->linger_bytes;
    }
    return layer->linger_count;
}

struct txn *txn_server_find(struct txn_layer *layer, struct sip_msg *request)
{
    struct sv branch;
    struct sv sent_by;
    if (!via_key(request, &branch, &sent_by)) {
        return NULL;
    }
    enum sip_method method =
        request->method == SIP_METHOD_ACK ? SIP_METHOD_INVITE : request->method;
    return find(layer, true, method, branch, sent_by);
}

struct txn *txn_server_find_invite(struct txn_layer *layer, struct sip_msg *cancel)
{
    struct sv branch;
    struct sv sent_by;
    if (!via_key(cancel, &branch, &sent_by)) {
        return NULL;
    }
    return find(layer, true, SIP_METHOD_INVITE, branch, sent_by);
}

struct txn *txn_server_new(struct txn_layer *layer, struct sip_msg *request,
                           const struct net_dest *reply_to, void *user)
{
    struct sv branch;
    struct sv sent_by;
    if (!via_key(request, &branch, &sent_by)) {
        return NULL;
    }
    struct txn *txn = txn_alloc(layer);
    if (txn == NULL) {
        return NULL;
    }
    txn->is_server = true;
    txn->method = request->method;
    txn->state = request->method == SIP_METHOD_INVITE ? TXN_PROCEEDING : TXN_TRYING;
    memcpy(txn->branch, branch.ptr, branch.len);
    txn->branch_len = branch.len;
    memcpy(txn->sent_by, sent_by.ptr, sent_by.len);
    txn->sent_by_len = sent_by.len;
    txn->dest = *reply_to;
    txn->user = user;
    txn->hash = key_hash(true, txn->method, branch);
    bucket_insert(layer, txn);
    /* A request the TU never answers must not live forever: 64*T1 covers any UAS. */
    arm_life(txn, txn->method == SIP_METHOD_INVITE ? (uint64_t)5 * 60 * 1000 : TXN_TIMEOUT_MS);
    return txn;
}

bool txn_server_absorb(struct txn *txn, struct sip_msg *request)
{
    if (request->method == SIP_METHOD_ACK) {
        if (txn->method == SIP_METHOD_INVITE && txn->state == TXN_COMPLETED) {
            txn->state = TXN_CONFIRMED;
            loop_timer_stop(txn_loop(txn), &txn->retx_timer);
            /* Timer I absorbs ACK retransmissions (T4 on UDP, 0 on streams). */
            arm_life(txn, is_reliable(txn) ? 0 : SIP_T4_MS);
        }
        return true;
    }
    /* A retransmitted request gets the last response again (none yet: stay silent). */
    send_stored(txn, txn->msg, txn->msg_len);
    return true;
}

int txn_server_respond(struct txn *txn, uint16_t status, struct sv response)
{
    if (txn->state != TXN_TRYING && txn->state != TXN_PROCEEDING) {
        return -SW_EBADARG;
    }
    if (!store_copy(&txn->msg, &txn->msg_len, response)) {
        return -ENOMEM;
    }
    txn->last_status = status;
    int rc = txn->layer->send(txn->layer->send_ctx, &txn->dest, response);
    if (status < 200) {
        txn->state = TXN_PROCEEDING;
        return rc;
    }
    if (txn->method == SIP_METHOD_INVITE && status < 300) {
        /* RFC 6026: the 2xx is retransmitted until the TU reports the ACK, and a
         * retransmitted INVITE is absorbed instead of starting a second call. */
        txn->state = TXN_ACCEPTED;
        arm_retx(txn);
        arm_life(txn, TXN_TIMEOUT_MS);
        return rc;
    }
    txn->state = TXN_COMPLETED;
    if (txn->method == SIP_METHOD_INVITE) {
        arm_retx(txn);                 /* timer G */
        arm_life(txn, TXN_TIMEOUT_MS); /* timer H */
    } else {
        /* Timer J is 0 on streams; on UDP the compact record waits it out (txn_linger). */
        txn->is_to_linger = !is_reliable(txn);
        arm_life(txn, 0);
    }
    return rc;
}

struct txn *txn_client_new(struct txn_layer *layer, enum sip_method method, struct sv branch,
                           const struct net_dest *dest, struct sv request, void *user)
{
    if (branch.len >= TXN_BRANCH_MAX) {
        return NULL;
    }
    struct txn *txn = txn_alloc(layer);
    if (txn == NULL) {
        return NULL;
    }
    txn->method = method;
    txn->state = method == SIP_METHOD_INVITE ? TXN_CALLING : TXN_TRYING;
    memcpy(txn->branch, branch.ptr, branch.len);
    txn->branch_len = branch.len;
    txn->dest = *dest;
    txn->hash = key_hash(false, method, branch);
    bucket_insert(layer, txn);
    if (!store_copy(&txn->msg, &txn->msg_len, request) ||
        layer->send(layer->send_ctx, dest, request) != 0) {
        txn_destroy(txn);
        return NULL;
    }
    txn->user = user;
    arm_retx(txn);                 /* timer A / E */
    arm_life(txn, TXN_TIMEOUT_MS); /* timer B / F */
    return txn;
}

struct txn *txn_client_find(struct txn_layer *layer, struct sip_msg *response)
{
    struct sip_err err = { 0 };
    const struct sip_via *via = sip_msg_top_via(response, &err);
    const struct sip_cseq *cseq = sip_msg_cseq(response, &err);
    if (via == NULL || cseq == NULL || !sv_is_present(via->branch)) {
        return NULL;
    }
    return find(layer, false, cseq->method, via->branch, SV_NULL);
}

/*
 * RFC 3261 §17.1.1.3: the ACK of a non-2xx final has the INVITE's Request-URI, top Via,
 * From, Call-ID, CSeq number and Route, and the response's To (with its tag).
 */
static void build_ack(struct txn *txn, struct sip_msg *response)
{
    struct sip_limits limits;
    sip_limits_default(&limits);
    struct sip_msg invite;
    struct sip_err err = { 0 };
    arena_reset(txn->layer->scratch);
    if (sip_msg_parse(sv_make(txn->msg, txn->msg_len), false, &limits, txn->layer->scratch, &invite,
                      &err) != 0) {
        return;
    }
    const struct sip_hdr *to = sip_msg_find(response, SIP_HDR_TO, NULL);
    const struct sip_hdr *via = sip_msg_find(&invite, SIP_HDR_VIA, NULL);
    const struct sip_hdr *from = sip_msg_find(&invite, SIP_HDR_FROM, NULL);
    const struct sip_cseq *cseq = sip_msg_cseq(&invite, &err);
    if (to == NULL || via == NULL || from == NULL || cseq == NULL) {
        return;
    }
    char storage[4096];
    struct sw_buf out;
    sw_buf_init(&out, storage, sizeof(storage));
    sw_buf_fmt(&out, "ACK " SV_FMT " SIP/2.0\r\nVia: " SV_FMT "\r\nMax-Forwards: 70\r\n",
               SV_ARG(invite.ruri), SV_ARG(via->value));
    sw_buf_fmt(&out, "From: " SV_FMT "\r\nTo: " SV_FMT "\r\nCall-ID: " SV_FMT "\r\n",
               SV_ARG(from->value), SV_ARG(to->value), SV_ARG(sip_msg_call_id(&invite)));
    sw_buf_fmt(&out, "CSeq: %u ACK\r\n", cseq->seq);
    for (const struct sip_hdr *r = sip_msg_find(&invite, SIP_HDR_ROUTE, NULL); r != NULL;
         r = sip_msg_find(&invite, SIP_HDR_ROUTE, r)) {
        sw_buf_fmt(&out, "Route: " SV_FMT "\r\n", SV_ARG(r->value));
    }
    sw_buf_str(&out, "Content-Length: 0\r\n\r\n");
    if (!out.is_overflow) {
        /* Without memory for the ACK the peer retransmits its final and we try again. */
        (void)store_copy(&txn->ack, &txn->ack_len, sw_buf_view(&out));
    }
}

static void client_final(struct txn *txn, struct sip_msg *response)
{
    loop_timer_stop(txn_loop(txn), &txn->retx_timer);
    if (txn->method == SIP_METHOD_INVITE && response->status >= 300) {
        build_ack(txn, response);
        send_stored(txn, txn->ack, txn->ack_len);
        txn->state = TXN_COMPLETED;
        arm_life(txn, is_reliable(txn) ? 0 : 32000u); /* timer D */
        return;
    }
    if (txn->method == SIP_METHOD_INVITE) {
        /* 2xx: the TU ACKs end to end; 2xx retransmissions reach it through the dialog. */
        txn->state = TXN_TERMINATED;
        arm_life(txn, 0);
        return;
    }
    txn->state = TXN_COMPLETED;
    arm_life(txn, is_reliable(txn) ? 0 : SIP_T4_MS); /* timer K */
}

void txn_server_acked(struct txn *txn)
{
    if (txn->state != TXN_ACCEPTED) {
        return;
    }
    loop_timer_stop(txn_loop(txn), &txn->retx_timer);
    txn->state = TXN_TERMINATED;
    /* Linger briefly so that a late INVITE retransmission still finds its 2xx. */
    arm_life(txn, is_reliable(txn) ? 0 : SIP_T4_MS);
}

bool txn_client_receive(struct txn *txn, struct sip_msg *response)
{
    if (txn->state == TXN_COMPLETED || txn->state == TXN_TERMINATED) {
        if (txn->method == SIP_METHOD_INVITE && response->status >= 300) {
            send_stored(txn, txn->ack, txn->ack_len);
        }
        return false;
    }
    txn->last_status = response->status;
    if (response->status < 200) {
        if (txn->method == SIP_METHOD_INVITE) {
            loop_timer_stop(txn_loop(txn), &txn->retx_timer);
            /* Timer B no longer applies once the far end answered (RFC 3261 §17.1.1.2);
             * the TU runs its own ringing timeout. */
            loop_timer_stop(txn_loop(txn), &txn->life_timer);
        }
        txn->state = TXN_PROCEEDING;
    } else {
        client_final(txn, response);
    }
    if (txn->user != NULL) {
        txn->layer->ops.on_response(txn->user, txn, response);
    }
    return true;
}

void txn_detach(struct txn *txn)
{
    txn->user = NULL;
}

enum txn_state txn_state(const struct txn *txn)
{
    return txn->state;
}

enum sip_method txn_method(const struct txn *txn)
{
    return txn->method;
}

uint16_t txn_last_status(const struct txn *txn)
{
    return txn->last_status;
}

void *txn_user(const struct txn *txn)
{
    return txn->user;
}

void txn_set_user(struct txn *txn, void *user)
{
    txn->user = user;
}

const struct net_dest *txn_dest(const struct txn *txn)
{
    return &txn->dest;
}

struct sv txn_request(const struct txn *txn)
{
    return txn->is_server ? SV_NULL : sv_make(txn->msg, txn->msg_len);
}

struct sv txn_branch(const struct txn *txn)
{
    return sv_make(txn->branch, txn->branch_len);
}

struct sv txn_branch_new(char *out, size_t cap)
{
    SW_ASSERT(cap >= 28);
    memcpy(out, SIP_BRANCH_COOKIE, 7);
    sw_random_hex(out + 7, 20);
    out[27] = '\0';
    return sv_make(out, 27);
}
