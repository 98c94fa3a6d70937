/*
 * Redis backend for the ban store: several sipwarden nodes share their bans.
 *
 * Each ban is a key "<prefix>ban:<ip>" holding the entry as text, with a TTL of its end
 * plus `history_s` (no TTL for a ban without end), and every change is published on the
 * channel "<prefix>bans", so the other nodes learn a ban at once instead of waiting for
 * the source to fail against them too. Text of a key or message:
 *   v1 add <node> <ip> <start_s> <end_s> <offence> <auto|manual> <reason...>
 *   v1 del <node> <ip>
 * A node ignores its own messages (by node id).
 *
 * Threads: a writer thread owns one connection and writes changes from a bounded queue
 * (ban callbacks only copy the change in); a full queue drops the change, counts it and
 * makes the writer re-send every active ban once Redis answers again, and so does a lost
 * connection (Redis may come back empty). A subscriber
 * thread owns a second connection: it subscribes, then reads every key (SCAN) so that
 * nothing published while it was away is missed, and applies what other nodes publish
 * (ban_store_apply with this backend as origin: not sent back to Redis, but persisted
 * by SQLite and acted on by ban actions). Both reconnect with a backoff of 100 ms
 * doubling to 5 s; a Redis outage never blocks a worker and the local table keeps
 * enforcing every ban it has.
 *
 * Use: ban_redis_open(), then ban_store_attach(store, &ban_redis_ops, r): the attach
 * loads the shared bans (a Redis that is down is logged and retried, not fatal) and
 * starts the threads. ban_store_free() closes it.
 */
#ifndef SW_STATE_BAN_REDIS_H
#define SW_STATE_BAN_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "state/ban.h"

struct ban_redis_config {
    const char *host;     /* NULL = "127.0.0.1" */
    uint16_t port;        /* 0 = 6379 */
    const char *prefix;   /* NULL = "sipwarden:"; [A-Za-z0-9:_-], at most 64 bytes */
    const char *node_id;  /* NULL = "<hostname>:<pid>"; no spaces, at most 64 bytes */
    uint32_t history_s;   /* kept after the end (repeat offenders); 0 = 30 days */
    unsigned timeout_ms;  /* connect and command timeout; 0 = 1000 */
    const char *user;     /* Redis ACL user; NULL = the default user */
    const char *password; /* NULL = no login */
    size_t queue_cap;     /* 0 = 4096 */
};

struct ban_redis_stats {
    uint64_t written;    /* changes written to Redis */
    uint64_t received;   /* changes applied from other nodes (messages and scans) */
    uint64_t dropped;    /* changes dropped on a full queue */
    uint64_t reconnects; /* connections made after a failure */
    uint64_t errors;     /* Redis errors (logged, rate-limited) */
};

struct ban_redis;

/* The backend operations to attach. */
extern const struct ban_store_ops ban_redis_ops;

/* Validates and allocates (no connection yet). Returns 0, -SW_EBADARG or -ENOMEM. */
int ban_redis_open(const struct ban_redis_config *cfg, struct ban_redis **out);

/* Counters (any thread). */
void ban_redis_stats_get(struct ban_redis *r, struct ban_redis_stats *out);

#endif
