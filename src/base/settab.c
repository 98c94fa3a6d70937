#include "base/settab.h"

#include <errno.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"

#define SETTAB_WAYS_MAX 64u

int settab_init(struct settab *tab, size_t entry_size, size_t entry_count, unsigned ways,
                unsigned lock_count)
{
    *tab = (struct settab){ 0 };
    if (entry_size == 0 || entry_count == 0 || ways == 0 || ways > SETTAB_WAYS_MAX ||
        lock_count == 0 || entry_count > ((size_t)1 << 30)) {
        return -SW_EBADARG;
    }
    size_t set_count = (entry_count + ways - 1) / ways;
    tab->entries = sw_calloc(set_count * ways, entry_size);
    tab->locks = sw_calloc(lock_count, sizeof(*tab->locks));
    if (tab->entries == NULL || tab->locks == NULL) {
        settab_fini(tab);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < lock_count; i++) {
        SW_ASSERT(pthread_mutex_init(&tab->locks[i], NULL) == 0); /* default attributes */
    }
    tab->entry_size = entry_size;
    tab->set_count = set_count;
    tab->ways = ways;
    tab->lock_count = lock_count;
    return 0;
}

void settab_fini(struct settab *tab)
{
    for (unsigned i = 0; tab->locks != NULL && i < tab->lock_count; i++) {
        (void)pthread_mutex_destroy(&tab->locks[i]); /* nobody holds it any more */
    }
    sw_free(tab->locks);
    sw_free(tab->entries);
    *tab = (struct settab){ 0 };
}

size_t settab_memory_bytes(const struct settab *tab)
{
    return tab->set_count * tab->ways * tab->entry_size + tab->lock_count * sizeof(*tab->locks);
}

static size_t set_of(const struct settab *tab, uint64_t hash)
{
    return (size_t)(hash % tab->set_count);
}

void *settab_lock(struct settab *tab, uint64_t hash)
{
    size_t set = set_of(tab, hash);
    SW_ASSERT(pthread_mutex_lock(&tab->locks[set % tab->lock_count]) == 0);
    return tab->entries + set * tab->ways * tab->entry_size;
}

void settab_unlock(struct settab *tab, uint64_t hash)
{
    SW_ASSERT(pthread_mutex_unlock(&tab->locks[set_of(tab, hash) % tab->lock_count]) == 0);
}
