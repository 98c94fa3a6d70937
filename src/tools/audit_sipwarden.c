#include "tools/audit_sipwarden.h"

#include <stdio.h>

#include "config/config.h"
#include "policy/fraud.h"
#include "tools/audit_checks.h"
#include "tools/audit_files.h"

/* More guesses than this per findtime window warn (config.ban). */
#define MAX_SENSIBLE_RETRIES 10

/*
 * Said after the message of a finding at line 0: the singleton section is not in the file,
 * so the finding is about the defaults and no line can be shown.
 */
#define ABSENT_NOTE " (section not in the file: its defaults apply)"

/*
 * Where a finding about the keys `keys` (NULL-terminated) of `section` (a singleton
 * section or a trunk or account name) points: the first line of the file that holds one
 * of them; the section header when none is written (the finding is about a default or a
 * missing key); line 0 when the section itself is absent (say so with absent_note()).
 */
static struct audit_where keys_where(const struct cfg *cfg, const char *section,
                                     const char *const *keys)
{
    unsigned line = 0;
    for (size_t i = 0; keys[i] != NULL; i++) {
        unsigned key_line = cfg_key_line(cfg, section, keys[i]);
        if (key_line != 0 && (line == 0 || key_line < line)) {
            line = key_line;
        }
    }
    struct audit_where where = {
        .file = cfg->source,
        .line = line != 0 ? line : cfg_section_line(cfg, section),
        .section = sv_from_cstr(section),
    };
    return where;
}

/* keys_where() for the one key `key`, or for the section header when `key` is NULL. */
static struct audit_where key_where(const struct cfg *cfg, const char *section, const char *key)
{
    const char *const keys[] = { key, NULL };
    return keys_where(cfg, section, keys);
}

/* ABSENT_NOTE for a finding at line 0, else "". */
static const char *absent_note(const struct audit_where *where)
{
    return where->line == 0 ? ABSENT_NOTE : "";
}

static void check_trunk(struct audit_report *report, const struct cfg *cfg,
                        const struct cfg_trunk *trunk)
{
    if (trunk->secret != NULL) {
        struct audit_where where = key_where(cfg, trunk->name, "secret");
        audit_checks_secret(report, &where, sv_from_cstr(trunk->secret),
                            sv_from_cstr(trunk->username), "secret", NULL);
    }
    char ranges[128] = "";
    if (trunk->permit.count > 0) {
        sw_cidr_format(&trunk->permit.items[0], ranges, sizeof(ranges));
    }
    /* Not written, permit is the provider's address: the header stands for the default. */
    struct audit_where where = key_where(cfg, trunk->name, "permit");
    audit_report_add(report, &where, AUDIT_PASS, "acl.source", NULL,
                     "inbound requests only from permit (%s%s)", ranges,
                     trunk->permit.count > 1 ? ", ..." : "");
    where = key_where(cfg, trunk->name, "provider");
    if (trunk->provider.transport == SW_TRANSPORT_TLS ||
        trunk->provider.transport == SW_TRANSPORT_WSS) {
        audit_report_add(report, &where, AUDIT_PASS, "tls.transport", NULL,
                         "provider reached over TLS");
    } else {
        char fix[CFG_HOST_CAP + 32];
        (void)snprintf(fix, sizeof(fix), "provider = tls:%s:5061", trunk->provider.host);
        audit_report_add(report, &where, AUDIT_WARN, "tls.transport", fix,
                         "provider reached over %s: signalling in clear text",
                         trunk->provider.transport == SW_TRANSPORT_TCP ? "TCP" : "UDP");
    }
}

/* The account's credential findings: how it authenticates, the secret and its age. */
static void check_account_credentials(struct audit_report *report, const struct cfg *cfg,
                                      const struct cfg_account *account)
{
    static const char *const hashes[] = { "ha1", "ha1_sha256", "ha1_sha512_256", NULL };
    struct audit_where where = account->secret != NULL ? key_where(cfg, account->name, "secret")
                                                       : keys_where(cfg, account->name, hashes);
    audit_report_add(report, &where, AUDIT_PASS, "auth.digest", NULL,
                     "digest authentication with %s",
                     account->secret != NULL ? "a plain-text secret" : "stored HA1 hashes");
    if (account->secret != NULL) {
        audit_checks_secret(report, &where, sv_from_cstr(account->secret),
                            sv_from_cstr(account->username), "secret", NULL);
    }
    if (account->rotated != 0) {
        where = key_where(cfg, account->name, "rotated");
        audit_checks_rotation_age(report, &where, account->rotated,
                                  "change the secret, then record the day: rotated = YYYY-MM-DD");
    }
}

static void check_account(struct audit_report *report, const struct cfg *cfg,
                          const struct cfg_account *account)
{
    check_account_credentials(report, cfg, account);
    if (account->permit.count > 0) {
        struct audit_where where = key_where(cfg, account->name, "permit");
        audit_report_add(report, &where, AUDIT_PASS, "acl.source", NULL,
                         "the account may be used only from its permit ranges");
        return;
    }
    /* About the permit the account lacks: its section header. */
    struct audit_where where = key_where(cfg, account->name, NULL);
    if (cfg->acl.permit.count > 0) {
        audit_report_add(report, &where, AUDIT_PASS, "acl.source", NULL,
                         "no permit of its own; [acl] permit restricts the sources");
    } else if (account->enabled) {
        audit_report_add(report, &where, AUDIT_FAIL, "acl.source",
                         "permit = <the networks the phone registers from>",
                         "no permit and no [acl] permit: usable from any address");
    }
}

static void check_tls(struct audit_report *report, const struct cfg *cfg)
{
    struct audit_where where = key_where(cfg, "tls", "min_version");
    audit_report_add(report, &where, AUDIT_PASS, "tls.version", NULL, "min_version = %s%s",
                     cfg->tls.min_version == CFG_TLS_1_3 ? "1.3" : "1.2", absent_note(&where));
    where = key_where(cfg, "tls", "verify_server");
    if (!cfg->tls.verify_server) {
        audit_report_add(report, &where, AUDIT_FAIL, "tls.verify", "verify_server = yes",
                         "verify_server = no accepts any server certificate");
    } else {
        audit_report_add(report, &where, AUDIT_PASS, "tls.verify", NULL, "verify_server = yes%s",
                         absent_note(&where));
    }
}

static void check_security_log(struct audit_report *report, const struct cfg *cfg)
{
    if (cfg->log.security_log == NULL && !cfg->log.syslog) {
        /* security_log has a default: it is off only when written empty. */
        struct audit_where where = key_where(cfg, "log", "security_log");
        audit_report_add(report, &where, AUDIT_WARN, "log.security",
                         "security_log = /var/log/sipwarden/security.log",
                         "no security log and no syslog: failed logins are not recorded%s",
                         absent_note(&where));
        return;
    }
    struct audit_where where =
        key_where(cfg, "log", cfg->log.security_log != NULL ? "security_log" : "syslog");
    audit_report_add(report, &where, AUDIT_PASS, "log.security", NULL, "security events go to %s%s",
                     cfg->log.security_log != NULL ? cfg->log.security_log : "syslog",
                     absent_note(&where));
}

static void check_monitoring(struct audit_report *report, const struct cfg *cfg)
{
    check_security_log(report, cfg);
    struct audit_where where = key_where(cfg, "ban", "maxretry");
    if (cfg->ban.maxretry > MAX_SENSIBLE_RETRIES) {
        audit_report_add(report, &where, AUDIT_WARN, "config.ban", "maxretry = 5",
                         "maxretry = %u gives each source that many guesses every %u s",
                         cfg->ban.maxretry, cfg->ban.findtime);
    } else {
        audit_report_add(report, &where, AUDIT_PASS, "config.ban", NULL,
                         "a source is banned after %u failures within %u s%s", cfg->ban.maxretry,
                         cfg->ban.findtime, absent_note(&where));
    }
    if (cfg->admin.token != NULL) {
        where = key_where(cfg, "admin", "token");
        audit_checks_secret(report, &where, sv_from_cstr(cfg->admin.token), SV_NULL, "token", NULL);
    }
}

void audit_sipwarden_files(struct audit_report *report, const struct asterisk_conf *ini)
{
    const struct asterisk_conf_section *tls = asterisk_conf_find(ini, SV("tls"));
    if (tls == NULL) {
        return;
    }
    const struct asterisk_conf_entry *cert = asterisk_conf_section_get(tls, SV("certificate"));
    if (cert != NULL && cert->value.len > 0) {
        struct audit_where where = audit_where_of(tls, cert);
        where.is_cwd_relative = true;
        audit_files_check_certificate(report, &where, cert->value);
    }
    const struct asterisk_conf_entry *key = asterisk_conf_section_get(tls, SV("private_key"));
    if (key != NULL && key->value.len > 0) {
        struct audit_where where = audit_where_of(tls, key);
        where.is_cwd_relative = true;
        audit_files_check_key(report, &where, key->value);
    }
}

/* International calling open without a cap (issue #11): one finding per trunk/account. */
static void check_fraud_object(struct audit_report *report, const struct cfg *cfg, const char *name,
                               const struct cfg_strings *countries, const char *max_rate)
{
    struct audit_where where = key_where(cfg, name, "allowed_countries");
    if (fraud_is_uncapped_abroad(cfg, countries, max_rate)) {
        audit_report_add(report, &where, AUDIT_WARN, "fraud.cap", "max_rate_per_minute = 0.10",
                         "%s may call abroad with no rate deck and no max_rate_per_minute", name);
    }
}

static void check_fraud(struct audit_report *report, const struct cfg *cfg)
{
    struct audit_where where = key_where(cfg, "fraud", "enabled");
    if (!cfg->fraud.enabled) {
        audit_report_add(report, &where, AUDIT_WARN, "fraud.policy", "enabled = yes",
                         "the toll-fraud policy is off: every destination may be dialled");
        return;
    }
    /* A policy on with its safe defaults is silent (only what needs a fix is reported). */
    for (size_t i = 0; i < cfg->trunk_count; i++) {
        check_fraud_object(report, cfg, cfg->trunks[i].name, &cfg->trunks[i].allowed_countries,
                           cfg->trunks[i].max_rate_per_minute);
    }
    for (size_t i = 0; i < cfg->account_count; i++) {
        check_fraud_object(report, cfg, cfg->accounts[i].name, &cfg->accounts[i].allowed_countries,
                           cfg->accounts[i].max_rate_per_minute);
    }
}

void audit_sipwarden_run(struct audit_report *report, const struct cfg *cfg)
{
    check_fraud(report, cfg);
    for (size_t i = 0; i < cfg->trunk_count; i++) {
        check_trunk(report, cfg, &cfg->trunks[i]);
    }
    for (size_t i = 0; i < cfg->account_count; i++) {
        check_account(report, cfg, &cfg->accounts[i]);
    }
    bool has_tls = cfg->tls.certificate != NULL;
    for (size_t i = 0; !has_tls && i < cfg->trunk_count; i++) {
        has_tls = cfg->trunks[i].provider.transport == SW_TRANSPORT_TLS;
    }
    if (has_tls) {
        check_tls(report, cfg);
    }
    check_monitoring(report, cfg);
}
