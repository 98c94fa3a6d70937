#include "tools/incident_report.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/diag.h"
#include "base/err.h"
#include "base/sv.h"
#include "config/config.h"
#include "number/money.h"
#include "obs/cdr.h"
#include "obs/cdr_table.h"
#include "obs/filehash.h"
#include "state/alert_sqlite.h"
#include "state/ban_sqlite.h"
#include "state/sqlutil.h"
#include "tools/cdr.h"
#include "tools/incident_int.h"

#define DEFAULT_CONFIG "/etc/sipwarden/sipwarden.conf"
#define SECLOG_LINE    8192
#define ROW_CAP        8192

static const char *const bundle_files[] = {
    "calls.csv",     "calls.json", "security-events.log",
    "bans.csv",      "alerts.csv", "config-history.csv",
    "config.sha256", "summary.md", "carrier-notice.txt",
};
#define BUNDLE_COUNT (sizeof(bundle_files) / sizeof(bundle_files[0]))

static void print_usage(FILE *out)
{
    (void)fprintf(out,
                  "usage: sipwarden incident report --since T [--until T]\n"
                  "                 [--account A | --trunk T] --out DIR [-c FILE]\n"
                  "T: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z] (UTC) or seconds since the epoch.\n"
                  "FILE: the daemon's configuration (default %s).\n",
                  DEFAULT_CONFIG);
}

/* Column indices of the call records, looked up once. */
struct columns {
    size_t account, trunk, src_addr, dialled, dialled_e164, country, billsec, cost, setup_ms;
    size_t answer_ms, disposition, cid_received, final_code, rate;
};

struct collect {
    struct incident *inc;
    struct columns col;
    const char *username; /* of --account, as the records and events name it */
    FILE *csv;
    FILE *json;
    FILE *out; /* the current file of a callback that writes one */
    bool is_write_error;
};

static const char *text_at(const struct cdr_row *row, size_t column)
{
    return column < CDR_COLUMNS_MAX ? row->values[column].text : "";
}

static int64_t num_at(const struct cdr_row *row, size_t column)
{
    return column < CDR_COLUMNS_MAX ? row->values[column].num : 0;
}

static void find_columns(struct columns *col)
{
    col->account = cdr_column_find("account");
    col->trunk = cdr_column_find("trunk");
    col->src_addr = cdr_column_find("src_addr");
    col->dialled = cdr_column_find("dialled");
    col->dialled_e164 = cdr_column_find("dialled_e164");
    col->country = cdr_column_find("country");
    col->billsec = cdr_column_find("billsec");
    col->cost = cdr_column_find("cost_micro");
    col->setup_ms = cdr_column_find("setup_ms");
    col->answer_ms = cdr_column_find("answer_ms");
    col->disposition = cdr_column_find("disposition");
    col->cid_received = cdr_column_find("cid_received");
    col->final_code = cdr_column_find("final_code");
    col->rate = cdr_column_find("rate_micro");
}

/* "192.0.2.1:5060" or "[2001:db8::1]:5060" -> the address alone. */
static void ip_of(const char *addr, char *out, size_t cap)
{
    struct sv s = sv_from_cstr(addr);
    if (s.len > 0 && s.ptr[0] == '[') {
        long end = sv_find_char(s, ']');
        s = end > 0 ? sv_slice(s, 1, (size_t)end - 1) : s;
    } else {
        long colon = sv_find_char(s, ':');
        s = colon >= 0 ? sv_slice(s, 0, (size_t)colon) : s;
    }
    if (!sv_copy_cstr(s, out, cap)) {
        out[0] = '\0';
    }
}

/* The record's cost, else its rate per minute times its billed seconds. */
static int64_t cost_of(const struct columns *col, const struct cdr_row *row)
{
    int64_t cost = num_at(row, col->cost);
    int64_t rate = num_at(row, col->rate);
    int64_t billsec = num_at(row, col->billsec);
    if (cost != 0 || rate <= 0 || billsec <= 0 || rate > INT64_MAX / billsec) {
        return cost;
    }
    return rate * billsec / 60;
}

static void note_call(struct incident *inc, const struct columns *col, const struct cdr_row *row)
{
    bool is_answered = num_at(row, col->answer_ms) != 0;
    int64_t billsec = num_at(row, col->billsec);
    int64_t cost = cost_of(col, row);
    inc->calls++;
    inc->answered += is_answered ? 1 : 0;
    inc->billsec += billsec;
    inc->cost_micro += cost;
    const char *e164 = text_at(row, col->dialled_e164);
    const char *country = text_at(row, col->country);
    char ip[64];
    ip_of(text_at(row, col->src_addr), ip, sizeof(ip));
    struct incident_tally_item *items[] = {
        incident_tally_get(&inc->destinations, e164[0] != '\0' ? e164 : text_at(row, col->dialled)),
        incident_tally_get(&inc->countries, country[0] != '\0' ? country : "unknown"),
        incident_tally_get(&inc->call_sources, ip),
        incident_tally_get(&inc->trunks, text_at(row, col->trunk)),
        incident_tally_get(&inc->accounts, text_at(row, col->account)),
    };
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
        if (items[i] != NULL) {
            items[i]->count++;
            items[i]->answered += is_answered ? 1 : 0;
            items[i]->billsec += billsec;
            items[i]->cost_micro += cost;
        }
    }
    if (items[0] != NULL && items[0]->note[0] == '\0') {
        (void)snprintf(items[0]->note, sizeof(items[0]->note), "%s", country);
    }
}

static void note_excerpt(struct incident *inc, const struct columns *col, const struct cdr_row *row)
{
    if (inc->excerpt_count == INCIDENT_EXCERPT_MAX) {
        return;
    }
    char start[32];
    incident_format_ms(num_at(row, col->setup_ms), start, sizeof(start));
    const char *e164 = text_at(row, col->dialled_e164);
    char cost[MONEY_FORMAT_CAP];
    (void)snprintf(inc->excerpt[inc->excerpt_count++], sizeof(inc->excerpt[0]),
                   "%s  %-16.16s  %-18.18s  %-3.3s  %-10.10s  %6lld s  %s", start,
                   text_at(row, col->cid_received),
                   e164[0] != '\0' ? e164 : text_at(row, col->dialled), text_at(row, col->country),
                   text_at(row, col->disposition), (long long)num_at(row, col->billsec),
                   money_format(cost_of(col, row), cost, sizeof(cost)));
}

static bool row_in_scope(const struct collect *c, const struct cdr_row *row)
{
    const struct incident *inc = c->inc;
    const char *account = text_at(row, c->col.account);
    if (inc->account != NULL && strcmp(account, c->username) != 0 &&
        strcmp(account, inc->account) != 0) {
        return false;
    }
    return inc->trunk == NULL || strcmp(text_at(row, c->col.trunk), inc->trunk) == 0;
}

static void write_buf(struct collect *c, FILE *out, const struct sw_buf *buf)
{
    if (buf->is_overflow || fwrite(buf->ptr, 1, buf->len, out) != buf->len) {
        c->is_write_error = true;
    }
}

static int on_call(void *ctx, const struct cdr_row *row)
{
    struct collect *c = ctx;
    if (!row_in_scope(c, row)) {
        return 0;
    }
    note_call(c->inc, &c->col, row);
    note_excerpt(c->inc, &c->col, row);
    char line[ROW_CAP];
    struct sw_buf buf;
    sw_buf_init(&buf, line, sizeof(line));
    cdr_row_csv(row, &buf);
    write_buf(c, c->csv, &buf);
    sw_buf_init(&buf, line, sizeof(line));
    cdr_row_json(row, &buf);
    write_buf(c, c->json, &buf);
    return c->is_write_error ? -SW_EIO : 0;
}

/* ---- security events ------------------------------------------------------------------ */

static bool event_in_scope(const struct collect *c, const struct incident_event *ev)
{
    const struct incident *inc = c->inc;
    if (ev->time_ms < inc->since_ms || ev->time_ms >= inc->until_ms) {
        return false;
    }
    if (inc->account == NULL) {
        return true;
    }
    if (strcmp(ev->account, c->username) == 0) {
        return true;
    }
    for (size_t i = 0; i < inc->call_sources.count; i++) {
        if (strcmp(inc->call_sources.items[i].key, ev->remote) == 0) {
            return true;
        }
    }
    return false;
}

static void note_event(struct incident *inc, const struct incident_event *ev)
{
    inc->events++;
    struct incident_tally_item *kind = incident_tally_get(&inc->event_kinds, ev->kind);
    if (kind != NULL) {
        kind->count++;
    }
    if (!ev->is_anomalous) {
        return;
    }
    inc->anomalies++;
    inc->blocked_calls += strcmp(ev->kind, "FraudBlock") == 0 || strcmp(ev->kind, "PolicyHit") == 0;
    inc->bans_added += strcmp(ev->kind, "BanAdded") == 0;
    struct incident_tally_item *source = incident_tally_get(&inc->event_sources, ev->remote);
    if (source != NULL) {
        source->count++;
        if (source->note[0] == '\0') {
            (void)snprintf(source->note, sizeof(source->note), "%s", ev->kind);
        }
    }
    if (!inc->has_first || ev->time_ms < inc->first.time_ms) {
        inc->first = *ev;
        inc->has_first = true;
    }
}

/* Copies the security log's lines of the span into `out` and counts them. */
static int read_seclog(struct collect *c, const char *path, FILE *out)
{
    FILE *in = fopen(path, "re");
    if (in == NULL) {
        return errno == ENOENT ? -SW_ENOTFOUND : -errno;
    }
    char line[SECLOG_LINE];
    while (fgets(line, sizeof(line), in) != NULL) {
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] != '\n' && !feof(in)) {
            int ch;
            while ((ch = fgetc(in)) != EOF && ch != '\n') {
                /* A line longer than any the gateway writes is no event: skip the rest. */
            }
            continue;
        }
        struct incident_event ev;
        if (!incident_event_parse(sv_make(line, len), &ev) || !event_in_scope(c, &ev)) {
            continue;
        }
        note_event(c->inc, &ev);
        if (fwrite(line, 1, len, out) != len) {
            c->is_write_error = true;
        }
    }
    bool is_error = ferror(in) != 0;
    (void)fclose(in); /* read-only */
    return is_error ? -SW_EIO : 0;
}

/* ---- bans ----------------------------------------------------------------------------- */

static int on_ban(void *ctx, const struct ban_sqlite_row *row)
{
    struct collect *c = ctx;
    char start[32];
    char end[32];
    incident_format_ms(row->start_s * 1000, start, sizeof(start));
    incident_format_ms(row->end_s * 1000, end, sizeof(end));
    c->inc->bans++;
    if (fprintf(c->out, "%s,%s,%s,%lld,%s,\"%s\"\n", row->ip, start, end, (long long)row->offence,
                row->source, row->reason) < 0) {
        c->is_write_error = true;
    }
    return 0;
}

/* ---- alerts --------------------------------------------------------------------------- */

/* Writes one CSV field in double quotes (a quote doubled), then `end`. */
static void put_csv_text(FILE *out, const char *text, char end)
{
    (void)fputc('"', out);
    for (const char *p = text; *p != '\0'; p++) {
        (void)fputc(*p == '\n' || *p == '\r' ? ' ' : *p, out);
        if (*p == '"') {
            (void)fputc('"', out);
        }
    }
    (void)fputc('"', out);
    (void)fputc(end, out);
}

static void note_alert(struct incident *inc, const struct alert_sqlite_alert *alert)
{
    inc->alerts++;
    inc->alerts_firing += strcmp(alert->state, "firing") == 0;
    if (inc->alert_row_count == INCIDENT_ALERT_ROWS) {
        return;
    }
    char when[32];
    incident_format_ms(alert->time_ms, when, sizeof(when));
    incident_alert_row(inc->alert_rows[inc->alert_row_count++], sizeof(inc->alert_rows[0]), when,
                       alert);
}

static int on_alert(void *ctx, const struct alert_sqlite_alert *alert)
{
    struct collect *c = ctx;
    note_alert(c->inc, alert);
    char when[32];
    incident_format_ms(alert->time_ms, when, sizeof(when));
    (void)fprintf(c->out, "%s,", when);
    const char *const texts[] = { alert->rule, alert->state, alert->severity, alert->key };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        put_csv_text(c->out, texts[i], ',');
    }
    (void)fprintf(c->out, "%lld,", (long long)alert->value);
    put_csv_text(c->out, alert->title, ',');
    put_csv_text(c->out, alert->detail, '\n');
    c->is_write_error = c->is_write_error || ferror(c->out) != 0;
    return 0;
}

/* ---- configuration loads --------------------------------------------------------------- */

static int on_config(void *ctx, int64_t time_ms, const char *path, const char *sha256)
{
    struct collect *c = ctx;
    const char *how = incident_config_note(c->inc, time_ms, path, sha256);
    char when[32];
    incident_format_ms(time_ms, when, sizeof(when));
    (void)fprintf(c->out, "%s,%s,%s,", when, how, sha256);
    put_csv_text(c->out, path, '\n');
    c->is_write_error = c->is_write_error || ferror(c->out) != 0;
    return 0;
}

/* ---- files ---------------------------------------------------------------------------- */

static FILE *open_out(const char *dir, const char *name)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd != -1 ? fdopen(fd, "w") : NULL;
    if (fd != -1 && f == NULL) {
        (void)close(fd);
    }
    return f;
}

static bool close_out(FILE *f)
{
    return f != NULL && fclose(f) == 0;
}

static int write_sums(const char *dir)
{
    FILE *out = open_out(dir, "SHA256SUMS");
    bool is_ok = out != NULL;
    for (size_t i = 0; is_ok && i < BUNDLE_COUNT; i++) {
        char path[PATH_MAX];
        char hex[FILEHASH_HEX_CAP];
        is_ok = snprintf(path, sizeof(path), "%s/%s", dir, bundle_files[i]) < (int)sizeof(path) &&
                filehash_sha256(path, hex) && fprintf(out, "%s  %s\n", hex, bundle_files[i]) > 0;
    }
    return close_out(out) && is_ok ? 0 : -SW_EIO;
}

struct report_args {
    const char *config;
    const char *since;
    const char *until;
    const char *account;
    const char *trunk;
    const char *out;
};

static bool parse_args(int argc, char **argv, struct report_args *args)
{
    static const struct option options[] = {
        { "config", required_argument, NULL, 'c' },
        { "since", required_argument, NULL, 's' },
        { "until", required_argument, NULL, 'u' },
        { "account", required_argument, NULL, 'a' },
        { "trunk", required_argument, NULL, 't' },
        { "out", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 },
    };
    const char **slots[128] = { NULL };
    slots['c'] = &args->config;
    slots['s'] = &args->since;
    slots['u'] = &args->until;
    slots['a'] = &args->account;
    slots['t'] = &args->trunk;
    slots['o'] = &args->out;
    int opt;
    optind = 0; /* GNU: full re-initialisation, so the command can run twice in tests */
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): options are parsed once, on the main thread. */
    while ((opt = getopt_long(argc, argv, "c:o:", options, NULL)) != -1) {
        if (opt < 0 || opt >= 128 || slots[opt] == NULL) {
            return false;
        }
        *slots[opt] = optarg;
    }
    return optind == argc && args->since != NULL && args->out != NULL &&
           (args->account == NULL || args->trunk == NULL);
}

/* The username the records and events use for --account A (A names a section or a user). */
static const char *username_of(const struct cfg *cfg, const char *account)
{
    for (size_t i = 0; account != NULL && i < cfg->account_count; i++) {
        if (strcmp(cfg->accounts[i].name, account) == 0) {
            return cfg->accounts[i].username;
        }
    }
    return account != NULL ? account : "";
}

static void note_config(struct incident *inc)
{
    struct stat st;
    if (stat(inc->cfg->source, &st) == 0) {
        inc->config_mtime_s = (int64_t)st.st_mtime;
    }
    if (!filehash_sha256(inc->cfg->source, inc->config_sha256)) {
        inc->config_sha256[0] = '\0';
    }
}

static int collect_calls(struct collect *c, const char *dir, const char *database)
{
    c->csv = open_out(dir, "calls.csv");
    c->json = open_out(dir, "calls.json");
    int rc = c->csv != NULL && c->json != NULL ? 0 : -errno;
    for (size_t i = 0; rc == 0 && i < cdr_column_count(); i++) {
        if (fprintf(c->csv, "%s%s", i > 0 ? "," : "", cdr_column_name(i)) < 0) {
            rc = -SW_EIO;
        }
    }
    if (rc == 0 && fputc('\n', c->csv) == EOF) {
        rc = -SW_EIO;
    }
    char error[512] = "";
    if (rc == 0) {
        struct cdr_query query = { .database = database,
                                   .since_ms = c->inc->since_ms,
                                   .until_ms = c->inc->until_ms };
        rc = cdr_table_read(&query, on_call, c, error, sizeof(error));
    }
    bool is_closed = close_out(c->csv) && close_out(c->json);
    c->csv = NULL;
    c->json = NULL;
    if (rc != 0) {
        (void)fprintf(stderr, "sipwarden incident: call records: %s\n",
                      error[0] != '\0' ? error : sw_strerror(rc));
        return rc;
    }
    return is_closed ? 0 : -SW_EIO;
}

static int collect_events(struct collect *c, const char *dir)
{
    FILE *out = open_out(dir, "security-events.log");
    if (out == NULL) {
        return -errno;
    }
    const char *path = c->inc->cfg->log.security_log;
    int rc = path != NULL ? read_seclog(c, path, out) : 0;
    if (rc == -SW_ENOTFOUND) {
        (void)fprintf(stderr, "sipwarden incident: no security log at %s\n", path);
        rc = 0;
    }
    if (rc != 0) {
        (void)fprintf(stderr, "sipwarden incident: %s: %s\n", path, sw_strerror(rc));
    }
    return close_out(out) && rc == 0 ? 0 : -SW_EIO;
}

static int read_bans(struct collect *c, const char *database, char *error, size_t cap)
{
    struct sqlutil_query query = {
        .path = database,
        .since = c->inc->since_ms / 1000,
        .until = (c->inc->until_ms - 1) / 1000 + 1,
    };
    return ban_sqlite_read(&query, on_ban, c, error, cap);
}

/* The span in ms, as the alert and configuration history keep their times. */
static struct sqlutil_query span_ms(const struct collect *c, const char *database)
{
    return (struct sqlutil_query){ .path = database,
                                   .since = c->inc->since_ms,
                                   .until = c->inc->until_ms };
}

static int read_alerts(struct collect *c, const char *database, char *error, size_t cap)
{
    struct sqlutil_query query = span_ms(c, database);
    return alert_sqlite_read_alerts(&query, on_alert, c, error, cap);
}

static int read_configs(struct collect *c, const char *database, char *error, size_t cap)
{
    struct sqlutil_query query = span_ms(c, database);
    return alert_sqlite_read_configs(&query, on_config, c, error, cap);
}

/* A table of the database copied into a CSV file of the bundle. */
struct table_desc {
    const char *file;
    const char *header;
    int (*read)(struct collect *c, const char *database, char *error, size_t cap);
};

/* Writes desc->file from the database (NULL: none, so the file has its header only). */
static int collect_table(struct collect *c, const char *dir, const struct table_desc *desc,
                         const char *database, bool *has_table)
{
    c->out = open_out(dir, desc->file);
    if (c->out == NULL || fprintf(c->out, "%s\n", desc->header) < 0) {
        (void)close_out(c->out);
        c->out = NULL;
        return -SW_EIO;
    }
    char error[512] = "";
    int rc = database != NULL ? desc->read(c, database, error, sizeof(error)) : -SW_ENOTFOUND;
    *has_table = rc != -SW_ENOTFOUND;
    rc = rc == -SW_ENOTFOUND ? 0 : rc;
    if (rc != 0) {
        (void)fprintf(stderr, "sipwarden incident: %s: %s\n", desc->file,
                      error[0] != '\0' ? error : sw_strerror(rc));
    }
    bool is_closed = close_out(c->out);
    c->out = NULL;
    return is_closed && rc == 0 && !c->is_write_error ? 0 : -SW_EIO;
}

static int write_text(const char *dir, const char *name, const struct incident *inc,
                      void (*write)(const struct incident *, FILE *))
{
    FILE *out = open_out(dir, name);
    if (out == NULL) {
        return -errno;
    }
    write(inc, out);
    return close_out(out) ? 0 : -SW_EIO;
}

static int write_config_hash(const char *dir, const struct incident *inc)
{
    FILE *out = open_out(dir, "config.sha256");
    if (out == NULL) {
        return -errno;
    }
    char mtime[32];
    incident_format_ms(inc->config_mtime_s * 1000, mtime, sizeof(mtime));
    (void)fprintf(out, "%s  %s\nmodified %s UTC\n", inc->config_sha256, inc->cfg->source, mtime);
    return close_out(out) ? 0 : -SW_EIO;
}

/* The databases: the call records' ([cdr] database, else [state] path) and the bans'. */
static int check_database(const char *path)
{
    struct stat st;
    if (path == NULL || stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
        (void)fprintf(stderr,
                      "sipwarden incident: no database at %s (see [state] path and [cdr] "
                      "database: has the gateway run with this configuration?)\n",
                      path != NULL ? path : "(none configured)");
        return -SW_ENOTFOUND;
    }
    return 0;
}

static int make_bundle(struct incident *inc, const char *dir)
{
    const struct cfg *cfg = inc->cfg;
    const char *cdr_db = cfg->cdr.database != NULL ? cfg->cdr.database : cfg->state.path;
    if (check_database(cdr_db) != 0) {
        return -SW_ENOTFOUND;
    }
    if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
        int rc = -errno;
        (void)fprintf(stderr, "sipwarden incident: %s: %s\n", dir, sw_strerror(rc));
        return rc;
    }
    struct collect c = { .inc = inc, .username = username_of(cfg, inc->account) };
    find_columns(&c.col);
    note_config(inc);
    int rc = collect_calls(&c, dir, cdr_db);
    if (rc == 0) {
        rc = collect_events(&c, dir);
    }
    const char *state_db =
        cfg->state.path != NULL && access(cfg->state.path, R_OK) == 0 ? cfg->state.path : NULL;
    static const struct table_desc bans = { "bans.csv", "ip,start,end,offence,source,reason",
                                            read_bans };
    static const struct table_desc alerts = { "alerts.csv",
                                              "time,rule,state,severity,key,value,title,detail",
                                              read_alerts };
    if (rc == 0) {
        rc = collect_table(&c, dir, &bans, state_db, &inc->has_ban_table);
    }
    static const struct table_desc configs = { "config-history.csv", "time,load,sha256,path",
                                               read_configs };
    if (rc == 0) {
        rc = collect_table(&c, dir, &alerts, state_db, &inc->has_alert_table);
    }
    if (rc == 0) {
        rc = collect_table(&c, dir, &configs, state_db, &inc->has_config_table);
    }
    incident_tally_sort(&inc->destinations);
    incident_tally_sort(&inc->countries);
    incident_tally_sort(&inc->call_sources);
    incident_tally_sort(&inc->event_sources);
    incident_tally_sort(&inc->event_kinds);
    if (rc == 0) {
        rc = write_config_hash(dir, inc);
    }
    if (rc == 0) {
        rc = write_text(dir, "summary.md", inc, incident_write_summary);
    }
    if (rc == 0) {
        rc = write_text(dir, "carrier-notice.txt", inc, incident_write_notice);
    }
    return rc == 0 ? write_sums(dir) : rc;
}

static void incident_fini(struct incident *inc)
{
    struct incident_tally *tallies[] = { &inc->destinations, &inc->countries, &inc->call_sources,
                                         &inc->trunks,       &inc->accounts,  &inc->event_kinds,
                                         &inc->event_sources };
    for (size_t i = 0; i < sizeof(tallies) / sizeof(tallies[0]); i++) {
        incident_tally_fini(tallies[i]);
    }
}

static int report_main(int argc, char **argv)
{
    struct report_args args = { .config = DEFAULT_CONFIG };
    struct incident inc = { .until_ms = INT64_MAX };
    if (!parse_args(argc, argv, &args) || !tools_cdr_parse_time(args.since, &inc.since_ms) ||
        (args.until != NULL && !tools_cdr_parse_time(args.until, &inc.until_ms)) ||
        inc.until_ms <= inc.since_ms) {
        print_usage(stderr);
        return 2;
    }
    inc.account = args.account;
    inc.trunk = args.trunk;
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_offline(args.config, &diag);
    if (cfg == NULL) {
        sw_diag_print(&diag, stderr);
    }
    sw_diag_fini(&diag);
    if (cfg == NULL) {
        return 1;
    }
    inc.cfg = cfg;
    int rc = make_bundle(&inc, args.out);
    if (rc == 0) {
        (void)printf("%s/summary.md: %llu calls, %llu answered, %lld s billed, %llu security "
                     "events (%llu anomalous)\n",
                     args.out, (unsigned long long)inc.calls, (unsigned long long)inc.answered,
                     (long long)inc.billsec, (unsigned long long)inc.events,
                     (unsigned long long)inc.anomalies);
    } else if (rc != -SW_ENOTFOUND) {
        (void)fprintf(stderr, "sipwarden incident: the bundle in %s is incomplete: %s\n", args.out,
                      sw_strerror(rc));
    }
    incident_fini(&inc);
    cfg_free(cfg);
    return rc == 0 ? 0 : 1;
}

int tools_incident_main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        print_usage(stdout);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "report") != 0) {
        print_usage(stderr);
        return 2;
    }
    return report_main(argc - 1, argv + 1);
}
