/*
 * Registrations of remote accounts shared by a cluster of gateways (issue #15): which node
 * holds the binding of each account (the node that took the phone's REGISTER owns its NAT
 * pinhole or its TLS connection), so that a call for the account that reaches another node
 * is relayed to that one.
 *
 * This node's bindings: the registrar (call/registrar.h) reports each store and removal
 * (regshare_local); the cluster thread publishes them to the hash "<prefix>regs" (account
 * -> "node expires-at address", the address being where the node takes node-to-node
 * INVITEs) and bumps "<prefix>regs:v". An unregistration or an expiry removes the field
 * only while it still names this node (the phone may have registered through another node
 * since). The other nodes' bindings: the cluster thread reads the hash when its version
 * moved (at most every REGSHARE_POLL_MS) and every tick (CLUSTER_TICK_MS) in any case,
 * keeping only the bindings of nodes whose lease is alive: a node that dies takes its
 * bindings with it within the lease. Expired bindings are dropped by the reading script.
 *
 * Redis away: the other nodes' bindings stay known until their own expiry (a relayed call
 * is authenticated by the peers themselves, not by Redis); this node's bindings are all
 * published again when Redis answers (it may have restarted empty).
 *
 * Bounds: at most `max_accounts` accounts (those of the configuration); an account beyond
 * is neither published nor learnt. Entries are never evicted.
 *
 * Threads: regshare_local and regshare_lookup from any thread (workers); regshare_sync and
 * regshare_republish from the cluster thread only; new, free and install while no other
 * thread uses the table. One mutex, held for a probe (or the copy of one Redis answer).
 */
#ifndef SW_STATE_REGSHARE_H
#define SW_STATE_REGSHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"

#define REGSHARE_NAME_CAP 128
#define REGSHARE_NODE_CAP 65
#define REGSHARE_ADDR_CAP 96
#define REGSHARE_POLL_MS  200u

struct redisContext;

/* Where another node holds an account's binding. */
struct regshare_holder {
    char node[REGSHARE_NODE_CAP];
    char address[REGSHARE_ADDR_CAP]; /* "transport:host:port", as that node published it */
    int64_t expires_at_s;            /* wall clock */
};

/* What the cluster thread needs to talk to Redis for the table. */
struct regshare_names {
    const char *prefix;       /* the keys' prefix */
    const char *node;         /* this node's name */
    const char *lease_prefix; /* "<prefix>node:": a node is live while its key exists */
    const char *address;      /* where this node takes relayed INVITEs; NULL = publish none */
};

/* Called when a binding of this node changed (quick, never blocking). */
typedef void regshare_hook_fn(void *ctx);

struct regshare;

/* A table for `max_accounts` accounts; NULL when out of memory or max_accounts is 0. */
struct regshare *regshare_new(size_t max_accounts);

/* Frees the table; NULL is a no-op. */
void regshare_free(struct regshare *r);

/* Sets the hook run when this node's binding changed (NULL = none); before workers run. */
void regshare_on_dirty(struct regshare *r, regshare_hook_fn *fn, void *ctx);

/* This node holds `account`'s binding until `expires_at_s` (0: no longer). Any thread. */
void regshare_local(struct regshare *r, struct sv account, int64_t expires_at_s);

/*
 * The other node holding `account`'s live binding at `now_s`, as last read from Redis;
 * false when none (or this node holds it). Any thread.
 */
bool regshare_lookup(struct regshare *r, struct sv account, int64_t now_s,
                     struct regshare_holder *out);

/* Accounts another node holds a live binding of (for metrics and tests). Any thread. */
size_t regshare_remote_count(struct regshare *r, int64_t now_s);

/*
 * One round with Redis: publishes this node's changed bindings, then reads the others'
 * when their version moved and REGSHARE_POLL_MS passed, or always when `is_full`. False on
 * a connection or command error (what was not published stays to publish). Cluster thread.
 */
bool regshare_sync(struct regshare *r, struct redisContext *rc, const struct regshare_names *names,
                   bool is_full);

/* Redis away: every binding of this node is published again once it answers. Cluster thread. */
void regshare_republish(struct regshare *r);

/* The process's table that the registrar and the routing use (NULL uninstalls). */
void regshare_install(struct regshare *r);

/* The installed table; NULL when registrations are not shared. */
struct regshare *regshare_installed(void);

#endif
