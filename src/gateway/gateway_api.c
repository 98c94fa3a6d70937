/*
 * The admin API's answers (docs/admin-api.md): each route of obs/apireq.h read from the
 * gateway's state as a JSON document. Runs on the admin server's thread; it reads shared
 * tables (bans, registrations, call counts, the incident state, the alert and event logs)
 * and asks the workers for their calls (gateway_calls.c), never touching their internals.
 */
#include "gateway/gateway_api.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/callrec.h"
#include "base/err.h"
#include "base/event.h"
#include "base/log.h"
#include "base/time.h"
#include "call/b2bua.h"
#include "call/registrar.h"
#include "config/config.h"
#include "gateway/gateway_alerts.h"
#include "gateway/gateway_incident.h"
#include "gateway/gateway_int.h"
#include "gateway/gateway_obs.h"
#include "gateway/gateway_spend.h"
#include "obs/alert_log.h"
#include "obs/cdr.h"
#include "obs/cdr_table.h"
#include "obs/minute.h"
#include "obs/recent.h"
#include "obs/spendjson.h"
#include "state/ban.h"
#include "state/callcount.h"
#include "state/isolation.h"
#include "state/regshare.h"
#include "state/spendstore.h"

#define API_CALLS_MAX 4096u
#define API_BANS_MAX  4096u
#define API_CDR_PAGE  ((size_t)4 << 20)
#define API_DAY_MS    ((int64_t)86400 * 1000)

static int64_t started_s;

void gw_api_started(void)
{
    started_s = sw_wall_s();
}

/* ---- helpers ----------------------------------------------------------------------- */

static void set_str(json_t *obj, const char *key, const char *value)
{
    (void)json_object_set_new(obj, key, json_string(value != NULL ? value : ""));
}

static void set_int(json_t *obj, const char *key, int64_t value)
{
    (void)json_object_set_new(obj, key, json_integer((json_int_t)value));
}

static void set_bool(json_t *obj, const char *key, bool value)
{
    (void)json_object_set_new(obj, key, json_boolean(value));
}

static void reply_json(struct gw_api_reply *out, unsigned status, json_t *doc)
{
    out->status = status;
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    out->body = text != NULL ? sw_strdup(text) : NULL; /* ours: sw_free, whoever made it */
    free(text);                                        /* jansson allocates with malloc */
    json_decref(doc);
    if (out->body == NULL) {
        out->status = 500;
    }
}

void gw_api_error(struct gw_api_reply *out, unsigned status, const char *message)
{
    json_t *doc = json_object();
    set_str(doc, "error", message);
    reply_json(out, status, doc);
}

void gw_api_reply_free(struct gw_api_reply *reply)
{
    sw_free(reply->body);
    reply->body = NULL;
}

static json_t *isolation_json(enum isolation_kind kind, const char *name)
{
    struct isolation_entry e;
    if (!isolation_get(kind, sv_from_cstr(name), &e)) {
        return json_null();
    }
    json_t *obj = json_object();
    set_int(obj, "since", e.since_s);
    set_str(obj, "by", e.by);
    set_str(obj, "reason", e.reason);
    return obj;
}

static void set_time_us(json_t *obj, const char *key, uint64_t wall_us)
{
    if (wall_us == 0) {
        (void)json_object_set_new(obj, key, json_null());
    } else {
        set_int(obj, key, (int64_t)(wall_us / 1000u));
    }
}

/* ---- reading ----------------------------------------------------------------------- */

static void status(struct gateway *gw, struct gw_api_reply *out)
{
    struct gw_calls_list calls = { .records = NULL };
    struct b2bua_call_filter all = { .id = NULL };
    bool is_complete = gw_calls_run(gw, &all, false, &calls);
    struct gw_gen *gen = gw_gen_enter(gw, GW_READER_ADMIN);
    json_t *doc = json_object();
    set_str(doc, "node", gen->cfg->cdr.node);
    gw_gen_leave(gw, GW_READER_ADMIN);
    int64_t now_s = sw_wall_s();
    set_int(doc, "time", now_s);
    set_int(doc, "started", started_s);
    set_int(doc, "uptime_s", now_s - started_s);
    set_int(doc, "workers", net_group_worker_count(gw->net));
    set_int(doc, "calls", (int64_t)calls.total);
    set_bool(doc, "calls_complete", is_complete);
    set_int(doc, "registrations", (int64_t)registrar_count(now_s));
    set_int(doc, "bans", (int64_t)ban_store_active_count(gw_obs_bans(gw)));
    struct alert_log *alerts = gw_obs_alert_log(gw);
    set_int(doc, "alerts_open", alerts != NULL ? (int64_t)alert_log_open(alerts, NULL, 0) : 0);
    set_int(doc, "isolated", (int64_t)isolation_list(NULL, 0));
    struct minute_counts *minute = gw_obs_minute(gw);
    int64_t mono_s = (int64_t)(sw_mono_ms() / 1000u);
    set_int(doc, "calls_per_minute",
            minute != NULL ? (int64_t)minute_counts_sum(minute, GW_MINUTE_CALLS, mono_s) : 0);
    set_int(doc, "failures_per_minute",
            minute != NULL ? (int64_t)minute_counts_sum(minute, GW_MINUTE_FAILURES, mono_s) : 0);
    reply_json(out, 200, doc);
}

static json_t *call_json(const struct call_record *rec)
{
    json_t *obj = json_object();
    set_str(obj, "id", rec->uniqueid);
    set_str(obj, "state", rec->answer_us != 0 ? "answered" : "ringing");
    set_str(obj, "direction", rec->direction);
    set_str(obj, "account", rec->policy.account);
    set_str(obj, "trunk", rec->policy.trunk);
    set_str(obj, "source", rec->src_addr);
    set_str(obj, "caller", rec->cid_received);
    set_str(obj, "dialled", rec->dialled);
    set_str(obj, "dialled_e164", rec->policy.dialled_e164);
    set_str(obj, "country", rec->policy.country);
    set_int(obj, "rate_micro", rec->policy.rate_micro);
    set_time_us(obj, "setup", rec->setup_us);
    set_time_us(obj, "answer", rec->answer_us);
    return obj;
}

static void calls(struct gateway *gw, const struct api_request *req, struct gw_api_reply *out)
{
    struct gw_calls_list list = { .cap = API_CALLS_MAX };
    list.records = sw_calloc(API_CALLS_MAX, sizeof(*list.records));
    if (list.records == NULL) {
        gw_api_error(out, 503, "out of memory");
        return;
    }
    struct b2bua_call_filter filter = {
        .account = req->account[0] != '\0' ? req->account : NULL,
        .trunk = req->trunk[0] != '\0' ? req->trunk : NULL,
    };
    bool is_complete = gw_calls_run(gw, &filter, false, &list);
    json_t *doc = json_object();
    json_t *items = json_array();
    for (size_t i = 0; i < list.count; i++) {
        (void)json_array_append_new(items, call_json(&list.records[i]));
    }
    (void)json_object_set_new(doc, "calls", items);
    set_int(doc, "total", (int64_t)list.total);
    set_bool(doc, "complete", is_complete);
    sw_free(list.records);
    reply_json(out, 200, doc);
}

static void bans(struct gateway *gw, struct gw_api_reply *out)
{
    struct ban_entry *entries = sw_calloc(API_BANS_MAX, sizeof(*entries));
    if (entries == NULL) {
        gw_api_error(out, 503, "out of memory");
        return;
    }
    size_t total = ban_store_list(gw_obs_bans(gw), sw_wall_s(), entries, API_BANS_MAX);
    json_t *items = json_array();
    for (size_t i = 0; i < total && i < API_BANS_MAX; i++) {
        const struct ban_entry *e = &entries[i];
        char ip[SW_ADDR_STRLEN];
        sw_ip_format(&e->ip, ip, sizeof(ip));
        json_t *obj = json_object();
        set_str(obj, "ip", ip);
        set_int(obj, "start", e->start_s);
        (void)json_object_set_new(obj, "end",
                                  e->end_s == BAN_FOREVER ? json_null() : json_integer(e->end_s));
        set_int(obj, "offence", e->offence);
        set_str(obj, "source", ban_source_name(e->source));
        set_str(obj, "reason", e->reason);
        (void)json_array_append_new(items, obj);
    }
    sw_free(entries);
    json_t *doc = json_object();
    (void)json_object_set_new(doc, "bans", items);
    set_int(doc, "total", (int64_t)total);
    reply_json(out, 200, doc);
}

/* The budgets of a trunks or accounts answer (gateway_spend.h). */
struct spend_list {
    struct spend_view *views;
    size_t count;
};

/* The budget "KIND:NAME" (obs/spendjson.h, micro-units), or null when it has none yet. */
static json_t *spend_json(const struct spend_list *list, const char *kind, const char *name)
{
    char key[SPEND_KEY_CAP];
    (void)snprintf(key, sizeof(key), "%s:%s", kind, name);
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->views[i].key, key) == 0) {
            json_t *obj = spendjson_budget(&list->views[i], (int64_t)sw_mono_ms(), false);
            return obj != NULL ? obj : json_null();
        }
    }
    return json_null();
}

static json_t *trunk_json(const struct gw_gen *gen, size_t i, const struct spend_list *spend)
{
    const struct cfg_trunk *t = &gen->cfg->trunks[i];
    json_t *obj = json_object();
    set_str(obj, "name", t->name);
    set_str(obj, "provider", t->provider.host);
    set_int(obj, "port", t->provider.port);
    json_t *held = isolation_json(ISOLATION_TRUNK, t->name);
    set_str(obj, "state", json_is_null(held) ? "active" : "isolated");
    set_bool(obj, "isolated", !json_is_null(held));
    (void)json_object_set_new(obj, "isolation", held);
    set_bool(obj, "registers", t->is_register);
    if (t->is_register) {
        set_bool(obj, "registered", b2bua_trunk_is_registered(i));
    } else {
        (void)json_object_set_new(obj, "registered", json_null());
    }
    uint32_t calls = i < gen->trunk_hop_count ? callcount_value(gen->trunk_hops[i].calls) : 0;
    set_int(obj, "calls", calls);
    set_int(obj, "max_calls", t->max_calls);
    (void)json_object_set_new(obj, "spend", spend_json(spend, "trunk", t->name));
    return obj;
}

/* #15: the other node that holds the account's binding, or null (state/regshare.h). */
static json_t *cluster_binding_json(const char *username, int64_t now_s)
{
    struct regshare *shared = regshare_installed();
    struct regshare_holder holder;
    if (shared == NULL || !regshare_lookup(shared, sv_from_cstr(username), now_s, &holder)) {
        return json_null();
    }
    json_t *b = json_object();
    set_str(b, "node", holder.node);
    set_str(b, "address", holder.address);
    set_int(b, "expires", holder.expires_at_s);
    return b;
}

static json_t *account_json(const struct gw_gen *gen, size_t i, int64_t now_s,
                            const struct spend_list *spend)
{
    const struct cfg_account *a = &gen->cfg->accounts[i];
    json_t *obj = json_object();
    set_str(obj, "name", a->username);
    set_bool(obj, "enabled", a->enabled);
    json_t *held = isolation_json(ISOLATION_ACCOUNT, a->username);
    set_bool(obj, "disabled", !json_is_null(held));
    (void)json_object_set_new(obj, "isolation", held);
    struct registrar_binding binding;
    if (registrar_lookup(sv_from_cstr(a->username), now_s, &binding)) {
        json_t *b = json_object();
        char where[SW_ADDR_STRLEN];
        sw_sockaddr_format(&binding.dest.addr, where, sizeof(where));
        set_str(b, "contact", binding.contact_uri);
        set_str(b, "address", where);
        set_int(b, "expires", binding.expires_at);
        (void)json_object_set_new(obj, "binding", b);
    } else {
        (void)json_object_set_new(obj, "binding", json_null());
    }
    (void)json_object_set_new(obj, "cluster_binding", cluster_binding_json(a->username, now_s));
    set_int(obj, "calls", callcount_value(gen->accounts[i].calls));
    set_int(obj, "max_calls", a->max_calls);
    (void)json_object_set_new(obj, "spend", spend_json(spend, "account", a->username));
    return obj;
}

static void trunks_or_accounts(struct gateway *gw, bool is_trunks, struct gw_api_reply *out)
{
    struct spend_list spend = { .views = NULL };
    spend.count = gw_spend_views(gw_obs_spend(gw), &spend.views);
    struct gw_gen *gen = gw_gen_enter(gw, GW_READER_ADMIN);
    json_t *items = json_array();
    int64_t now_s = sw_wall_s();
    size_t count = is_trunks ? gen->cfg->trunk_count : gen->cfg->account_count;
    for (size_t i = 0; i < count; i++) {
        (void)json_array_append_new(items, is_trunks ? trunk_json(gen, i, &spend)
                                                     : account_json(gen, i, now_s, &spend));
    }
    gw_gen_leave(gw, GW_READER_ADMIN);
    sw_free(spend.views);
    json_t *doc = json_object();
    (void)json_object_set_new(doc, is_trunks ? "trunks" : "accounts", items);
    reply_json(out, 200, doc);
}

static json_t *alert_json(const struct alert *a)
{
    json_t *obj = json_object();
    set_str(obj, "rule", a->rule);
    set_str(obj, "title", a->title);
    set_str(obj, "key", a->key);
    set_str(obj, "detail", a->detail);
    set_str(obj, "state", alert_state_name(a->state));
    set_str(obj, "severity", alert_severity_name(a->severity));
    set_str(obj, "metric", alert_metric_name(a->metric));
    set_int(obj, "value", a->value);
    set_int(obj, "threshold", a->threshold);
    set_int(obj, "window_s", a->window_s);
    set_int(obj, "incident", (int64_t)a->incident);
    set_time_us(obj, "time", a->wall_us);
    return obj;
}

static json_t *alerts_array(const struct alert *items, size_t count)
{
    json_t *array = json_array();
    for (size_t i = 0; i < count; i++) {
        (void)json_array_append_new(array, alert_json(&items[i]));
    }
    return array;
}

static void alerts(struct gateway *gw, const struct api_request *req, struct gw_api_reply *out)
{
    struct alert_log *log = gw_obs_alert_log(gw);
    struct alert *items = sw_calloc(ALERT_LOG_OPEN, sizeof(*items));
    if (log == NULL || items == NULL) {
        sw_free(items);
        gw_api_error(out, 503, "no alert log");
        return;
    }
    json_t *doc = json_object();
    (void)json_object_set_new(doc, "open",
                              alerts_array(items, alert_log_open(log, items, ALERT_LOG_OPEN)));
    size_t limit = req->limit != 0 && req->limit < ALERT_LOG_RECENT ? req->limit : ALERT_LOG_RECENT;
    (void)json_object_set_new(doc, "recent",
                              alerts_array(items, alert_log_recent(log, items, limit)));
    sw_free(items);
    reply_json(out, 200, doc);
}

static json_t *event_json(const struct sw_event *ev)
{
    json_t *obj = json_object();
    char remote[SW_ADDR_STRLEN] = "";
    if (ev->remote.ss_family != 0) {
        sw_sockaddr_format(&ev->remote, remote, sizeof(remote));
    }
    set_time_us(obj, "time", ev->wall_us);
    set_str(obj, "kind", sw_event_kind_name(ev->kind));
    set_bool(obj, "failure", sw_event_kind_is_failure(ev->kind));
    set_str(obj, "remote", remote);
    set_str(obj, "account", ev->account);
    set_str(obj, "session", ev->session);
    set_str(obj, "user_agent", ev->user_agent);
    set_str(obj, "module", ev->module);
    set_str(obj, "detail", ev->detail);
    set_int(obj, "count", ev->count);
    return obj;
}

static void events(struct gateway *gw, const struct api_request *req, struct gw_api_reply *out)
{
    struct recent *recent = gw_obs_recent_events(gw);
    struct sw_event *items = sw_calloc(GW_RECENT_EVENTS, sizeof(*items));
    if (recent == NULL || items == NULL) {
        sw_free(items);
        gw_api_error(out, 503, "no event log");
        return;
    }
    size_t limit = req->limit != 0 && req->limit < GW_RECENT_EVENTS ? req->limit : GW_RECENT_EVENTS;
    size_t count = recent_copy(recent, items, limit);
    json_t *array = json_array();
    for (size_t i = 0; i < count; i++) {
        (void)json_array_append_new(array, event_json(&items[i]));
    }
    sw_free(items);
    json_t *doc = json_object();
    (void)json_object_set_new(doc, "events", array);
    set_int(doc, "kept", GW_RECENT_EVENTS);
    set_int(doc, "total", (int64_t)recent_total(recent));
    reply_json(out, 200, doc);
}

/* ---- call records ------------------------------------------------------------------ */

struct cdr_page {
    const struct api_request *req;
    struct sw_buf *buf;
    size_t count;
    size_t limit;
    bool is_truncated;
};

static bool row_matches(const char *want, const struct cdr_row *row, const char *column)
{
    if (want[0] == '\0') {
        return true;
    }
    size_t index = cdr_column_find(column);
    return index != SIZE_MAX && strcmp(row->values[index].text, want) == 0;
}

static int add_row(void *ctx, const struct cdr_row *row)
{
    struct cdr_page *page = ctx;
    if (!row_matches(page->req->account, row, "account") ||
        !row_matches(page->req->trunk, row, "trunk")) {
        return 0;
    }
    if (page->count == page->limit) {
        page->is_truncated = true;
        return 1; /* stop: the client asks again from the last setup time */
    }
    if (page->count > 0) {
        sw_buf_str(page->buf, ",");
    }
    size_t before = page->buf->len;
    cdr_row_json(row, page->buf);
    if (page->buf->len > before && page->buf->ptr[page->buf->len - 1] == '\n') {
        page->buf->len--; /* one object per line in the export; items of an array here */
    }
    page->count++;
    return 0;
}

static void cdrs(struct gateway *gw, const struct api_request *req, struct gw_api_reply *out)
{
    struct gw_gen *gen = gw_gen_enter(gw, GW_READER_ADMIN);
    const char *path =
        gen->cfg->cdr.database != NULL ? gen->cfg->cdr.database : gen->cfg->state.path;
    char *database = path != NULL && gen->cfg->cdr.enabled ? sw_strdup(path) : NULL;
    gw_gen_leave(gw, GW_READER_ADMIN);
    char *text = database != NULL ? sw_malloc(API_CDR_PAGE) : NULL;
    if (text == NULL) {
        sw_free(database);
        gw_api_error(out, 404, "no call records ([cdr] enabled, [cdr] database or [state] path)");
        return;
    }
    struct sw_buf buf;
    sw_buf_init(&buf, text, API_CDR_PAGE - 1);
    int64_t now_ms = (int64_t)(sw_wall_us() / 1000u);
    struct cdr_query query = {
        .database = database,
        .since_ms = req->since_ms != 0 ? req->since_ms : now_ms - API_DAY_MS,
        .until_ms = req->until_ms != 0 ? req->until_ms : INT64_MAX,
    };
    struct cdr_page page = { req, &buf, 0, req->limit != 0 ? req->limit : API_CDR_LIMIT, false };
    sw_buf_str(&buf, "{\"records\":[");
    char error[256] = "";
    int rc = cdr_table_read(&query, add_row, &page, error, sizeof(error));
    sw_buf_fmt(&buf, "],\"count\":%zu,\"truncated\":%s}", page.count,
               page.is_truncated ? "true" : "false");
    sw_free(database);
    if ((rc != 0 && rc != 1) || buf.is_overflow) {
        sw_free(text);
        gw_api_error(out, 500, rc != 0 && rc != 1 ? error : "answer too large: lower limit");
        return;
    }
    text[buf.len] = '\0';
    out->body = sw_strdup(text);
    out->status = out->body != NULL ? 200 : 500;
    sw_free(text);
}

/* ---- actions ----------------------------------------------------------------------- */

static void ban_add(struct gateway *gw, const struct api_request *req, struct gw_api_reply *out)
{
    struct sw_ip ip;
    if (!sw_ip_parse(sv_from_cstr(req->ip), &ip)) {
        gw_api_error(out, 400, "ip: not an IP address");
        return;
    }
    struct ban_request ban = { .ip = ip,
                               .source = BAN_SOURCE_MANUAL,
                               .duration_s = req->is_forever ? BAN_DURATION_FOREVER : req->seconds,
                               .reason = "manual" };
    struct ban_entry entry;
    enum ban_outcome outcome = ban_store_add(gw_obs_bans(gw), &ban, sw_wall_s(), &entry);
    if (outcome == BAN_OUTCOME_EXEMPT) {
        gw_api_error(out, 409,
                     "the address is on the never-ban list ([ban] never_ban, trunks, PBX)");
        return;
    }
    if (outcome == BAN_OUTCOME_FULL) {
        gw_api_error(out, 503, "the ban table is full");
        return;
    }
    log_notice(NULL, "admin: %s banned by the operator (API)", req->ip);
    json_t *doc = json_object();
    set_bool(doc, "ok", true);
    set_str(doc, "ip", req->ip);
    (void)json_object_set_new(doc, "end",
                              entry.end_s == BAN_FOREVER ? json_null() : json_integer(entry.end_s));
    reply_json(out, 200, doc);
}

static void ban_remove(struct gateway *gw, const struct api_request *req, struct gw_api_reply *out)
{
    struct sw_ip ip;
    if (!sw_ip_parse(sv_from_cstr(req->ip), &ip)) {
        gw_api_error(out, 400, "ip: not an IP address");
        return;
    }
    if (ban_store_del(gw_obs_bans(gw), &ip, sw_wall_s()) != 0) {
        gw_api_error(out, 404, "the address is not banned");
        return;
    }
    log_notice(NULL, "admin: ban of %s lifted by the operator (API)", req->ip);
    json_t *doc = json_object();
    set_bool(doc, "ok", true);
    reply_json(out, 200, doc);
}

static void call_kill(struct gateway *gw, const struct api_request *req, struct gw_api_reply *out)
{
    struct b2bua_call_filter filter = {
        .id = req->id[0] != '\0' ? req->id : NULL,
        .account = req->account[0] != '\0' ? req->account : NULL,
        .trunk = req->trunk[0] != '\0' ? req->trunk : NULL,
    };
    struct gw_calls_list ended = { .records = NULL };
    bool is_complete = gw_calls_run(gw, &filter, true, &ended);
    if (ended.total == 0 && is_complete) {
        gw_api_error(out, 404, "no such call");
        return;
    }
    log_notice(NULL, "admin: the operator ended %zu call(s) (API)", ended.total);
    json_t *doc = json_object();
    set_bool(doc, "ok", is_complete);
    set_int(doc, "ended", (int64_t)ended.total);
    reply_json(out, is_complete ? 200 : 504, doc);
}

static void incident(struct gateway *gw, const struct api_request *req,
                     const struct sockaddr_storage *client, struct gw_api_reply *out)
{
    static const enum gw_incident_action actions[] = {
        [API_ACCOUNT_DISABLE] = GW_ACCOUNT_DISABLE,
        [API_ACCOUNT_ENABLE] = GW_ACCOUNT_ENABLE,
        [API_TRUNK_ISOLATE] = GW_TRUNK_ISOLATE,
        [API_TRUNK_RESTORE] = GW_TRUNK_RESTORE,
    };

    bool is_account = req->route == API_ACCOUNT_DISABLE || req->route == API_ACCOUNT_ENABLE;
    char where[SW_ADDR_STRLEN] = "?";
    struct sw_ip ip;
    if (sw_ip_from_sockaddr(client, &ip)) {
        sw_ip_format(&ip, where, sizeof(where));
    }
    char by[ISOLATION_BY_CAP];
    (void)snprintf(by, sizeof(by), "operator (admin API %.40s)", where);
    struct gw_incident_request ir = {
        .action = actions[req->route],
        .name = is_account ? req->account : req->trunk,
        .by = by,
        .reason = req->reason,
        .from = client,
        .reader = GW_READER_ADMIN,
    };
    struct gw_incident_result res;
    int rc = gw_incident_run(gw, &ir, &res);
    if (rc != 0) {
        gw_api_error(out,
                     rc == -ENOENT   ? 404
                     : rc == -ENOSPC ? 503
                                     : 400,
                     rc == -ENOENT ? (is_account ? "no such account" : "no such trunk")
                                   : sw_strerror(rc));
        return;
    }
    json_t *doc = json_object();
    set_bool(doc, "ok", res.is_complete);
    set_bool(doc, "changed", res.is_changed);
    set_int(doc, "calls_ended", (int64_t)res.calls_ended);
    set_bool(doc, "registration_removed", res.had_binding);
    reply_json(out, res.is_complete ? 200 : 504, doc);
}

void gw_api_handle(struct gateway *gw, const struct api_request *req,
                   const struct sockaddr_storage *client, struct gw_api_reply *out)
{
    *out = (struct gw_api_reply){ .status = 500 };
    switch (req->route) {
    case API_STATUS:
        status(gw, out);
        return;
    case API_CALLS:
        calls(gw, req, out);
        return;
    case API_BANS:
        bans(gw, out);
        return;
    case API_TRUNKS:
    case API_ACCOUNTS:
        trunks_or_accounts(gw, req->route == API_TRUNKS, out);
        return;
    case API_ALERTS:
        alerts(gw, req, out);
        return;
    case API_EVENTS:
        events(gw, req, out);
        return;
    case API_CDRS:
        cdrs(gw, req, out);
        return;
    case API_BAN_ADD:
        ban_add(gw, req, out);
        return;
    case API_BAN_REMOVE:
        ban_remove(gw, req, out);
        return;
    case API_CALL_KILL:
        call_kill(gw, req, out);
        return;
    case API_ACCOUNT_DISABLE:
    case API_ACCOUNT_ENABLE:
    case API_TRUNK_ISOLATE:
    case API_TRUNK_RESTORE:
        incident(gw, req, client, out);
        return;
    case API_ROUTE_COUNT:
        break;
    }
    gw_api_error(out, 404, "not found");
}
