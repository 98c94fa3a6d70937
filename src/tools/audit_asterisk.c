#include "tools/audit_asterisk.h"

#include "tools/audit_checks.h"

/* Keys only chan_sip's [general] has; one is enough to call a file sip.conf. */
static const char *const sip_general_keys[] = {
    "allowguest", "alwaysauthreject", "udpbindaddr",  "bindport",  "tlsenable", "srvlookup",
    "externip",   "localnet",         "allowoverlap", "useragent", "register",
};

static const char *const pjsip_types[] = {
    "endpoint", "aor",    "auth", "transport",    "identify", "registration",
    "global",   "system", "acl",  "domain_alias", "contact",  "phoneprov",
};

static bool type_in(struct sv type, const char *const *names, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (sv_eq_nocase(type, sv_from_cstr(names[i]))) {
            return true;
        }
    }
    return false;
}

static bool is_sip_general(const struct asterisk_conf_section *s)
{
    if (!sv_eq(s->name, SV("general"))) {
        return false;
    }
    for (size_t i = 0; i < sizeof(sip_general_keys) / sizeof(sip_general_keys[0]); i++) {
        if (asterisk_conf_section_get(s, sv_from_cstr(sip_general_keys[i])) != NULL) {
            return true;
        }
    }
    return false;
}

enum audit_kind audit_asterisk_detect(const struct asterisk_conf *conf)
{
    static const char *const peer_types[] = { "peer", "user", "friend" };
    static const char *const own_types[] = { "trunk", "account" };
    bool is_pjsip = false;
    bool is_logger = false;
    bool is_sip = false;
    for (size_t i = 0; i < conf->section_count; i++) {
        const struct asterisk_conf_section *s = &conf->sections[i];
        struct sv type = audit_value(asterisk_conf_section_get(s, SV("type")));
        if (sv_eq(s->name, SV("pbx")) || type_in(type, own_types, 2)) {
            return AUDIT_KIND_SIPWARDEN;
        }
        is_pjsip = is_pjsip || type_in(type, pjsip_types, sizeof(pjsip_types) / sizeof(char *));
        is_logger = is_logger || sv_eq(s->name, SV("logfiles"));
        is_sip = is_sip || type_in(type, peer_types, 3) || is_sip_general(s);
    }
    if (is_pjsip) {
        return AUDIT_KIND_PJSIP;
    }
    if (is_sip) {
        return AUDIT_KIND_SIP;
    }
    return is_logger ? AUDIT_KIND_LOGGER : AUDIT_KIND_UNKNOWN;
}

const char *audit_kind_name(enum audit_kind kind)
{
    switch (kind) {
    case AUDIT_KIND_SIP:
        return "sip.conf";
    case AUDIT_KIND_PJSIP:
        return "pjsip.conf";
    case AUDIT_KIND_LOGGER:
        return "logger.conf";
    case AUDIT_KIND_SIPWARDEN:
        return "sipwarden.conf";
    case AUDIT_KIND_UNKNOWN:
        break;
    }
    return "unknown";
}

void audit_logger_run(struct audit_report *report, const struct asterisk_conf *conf)
{
    const struct asterisk_conf_section *logfiles = asterisk_conf_find(conf, SV("logfiles"));
    static const char fix[] = "security_log => security";
    if (logfiles == NULL) {
        struct audit_where where = { .file = conf->path, .line = 0, .section = SV_NULL };
        audit_report_add(report, &where, AUDIT_WARN, "log.security",
                         "[logfiles] with security_log => security",
                         "no [logfiles] section: no log channel is configured");
        return;
    }
    for (size_t i = 0; i < logfiles->entry_count; i++) {
        const struct asterisk_conf_entry *e = &logfiles->entries[i];
        /* Levels may carry a formatter prefix ("[json]security,notice"). */
        struct sv levels = e->value;
        long bracket = sv_find_char(levels, ']');
        if (bracket >= 0) {
            levels = sv_slice(levels, (size_t)bracket + 1, levels.len);
        }
        if (e->kind == ASTERISK_CONF_VAR &&
            (audit_list_has(levels, SV("security")) || audit_list_has(levels, SV("*")))) {
            struct audit_where where = audit_where_of(logfiles, e);
            audit_report_add(report, &where, AUDIT_PASS, "log.security", NULL,
                             "channel '" SV_FMT "' logs security events", SV_ARG(e->key));
            return;
        }
    }
    struct audit_where where = audit_where_of(logfiles, NULL);
    audit_report_add(report, &where, AUDIT_WARN, "log.security", fix,
                     "no channel in [logfiles] logs the 'security' level");
}
