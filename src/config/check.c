#include "config/check.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"
#include "config/lines.h"
#include "config/value.h"

/* Shortest admin token accepted. */
#define TOKEN_MIN 16

/* Where a rule's message points: the key's line, else the section's line. */
struct place {
    unsigned line;
    char label[96];
};

static struct place place_of(const char *section, unsigned section_line, const unsigned *lines,
                             enum cfg_section_kind kind, const char *key)
{
    struct place place = { .line = section_line };
    const struct cfg_key_desc *desc = cfg_keys_find(kind, sv_from_cstr(key));
    SW_ASSERT(desc != NULL);
    if (lines[cfg_keys_index(desc)] != 0) {
        place.line = lines[cfg_keys_index(desc)];
    }
    (void)snprintf(place.label, sizeof(place.label), "%s.%s", section, key);
    return place;
}

static struct place single_place(const struct cfg_check_ctx *ctx, enum cfg_section_kind kind,
                                 const char *key)
{
    return place_of(cfg_section_kind_name(kind), ctx->section_lines[kind], ctx->key_lines, kind,
                    key);
}

static void error_at(const struct cfg_check_ctx *ctx, struct place place, const char *message)
{
    sw_diag_add(ctx->diag, DIAG_ERROR, ctx->file, place.line, place.label, "%s", message);
}

static void warn_at(const struct cfg_check_ctx *ctx, struct place place, const char *message)
{
    sw_diag_add(ctx->diag, DIAG_WARNING, ctx->file, place.line, place.label, "%s", message);
}

/* Replaces a NULL string field with a copy of `value`; false when out of memory. */
static bool default_string(char **field, const char *value)
{
    if (*field != NULL || value == NULL) {
        return true;
    }
    *field = sw_strdup(value);
    return *field != NULL;
}

/* Appends the single-host range of an endpoint's IP to `cidrs`. */
static bool cidrs_add_host(struct cfg_cidrs *cidrs, const struct cfg_endpoint *endpoint)
{
    struct sw_ip ip;
    if (!endpoint->is_ip || !sw_ip_from_sockaddr(&endpoint->addr, &ip)) {
        return false;
    }
    struct sw_cidr *grown = sw_realloc(cidrs->items, (cidrs->count + 1) * sizeof(*grown));
    if (grown == NULL) {
        return false;
    }
    grown[cidrs->count] = (struct sw_cidr){ .ip = ip, .prefix_len = 128 };
    cidrs->items = grown;
    cidrs->count++;
    return true;
}

static bool cidrs_append(struct cfg_cidrs *dst, const struct cfg_cidrs *src)
{
    if (src->count == 0) {
        return true;
    }
    struct sw_cidr *grown = sw_realloc(dst->items, (dst->count + src->count) * sizeof(*grown));
    if (grown == NULL) {
        return false;
    }
    memcpy(grown + dst->count, src->items, src->count * sizeof(*grown));
    dst->items = grown;
    dst->count += src->count;
    return true;
}

#define SRTP_NEEDS_ENCRYPTION "srtp = required needs a media_encryption other than none"

static struct place trunk_place(const struct cfg_trunk *trunk, const unsigned *lines,
                                const char *key)
{
    return place_of(trunk->name, trunk->line, lines, CFG_SECTION_TRUNK, key);
}

static void check_trunk_credentials(const struct cfg_check_ctx *ctx, struct cfg_trunk *trunk,
                                    const unsigned *lines)
{
    bool has_hash = trunk->ha1 != NULL || trunk->ha1_sha256 != NULL;
    bool has_credential = trunk->secret != NULL || has_hash;
    if (has_credential && trunk->username == NULL) {
        error_at(ctx, trunk_place(trunk, lines, "username"),
                 "a secret or HA1 needs the username it belongs to");
    }
    if (trunk->username != NULL && !has_credential) {
        error_at(ctx, trunk_place(trunk, lines, "username"),
                 "username without secret, ha1 or ha1_sha256");
    }
    if (trunk->secret != NULL && has_hash) {
        error_at(ctx, trunk_place(trunk, lines, "secret"),
                 "give either secret or the HA1 values, not both");
    }
    if (trunk->is_register && !has_credential) {
        error_at(ctx, trunk_place(trunk, lines, "register"),
                 "register = yes needs username and a secret or HA1");
    }
    if (!default_string(&trunk->auth_username, trunk->username) ||
        !default_string(&trunk->from_user, trunk->username)) {
        error_at(ctx, trunk_place(trunk, lines, "username"), "out of memory");
    }
}

static void check_trunk_numbers(const struct cfg_check_ctx *ctx, struct cfg_trunk *trunk,
                                const unsigned *lines)
{
    const char *cc = trunk->country_code;
    if (cc == NULL || cc[0] == '+' || strlen(cc) > 3) {
        error_at(ctx, trunk_place(trunk, lines, "country_code"),
                 "a country calling code is 1 to 3 digits without +");
    }
    if (trunk->default_number != NULL && trunk->default_number[0] != '+') {
        error_at(ctx, trunk_place(trunk, lines, "default_number"),
                 "default_number must be in +E.164 form");
    } else if (trunk->default_number != NULL && trunk->owned_numbers.count > 0 &&
               !cfg_numbers_contains(&trunk->owned_numbers, sv_from_cstr(trunk->default_number))) {
        error_at(ctx, trunk_place(trunk, lines, "default_number"),
                 "default_number is not one of owned_numbers");
    }
    if (trunk->owned_numbers.count == 0) {
        if (trunk->callerid_policy != CFG_CALLERID_ALLOW) {
            warn_at(ctx, trunk_place(trunk, lines, "owned_numbers"),
                    "no owned_numbers: the caller ID of outbound calls cannot be checked");
        }
        if (trunk->inbound_numbers == CFG_INBOUND_OWNED) {
            warn_at(ctx, trunk_place(trunk, lines, "owned_numbers"),
                    "no owned_numbers: inbound calls to any number reach the PBX");
        }
    } else if (trunk->callerid_policy == CFG_CALLERID_REPLACE && trunk->default_number == NULL) {
        error_at(ctx, trunk_place(trunk, lines, "callerid_policy"),
                 "callerid_policy = replace needs default_number");
    }
}

void cfg_check_trunk(const struct cfg_check_ctx *ctx, struct cfg_trunk *trunk,
                     const unsigned *key_lines)
{
    if (!trunk->provider.is_set) {
        error_at(ctx, trunk_place(trunk, key_lines, "provider"),
                 "provider is required (transport:host[:port])");
        return;
    }
    if (trunk->permit.count == 0 && !cidrs_add_host(&trunk->permit, &trunk->provider)) {
        error_at(ctx, trunk_place(trunk, key_lines, "permit"),
                 trunk->provider.is_ip
                     ? "out of memory"
                     : "permit is required when provider is a host name: list the provider's "
                       "source ranges");
    }
    if (!default_string(&trunk->domain, trunk->provider.host) ||
        !default_string(&trunk->tls_server_name, trunk->provider.host)) {
        error_at(ctx, trunk_place(trunk, key_lines, "provider"), "out of memory");
    }
    check_trunk_credentials(ctx, trunk, key_lines);
    check_trunk_numbers(ctx, trunk, key_lines);
    if (trunk->max_calls == 0) {
        warn_at(ctx, trunk_place(trunk, key_lines, "max_calls"),
                "max_calls = 0: calls through this trunk are unlimited, so a stolen credential "
                "or a flood from the provider's address can take every call slot");
    }
    if (trunk->srtp == CFG_SRTP_REQUIRED && trunk->media_encryption == CFG_MEDIA_ENCRYPTION_NONE) {
        error_at(ctx, trunk_place(trunk, key_lines, "srtp"), SRTP_NEEDS_ENCRYPTION);
    }
}

void cfg_check_account(const struct cfg_check_ctx *ctx, struct cfg_account *account,
                       const unsigned *key_lines)
{
    struct place username =
        place_of(account->name, account->line, key_lines, CFG_SECTION_ACCOUNT, "username");
    const char *why = "";
    if (account->username == NULL) {
        if (!cfg_value_user(sv_from_cstr(account->name), &why)) {
            error_at(ctx, username, "the section name is not a SIP user name: set username");
            return;
        }
        if (!default_string(&account->username, account->name)) {
            error_at(ctx, username, "out of memory");
            return;
        }
    }
    if (account->secret == NULL && account->ha1 == NULL && account->ha1_sha256 == NULL &&
        account->ha1_sha512_256 == NULL) {
        error_at(ctx,
                 place_of(account->name, account->line, key_lines, CFG_SECTION_ACCOUNT, "secret"),
                 "an account needs secret, ha1, ha1_sha256 or ha1_sha512_256");
    }
    if (account->srtp == CFG_SRTP_REQUIRED &&
        account->media_encryption == CFG_MEDIA_ENCRYPTION_NONE) {
        error_at(ctx,
                 place_of(account->name, account->line, key_lines, CFG_SECTION_ACCOUNT, "srtp"),
                 SRTP_NEEDS_ENCRYPTION);
    }
    if (account->secret != NULL) {
        warn_at(ctx,
                place_of(account->name, account->line, key_lines, CFG_SECTION_ACCOUNT, "secret"),
                "plain-text secret: store ha1_sha256 (and ha1 for MD5-only phones), the hashes "
                "of username:realm:secret, instead");
    }
}

static bool endpoint_eq(const struct cfg_endpoint *a, const struct cfg_endpoint *b)
{
    return a->transport == b->transport && sw_sockaddr_eq(&a->addr, &b->addr);
}

static void check_listen(const struct cfg_check_ctx *ctx)
{
    const struct cfg_endpoints *listen = &ctx->cfg->general.listen;
    struct place place = single_place(ctx, CFG_SECTION_GENERAL, "listen");
    if (listen->count == 0) {
        error_at(ctx, place, "at least one listen address is needed");
    }
    bool has_tls = false;
    for (size_t i = 0; i < listen->count; i++) {
        has_tls |= listen->items[i].transport == SW_TRANSPORT_TLS;
        for (size_t j = 0; j < i; j++) {
            if (endpoint_eq(&listen->items[i], &listen->items[j])) {
                error_at(ctx, place, "the same address is listed twice");
            }
        }
    }
    const struct cfg_tls *tls = &ctx->cfg->tls;
    if (has_tls && (tls->certificate == NULL || tls->private_key == NULL)) {
        error_at(ctx, place, "a tls listener needs [tls] certificate and private_key");
    }
}

static void check_general(const struct cfg_check_ctx *ctx)
{
    struct cfg *cfg = ctx->cfg;
    check_listen(ctx);
    if (cfg->general.max_line_bytes > cfg->general.max_message_bytes) {
        error_at(ctx, single_place(ctx, CFG_SECTION_GENERAL, "max_line_bytes"),
                 "max_line_bytes is larger than max_message_bytes");
    }
    if (cfg->general.default_trunk != NULL) {
        const struct cfg_trunk *trunk =
            cfg_trunk_find(cfg, sv_from_cstr(cfg->general.default_trunk));
        if (trunk == NULL) {
            error_at(ctx, single_place(ctx, CFG_SECTION_GENERAL, "default_trunk"),
                     "no trunk section has this name");
        } else {
            cfg->default_trunk_index = (size_t)(trunk - cfg->trunks);
        }
    } else if (cfg->trunk_count == 1) {
        cfg->default_trunk_index = 0;
    } else if (cfg->trunk_count > 1) {
        struct place place = single_place(ctx, CFG_SECTION_GENERAL, "default_trunk");
        place.line = place.line != 0 ? place.line : cfg->trunks[1].line;
        error_at(ctx, place, "several trunks: set default_trunk to the one PBX calls leave by");
    }
}

/* A file that must exist and be a regular file (certificates: others may read them). */
static void check_readable_file(const struct cfg_check_ctx *ctx, const char *path,
                                struct place place)
{
    if (ctx->is_offline) {
        return;
    }
    struct stat st;
    if (stat(path, &st) == -1) {
        sw_diag_add(ctx->diag, DIAG_ERROR, ctx->file, place.line, place.label, "cannot use %s: %s",
                    path, sw_strerror(-errno));
    } else if (!S_ISREG(st.st_mode)) {
        sw_diag_add(ctx->diag, DIAG_ERROR, ctx->file, place.line, place.label,
                    "%s is not a regular file", path);
    }
}

/* A key: a regular file only its owner may access (unless the load is offline). */
static void check_private_file(const struct cfg_check_ctx *ctx, const char *path,
                               struct place place)
{
    if (!ctx->is_offline) {
        (void)cfg_check_private_file(path, ctx->diag, ctx->file, place.line,
                                     place.label); /* the diag has the details */
    }
}

static void check_tls(const struct cfg_check_ctx *ctx)
{
    const struct cfg_tls *tls = &ctx->cfg->tls;
    struct place certificate = single_place(ctx, CFG_SECTION_TLS, "certificate");
    struct place private_key = single_place(ctx, CFG_SECTION_TLS, "private_key");
    if ((tls->certificate == NULL) != (tls->private_key == NULL)) {
        error_at(ctx, tls->certificate == NULL ? private_key : certificate,
                 "certificate and private_key go together");
    }
    if (tls->certificate != NULL) {
        check_readable_file(ctx, tls->certificate, certificate);
    }
    if (tls->private_key != NULL) {
        check_private_file(ctx, tls->private_key, private_key);
    }
    if (tls->ca_file != NULL) {
        check_readable_file(ctx, tls->ca_file, single_place(ctx, CFG_SECTION_TLS, "ca_file"));
    } else if (tls->require_client_certificate) {
        error_at(ctx, single_place(ctx, CFG_SECTION_TLS, "require_client_certificate"),
                 "require_client_certificate needs ca_file (the CAs clients are checked against)");
    }
}

static bool is_loopback(const struct cfg_endpoint *endpoint)
{
    struct sw_ip ip;
    struct sw_cidr v4_loopback;
    struct sw_cidr v6_loopback;
    return sw_ip_from_sockaddr(&endpoint->addr, &ip) &&
           sw_cidr_parse(SV("127.0.0.0/8"), &v4_loopback) &&
           sw_cidr_parse(SV("::1/128"), &v6_loopback) &&
           (sw_cidr_contains(&v4_loopback, &ip) || sw_cidr_contains(&v6_loopback, &ip));
}

/* Does the gateway listen on the PBX's IP address (then both share one host)? */
static bool is_listened_on(const struct cfg *cfg, const struct cfg_endpoint *pbx)
{
    struct sw_ip pbx_ip;
    if (!pbx->is_ip || !sw_ip_from_sockaddr(&pbx->addr, &pbx_ip)) {
        return false;
    }
    for (size_t i = 0; i < cfg->general.listen.count; i++) {
        struct sw_ip ip;
        if (sw_ip_from_sockaddr(&cfg->general.listen.items[i].addr, &ip) &&
            sw_ip_eq(&ip, &pbx_ip)) {
            return true;
        }
    }
    return false;
}

/*
 * Issue #9 item 7: with the PBX on loopback (the built-in default) or on the gateway's own
 * address, every local process would be "the PBX" and could call out through the trunks
 * without credentials. There the PBX is recognised by its port as well: another local
 * process cannot send from it while the PBX holds it.
 */
static void decide_pbx_port(const struct cfg_check_ctx *ctx, struct cfg_pbx *pbx)
{
    bool is_shared = pbx->address.is_ip &&
                     (is_loopback(&pbx->address) || is_listened_on(ctx->cfg, &pbx->address));
    bool is_udp = pbx->address.transport == SW_TRANSPORT_UDP;
    switch (pbx->match_port) {
    case CFG_MATCH_PORT_YES:
        pbx->is_port_matched = true;
        break;
    case CFG_MATCH_PORT_NO:
        pbx->is_port_matched = false;
        if (is_shared) {
            warn_at(ctx, single_place(ctx, CFG_SECTION_PBX, "match_port"),
                    "the PBX address is shared with other local processes and match_port = no: "
                    "any of them can call through the trunks as the PBX");
        }
        break;
    case CFG_MATCH_PORT_AUTO:
        pbx->is_port_matched = is_shared && is_udp;
        if (is_shared && !is_udp) {
            warn_at(ctx, single_place(ctx, CFG_SECTION_PBX, "address"),
                    "the PBX address is shared with other local processes and its transport has "
                    "no fixed source port: any of them can call through the trunks as the PBX; "
                    "give the PBX an address of its own");
        }
        break;
    }
}

static void check_pbx(const struct cfg_check_ctx *ctx)
{
    struct cfg_pbx *pbx = &ctx->cfg->pbx;
    if (!pbx->address.is_set) {
        error_at(ctx, single_place(ctx, CFG_SECTION_PBX, "address"), "the PBX address is required");
        return;
    }
    if (pbx->permit.count == 0 && !cidrs_add_host(&pbx->permit, &pbx->address)) {
        error_at(ctx, single_place(ctx, CFG_SECTION_PBX, "permit"),
                 pbx->address.is_ip ? "out of memory"
                                    : "permit is required when the PBX address is a host name");
    }
    for (size_t i = 0; i < pbx->hide_headers.count; i++) {
        const char *name = pbx->hide_headers.items[i];
        size_t len = strlen(name);
        /* RFC 3261 §25.1 token characters, with '*' allowed only as the last one. */
        size_t span = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789-.!%+_`'~");
        if (span != len && !(span == len - 1 && name[len - 1] == '*')) {
            error_at(ctx, single_place(ctx, CFG_SECTION_PBX, "hide_headers"),
                     "not a header name (a trailing * matches a prefix)");
        }
    }
    if (pbx->rtp_port_max < pbx->rtp_port_min) {
        error_at(ctx, single_place(ctx, CFG_SECTION_PBX, "rtp_port_max"),
                 "rtp_port_max is below rtp_port_min");
    }
    decide_pbx_port(ctx, pbx);
    if (pbx->srtp == CFG_SRTP_REQUIRED && pbx->media_encryption == CFG_MEDIA_ENCRYPTION_NONE) {
        error_at(ctx, single_place(ctx, CFG_SECTION_PBX, "srtp"), SRTP_NEEDS_ENCRYPTION);
    }
}

/* [admin] token_file: the token is its first line (trailing blanks cut), from a file only
 * its owner may read. Refused with the key's line when it is readable by others. */
static void read_token_file(const struct cfg_check_ctx *ctx, struct cfg_admin *admin)
{
    struct place place = single_place(ctx, CFG_SECTION_ADMIN, "token_file");
    if (admin->token != NULL) {
        error_at(ctx, place, "token and token_file exclude each other");
        return;
    }
    if (ctx->is_offline || cfg_check_private_file(admin->token_file, ctx->diag, ctx->file,
                                                  place.line, place.label) != 0) {
        return; /* the diag says why */
    }
    FILE *f = fopen(admin->token_file, "re");
    char line[512] = "";
    bool is_read = f != NULL && fgets(line, sizeof(line), f) != NULL;
    if (f != NULL) {
        (void)fclose(f);
    }
    size_t len = strcspn(line, "\r\n");
    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t')) {
        len--;
    }
    line[len] = '\0';
    if (!is_read || len == 0) {
        error_at(ctx, place, "the token file is empty or cannot be read");
    } else if (len < TOKEN_MIN) {
        error_at(ctx, place, "the token in token_file is shorter than 16 characters");
    } else {
        admin->token = sw_strdup(line);
    }
}

/* [admin] certificate and private_key: HTTPS on the admin server, like [tls]'s pair. */
static void check_admin_tls(const struct cfg_check_ctx *ctx, const struct cfg_admin *admin)
{
    struct place certificate = single_place(ctx, CFG_SECTION_ADMIN, "certificate");
    struct place private_key = single_place(ctx, CFG_SECTION_ADMIN, "private_key");
    if ((admin->certificate == NULL) != (admin->private_key == NULL)) {
        error_at(ctx, admin->certificate == NULL ? private_key : certificate,
                 "certificate and private_key go together");
    }
    if (admin->certificate != NULL) {
        check_readable_file(ctx, admin->certificate, certificate);
    }
    if (admin->certificate == NULL && admin->listen.is_set && admin->listen.is_ip &&
        !is_loopback(&admin->listen)) {
        warn_at(ctx, single_place(ctx, CFG_SECTION_ADMIN, "listen"),
                "the admin server is off loopback without certificate: its token and answers "
                "cross the network in clear");
    }
    if (admin->private_key != NULL) {
        check_private_file(ctx, admin->private_key, private_key);
    }
}

static void check_admin_state(const struct cfg_check_ctx *ctx)
{
    struct cfg_admin *admin = &ctx->cfg->admin;
    if (admin->token_file != NULL) {
        read_token_file(ctx, admin);
    }
    if (admin->listen.is_set && !admin->listen.is_ip) {
        error_at(ctx, single_place(ctx, CFG_SECTION_ADMIN, "listen"),
                 "the admin server listens on an IP address");
    } else if (admin->listen.is_set && !is_loopback(&admin->listen) && admin->token == NULL) {
        error_at(ctx, single_place(ctx, CFG_SECTION_ADMIN, "listen"),
                 "an admin server off loopback needs token");
    }
    check_admin_tls(ctx, admin);
    if (admin->token != NULL && strlen(admin->token) < TOKEN_MIN) {
        error_at(ctx, single_place(ctx, CFG_SECTION_ADMIN, "token"),
                 "token is shorter than 16 characters");
    }
    const struct cfg_state *state = &ctx->cfg->state;
    if (state->backend == CFG_STATE_REDIS && !state->redis.is_set) {
        error_at(ctx, single_place(ctx, CFG_SECTION_STATE, "redis"),
                 "backend = redis needs the redis address");
    }
    if (state->backend == CFG_STATE_SQLITE && state->path == NULL) {
        error_at(ctx, single_place(ctx, CFG_SECTION_STATE, "path"), "backend = sqlite needs path");
    }
}

/*
 * #15: Redis carries bans and counters that decide who may call. Its password sits in a
 * file only we may read; off loopback the link must be encrypted, which hiredis 0.14
 * cannot do: the address must be a local TLS tunnel unless the operator says otherwise.
 */
static void check_cluster(const struct cfg_check_ctx *ctx)
{
    const struct cfg_cluster *cluster = &ctx->cfg->cluster;
    const struct cfg_state *state = &ctx->cfg->state;
    if (cluster->password_file != NULL) {
        check_private_file(ctx, cluster->password_file,
                           single_place(ctx, CFG_SECTION_CLUSTER, "password_file"));
    } else if (cluster->user != NULL) {
        error_at(ctx, single_place(ctx, CFG_SECTION_CLUSTER, "user"), "user needs password_file");
    }
    if (cluster->peer_secret_file != NULL) {
        check_private_file(ctx, cluster->peer_secret_file,
                           single_place(ctx, CFG_SECTION_CLUSTER, "peer_secret_file"));
    }
    bool is_relaying = cluster->address.is_set || cluster->peers.count > 0;
    if (is_relaying && (cluster->peer_secret_file == NULL || cluster->peers.count == 0)) {
        error_at(
            ctx,
            single_place(ctx, CFG_SECTION_CLUSTER, cluster->address.is_set ? "address" : "peers"),
            "relaying calls between nodes needs peers and peer_secret_file");
    }
    if (is_relaying && state->backend != CFG_STATE_REDIS) {
        error_at(ctx, single_place(ctx, CFG_SECTION_CLUSTER, "peers"),
                 "relaying calls between nodes needs [state] backend = redis");
    }
    if (state->backend == CFG_STATE_REDIS && state->redis.is_set && !is_loopback(&state->redis) &&
        !cluster->allow_plaintext) {
        error_at(ctx, single_place(ctx, CFG_SECTION_STATE, "redis"),
                 "Redis off loopback would carry bans and counters in clear: reach it through a "
                 "local TLS tunnel (docs/cluster.md), or set [cluster] allow_plaintext = yes");
    }
}

/* "family table set": family inet, ip or ip6; names of letters, digits, '_' and '-'. */
static bool nft_set_is_valid(const char *text)
{
    struct sv cur = sv_from_cstr(text);
    struct sv words[4];
    size_t count = 0;
    while (cur.len > 0 && count < 4) {
        (void)sv_take_until(&cur, ' ', &words[count]); /* the last word has no space after */
        if (words[count].len > 0) {
            count++;
        }
    }
    if (count != 3 || cur.len > 0) {
        return false;
    }
    if (!sv_eq(words[0], SV("inet")) && !sv_eq(words[0], SV("ip")) && !sv_eq(words[0], SV("ip6"))) {
        return false;
    }
    for (size_t w = 1; w < 3; w++) {
        for (size_t i = 0; i < words[w].len; i++) {
            char c = words[w].ptr[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-')) {
                return false;
            }
        }
    }
    return true;
}

static void check_ban(const struct cfg_check_ctx *ctx)
{
    struct cfg *cfg = ctx->cfg;
    struct cfg_ban *ban = &cfg->ban;
    if (ban->bantime > ban->bantime_max) {
        error_at(ctx, single_place(ctx, CFG_SECTION_BAN, "bantime_max"),
                 "bantime_max is shorter than bantime");
    }
    if (ban->nft_set != NULL && !nft_set_is_valid(ban->nft_set)) {
        error_at(ctx, single_place(ctx, CFG_SECTION_BAN, "nft_set"),
                 "expected \"family table set\", family inet, ip or ip6");
    }
    if (ban->command != NULL && ban->command[0] != '/') {
        error_at(ctx, single_place(ctx, CFG_SECTION_BAN, "command"),
                 "command must be an absolute path (it runs without a shell)");
    }
    /* The trunks and the PBX are never banned: a ban there would cut every call. */
    bool is_ok = cidrs_append(&ban->never_ban, &cfg->pbx.permit);
    for (size_t i = 0; is_ok && i < cfg->trunk_count; i++) {
        is_ok = cidrs_append(&ban->never_ban, &cfg->trunks[i].permit);
    }
    if (!is_ok) {
        error_at(ctx, single_place(ctx, CFG_SECTION_BAN, "never_ban"), "out of memory");
    }
}

static bool account_can_use(const struct cfg_account *account, enum cfg_digest_algorithm algorithm)
{
    switch (algorithm) {
    case CFG_DIGEST_MD5:
        return account->secret != NULL || account->ha1 != NULL;
    case CFG_DIGEST_SHA256:
        return account->secret != NULL || account->ha1_sha256 != NULL;
    case CFG_DIGEST_SHA512_256:
        return account->secret != NULL || account->ha1_sha512_256 != NULL;
    }
    return false;
}

static void check_accounts(const struct cfg_check_ctx *ctx)
{
    const struct cfg *cfg = ctx->cfg;
    const char *realm = cfg->auth.realm;
    if (realm == NULL || strpbrk(realm, "\"\\") != NULL) {
        error_at(ctx, single_place(ctx, CFG_SECTION_AUTH, "realm"),
                 "realm must be set and may not contain \" or \\");
    }
    for (size_t i = 0; i < cfg->account_count; i++) {
        const struct cfg_account *account = &cfg->accounts[i];
        char label[96];
        (void)snprintf(label, sizeof(label), "%s.username", account->name);
        for (size_t j = 0; account->username != NULL && j < i; j++) {
            const struct cfg_account *other = &cfg->accounts[j];
            if (other->username != NULL && strcmp(other->username, account->username) == 0) {
                sw_diag_add(ctx->diag, DIAG_ERROR, ctx->file, account->line, label,
                            "username '%s' is already used by [%s] (line %u)", account->username,
                            other->name, other->line);
                break;
            }
        }
        bool is_usable = false;
        for (size_t a = 0; a < cfg->auth.algorithms.count; a++) {
            is_usable |= account_can_use(account, cfg->auth.algorithms.items[a]);
        }
        bool has_credential = account->secret != NULL || account->ha1 != NULL ||
                              account->ha1_sha256 != NULL || account->ha1_sha512_256 != NULL;
        if (has_credential && !is_usable) {
            (void)snprintf(label, sizeof(label), "%s", account->name);
            sw_diag_add(ctx->diag, DIAG_ERROR, ctx->file, account->line, label,
                        "no credential of this account fits an algorithm of auth.algorithms");
        }
    }
}

/* HA1 hashes name the realm: one derived from this host breaks them on another host. */
static void check_realm_for_hashes(const struct cfg_check_ctx *ctx)
{
    const struct cfg_key_desc *desc = cfg_keys_find(CFG_SECTION_AUTH, SV("realm"));
    if (ctx->key_lines[cfg_keys_index(desc)] != 0) {
        return;
    }
    for (size_t i = 0; i < ctx->cfg->account_count; i++) {
        const struct cfg_account *account = &ctx->cfg->accounts[i];
        if (account->ha1 != NULL || account->ha1_sha256 != NULL ||
            account->ha1_sha512_256 != NULL) {
            sw_diag_add(ctx->diag, DIAG_WARNING, ctx->file, account->line, account->name,
                        "HA1 hashes depend on the realm, which is not set: it is '%s' on this "
                        "host only; set [auth] realm",
                        ctx->cfg->auth.realm);
            return;
        }
    }
}

/* At most this many x5u ports (stir/fetch.h STIR_FETCH_PORTS_MAX). */
#define STIR_PORTS_MAX 8

static void check_stir_signing(const struct cfg_check_ctx *ctx)
{
    const struct cfg_stir *stir = &ctx->cfg->stir;
    struct place key = single_place(ctx, CFG_SECTION_STIR, "signing_key");
    struct place x5u = single_place(ctx, CFG_SECTION_STIR, "x5u");
    if ((stir->signing_key == NULL) != (stir->x5u == NULL)) {
        error_at(ctx, stir->signing_key == NULL ? x5u : key,
                 "signing_key and x5u go together (the key signs, x5u tells where to check)");
    }
    if (stir->signing_key != NULL) {
        check_private_file(ctx, stir->signing_key, key);
    }
    /* RFC 8224 §7 and ATIS-1000074: verifiers fetch x5u over HTTPS only. */
    if (stir->x5u != NULL && (!sv_starts_with_nocase(sv_from_cstr(stir->x5u), SV("https://")) ||
                              strpbrk(stir->x5u, " \"\\<>") != NULL)) {
        error_at(ctx, x5u, "x5u must be an https URL without spaces, quotes or angle brackets");
    }
    if (stir->signing_certificate != NULL) {
        struct place cert = single_place(ctx, CFG_SECTION_STIR, "signing_certificate");
        if (stir->signing_key == NULL) {
            error_at(ctx, cert, "signing_certificate needs signing_key");
        }
        check_readable_file(ctx, stir->signing_certificate, cert);
    }
}

static void check_stir(const struct cfg_check_ctx *ctx)
{
    const struct cfg_stir *stir = &ctx->cfg->stir;
    check_stir_signing(ctx);
    if (stir->ca_file != NULL) {
        check_readable_file(ctx, stir->ca_file, single_place(ctx, CFG_SECTION_STIR, "ca_file"));
    }
    if (stir->fetch_ca_file != NULL) {
        check_readable_file(ctx, stir->fetch_ca_file,
                            single_place(ctx, CFG_SECTION_STIR, "fetch_ca_file"));
    }
    struct place ports = single_place(ctx, CFG_SECTION_STIR, "fetch_ports");
    if (stir->fetch_ports.count == 0 || stir->fetch_ports.count > STIR_PORTS_MAX) {
        error_at(ctx, ports, "list 1 to 8 ports");
    }
    for (size_t i = 0; i < stir->fetch_ports.count; i++) {
        uint32_t port = 0;
        if (!sv_to_u32(sv_from_cstr(stir->fetch_ports.items[i]), &port) || port == 0 ||
            port > 65535) {
            error_at(ctx, ports, "a port is a number from 1 to 65535");
        }
    }
    if (stir->cache_ttl > stir->cache_max_ttl) {
        error_at(ctx, single_place(ctx, CFG_SECTION_STIR, "cache_max_ttl"),
                 "cache_max_ttl is shorter than cache_ttl");
    }
}

/* "udp:ip[:port][;weight=N]": one rtpengine's ng control address (default port 2223). */
static bool parse_rtpengine(const char *text, struct cfg_rtpengine *out)
{
    struct sv cur = sv_from_cstr(text);
    if (!sv_starts_with(cur, SV("udp:"))) {
        return false;
    }
    cur = sv_slice(cur, 4, cur.len);
    struct sv address;
    bool has_params = sv_take_until(&cur, ';', &address);
    out->weight = 1;
    if (has_params && (!sv_starts_with(cur, SV("weight=")) ||
                       !sv_to_u32(sv_slice(cur, 7, cur.len), &out->weight) || out->weight == 0 ||
                       out->weight > 1000)) {
        return false;
    }
    return sw_sockaddr_parse(address, 2223, &out->addr);
}

static void check_media(const struct cfg_check_ctx *ctx)
{
    struct cfg_media *media = &ctx->cfg->media;
    if (media->rtp_port_max < media->rtp_port_min) {
        error_at(ctx, single_place(ctx, CFG_SECTION_MEDIA, "rtp_port_max"),
                 "rtp_port_max is below rtp_port_min");
    }
    struct place place = single_place(ctx, CFG_SECTION_MEDIA, "rtpengine");
    if (media->rtpengine.count > CFG_RTPENGINES_MAX) {
        error_at(ctx, place, "at most 8 rtpengines");
        return;
    }
    for (size_t i = 0; i < media->rtpengine.count; i++) {
        if (!parse_rtpengine(media->rtpengine.items[i], &media->engines[i])) {
            error_at(ctx, place, "expected udp:ip[:port][;weight=1..1000]");
            return;
        }
        media->engine_count = i + 1;
    }
}

/* ---- alert rules and sinks ---- */

void cfg_check_alert(const struct cfg_check_ctx *ctx, struct cfg_alert *alert,
                     const unsigned *key_lines)
{
    struct place metric =
        place_of(alert->name, alert->line, key_lines, CFG_SECTION_ALERT, "metric");
    if (metric.line == alert->line) {
        error_at(ctx, metric, "an alert rule needs a metric");
    }
    if (!default_string(&alert->title, alert->name)) {
        error_at(ctx, metric, "out of memory");
    }
}

static bool url_is_clean(struct sv url)
{
    for (size_t i = 0; i < url.len; i++) {
        char c = url.ptr[i];
        if (c == ' ' || c == '"' || c == '<' || c == '>' || c == '\\') {
            return false;
        }
    }
    return true;
}

static void check_webhook(const struct cfg_check_ctx *ctx, const struct cfg_sink *sink,
                          const unsigned *key_lines)
{
    struct place url = place_of(sink->name, sink->line, key_lines, CFG_SECTION_SINK, "url");
    if (sink->url == NULL) {
        error_at(ctx, url, "a webhook sink needs a url");
        return;
    }
    struct sv text = sv_from_cstr(sink->url);
    bool is_https = sv_starts_with_nocase(text, SV("https://"));
    bool is_http = sv_starts_with_nocase(text, SV("http://"));
    if (!url_is_clean(text) || (!is_https && !is_http)) {
        error_at(ctx, url, "expected an https:// URL without spaces, quotes or angle brackets");
    } else if (is_http && !sink->allow_http) {
        error_at(ctx, url, "the URL is not https (set allow_http = yes for a lab receiver)");
    }
}

void cfg_check_sink(const struct cfg_check_ctx *ctx, struct cfg_sink *sink,
                    const unsigned *key_lines)
{
    struct place kind = place_of(sink->name, sink->line, key_lines, CFG_SECTION_SINK, "kind");
    if (kind.line == sink->line) {
        error_at(ctx, kind, "a sink needs a kind (syslog, command, webhook or sendmail)");
        return;
    }
    if (sink->kind == CFG_SINK_WEBHOOK) {
        check_webhook(ctx, sink, key_lines);
    }
    struct place command = place_of(sink->name, sink->line, key_lines, CFG_SECTION_SINK, "command");
    if (sink->kind == CFG_SINK_COMMAND && (sink->command == NULL || sink->command[0] != '/')) {
        error_at(ctx, command, "a command sink needs the absolute path of a program");
    }
    struct place to = place_of(sink->name, sink->line, key_lines, CFG_SECTION_SINK, "to");
    if (sink->kind == CFG_SINK_SENDMAIL && (sink->to == NULL || strchr(sink->to, '@') == NULL)) {
        error_at(ctx, to, "a sendmail sink needs a recipient address (to = name@domain)");
    }
    struct place program =
        place_of(sink->name, sink->line, key_lines, CFG_SECTION_SINK, "sendmail");
    if (sink->kind == CFG_SINK_SENDMAIL && sink->sendmail[0] != '/') {
        error_at(ctx, program, "sendmail must be an absolute path");
    }
}

/* Each name in `sinks` names a sink section; `where` is the list's place. */
static void check_sink_names(const struct cfg_check_ctx *ctx, const struct cfg_strings *sinks,
                             struct place where)
{
    for (size_t i = 0; i < sinks->count; i++) {
        enum cfg_section_kind kind;
        size_t index = 0;
        if (!cfg_object_find(ctx->cfg, sinks->items[i], &kind, &index) ||
            kind != CFG_SECTION_SINK) {
            sw_diag_add(ctx->diag, DIAG_ERROR, ctx->file, where.line, where.label,
                        "unknown sink \"%s\" (no section with type = sink has that name)",
                        sinks->items[i]);
        }
    }
}

static void check_alert_sinks(const struct cfg_check_ctx *ctx)
{
    const struct cfg *cfg = ctx->cfg;
    check_sink_names(ctx, &cfg->alerts.sinks, single_place(ctx, CFG_SECTION_ALERTS, "sinks"));
    for (size_t i = 0; i < cfg->alert_rule_count; i++) {
        const struct cfg_alert *rule = &cfg->alert_rules[i];
        struct place where = { .line = cfg_key_line(cfg, rule->name, "sinks") };
        if (where.line == 0) {
            where.line = rule->line;
        }
        (void)snprintf(where.label, sizeof(where.label), "%s.sinks", rule->name);
        check_sink_names(ctx, &rule->sinks, where);
    }
}

void cfg_check_global(const struct cfg_check_ctx *ctx)
{
    check_alert_sinks(ctx);
    check_general(ctx);
    check_tls(ctx);
    check_pbx(ctx);
    check_admin_state(ctx);
    check_cluster(ctx);
    check_ban(ctx);
    check_accounts(ctx);
    check_realm_for_hashes(ctx);
    check_stir(ctx);
    check_media(ctx);
}
