/*
 * The configuration (DESIGN.md "Configuration"): one INI file read with libinih into the
 * typed, validated `struct cfg` below. Loading checks everything at once and reports
 * every problem into a `struct sw_diag` as "file:line: section.key: message"; a file with
 * any error gives no cfg at all, warnings alone do not stop it.
 *
 * Ownership and lifetime: cfg_load_*() return a new struct cfg that the caller owns and
 * frees with cfg_free(). Every string and array inside belongs to it. After loading it is
 * never modified, so any thread may read it. Loading keeps no global state: a SIGHUP reload
 * builds a new cfg with cfg_load_file() while the workers still read the old one, then
 * swaps the pointers and frees the old one when no worker uses it any more.
 * Threads: a load runs in one thread; several loads may run at once.
 *
 * Conventions of the fields:
 * - A string field is NULL when the key is unset or set to the empty value ("empty =
 *   off"); otherwise it is a NUL-terminated heap string without control characters.
 * - Durations are in seconds (the files accept "300", "300s", "5m", "2h", "1d").
 * - An enum field holds the position of the word in the key's word list (keys.def), so
 *   the C enums below list their words in the same order.
 * - Secrets (`secret`, `token`) and HA1 values are never printed or logged by the loader,
 *   and cfg_free() wipes them.
 * - Paths are stored as written; a relative path is relative to the working directory of
 *   the process (as for the embedded default, which has no file of its own).
 * - Where a value comes from: cfg_section_line() and cfg_key_line() give the line of a
 *   section header and of a key in cfg->source (for tools that point at the file, such as
 *   `sipwarden audit`); trunks and accounts also keep their header line in `line`.
 *
 * Adding a key is a two-line change:
 *   1. one line in src/config/keys.def:
 *        CFG_KEY(section, name, TYPE, "default" or NULL, "help text")
 *      (CFG_KEY_FIELD(section, name, field, ...) when the key name is a C keyword);
 *   2. the field `name` in `struct cfg_<section>` below, with the C type of TYPE:
 *        STRING PATH HOST USER SECRET NUMBER HEX(n) -> char *
 *        BOOL -> bool            UINT(min, max) DURATION(min, max) -> uint32_t
 *        ENUM("a|b") -> an enum with the same words in order
 *        LIST -> struct cfg_strings   CIDRS -> struct cfg_cidrs
 *        ENDPOINT HOSTPORT(port) -> struct cfg_endpoint   LISTEN -> struct cfg_endpoints
 *        ALGORITHMS -> struct cfg_algorithms  NUMBERS -> struct cfg_numbers  DATE -> int64_t
 *   A compile-time check refuses a field whose type does not match. Then describe the key
 *   in docs/man/sipwarden.conf.5.scd: unit.config.keys fails until it is documented.
 *   Cross-key rules (one key requires another) go into src/config/check.c.
 */
#ifndef SW_CONFIG_CONFIG_H
#define SW_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/addr.h"
#include "base/diag.h"
#include "base/event.h"
#include "base/sv.h"

/* Longest DNS name plus NUL. */
#define CFG_HOST_CAP       256
/* "+" and at most 15 digits (ITU-T E.164), plus NUL. */
#define CFG_E164_CAP       17
/* Largest configuration file accepted, in bytes. */
#define CFG_FILE_MAX_BYTES 4194304u /* 4 MiB */
/* Most trunk and account sections in one file. */
#define CFG_OBJECTS_MAX    10000u

enum cfg_log_level {
    CFG_LOG_ERR,
    CFG_LOG_WARN,
    CFG_LOG_NOTICE,
    CFG_LOG_INFO,
    CFG_LOG_DEBUG,
};

/* What sanity does with a malformed request from an untrusted source. */
enum cfg_malformed_reply {
    CFG_MALFORMED_DROP,
    CFG_MALFORMED_REPLY,
};

enum cfg_tls_version {
    CFG_TLS_1_2,
    CFG_TLS_1_3,
};

enum cfg_deny_reply {
    CFG_DENY_DROP,
    CFG_DENY_403,
};

/* Same order as enum sip_digest_alg (sip/digest.h), so a cast converts. */
enum cfg_digest_algorithm {
    CFG_DIGEST_MD5,
    CFG_DIGEST_SHA256,
    CFG_DIGEST_SHA512_256,
};

enum cfg_rate_reply {
    CFG_RATE_DROP,
    CFG_RATE_503,
};

enum cfg_log_format {
    CFG_LOG_FORMAT_ASTERISK,
    CFG_LOG_FORMAT_JSON,
};

enum cfg_syslog_facility {
    CFG_FACILITY_AUTH,
    CFG_FACILITY_AUTHPRIV,
    CFG_FACILITY_DAEMON,
    CFG_FACILITY_USER,
    CFG_FACILITY_LOCAL0,
    CFG_FACILITY_LOCAL1,
    CFG_FACILITY_LOCAL2,
    CFG_FACILITY_LOCAL3,
    CFG_FACILITY_LOCAL4,
    CFG_FACILITY_LOCAL5,
    CFG_FACILITY_LOCAL6,
    CFG_FACILITY_LOCAL7,
};

enum cfg_state_backend {
    CFG_STATE_SQLITE,
    CFG_STATE_REDIS,
};

/* What happens to an outbound call whose caller ID is not one of the trunk's numbers. */
enum cfg_callerid_policy {
    CFG_CALLERID_REPLACE, /* replaced by default_number (an event tells) */
    CFG_CALLERID_REJECT,  /* 403 */
    CFG_CALLERID_ALLOW,   /* passed unchanged (an event tells) */
};

/* An inbound call whose caller ID is one of our own numbers (a classic spoofing sign). */
enum cfg_inbound_own_number {
    CFG_OWN_NUMBER_FLAG,   /* an event, the call goes on */
    CFG_OWN_NUMBER_REJECT, /* 403 */
};

/* What failed STIR/SHAKEN verification of an inbound call does. */
enum cfg_identity_policy {
    CFG_IDENTITY_TAG,     /* verstat tells the PBX; every call goes on */
    CFG_IDENTITY_REJECT,  /* failures get their RFC 8224 response (403/428/436/437/438) */
    CFG_IDENTITY_REQUIRE, /* as reject, and a call without Identity gets 428 */
};

/* Whether the PBX is recognised by its address alone or by its address and port. */
enum cfg_pbx_match_port {
    CFG_MATCH_PORT_AUTO, /* by port when the address is shared and the PBX uses UDP */
    CFG_MATCH_PORT_YES,
    CFG_MATCH_PORT_NO,
};

/* Which inbound calls from a trunk reach the PBX. */
enum cfg_inbound_numbers {
    CFG_INBOUND_OWNED, /* calls to one of the trunk's owned_numbers; others get 404 */
    CFG_INBOUND_ANY,   /* calls to any number (the PBX decides) */
};

/* The Request-URI user the PBX gets for an inbound call. */
enum cfg_inbound_to {
    CFG_INBOUND_DID, /* the dialled number as the provider sent it */
    CFG_INBOUND_E164 /* the dialled number normalised to +E.164 with country_code */
};

/* What a new call does when no rtpengine answers. */
enum cfg_rtpengine_unreachable {
    CFG_RTPENGINE_REJECT, /* 503 */
    CFG_RTPENGINE_PASS,   /* the call goes on without anchoring */
};

/* The SRTP key exchanges a side may use (media policy). */
enum cfg_media_encryption {
    CFG_MEDIA_ENCRYPTION_NONE, /* none: SRTP cannot be required of this side */
    CFG_MEDIA_ENCRYPTION_SDES, /* a=crypto keys (RFC 4568), only over TLS */
    CFG_MEDIA_ENCRYPTION_DTLS, /* DTLS-SRTP (RFC 5763) */
    CFG_MEDIA_ENCRYPTION_ANY,  /* either */
};

/* Whether a side's SDP offers must carry acceptable SRTP. */
enum cfg_srtp {
    CFG_SRTP_AUTO,     /* required when the side's signalling is TLS, optional elsewhere */
    CFG_SRTP_REQUIRED, /* refused with 488 otherwise */
    CFG_SRTP_OPTIONAL, /* plain RTP passes */
};

/* [fraud] schedule_scope: which outbound calls a schedule refuses outside its hours. */
enum cfg_schedule_scope {
    CFG_SCHEDULE_INTERNATIONAL,
    CFG_SCHEDULE_ALL,
};

/* [fraud] schedule_action: what a call outside the schedule (in its scope) gets. */
enum cfg_schedule_action {
    CFG_SCHEDULE_REFUSE, /* 403 */
    CFG_SCHEDULE_CAP,    /* passes under the after_hours_* caps */
};

/* [fraud] patterns: what sequential dialling, sweeps and short-call bursts do. */
/* [fraud] cap_ringing: what a spending cap reached does to calls still ringing. */
enum cfg_cap_ringing {
    CFG_CAP_RINGING_CANCEL,
    CFG_CAP_RINGING_ANSWER,
};

enum cfg_fraud_patterns {
    CFG_PATTERNS_BLOCK,
    CFG_PATTERNS_WARN,
    CFG_PATTERNS_OFF,
};

/* What an alert rule counts (obs/alert.h describes each). */
enum cfg_alert_metric {
    CFG_METRIC_AUTH_FAILURES,
    CFG_METRIC_CONCURRENT_CALLS,
    CFG_METRIC_INTERNATIONAL_CALLS,
    CFG_METRIC_NEW_SOURCE,
    CFG_METRIC_BANS,
    CFG_METRIC_TRUNK_REGISTRATION,
    CFG_METRIC_EVENTS_DROPPED,
    CFG_METRIC_RESTART,
    CFG_METRIC_CERTIFICATE_EXPIRY,
    CFG_METRIC_POLICY_BLOCKS,
    CFG_METRIC_NEW_COUNTRY,
    CFG_METRIC_COUNT
};

/* What an alert rule counts separately: one incident per distinct key. */
enum cfg_alert_scope {
    CFG_SCOPE_TOTAL,
    CFG_SCOPE_ACCOUNT,
    CFG_SCOPE_SOURCE,
    CFG_SCOPE_TRUNK,
};

enum cfg_alert_severity {
    CFG_SEVERITY_INFO,
    CFG_SEVERITY_MEDIUM,
    CFG_SEVERITY_HIGH,
    CFG_SEVERITY_CRITICAL,
};

enum cfg_sink_kind {
    CFG_SINK_SYSLOG,
    CFG_SINK_COMMAND,
    CFG_SINK_WEBHOOK,
    CFG_SINK_SENDMAIL,
};

enum cfg_sink_template {
    CFG_TEMPLATE_GENERIC,
    CFG_TEMPLATE_SLACK,
};

enum cfg_number_kind {
    CFG_NUMBER_EXACT,  /* "+15551230000" */
    CFG_NUMBER_RANGE,  /* "+15551230000-+15551230099": same length, first <= last */
    CFG_NUMBER_PREFIX, /* "+4930123*": every number that starts with first */
};

/* One SIP address: "transport:host[:port]" (ENDPOINT) or "host[:port]" (HOSTPORT). */
struct cfg_endpoint {
    bool is_set;                  /* false: the key was empty ("off") or has no default */
    enum sw_transport transport;  /* HOSTPORT values are SW_TRANSPORT_TCP */
    char host[CFG_HOST_CAP];      /* IP literal without brackets, or a DNS name as written */
    uint16_t port;                /* default 5060, 5061 for tls */
    bool is_ip;                   /* host is an IP literal: addr is valid */
    struct sockaddr_storage addr; /* is_ip: host and port */
};

struct cfg_endpoints {
    struct cfg_endpoint *items;
    size_t count;
};

struct cfg_strings {
    char **items;
    size_t count;
};

struct cfg_cidrs {
    struct sw_cidr *items;
    size_t count;
};

/* Ordered by preference; each algorithm at most once; never empty. */
struct cfg_algorithms {
    enum cfg_digest_algorithm items[3];
    size_t count;
};

struct cfg_number_pattern {
    enum cfg_number_kind kind;
    char first[CFG_E164_CAP]; /* EXACT: the number; RANGE: first; PREFIX: the prefix */
    char last[CFG_E164_CAP];  /* RANGE: last; otherwise "" */
};

struct cfg_numbers {
    struct cfg_number_pattern *items;
    size_t count;
};

struct cfg_general {
    struct cfg_endpoints listen; /* IP literals only; never empty */
    uint32_t workers;            /* 0 = one per core */
    bool steer_udp;              /* UDP steering by Call-ID (net/steer.h) */
    bool io_uring;               /* workers wait in an io_uring (net/uring.h) */
    enum cfg_log_level log_level;
    char *pidfile;
    char *control_socket;
    char *advertise_address; /* NULL = the address of the listener a message leaves from */
    char *default_trunk;     /* as written; see cfg->default_trunk_index */
    enum cfg_malformed_reply malformed_reply;
    uint32_t max_message_bytes;
    uint32_t max_headers;
    uint32_t max_line_bytes;
    char *user_agent; /* our User-Agent and Server value */
    uint32_t call_timeout;
    uint32_t max_call_duration;
    uint32_t max_connections; /* 0 = sized to the descriptor limit */
    uint32_t max_connections_per_source;
    uint32_t max_connections_per_unknown_source;
    uint32_t first_byte_timeout;          /* seconds */
    uint32_t idle_timeout;                /* seconds */
    uint32_t max_calls_per_worker;        /* read at start: a reload keeps the pools */
    uint32_t max_transactions_per_worker; /* read at start */
};

struct cfg_tls {
    char *certificate;
    char *private_key; /* checked: not readable by group or others */
    char *ca_file;
    enum cfg_tls_version min_version;
    char *ciphers; /* TLS 1.2 cipher list (OpenSSL syntax) */
    bool require_client_certificate;
    bool verify_server;
};

struct cfg_pbx {
    struct cfg_endpoint address;
    struct cfg_cidrs permit; /* default: the address's IP as /32 or /128 */
    struct cfg_strings hide_headers;
    bool standard_reason_phrases; /* what of the PBX's responses may leave (#9 item 8) */
    bool drop_error_bodies;
    bool sanitize_reason;
    bool sanitize_retry_after;
    bool sanitize_subject;
    char *domain;
    char *origin_header; /* NULL or "" = none */
    enum cfg_pbx_match_port match_port;
    bool is_port_matched;  /* derived: only the PBX's address AND port are the PBX */
    uint32_t rtp_port_min; /* the PBX's RTP range (firewall rules) */
    uint32_t rtp_port_max;
    enum cfg_media_encryption media_encryption;
    enum cfg_srtp srtp;
};

struct cfg_acl {
    struct cfg_cidrs permit; /* empty = every source may try (after deny) */
    struct cfg_cidrs deny;
    enum cfg_deny_reply deny_reply;
};

struct cfg_auth {
    char *realm;
    struct cfg_algorithms algorithms;
    uint32_t nonce_lifetime;
    bool challenge_pbx;
};

struct cfg_ban {
    uint32_t maxretry;
    uint32_t findtime;
    uint32_t bantime;
    uint32_t bantime_factor;
    uint32_t bantime_max;
    /* The configured ranges, then (added by the loader) every trunk's permit ranges and
     * the PBX's permit ranges: the effective list. */
    struct cfg_cidrs never_ban;
    char *nft_set;    /* "family table set", e.g. "inet sipwarden banned"; NULL = off */
    char *command;    /* absolute path of a program; NULL = off */
    bool kernel_drop; /* a BPF socket filter drops banned and denied sources */
    uint32_t max_entries;
    uint32_t ipv6_prefix; /* IPv6 sources are keyed by this many leading bits */
};

struct cfg_ratelimit {
    uint32_t register_rate; /* requests per second of one unknown source */
    uint32_t register_burst;
    uint32_t invite_rate;
    uint32_t invite_burst;
    uint32_t options_rate;
    uint32_t options_burst;
    uint32_t other_rate;
    uint32_t other_burst;
    uint32_t known_factor; /* rates and bursts times this for trunk, PBX and accounts */
    uint32_t global_rate;
    uint32_t max_sources;
    uint32_t flood_threshold;
    enum cfg_rate_reply reply;
};

struct cfg_scanner {
    bool enabled;
    struct cfg_strings user_agents; /* extra fingerprints (substrings, case-insensitive) */
    uint32_t max_distinct_users;
    uint32_t window;
};

struct cfg_log {
    char *security_log; /* NULL = off */
    enum cfg_log_format format;
    bool syslog;
    enum cfg_syslog_facility syslog_facility;
};

struct cfg_admin {
    struct cfg_endpoint listen; /* IP literal; is_set false = off */
    char *token;                /* secret; NULL = none (only allowed on loopback); read from
                                 * token_file when that is set */
    char *token_file;           /* NULL = none */
    char *certificate;          /* PEM chain; NULL = plain HTTP */
    char *private_key;          /* checked: not readable by group or others */
};

struct cfg_state {
    enum cfg_state_backend backend;
    char *path;
    struct cfg_endpoint redis;
    char *redis_prefix;
};

/* [cluster]: what a node of a cluster sharing Redis needs beyond [state] (state/cluster.h). */
struct cfg_cluster {
    char *node;                  /* NULL = "<host name>:<pid>" */
    uint32_t local_share;        /* percent of each call cap held while Redis is away */
    char *user;                  /* Redis ACL user; NULL = default */
    char *password_file;         /* NULL = no AUTH */
    bool allow_plaintext;        /* a Redis address off loopback is accepted */
    struct cfg_endpoint address; /* where peers relay INVITEs to us; !is_set = none */
    struct cfg_cidrs peers;      /* the other nodes' addresses */
    char *peer_secret_file;      /* the relayed INVITEs' signing secret; checked private */
};

/* [cdr]: call detail records (obs/cdr_store.h). */
struct cfg_cdr {
    bool enabled;
    char *database; /* NULL = the [state] path */
    char *csv;      /* Master.csv-compatible file; NULL or "" = none */
    char *node;     /* NULL = the host name */
};

/* [stir]: STIR/SHAKEN signing (outbound) and verification (inbound). */
struct cfg_stir {
    bool is_present;           /* the file has a [stir] section */
    char *signing_key;         /* checked: readable by its owner only; NULL = no signing */
    char *signing_certificate; /* optional; checked against the key at start */
    char *x5u;                 /* https URL; set exactly when signing_key is */
    char *ca_file;             /* ca_file or ca_dir set = inbound verification on */
    char *ca_dir;
    uint32_t iat_window;
    bool require_tnauthlist;
    struct cfg_strings fetch_ports; /* checked: 1 to 8 port numbers */
    bool fetch_allow_private;
    char *fetch_ca_file;
    uint32_t fetch_timeout;
    uint32_t fetch_threads;
    uint32_t cache_entries;
    uint32_t cache_ttl;
    uint32_t cache_max_ttl;
};

/* One rtpengine of [media] rtpengine (parsed by the checks from the list). */
struct cfg_rtpengine {
    struct sockaddr_storage addr; /* its ng control address (UDP) */
    uint32_t weight;              /* share of new calls, 1 by default */
};

/* Most rtpengines in [media] rtpengine. */
#define CFG_RTPENGINES_MAX 8

/* [media]: media anchoring through rtpengine. */
struct cfg_media {
    struct cfg_strings rtpengine; /* as written; empty = no anchoring */
    enum cfg_rtpengine_unreachable rtpengine_unreachable;
    uint32_t rtpengine_retransmit_ms;
    uint32_t rtpengine_tries;
    uint32_t rtpengine_ping_interval;
    uint32_t timeout; /* s; 0 = never */
    uint32_t rtp_port_min;
    uint32_t rtp_port_max;
    struct cfg_rtpengine engines[CFG_RTPENGINES_MAX]; /* parsed from rtpengine */
    size_t engine_count;
};

/* [fraud]: the toll-fraud policy's global defaults (policy/fraud.h). */
struct cfg_fraud {
    bool enabled;
    struct cfg_strings allowed_countries; /* empty = the trunk's own country */
    struct cfg_strings blocked_classes;
    bool highrisk;
    struct cfg_strings highrisk_prefixes;
    struct cfg_strings allow_prefixes;
    struct cfg_strings deny_prefixes;
    struct cfg_strings emergency_numbers;
    char *schedule;
    enum cfg_schedule_scope schedule_scope;
    char *ratedeck;
    char *max_rate_per_minute; /* a money amount, checked by the fraud stage */
    char *daily_cap;           /* money amounts: spending caps (state/spendstore.h) */
    char *monthly_cap;
    uint32_t cap_reset_hour;
    char *cap_timezone;
    enum cfg_cap_ringing cap_ringing;
    uint32_t calls_per_minute_warn;
    uint32_t calls_per_minute_block;
    uint32_t international_per_hour_warn;
    uint32_t international_per_hour_block;
    uint32_t destinations_per_hour_warn;
    uint32_t destinations_per_hour_block;
    uint32_t concurrent_international_warn;
    uint32_t concurrent_international_block;
    enum cfg_schedule_action schedule_action;
    uint32_t after_hours_max_calls;
    uint32_t after_hours_calls_per_minute;
    enum cfg_fraud_patterns patterns;
    bool disable_account;
    uint32_t wangiri_ring_max;
    uint32_t wangiri_window;
    uint32_t wangiri_entries;
    uint32_t max_tracked;
};

/* [alerts]: the built-in rules and the alert queue. */
struct cfg_alerts {
    bool builtin;             /* the built-in rules are on */
    struct cfg_strings sinks; /* sinks of the built-in rules; empty = every sink */
    uint32_t cooldown;
    uint32_t brute_force_threshold;
    uint32_t brute_force_window;
    uint32_t call_volume_peak;        /* the normal peak until history exists; 0 = rule off */
    uint32_t international_threshold; /* calls per hour; 0 = rule off */
    uint32_t new_source_days;
    char *geoip_db; /* NULL = no country rule */
    uint32_t queue_size;
};

/* The start of every object struct (the loader handles them alike). */
struct cfg_object_head {
    char *name;
    unsigned line;
};

/* [name] with type = alert: one rule. */
struct cfg_alert {
    char *name;
    unsigned line;
    enum cfg_alert_metric metric;
    enum cfg_alert_scope scope;
    uint32_t window;
    uint32_t threshold;
    enum cfg_alert_severity severity;
    struct cfg_strings sinks; /* checked: each names a sink; empty = every sink */
    uint32_t cooldown;        /* 0 = [alerts] cooldown */
    char *title;              /* default: the section name */
    bool enabled;
};

/* [name] with type = sink: where alerts go. */
struct cfg_sink {
    char *name;
    unsigned line;
    enum cfg_sink_kind kind;
    char *command; /* command: absolute path, run without a shell */
    char *url;     /* webhook: https unless allow_http */
    enum cfg_sink_template template_name;
    bool allow_http;
    char *ca_file;  /* webhook: CA bundle; NULL = the system store */
    char *sendmail; /* sendmail: the program */
    char *to;       /* sendmail: recipient */
    char *from;     /* sendmail: sender */
    uint32_t timeout;
    uint32_t retries;
};

struct cfg_trunk {
    char *name;    /* the section name */
    unsigned line; /* line of the section header, for messages */
    struct cfg_endpoint provider;
    struct cfg_cidrs permit; /* never empty: default the provider's IP */
    struct cfg_cidrs deny;
    char *domain; /* default: provider host */
    char *username;
    char *secret;
    char *ha1;
    char *ha1_sha256;
    char *auth_username; /* default: username */
    bool is_register;    /* key "register" */
    uint32_t register_expires;
    uint32_t register_retry; /* s, the first backoff after a failure */
    char *from_user;         /* default: username */
    uint32_t max_calls;
    char *country_code; /* digits, no "+" */
    struct cfg_numbers owned_numbers;
    char *default_number;
    enum cfg_callerid_policy callerid_policy;
    char *tls_server_name; /* default: provider host */
    enum cfg_inbound_own_number inbound_own_number;
    enum cfg_identity_policy identity_policy;
    enum cfg_inbound_to inbound_to;
    enum cfg_inbound_numbers inbound_numbers;
    uint32_t max_call_rate;
    /* The fraud policy's velocity overrides (policy/fraud_limits.h); a key left unset
     * (cfg_key_line() 0) takes the [fraud] value. */
    uint32_t calls_per_minute_warn;
    uint32_t calls_per_minute_block;
    uint32_t international_per_hour_warn;
    uint32_t international_per_hour_block;
    uint32_t destinations_per_hour_warn;
    uint32_t destinations_per_hour_block;
    uint32_t concurrent_international_warn;
    uint32_t concurrent_international_block;
    enum cfg_schedule_action schedule_action;
    uint32_t after_hours_max_calls;
    uint32_t after_hours_calls_per_minute;
    struct cfg_strings allowed_countries; /* the fraud policy's overrides; empty = [fraud]'s */
    struct cfg_strings blocked_classes;
    struct cfg_strings allow_prefixes;
    struct cfg_strings deny_prefixes;
    char *schedule;
    char *max_rate_per_minute;
    char *daily_cap;
    char *monthly_cap;
    bool allow_transit;
    enum cfg_media_encryption media_encryption;
    enum cfg_srtp srtp;
};

struct cfg_account {
    char *name;
    unsigned line;
    char *username; /* default: the section name; unique among accounts */
    char *secret;
    char *ha1;
    char *ha1_sha256;
    char *ha1_sha512_256;
    struct cfg_cidrs permit; /* empty = any source (after [acl]) */
    struct cfg_cidrs deny;
    uint32_t max_calls;
    /* The fraud policy's velocity overrides (policy/fraud_limits.h); a key left unset
     * (cfg_key_line() 0) takes the trunk's (or [fraud]'s) value. */
    uint32_t calls_per_minute_warn;
    uint32_t calls_per_minute_block;
    uint32_t international_per_hour_warn;
    uint32_t international_per_hour_block;
    uint32_t destinations_per_hour_warn;
    uint32_t destinations_per_hour_block;
    uint32_t concurrent_international_warn;
    uint32_t concurrent_international_block;
    enum cfg_schedule_action schedule_action;
    uint32_t after_hours_max_calls;
    uint32_t after_hours_calls_per_minute;
    bool enabled;
    int64_t rotated; /* Unix time of 00:00 UTC of that day; 0 = not given */
    char *callerid;
    enum cfg_media_encryption media_encryption;
    enum cfg_srtp srtp;
    struct cfg_strings allowed_countries; /* the fraud policy's overrides; empty = the trunk's */
    struct cfg_strings blocked_classes;
    struct cfg_strings allow_prefixes;
    struct cfg_strings deny_prefixes;
    char *schedule;
    char *max_rate_per_minute;
    char *daily_cap;
    char *monthly_cap;
};

/* Lines of every section header and key as the loader read them (config/lines.h). */
struct cfg_lines;

struct cfg {
    char *source; /* the file name or the name given to cfg_load_string */
    struct cfg_general general;
    struct cfg_tls tls;
    struct cfg_pbx pbx;
    struct cfg_acl acl;
    struct cfg_auth auth;
    struct cfg_ban ban;
    struct cfg_ratelimit ratelimit;
    struct cfg_scanner scanner;
    struct cfg_log log;
    struct cfg_admin admin;
    struct cfg_state state;
    struct cfg_cluster cluster;
    struct cfg_stir stir;
    struct cfg_media media;
    struct cfg_fraud fraud;
    struct cfg_cdr cdr;
    struct cfg_alerts alerts;
    struct cfg_trunk *trunks; /* in file order */
    size_t trunk_count;
    struct cfg_account *accounts; /* in file order */
    size_t account_count;
    struct cfg_alert *alert_rules; /* in file order */
    size_t alert_rule_count;
    struct cfg_sink *alert_sinks; /* in file order */
    size_t alert_sink_count;
    size_t default_trunk_index; /* SIZE_MAX when there is no trunk */
    struct cfg_lines *lines;    /* where each section and key is written: cfg_key_line() */
};

/* One key as keys.def describes it (for --list-keys, documentation and tests). */
struct cfg_key_info {
    const char *section;       /* "general" ... or "trunk" / "account" for objects */
    const char *name;          /* the key as written in files */
    const char *type;          /* e.g. "uint 0..256", "enum drop|reply", "duration" */
    const char *default_value; /* as text; NULL = none or derived (the help says) */
    const char *help;
};

/*
 * Loads and validates the file at `path`. Returns NULL (and at least one error in
 * `diag`) when the file cannot be read or has any error; every problem found is listed.
 * Warnings may be added on success too.
 */
struct cfg *cfg_load_file(const char *path, struct sw_diag *diag);

/*
 * Like cfg_load_file(), for the offline tools (`sipwarden firewall`, `sipwarden audit`)
 * that read the rules of a gateway on another machine: the files the configuration names
 * (TLS certificate, key and CA file; STIR key, certificate and CA files) are neither
 * opened nor checked, so they need not exist here. Everything else is validated as usual.
 * `run` and `check-config` use cfg_load_file(), which checks them.
 */
struct cfg *cfg_load_offline(const char *path, struct sw_diag *diag);

/* The same for text in memory; `name` stands for the file name in messages. */
struct cfg *cfg_load_string(const char *name, const char *text, struct sw_diag *diag);

/* The embedded default, examples/loopback.conf as compiled in (name "loopback.conf"). */
struct cfg *cfg_load_default(struct sw_diag *diag);

/* The text of the embedded default (static). */
const char *cfg_default_text(void);

/* Frees `cfg` and everything it owns, wiping secrets first; NULL is a no-op. */
void cfg_free(struct cfg *cfg);

/* The trunk whose section name is `name`, or NULL. O(trunks). */
const struct cfg_trunk *cfg_trunk_find(const struct cfg *cfg, struct sv name);

/* The account whose username is `username` (case-sensitive), or NULL. O(accounts). */
const struct cfg_account *cfg_account_find(const struct cfg *cfg, struct sv username);

/*
 * The line of cfg->source that opens `section`: a singleton section by its name
 * ("general" ... "stir") or a trunk or account by its section name. 0 when the file has
 * no such section: a singleton section that is absent has all its defaults, so findings
 * about it point at no line (say in the message that the section is absent).
 * O(trunks + accounts).
 */
unsigned cfg_section_line(const struct cfg *cfg, const char *section);

/*
 * The line of cfg->source where `key` of `section` (named as for cfg_section_line()) is
 * written; the first line for a list key written on several lines. 0 when the key is not
 * in the file (its default or a derived value applies: point at cfg_section_line()
 * instead), and for an unknown section or key. The file has no includes, so every line is
 * in cfg->source. O(trunks + accounts + keys).
 */
unsigned cfg_key_line(const struct cfg *cfg, const char *section, const char *key);

/*
 * True when the +E.164 number `number` (e.g. "+15551230042") matches one of `numbers`.
 */
bool cfg_numbers_contains(const struct cfg_numbers *numbers, struct sv number);

/*
 * Checks that the key or secret file at `path` exists, is a regular file and is readable
 * by nobody but its owner (no group or other permission bits). Returns 0, or -errno /
 * -SW_EPERM_FILE after adding an error for `file`:`line` `key` to `diag` that names the
 * file and, for too open modes, the chmod that fixes it.
 */
int cfg_check_private_file(const char *path, struct sw_diag *diag, const char *file, unsigned line,
                           const char *key);

/* The number of keys in keys.def and the key at `index` (< count), in keys.def order. */
size_t cfg_key_count(void);
const struct cfg_key_info *cfg_key_at(size_t index);

#endif
