#include "state/shardtab.h"

#include <errno.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"

#define SHARDTAB_MAX_ENTRIES ((size_t)1 << 26)

static int shard_init(struct shardtab_shard *shard, size_t entry_size, uint32_t max_count,
                      size_t *bytes)
{
    shard->entries = sw_calloc(max_count, entry_size);
    shard->free_stack = sw_calloc(max_count, sizeof(*shard->free_stack));
    if (shard->entries == NULL || shard->free_stack == NULL) {
        return -ENOMEM;
    }
    int err = iptab_init(&shard->index, max_count);
    if (err != 0) {
        return err;
    }
    if (pthread_mutex_init(&shard->lock, NULL) != 0) {
        return -ENOMEM;
    }
    shard->is_lock_ready = true;
    for (uint32_t i = 0; i < max_count; i++) {
        shard->free_stack[i] = max_count - 1 - i;
    }
    shard->free_count = max_count;
    shard->max_count = max_count;
    *bytes += (size_t)max_count * (entry_size + sizeof(*shard->free_stack)) +
              iptab_memory_bytes(&shard->index);
    return 0;
}

int shardtab_init(struct shardtab *tab, size_t entry_size, size_t max_entries)
{
    *tab = (struct shardtab){ 0 };
    if (entry_size == 0 || max_entries == 0 || max_entries > SHARDTAB_MAX_ENTRIES) {
        return -SW_EBADARG;
    }
    tab->entry_size = entry_size;
    tab->shards = sw_calloc(SHARDTAB_SHARDS, sizeof(*tab->shards));
    int err = tab->shards == NULL ? -ENOMEM : 0;
    tab->memory_bytes = SHARDTAB_SHARDS * sizeof(*tab->shards);
    uint32_t per_shard = (uint32_t)((max_entries + SHARDTAB_SHARDS - 1) / SHARDTAB_SHARDS);
    for (size_t i = 0; i < SHARDTAB_SHARDS && err == 0; i++) {
        err = shard_init(&tab->shards[i], entry_size, per_shard, &tab->memory_bytes);
    }
    if (err != 0) {
        shardtab_fini(tab);
    }
    return err;
}

void shardtab_fini(struct shardtab *tab)
{
    for (size_t i = 0; i < SHARDTAB_SHARDS && tab->shards != NULL; i++) {
        struct shardtab_shard *shard = &tab->shards[i];
        if (shard->is_lock_ready) {
            (void)pthread_mutex_destroy(&shard->lock); /* nobody holds it any more */
        }
        iptab_fini(&shard->index);
        sw_free(shard->entries);
        sw_free(shard->free_stack);
    }
    sw_free(tab->shards);
    *tab = (struct shardtab){ 0 };
}

size_t shardtab_count(const struct shardtab *tab)
{
    size_t total = 0;
    for (size_t i = 0; i < SHARDTAB_SHARDS; i++) {
        struct shardtab_shard *shard = &tab->shards[i];
        SW_ASSERT(pthread_mutex_lock(&shard->lock) == 0);
        total += shard->index.count;
        SW_ASSERT(pthread_mutex_unlock(&shard->lock) == 0);
    }
    return total;
}

size_t shardtab_capacity(const struct shardtab *tab)
{
    return (size_t)tab->shards[0].max_count * SHARDTAB_SHARDS;
}
