/*
 * state_bench: per-call cost of the hot-path state operations on one core
 * (link: sw_state sw_base).
 *
 * usage: state_bench [iterations]   (default 10,000,000; at most 1,000,000,000)
 * Prints nanoseconds per call for ban_store_is_banned (half the lookups hit), from one
 * and two threads, with a mutex around each lookup for comparison with a locking
 * design, and while a writer churns the table; then ratelimit_take (65,536 sources
 * cycling) and failtrack_record, and the memory of each table at its default size.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/hash.h"
#include "base/time.h"
#include "state/ban.h"
#include "state/failtrack.h"
#include "state/ratelimit.h"

#define SOURCES 65536u
#define NOW     1800000000

static struct sw_ip ip_n(uint32_t n)
{
    struct sw_ip ip = { { 0 } };
    ip.bytes[10] = 0xff;
    ip.bytes[11] = 0xff;
    ip.bytes[12] = 10;
    ip.bytes[13] = (uint8_t)(n >> 16);
    ip.bytes[14] = (uint8_t)(n >> 8);
    ip.bytes[15] = (uint8_t)n;
    return ip;
}

static struct sw_ip *ips;

static double per_call_ns(uint64_t start_us, uint64_t calls)
{
    return (double)(sw_mono_us() - start_us) * 1000.0 / (double)calls;
}

struct reader {
    const struct ban_store *store;
    uint64_t iterations;
    uint64_t hits;
    double ns;
    pthread_mutex_t *locks; /* non-NULL: wrap each lookup in a lock, as a mutex design would */
};

#define LOCKS 64

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    uint64_t start = sw_mono_us();
    for (uint64_t i = 0; i < r->iterations; i++) {
        pthread_mutex_t *lock = r->locks != NULL ? &r->locks[i & (LOCKS - 1)] : NULL;
        if (lock != NULL) {
            pthread_mutex_lock(lock);
        }
        r->hits += ban_store_is_banned(r->store, &ips[i & (SOURCES - 1)], NOW);
        if (lock != NULL) {
            pthread_mutex_unlock(lock);
        }
    }
    r->ns = per_call_ns(start, r->iterations);
    return NULL;
}

struct churn {
    struct ban_store *store;
    atomic_bool is_done;
    uint64_t writes;
};

/* Adds and lifts bans as fast as it can, so readers meet busy shards. */
static void *churn_main(void *arg)
{
    struct churn *c = arg;
    for (uint32_t i = 0; !atomic_load(&c->is_done) && i < 100000000u; i++) {
        struct ban_request req = { .ip = ips[(i * 2 + 1) & (SOURCES - 1)], .duration_s = 60 };
        (void)ban_store_add(c->store, &req, NOW, NULL);
        (void)ban_store_del(c->store, &req.ip, NOW);
        c->writes += 2;
    }
    return NULL;
}

/* Two readers at once, optionally each lookup under one of LOCKS mutexes. */
static int two_readers(const struct ban_store *store, uint64_t iterations, pthread_mutex_t *locks,
                       double *ns)
{
    struct reader two[2] = { { .store = store, .iterations = iterations, .locks = locks },
                             { .store = store, .iterations = iterations, .locks = locks } };
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) {
        if (pthread_create(&threads[i], NULL, reader_main, &two[i]) != 0) {
            return 1;
        }
    }
    for (int i = 0; i < 2; i++) {
        (void)pthread_join(threads[i], NULL);
    }
    *ns = (two[0].ns + two[1].ns) / 2;
    return 0;
}

/* The same readers with a per-shard-like mutex around each lookup, for comparison. */
static int bench_locked_variant(const struct ban_store *store, uint64_t iterations)
{
    static pthread_mutex_t locks[LOCKS];
    for (int i = 0; i < LOCKS; i++) {
        (void)pthread_mutex_init(&locks[i], NULL);
    }
    struct reader one = { .store = store, .iterations = iterations, .locks = locks };
    (void)reader_main(&one);
    double ns = 0;
    int err = two_readers(store, iterations, locks, &ns);
    (void)printf("  + a mutex per lookup   %7.1f ns/call  (1 thread), %.1f (2 threads, each)\n",
                 one.ns, ns);
    return err;
}

/* One reader while a writer adds and lifts bans in the same table. */
static int bench_under_writes(struct ban_store *store, uint64_t iterations)
{
    struct churn churn = { .store = store };
    pthread_t writer;
    if (pthread_create(&writer, NULL, churn_main, &churn) != 0) {
        return 1;
    }
    struct reader one = { .store = store, .iterations = iterations };
    (void)reader_main(&one);
    atomic_store(&churn.is_done, true);
    (void)pthread_join(writer, NULL);
    (void)printf("ban_store_is_banned      %7.1f ns/call  (1 reader while a writer made %llu "
                 "changes)\n",
                 one.ns, (unsigned long long)churn.writes);
    return 0;
}

static int bench_bans(uint64_t iterations)
{
    struct ban_store *store = NULL;
    if (ban_store_new(&(struct ban_config){ 0 }, &store) != 0) {
        return 1;
    }
    /* Every other source is banned: half the lookups hit. */
    for (uint32_t n = 0; n < SOURCES; n += 2) {
        struct ban_request req = { .ip = ips[n], .source = BAN_SOURCE_AUTO };
        (void)ban_store_add(store, &req, NOW, NULL);
    }
    struct reader one = { .store = store, .iterations = iterations };
    (void)reader_main(&one);
    (void)printf("ban_store_is_banned      %7.1f ns/call  (%zu bans, 1 thread, %llu hits)\n",
                 one.ns, ban_store_count(store), (unsigned long long)one.hits);
    double ns = 0;
    if (two_readers(store, iterations, NULL, &ns) != 0) {
        return 1;
    }
    (void)printf("ban_store_is_banned      %7.1f ns/call  (2 threads at once, each)\n", ns);
    if (bench_locked_variant(store, iterations) != 0 ||
        bench_under_writes(store, iterations) != 0) {
        return 1;
    }
    (void)printf("ban store memory         %zu bytes for %zu entries\n",
                 ban_store_memory_bytes(store), ban_store_capacity(store));
    ban_store_free(store);
    return 0;
}

static int bench_ratelimit(uint64_t iterations)
{
    struct ratelimit *table = NULL;
    if (ratelimit_new(&(struct ratelimit_config){ 0 }, &table) != 0) {
        return 1;
    }
    uint64_t over = 0;
    uint64_t start = sw_mono_us();
    for (uint64_t i = 0; i < iterations; i++) {
        over += ratelimit_take(table, &ips[i & (SOURCES - 1)], RATELIMIT_OPTIONS, 2,
                               NOW + i / 10000) != RATELIMIT_OK;
    }
    (void)printf("ratelimit_take           %7.1f ns/call  (%u sources, %llu over)\n",
                 per_call_ns(start, iterations), SOURCES, (unsigned long long)over);
    (void)printf("rate bucket memory       %zu bytes for %zu buckets\n",
                 ratelimit_memory_bytes(table), ratelimit_capacity(table));
    ratelimit_free(table);
    return 0;
}

static int bench_failtrack(uint64_t iterations)
{
    struct failtrack *ft = NULL;
    if (failtrack_new(&(struct failtrack_config){ 0 }, &ft) != 0) {
        return 1;
    }
    uint64_t bans = 0;
    uint64_t start = sw_mono_us();
    for (uint64_t i = 0; i < iterations; i++) {
        struct failtrack_attempt a = { .ip = ips[i & (SOURCES - 1)],
                                       .kind = EV_INVALID_PASSWORD,
                                       .user = SV("1001"),
                                       .call_id = SV("bench"),
                                       .cseq = (uint32_t)i };
        struct failtrack_result r;
        failtrack_record(ft, &a, NOW + i / 1000, &r);
        bans += r.verdict == FAILTRACK_BAN;
    }
    (void)printf("failtrack_record         %7.1f ns/call  (%llu ban verdicts)\n",
                 per_call_ns(start, iterations), (unsigned long long)bans);
    (void)printf("failure tracker memory   %zu bytes for %zu sources\n", failtrack_memory_bytes(ft),
                 failtrack_capacity(ft));
    failtrack_free(ft);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t iterations = 10000000;
    if (argc == 2) {
        iterations = strtoull(argv[1], NULL, 10);
    }
    if (argc > 2 || iterations == 0 || iterations > 1000000000ull) {
        (void)fprintf(stderr, "usage: state_bench [iterations]\n");
        return 2;
    }
    if (sw_hash_init() != 0) {
        return 1;
    }
    ips = calloc(SOURCES, sizeof(*ips));
    if (ips == NULL) {
        return 1;
    }
    for (uint32_t n = 0; n < SOURCES; n++) {
        ips[n] = ip_n(n);
    }
    int err = bench_bans(iterations);
    err = err != 0 ? err : bench_ratelimit(iterations);
    err = err != 0 ? err : bench_failtrack(iterations / 10);
    free(ips);
    return err;
}
