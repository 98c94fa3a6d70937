/*
 * The ban store: which source addresses are banned, until when, and why.
 *
 * Every store keeps its bans in an in-memory table, the hot path: the gate asks
 * ban_store_is_banned() for every packet before parsing. The table is split into
 * BAN_SHARDS shards; each shard is an open-addressing hash table (linear probing,
 * backward-shift deletion) keyed with the process's SipHash key, written under a
 * per-shard mutex and read without any lock through a per-shard sequence counter
 * (a seqlock): a reader never writes shared memory, so workers on several cores do not
 * bounce cache lines, and it retries only while a writer is inside that same shard.
 *
 * Backends (`struct ban_store_ops`) are attached to a store and told about every change:
 * SQLite persists bans (state/ban_sqlite.h), Redis shares them between nodes
 * (state/ban_redis.h), and obs/ runs ban actions. A store with no backend is the
 * memory-only store. Backends never block the caller: they queue.
 *
 * Bounds and eviction: a store holds at most `max_entries` entries (rounded up to a
 * multiple of BAN_SHARDS, checked per shard). When a shard is full, the entry that ends
 * soonest among the automatic bans and the expired entries of that shard is dropped to
 * make room; a manual ban that is still active is never dropped, and when a shard holds
 * nothing else the new ban is refused (BAN_OUTCOME_FULL). Memory is fixed at creation
 * (ban_store_memory_bytes()): 188 bytes per entry on x86-64 (two 32-byte lock-free
 * slots, a 120-byte record, a free-list word); 65,536 entries (the default) = 11.8 MiB.
 * Finding the entry to drop scans the full shard (2 x max_entries / 64 slots), which
 * happens only when a shard is full.
 *
 * Repeat offenders: an expired ban stays in the table as history for `history_s` seconds
 * (not banned, not listed). A new automatic ban of the same address within that time is
 * offence n+1 and lasts bantime_s * factor^(n-1), capped at bantime_max_s.
 *
 * IPv6 prefixes (#9): with `v6_prefix_len` set, an automatic ban of an IPv6 address is
 * stored under its prefix (sw_ip_aggregate), which covers every address of that prefix;
 * the entry's `ip` is then the prefix's first address. A prefix that overlaps a
 * never-ban range is not banned as a whole: the address alone is, so a ban never covers
 * an exempt address. A manual ban is stored under the address given, so it covers the
 * prefix only when that is the prefix's first address. Lookups (is_banned, get, del) try
 * the address, then its prefix.
 *
 * Time: ban times are wall-clock seconds (bans outlive a restart); callers pass `now_s`.
 *
 * Threads: every function is thread-safe except ban_store_new/ban_store_free and
 * ban_store_attach, which run while no other thread uses the store. Backend and
 * listener callbacks run in the thread that made the change, with no lock held.
 */
#ifndef SW_STATE_BAN_H
#define SW_STATE_BAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"

#define BAN_SHARDS           64
#define BAN_REASON_CAP       96
#define BAN_BACKENDS_MAX     6
#define BAN_FOREVER          INT64_MAX  /* end_s of a ban without end */
#define BAN_DURATION_FOREVER UINT32_MAX /* ban_request.duration_s for a ban without end */

enum ban_source {
    BAN_SOURCE_AUTO,   /* decided by the failure tracker, the scanner stage... */
    BAN_SOURCE_MANUAL, /* `sipwarden ban add`; never evicted */
};

enum ban_outcome {
    BAN_OUTCOME_ADDED,   /* a new ban (possibly a repeat offence) */
    BAN_OUTCOME_UPDATED, /* an active ban was replaced by a manual one */
    BAN_OUTCOME_EXISTS,  /* already banned; nothing changed */
    BAN_OUTCOME_EXEMPT,  /* on the never-ban list: not banned (the caller still logs) */
    BAN_OUTCOME_FULL,    /* the shard holds only active manual bans: not banned */
};

enum ban_change {
    BAN_CHANGE_ADD,    /* a ban was added or replaced */
    BAN_CHANGE_DEL,    /* a ban was removed before its end (manually) */
    BAN_CHANGE_EXPIRE, /* a ban reached its end (reported once, by ban_store_expire) */
};

struct ban_entry {
    struct sw_ip ip;
    int64_t start_s;
    int64_t end_s; /* BAN_FOREVER = no end */
    uint32_t offence;
    enum ban_source source;
    char reason[BAN_REASON_CAP]; /* NUL-terminated, e.g. "InvalidPassword=3" */
};

struct ban_config {
    size_t max_entries;              /* 0 = 65536 */
    uint32_t bantime_s;              /* first offence; 0 = 86400 */
    double bantime_factor;           /* repeat factor; < 1 is taken as 1 */
    uint32_t bantime_max_s;          /* cap; 0 = 30 days */
    uint32_t history_s;              /* how long an expired ban is remembered; 0 = bantime_max_s */
    const struct sw_cidr *never_ban; /* copied by ban_store_new */
    size_t never_ban_count;
    unsigned v6_prefix_len; /* IPv6 bans cover this prefix (see above); 0 = the address */
};

struct ban_request {
    struct sw_ip ip; /* the transport source address, never a header */
    enum ban_source source;
    uint32_t duration_s; /* 0 = computed from the offence number; BAN_DURATION_FOREVER */
    const char *reason;  /* copied, truncated to BAN_REASON_CAP - 1; NULL = "" */
};

struct ban_store;

/*
 * A backend. Every member may be NULL. `load` runs once in ban_store_attach and feeds the
 * stored bans back with ban_store_apply(..., origin = backend). `publish` is told about
 * every change not made by this backend itself; it must not block (queue the work).
 * `close` stops the backend's threads and frees it (ban_store_free calls it).
 */
struct ban_store_ops {
    const char *name;
    int (*load)(void *backend, struct ban_store *store, int64_t now_s);
    void (*publish)(void *backend, enum ban_change change, const struct ban_entry *entry);
    void (*close)(void *backend);
};

/* Creates a store. Returns 0, -SW_EBADARG for a bad config, or -ENOMEM. */
int ban_store_new(const struct ban_config *cfg, struct ban_store **out);

/* Closes every attached backend (in reverse order), then frees the store. NULL: no-op. */
void ban_store_free(struct ban_store *store);

/*
 * Attaches a backend and runs its `load`. Returns 0, -SW_EFULL when BAN_BACKENDS_MAX are
 * attached, or the error of `load` (the backend is then not attached and not closed).
 */
int ban_store_attach(struct ban_store *store, const struct ban_store_ops *ops, void *backend);

/* True when `ip` has an active ban at `now_s`. Lock-free in the common case. */
bool ban_store_is_banned(const struct ban_store *store, const struct sw_ip *ip, int64_t now_s);

/* The address under which a ban of `ip` is stored: its IPv6 prefix, or `ip` itself. */
struct sw_ip ban_store_key(const struct ban_store *store, const struct sw_ip *ip);

/*
 * The prefix length, in bits of the 16-byte form, that an entry stored under `key`
 * covers for ban_store_is_banned: `v6_prefix_len` when `key` is an IPv6 address that is
 * the first of its prefix (every address of the prefix looks it up), else 128.
 */
unsigned ban_store_key_prefix_len(const struct ban_store *store, const struct sw_ip *key);

/* True when `ip` lies in the never-ban list. */
bool ban_store_is_exempt(const struct ban_store *store, const struct sw_ip *ip);

/*
 * Bans `req->ip`. On ADDED/UPDATED/EXISTS, `out` (may be NULL) receives the entry now in
 * force; backends and the listener are told about ADDED and UPDATED.
 */
enum ban_outcome ban_store_add(struct ban_store *store, const struct ban_request *req,
                               int64_t now_s, struct ban_entry *out);

/*
 * Lifts the active ban of `ip` (its history is forgotten too). Returns 0 or
 * -SW_ENOTFOUND when `ip` has no active ban.
 */
int ban_store_del(struct ban_store *store, const struct sw_ip *ip, int64_t now_s);

/* Copies the entry of `ip` (active or history) into `out`; false when absent. */
bool ban_store_get(const struct ban_store *store, const struct sw_ip *ip, struct ban_entry *out);

/*
 * A snapshot of the active bans: copies up to `cap` entries into `out` (shard order) and
 * returns how many are active in all (may exceed `cap`).
 */
size_t ban_store_list(const struct ban_store *store, int64_t now_s, struct ban_entry *out,
                      size_t cap);

typedef void ban_entry_fn(void *ctx, const struct ban_entry *entry);

/*
 * Calls fn(ctx, entry) for every active ban at `now_s` (shard order) and returns how many
 * there are; fn may be NULL (count only). fn runs under the shard's lock: it must not
 * call the store, and should be quick (a system call is fine, a disk write is not).
 */
size_t ban_store_each(const struct ban_store *store, int64_t now_s, ban_entry_fn *fn, void *ctx);

/*
 * Reports every ban that ended at or before `now_s` (once each, as BAN_CHANGE_EXPIRE)
 * and forgets history older than `history_s`. Returns the number of bans reported.
 * Each shard keeps the earliest time it has something due and is scanned only then, so
 * the cost follows what expires, not the table's size (a shard's time may be early, never
 * late: a lifted ban leaves it until the next pass over that shard). Call it about once a
 * second from a housekeeping thread.
 */
size_t ban_store_expire(struct ban_store *store, int64_t now_s);

/*
 * Bans whose end ban_store_expire has not reported yet: ban_store_list's count, give or
 * take the bans that ended since the last ban_store_expire. O(BAN_SHARDS).
 */
size_t ban_store_active_count(const struct ban_store *store);

/*
 * A change that comes from a backend (restore at start, a ban from another node):
 * ADD stores `entry` as given unless its address is exempt here or it is automatic and
 * an active manual ban is in force, DEL removes it, EXPIRE is ignored (each node expires
 * its own). Every backend but `origin` is told of what changed.
 * Returns 0, -SW_EFULL, or -SW_ENOTFOUND (DEL of an unknown address).
 */
int ban_store_apply(struct ban_store *store, enum ban_change change, const struct ban_entry *entry,
                    int64_t now_s, const void *origin);

/* Entries held (active and history). */
size_t ban_store_count(const struct ban_store *store);

/* Most entries the store can hold. */
size_t ban_store_capacity(const struct ban_store *store);

/* The shard `ip` belongs to (0..BAN_SHARDS-1): eviction is per shard, tests need it. */
size_t ban_store_shard_index(const struct ban_store *store, const struct sw_ip *ip);

/* Bytes allocated by the store; fixed at creation. */
size_t ban_store_memory_bytes(const struct ban_store *store);

/* The duration in seconds of offence `offence` (>= 1) under `cfg`'s defaults applied. */
uint32_t ban_store_duration(const struct ban_store *store, uint32_t offence);

/* "auto" or "manual". */
const char *ban_source_name(enum ban_source source);

#endif
