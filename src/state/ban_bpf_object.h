/*
 * The socket filter of [ban] kernel_drop as an ELF object for libbpf: state/bpf/
 * ban_filter.bpf.c compiled with clang -target bpf and embedded at build time
 * (cmake/embed.cmake), so the binary needs no file beside it. Pure; any thread.
 */
#ifndef SW_STATE_BAN_BPF_OBJECT_H
#define SW_STATE_BAN_BPF_OBJECT_H

#include <stddef.h>

/* The object's bytes; *len receives their count. Static storage. */
const unsigned char *ban_bpf_object(size_t *len);

#endif
