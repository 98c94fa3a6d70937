/*
 * The UDP steering program (net/steer.h) as an ELF object for libbpf: net/bpf/
 * steer.bpf.c compiled with clang -target bpf and embedded at build time
 * (cmake/embed.cmake), so the binary needs no file beside it. Pure; any thread.
 */
#ifndef SW_NET_STEER_OBJECT_H
#define SW_NET_STEER_OBJECT_H

#include <stddef.h>

/* The object's bytes; *len receives their count. Static storage. */
const unsigned char *net_steer_object(size_t *len);

#endif
