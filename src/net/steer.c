#include "net/steer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/socket.h>

#include "base/alloc.h"
#include "base/bpf_embed.h"
#include "base/err.h"
#include "base/hash.h"
#include "net/steer_object.h"

struct net_steer {
    struct bpf_object *obj;
    int prog_fd;
    int counts_fd;
};

/* Derived from the process's hash key, so it is as secret; 0 until first asked. */
static _Atomic uint32_t steer_key;

static uint32_t key_of_process(void)
{
    uint32_t key = atomic_load_explicit(&steer_key, memory_order_relaxed);
    if (key == 0) {
        /* Every thread computes the same value: a race only repeats the work. */
        key = (uint32_t)sw_hash_bytes("udp steering", 12) | 1u;
        atomic_store_explicit(&steer_key, key, memory_order_relaxed);
    }
    return key;
}

unsigned net_steer_owner(struct sv call_id, unsigned workers)
{
    if (workers <= 1) {
        return 0;
    }
    __u8 first[4] = { 0 };
    uint32_t hash = key_of_process();
    for (size_t i = 0; i < call_id.len; i++) {
        __u8 c = (__u8)call_id.ptr[i];
        if (i < 4) {
            first[i] = c;
        }
        hash = steer_fnv_step(hash, c);
    }
    int named = steer_named_owner(first, (__u32)call_id.len, workers);
    return named >= 0 ? (unsigned)named : steer_finish(hash) % workers;
}

int net_steer_scan_owner(struct sv data, unsigned workers)
{
    if (workers <= 1) {
        return 0;
    }
    struct steer_scan scan;
    steer_scan_init(&scan, key_of_process());
    size_t len = data.len < STEER_SCAN_MAX ? data.len : STEER_SCAN_MAX;
    for (size_t i = 0; i < len && !steer_scan_step(&scan, (__u8)data.ptr[i]); i++) {
    }
    return steer_scan_owner(&scan, workers);
}

static int load(struct net_steer *steer, unsigned workers, char *why, size_t cap)
{
    size_t len = 0;
    const unsigned char *image = net_steer_object(&len);
    int rc = sw_bpf_open_embedded(image, len, "sipwarden_steer", &steer->obj, why, cap);
    if (rc != 0) {
        return rc;
    }
    steer->prog_fd = sw_bpf_load(steer->obj, "sw_steer", "steering program", why, cap);
    if (steer->prog_fd < 0) {
        return steer->prog_fd;
    }
    int cfg_fd = sw_bpf_map_fd(steer->obj, "sw_steer_cfg", why, cap);
    steer->counts_fd = sw_bpf_map_fd(steer->obj, "sw_steer_counts", why, cap);
    if (cfg_fd < 0 || steer->counts_fd < 0) {
        return -SW_EBADARG;
    }
    const __u32 zero = 0;
    struct steer_cfg cfg = { .key = key_of_process(), .workers = workers };
    if (bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY) != 0) {
        rc = -errno;
        (void)snprintf(why, cap, "cannot configure the steering program: %s", sw_strerror(rc));
        return rc;
    }
    return 0;
}

int net_steer_new(unsigned workers, struct net_steer **out, char *why, size_t cap)
{
    struct net_steer *steer = sw_calloc(1, sizeof(*steer));
    if (steer == NULL) {
        (void)snprintf(why, cap, "out of memory");
        return -ENOMEM;
    }
    int rc = load(steer, workers, why, cap);
    if (rc != 0) {
        net_steer_free(steer);
        return rc;
    }
    *out = steer;
    return 0;
}

int net_steer_attach(const struct net_steer *steer, int fd)
{
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &steer->prog_fd,
                   sizeof(steer->prog_fd)) == -1) {
        return -errno;
    }
    return 0;
}

void net_steer_counts(const struct net_steer *steer, uint64_t out[STEER_COUNTERS])
{
    sw_bpf_sum_percpu(steer->counts_fd, STEER_COUNTERS, out);
}

void net_steer_free(struct net_steer *steer)
{
    if (steer == NULL) {
        return;
    }
    bpf_object__close(steer->obj);
    sw_free(steer);
}
