#include "stir/cache.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"
#include "base/hash.h"

#define DEFAULT_MAX_ENTRIES 256
#define DEFAULT_MAX_BYTES   ((size_t)4 * 1024 * 1024)

struct cache_entry {
    char *url;
    size_t url_len;
    uint64_t hash;
    STACK_OF(X509) * chain;
    EVP_PKEY *key; /* the leaf's public key, owned */
    struct stir_tnauth tnauth;
    enum stir_reason status;
    int64_t valid_from_s;
    int64_t valid_until_s;
    uint64_t expires_ms;
    size_t bytes;
    struct cache_entry *bucket_next;
    struct cache_entry *lru_prev; /* towards most recently used */
    struct cache_entry *lru_next; /* towards least recently used */
};

struct stir_cache {
    pthread_mutex_t lock;
    struct cache_entry **buckets;
    size_t bucket_mask;
    struct cache_entry *lru_head; /* most recently used */
    struct cache_entry *lru_tail; /* least recently used */
    size_t max_entries;
    size_t max_bytes;
    struct stir_cache_stats stats;
};

struct stir_cache *stir_cache_new(const struct stir_cache_cfg *cfg)
{
    struct stir_cache *cache = sw_calloc(1, sizeof(*cache));
    if (cache == NULL) {
        return NULL;
    }
    cache->max_entries = cfg->max_entries != 0 ? cfg->max_entries : DEFAULT_MAX_ENTRIES;
    cache->max_bytes = cfg->max_bytes != 0 ? cfg->max_bytes : DEFAULT_MAX_BYTES;
    size_t buckets = 16;
    while (buckets < cache->max_entries * 2 && buckets < ((size_t)1 << 24)) {
        buckets *= 2;
    }
    cache->buckets = sw_calloc(buckets, sizeof(struct cache_entry *));
    if (cache->buckets == NULL || pthread_mutex_init(&cache->lock, NULL) != 0) {
        sw_free(cache->buckets);
        sw_free(cache);
        return NULL;
    }
    cache->bucket_mask = buckets - 1;
    /* The URL is chosen by whoever sends the INVITE: keyed hashing (base/hash.h). */
    (void)sw_hash_init(); /* idempotent; a failure leaves a fixed key, still correct */
    return cache;
}

static void entry_free(struct cache_entry *entry)
{
    sk_X509_pop_free(entry->chain, X509_free);
    EVP_PKEY_free(entry->key);
    sw_free(entry->url);
    sw_free(entry);
}

static void lru_unlink(struct stir_cache *cache, struct cache_entry *entry)
{
    if (entry->lru_prev != NULL) {
        entry->lru_prev->lru_next = entry->lru_next;
    } else {
        cache->lru_head = entry->lru_next;
    }
    if (entry->lru_next != NULL) {
        entry->lru_next->lru_prev = entry->lru_prev;
    } else {
        cache->lru_tail = entry->lru_prev;
    }
    entry->lru_prev = NULL;
    entry->lru_next = NULL;
}

static void lru_push_front(struct stir_cache *cache, struct cache_entry *entry)
{
    entry->lru_prev = NULL;
    entry->lru_next = cache->lru_head;
    if (cache->lru_head != NULL) {
        cache->lru_head->lru_prev = entry;
    }
    cache->lru_head = entry;
    if (cache->lru_tail == NULL) {
        cache->lru_tail = entry;
    }
}

/* Unlinks `entry` from its bucket and the LRU list, updates the totals and frees it. */
static void entry_remove(struct stir_cache *cache, struct cache_entry *entry)
{
    struct cache_entry **slot = &cache->buckets[entry->hash & cache->bucket_mask];
    while (*slot != NULL && *slot != entry) {
        slot = &(*slot)->bucket_next;
    }
    SW_ASSERT(*slot == entry);
    *slot = entry->bucket_next;
    lru_unlink(cache, entry);
    cache->stats.entries--;
    cache->stats.bytes -= entry->bytes;
    entry_free(entry);
}

static struct cache_entry *find(struct stir_cache *cache, struct sv url, uint64_t hash)
{
    struct cache_entry *entry = cache->buckets[hash & cache->bucket_mask];
    for (; entry != NULL; entry = entry->bucket_next) {
        if (entry->hash == hash && sv_eq(sv_make(entry->url, entry->url_len), url)) {
            return entry;
        }
    }
    return NULL;
}

bool stir_cache_lookup(struct stir_cache *cache, struct sv url, uint64_t now_ms,
                       struct stir_cache_hit *out)
{
    uint64_t hash = sw_hash_sv(url);
    memset(out, 0, sizeof(*out));
    SW_ASSERT(pthread_mutex_lock(&cache->lock) == 0);
    struct cache_entry *entry = find(cache, url, hash);
    if (entry != NULL && entry->expires_ms <= now_ms) {
        entry_remove(cache, entry);
        entry = NULL;
    }
    bool is_hit = entry != NULL && (entry->key == NULL || EVP_PKEY_up_ref(entry->key) == 1);
    if (is_hit) {
        out->status = entry->status;
        out->key = entry->key;
        out->valid_from_s = entry->valid_from_s;
        out->valid_until_s = entry->valid_until_s;
        out->chain_len = entry->chain != NULL ? (size_t)sk_X509_num(entry->chain) : 0;
        out->tnauth = entry->tnauth;
        lru_unlink(cache, entry);
        lru_push_front(cache, entry);
        cache->stats.hits++;
    } else {
        cache->stats.misses++;
    }
    SW_ASSERT(pthread_mutex_unlock(&cache->lock) == 0);
    return is_hit;
}

/* A new entry holding a copy of the URL and a reference to the leaf key. */
static struct cache_entry *entry_new(const struct stir_cache_put *put, uint64_t hash)
{
    struct cache_entry *entry = sw_calloc(1, sizeof(*entry));
    if (entry == NULL) {
        return NULL;
    }
    entry->url = sv_dup_cstr(put->url);
    X509 *leaf = put->chain != NULL ? sk_X509_value(put->chain, 0) : NULL;
    entry->key = leaf != NULL ? X509_get_pubkey(leaf) : NULL;
    if (entry->url == NULL || (leaf != NULL && entry->key == NULL)) {
        EVP_PKEY_free(entry->key);
        sw_free(entry->url);
        sw_free(entry);
        return NULL;
    }
    entry->url_len = put->url.len;
    entry->hash = hash;
    entry->status = put->status;
    entry->tnauth = put->tnauth;
    entry->valid_from_s = put->valid_from_s;
    entry->valid_until_s = put->valid_until_s;
    entry->expires_ms = put->expires_ms;
    entry->bytes = put->bytes + put->url.len;
    return entry;
}

int stir_cache_insert(struct stir_cache *cache, const struct stir_cache_put *put)
{
    if (put->bytes + put->url.len > cache->max_bytes) {
        return -SW_ETOOBIG;
    }
    uint64_t hash = sw_hash_sv(put->url);
    struct cache_entry *entry = entry_new(put, hash);
    if (entry == NULL) {
        return -ENOMEM;
    }
    SW_ASSERT(pthread_mutex_lock(&cache->lock) == 0);
    struct cache_entry *old = find(cache, put->url, hash);
    if (old != NULL) {
        entry_remove(cache, old);
    }
    while (cache->lru_tail != NULL && (cache->stats.entries + 1 > cache->max_entries ||
                                       cache->stats.bytes + entry->bytes > cache->max_bytes)) {
        entry_remove(cache, cache->lru_tail);
        cache->stats.evictions++;
    }
    struct cache_entry **slot = &cache->buckets[hash & cache->bucket_mask];
    entry->bucket_next = *slot;
    *slot = entry;
    lru_push_front(cache, entry);
    cache->stats.entries++;
    cache->stats.bytes += entry->bytes;
    cache->stats.inserts++;
    /* Ownership of the chain passes to the entry only now that nothing can fail. */
    entry->chain = put->chain;
    SW_ASSERT(pthread_mutex_unlock(&cache->lock) == 0);
    return 0;
}

void stir_cache_clear(struct stir_cache *cache)
{
    SW_ASSERT(pthread_mutex_lock(&cache->lock) == 0);
    while (cache->lru_tail != NULL) {
        entry_remove(cache, cache->lru_tail);
    }
    SW_ASSERT(pthread_mutex_unlock(&cache->lock) == 0);
}

void stir_cache_get_stats(struct stir_cache *cache, struct stir_cache_stats *out)
{
    SW_ASSERT(pthread_mutex_lock(&cache->lock) == 0);
    *out = cache->stats;
    SW_ASSERT(pthread_mutex_unlock(&cache->lock) == 0);
}

void stir_cache_free(struct stir_cache *cache)
{
    if (cache == NULL) {
        return;
    }
    stir_cache_clear(cache);
    (void)pthread_mutex_destroy(&cache->lock); /* no thread holds it any more */
    sw_free(cache->buckets);
    sw_free(cache);
}
