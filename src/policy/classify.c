#include "policy/classify.h"

#include "config/config.h"

static int best_prefix(const struct cfg_cidrs *ranges, const struct sw_ip *ip)
{
    int best = -1;
    for (size_t i = 0; i < ranges->count; i++) {
        if (sw_cidr_contains(&ranges->items[i], ip) && ranges->items[i].prefix_len > best) {
            best = ranges->items[i].prefix_len;
        }
    }
    return best;
}

enum side classify_source(const struct cfg *cfg, const struct sw_ip *ip, uint16_t port,
                          size_t *trunk)
{
    enum side side = SIDE_UNKNOWN;
    int best = best_prefix(&cfg->pbx.permit, ip);
    if (best >= 0 && cfg->pbx.is_port_matched && port != cfg->pbx.address.port) {
        best = -1; /* a shared address: another local process, not the PBX */
    }
    if (best >= 0) {
        side = SIDE_PBX;
    }
    for (size_t i = 0; i < cfg->trunk_count; i++) {
        const struct cfg_trunk *t = &cfg->trunks[i];
        int prefix = best_prefix(&t->permit, ip);
        if (prefix > best && best_prefix(&t->deny, ip) < prefix) {
            best = prefix;
            side = SIDE_PROVIDER;
            *trunk = i;
        }
    }
    return side;
}

const char *side_name(enum side side)
{
    switch (side) {
    case SIDE_PROVIDER:
        return "provider";
    case SIDE_PBX:
        return "pbx";
    case SIDE_ACCOUNT:
        return "account";
    case SIDE_UNKNOWN:
        break;
    }
    return "unknown";
}
