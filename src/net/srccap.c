#include "net/srccap.h"

#include <stdatomic.h>

#include "base/addr.h"
#include "base/alloc.h"
#include "base/assert.h"
#include "base/hash.h"

#define SRCCAP_MIN_COUNTERS 1024
#define SRCCAP_MAX_COUNTERS ((size_t)1 << 22)

struct srccap {
    size_t mask;
    unsigned v6_prefix_len;
    _Atomic uint32_t counters[];
};

struct srccap *srccap_new(size_t max_connections, unsigned v6_prefix_len)
{
    size_t count = SRCCAP_MIN_COUNTERS;
    /* Bounded by SRCCAP_MAX_COUNTERS: 16 MiB of counters at most. */
    while (count < max_connections * 4 && count < SRCCAP_MAX_COUNTERS) {
        count *= 2;
    }
    struct srccap *cap = sw_calloc(1, sizeof(*cap) + count * sizeof(cap->counters[0]));
    if (cap == NULL) {
        return NULL;
    }
    cap->mask = count - 1;
    cap->v6_prefix_len = v6_prefix_len;
    for (size_t i = 0; i < count; i++) {
        atomic_init(&cap->counters[i], 0);
    }
    return cap;
}

void srccap_free(struct srccap *cap)
{
    sw_free(cap);
}

static size_t counter_of(const struct srccap *cap, const struct sockaddr_storage *src)
{
    struct sw_ip ip = { { 0 } };
    (void)sw_ip_from_sockaddr(src, &ip); /* other families share the counter of :: */
    struct sw_ip key = sw_ip_aggregate(&ip, cap->v6_prefix_len);
    return (size_t)(sw_hash_bytes(key.bytes, sizeof(key.bytes)) & cap->mask);
}

bool srccap_acquire(struct srccap *cap, const struct sockaddr_storage *src, uint32_t max_per_source,
                    size_t *counter)
{
    size_t i = counter_of(cap, src);
    uint32_t now = atomic_load_explicit(&cap->counters[i], memory_order_relaxed);
    /* Bounded in practice by the number of workers racing on one counter. */
    do {
        if ((max_per_source != 0 && now >= max_per_source) || now == UINT32_MAX) {
            return false;
        }
    } while (!atomic_compare_exchange_weak_explicit(&cap->counters[i], &now, now + 1,
                                                    memory_order_relaxed, memory_order_relaxed));
    *counter = i;
    return true;
}

void srccap_release(struct srccap *cap, size_t counter)
{
    SW_ASSERT(counter <= cap->mask);
    uint32_t before = atomic_fetch_sub_explicit(&cap->counters[counter], 1, memory_order_relaxed);
    SW_ASSERT(before > 0);
}

uint32_t srccap_count(const struct srccap *cap, const struct sockaddr_storage *src)
{
    return atomic_load_explicit(&cap->counters[counter_of(cap, src)], memory_order_relaxed);
}
