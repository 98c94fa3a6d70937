#include "tools/firewall.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/diag.h"
#include "base/err.h"
#include "config/config.h"

#define EXIT_OK    0
#define EXIT_USAGE 2

#define DEFAULT_CONFIG   "/etc/sipwarden/sipwarden.conf"
/* Asterisk's rtp.conf default; the configuration's [pbx] rtp_port_min/max win. */
#define DEFAULT_RTP_LOW  10000
#define DEFAULT_RTP_HIGH 20000
/* Drops are logged at most this often, so that a flood cannot fill the disk. */
#define LOG_LIMIT        "10/second burst 20 packets"
#define LOG_PREFIX       "SIP-BLOCKED: "

static int ranges_add(struct firewall_ranges *ranges, const struct sw_cidr *cidr)
{
    if (ranges->count == ranges->cap) {
        size_t cap = ranges->cap == 0 ? 16 : ranges->cap * 2;
        struct firewall_range *grown = sw_realloc(ranges->items, cap * sizeof(*grown));
        if (grown == NULL) {
            return -ENOMEM;
        }
        ranges->items = grown;
        ranges->cap = cap;
    }
    struct firewall_range *r = &ranges->items[ranges->count++];
    sw_cidr_format(cidr, r->text, sizeof(r->text));
    r->is_v6 = !sw_ip_is_v4(&cidr->ip);
    return 0;
}

static int ranges_add_all(struct firewall_ranges *ranges, const struct cfg_cidrs *cidrs)
{
    for (size_t i = 0; i < cidrs->count; i++) {
        int rc = ranges_add(ranges, &cidrs->items[i]);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int compare_ranges(const void *a, const void *b)
{
    const struct firewall_range *x = a;
    const struct firewall_range *y = b;
    if (x->is_v6 != y->is_v6) {
        return x->is_v6 ? 1 : -1;
    }
    return strcmp(x->text, y->text);
}

/* Sorts and removes duplicates, so the output is stable and every range appears once. */
static void ranges_normalize(struct firewall_ranges *ranges)
{
    if (ranges->count < 2) {
        return;
    }
    qsort(ranges->items, ranges->count, sizeof(*ranges->items), compare_ranges);
    size_t kept = 1;
    for (size_t i = 1; i < ranges->count; i++) {
        if (compare_ranges(&ranges->items[i], &ranges->items[kept - 1]) != 0) {
            ranges->items[kept++] = ranges->items[i];
        }
    }
    ranges->count = kept;
}

static bool ip_is_wildcard(const struct sw_ip *ip)
{
    static const uint8_t v4_any[16] = { [10] = 0xff, [11] = 0xff };
    static const uint8_t v6_any[16] = { 0 };
    return memcmp(ip->bytes, v4_any, 16) == 0 || memcmp(ip->bytes, v6_any, 16) == 0;
}

static int add_listeners(const struct cfg *cfg, struct firewall_plan *plan)
{
    const struct cfg_endpoints *listen = &cfg->general.listen;
    if (listen->count > FIREWALL_MAX_LISTENERS) {
        return -SW_EBADARG;
    }
    for (size_t i = 0; i < listen->count; i++) {
        const struct cfg_endpoint *ep = &listen->items[i];
        struct firewall_listener *l = &plan->listeners[plan->listener_count++];
        struct sw_ip ip;
        memset(&ip, 0, sizeof(ip));
        bool has_ip = ep->is_ip && sw_ip_from_sockaddr(&ep->addr, &ip);
        l->is_udp = ep->transport == SW_TRANSPORT_UDP;
        l->port = ep->port;
        l->is_v6 = has_ip && !sw_ip_is_v4(&ip);
        l->daddr[0] = '\0';
        if (has_ip && !ip_is_wildcard(&ip)) {
            sw_ip_format(&ip, l->daddr, sizeof(l->daddr));
        }
    }
    return 0;
}

/* The sources that may reach the SIP ports: trunks, the PBX, the accounts. */
static int add_sources(const struct cfg *cfg, struct firewall_plan *plan)
{
    int rc = ranges_add_all(&plan->allowed, &cfg->pbx.permit);
    for (size_t i = 0; rc == 0 && i < cfg->trunk_count; i++) {
        rc = ranges_add_all(&plan->allowed, &cfg->trunks[i].permit);
    }
    bool has_open_account = false;
    for (size_t i = 0; rc == 0 && i < cfg->account_count; i++) {
        const struct cfg_account *account = &cfg->accounts[i];
        if (!account->enabled) {
            continue;
        }
        has_open_account = has_open_account || account->permit.count == 0;
        rc = ranges_add_all(&plan->allowed, &account->permit);
    }
    if (rc == 0 && has_open_account) {
        /* Such an account is still bound by [acl] permit; without one it may be anywhere. */
        plan->is_open_to_all = cfg->acl.permit.count == 0;
        rc = ranges_add_all(&plan->allowed, &cfg->acl.permit);
    }
    if (rc == 0) {
        rc = ranges_add_all(&plan->denied, &cfg->acl.deny);
    }
    ranges_normalize(&plan->allowed);
    ranges_normalize(&plan->denied);
    return rc;
}

static void copy_word(struct sv word, char *out, size_t cap)
{
    if (!sv_copy_cstr(word, out, cap)) {
        out[0] = '\0';
    }
}

/* ban.nft_set is "family table set" (checked by the configuration loader). */
static void set_ban_names(const struct cfg *cfg, struct firewall_plan *plan)
{
    (void)snprintf(plan->ban_family, sizeof(plan->ban_family), "inet");
    (void)snprintf(plan->ban_table, sizeof(plan->ban_table), "sipwarden");
    (void)snprintf(plan->ban_set, sizeof(plan->ban_set), "banned");
    if (cfg->ban.nft_set == NULL) {
        return;
    }
    struct sv cur = sv_from_cstr(cfg->ban.nft_set);
    struct sv family;
    struct sv table;
    struct sv set;
    if (sv_take_until(&cur, ' ', &family) && sv_take_until(&cur, ' ', &table)) {
        set = sv_trim(cur);
        copy_word(family, plan->ban_family, sizeof(plan->ban_family));
        copy_word(table, plan->ban_table, sizeof(plan->ban_table));
        copy_word(set, plan->ban_set, sizeof(plan->ban_set));
    }
}

int firewall_plan_build(const struct cfg *cfg, uint16_t rtp_low, uint16_t rtp_high,
                        struct firewall_plan *plan)
{
    SW_ASSERT(cfg != NULL && plan != NULL && rtp_low <= rtp_high);
    memset(plan, 0, sizeof(*plan));
    plan->rtp_low = rtp_low;
    plan->rtp_high = rtp_high;
    plan->source = cfg->source;
    set_ban_names(cfg, plan);
    int rc = add_listeners(cfg, plan);
    if (rc == 0) {
        rc = add_sources(cfg, plan);
    }
    if (rc != 0) {
        firewall_plan_fini(plan);
    }
    return rc;
}

void firewall_plan_fini(struct firewall_plan *plan)
{
    sw_free(plan->allowed.items);
    plan->allowed.items = NULL;
    sw_free(plan->denied.items);
    plan->denied.items = NULL;
}

/* The nft set body for one family of `ranges` ("elements = { ... }" only when non-empty). */
static void nft_set(FILE *out, const char *name, const struct firewall_ranges *ranges, bool is_v6)
{
    (void)fprintf(out, "    set %s {\n        type %s\n        flags interval\n", name,
                  is_v6 ? "ipv6_addr" : "ipv4_addr");
    const char *sep = "        elements = { ";
    for (size_t i = 0; i < ranges->count; i++) {
        if (ranges->items[i].is_v6 == is_v6) {
            (void)fprintf(out, "%s%s", sep, ranges->items[i].text);
            sep = ",\n                     ";
        }
    }
    if (sep[0] == ',') {
        (void)fprintf(out, " }\n");
    }
    (void)fprintf(out, "    }\n");
}

static void nft_ban_table(FILE *out, const struct firewall_plan *plan)
{
    bool has_v4 = strcmp(plan->ban_family, "ip6") != 0;
    bool has_v6 = strcmp(plan->ban_family, "ip") != 0;
    /* In an inet table IPv6 bans need their own set: "<set>6". */
    const char *v6_suffix = has_v4 ? "6" : "";
    (void)fprintf(out,
                  "# Addresses sipwarden bans at run time (ban.nft_set); dropped on every port.\n");
    (void)fprintf(out, "table %s %s {\n", plan->ban_family, plan->ban_table);
    if (has_v4) {
        (void)fprintf(out, "    set %s {\n        type ipv4_addr\n        flags timeout\n    }\n",
                      plan->ban_set);
    }
    if (has_v6) {
        (void)fprintf(out, "    set %s%s {\n        type ipv6_addr\n        flags timeout\n    }\n",
                      plan->ban_set, v6_suffix);
    }
    (void)fprintf(out, "    chain ban_input {\n"
                       "        type filter hook input priority filter - 20; policy accept;\n");
    if (has_v4) {
        (void)fprintf(out, "        ip saddr @%s drop\n", plan->ban_set);
    }
    if (has_v6) {
        (void)fprintf(out, "        ip6 saddr @%s%s drop\n", plan->ban_set, v6_suffix);
    }
    (void)fprintf(out, "    }\n}\n\n");
}

/* "udp dport 5060 ip daddr 192.0.2.1" for one listener. */
static void nft_match(FILE *out, const struct firewall_listener *l)
{
    (void)fprintf(out, "        %s dport %u", l->is_udp ? "udp" : "tcp", (unsigned)l->port);
    if (l->daddr[0] != '\0') {
        (void)fprintf(out, " %s daddr %s", l->is_v6 ? "ip6" : "ip", l->daddr);
    }
}

/* One rule per address family the listener serves: "<match> ip saddr @<set>4 <verdict>". */
static void nft_family_rules(FILE *out, const struct firewall_listener *l, const char *set,
                             const char *verdict)
{
    bool is_wildcard = l->daddr[0] == '\0';
    if (is_wildcard || !l->is_v6) {
        nft_match(out, l);
        (void)fprintf(out, " ip saddr @%s4 %s\n", set, verdict);
    }
    if (is_wildcard || l->is_v6) {
        nft_match(out, l);
        (void)fprintf(out, " ip6 saddr @%s6 %s\n", set, verdict);
    }
}

static void nft_listener(FILE *out, const struct firewall_plan *plan,
                         const struct firewall_listener *l)
{
    (void)fprintf(out, "        # %s port %u%s%s\n", l->is_udp ? "UDP" : "TCP/TLS",
                  (unsigned)l->port, l->daddr[0] != '\0' ? " on " : "", l->daddr);
    nft_family_rules(out, l, "sip_denied", "drop");
    if (plan->is_open_to_all) {
        nft_match(out, l);
        (void)fprintf(out, " accept\n");
    } else {
        nft_family_rules(out, l, "sip_allowed", "accept");
    }
    nft_match(out, l);
    (void)fprintf(out, " limit rate " LOG_LIMIT " log prefix \"" LOG_PREFIX "\" level info\n");
    nft_match(out, l);
    (void)fprintf(out, " drop\n");
}

static void write_header(FILE *out, const struct firewall_plan *plan, const char *format,
                         const char *load)
{
    (void)fprintf(out, "# Host firewall for sipwarden, from %s.\n",
                  plan->source == NULL ? "its configuration" : plan->source);
    (void)fprintf(out, "# Generated by 'sipwarden firewall --format %s'; load with: %s\n", format,
                  load);
    if (plan->is_open_to_all) {
        (void)fprintf(out, "# WARNING: an enabled account has no permit and [acl] has no permit: "
                           "the SIP ports stay open to every address.\n");
    }
}

static void write_nft(FILE *out, const struct firewall_plan *plan)
{
    write_header(out, plan, "nft", "nft -f FILE (replaces only the tables below)");
    (void)fprintf(out, "\ntable inet sipwarden\ndelete table inet sipwarden\n");
    bool is_same_table =
        strcmp(plan->ban_family, "inet") == 0 && strcmp(plan->ban_table, "sipwarden") == 0;
    if (!is_same_table) {
        (void)fprintf(out, "table %s %s\ndelete table %s %s\n", plan->ban_family, plan->ban_table,
                      plan->ban_family, plan->ban_table);
    }
    (void)fprintf(out, "\n");
    nft_ban_table(out, plan);
    (void)fprintf(out, "table inet sipwarden {\n");
    nft_set(out, "sip_allowed4", &plan->allowed, false);
    nft_set(out, "sip_allowed6", &plan->allowed, true);
    nft_set(out, "sip_denied4", &plan->denied, false);
    nft_set(out, "sip_denied6", &plan->denied, true);
    (void)fprintf(out, "    chain sip_input {\n"
                       "        type filter hook input priority filter - 10; policy accept;\n"
                       "        iif \"lo\" accept\n");
    for (size_t i = 0; i < plan->listener_count; i++) {
        nft_listener(out, plan, &plan->listeners[i]);
    }
    (void)fprintf(out,
                  "        # RTP: media comes from the addresses the SDP names\n"
                  "        udp dport %u-%u accept\n    }\n}\n",
                  (unsigned)plan->rtp_low, (unsigned)plan->rtp_high);
}

/* "-p udp --dport 5060 -d 192.0.2.1" for one listener. */
static void ipt_match(FILE *out, const struct firewall_listener *l)
{
    (void)fprintf(out, "-A SIPWARDEN -p %s -m %s --dport %u", l->is_udp ? "udp" : "tcp",
                  l->is_udp ? "udp" : "tcp", (unsigned)l->port);
    if (l->daddr[0] != '\0') {
        (void)fprintf(out, " -d %s", l->daddr);
    }
}

static void ipt_listener(FILE *out, const struct firewall_plan *plan,
                         const struct firewall_listener *l, bool is_v6)
{
    if (l->daddr[0] != '\0' && l->is_v6 != is_v6) {
        return; /* a listener of the other family */
    }
    for (size_t i = 0; i < plan->denied.count; i++) {
        if (plan->denied.items[i].is_v6 == is_v6) {
            ipt_match(out, l);
            (void)fprintf(out, " -s %s -j DROP\n", plan->denied.items[i].text);
        }
    }
    if (plan->is_open_to_all) {
        ipt_match(out, l);
        (void)fprintf(out, " -j ACCEPT\n");
    }
    for (size_t i = 0; !plan->is_open_to_all && i < plan->allowed.count; i++) {
        if (plan->allowed.items[i].is_v6 == is_v6) {
            ipt_match(out, l);
            (void)fprintf(out, " -s %s -j ACCEPT\n", plan->allowed.items[i].text);
        }
    }
    ipt_match(out, l);
    (void)fprintf(out, " -m limit --limit 10/sec --limit-burst 20 -j LOG --log-prefix \"" LOG_PREFIX
                       "\"\n");
    ipt_match(out, l);
    (void)fprintf(out, " -j DROP\n");
}

static void write_iptables(FILE *out, const struct firewall_plan *plan, bool is_v6)
{
    write_header(out, plan, is_v6 ? "ip6tables" : "iptables",
                 is_v6 ? "ip6tables-restore --noflush FILE" : "iptables-restore --noflush FILE");
    (void)fprintf(out,
                  "# Load it once: each load inserts another jump from INPUT (remove the old one\n"
                  "# with '%s -D INPUT -j SIPWARDEN'). Banned addresses: use the nft format.\n",
                  is_v6 ? "ip6tables" : "iptables");
    (void)fprintf(out, "*filter\n:SIPWARDEN - [0:0]\n-I INPUT -j SIPWARDEN\n"
                       "-A SIPWARDEN -i lo -j RETURN\n");
    for (size_t i = 0; i < plan->listener_count; i++) {
        ipt_listener(out, plan, &plan->listeners[i], is_v6);
    }
    (void)fprintf(out,
                  "-A SIPWARDEN -p udp -m udp --dport %u:%u -j ACCEPT\n"
                  "-A SIPWARDEN -j RETURN\nCOMMIT\n",
                  (unsigned)plan->rtp_low, (unsigned)plan->rtp_high);
}

int firewall_plan_write(const struct firewall_plan *plan, enum firewall_format format, FILE *out)
{
    if (format == FIREWALL_NFT) {
        write_nft(out, plan);
    } else {
        write_iptables(out, plan, format == FIREWALL_IP6TABLES);
    }
    return ferror(out) ? -SW_EIO : 0;
}

static void usage(FILE *out)
{
    (void)fprintf(out,
                  "usage: sipwarden firewall --format nft|iptables|ip6tables [-c CONF] "
                  "[--rtp-range LOW-HIGH]\n"
                  "\n"
                  "Prints the host firewall for sipwarden's configuration (default %s):\n"
                  "SIP ports open only to the trunks', PBX's and accounts' permit ranges, drops\n"
                  "logged with the prefix \"" LOG_PREFIX "\", the PBX's RTP range open ([pbx]\n"
                  "rtp_port_min/max, default %d-%d), or rtpengine's when media is anchored\n"
                  "([media] rtp_port_min/max); --rtp-range overrides. For nft also the set of\n"
                  "banned addresses.\n",
                  DEFAULT_CONFIG, DEFAULT_RTP_LOW, DEFAULT_RTP_HIGH);
}

struct firewall_options {
    const char *config;
    enum firewall_format format;
    bool has_format;
    uint16_t rtp_low;
    uint16_t rtp_high;
};

static bool parse_range(const char *text, uint16_t *low, uint16_t *high)
{
    struct sv rest = sv_from_cstr(text);
    struct sv first;
    uint32_t lo = 0;
    uint32_t hi = 0;
    if (!sv_take_until(&rest, '-', &first) || !sv_to_u32(first, &lo) || !sv_to_u32(rest, &hi) ||
        lo == 0 || hi > 65535 || lo > hi) {
        return false;
    }
    *low = (uint16_t)lo;
    *high = (uint16_t)hi;
    return true;
}

static bool parse_format(const char *text, enum firewall_format *format)
{
    static const struct {
        const char *name;
        enum firewall_format format;
    } formats[] = {
        { "nft", FIREWALL_NFT },
        { "iptables", FIREWALL_IPTABLES },
        { "ip6tables", FIREWALL_IP6TABLES },
    };

    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (strcmp(text, formats[i].name) == 0) {
            *format = formats[i].format;
            return true;
        }
    }
    return false;
}

static int parse_options(int argc, char **argv, struct firewall_options *opts)
{
    static const struct option long_options[] = {
        { "format", required_argument, NULL, 'f' },
        { "config", required_argument, NULL, 'c' },
        { "rtp-range", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    optind = 0; /* GNU: full re-initialisation, so the command can be run twice in tests */
    int c;
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): options are parsed once, on the main thread. */
    while ((c = getopt_long(argc, argv, "c:h", long_options, NULL)) != -1) {
        if (c == 'f' && parse_format(optarg, &opts->format)) {
            opts->has_format = true;
        } else if (c == 'c') {
            opts->config = optarg;
        } else if (c == 'r' && parse_range(optarg, &opts->rtp_low, &opts->rtp_high)) {
            continue;
        } else if (c == 'h') {
            usage(stdout);
            return -1;
        } else {
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!opts->has_format || optind != argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    return 0;
}

int tools_firewall_main(int argc, char **argv)
{
    struct firewall_options opts = {
        .config = DEFAULT_CONFIG,
        .format = FIREWALL_NFT,
        .has_format = false,
        .rtp_low = 0,
        .rtp_high = 0,
    };
    int rc = parse_options(argc, argv, &opts);
    if (rc != 0) {
        return rc < 0 ? EXIT_OK : rc;
    }
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_offline(opts.config, &diag);
    sw_diag_print(&diag, stderr);
    sw_diag_fini(&diag);
    if (cfg == NULL) {
        return EXIT_USAGE;
    }
    if (opts.rtp_high == 0 && cfg->media.engine_count > 0) {
        /* Anchored media: the peers send RTP to rtpengine's ports, never the PBX's. */
        opts.rtp_low = (uint16_t)cfg->media.rtp_port_min;
        opts.rtp_high = (uint16_t)cfg->media.rtp_port_max;
    } else if (opts.rtp_high == 0) {
        /* No --rtp-range: the PBX's media range from [pbx] rtp_port_min/rtp_port_max. */
        opts.rtp_low = (uint16_t)cfg->pbx.rtp_port_min;
        opts.rtp_high = (uint16_t)cfg->pbx.rtp_port_max;
    }
    struct firewall_plan plan;
    rc = firewall_plan_build(cfg, opts.rtp_low, opts.rtp_high, &plan);
    if (rc == 0) {
        if (plan.is_open_to_all) {
            (void)fprintf(stderr, "sipwarden firewall: warning: an enabled account has no permit "
                                  "and [acl] has no permit: the SIP ports stay open to everyone\n");
        }
        rc = firewall_plan_write(&plan, opts.format, stdout);
        rc = rc == 0 && fflush(stdout) != 0 ? -SW_EIO : rc;
        firewall_plan_fini(&plan);
    }
    cfg_free(cfg);
    if (rc != 0) {
        (void)fprintf(stderr, "sipwarden firewall: %s\n", sw_strerror(rc));
        return EXIT_USAGE;
    }
    return EXIT_OK;
}
