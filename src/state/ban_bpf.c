#include "state/ban_bpf.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "base/alloc.h"
#include "base/bpf_embed.h"
#include "base/err.h"
#include "base/log.h"
#include "base/time.h"
#include "state/ban_bpf_object.h"

#define BAN_BPF_DEFAULT_ENTRIES 65536u
#define BAN_BPF_SWEEP_BATCH     1024
#define NS_PER_US               1000u
#define US_PER_S                1000000

struct ban_bpf {
    struct bpf_object *obj;
    int prog_fd;
    int bans_fd;
    int nets_fd;
    int deny_fd;
    int drops_fd;
    size_t max_entries;
    struct ban_store *store; /* set by the backend's load */
    /* Serializes "read the store, write the map" so the last writer saw the latest state. */
    pthread_mutex_t lock;
    atomic_bool has_warned;
};

/*
 * Where the ban stored under one address lives in the kernel: the hash of single addresses
 * (sw_bans) or, for a ban that covers a prefix, the trie (sw_ban_nets). `key` is the
 * first `key_size` bytes of the union.
 */
struct map_key {
    int fd;
    size_t key_size;

    union {
        struct ban_bpf_key addr;
        struct ban_bpf_lpm_key net;
    } key;
};

static void key_of(const struct sw_ip *ip, struct ban_bpf_key *key)
{
    memcpy(key->addr, ip->bytes, sizeof(key->addr));
}

static void map_key_of(const struct ban_bpf *bpf, const struct sw_ip *ip, struct map_key *out)
{
    memset(out, 0, sizeof(*out));
    unsigned prefix_len = bpf->store != NULL ? ban_store_key_prefix_len(bpf->store, ip) : 128;
    if (prefix_len >= 128) {
        out->fd = bpf->bans_fd;
        out->key_size = sizeof(out->key.addr);
        key_of(ip, &out->key.addr);
        return;
    }
    out->fd = bpf->nets_fd;
    out->key_size = sizeof(out->key.net);
    out->key.net.prefix_len = prefix_len;
    memcpy(out->key.net.addr, ip->bytes, sizeof(out->key.net.addr));
}

static int load_object(struct ban_bpf *bpf, char *why, size_t cap)
{
    size_t len = 0;
    const unsigned char *image = ban_bpf_object(&len);
    int rc = sw_bpf_open_embedded(image, len, "sipwarden_ban", &bpf->obj, why, cap);
    if (rc != 0) {
        return rc;
    }
    const char *const sized[] = { "sw_bans", "sw_ban_nets" };
    for (size_t i = 0; i < sizeof(sized) / sizeof(sized[0]) && rc == 0; i++) {
        struct bpf_map *map = bpf_object__find_map_by_name(bpf->obj, sized[i]);
        rc = map == NULL ? -SW_EBADARG : bpf_map__set_max_entries(map, (uint32_t)bpf->max_entries);
    }
    if (rc != 0) {
        (void)snprintf(why, cap, "cannot size the ban map: %s", sw_strerror(rc));
        return rc;
    }
    bpf->prog_fd = sw_bpf_load(bpf->obj, "sw_ban_filter", "socket filter", why, cap);
    if (bpf->prog_fd < 0) {
        return bpf->prog_fd;
    }
    bpf->bans_fd = sw_bpf_map_fd(bpf->obj, "sw_bans", why, cap);
    bpf->nets_fd = bpf->bans_fd < 0 ? -1 : sw_bpf_map_fd(bpf->obj, "sw_ban_nets", why, cap);
    bpf->deny_fd = bpf->nets_fd < 0 ? -1 : sw_bpf_map_fd(bpf->obj, "sw_deny", why, cap);
    bpf->drops_fd = bpf->deny_fd < 0 ? -1 : sw_bpf_map_fd(bpf->obj, "sw_drops", why, cap);
    return bpf->drops_fd < 0 ? bpf->drops_fd : 0;
}

int ban_bpf_new(size_t max_entries, struct ban_bpf **out, char *why, size_t cap)
{
    struct ban_bpf *bpf = sw_calloc(1, sizeof(*bpf));
    if (bpf == NULL) {
        (void)snprintf(why, cap, "out of memory");
        return -ENOMEM;
    }
    if (pthread_mutex_init(&bpf->lock, NULL) != 0) {
        sw_free(bpf);
        (void)snprintf(why, cap, "out of memory");
        return -ENOMEM;
    }
    bpf->max_entries = max_entries != 0 ? max_entries : BAN_BPF_DEFAULT_ENTRIES;
    atomic_init(&bpf->has_warned, false);
    int rc = load_object(bpf, why, cap);
    if (rc != 0) {
        ban_bpf_free(bpf);
        return rc;
    }
    *out = bpf;
    return 0;
}

void ban_bpf_free(struct ban_bpf *bpf)
{
    if (bpf == NULL) {
        return;
    }
    bpf_object__close(bpf->obj);
    bpf->obj = NULL;
    pthread_mutex_destroy(&bpf->lock);
    sw_free(bpf);
}

int ban_bpf_attach_socket(const struct ban_bpf *bpf, int fd)
{
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &bpf->prog_fd, sizeof(bpf->prog_fd)) == -1) {
        return -errno;
    }
    return 0;
}

/* ---- the ban map ------------------------------------------------------------------- */

/* The CLOCK_MONOTONIC deadline of a ban ending at wall-clock second `end_s`; 0 = over. */
static uint64_t deadline_ns(int64_t end_s, uint64_t wall_us, uint64_t mono_us)
{
    if (end_s == BAN_FOREVER) {
        return BAN_BPF_FOREVER;
    }
    int64_t left_us = end_s * US_PER_S - (int64_t)wall_us;
    if (left_us <= 0) {
        return 0;
    }
    if ((uint64_t)left_us > (BAN_BPF_FOREVER / NS_PER_US) - mono_us) {
        return BAN_BPF_FOREVER;
    }
    return (mono_us + (uint64_t)left_us) * NS_PER_US;
}

/* The address a key of the map `mk` names (a trie's key: the first address of its prefix). */
static void ip_of_key(const struct map_key *mk, const void *key, struct sw_ip *ip)
{
    size_t offset = mk->key_size == sizeof(struct ban_bpf_key)
                        ? offsetof(struct ban_bpf_key, addr)
                        : offsetof(struct ban_bpf_lpm_key, addr);
    memcpy(ip->bytes, (const uint8_t *)key + offset, sizeof(ip->bytes));
}

/*
 * Deletes, in batches, the keys of the map `mk` names that the store does not ban at
 * `now_s`: what the store evicted without telling. Under bpf->lock. Returns how many went.
 */
static size_t sweep_stale(struct ban_bpf *bpf, const struct map_key *mk, int64_t now_s)
{
    struct ban_bpf_lpm_key stale[BAN_BPF_SWEEP_BATCH]; /* the larger of the two key types */
    size_t removed = 0;
    size_t max_rounds = bpf->max_entries / BAN_BPF_SWEEP_BATCH + 2;
    for (size_t round = 0; round < max_rounds; round++) {
        size_t count = 0;
        struct ban_bpf_lpm_key key = { 0 };
        struct ban_bpf_lpm_key prev = { 0 };
        bool has_prev = false;
        /* Collect, then delete: deleting while walking would restart the walk. */
        while (count < BAN_BPF_SWEEP_BATCH &&
               bpf_map_get_next_key(mk->fd, has_prev ? &prev : NULL, &key) == 0) {
            struct sw_ip ip;
            ip_of_key(mk, &key, &ip);
            if (!ban_store_is_banned(bpf->store, &ip, now_s)) {
                stale[count++] = key;
            }
            prev = key;
            has_prev = true;
        }
        for (size_t i = 0; i < count; i++) {
            /* Gone meanwhile is gone all the same. */
            (void)bpf_map_delete_elem(mk->fd, &stale[i]);
        }
        removed += count;
        if (count < BAN_BPF_SWEEP_BATCH) {
            break;
        }
    }
    return removed;
}

static int map_put(struct ban_bpf *bpf, const struct map_key *mk, uint64_t end_ns, int64_t now_s)
{
    if (bpf_map_update_elem(mk->fd, &mk->key, &end_ns, BPF_ANY) == 0) {
        return 0;
    }
    int err = -errno;
    /* Full: a hash says E2BIG, a trie ENOSPC. */
    bool is_full = err == -E2BIG || err == -ENOSPC;
    if (!is_full || bpf->store == NULL || sweep_stale(bpf, mk, now_s) == 0) {
        return err;
    }
    return bpf_map_update_elem(mk->fd, &mk->key, &end_ns, BPF_ANY) == 0 ? 0 : -errno;
}

/* Makes the map say what the store says about `ip` now. */
static int sync_address(struct ban_bpf *bpf, const struct sw_ip *ip)
{
    struct map_key mk;
    map_key_of(bpf, ip, &mk);
    pthread_mutex_lock(&bpf->lock);
    uint64_t wall_us = sw_wall_us();
    uint64_t mono_us = sw_mono_us();
    int64_t now_s = (int64_t)(wall_us / US_PER_S);
    struct ban_entry entry;
    bool is_banned = ban_store_get(bpf->store, ip, &entry) && entry.end_s > now_s;
    uint64_t end_ns = is_banned ? deadline_ns(entry.end_s, wall_us, mono_us) : 0;
    int rc = 0;
    if (end_ns != 0) {
        rc = map_put(bpf, &mk, end_ns, now_s);
    } else if (bpf_map_delete_elem(mk.fd, &mk.key) != 0 && errno != ENOENT) {
        rc = -errno;
    }
    pthread_mutex_unlock(&bpf->lock);
    return rc;
}

static void warn_once(struct ban_bpf *bpf, const char *what, int err)
{
    if (!atomic_exchange(&bpf->has_warned, true)) {
        log_warn(NULL,
                 "ban: kernel drop: %s: %s (the gate still drops in user space; logged "
                 "once)",
                 what, sw_strerror(err));
    }
}

struct refill {
    struct ban_bpf *bpf;
    uint64_t wall_us;
    uint64_t mono_us;
    int err;
};

static void refill_one(void *ctx, const struct ban_entry *entry)
{
    struct refill *r = ctx;
    struct map_key mk;
    map_key_of(r->bpf, &entry->ip, &mk);
    uint64_t end_ns = deadline_ns(entry->end_s, r->wall_us, r->mono_us);
    if (end_ns != 0 && bpf_map_update_elem(mk.fd, &mk.key, &end_ns, BPF_ANY) != 0 && r->err == 0) {
        r->err = -errno;
    }
}

static int backend_load(void *backend, struct ban_store *store, int64_t now_s)
{
    struct ban_bpf *bpf = backend;
    bpf->store = store;
    struct refill r = { .bpf = bpf, .wall_us = sw_wall_us(), .mono_us = sw_mono_us() };
    pthread_mutex_lock(&bpf->lock);
    (void)ban_store_each(store, now_s, refill_one, &r);
    pthread_mutex_unlock(&bpf->lock);
    if (r.err != 0) {
        warn_once(bpf, "cannot copy every ban into the kernel map", r.err);
    }
    return 0;
}

static void backend_publish(void *backend, enum ban_change change, const struct ban_entry *entry)
{
    (void)change; /* whatever changed, the store's entry now is what the map must say */
    struct ban_bpf *bpf = backend;
    if (bpf->store == NULL) {
        return;
    }
    int rc = sync_address(bpf, &entry->ip);
    if (rc != 0) {
        warn_once(bpf, "cannot update the kernel map", rc);
    }
}

static void backend_close(void *backend)
{
    ban_bpf_free(backend);
}

const struct ban_store_ops ban_bpf_ops = {
    .name = "kernel",
    .load = backend_load,
    .publish = backend_publish,
    .close = backend_close,
};

void ban_bpf_run_stats(const struct ban_bpf *bpf, uint64_t *runs, uint64_t *run_ns)
{
    struct bpf_prog_info info;
    memset(&info, 0, sizeof(info));
    uint32_t len = sizeof(info);
    bool is_read = bpf_obj_get_info_by_fd(bpf->prog_fd, &info, &len) == 0;
    *runs = is_read ? info.run_cnt : 0;
    *run_ns = is_read ? info.run_time_ns : 0;
}

bool ban_bpf_lookup(const struct ban_bpf *bpf, const struct sw_ip *ip, uint64_t *end_ns)
{
    struct ban_bpf_lpm_key net = { .prefix_len = 128 };
    memcpy(net.addr, ip->bytes, sizeof(net.addr));
    uint64_t value = 0;
    /* As the filter looks: the address itself, then the longest banned prefix holding it. */
    if (bpf_map_lookup_elem(bpf->bans_fd, net.addr, &value) != 0 &&
        bpf_map_lookup_elem(bpf->nets_fd, &net, &value) != 0) {
        return false;
    }
    if (end_ns != NULL) {
        *end_ns = value;
    }
    return true;
}

/* Keys in the map `fd`, walked; bounded by twice `max` (a changing map may restart once). */
static size_t count_keys(int fd, size_t max)
{
    size_t count = 0;
    struct ban_bpf_lpm_key keys[2]; /* the larger of the two key types */
    const void *prev = NULL;
    while (count <= 2 * max && bpf_map_get_next_key(fd, prev, &keys[count % 2]) == 0) {
        prev = &keys[count % 2];
        count++;
    }
    return count;
}

size_t ban_bpf_count(const struct ban_bpf *bpf)
{
    return count_keys(bpf->bans_fd, bpf->max_entries) + count_keys(bpf->nets_fd, bpf->max_entries);
}

size_t ban_bpf_prefix_count(const struct ban_bpf *bpf)
{
    return count_keys(bpf->nets_fd, bpf->max_entries);
}

/* ---- the deny trie and the counters ------------------------------------------------ */

static void lpm_key_of(const struct sw_cidr *range, struct ban_bpf_lpm_key *key)
{
    memset(key, 0, sizeof(*key));
    key->prefix_len = range->prefix_len;
    memcpy(key->addr, range->ip.bytes, sizeof(key->addr));
}

static bool lpm_key_in(const struct ban_bpf_lpm_key *key, const struct sw_cidr *ranges,
                       size_t count)
{
    for (size_t i = 0; i < count; i++) {
        struct ban_bpf_lpm_key other;
        lpm_key_of(&ranges[i], &other);
        if (memcmp(&other, key, sizeof(other)) == 0) {
            return true;
        }
    }
    return false;
}

int ban_bpf_set_deny(struct ban_bpf *bpf, const struct sw_cidr *ranges, size_t count)
{
    if (count > BAN_BPF_MAX_DENY) {
        return -SW_EFULL;
    }
    const uint8_t one = 1;
    for (size_t i = 0; i < count; i++) {
        struct ban_bpf_lpm_key key;
        lpm_key_of(&ranges[i], &key);
        if (bpf_map_update_elem(bpf->deny_fd, &key, &one, BPF_ANY) != 0) {
            return -errno;
        }
    }
    /* Collect first: deleting while walking would restart the walk. */
    struct ban_bpf_lpm_key stale[BAN_BPF_MAX_DENY];
    size_t stale_count = 0;
    struct ban_bpf_lpm_key key;
    struct ban_bpf_lpm_key prev;
    bool has_prev = false;
    while (stale_count < BAN_BPF_MAX_DENY &&
           bpf_map_get_next_key(bpf->deny_fd, has_prev ? &prev : NULL, &key) == 0) {
        if (!lpm_key_in(&key, ranges, count)) {
            stale[stale_count++] = key;
        }
        prev = key;
        has_prev = true;
    }
    for (size_t i = 0; i < stale_count; i++) {
        if (bpf_map_delete_elem(bpf->deny_fd, &stale[i]) != 0 && errno != ENOENT) {
            return -errno;
        }
    }
    return 0;
}

void ban_bpf_drops(const struct ban_bpf *bpf, uint64_t out[BAN_BPF_COUNTERS])
{
    sw_bpf_sum_percpu(bpf->drops_fd, BAN_BPF_COUNTERS, out);
}
