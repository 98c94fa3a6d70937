#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/err.h"
#include "config/config.h"
#include "support/unit.h"

/* A trunk and an account that pass every rule, for cases about something else. */
#define TRUNK                                                                         \
    "[prov]\ntype = trunk\nprovider = udp:192.0.2.10\nowned_numbers = +15551230000\n" \
    "default_number = +15551230000\n"
#define HA1_MD5    "95e27271f31510e991d483eef1cd5955"
#define HA1_SHA256 "0b9bbff3b58cd3153d42aeecab885567c7e4f1197297900542d8abe508f4e4e7"

static bool has_entry(const struct sw_diag *diag, enum diag_severity severity, unsigned line,
                      const char *key, const char *text)
{
    for (size_t i = 0; i < diag->count; i++) {
        const struct sw_diag_entry *e = &diag->entries[i];
        bool is_key = key == NULL ? e->key == NULL : (e->key != NULL && strcmp(e->key, key) == 0);
        if (e->severity == severity && e->line == line && is_key && e->file != NULL &&
            strcmp(e->file, "t.conf") == 0 && strstr(e->message, text) != NULL) {
            return true;
        }
    }
    return false;
}

static void print_diag(const struct sw_diag *diag)
{
    sw_diag_print(diag, stderr);
}

struct error_case {
    const char *text;
    unsigned line;
    const char *key; /* NULL: no key */
    const char *message;
};

/* Each text has exactly one error, reported with this line, key and message. */
static const struct error_case error_cases[] = {
    { "[general]\nworkers = many\n", 2, "general.workers", "bad value \"many\": not a whole" },
    { "[media]\nrtp_port_min = 40000\nrtp_port_max = 30000\n", 3, "media.rtp_port_max",
      "rtp_port_max is below rtp_port_min" },
    { "[general]\nworkers = 300\n", 2, "general.workers", "out of range (0..256)" },
    { "[general]\nwokers = 2\n", 2, "general.wokers", "did you mean 'workers'?" },
    { "[general]\nbantime = 60\n", 2, "general.bantime", "'bantime' belongs in [ban]" },
    { "[general]\nfrobnicate = 1\n", 2, "general.frobnicate", "unknown key" },
    { "[general]\nworkers = 2\n; c\nworkers = 3\n", 4, "general.workers",
      "duplicate key (first set at line 2)" },
    { "[genral]\nworkers = 2\n", 1, "[genral]", "did you mean [general]?" },
    { "[tsl]\nca_file = x\n", 1, "[tsl]", "did you mean [tls]?" },
    { "[ban]\nmxaretry = 3\n", 2, "ban.mxaretry", "did you mean 'maxretry'?" },
    { "[ban]\n[general]\n[ban]\n", 3, "[ban]", "duplicate section (first at line 1)" },
    { "workers = 2\n[general]\n", 1, "workers", "outside any section" },
    { "[general]\nworkers\n", 2, NULL, "expected 'key = value'" },
    { "[general]\nworkers: 2\n", 2, NULL, "expected 'key = value'" },
    { "[general\n", 1, NULL, "missing ]" },
    { "[general] junk\n", 1, NULL, "unexpected text" },
    { "[gen eral]\n", 1, NULL, "bad section name" },
    { "[general]\nuser_agent = a\tb\x01\n", 2, NULL, "control character" },
    { "[general]\nlog_level = loud\n", 2, "general.log_level", "expected one of err|warn" },
    { "[general]\nmalformed_reply = maybe\n", 2, "general.malformed_reply", "drop|reply" },
    { "[general]\nlisten = udp:127.0.0.1:5060, udp:example.com\n", 2, "general.listen",
      "must be an IP address" },
    { "[general]\nlisten = udp:127.0.0.1:5060, udp:127.0.0.1\n", 2, "general.listen",
      "listed twice" },
    { "[general]\nlisten =\n", 2, "general.listen", "at least one listen address" },
    { "[general]\nlisten = tls:127.0.0.1\n", 2, "general.listen",
      "needs [tls] certificate and private_key" },
    { "[general]\nmax_line_bytes = 9000\nmax_message_bytes = 8000\n", 2, "general.max_line_bytes",
      "larger than max_message_bytes" },
    { "[general]\ndefault_trunk = nope\n" TRUNK, 2, "general.default_trunk",
      "no trunk section has this name" },
    { "[tls]\nmin_version = 1.1\n", 2, "tls.min_version", "expected one of 1.2|1.3" },
    { "[tls]\ncertificate = /etc/passwd\n", 2, "tls.certificate",
      "certificate and private_key go together" },
    { "[tls]\nrequire_client_certificate = yes\n", 2, "tls.require_client_certificate",
      "needs ca_file" },
    { "[pbx]\naddress = udp:[::1\n", 2, "pbx.address", "missing ]" },
    { "[pbx]\naddress = udp:pbx.lan\n", 1, "pbx.permit", "permit is required" },
    { "[pbx]\naddress =\n", 2, "pbx.address", "PBX address is required" },
    { "[pbx]\npermit = 10.0.0.10/24\n", 2, "pbx.permit", "host bits set" },
    { "[pbx]\nhide_headers = User-Agent, X-*-Y\n", 2, "pbx.hide_headers", "not a header name" },
    { "[acl]\ndeny = 10.0.0.0/33\n", 2, "acl.deny", "not an address range" },
    /* Found by fuzz_config: a repeated list key after a refused first value. */
    { "[ban]\nnever_ban = 10.0.0.1/8\nnever_ban = 10.0.0.0/8\n", 2, "ban.never_ban",
      "host bits set" },
    { "[auth]\nalgorithms = SHA-256, SHA-256\n", 2, "auth.algorithms", "given twice" },
    { "[auth]\nrealm = a\"b\n", 2, "auth.realm", "may not contain" },
    { "[auth]\nnonce_lifetime = 2h\n", 2, "auth.nonce_lifetime", "out of range (10..3600)" },
    { "[ban]\nbantime = 30d\nbantime_max = 1d\n", 3, "ban.bantime_max", "shorter than bantime" },
    { "[ban]\nnft_set = inet sipwarden\n", 2, "ban.nft_set", "family table set" },
    { "[ban]\ncommand = ban.sh\n", 2, "ban.command", "absolute path" },
    { "[admin]\nlisten = 0.0.0.0:8080\n", 2, "admin.listen", "needs token" },
    { "[admin]\nlisten = admin.lan:8080\n", 2, "admin.listen", "IP address" },
    { "[admin]\ntoken = short\n", 2, "admin.token", "shorter than 16" },
    { "[state]\nbackend = redis\nredis =\n", 3, "state.redis", "needs the redis address" },
    { "[state]\nbackend = mysql\n", 2, "state.backend", "sqlite|redis" },
    { "[x]\nprovider = udp:192.0.2.1\n", 1, "[x]",
      "needs 'type = trunk', 'account', 'alert' or 'sink'" },
    { "[x]\n", 1, "[x]", "empty section" },
    { "[x]\ntype = phone\n", 2, "x.type", "expected trunk, account, alert or sink" },
    { TRUNK "type = trunk\n", 6, "prov.type", "type may be given once" },
    { TRUNK TRUNK, 6, "[prov]", "duplicate section (first at line 1)" },
    { "[t]\ntype = trunk\n", 1, "t.provider", "provider is required" },
    { "[t]\ntype = trunk\nprovider = udp:sip.example.com\n", 1, "t.permit",
      "permit is required when provider is a host name" },
    { "[t]\ntype = trunk\nprovider = udp:192.0.2.1\nusername = u\n", 4, "t.username",
      "username without secret" },
    { "[t]\ntype = trunk\nprovider = udp:192.0.2.1\nmedia_encryption = none\nsrtp = required\n", 5,
      "t.srtp", "needs a media_encryption other than none" },
    { "[a]\ntype = account\nsecret = longenoughsecret1\nsrtp = required\nmedia_encryption = none\n",
      4, "a.srtp", "needs a media_encryption other than none" },
    { "[media]\nrtpengine = tcp:127.0.0.1:2223\n", 2, "media.rtpengine", "expected udp:ip" },
    { "[media]\nrtpengine = udp:127.0.0.1:2223;weight=0\n", 2, "media.rtpengine",
      "weight=1..1000" },
    { "[media]\nrtpengine = udp:rtp.lan\n", 2, "media.rtpengine", "expected udp:ip" },
    { "[pbx]\nmedia_encryption = none\nsrtp = required\n", 3, "pbx.srtp",
      "needs a media_encryption other than none" },
    { "[t]\ntype = trunk\nprovider = udp:192.0.2.1\nsrtp = always\n", 4, "t.srtp",
      "auto|required|optional" },
    { "[t]\ntype = trunk\nprovider = udp:192.0.2.1\nregister = yes\n", 4, "t.register",
      "register = yes needs username" },
    { "[t]\ntype = trunk\nprovider = udp:192.0.2.1\nowned_numbers = +15551230000\n", 1,
      "t.callerid_policy", "needs default_number" },
    { TRUNK "country_code = +1\n", 6, "prov.country_code", "1 to 3 digits" },
    { TRUNK "owned_numbers = +4930123*\ndefault_number = +4930999\n", 7, "prov.default_number",
      "duplicate key" },
    { "[t]\ntype = trunk\nprovider = udp:192.0.2.1\nowned_numbers = +15551230000\n"
      "default_number = +15551239999\n",
      5, "t.default_number", "not one of owned_numbers" },
    { "[t]\ntype = trunk\nprovider = udp:192.0.2.1\nowned_numbers = +15551230000 - +1555\n", 4,
      "t.owned_numbers", "same length" },
    { "[1001]\ntype = account\n", 1, "1001.secret", "an account needs secret, ha1" },
    { "[1001]\ntype = account\nha1 = 123\n", 3, "1001.ha1", "32 hexadecimal digits" },
    { "[1001]\ntype = account\nha1 = " HA1_MD5 "\nrotated = 2023-02-30\n", 4, "1001.rotated",
      "not a real day" },
    { "[1001]\ntype = account\nha1 = " HA1_MD5 "\n[1002]\ntype = account\nusername = 1001\n"
      "ha1 = " HA1_MD5 "\n",
      4, "1002.username", "already used by [1001] (line 1)" },
    { "[auth]\nalgorithms = SHA-256\n[1001]\ntype = account\nha1 = " HA1_MD5 "\n", 3, "1001",
      "no credential of this account fits" },
    { "[a b]\n", 1, NULL, "bad section name" },
    { "[general]\nuser_agent = " /* 250 characters: more than inih's line buffer */
      "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"
      "1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901"
      "23456789012345678901234567890123456789012345678901234567\n",
      2, NULL, "line longer than" },
};

static void test_load_reports_each_error_with_line_and_key(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        const struct error_case *c = &error_cases[i];
        struct sw_diag diag;
        sw_diag_init(&diag);
        struct cfg *cfg = cfg_load_string("t.conf", c->text, &diag);
        bool is_found = has_entry(&diag, DIAG_ERROR, c->line, c->key, c->message);
        if (cfg != NULL || !is_found || diag.error_count != 1) {
            (void)fprintf(stderr, "case %zu: expected line %u key %s: %s\ngot:\n", i, c->line,
                          c->key != NULL ? c->key : "(none)", c->message);
            print_diag(&diag);
        }
        assert_null(cfg);
        assert_true(is_found);
        assert_int_equal(diag.error_count, 1);
        sw_diag_fini(&diag);
    }
}

static void test_load_reports_every_error_not_just_the_first(void **state)
{
    (void)state;
    const char *text = "[general]\n"
                       "workers = x\n"
                       "nonsense\n"
                       "log_level = loud\n"
                       "[bogus_section]\n"
                       "[pbx]\n"
                       "permit = 1.2.3.4/40\n";
    struct sw_diag diag;
    sw_diag_init(&diag);
    assert_null(cfg_load_string("t.conf", text, &diag));
    assert_int_equal(diag.error_count, 5);
    assert_true(has_entry(&diag, DIAG_ERROR, 2, "general.workers", "not a whole number"));
    assert_true(has_entry(&diag, DIAG_ERROR, 3, NULL, "expected 'key = value'"));
    assert_true(has_entry(&diag, DIAG_ERROR, 4, "general.log_level", "loud"));
    assert_true(has_entry(&diag, DIAG_ERROR, 5, "[bogus_section]", "empty section"));
    assert_true(has_entry(&diag, DIAG_ERROR, 7, "pbx.permit", "not an address range"));
    sw_diag_fini(&diag);
}

static void test_load_defaults_are_the_secure_ones(void **state)
{
    (void)state;
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_string("t.conf", "", &diag);
    assert_non_null(cfg);
    assert_int_equal(diag.count, 0);
    assert_int_equal(cfg->general.listen.count, 2);
    assert_int_equal(cfg->general.listen.items[0].transport, SW_TRANSPORT_UDP);
    assert_int_equal(cfg->general.listen.items[1].transport, SW_TRANSPORT_TCP);
    assert_string_equal(cfg->general.listen.items[1].host, "127.0.0.1");
    assert_int_equal(cfg->general.listen.items[1].port, 5060);
    assert_int_equal(cfg->general.workers, 0);
    assert_int_equal(cfg->general.log_level, CFG_LOG_NOTICE);
    assert_int_equal(cfg->general.malformed_reply, CFG_MALFORMED_DROP);
    assert_int_equal(cfg->general.max_message_bytes, 65535);
    assert_int_equal(cfg->general.call_timeout, 180);
    assert_int_equal(cfg->general.max_call_duration, 14400);
    assert_string_equal(cfg->general.control_socket, "sipwarden.ctl");
    assert_null(cfg->general.pidfile);
    assert_int_equal(cfg->tls.min_version, CFG_TLS_1_2);
    assert_true(cfg->tls.verify_server);
    assert_false(cfg->tls.require_client_certificate);
    assert_string_equal(cfg->tls.ciphers, "HIGH:!aNULL:!MD5:!DSS");
    assert_int_equal(cfg->pbx.address.port, 5090);
    assert_int_equal(cfg->pbx.permit.count, 1);
    assert_int_equal(cfg->pbx.permit.items[0].prefix_len, 128); /* 127.0.0.1/32, mapped */
    assert_int_equal(cfg->pbx.hide_headers.count, 5);
    assert_int_equal(cfg->acl.deny_reply, CFG_DENY_DROP);
    char host[256] = "";
    assert_int_equal(gethostname(host, sizeof(host)), 0);
    assert_string_equal(cfg->auth.realm, host); /* issue #9.15: not "sipwarden" */
    assert_int_equal(cfg->auth.algorithms.count, 2);
    assert_int_equal(cfg->auth.algorithms.items[0], CFG_DIGEST_SHA256);
    assert_int_equal(cfg->auth.algorithms.items[1], CFG_DIGEST_MD5);
    assert_int_equal(cfg->auth.nonce_lifetime, 300);
    assert_int_equal(cfg->ban.maxretry, 3);
    assert_int_equal(cfg->ban.bantime, 86400);
    assert_int_equal(cfg->ban.bantime_max, 2592000);
    assert_int_equal(cfg->ban.never_ban.count, 1); /* the PBX, implicitly */
    assert_null(cfg->ban.nft_set);
    assert_int_equal(cfg->ratelimit.register_rate, 5);
    assert_int_equal(cfg->ratelimit.known_factor, 20);
    assert_int_equal(cfg->ratelimit.reply, CFG_RATE_DROP);
    assert_true(cfg->scanner.enabled);
    assert_string_equal(cfg->log.security_log, "security.log");
    assert_int_equal(cfg->log.syslog_facility, CFG_FACILITY_AUTH);
    assert_true(cfg->admin.listen.is_set);
    assert_int_equal(cfg->admin.listen.port, 8080);
    assert_int_equal(cfg->state.backend, CFG_STATE_SQLITE);
    assert_int_equal(cfg->state.redis.port, 6379);
    assert_false(cfg->stir.is_present);
    assert_int_equal(cfg->media.engine_count, 0); /* no anchoring */
    assert_int_equal(cfg->media.rtpengine_unreachable, CFG_RTPENGINE_REJECT);
    assert_int_equal(cfg->pbx.srtp, CFG_SRTP_AUTO);
    assert_int_equal(cfg->pbx.media_encryption, CFG_MEDIA_ENCRYPTION_ANY);
    assert_int_equal(cfg->trunk_count, 0);
    assert_int_equal(cfg->default_trunk_index, SIZE_MAX);
    cfg_free(cfg);
    sw_diag_fini(&diag);
}

static void test_load_media_rtpengines(void **state)
{
    (void)state;
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_string("t.conf",
                                      "[media]\n"
                                      "rtpengine = udp:127.0.0.1:2223, udp:[::1]:2224;weight=3\n"
                                      "rtpengine = udp:127.0.0.2\n"
                                      "rtpengine_unreachable = pass\n",
                                      &diag);
    assert_non_null(cfg);
    assert_int_equal(cfg->media.engine_count, 3);
    assert_int_equal(sw_sockaddr_port(&cfg->media.engines[0].addr), 2223);
    assert_int_equal(cfg->media.engines[0].weight, 1);
    assert_int_equal(cfg->media.engines[1].addr.ss_family, AF_INET6);
    assert_int_equal(cfg->media.engines[1].weight, 3);
    assert_int_equal(sw_sockaddr_port(&cfg->media.engines[2].addr), 2223);
    assert_int_equal(cfg->media.rtpengine_unreachable, CFG_RTPENGINE_PASS);
    assert_int_equal(cfg->media.rtpengine_retransmit_ms, 500);
    assert_int_equal(cfg->media.rtpengine_ping_interval, 5);
    assert_int_equal(cfg->media.timeout, 60);
    assert_int_equal(cfg->media.rtp_port_min, 30000);
    assert_int_equal(cfg->media.rtp_port_max, 40000);
    cfg_free(cfg);
    sw_diag_fini(&diag);
}

static void test_load_objects_and_derived_defaults(void **state)
{
    (void)state;
    const char *text = "# comment\n"
                       "[general]\n"
                       "  listen = udp:127.0.0.1:5060 ; indented, inline comment\n"
                       "listen = udp:[::1]:5062\n"
                       "[pbx]\n"
                       "address = tcp:[2001:db8::10]\n"
                       "[ban]\n"
                       "never_ban = 198.51.100.0/24\n"
                       "[stir]\n"
                       "[prov]\n"
                       "type = trunk\n"
                       "provider = tls:203.0.113.5\n"
                       "username = acme\n"
                       "ha1_sha256 = " HA1_SHA256 "\n"
                       "owned_numbers = +15551230000-+15551230099\n"
                       "owned_numbers = +4930123*\n"
                       "default_number = +15551230042\n"
                       "register = on\n"
                       "[phone.1]\n"
                       "type = account\n"
                       "username = 1001\n"
                       "ha1 = " HA1_MD5 "\n"
                       "rotated = 2024-01-15\n"
                       "[auth]\n"
                       "realm = example.test\n";
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_string("t.conf", text, &diag);
    print_diag(&diag);
    assert_non_null(cfg);
    assert_int_equal(diag.count, 0);
    assert_int_equal(cfg->general.listen.count, 2);
    assert_string_equal(cfg->general.listen.items[1].host, "::1");
    assert_int_equal(cfg->pbx.address.port, 5060);
    assert_int_equal(cfg->pbx.permit.count, 1);
    assert_true(cfg->stir.is_present);
    assert_int_equal(cfg->trunk_count, 1);
    const struct cfg_trunk *trunk = cfg_trunk_find(cfg, SV("prov"));
    assert_non_null(trunk);
    assert_int_equal(trunk->line, 10);
    assert_int_equal(trunk->provider.port, 5061);
    assert_int_equal(trunk->permit.count, 1);
    assert_string_equal(trunk->domain, "203.0.113.5");
    assert_string_equal(trunk->tls_server_name, "203.0.113.5");
    assert_string_equal(trunk->auth_username, "acme");
    assert_string_equal(trunk->from_user, "acme");
    assert_true(trunk->is_register);
    assert_int_equal(trunk->register_expires, 3600);
    assert_string_equal(trunk->country_code, "1");
    assert_int_equal(trunk->owned_numbers.count, 2);
    assert_int_equal(cfg->default_trunk_index, 0);
    /* never_ban: the configured range, then the PBX, then the trunk. */
    assert_int_equal(cfg->ban.never_ban.count, 3);
    const struct cfg_account *account = cfg_account_find(cfg, SV("1001"));
    assert_non_null(account);
    assert_string_equal(account->name, "phone.1");
    assert_int_equal(account->max_calls, 2);
    assert_true(account->enabled);
    assert_int_equal(account->rotated, 1705276800);
    assert_null(cfg_account_find(cfg, SV("phone.1")));
    assert_null(cfg_trunk_find(cfg, SV("phone.1")));
    cfg_free(cfg);
    sw_diag_fini(&diag);
}

static void test_load_warnings_do_not_fail(void **state)
{
    (void)state;
    const char *text = "[t]\ntype = trunk\nprovider = udp:192.0.2.1\n"
                       "[1001]\ntype = account\nsecret = correct horse battery staple\n";
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_string("t.conf", text, &diag);
    assert_non_null(cfg);
    assert_int_equal(diag.error_count, 0);
    assert_true(has_entry(&diag, DIAG_WARNING, 6, "1001.secret", "plain-text secret"));
    assert_true(has_entry(&diag, DIAG_WARNING, 1, "t.owned_numbers", "no owned_numbers"));
    for (size_t i = 0; i < diag.count; i++) {
        assert_null(strstr(diag.entries[i].message, "horse"));
    }
    assert_string_equal(cfg->accounts[0].username, "1001");
    cfg_free(cfg);
    sw_diag_fini(&diag);
}

/* Issue #9.15: the realm defaulted to "sipwarden", naming the product to every scanner. */
static void test_load_realm_defaults_to_the_advertised_address(void **state)
{
    (void)state;
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg =
        cfg_load_string("t.conf", "[general]\nadvertise_address = sip.example.net\n", &diag);
    assert_non_null(cfg);
    assert_string_equal(cfg->auth.realm, "sip.example.net");
    cfg_free(cfg);
    cfg = cfg_load_string("t.conf", "[auth]\nrealm = voip.example.com\n", &diag);
    assert_non_null(cfg);
    assert_string_equal(cfg->auth.realm, "voip.example.com");
    cfg_free(cfg);
    assert_int_equal(diag.error_count, 0);
    assert_int_equal(diag.count, 0);
    /* HA1 hashes with a derived realm: valid on this host only, so a warning. */
    static const char hashed[] = "[1001]\ntype = account\nha1 = 95e27271f31510e991d483eef1cd5955\n";
    cfg = cfg_load_string("t.conf", hashed, &diag);
    assert_non_null(cfg);
    assert_true(has_entry(&diag, DIAG_WARNING, 1, "1001", "depend on the realm"));
    cfg_free(cfg);
    sw_diag_fini(&diag);
}

static void test_load_several_trunks_need_default_trunk(void **state)
{
    (void)state;
    const char *two = "[a]\ntype = trunk\nprovider = udp:192.0.2.1\n"
                      "[b]\ntype = trunk\nprovider = udp:192.0.2.2\n";
    struct sw_diag diag;
    sw_diag_init(&diag);
    assert_null(cfg_load_string("t.conf", two, &diag));
    assert_true(has_entry(&diag, DIAG_ERROR, 4, "general.default_trunk", "several trunks"));
    sw_diag_fini(&diag);
    sw_diag_init(&diag);
    char text[512];
    (void)snprintf(text, sizeof(text), "[general]\ndefault_trunk = b\n%s", two);
    struct cfg *cfg = cfg_load_string("t.conf", text, &diag);
    assert_non_null(cfg);
    assert_int_equal(cfg->default_trunk_index, 1);
    cfg_free(cfg);
    sw_diag_fini(&diag);
}

static void test_load_default_is_the_loopback_example(void **state)
{
    (void)state;
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_default(&diag);
    assert_non_null(cfg);
    assert_int_equal(diag.count, 0);
    assert_string_equal(cfg->source, "loopback.conf");
    assert_int_equal(cfg->trunk_count, 1);
    assert_int_equal(cfg->account_count, 1);
    assert_string_equal(cfg->trunks[0].name, "provider");
    assert_string_equal(cfg->trunks[0].provider.host, "127.0.0.2");
    assert_string_equal(cfg->accounts[0].username, "1001");
    assert_int_equal(cfg->pbx.address.port, 5090);
    cfg_free(cfg);
    sw_diag_fini(&diag);

    const char *source = getenv("SW_SOURCE_DIR"); /* NOLINT(concurrency-mt-unsafe) */
    assert_non_null(source);
    char path[4096];
    (void)snprintf(path, sizeof(path), "%s/examples/loopback.conf", source);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char text[65536];
    size_t len = fread(text, 1, sizeof(text) - 1, f);
    (void)fclose(f);
    text[len] = '\0';
    assert_string_equal(cfg_default_text(), text);
}

/* Writes `text` to a new file of mode `mode` under `dir`; returns its path in `path`. */
static void write_file(const char *dir, const char *name, const char *text, mode_t mode, char *path,
                       size_t cap)
{
    (void)snprintf(path, cap, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(close(fd), 0);
}

static void test_private_file_permissions(void **state)
{
    (void)state;
    char dir[] = "/tmp/sw_config_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char key_path[512];
    char cert_path[512];
    write_file(dir, "key.pem", "not a real key\n", 0600, key_path, sizeof(key_path));
    write_file(dir, "cert.pem", "not a real certificate\n", 0644, cert_path, sizeof(cert_path));
    struct sw_diag diag;
    sw_diag_init(&diag);
    assert_int_equal(cfg_check_private_file(key_path, &diag, "t.conf", 3, "tls.private_key"), 0);
    assert_int_equal(diag.count, 0);
    assert_int_equal(cfg_check_private_file(cert_path, &diag, "t.conf", 3, "tls.private_key"),
                     -SW_EPERM_FILE);
    char expected[600];
    (void)snprintf(expected, sizeof(expected), "(mode 644): chmod 600 %s", cert_path);
    assert_true(has_entry(&diag, DIAG_ERROR, 3, "tls.private_key", expected));
    char missing[600];
    (void)snprintf(missing, sizeof(missing), "%s/none.pem", dir);
    assert_true(cfg_check_private_file(missing, &diag, "t.conf", 4, "k") < 0);
    assert_true(has_entry(&diag, DIAG_ERROR, 4, "k", "cannot use"));
    assert_true(cfg_check_private_file(dir, &diag, "t.conf", 5, "k") < 0);
    assert_true(has_entry(&diag, DIAG_ERROR, 5, "k", "not a regular file"));
    sw_diag_fini(&diag);

    /* Through the loader: a TLS listener with a private key others can read is refused. */
    char text[2048];
    (void)snprintf(text, sizeof(text),
                   "[general]\nlisten = tls:127.0.0.1\n[tls]\ncertificate = %s\n"
                   "private_key = %s\n",
                   cert_path, key_path);
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_string("t.conf", text, &diag);
    assert_non_null(cfg);
    assert_int_equal(cfg->general.listen.items[0].port, 5061);
    cfg_free(cfg);
    sw_diag_fini(&diag);
    assert_int_equal(chmod(key_path, 0640), 0);
    sw_diag_init(&diag);
    assert_null(cfg_load_string("t.conf", text, &diag));
    assert_true(has_entry(&diag, DIAG_ERROR, 5, "tls.private_key", "chmod 600"));
    sw_diag_fini(&diag);

    /* A configuration file with secrets that others can read gets a warning. */
    char conf_path[512];
    write_file(dir, "open.conf", "[auth]\nrealm = r\n[1001]\ntype = account\nha1 = " HA1_MD5 "\n",
               0644, conf_path, sizeof(conf_path));
    sw_diag_init(&diag);
    cfg = cfg_load_file(conf_path, &diag);
    assert_non_null(cfg);
    assert_int_equal(diag.error_count, 0);
    assert_int_equal(diag.count, 1);
    assert_non_null(strstr(diag.entries[0].message, "chmod o-rwx"));
    assert_int_equal(diag.entries[0].line, 5);
    cfg_free(cfg);
    sw_diag_fini(&diag);
    sw_diag_init(&diag);
    assert_null(cfg_load_file(missing, &diag));
    assert_int_equal(diag.error_count, 1);
    sw_diag_fini(&diag);

    assert_int_equal(unlink(key_path), 0);
    assert_int_equal(unlink(cert_path), 0);
    assert_int_equal(unlink(conf_path), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* An error at `line` of any file, for `key`, whose message contains `text`. */
static bool has_error_at(const struct sw_diag *diag, unsigned line, const char *key,
                         const char *text)
{
    for (size_t i = 0; i < diag->count; i++) {
        const struct sw_diag_entry *e = &diag->entries[i];
        if (e->severity == DIAG_ERROR && e->line == line && e->key != NULL &&
            strcmp(e->key, key) == 0 && strstr(e->message, text) != NULL) {
            return true;
        }
    }
    return false;
}

static void test_load_offline_ignores_the_named_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/sw_config_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char conf_path[512];
    write_file(dir, "elsewhere.conf",
               "[general]\nlisten = tls:127.0.0.1:5061\n"
               "[tls]\ncertificate = /nonexistent/sw/cert.pem\n"
               "private_key = /nonexistent/sw/key.pem\n"
               "[stir]\nsigning_key = /nonexistent/sw/stir.key\n"
               "x5u = https://cert.example/sti.pem\nca_file = /nonexistent/sw/ca.pem\n",
               0600, conf_path, sizeof(conf_path));
    struct sw_diag diag;
    sw_diag_init(&diag);
    /* run and check-config need the files: one error per missing file, by line and key. */
    assert_null(cfg_load_file(conf_path, &diag));
    assert_int_equal(diag.error_count, 4);
    assert_true(has_error_at(&diag, 5, "tls.private_key", "cannot use /nonexistent/sw/key.pem"));
    sw_diag_fini(&diag);
    /* The offline tools read the same rules without them. */
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_offline(conf_path, &diag);
    assert_non_null(cfg);
    assert_int_equal(diag.error_count, 0);
    assert_string_equal(cfg->tls.private_key, "/nonexistent/sw/key.pem");
    cfg_free(cfg);
    sw_diag_fini(&diag);
    /* Offline is not lenient about anything else. */
    write_file(dir, "elsewhere.conf", "[tls]\ncertificate = /nonexistent/sw/cert.pem\n", 0600,
               conf_path, sizeof(conf_path));
    sw_diag_init(&diag);
    assert_null(cfg_load_offline(conf_path, &diag));
    assert_true(has_error_at(&diag, 2, "tls.certificate", "go together"));
    sw_diag_fini(&diag);
    assert_int_equal(unlink(conf_path), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void test_load_survives_allocation_failures(void **state)
{
    (void)state;
    /* Fail each allocation in turn: the load fails cleanly (no leak, no crash) or succeeds. */
    for (unsigned n = 1; n < 400; n++) {
        char value[16];
        (void)snprintf(value, sizeof(value), "%u", n);
        assert_int_equal(setenv("SW_ALLOC_FAIL_AT", value, 1), 0); /* NOLINT */
        sw_alloc_reset_failure();
        struct sw_diag diag;
        sw_diag_init(&diag);
        struct cfg *cfg = cfg_load_default(&diag);
        cfg_free(cfg);
        sw_diag_fini(&diag);
    }
    assert_int_equal(unsetenv("SW_ALLOC_FAIL_AT"), 0); /* NOLINT */
    sw_alloc_reset_failure();
}

/*
 * #15: the Redis password comes from a file only its owner may read (file:line of the
 * key otherwise), a user without it is refused, and Redis off loopback is refused unless
 * allow_plaintext says so (the link must go through a local TLS tunnel).
 */
static void test_cluster_login_and_plaintext(void **state)
{
    (void)state;
    char dir[] = "/tmp/sw_config_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char pw_path[512];
    write_file(dir, "redis.pw", "s3cret-redis-pw\n", 0600, pw_path, sizeof(pw_path));
    char text[2048];
    (void)snprintf(text, sizeof(text),
                   "[state]\nbackend = redis\nredis = 127.0.0.1:6380\n[cluster]\n"
                   "user = sipwarden\npassword_file = %s\n",
                   pw_path);
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_string("t.conf", text, &diag);
    assert_non_null(cfg);
    assert_string_equal(cfg->cluster.user, "sipwarden");
    assert_int_equal(cfg->cluster.local_share, 50);
    cfg_free(cfg);
    sw_diag_fini(&diag);

    assert_int_equal(chmod(pw_path, 0640), 0);
    sw_diag_init(&diag);
    assert_null(cfg_load_string("t.conf", text, &diag));
    assert_true(has_entry(&diag, DIAG_ERROR, 6, "cluster.password_file", "chmod 600"));
    sw_diag_fini(&diag);

    sw_diag_init(&diag);
    assert_null(cfg_load_string("t.conf", "[cluster]\nuser = sipwarden\n", &diag));
    assert_true(has_entry(&diag, DIAG_ERROR, 2, "cluster.user", "needs password_file"));
    sw_diag_fini(&diag);

    static const char remote[] = "[state]\nbackend = redis\nredis = 192.0.2.10:6379\n";
    sw_diag_init(&diag);
    assert_null(cfg_load_string("t.conf", remote, &diag));
    assert_true(has_entry(&diag, DIAG_ERROR, 3, "state.redis", "TLS tunnel"));
    sw_diag_fini(&diag);
    sw_diag_init(&diag);
    cfg = cfg_load_string("t.conf",
                          "[state]\nbackend = redis\nredis = 192.0.2.10:6379\n"
                          "[cluster]\nallow_plaintext = yes\n",
                          &diag);
    assert_non_null(cfg);
    cfg_free(cfg);
    sw_diag_fini(&diag);

    assert_int_equal(unlink(pw_path), 0);
    assert_int_equal(rmdir(dir), 0);
}

/*
 * #15: relaying calls between nodes needs the peers, a private secret and Redis; a
 * complete [cluster] loads.
 */
static void test_cluster_peers(void **state)
{
    (void)state;
    char dir[] = "/tmp/sw_config_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char secret_path[512];
    write_file(dir, "peer.secret", "peer-secret\n", 0600, secret_path, sizeof(secret_path));
    char text[2048];
    (void)snprintf(text, sizeof(text),
                   "[state]\nbackend = redis\n[cluster]\naddress = udp:127.0.0.11:5070\n"
                   "peers = 127.0.0.11/32, 127.0.0.12/32\npeer_secret_file = %s\n",
                   secret_path);
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_string("t.conf", text, &diag);
    assert_non_null(cfg);
    assert_true(cfg->cluster.address.is_set);
    assert_int_equal(cfg->cluster.address.port, 5070);
    assert_int_equal(cfg->cluster.peers.count, 2);
    cfg_free(cfg);
    sw_diag_fini(&diag);

    assert_int_equal(chmod(secret_path, 0644), 0);
    sw_diag_init(&diag);
    assert_null(cfg_load_string("t.conf", text, &diag));
    assert_true(has_entry(&diag, DIAG_ERROR, 6, "cluster.peer_secret_file", "chmod 600"));
    sw_diag_fini(&diag);

    sw_diag_init(&diag);
    assert_null(cfg_load_string(
        "t.conf", "[state]\nbackend = redis\n[cluster]\naddress = udp:127.0.0.11:5070\n", &diag));
    assert_true(has_entry(&diag, DIAG_ERROR, 4, "cluster.address", "needs peers"));
    sw_diag_fini(&diag);
    assert_int_equal(unlink(secret_path), 0);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_reports_each_error_with_line_and_key),
        cmocka_unit_test(test_load_reports_every_error_not_just_the_first),
        cmocka_unit_test(test_load_defaults_are_the_secure_ones),
        cmocka_unit_test(test_load_objects_and_derived_defaults),
        cmocka_unit_test(test_load_media_rtpengines),
        cmocka_unit_test(test_load_warnings_do_not_fail),
        cmocka_unit_test(test_load_realm_defaults_to_the_advertised_address),
        cmocka_unit_test(test_load_several_trunks_need_default_trunk),
        cmocka_unit_test(test_load_default_is_the_loopback_example),
        cmocka_unit_test(test_private_file_permissions),
        cmocka_unit_test(test_cluster_login_and_plaintext),
        cmocka_unit_test(test_cluster_peers),
        cmocka_unit_test(test_load_offline_ignores_the_named_files),
        cmocka_unit_test(test_load_survives_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
