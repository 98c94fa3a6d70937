/*
 * Which side a packet comes from, by its transport source address only (never by
 * headers, which the sender writes): the PBX's permit ranges, a trunk's provider ranges,
 * or nobody we know. The most specific matching range wins when ranges overlap (a /32
 * of the PBX inside a provider's /24). Pure; any thread.
 */
#ifndef SW_POLICY_CLASSIFY_H
#define SW_POLICY_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "policy/stage.h"

struct cfg;

/*
 * The side of `ip` sending from `port`; for SIDE_PROVIDER, *trunk is the trunk's index.
 * When [pbx] is_port_matched, only the PBX's own port on its address is the PBX.
 */
enum side classify_source(const struct cfg *cfg, const struct sw_ip *ip, uint16_t port,
                          size_t *trunk);

/* "unknown", "provider", "pbx", "account". */
const char *side_name(enum side side);

#endif
