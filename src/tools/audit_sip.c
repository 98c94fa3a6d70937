/*
 * The checklist for chan_sip (sip.conf). Defaults are chan_sip's own: a peer without a
 * key takes [general]'s value, and [general] without it takes the built-in default
 * (allowguest=yes, alwaysauthreject=yes, context=default, transport=udp, encryption=no).
 */
#include <stdio.h>

#include "tools/audit_asterisk.h"
#include "tools/audit_checks.h"
#include "tools/audit_files.h"

struct sip_ctx {
    struct audit_report *report;
    const struct asterisk_conf *conf;
    const struct asterisk_conf_section *general; /* NULL when the file has none */
};

/* Contexts that can dial out in common dialplans (FreePBX, the Asterisk samples). */
static const char *const internal_contexts[] = {
    "from-internal",
    "from-internal-xfer",
    "from-internal-noxfer",
    "internal",
    "from-users",
    "outbound",
    "outgoing",
    "phones",
};

static const struct asterisk_conf_entry *general_get(const struct sip_ctx *ctx, struct sv key)
{
    return ctx->general == NULL ? NULL : asterisk_conf_section_get(ctx->general, key);
}

/* The peer's value, else [general]'s (chan_sip copies these defaults into every peer). */
static const struct asterisk_conf_entry *
peer_get(const struct sip_ctx *ctx, const struct asterisk_conf_section *peer, struct sv key)
{
    const struct asterisk_conf_entry *e = asterisk_conf_section_get(peer, key);
    return e != NULL ? e : general_get(ctx, key);
}

static struct audit_where general_where(const struct sip_ctx *ctx,
                                        const struct asterisk_conf_entry *e)
{
    if (ctx->general != NULL) {
        return audit_where_of(ctx->general, e);
    }
    struct audit_where where = { .file = ctx->conf->path, .line = 0, .section = SV("general") };
    return where;
}

static void check_guest(const struct sip_ctx *ctx)
{
    const struct asterisk_conf_entry *e = general_get(ctx, SV("allowguest"));
    struct audit_where where = general_where(ctx, e);
    if (e != NULL && !audit_is_true(e->value)) {
        audit_report_add(ctx->report, &where, AUDIT_PASS, "auth.guest", NULL, "allowguest=" SV_FMT,
                         SV_ARG(e->value));
        return;
    }
    audit_report_add(ctx->report, &where, AUDIT_FAIL, "auth.guest", "allowguest=no",
                     e == NULL ? "allowguest is not set and chan_sip defaults to yes"
                               : "allowguest=yes accepts calls from unknown users");
}

static void check_authreject(const struct sip_ctx *ctx)
{
    const struct asterisk_conf_entry *e = general_get(ctx, SV("alwaysauthreject"));
    struct audit_where where = general_where(ctx, e);
    if (e != NULL && !audit_is_true(e->value)) {
        audit_report_add(
            ctx->report, &where, AUDIT_FAIL, "auth.alwaysauthreject", "alwaysauthreject=yes",
            "alwaysauthreject=" SV_FMT " answers unknown users differently", SV_ARG(e->value));
        return;
    }
    audit_report_add(ctx->report, &where, AUDIT_PASS, "auth.alwaysauthreject", NULL,
                     e == NULL ? "alwaysauthreject not set (chan_sip defaults to yes)"
                               : "alwaysauthreject=yes");
}

static void check_context(const struct sip_ctx *ctx)
{
    const struct asterisk_conf_entry *e = general_get(ctx, SV("context"));
    struct sv context = e == NULL ? SV("default") : e->value;
    struct audit_where where = general_where(ctx, e);
    for (size_t i = 0; i < sizeof(internal_contexts) / sizeof(internal_contexts[0]); i++) {
        if (sv_eq_nocase(context, sv_from_cstr(internal_contexts[i]))) {
            audit_report_add(ctx->report, &where, AUDIT_FAIL, "auth.context",
                             "context=from-sip-external (a context that only reaches inbound "
                             "routes)",
                             "default context '" SV_FMT "' is an internal context that can "
                             "dial out",
                             SV_ARG(context));
            return;
        }
    }
    audit_report_add(ctx->report, &where, AUDIT_PASS, "auth.context", NULL,
                     "default context '" SV_FMT "' (check that it reaches inbound routes only)",
                     SV_ARG(context));
}

static bool is_old_tls_method(struct sv method)
{
    static const char *const old[] = { "sslv2", "sslv3", "tlsv1", "tlsv1_1", "tlsv1.1" };
    for (size_t i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
        if (sv_eq_nocase(method, sv_from_cstr(old[i]))) {
            return true;
        }
    }
    return false;
}

static void check_tls(const struct sip_ctx *ctx)
{
    if (!audit_is_true(audit_value(general_get(ctx, SV("tlsenable"))))) {
        return;
    }
    const struct asterisk_conf_entry *method = general_get(ctx, SV("tlsclientmethod"));
    struct audit_where where = general_where(ctx, method);
    if (method != NULL && is_old_tls_method(method->value)) {
        audit_report_add(ctx->report, &where, AUDIT_FAIL, "tls.version", "tlsclientmethod=tlsv1_2",
                         "tlsclientmethod=" SV_FMT " allows TLS below 1.2", SV_ARG(method->value));
    } else {
        audit_report_add(ctx->report, &where, AUDIT_PASS, "tls.version", NULL,
                         "tlsclientmethod=" SV_FMT,
                         SV_ARG(method == NULL ? SV("(default)") : method->value));
    }
    const struct asterisk_conf_entry *noverify = general_get(ctx, SV("tlsdontverifyserver"));
    where = general_where(ctx, noverify);
    if (noverify != NULL && audit_is_true(noverify->value)) {
        audit_report_add(ctx->report, &where, AUDIT_FAIL, "tls.verify", "tlsdontverifyserver=no",
                         "tlsdontverifyserver=yes accepts any server certificate");
    } else {
        audit_report_add(ctx->report, &where, AUDIT_PASS, "tls.verify", NULL,
                         "server certificates are verified");
    }
    const struct asterisk_conf_entry *cert = general_get(ctx, SV("tlscertfile"));
    if (cert != NULL) {
        where = general_where(ctx, cert);
        audit_files_check_certificate(ctx->report, &where, cert->value);
    }
    const struct asterisk_conf_entry *key = general_get(ctx, SV("tlsprivatekey"));
    if (key != NULL) {
        where = general_where(ctx, key);
        audit_files_check_key(ctx->report, &where, key->value);
    }
}

static void check_peer_auth(const struct sip_ctx *ctx, const struct asterisk_conf_section *peer)
{
    const struct asterisk_conf_entry *secret = asterisk_conf_section_get(peer, SV("secret"));
    const struct asterisk_conf_entry *md5 = asterisk_conf_section_get(peer, SV("md5secret"));
    if (secret == NULL && md5 == NULL) {
        struct audit_where where = audit_where_of(peer, NULL);
        audit_report_add(ctx->report, &where, AUDIT_FAIL, "auth.digest",
                         "secret=<a new secret from 'sipwarden passwd gen'>",
                         "no secret or md5secret: requests matched to this peer are not "
                         "authenticated");
        return;
    }
    struct audit_where where = audit_where_of(peer, secret != NULL ? secret : md5);
    audit_report_add(ctx->report, &where, AUDIT_PASS, "auth.digest", NULL,
                     "digest authentication with %s", secret != NULL ? "secret" : "md5secret");
    if (secret != NULL) {
        /* FreePBX still writes "username", the old name of defaultuser. */
        const struct asterisk_conf_entry *user_entry =
            asterisk_conf_section_get(peer, SV("defaultuser"));
        if (user_entry == NULL) {
            user_entry = asterisk_conf_section_get(peer, SV("username"));
        }
        struct sv user = audit_value(user_entry);
        audit_checks_secret(ctx->report, &where, secret->value, user, "secret", NULL);
    }
    const struct asterisk_conf_entry *insecure = asterisk_conf_section_get(peer, SV("insecure"));
    if (insecure != NULL && (audit_list_has(insecure->value, SV("invite")) ||
                             audit_list_has(insecure->value, SV("port")) ||
                             audit_list_has(insecure->value, SV("very")))) {
        where = audit_where_of(peer, insecure);
        audit_report_add(ctx->report, &where, AUDIT_WARN, "auth.insecure",
                         "insecure=no (and deny/permit to the provider's addresses)",
                         "insecure=" SV_FMT ": INVITEs from the peer's address are not "
                         "challenged",
                         SV_ARG(insecure->value));
    }
}

static bool is_everything(struct sv range)
{
    static const char *const all[] = { "0.0.0.0/0", "0.0.0.0/0.0.0.0", "::/0", "0.0.0.0" };
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (sv_eq(sv_trim(range), sv_from_cstr(all[i]))) {
            return true;
        }
    }
    return false;
}

struct peer_acl {
    const struct asterisk_conf_entry *deny;
    const struct asterisk_conf_entry *permit;
    const struct asterisk_conf_entry *named;
    const struct asterisk_conf_entry *open; /* a permit of every address */
};

static void collect_acl(const struct asterisk_conf_section *peer, struct peer_acl *acl)
{
    for (size_t i = 0; i < peer->entry_count; i++) {
        const struct asterisk_conf_entry *e = &peer->entries[i];
        if (e->kind != ASTERISK_CONF_VAR) {
            continue;
        }
        if (sv_eq_nocase(e->key, SV("deny")) || sv_eq_nocase(e->key, SV("contactdeny"))) {
            acl->deny = e;
        } else if (sv_eq_nocase(e->key, SV("permit")) ||
                   sv_eq_nocase(e->key, SV("contactpermit"))) {
            acl->permit = e;
            acl->open = is_everything(e->value) ? e : acl->open;
        } else if (sv_eq_nocase(e->key, SV("acl")) || sv_eq_nocase(e->key, SV("contactacl"))) {
            acl->named = e;
        }
    }
}

static void check_peer_acl(const struct sip_ctx *ctx, const struct asterisk_conf_section *peer)
{
    struct peer_acl acl = { NULL, NULL, NULL, NULL };
    collect_acl(peer, &acl);
    const struct asterisk_conf_entry *open = acl.open;
    const struct asterisk_conf_entry *permit = acl.permit;
    const struct asterisk_conf_entry *named = acl.named;
    const struct asterisk_conf_entry *deny = acl.deny;
    static const char fix[] = "deny=0.0.0.0/0.0.0.0 then permit=<the peer's address>/<mask>";
    struct audit_where where = audit_where_of(peer, open != NULL ? open : permit);
    if (open != NULL) {
        audit_report_add(ctx->report, &where, AUDIT_FAIL, "acl.source", fix,
                         "permit=" SV_FMT " admits every address", SV_ARG(open->value));
    } else if (named != NULL || (deny != NULL && permit != NULL)) {
        where = audit_where_of(peer, named != NULL ? named : permit);
        audit_report_add(ctx->report, &where, AUDIT_PASS, "acl.source", NULL,
                         named != NULL ? "named ACL " SV_FMT : "deny/permit up to " SV_FMT,
                         SV_ARG(named != NULL ? named->value : permit->value));
    } else if (permit != NULL) {
        audit_report_add(ctx->report, &where, AUDIT_FAIL, "acl.source", fix,
                         "permit without deny admits every address (Asterisk ACLs allow by "
                         "default)");
    } else {
        audit_report_add(ctx->report, &where, AUDIT_FAIL, "acl.source", fix,
                         "no deny/permit or acl: any source address may use this peer");
    }
}

static void check_peer_crypto(const struct sip_ctx *ctx, const struct asterisk_conf_section *peer,
                              bool is_trunk)
{
    if (is_trunk) {
        const struct asterisk_conf_entry *t = peer_get(ctx, peer, SV("transport"));
        struct sv transport = t == NULL ? SV("udp") : t->value;
        struct audit_where where = audit_where_of(peer, t);
        if (audit_list_has(transport, SV("tls"))) {
            audit_report_add(ctx->report, &where, AUDIT_PASS, "tls.transport", NULL,
                             "transport=" SV_FMT, SV_ARG(transport));
        } else {
            audit_report_add(ctx->report, &where, AUDIT_WARN, "tls.transport",
                             "transport=tls (with tlsenable=yes in [general])",
                             "trunk signalling over " SV_FMT " only%s", SV_ARG(transport),
                             t == NULL ? " (the default)" : "");
        }
    }
    const struct asterisk_conf_entry *enc = peer_get(ctx, peer, SV("encryption"));
    struct audit_where where = audit_where_of(peer, enc);
    if (enc != NULL && audit_is_true(enc->value)) {
        audit_report_add(ctx->report, &where, AUDIT_PASS, "media.srtp", NULL, "encryption=yes");
    } else {
        audit_report_add(ctx->report, &where, AUDIT_WARN, "media.srtp", "encryption=yes",
                         enc == NULL ? "encryption not set: media is plain RTP"
                                     : "encryption=no: media is plain RTP");
    }
}

/*
 * The secret of a chan_sip registration line (sip.conf.sample):
 * [peer?][transport://]user[@domain][:secret[:authuser]]@host[:port][/extension][~expiry]
 * `user` gets the user part. Returns the absent view when the line carries no secret.
 */
static struct sv register_secret(struct sv line, struct sv *user)
{
    long question = sv_find_char(line, '?');
    if (question >= 0) {
        line = sv_slice(line, (size_t)question + 1, line.len);
    }
    for (size_t i = 0; i + 2 < line.len; i++) {
        if (line.ptr[i] == ':' && line.ptr[i + 1] == '/' && line.ptr[i + 2] == '/') {
            line = sv_slice(line, i + 3, line.len);
            break;
        }
    }
    size_t at = line.len;
    while (at > 0 && line.ptr[at - 1] != '@') {
        at--;
    }
    if (at == 0) {
        return SV_NULL;
    }
    struct sv creds = sv_slice(line, 0, at - 1);
    struct sv secret;
    if (!sv_take_until(&creds, ':', user)) {
        return SV_NULL;
    }
    (void)sv_take_until(&creds, ':', &secret); /* the rest, if any, is the auth user */
    return secret.len > 0 ? secret : SV_NULL;
}

static void check_registrations(const struct sip_ctx *ctx)
{
    for (size_t i = 0; ctx->general != NULL && i < ctx->general->entry_count; i++) {
        const struct asterisk_conf_entry *e = &ctx->general->entries[i];
        if (e->kind != ASTERISK_CONF_VAR || !sv_eq_nocase(e->key, SV("register"))) {
            continue;
        }
        struct sv user = SV_NULL;
        struct sv secret = register_secret(e->value, &user);
        if (secret.ptr != NULL) {
            struct audit_where where = audit_where_of(ctx->general, e);
            audit_checks_secret(ctx->report, &where, secret, user, "register secret",
                                "register => <user>:<a new secret from 'sipwarden passwd "
                                "gen'>@<host>");
        }
    }
}

static bool is_peer(const struct asterisk_conf_section *s)
{
    struct sv type = audit_value(asterisk_conf_section_get(s, SV("type")));
    return !s->is_template && (sv_eq_nocase(type, SV("peer")) || sv_eq_nocase(type, SV("friend")) ||
                               sv_eq_nocase(type, SV("user")));
}

void audit_sip_run(struct audit_report *report, const struct asterisk_conf *conf)
{
    struct sip_ctx ctx = {
        .report = report,
        .conf = conf,
        .general = asterisk_conf_find(conf, SV("general")),
    };
    check_guest(&ctx);
    check_authreject(&ctx);
    check_context(&ctx);
    check_tls(&ctx);
    check_registrations(&ctx);
    for (size_t i = 0; i < conf->section_count; i++) {
        const struct asterisk_conf_section *peer = &conf->sections[i];
        if (!is_peer(peer)) {
            continue;
        }
        struct sv host = audit_value(asterisk_conf_section_get(peer, SV("host")));
        bool is_trunk = host.len > 0 && !sv_eq_nocase(host, SV("dynamic"));
        check_peer_auth(&ctx, peer);
        audit_checks_rotation_comment(report, peer);
        check_peer_acl(&ctx, peer);
        check_peer_crypto(&ctx, peer, is_trunk);
    }
}
