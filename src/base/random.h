/*
 * Unpredictable bytes for protocol identifiers: tags, branches, Call-IDs, cnonces. They
 * come from the kernel's CSPRNG (getrandom), drawn in blocks per thread: one call costs
 * six identifiers, and a getrandom per identifier was a sixth of the gateway's syscalls.
 * Long-lived secrets (keys) call getrandom themselves and never pass through this buffer.
 */
#ifndef SW_BASE_RANDOM_H
#define SW_BASE_RANDOM_H

#include <stddef.h>

/* `len` random bytes. Aborts only if the kernel refuses getrandom (no CSPRNG at all). */
void sw_random_bytes(void *out, size_t len);

/* `digits` random lower-case hex digits into `out` (no NUL). */
void sw_random_hex(char *out, size_t digits);

#endif
