/*
 * [ban] kernel_drop: the ban store's bans and the [acl] deny ranges in BPF maps, read by a
 * socket filter (state/bpf/ban_filter.bpf.c, embedded in the binary) that drops packets
 * from those sources before the kernel queues them on a socket, so they never wake a
 * worker. The ban store stays the source of truth: attached as a backend
 * (`ban_bpf_ops`), its `load` fills the map with every active ban (a restart refills it)
 * and every change it is told about (add, lift, expiry; a ban from Redis too) is applied
 * by reading the store's current entry for that address again, so the map converges on
 * the store whatever the order in which threads report. An entry keeps its end as a
 * CLOCK_MONOTONIC deadline, so the filter stops dropping at the ban's end even before the
 * housekeeping thread reports the expiry (which removes it).
 *
 * A ban that covers an IPv6 prefix ([ban] ipv6_prefix: the store keeps it under the
 * prefix's first address, ban_store_key_prefix_len) goes into a longest-prefix-match trie
 * beside the address map, with the same deadline, so every address of the prefix is
 * dropped in the kernel; the filter asks the trie only when the address map misses.
 *
 * Bounds: the ban map holds `max_entries` addresses (the store's capacity), preallocated
 * in kernel memory: 88 bytes each (memlock in the map's fdinfo), 5.5 MiB for the default
 * 65,536; the prefix trie holds as many, allocated per entry as they come; the deny trie
 * and the counters take under 1 KiB. When the ban map or the prefix trie is full because
 * the store evicted entries without telling (store eviction is silent), the entries the
 * store no longer bans are swept out and the update is tried once more. The deny trie
 * holds BAN_BPF_MAX_DENY ranges.
 *
 * Privileges: loading needs CAP_BPF (or root) and a kernel with BPF socket filters;
 * ban_bpf_new says why it failed, and the caller keeps the user-space gate alone.
 *
 * Threads: ban_bpf_new, ban_bpf_free and ban_bpf_set_deny from one thread at a time (the
 * main thread); ban_bpf_attach_socket, ban_bpf_drops, ban_bpf_lookup and the backend's
 * publish from any thread.
 */
#ifndef SW_STATE_BAN_BPF_H
#define SW_STATE_BAN_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "state/ban.h"
#include "state/ban_bpf_abi.h"

#define BAN_BPF_MAX_DENY 256

struct ban_bpf;

/* The backend: ctx is the struct ban_bpf; `close` frees it (ban_bpf_free). */
extern const struct ban_store_ops ban_bpf_ops;

/*
 * Loads the filter with a ban map of `max_entries` addresses (0 = 65536). Returns 0 and
 * *out, or -errno (EPERM: no privilege; ENOSYS/EINVAL: the kernel refuses) with `why`
 * (cap bytes) saying what was refused.
 */
int ban_bpf_new(size_t max_entries, struct ban_bpf **out, char *why, size_t cap);

/* Detaches nothing (sockets keep the filter while they live); frees. NULL is a no-op. */
void ban_bpf_free(struct ban_bpf *bpf);

/* Attaches the filter to socket `fd` (SO_ATTACH_BPF). Returns 0 or -errno. */
int ban_bpf_attach_socket(const struct ban_bpf *bpf, int fd);

/*
 * Makes the deny trie hold exactly `ranges` (at most BAN_BPF_MAX_DENY; more: -SW_EFULL and
 * the trie unchanged). Ranges added first, stale ones removed after, so no covered
 * address passes in between. Returns 0 or -errno.
 */
int ban_bpf_set_deny(struct ban_bpf *bpf, const struct sw_cidr *ranges, size_t count);

/* Packets the filter dropped since it was loaded, per BAN_BPF_DROP_* (summed over CPUs). */
void ban_bpf_drops(const struct ban_bpf *bpf, uint64_t out[BAN_BPF_COUNTERS]);

/*
 * How often the kernel ran the filter and for how long in all (nanoseconds), from the
 * program's statistics; both stay 0 unless statistics are enabled (the sysctl
 * kernel.bpf_stats_enabled, or a BPF_ENABLE_STATS file descriptor held by anyone, as
 * bench/ban does to measure the filter's cost per packet).
 */
void ban_bpf_run_stats(const struct ban_bpf *bpf, uint64_t *runs, uint64_t *run_ns);

/*
 * True when the ban map holds `ip`, or the prefix trie a prefix holding it (the filter's
 * order); *end_ns (may be NULL) receives that ban's CLOCK_MONOTONIC deadline in
 * nanoseconds (BAN_BPF_FOREVER: none). For tests and diagnostics.
 */
bool ban_bpf_lookup(const struct ban_bpf *bpf, const struct sw_ip *ip, uint64_t *end_ns);

/* Bans in the kernel: addresses plus prefixes (walks the maps: tests and diagnostics). */
size_t ban_bpf_count(const struct ban_bpf *bpf);

/* Of those, the bans that cover a prefix (the sw_ban_nets trie). */
size_t ban_bpf_prefix_count(const struct ban_bpf *bpf);

#endif
