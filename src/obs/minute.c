#include "obs/minute.h"

#include <pthread.h>

#include "base/alloc.h"

struct minute_counts {
    pthread_mutex_t lock;
    size_t series;
    int64_t stamp[MINUTE_BUCKETS]; /* the second each bucket holds; -1 = none yet */
    uint32_t counts[MINUTE_BUCKETS][MINUTE_SERIES_MAX];
};

struct minute_counts *minute_counts_new(size_t series)
{
    if (series == 0 || series > MINUTE_SERIES_MAX) {
        return NULL;
    }
    struct minute_counts *m = sw_calloc(1, sizeof(*m));
    if (m == NULL) {
        return NULL;
    }
    (void)pthread_mutex_init(&m->lock, NULL); /* defaults: cannot fail */
    m->series = series;
    for (size_t i = 0; i < MINUTE_BUCKETS; i++) {
        m->stamp[i] = -1;
    }
    return m;
}

void minute_counts_free(struct minute_counts *m)
{
    if (m == NULL) {
        return;
    }
    pthread_mutex_destroy(&m->lock);
    sw_free(m);
}

static size_t bucket_of(int64_t now_s)
{
    int64_t r = now_s % (int64_t)MINUTE_BUCKETS;
    return (size_t)(r < 0 ? r + (int64_t)MINUTE_BUCKETS : r);
}

void minute_counts_add(struct minute_counts *m, size_t series, int64_t now_s, uint32_t n)
{
    if (series >= m->series) {
        return;
    }
    size_t b = bucket_of(now_s);
    pthread_mutex_lock(&m->lock);
    if (m->stamp[b] != now_s) {
        /* The bucket held an older second: it starts again for this one. */
        for (size_t s = 0; s < MINUTE_SERIES_MAX; s++) {
            m->counts[b][s] = 0;
        }
        m->stamp[b] = now_s;
    }
    uint32_t room = UINT32_MAX - m->counts[b][series];
    m->counts[b][series] += n < room ? n : room;
    pthread_mutex_unlock(&m->lock);
}

uint64_t minute_counts_sum(struct minute_counts *m, size_t series, int64_t now_s)
{
    if (series >= m->series) {
        return 0;
    }
    uint64_t sum = 0;
    pthread_mutex_lock(&m->lock);
    for (size_t b = 0; b < MINUTE_BUCKETS; b++) {
        int64_t age = now_s - m->stamp[b];
        if (m->stamp[b] >= 0 && age >= 0 && age < (int64_t)MINUTE_BUCKETS) {
            sum += m->counts[b][series];
        }
    }
    pthread_mutex_unlock(&m->lock);
    return sum;
}
