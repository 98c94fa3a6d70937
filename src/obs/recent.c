#include "obs/recent.h"

#include <pthread.h>
#include <string.h>

#include "base/alloc.h"

struct recent {
    pthread_mutex_t lock;
    size_t item_size;
    size_t cap;
    uint64_t total; /* the next item goes to total % cap */
    unsigned char *items;
};

struct recent *recent_new(size_t item_size, size_t cap)
{
    if (item_size == 0 || cap == 0) {
        return NULL;
    }
    struct recent *r = sw_calloc(1, sizeof(*r));
    if (r == NULL || (r->items = sw_calloc(cap, item_size)) == NULL) {
        sw_free(r);
        return NULL;
    }
    (void)pthread_mutex_init(&r->lock, NULL); /* defaults: cannot fail */
    r->item_size = item_size;
    r->cap = cap;
    return r;
}

void recent_free(struct recent *r)
{
    if (r == NULL) {
        return;
    }
    pthread_mutex_destroy(&r->lock);
    sw_free(r->items);
    sw_free(r);
}

void recent_push(struct recent *r, const void *item)
{
    pthread_mutex_lock(&r->lock);
    memcpy(r->items + (size_t)(r->total % r->cap) * r->item_size, item, r->item_size);
    r->total++;
    pthread_mutex_unlock(&r->lock);
}

size_t recent_copy(struct recent *r, void *out, size_t cap)
{
    pthread_mutex_lock(&r->lock);
    size_t held = r->total < r->cap ? (size_t)r->total : r->cap;
    size_t count = held < cap ? held : cap;
    for (size_t i = 0; i < count; i++) {
        size_t slot = (size_t)((r->total - 1 - i) % r->cap);
        memcpy((unsigned char *)out + i * r->item_size, r->items + slot * r->item_size,
               r->item_size);
    }
    pthread_mutex_unlock(&r->lock);
    return count;
}

uint64_t recent_total(struct recent *r)
{
    pthread_mutex_lock(&r->lock);
    uint64_t total = r->total;
    pthread_mutex_unlock(&r->lock);
    return total;
}
