/*
 * The transaction layer of RFC 3261 §17, one instance per worker (single-threaded: every
 * call comes from the owning worker's thread). Server and client transactions, INVITE and
 * non-INVITE, with the UDP retransmission timers (A, B, D, E, F, G, H, I, J, K) driven by
 * the worker's loop; on reliable transports retransmissions are off and the absorbing
 * timers are zero.
 *
 * Memory: transactions come from a pool of fixed size set at txn_layer_new(); a full pool
 * makes txn_*_new() return NULL (the caller answers 503). Each transaction keeps a heap
 * copy of the message it may have to retransmit. A non-INVITE server transaction on UDP
 * that sent its final response leaves the pool (the TU is told it terminated) for a
 * compact record that answers retransmissions until timer J (64*T1): its key, where to
 * send and the response, one allocation (txn_layer_lingering() counts them and their
 * bytes; txn_server_absorb_lingering() answers with them). At most `max_txns` records
 * linger; beyond, or without memory, the transaction waits out timer J in the pool.
 */
#ifndef SW_CALL_TXN_H
#define SW_CALL_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"
#include "net/loop.h"
#include "net/worker.h"
#include "sip/method.h"

struct sip_msg;
struct txn;
struct txn_layer;

/* RFC 3261 §17.1.1.1 timer values (ms). */
#define SIP_T1_MS 500u
#define SIP_T2_MS 4000u
#define SIP_T4_MS 5000u

enum txn_state {
    TXN_TRYING,     /* non-INVITE, no response yet */
    TXN_CALLING,    /* client INVITE, no response yet */
    TXN_PROCEEDING, /* a provisional response was sent/received */
    TXN_COMPLETED,  /* a final response was sent/received; absorbing retransmissions */
    TXN_CONFIRMED,  /* server INVITE: the ACK for a non-2xx arrived */
    TXN_ACCEPTED,   /* server INVITE: a 2xx was sent; retransmitted until the TU sees the ACK
                     * (RFC 6026 §7.1) */
    TXN_TERMINATED,
};

/* What the transaction user (the B2BUA) is told. All run in the worker thread. */
struct txn_user_ops {
    /* A response for a client transaction (retransmitted finals are absorbed). */
    void (*on_response)(void *user, struct txn *txn, struct sip_msg *response);
    /* Client: timer B/F fired (the TU acts as if 408 arrived). Server INVITE in ACCEPTED:
     * the ACK for the 2xx never came (the TU ends the dialog, RFC 3261 §13.3.1.4). */
    void (*on_timeout)(void *user, struct txn *txn);
    /* The transaction is about to be freed: the TU forgets its pointer. */
    void (*on_terminated)(void *user, struct txn *txn);
};

/* A layer for `worker` with room for `max_txns` transactions. NULL when out of memory. */
struct txn_layer *txn_layer_new(struct worker *worker, size_t max_txns,
                                const struct txn_user_ops *ops);

/* How a layer sends bytes: worker_send() for txn_layer_new(). Returns 0 or -errno. */
typedef int txn_send_fn(void *ctx, const struct net_dest *dst, struct sv data);

/*
 * The seam for unit tests (tests/unit/call/test_txn.c): a layer whose timers run on
 * `loop` (driven by a manual clock, loop_advance_ms()) and whose messages go through
 * `send` (a fake transport) instead of a worker. Otherwise as txn_layer_new().
 */
struct txn_layer *txn_layer_new_on(struct loop *loop, txn_send_fn *send, void *send_ctx,
                                   size_t max_txns, const struct txn_user_ops *ops);

/* Frees every transaction (without callbacks) and the layer. NULL is a no-op. */
void txn_layer_free(struct txn_layer *layer);

/* Transactions in use (in the pool; lingering records not included). */
size_t txn_layer_count(const struct txn_layer *layer);

/*
 * Lingering records of non-INVITE server transactions (see above); *bytes (may be NULL)
 * receives the heap bytes they hold in all.
 */
size_t txn_layer_lingering(const struct txn_layer *layer, size_t *bytes);

/*
 * The server transaction a request belongs to (RFC 3261 §17.2.3: top Via branch, sent-by,
 * method; an ACK matches its INVITE), or NULL. A request without an RFC 3261 branch
 * never matches.
 */
struct txn *txn_server_find(struct txn_layer *layer, struct sip_msg *request);

/* The INVITE server transaction a CANCEL targets (same branch and sent-by), or NULL. */
struct txn *txn_server_find_invite(struct txn_layer *layer, struct sip_msg *cancel);

/*
 * A retransmitted non-INVITE request whose transaction lingers (it completed on UDP less
 * than 64*T1 ago): sends the stored final response again and returns true. False when no
 * lingering record matches (by the rules of txn_server_find).
 */
bool txn_server_absorb_lingering(struct txn_layer *layer, struct sip_msg *request);

/*
 * Handles a retransmitted request or an ACK for a server transaction (resends the last
 * response, or moves to CONFIRMED). Returns true when the message was absorbed.
 */
bool txn_server_absorb(struct txn *txn, struct sip_msg *request);

/*
 * A new server transaction for `request`, whose responses go to `reply_to`. NULL when the
 * pool is full or the request has no RFC 3261 branch.
 */
struct txn *txn_server_new(struct txn_layer *layer, struct sip_msg *request,
                           const struct net_dest *reply_to, void *user);

/*
 * Sends a response (complete bytes) on a server transaction and keeps it for
 * retransmission. A 2xx to an INVITE moves to ACCEPTED: the 2xx is retransmitted (UDP)
 * until txn_server_acked(), and retransmitted INVITEs get it again. Returns 0 or -errno.
 */
int txn_server_respond(struct txn *txn, uint16_t status, struct sv response);

/* The TU saw the ACK for this INVITE transaction's 2xx: stop retransmitting it. */
void txn_server_acked(struct txn *txn);

/*
 * A new client transaction: sends `request` (complete bytes, top Via branch `branch`) to
 * `dest` and retransmits it as RFC 3261 says. NULL when the pool is full or the send
 * failed at once.
 */
struct txn *txn_client_new(struct txn_layer *layer, enum sip_method method, struct sv branch,
                           const struct net_dest *dest, struct sv request, void *user);

/* The client transaction a response belongs to (top Via branch + CSeq method), or NULL. */
struct txn *txn_client_find(struct txn_layer *layer, struct sip_msg *response);

/*
 * Handles a response for a client transaction: absorbs retransmitted finals (re-sending
 * the ACK of a non-2xx), sends the ACK for a non-2xx final to an INVITE, runs the state
 * machine and calls on_response. Returns true when the response was delivered.
 */
bool txn_client_receive(struct txn *txn, struct sip_msg *response);

/* Detaches the TU: no more callbacks for this transaction (it finishes on its own). */
void txn_detach(struct txn *txn);

/* Accessors. */
enum txn_state txn_state(const struct txn *txn);
enum sip_method txn_method(const struct txn *txn);
uint16_t txn_last_status(const struct txn *txn);
void *txn_user(const struct txn *txn);
void txn_set_user(struct txn *txn, void *user);
const struct net_dest *txn_dest(const struct txn *txn);
/* The client transaction's request bytes (to build a CANCEL from). */
struct sv txn_request(const struct txn *txn);
struct sv txn_branch(const struct txn *txn);

/* A fresh branch "z9hG4bK" + 20 random hex digits into `out` (cap >= 28). */
struct sv txn_branch_new(char *out, size_t cap);

#endif
