/*
 * `sipwarden firewall --format nft|iptables|ip6tables [-c CONF] [--rtp-range LO-HI]`: the
 * host firewall that belongs in front of sipwarden, generated from its configuration.
 *
 * What the rules do (for every listener of [general] listen):
 *   - accept the SIP port from the trunks' permit ranges, the PBX's permit ranges and the
 *     accounts' permit ranges (when an enabled account has no permit, [acl] permit is
 *     used; when that is empty too the port must stay open to everyone: a comment and a
 *     warning on stderr say so);
 *   - drop [acl] deny ranges first;
 *   - log (rate-limited, prefix "SIP-BLOCKED: ") and drop everything else on the port;
 *   - accept the RTP port range (UDP) from anywhere: media comes from addresses the SDP
 *     names, not from the signalling ranges;
 *   - nft only: a named set of banned addresses (ban.nft_set, default "inet sipwarden
 *     banned") whose members are dropped on every port. In an inet table IPv4 addresses
 *     go to the set <set> and IPv6 addresses to <set>6.
 * Per-object deny ranges are left to sipwarden itself (a trunk's deny must not block an
 * account that may use the same range).
 *
 * The rules live in their own table (nft: inet sipwarden, replaced as a whole on each
 * load) or chain (iptables: SIPWARDEN, jumped to from INPUT; apply with
 * `iptables-restore --noflush`). Runs on the main thread of the command.
 */
#ifndef SW_TOOLS_FIREWALL_H
#define SW_TOOLS_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/addr.h"

struct cfg;

#define FIREWALL_MAX_LISTENERS 32
#define FIREWALL_RANGE_CAP     (SW_ADDR_STRLEN + 4)
#define FIREWALL_NAME_CAP      64

enum firewall_format {
    FIREWALL_NFT,
    FIREWALL_IPTABLES,
    FIREWALL_IP6TABLES,
};

struct firewall_listener {
    char daddr[SW_ADDR_STRLEN]; /* "" for a wildcard address */
    uint16_t port;
    bool is_udp; /* else TCP (tcp, tls, ws, wss) */
    bool is_v6;
};

struct firewall_range {
    char text[FIREWALL_RANGE_CAP]; /* "ip/len" */
    bool is_v6;
};

struct firewall_ranges {
    struct firewall_range *items;
    size_t count;
    size_t cap;
};

struct firewall_plan {
    struct firewall_listener listeners[FIREWALL_MAX_LISTENERS];
    size_t listener_count;
    struct firewall_ranges allowed; /* sorted, without duplicates */
    struct firewall_ranges denied;
    bool is_open_to_all; /* an account may register from anywhere */
    uint16_t rtp_low;
    uint16_t rtp_high;
    char ban_family[8]; /* "inet", "ip" or "ip6" */
    char ban_table[FIREWALL_NAME_CAP];
    char ban_set[FIREWALL_NAME_CAP];
    const char *source; /* the configuration's name, for the header comment */
};

/*
 * Fills `plan` from `cfg` with the RTP range [rtp_low, rtp_high]. Returns 0, -ENOMEM, or
 * -SW_EBADARG when there are more listeners than FIREWALL_MAX_LISTENERS. The plan borrows
 * cfg->source; free it with firewall_plan_fini().
 */
int firewall_plan_build(const struct cfg *cfg, uint16_t rtp_low, uint16_t rtp_high,
                        struct firewall_plan *plan);

/* Frees what the plan owns. */
void firewall_plan_fini(struct firewall_plan *plan);

/* Writes the plan in `format` to `out`. Returns 0 or -SW_EIO. */
int firewall_plan_write(const struct firewall_plan *plan, enum firewall_format format, FILE *out);

/* The subcommand; argv[0] is "firewall". Exit status 0, or 2 on bad usage/configuration. */
int tools_firewall_main(int argc, char **argv);

#endif
