/*
 * Opening a BPF object embedded in the binary (cmake/embed.cmake), shared by the kernel
 * drop filter (state/ban_bpf.c) and the UDP steering program (net/steer.c): libbpf's own
 * warnings go to the debug log, the caller gets one line saying what failed.
 */
#ifndef SW_BASE_BPF_EMBED_H
#define SW_BASE_BPF_EMBED_H

#include <stddef.h>
#include <stdint.h>

struct bpf_object;

/*
 * Opens the `len` bytes of `image` as object `name` (not loaded yet: maps may still be
 * sized). Returns 0 and *out, or -errno with `why` (cap bytes) saying what failed.
 */
int sw_bpf_open_embedded(const unsigned char *image, size_t len, const char *name,
                         struct bpf_object **out, char *why, size_t cap);

/*
 * Loads an opened object into the kernel. Returns the fd of its program `program`, or
 * -errno with `why` saying what the kernel refused (`what` names the program for people).
 */
int sw_bpf_load(struct bpf_object *obj, const char *program, const char *what, char *why,
                size_t cap);

/* The fd of map `name` in a loaded object, or -SW_EBADARG with `why` naming the map. */
int sw_bpf_map_fd(struct bpf_object *obj, const char *name, char *why, size_t cap);

/* Sums a per-CPU array map of `count` __u64 counters into out[0..count-1] (0 on error). */
void sw_bpf_sum_percpu(int map_fd, unsigned count, uint64_t *out);

#endif
