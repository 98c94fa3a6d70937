/*
 * The checklist for PJSIP (pjsip.conf): objects are sections with type=endpoint, auth,
 * aor, identify, transport and acl, which refer to each other by section name.
 * PJSIP defaults that matter here: media_encryption=no, verify_server=no.
 */
#include <stdio.h>

#include "tools/audit_asterisk.h"
#include "tools/audit_checks.h"
#include "tools/audit_files.h"

struct pjsip_ctx {
    struct audit_report *report;
    const struct asterisk_conf *conf;
    bool has_global_acl; /* a type=acl section restricts every request */
};

static bool has_type(const struct asterisk_conf_section *s, struct sv type)
{
    return !s->is_template &&
           sv_eq_nocase(audit_value(asterisk_conf_section_get(s, SV("type"))), type);
}

/* The last non-template section called `name` of type `type`, or NULL. */
static const struct asterisk_conf_section *find_typed(const struct asterisk_conf *conf,
                                                      struct sv name, struct sv type)
{
    for (size_t i = conf->section_count; i > 0; i--) {
        const struct asterisk_conf_section *s = &conf->sections[i - 1];
        if (sv_eq(s->name, name) && has_type(s, type)) {
            return s;
        }
    }
    return NULL;
}

/* The identify section with a match= for `endpoint`, or NULL. */
static const struct asterisk_conf_section *find_identify(const struct asterisk_conf *conf,
                                                         struct sv endpoint)
{
    for (size_t i = 0; i < conf->section_count; i++) {
        const struct asterisk_conf_section *s = &conf->sections[i];
        if (has_type(s, SV("identify")) &&
            sv_eq(audit_value(asterisk_conf_section_get(s, SV("endpoint"))), endpoint) &&
            asterisk_conf_section_get(s, SV("match")) != NULL) {
            return s;
        }
    }
    return NULL;
}

static bool section_has_acl(const struct asterisk_conf_section *s)
{
    bool has_deny = false;
    bool has_permit = false;
    for (size_t i = 0; i < s->entry_count; i++) {
        const struct asterisk_conf_entry *e = &s->entries[i];
        if (e->kind != ASTERISK_CONF_VAR) {
            continue;
        }
        if (sv_eq_nocase(e->key, SV("acl")) || sv_eq_nocase(e->key, SV("contact_acl"))) {
            return true;
        }
        has_deny = has_deny || sv_eq_nocase(e->key, SV("deny")) ||
                   sv_eq_nocase(e->key, SV("contact_deny"));
        has_permit = has_permit || sv_eq_nocase(e->key, SV("permit")) ||
                     sv_eq_nocase(e->key, SV("contact_permit"));
    }
    return has_deny && has_permit;
}

static void check_anonymous(const struct pjsip_ctx *ctx)
{
    const struct asterisk_conf_section *anon =
        find_typed(ctx->conf, SV("anonymous"), SV("endpoint"));
    if (anon != NULL) {
        struct audit_where where = audit_where_of(anon, NULL);
        audit_report_add(ctx->report, &where, AUDIT_FAIL, "auth.guest",
                         "remove the [anonymous] endpoint",
                         "an 'anonymous' endpoint accepts calls from unidentified sources");
        return;
    }
    struct audit_where where = { .file = ctx->conf->path, .line = 0, .section = SV_NULL };
    audit_report_add(ctx->report, &where, AUDIT_PASS, "auth.guest", NULL, "no anonymous endpoint");
}

/* Digest on the endpoint: auth= naming type=auth sections, else identify (IP only). */
static void check_endpoint_auth(const struct pjsip_ctx *ctx, const struct asterisk_conf_section *ep,
                                const struct asterisk_conf_section *identify)
{
    const struct asterisk_conf_entry *auth = asterisk_conf_section_get(ep, SV("auth"));
    if (auth != NULL && auth->value.len > 0) {
        struct sv names = auth->value;
        struct sv name;
        bool is_last = false;
        while (!is_last) {
            is_last = !sv_take_until(&names, ',', &name);
            name = sv_trim(name);
            if (find_typed(ctx->conf, name, SV("auth")) == NULL) {
                struct audit_where where = audit_where_of(ep, auth);
                audit_report_add(ctx->report, &where, AUDIT_FAIL, "auth.digest",
                                 "[<name>] with type=auth, auth_type=userpass, password=...",
                                 "auth=" SV_FMT " names no type=auth section", SV_ARG(name));
                return;
            }
        }
        struct audit_where where = audit_where_of(ep, auth);
        audit_report_add(ctx->report, &where, AUDIT_PASS, "auth.digest", NULL,
                         "digest authentication with auth=" SV_FMT, SV_ARG(auth->value));
        return;
    }
    struct audit_where where = audit_where_of(ep, NULL);
    if (identify != NULL) {
        audit_report_add(ctx->report, &where, AUDIT_WARN, "auth.digest",
                         "auth=<a type=auth section> if the provider can answer challenges",
                         "no auth=: requests are trusted on their source address alone "
                         "(identify [" SV_FMT "])",
                         SV_ARG(identify->name));
        return;
    }
    audit_report_add(ctx->report, &where, AUDIT_FAIL, "auth.digest",
                     "auth=<a type=auth section with a strong password>",
                     "no auth= and no identify: requests for this endpoint are not "
                     "authenticated");
}

static void check_endpoint_acl(const struct pjsip_ctx *ctx, const struct asterisk_conf_section *ep,
                               const struct asterisk_conf_section *identify)
{
    struct audit_where where = audit_where_of(ep, NULL);
    if (section_has_acl(ep)) {
        audit_report_add(ctx->report, &where, AUDIT_PASS, "acl.source", NULL,
                         "the endpoint has its own ACL");
    } else if (identify != NULL) {
        audit_report_add(ctx->report, &where, AUDIT_PASS, "acl.source", NULL,
                         "identified by source address (identify [" SV_FMT "])",
                         SV_ARG(identify->name));
    } else if (ctx->has_global_acl) {
        audit_report_add(ctx->report, &where, AUDIT_PASS, "acl.source", NULL,
                         "a type=acl section restricts the source addresses");
    } else {
        audit_report_add(ctx->report, &where, AUDIT_FAIL, "acl.source",
                         "[acl] type=acl, deny=0.0.0.0/0.0.0.0, permit=<your networks>",
                         "no ACL and no identify: any source address may use this endpoint");
    }
}

/* The protocol of the endpoint's transport, or SV_NULL when none is pinned. */
static struct sv endpoint_protocol(const struct pjsip_ctx *ctx,
                                   const struct asterisk_conf_section *ep)
{
    struct sv name = audit_value(asterisk_conf_section_get(ep, SV("transport")));
    if (name.len == 0) {
        return SV_NULL;
    }
    const struct asterisk_conf_section *t = find_typed(ctx->conf, name, SV("transport"));
    struct sv protocol =
        t == NULL ? SV_NULL : audit_value(asterisk_conf_section_get(t, SV("protocol")));
    return protocol.ptr == NULL && t != NULL ? SV("udp") : protocol;
}

static void check_endpoint_media(const struct pjsip_ctx *ctx,
                                 const struct asterisk_conf_section *ep)
{
    const struct asterisk_conf_entry *enc = asterisk_conf_section_get(ep, SV("media_encryption"));
    struct audit_where where = audit_where_of(ep, enc);
    if (enc == NULL || sv_eq_nocase(enc->value, SV("no"))) {
        audit_report_add(ctx->report, &where, AUDIT_WARN, "media.srtp", "media_encryption=sdes",
                         "media_encryption %s: media is plain RTP",
                         enc == NULL ? "not set" : "=no");
        return;
    }
    audit_report_add(ctx->report, &where, AUDIT_PASS, "media.srtp", NULL,
                     "media_encryption=" SV_FMT, SV_ARG(enc->value));
    const struct asterisk_conf_entry *opt =
        asterisk_conf_section_get(ep, SV("media_encryption_optimistic"));
    if (opt != NULL && audit_is_true(opt->value)) {
        where = audit_where_of(ep, opt);
        audit_report_add(ctx->report, &where, AUDIT_WARN, "media.srtp-optimistic",
                         "media_encryption_optimistic=no",
                         "media_encryption_optimistic=yes: calls fall back to plain RTP");
    }
}

static void check_endpoint_transport(const struct pjsip_ctx *ctx,
                                     const struct asterisk_conf_section *ep)
{
    struct sv protocol = endpoint_protocol(ctx, ep);
    const struct asterisk_conf_entry *t = asterisk_conf_section_get(ep, SV("transport"));
    struct audit_where where = audit_where_of(ep, t);
    if (sv_eq_nocase(protocol, SV("tls")) || sv_eq_nocase(protocol, SV("wss"))) {
        audit_report_add(ctx->report, &where, AUDIT_PASS, "tls.transport", NULL,
                         "trunk transport is " SV_FMT, SV_ARG(protocol));
        return;
    }
    static const char fix[] = "transport=<a type=transport section with protocol=tls>";
    if (protocol.ptr == NULL) {
        audit_report_add(ctx->report, &where, AUDIT_WARN, "tls.transport", fix,
                         "trunk has no transport= pinned to TLS");
        return;
    }
    audit_report_add(ctx->report, &where, AUDIT_WARN, "tls.transport", fix,
                     "trunk signalling over " SV_FMT " only", SV_ARG(protocol));
}

static bool is_trunk(const struct pjsip_ctx *ctx, const struct asterisk_conf_section *ep,
                     const struct asterisk_conf_section *identify)
{
    if (identify != NULL || asterisk_conf_section_get(ep, SV("outbound_auth")) != NULL) {
        return true;
    }
    struct sv aors = audit_value(asterisk_conf_section_get(ep, SV("aors")));
    struct sv name;
    bool is_last = aors.len == 0;
    while (!is_last) {
        is_last = !sv_take_until(&aors, ',', &name);
        const struct asterisk_conf_section *aor = find_typed(ctx->conf, sv_trim(name), SV("aor"));
        if (aor != NULL && asterisk_conf_section_get(aor, SV("contact")) != NULL) {
            return true; /* a static contact: a provider, not a phone that registers */
        }
    }
    return false;
}

static void check_endpoint(const struct pjsip_ctx *ctx, const struct asterisk_conf_section *ep)
{
    const struct asterisk_conf_section *identify = find_identify(ctx->conf, ep->name);
    check_endpoint_auth(ctx, ep, identify);
    check_endpoint_acl(ctx, ep, identify);
    if (is_trunk(ctx, ep, identify)) {
        check_endpoint_transport(ctx, ep);
    }
    check_endpoint_media(ctx, ep);
    audit_checks_rotation_comment(ctx->report, ep);
}

static void check_auth(const struct pjsip_ctx *ctx, const struct asterisk_conf_section *auth)
{
    struct sv type = audit_value(asterisk_conf_section_get(auth, SV("auth_type")));
    const struct asterisk_conf_entry *password = asterisk_conf_section_get(auth, SV("password"));
    if (password != NULL && (type.len == 0 || sv_eq_nocase(type, SV("userpass")))) {
        struct audit_where where = audit_where_of(auth, password);
        struct sv user = audit_value(asterisk_conf_section_get(auth, SV("username")));
        audit_checks_secret(ctx->report, &where, password->value, user, "password", NULL);
    }
    audit_checks_rotation_comment(ctx->report, auth);
}

static bool is_old_method(struct sv method)
{
    static const char *const old[] = { "sslv2", "sslv3", "tlsv1", "tlsv1_1" };
    for (size_t i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
        if (sv_eq_nocase(method, sv_from_cstr(old[i]))) {
            return true;
        }
    }
    return false;
}

static void check_transport_tls(const struct pjsip_ctx *ctx, const struct asterisk_conf_section *t)
{
    const struct asterisk_conf_entry *method = asterisk_conf_section_get(t, SV("method"));
    struct audit_where where = audit_where_of(t, method);
    if (method != NULL && is_old_method(method->value)) {
        audit_report_add(ctx->report, &where, AUDIT_FAIL, "tls.version", "method=tlsv1_2",
                         "method=" SV_FMT " is below TLS 1.2", SV_ARG(method->value));
    } else if (method != NULL && sv_eq_nocase(method->value, SV("sslv23"))) {
        audit_report_add(ctx->report, &where, AUDIT_WARN, "tls.version", "method=tlsv1_2",
                         "method=sslv23 accepts whatever versions OpenSSL allows");
    } else {
        audit_report_add(ctx->report, &where, AUDIT_PASS, "tls.version", NULL, "method=" SV_FMT,
                         SV_ARG(method == NULL ? SV("(default)") : method->value));
    }
    const struct asterisk_conf_entry *verify = asterisk_conf_section_get(t, SV("verify_server"));
    where = audit_where_of(t, verify);
    if (verify == NULL || !audit_is_true(verify->value)) {
        audit_report_add(ctx->report, &where, AUDIT_FAIL, "tls.verify", "verify_server=yes",
                         verify == NULL ? "verify_server not set: PJSIP defaults to no"
                                        : "verify_server=no accepts any server certificate");
    } else {
        audit_report_add(ctx->report, &where, AUDIT_PASS, "tls.verify", NULL, "verify_server=yes");
    }
    const struct asterisk_conf_entry *cert = asterisk_conf_section_get(t, SV("cert_file"));
    if (cert != NULL) {
        where = audit_where_of(t, cert);
        audit_files_check_certificate(ctx->report, &where, cert->value);
    }
    const struct asterisk_conf_entry *key = asterisk_conf_section_get(t, SV("priv_key_file"));
    if (key != NULL) {
        where = audit_where_of(t, key);
        audit_files_check_key(ctx->report, &where, key->value);
    }
}

void audit_pjsip_run(struct audit_report *report, const struct asterisk_conf *conf)
{
    struct pjsip_ctx ctx = { .report = report, .conf = conf, .has_global_acl = false };
    for (size_t i = 0; i < conf->section_count; i++) {
        const struct asterisk_conf_section *s = &conf->sections[i];
        ctx.has_global_acl = ctx.has_global_acl || (has_type(s, SV("acl")) && section_has_acl(s));
    }
    check_anonymous(&ctx);
    for (size_t i = 0; i < conf->section_count; i++) {
        const struct asterisk_conf_section *s = &conf->sections[i];
        if (has_type(s, SV("endpoint"))) {
            check_endpoint(&ctx, s);
        } else if (has_type(s, SV("auth"))) {
            check_auth(&ctx, s);
        } else if (has_type(s, SV("transport"))) {
            struct sv protocol = audit_value(asterisk_conf_section_get(s, SV("protocol")));
            if (sv_eq_nocase(protocol, SV("tls")) || sv_eq_nocase(protocol, SV("wss"))) {
                check_transport_tls(&ctx, s);
            }
        }
    }
}
