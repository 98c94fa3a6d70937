#include "state/regshare.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/hash.h"
#include "base/time.h"
#include "state/redis_link.h"

/*
 * This node's binding of one account: KEYS[1] the hash; ARGV account, node, expires-at
 * (0 = gone), address. A removal leaves a field that names another node alone.
 */
static const char publish_script[] =
    "local h, a, node = KEYS[1], ARGV[1], ARGV[2] "
    "if ARGV[3] == '0' then "
    "  local cur = redis.call('HGET', h, a) "
    "  if cur and string.match(cur, '^(%S+) ') == node then redis.call('HDEL', h, a) end "
    "else redis.call('HSET', h, a, node .. ' ' .. ARGV[3] .. ' ' .. ARGV[4]) end "
    "return redis.call('INCR', h .. ':v')";

/*
 * The bindings of live nodes: KEYS[1] the hash; ARGV the lease key prefix, the wall clock
 * in s, the version the caller knows, "1" to read whatever the version. Returns {version,
 * 0} when it did not move, else {version, 1, account, value, ...}; expired fields go.
 */
static const char read_script[] =
    "local h, now = KEYS[1], tonumber(ARGV[2]) "
    "local v = tonumber(redis.call('GET', h .. ':v') or '0') "
    "if ARGV[4] ~= '1' and v == tonumber(ARGV[3]) then return {v, 0} end "
    "local out = {v, 1} "
    "local f = redis.call('HGETALL', h) "
    "for i = 1, #f, 2 do "
    "  local node, exp = string.match(f[i + 1], '^(%S+) (%d+) %S+$') "
    "  if not node or tonumber(exp) <= now then redis.call('HDEL', h, f[i]) "
    "  elseif redis.call('EXISTS', ARGV[1] .. node) == 1 then "
    "    out[#out + 1] = f[i] out[#out + 1] = f[i + 1] end "
    "end "
    "return out";

struct entry {
    char name[REGSHARE_NAME_CAP]; /* "" = free */
    int64_t local_expires_s;      /* this node's binding; 0 = none */
    bool is_dirty;                /* local_expires_s not published yet */
    bool has_remote;
    struct regshare_holder remote;
};

struct regshare {
    pthread_mutex_t lock;
    struct entry *entries;
    size_t cap; /* a power of two, at least twice max_accounts */
    size_t count;
    size_t max_accounts;
    size_t dirty_count;
    long long version; /* cluster thread: the version of the hash last read */
    uint64_t read_ms;  /* cluster thread: when it was last read */
    regshare_hook_fn *dirty_fn;
    void *dirty_ctx;
};

static _Atomic(struct regshare *) installed;

struct regshare *regshare_new(size_t max_accounts)
{
    if (max_accounts == 0 || max_accounts > ((size_t)1 << 24)) {
        return NULL;
    }
    struct regshare *r = sw_calloc(1, sizeof(*r));
    if (r == NULL) {
        return NULL;
    }
    r->cap = 16;
    while (r->cap < max_accounts * 2) {
        r->cap *= 2;
    }
    r->max_accounts = max_accounts;
    r->version = -1;
    r->entries = sw_calloc(r->cap, sizeof(*r->entries));
    if (r->entries == NULL) {
        sw_free(r);
        return NULL;
    }
    (void)pthread_mutex_init(&r->lock, NULL); /* defaults: cannot fail */
    return r;
}

void regshare_free(struct regshare *r)
{
    if (r == NULL) {
        return;
    }
    pthread_mutex_destroy(&r->lock);
    sw_free(r->entries);
    sw_free(r);
}

void regshare_on_dirty(struct regshare *r, regshare_hook_fn *fn, void *ctx)
{
    pthread_mutex_lock(&r->lock);
    r->dirty_fn = fn;
    r->dirty_ctx = ctx;
    pthread_mutex_unlock(&r->lock);
}

/* The entry of `name`, added when `may_add` and there is room; lock held. */
static struct entry *entry_find(struct regshare *r, struct sv name, bool may_add)
{
    if (name.len == 0 || name.len >= REGSHARE_NAME_CAP) {
        return NULL;
    }
    size_t mask = r->cap - 1;
    size_t pos = (size_t)sw_hash_sv(name) & mask;
    for (size_t n = 0; n < r->cap; n++, pos = (pos + 1) & mask) {
        struct entry *e = &r->entries[pos];
        if (e->name[0] == '\0') {
            if (!may_add || r->count >= r->max_accounts) {
                return NULL;
            }
            (void)sv_copy_cstr(name, e->name, sizeof(e->name));
            r->count++;
            return e;
        }
        if (sv_eq(sv_from_cstr(e->name), name)) {
            return e;
        }
    }
    return NULL;
}

static void set_dirty(struct regshare *r, struct entry *e)
{
    if (!e->is_dirty) {
        e->is_dirty = true;
        r->dirty_count++;
    }
}

void regshare_local(struct regshare *r, struct sv account, int64_t expires_at_s)
{
    pthread_mutex_lock(&r->lock);
    struct entry *e = entry_find(r, account, true);
    regshare_hook_fn *fn = NULL;
    if (e != NULL) {
        e->local_expires_s = expires_at_s;
        set_dirty(r, e);
        fn = r->dirty_fn;
    }
    void *ctx = r->dirty_ctx;
    pthread_mutex_unlock(&r->lock);
    if (fn != NULL) {
        fn(ctx);
    }
}

bool regshare_lookup(struct regshare *r, struct sv account, int64_t now_s,
                     struct regshare_holder *out)
{
    pthread_mutex_lock(&r->lock);
    const struct entry *e = entry_find(r, account, false);
    bool is_live = e != NULL && e->has_remote && e->remote.expires_at_s > now_s;
    if (is_live) {
        *out = e->remote;
    }
    pthread_mutex_unlock(&r->lock);
    return is_live;
}

size_t regshare_remote_count(struct regshare *r, int64_t now_s)
{
    size_t count = 0;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->cap; i++) {
        const struct entry *e = &r->entries[i];
        count += e->has_remote && e->remote.expires_at_s > now_s ? 1u : 0u;
    }
    pthread_mutex_unlock(&r->lock);
    return count;
}

void regshare_republish(struct regshare *r)
{
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->cap; i++) {
        if (r->entries[i].name[0] != '\0') {
            set_dirty(r, &r->entries[i]);
        }
    }
    r->version = -1; /* read everything again too */
    pthread_mutex_unlock(&r->lock);
}

/* A dirty entry's name and binding, no longer dirty; false when there is none. */
static bool take_dirty(struct regshare *r, char *name, int64_t *expires_at_s)
{
    bool is_found = false;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; r->dirty_count > 0 && i < r->cap && !is_found; i++) {
        struct entry *e = &r->entries[i];
        if (e->is_dirty) {
            e->is_dirty = false;
            r->dirty_count--;
            memcpy(name, e->name, REGSHARE_NAME_CAP);
            *expires_at_s = e->local_expires_s;
            is_found = true;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return is_found;
}

static void redirty(struct regshare *r, const char *name)
{
    pthread_mutex_lock(&r->lock);
    struct entry *e = entry_find(r, sv_from_cstr(name), false);
    if (e != NULL) {
        set_dirty(r, e);
    }
    pthread_mutex_unlock(&r->lock);
}

/* Publishes this node's changed bindings; false on an error. */
static bool publish(struct regshare *r, struct redisContext *rc, const char *key,
                    const struct regshare_names *names)
{
    char name[REGSHARE_NAME_CAP];
    int64_t expires_at_s = 0;
    /* Bounded: each account is published at most once a round. */
    for (size_t n = 0; n < r->max_accounts && take_dirty(r, name, &expires_at_s); n++) {
        if (names->address == NULL) {
            continue;
        }
        char expires[24];
        (void)snprintf(expires, sizeof(expires), "%lld", (long long)expires_at_s);
        const char *argv[] = { key, name, names->node, expires, names->address };
        long long version = 0;
        if (!redis_link_eval(rc, publish_script, 5, argv, &version, 1)) {
            redirty(r, name);
            return false;
        }
    }
    return true;
}

/* One field of the hash as Redis gave it: "node expires-at address". */
static bool holder_parse(const redisReply *value, struct regshare_holder *out)
{
    if (value->type != REDIS_REPLY_STRING) {
        return false;
    }
    char text[REGSHARE_NODE_CAP + REGSHARE_ADDR_CAP + 32];
    if (value->len >= sizeof(text)) {
        return false;
    }
    memcpy(text, value->str, value->len);
    text[value->len] = '\0';
    long long expires = 0;
    int used = 0;
    /* The widths are the fields' capacities minus one. */
    if (sscanf(text, "%64s %lld %95s%n", out->node, &expires, out->address, &used) != 3 ||
        (size_t)used != value->len) {
        return false;
    }
    out->expires_at_s = expires;
    return true;
}

/* Replaces the others' bindings with those of `reply` ({version, 1, account, value, ...}). */
static void remote_replace(struct regshare *r, const redisReply *reply, const char *node)
{
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->cap; i++) {
        r->entries[i].has_remote = false;
    }
    for (size_t i = 2; i + 1 < reply->elements; i += 2) {
        const redisReply *name = reply->element[i];
        struct regshare_holder holder;
        if (name->type != REDIS_REPLY_STRING || !holder_parse(reply->element[i + 1], &holder) ||
            strcmp(holder.node, node) == 0) {
            continue;
        }
        struct entry *e = entry_find(r, sv_make(name->str, name->len), true);
        if (e != NULL) {
            e->remote = holder;
            e->has_remote = true;
        }
    }
    pthread_mutex_unlock(&r->lock);
}

/* Reads the others' bindings when due; false on an error. */
static bool read_remote(struct regshare *r, struct redisContext *rc, const char *key,
                        const struct regshare_names *names, bool is_full)
{
    uint64_t now_ms = sw_mono_ms();
    if (!is_full && now_ms < r->read_ms + REGSHARE_POLL_MS) {
        return true;
    }
    r->read_ms = now_ms;
    char now[24];
    char known[24];
    (void)snprintf(now, sizeof(now), "%lld", (long long)sw_wall_s());
    pthread_mutex_lock(&r->lock);
    (void)snprintf(known, sizeof(known), "%lld", r->version);
    pthread_mutex_unlock(&r->lock);
    const char *argv[] = { key, names->lease_prefix, now, known, is_full ? "1" : "0" };
    redisReply *reply = redis_link_eval_reply(rc, read_script, 5, argv);
    bool is_ok = reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2 &&
                 reply->element[0]->type == REDIS_REPLY_INTEGER &&
                 reply->element[1]->type == REDIS_REPLY_INTEGER;
    if (is_ok && reply->element[1]->integer == 1) {
        remote_replace(r, reply, names->node);
    }
    if (is_ok) {
        pthread_mutex_lock(&r->lock);
        r->version = reply->element[0]->integer;
        pthread_mutex_unlock(&r->lock);
    }
    if (reply != NULL) {
        freeReplyObject(reply);
    }
    return is_ok;
}

bool regshare_sync(struct regshare *r, struct redisContext *rc, const struct regshare_names *names,
                   bool is_full)
{
    char key[REDIS_LINK_NAME_MAX + 8];
    (void)snprintf(key, sizeof(key), "%sregs", names->prefix);
    return publish(r, rc, key, names) && read_remote(r, rc, key, names, is_full);
}

void regshare_install(struct regshare *r)
{
    atomic_store_explicit(&installed, r, memory_order_release);
}

struct regshare *regshare_installed(void)
{
    return atomic_load_explicit(&installed, memory_order_acquire);
}
