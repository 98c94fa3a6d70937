/*
 * A client of rtpengine's ng control protocol: each request is "<cookie> <bencoded dict>"
 * in one UDP datagram, and rtpengine answers "<cookie> <bencoded dict>" with the same
 * cookie (it keeps recent answers by cookie, so a retransmission is answered, not run
 * twice). Commands: ping, offer, answer, delete, query.
 *
 * The client never blocks: it runs on one worker's event loop (net/loop.h) with a connected,
 * non-blocking UDP socket per rtpengine, retransmits on a timer, and calls the request's
 * completion callback from the loop when the answer arrives or every try has failed.
 * Several rtpengines may be configured with weights: a new call (a request without a
 * server) goes to an rtpengine that is up, chosen by weight; the reply names the server,
 * and the rest of that call's requests must name it too. An rtpengine is down after a
 * request to it timed out or its port was refused, and up again after it answered
 * (pings every `ping_interval_ms` check the ones that are down, and the others too).
 *
 * The up/down view may be shared (struct rtpengine_health, one per gateway): then one
 * worker's ping answered or request timed out counts for every worker's client, so that no
 * worker refuses calls to an rtpengine that another has seen come back, and a transition is
 * logged once.
 *
 * Memory: rtpengine_new() allocates the pending table (max_pending slots) and a receive
 * buffer; each request in flight holds a heap copy of its datagram for retransmission.
 * Threads: one client belongs to one loop; every function runs in that loop's thread. A
 * shared health table is safe from any thread.
 */
#ifndef SW_CALL_RTPENGINE_H
#define SW_CALL_RTPENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/sv.h"
#include "call/bencode.h"

struct loop;
struct rtpengine;

#define RTPENGINE_MAX_SERVERS  8
#define RTPENGINE_MAX_OPTIONS  8
#define RTPENGINE_MAX_LISTS    4
/* Longest retransmission and ping interval accepted (ms). */
#define RTPENGINE_MAX_DELAY_MS 300000u
/* Request.server value: let the client choose (new calls, pings of all servers). */
#define RTPENGINE_ANY_SERVER   SIZE_MAX

enum rtpengine_command {
    RTPENGINE_PING,
    RTPENGINE_OFFER,
    RTPENGINE_ANSWER,
    RTPENGINE_DELETE,
    RTPENGINE_QUERY,
};

struct rtpengine_server {
    struct sockaddr_storage addr; /* the ng listener (UDP) */
    uint32_t weight;              /* 0 is taken as 1 */
};

/* Addresses a health table knows; past that, a client keeps its own view of the others. */
#define RTPENGINE_HEALTH_SLOTS 32

/* Whether each rtpengine (by address) answers, as all the clients sharing the table saw it
 * last. Outlives every client that uses it. */
struct rtpengine_health {
    pthread_mutex_t lock; /* finding or adding an address; the flags are atomic */
    size_t used;
    struct sockaddr_storage addrs[RTPENGINE_HEALTH_SLOTS];
    atomic_bool is_up[RTPENGINE_HEALTH_SLOTS];
};

/* 0, or -errno when the lock cannot be made. Every address starts up. */
int rtpengine_health_init(struct rtpengine_health *health);
void rtpengine_health_destroy(struct rtpengine_health *health);

struct rtpengine_settings {
    struct rtpengine_health *health; /* shared with other clients, or NULL: a view of its own */
    struct rtpengine_server servers[RTPENGINE_MAX_SERVERS];
    size_t server_count;
    uint32_t retransmit_ms;    /* wait for an answer before sending again; 0 = 500 */
    uint32_t max_tries;        /* sends per server before it counts as down; 0 = 3 */
    uint32_t ping_interval_ms; /* health checks; 0 = none (a down server is then tried
                                  again by the next request when no server is up) */
    uint32_t max_pending;      /* requests in flight; 0 = 1024 */
};

/* A string-valued entry of the request dictionary, e.g. "ICE": "remove". */
struct rtpengine_option {
    const char *key;
    struct sv value;
};

/* A list-valued entry, e.g. "flags": ["strict-source"] or "replace": ["origin"]. */
struct rtpengine_list {
    const char *key;
    const struct sv *items;
    size_t count;
};

/* One request. Views are copied into the datagram by rtpengine_send(). */
struct rtpengine_request {
    enum rtpengine_command command;
    struct sv call_id; /* required except for ping */
    struct sv from_tag;
    struct sv to_tag;
    struct sv via_branch;
    struct sv sdp; /* offer, answer */
    struct rtpengine_option options[RTPENGINE_MAX_OPTIONS];
    size_t option_count;
    struct rtpengine_list lists[RTPENGINE_MAX_LISTS];
    size_t list_count;
    size_t server; /* RTPENGINE_ANY_SERVER, or the server a previous reply of the call named */
};

/*
 * What came back. status 0: rtpengine answered with result "ok" or "pong" ("sdp" holds
 * the rewritten SDP of an offer or answer). Otherwise: -EPROTO when rtpengine
 * answered "error" (error_reason says why), -ETIMEDOUT when no server answered,
 * -SW_EBADMSG when the answer was not a bencoded dictionary with a result. Views and
 * `doc` point into the client's receive buffer: valid only during the callback.
 */
struct rtpengine_reply {
    int status;
    size_t server; /* the server that answered or was tried last */
    struct sv result;
    struct sv error_reason;
    struct sv sdp;
    const struct bencode_doc *doc; /* the whole answer (NULL when none); the dict is node 0 */
};

typedef void rtpengine_done_fn(void *ctx, const struct rtpengine_reply *reply);

/* Counters since rtpengine_new(). */
struct rtpengine_stats {
    uint64_t requests;    /* accepted by rtpengine_send() */
    uint64_t sent;        /* datagrams, retransmissions included */
    uint64_t retransmits; /* datagrams sent again */
    uint64_t answers;     /* matched answers */
    uint64_t timeouts;    /* requests that failed for want of an answer */
    uint64_t stray;       /* datagrams matching no request (late, duplicate, forged) */
};

/*
 * A client on `loop` (and its thread) for the servers of `settings` (at least one). Returns
 * NULL with *err = -errno / -SW_EBADARG (no server, too many, a delay over
 * RTPENGINE_MAX_DELAY_MS). Starts the health-check timer when configured.
 */
struct rtpengine *rtpengine_new(struct loop *loop, const struct rtpengine_settings *settings,
                                int *err);

/* Closes the sockets and forgets every request in flight without calling its callback;
 * NULL is a no-op. Not from inside a callback. */
void rtpengine_free(struct rtpengine *client);

/*
 * Sends `request`; `done(ctx, reply)` is called exactly once later from the loop, unless
 * rtpengine_cancel() comes first. Returns 0 and a handle in *handle (may be NULL), or
 * -SW_EFULL (max_pending in flight), -SW_ETOOBIG (over 64 KiB), -SW_EBADARG (server out of
 * range, missing call-id) or -EHOSTUNREACH (health checks run and every server is down):
 * then `done` is never called.
 */
int rtpengine_send(struct rtpengine *client, const struct rtpengine_request *request,
                   rtpengine_done_fn *done, void *ctx, uint64_t *handle);

/* Forgets the request `handle` (its callback is not called); a no-op when already done. */
void rtpengine_cancel(struct rtpengine *client, uint64_t handle);

/* True while server `index` counts as up (at start every server does). */
bool rtpengine_server_is_up(const struct rtpengine *client, size_t index);

/* Requests in flight. */
size_t rtpengine_pending(const struct rtpengine *client);

struct rtpengine_stats rtpengine_stats(const struct rtpengine *client);

/* The ng name of `command` ("offer"...). */
const char *rtpengine_command_name(enum rtpengine_command command);

#endif
