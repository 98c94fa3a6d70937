/*
 * A cluster of gateways (issue #15): the counters several sipwarden nodes share through
 * Redis, beside the bans (state/ban_redis.h).
 *
 * Failure counts. Each failure a node counts (the local failure tracker's COUNTED
 * verdict: retransmissions are not) is added to the key "<prefix>fail:<ip>" by one
 * atomic script (INCR, and PEXPIRE findtime on the first), so an attacker spreading
 * guesses over the nodes meets one count. The node whose addition reaches `maxretry`
 * calls `on_ban`, which bans through the ban store; the ban store's Redis backend then
 * carries the ban to every node. The local tracker keeps counting as before: it is the
 * fallback that still bans at `maxretry` local failures when Redis is away.
 *
 * Threads: cluster_failure() only copies the failure into a bounded queue under a short
 * lock (any thread: the workers call it inline), never touches the network and never
 * blocks on Redis. One thread of its own owns the connection: an operation leaves the
 * queue only once Redis took it, so failures counted while Redis is down are added when
 * it returns; a full queue drops the oldest and counts it. `on_ban` runs in that thread.
 * Reconnects back off from 100 ms to 5 s; the first failure of a streak is logged.
 *
 * Concurrent-call caps. The cap of each trunk and account (a callcount slot marked with
 * callcount_share) is split between the nodes as grants: the hash
 * "<prefix>calls:<t|a>:<name>" maps each node to the number of calls it may hold, and
 * one script grants a node min(what it asks, cap - the other live nodes' grants), so the
 * grants never add up to more than the cap and two nodes taking the last place at once
 * cannot both have it. A worker reserves against its node's grant in memory
 * (callcount_reserve), never waiting for Redis. The thread asks for in-use + a spare
 * (cap / 10, at least 1) when a reservation meets the grant, and gives back what is
 * beyond twice the spare about once a second. A node is live while its lease key
 * "<prefix>node:<node>" exists (renewed every second, CLUSTER_LEASE_MS): the grants of a
 * node that died are dropped by the next script that meets them, so its calls stop
 * counting within the lease.
 *
 * Spending caps. Once cluster_share_spend() is called, every budget with caps of the
 * spend store (state/spendstore.h) holds a grant of money the same way: the hash
 * "<prefix>spend:<budget>" keeps each node's closed spend of the day and the month and
 * each node's grant, and one script (spend_script) takes a node's report and grants it at
 * most what the caps leave after the cluster's closed spend and the live others' grants.
 * The store asks for more half a spare before a grant is used up (the thread runs at
 * once), and every budget with calls or spend to report is reported once a second; idle
 * budgets holding more than they want give it back then.
 *
 * Velocity counts. Once cluster_share_velocity() is called, the keys dialled since the
 * last round (state/velshare.h) are published to "<prefix>vel:<key>" (a hash node ->
 * its counts and when) by one script that answers the other nodes' sums; a dial wakes
 * the thread, so a round batches what came in meanwhile.
 *
 * Registrations. Once cluster_share_registrations() is called, the bindings this node
 * holds are published and the other nodes' read (state/regshare.h), at most every
 * REGSHARE_POLL_MS; a binding change wakes the thread.
 *
 * Redis away (never open): every shared slot's grant becomes the node's local share of
 * the cap (`local_share_pct`, at least 1 call), so the cluster exceeds a cap by at most
 * the nodes' shares beyond it; `on_state` is told, and again when Redis answers, after
 * which every grant is asked for anew (a restarted, empty Redis learns them back). Until
 * Redis first answers, the local share applies. A budget's local share is
 * `local_share_pct` of what its caps leave after the cluster's spend as last known.
 */
#ifndef SW_STATE_CLUSTER_H
#define SW_STATE_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"

#define CLUSTER_LEASE_MS 5000u

struct callcount;
struct spend_store;
struct velshare;
struct regshare;

struct cluster_config {
    const char *host;         /* NULL = "127.0.0.1" */
    uint16_t port;            /* 0 = 6379 */
    const char *prefix;       /* NULL = "sipwarden:"; [A-Za-z0-9:_.-], at most 64 bytes */
    unsigned timeout_ms;      /* connect and command timeout; 0 = 1000 */
    size_t queue_cap;         /* 0 = 4096; at most 1 Mi */
    uint32_t maxretry;        /* failures in all that ban; 0 = 3 */
    uint32_t findtime_s;      /* window of the shared count, from its first failure; 0 = 300 */
    const char *node;         /* this node's name; NULL = "<hostname>:<pid>" */
    struct callcount *calls;  /* slots whose caps are shared; NULL = none */
    uint32_t local_share_pct; /* part of each cap a node uses while Redis is away; 0 = 50 */
    const char *user;         /* Redis ACL user; NULL = the default user */
    const char *password;     /* NULL = no login */
};

struct cluster_stats {
    uint64_t operations;    /* operations Redis took */
    uint64_t dropped;       /* operations dropped on a full queue */
    uint64_t bans;          /* on_ban calls */
    uint64_t errors;        /* failed connections and commands */
    uint64_t grants;        /* grant scripts run */
    uint64_t spend_grants;  /* spend scripts run */
    uint64_t velocity_sent; /* velocity scripts run */
    uint64_t cpu_ns;        /* CPU time of the cluster thread */
    bool is_connected;      /* the last operation reached Redis */
};

/* Called in the cluster thread when `ip`'s shared count reaches maxretry. */
typedef void cluster_ban_fn(void *ctx, const struct sw_ip *ip, uint32_t failures);

/*
 * Called in the cluster thread when Redis stops answering (false; also when it does not
 * answer at start) and when it answers again (true).
 */
typedef void cluster_state_fn(void *ctx, bool is_up);

struct cluster;

/* Validates and allocates; no connection yet. Returns 0, -SW_EBADARG or -ENOMEM. */
int cluster_new(const struct cluster_config *cfg, cluster_ban_fn *on_ban, void *ctx,
                struct cluster **out);

/* Sets the state callback (before cluster_start). */
void cluster_on_state(struct cluster *c, cluster_state_fn *fn);

/*
 * Shares the caps of `spend`'s budgets (before cluster_start; the store must outlive the
 * cluster). Sets the store's wanted hook.
 */
void cluster_share_spend(struct cluster *c, struct spend_store *spend);

/*
 * Shares the velocity counts of `velocity` (before cluster_start; the table must outlive
 * the cluster). Sets the table's dirty hook. Redis away, the others' counts are forgotten.
 */
void cluster_share_velocity(struct cluster *c, struct velshare *velocity);

/*
 * Shares the registrations of remote accounts of `regs` (before cluster_start; the table
 * must outlive the cluster): this node's bindings are published with `address` (where the
 * other nodes relay INVITEs to this one, "transport:host:port"; NULL = publish none, only
 * learn the others'). Sets the table's dirty hook.
 */
void cluster_share_registrations(struct cluster *c, struct regshare *regs, const char *address);

/*
 * Applies the local shares to every shared slot (so nothing is open before Redis
 * answers), then starts the thread. Returns 0 or -errno.
 */
int cluster_start(struct cluster *c);

/*
 * Waits (10 ms steps, at most `timeout_ms`) until the thread's first round with Redis is
 * done: the call and spend grants asked for and the failures queued sent. True when it is;
 * false when Redis did not answer in time (the local shares hold). Main thread, at start,
 * so that a node serves with the cluster's counters.
 */
bool cluster_wait_ready(struct cluster *c, unsigned timeout_ms);

/* Stops the thread (what is queued is sent if Redis answers at once) and frees. NULL: no-op. */
void cluster_free(struct cluster *c);

/* Adds one failure of `ip` (already the ban key: an IPv6 prefix) to the shared count. */
void cluster_failure(struct cluster *c, const struct sw_ip *ip);

/* Counters (any thread). */
void cluster_stats_get(struct cluster *c, struct cluster_stats *out);

#endif
