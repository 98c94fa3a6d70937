/*
 * Private to src/gateway: the gateway's observability and protection state (issue #3):
 * the event queue and its sinks (security log, syslog, metrics), the ban store with its
 * backends (SQLite, Redis, nftables/command actions, BanAdded/BanRemoved events), the
 * failure tracker that decides bans inline, the gate's packet budget, the housekeeping
 * thread, the control socket and the admin HTTP server.
 *
 * Life cycle, all from the main thread:
 *   gw_obs_new      (gateway_new, before the gate)  state tables, log files, database
 *   gw_gate_new     (gateway_new, reload)           a generation's gate, with the ban store,
 *                                                   the budget and the shared verdict counts
 *   gw_obs_attach   (gateway_new, after the network) metrics, event queue, control socket
 *   gw_obs_start    (gateway_run, before workers)   consumer, housekeeping, control, admin
 *   gw_obs_reopen   (SIGHUP)                        reopen the security log
 *   gw_obs_stop     (gateway_run, after workers)    stop the threads, drain the queue
 *   gw_obs_free     (gateway_free)                  free everything (bans are persisted)
 * The event sink (gw->events) may be used from any thread at any time in between: it
 * decides bans inline and queues the event; before gw_obs_attach it logs at info.
 *
 * Memory under a flood of spoofed sources: every table is allocated at start and never
 * grows; with [ban] max_entries = [ratelimit] max_sources = 65,536 (the defaults), as
 * allocated (massif): ban store 11.5 MiB, failure tracker 8.9 MiB, the gate's packet
 * budget 8 MiB and the ratelimit stage's buckets 8 MiB, the scanner's table 2.5 MiB, the
 * auth stage's nonce table 1.5 MiB, event rings 1.1 MiB per producer (10.7 MiB with 2
 * workers), the addresses accounts authenticated from 0.5 MiB (16,384, an hour each):
 * about 53 MiB in all, whatever the number of sources, plus 5.5 MiB of kernel memory for
 * the socket filter's ban map with [ban] kernel_drop (state/ban_bpf.h). Eviction is each
 * table's own (the state/ headers, policy/scanner.h). The call layer's tables come on top
 * (b2bua_new reserves about 390 MiB of address space per worker for 8,192 calls and
 * 262,144 transactions, touched only as the load grows: VmRSS 34 MiB at start);
 * tests/it/attack_flood measures VmRSS 172 MiB before and 251 MiB at most during a 200,000-packet
 * flood from 1,000 sources with 2 workers, and fails above 512 MiB or 160 MiB of growth.
 */
#ifndef SW_GATEWAY_GATEWAY_OBS_H
#define SW_GATEWAY_GATEWAY_OBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/addr.h"
#include "base/diag.h"

struct cfg;
struct gateway;
struct gate;
struct ban_store;
struct ban_entry;
struct metrics;

int gw_obs_new(struct gateway *gw, const struct cfg *cfg, struct sw_diag *diag);
struct gate *gw_gate_new(struct gateway *gw, const struct cfg *cfg);
int gw_obs_attach(struct gateway *gw, const struct cfg *cfg, struct sw_diag *diag);
int gw_obs_start(struct gateway *gw);
void gw_obs_reopen(struct gateway *gw);

/* Before a reload to `cfg` is published: what it needs that can fail (the alerts'
 * country database). Returns 0 or an error with diag entries (the reload is refused). */
int gw_obs_prepare_reload(struct gateway *gw, const struct cfg *cfg, struct sw_diag *diag);

/* After a reload to `cfg`: the alert rules and sinks follow it, and its new trunks and
 * accounts get their call series on /metrics. */
void gw_obs_reloaded(struct gateway *gw, const struct cfg *cfg);

void gw_obs_stop(struct gateway *gw);
void gw_obs_free(struct gateway *gw);

/* Did an account authenticate from `ip` within the last hour? Any thread. */
bool gw_obs_is_recently_authenticated(struct gateway *gw, const struct sw_ip *ip);

/* Hands a call's record to the call records' store (none configured: dropped). Any
 * worker. */
struct call_record;
void gw_obs_record_call(struct gateway *gw, const struct call_record *rec);

/* The ban store (NULL before gw_obs_new). Any thread. */
struct ban_store *gw_obs_bans(struct gateway *gw);

/* The spending caps' enforcement (gateway_spend.h; NULL before gw_obs_new). */
struct gw_spend;
struct gw_spend *gw_obs_spend(struct gateway *gw);

/* The last GW_RECENT_EVENTS security events (obs/recent.h of struct sw_event, call
 * progress left out), for the admin API; NULL before gw_obs_attach. Any thread. */
#define GW_RECENT_EVENTS 256
struct recent;
struct recent *gw_obs_recent_events(struct gateway *gw);

/* Calls started (series GW_MINUTE_CALLS) and failures (GW_MINUTE_FAILURES: the events
 * sw_event_kind_is_failure names) in the last minute, on monotonic seconds
 * (obs/minute.h), for the admin API; NULL before gw_obs_attach. Any thread. */
#define GW_MINUTE_CALLS    0u
#define GW_MINUTE_FAILURES 1u
struct minute_counts;
struct minute_counts *gw_obs_minute(struct gateway *gw);

/* The open and recent alerts (obs/alert_log.h); NULL before gw_obs_attach. Any thread. */
struct alert_log;
struct alert_log *gw_obs_alert_log(struct gateway *gw);

/*
 * The control socket (gateway_ctl.c): a unix stream socket at [general] control_socket,
 * mode 0600; a peer must be root or the daemon's user (SO_PEERCRED). One request line per
 * connection, answered by lines ending with "ok" or "error: <why>":
 *   list            -> "ban <ip> <start_s> <end_s|never> <offence> <auto|manual> <reason>"
 *   add <ip> [<s>]  -> a manual ban (<s> = 0 or absent: [ban] bantime with the offence
 *                      factor; "forever" = no end)
 *   del <ip>
 * gw_ctl_open binds (gateway_new), gw_ctl_start serves on its own thread, gw_ctl_close
 * stops it and removes the socket file.
 */
struct gw_ctl;

int gw_ctl_open(const char *path, struct ban_store *bans, struct gateway *gw, struct gw_ctl **out,
                struct sw_diag *diag);
int gw_ctl_start(struct gw_ctl *ctl);
void gw_ctl_close(struct gw_ctl *ctl);

/*
 * Runs one control request line (no newline) against `bans` at `now_s` and writes the
 * answer lines into `out` (cap bytes, NUL-terminated, truncated with a last "error" line
 * when it does not fit). Pure apart from the store; exposed for tests.
 */
void gw_ctl_handle(struct ban_store *bans, const char *line, int64_t now_s, char *out, size_t cap);

/*
 * Runs a "calls ..." request (the words after "calls") on every worker of `gw` and writes
 * the answer into `out` (gateway_calls.c). Control thread; waits up to 3 s for the workers.
 *   list [account A | trunk T] -> "call <id> <ringing|answered> <account> <trunk>
 *                                  <src ip:port> <caller> <dialled> <setup_s> <answer_s>"
 *                                 ("-" for an empty word), "more <n>" past 4,096, "ok"
 *   kill id ID | account A | trunk T -> "killed <n>", "ok"; BYE on both legs
 * A "spend ..." request goes to gw_spend_handle (gateway_spend.h).
 */
void gw_calls_handle(struct gateway *gw, const char *line, char *out, size_t cap);

/*
 * The same for code (the incident commands, the admin API): lists (records != NULL: up to
 * `cap` records copied, `count` of them) or ends (is_kill) the calls matching `filter` on
 * every worker; `total` is how many matched. False when a worker did not answer within
 * 3 s (the counts are then what the others said). Any thread but a worker's.
 */
struct b2bua_call_filter;
struct call_record;

struct gw_calls_list {
    struct call_record *records; /* NULL: count only */
    size_t cap;
    size_t count;
    size_t total;
};

bool gw_calls_run(struct gateway *gw, const struct b2bua_call_filter *filter, bool is_kill,
                  struct gw_calls_list *out);

/*
 * The admin HTTP server (gateway_admin.c): GET /metrics (Prometheus text format 0.0.4) on
 * `addr`, requiring "Authorization: Bearer <token>" when `token` is not NULL (copied);
 * with `gw`, the JSON API under /api/v1/ (gateway_api.h, docs/admin-api.md), which always
 * requires the token and refuses banned clients; a wrong token is an InvalidPassword
 * event. Other paths 404. libmicrohttpd serves it on its own thread, at most
 * GW_ADMIN_MAX_CONNECTIONS connections, 2 s idle timeout. Returns 0, -ENOMEM or
 * -EADDRNOTAVAIL (cannot listen). With [admin] certificate and private_key it serves HTTPS
 * only (TLS 1.2+; the files are read at start: -errno when they cannot be).
 */
struct gw_admin;

struct cfg_admin;
int gw_admin_start(const struct cfg_admin *cfg, const struct metrics *metrics, struct gateway *gw,
                   struct gw_admin **out);
void gw_admin_stop(struct gw_admin *admin);

#endif
