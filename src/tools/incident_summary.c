/*
 * summary.md and carrier-notice.txt of `sipwarden incident report` (tools/incident_int.h).
 * Every text that came from the network (numbers, accounts, details) is written through
 * safe_text(), so a caller ID cannot add Markdown, a table cell or a line to the report.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/diag.h"
#include "config/config.h"
#include "number/money.h"
#include "obs/geoip.h"
#include "state/alert_sqlite.h"
#include "tools/incident_int.h"

#define TABLE_ROWS     50
#define ALERT_TEXT_CAP 100

void incident_format_ms(int64_t ms, char *out, size_t cap)
{
    time_t seconds = (time_t)(ms / 1000);
    struct tm tm;
    if (gmtime_r(&seconds, &tm) == NULL || strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm) == 0) {
        (void)snprintf(out, cap, "?");
    }
}

/* Letters, digits and a few marks stay; every other byte becomes %XX. */
static const char *safe_text(const char *in, char *out, size_t cap)
{
    static const char marks[] = " +-._:@/=,()'";
    size_t used = 0;
    for (const char *p = in; *p != '\0' && used + 4 < cap; p++) {
        unsigned char ch = (unsigned char)*p;
        bool is_plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                        (ch >= '0' && ch <= '9') || (ch != '\0' && strchr(marks, ch) != NULL);
        if (is_plain) {
            out[used++] = (char)ch;
        } else {
            used += (size_t)snprintf(out + used, cap - used, "%%%02X", ch);
        }
    }
    out[used] = '\0';
    return out;
}

#define SAFE(text, buf) safe_text((text), (buf), sizeof(buf))

static void format_minutes(int64_t seconds, char *out, size_t cap)
{
    (void)snprintf(out, cap, "%lld.%lld", (long long)(seconds / 60),
                   (long long)(seconds % 60 * 10 / 60));
}

static const char *span_end(const struct incident *inc, char *buf, size_t cap)
{
    if (inc->until_ms == INT64_MAX) {
        return "now";
    }
    incident_format_ms(inc->until_ms, buf, cap);
    return buf;
}

static void write_head(const struct incident *inc, FILE *out)
{
    char since[32];
    char until[32];
    char now[32];
    char name[160];
    incident_format_ms(inc->since_ms, since, sizeof(since));
    incident_format_ms((int64_t)time(NULL) * 1000, now, sizeof(now));
    const char *scope = inc->account != NULL ? "account" : inc->trunk != NULL ? "trunk" : NULL;
    const char *target = inc->account != NULL ? inc->account : inc->trunk;
    (void)fprintf(out, "# Incident report: %s %s\n\n", scope != NULL ? scope : "all",
                  target != NULL ? SAFE(target, name) : "traffic");
    (void)fprintf(out, "- Span: %s UTC to %s%s\n", since, span_end(inc, until, sizeof(until)),
                  inc->until_ms == INT64_MAX ? "" : " UTC");
    (void)fprintf(out, "- Scope: %s\n",
                  inc->account != NULL ? "the account's calls, the events about it and from "
                                         "its calls' addresses"
                  : inc->trunk != NULL ? "the trunk's calls and every security event"
                                       : "every call and every security event");
    (void)fprintf(out, "- Generated: %s UTC by `sipwarden incident report`\n", now);
    char mtime[32];
    incident_format_ms(inc->config_mtime_s * 1000, mtime, sizeof(mtime));
    bool is_changed =
        inc->config_mtime_s * 1000 >= inc->since_ms && inc->config_mtime_s * 1000 < inc->until_ms;
    (void)fprintf(out, "- Configuration: %s, SHA-256 `%s`, last modified %s UTC%s\n",
                  SAFE(inc->cfg->source, name), inc->config_sha256, mtime,
                  is_changed ? " (**changed during the span**)" : "");
}

static void write_entry_point(const struct incident *inc, FILE *out)
{
    (void)fprintf(out, "\n## Likely entry point\n\n");
    if (!inc->has_first) {
        (void)fprintf(out, "No anomalous security event in the span.\n");
        return;
    }
    const struct incident_event *ev = &inc->first;
    char when[32];
    char kind[96];
    char remote[160];
    char account[200];
    char detail[800];
    incident_format_ms(ev->time_ms, when, sizeof(when));
    (void)fprintf(out, "The first anomalous event: %s UTC, **%s** from %s", when,
                  SAFE(ev->kind, kind), SAFE(ev->remote, remote));
    if (ev->account[0] != '\0') {
        (void)fprintf(out, ", account %s", SAFE(ev->account, account));
    }
    if (ev->detail[0] != '\0') {
        (void)fprintf(out, ": %s", SAFE(ev->detail, detail));
    }
    (void)fprintf(out, ".\n");
}

static void write_tally(const struct incident_tally *tally, const char *first_column, bool has_note,
                        FILE *out)
{
    (void)fprintf(out, "| %s |%s calls | answered | seconds | cost |\n|---|%s---|---|---|---|\n",
                  first_column, has_note ? " country |" : "", has_note ? "---|" : "");
    size_t shown = tally->count < TABLE_ROWS ? tally->count : TABLE_ROWS;
    for (size_t i = 0; i < shown; i++) {
        const struct incident_tally_item *item = &tally->items[i];
        char key[INCIDENT_KEY_CAP * 3];
        char note[INCIDENT_KEY_CAP * 3];
        char cost[MONEY_FORMAT_CAP];
        (void)fprintf(out, "| %s |", item->key[0] != '\0' ? SAFE(item->key, key) : "(none)");
        if (has_note) {
            (void)fprintf(out, " %s |", SAFE(item->note, note));
        }
        (void)fprintf(out, " %" PRIu64 " | %" PRIu64 " | %lld | %s |\n", item->count,
                      item->answered, (long long)item->billsec,
                      money_format(item->cost_micro, cost, sizeof(cost)));
    }
    if (tally->count > shown || tally->others > 0) {
        (void)fprintf(out, "\n%zu more in calls.csv.\n", tally->count - shown);
    }
}

static void write_calls(const struct incident *inc, FILE *out)
{
    char minutes[32];
    char cost[MONEY_FORMAT_CAP];
    format_minutes(inc->billsec, minutes, sizeof(minutes));
    (void)fprintf(out, "\n## Calls\n\n| calls | answered | billed seconds | minutes | cost |\n"
                       "|---|---|---|---|---|\n");
    (void)fprintf(out, "| %" PRIu64 " | %" PRIu64 " | %lld | %s | %s |\n", inc->calls,
                  inc->answered, (long long)inc->billsec, minutes,
                  money_format(inc->cost_micro, cost, sizeof(cost)));
    (void)fprintf(out, "\nCosts are in the rate deck's currency ([fraud] ratedeck): the "
                       "record's cost, else its rate per minute times its billed seconds; 0.00 "
                       "when unrated.\n\n### Destinations\n\n");
    write_tally(&inc->destinations, "number", true, out);
    (void)fprintf(out, "\n### Countries\n\n");
    write_tally(&inc->countries, "country", false, out);
    (void)fprintf(out, "\n### Where the calls came from\n\n");
    write_tally(&inc->call_sources, "address", false, out);
}

/* The country of an address written as text, or "-" when it is not one. */
static void country_of(const struct geoip *geo, const char *address, char out[GEOIP_COUNTRY_CAP])
{
    struct sw_ip ip;
    if (!sw_ip_parse(sv_from_cstr(address), &ip)) {
        (void)snprintf(out, GEOIP_COUNTRY_CAP, "-");
        return;
    }
    geoip_country(geo, &ip, out);
}

static void write_sources(const struct incident *inc, FILE *out)
{
    /* With [alerts] geoip_db, each address gets its country as the alerts name it. */
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct geoip *geo = NULL;
    if (geoip_open_configured(inc->cfg, &geo, &diag) != 0) {
        geo = NULL; /* the summary goes on without countries */
    }
    sw_diag_fini(&diag);
    (void)fprintf(out,
                  "\n## Sources involved\n\nAddresses of the anomalous security events "
                  "(failures, refusals, bans):\n\n| address | events | first seen as |%s\n"
                  "|---|---|---|%s\n",
                  geo != NULL ? " country |" : "", geo != NULL ? "---|" : "");
    size_t shown = inc->event_sources.count < TABLE_ROWS ? inc->event_sources.count : TABLE_ROWS;
    for (size_t i = 0; i < shown; i++) {
        const struct incident_tally_item *item = &inc->event_sources.items[i];
        char key[INCIDENT_KEY_CAP * 3];
        char note[INCIDENT_KEY_CAP * 3];
        char country[GEOIP_COUNTRY_CAP] = "";
        if (geo != NULL) {
            country_of(geo, item->key, country);
        }
        (void)fprintf(out, "| %s | %" PRIu64 " | %s |%s%s%s\n", SAFE(item->key, key), item->count,
                      SAFE(item->note, note), geo != NULL ? " " : "", country,
                      geo != NULL ? " |" : "");
    }
    geoip_free(geo);
}

static void write_blocked(const struct incident *inc, FILE *out)
{
    (void)fprintf(out, "\n## What was blocked\n\n");
    (void)fprintf(out, "- Calls refused by the policy (FraudBlock, PolicyHit): %" PRIu64 "\n",
                  inc->blocked_calls);
    (void)fprintf(out, "- Bans added (BanAdded events): %" PRIu64 "\n", inc->bans_added);
    if (inc->has_ban_table) {
        (void)fprintf(
            out, "- Bans in force during the span (database): %" PRIu64 ", listed in bans.csv\n",
            inc->bans);
    } else {
        (void)fprintf(out, "- Bans in the database: none (the database has no ban table)\n");
    }
    (void)fprintf(out, "- Security events: %" PRIu64 ", %" PRIu64 " of them anomalous\n\n",
                  inc->events, inc->anomalies);
    (void)fprintf(out, "| event | count |\n|---|---|\n");
    for (size_t i = 0; i < inc->event_kinds.count; i++) {
        char kind[INCIDENT_KEY_CAP * 3];
        (void)fprintf(out, "| %s | %" PRIu64 " |\n", SAFE(inc->event_kinds.items[i].key, kind),
                      inc->event_kinds.items[i].count);
    }
}

void incident_alert_row(char *out, size_t cap, const char *when,
                        const struct alert_sqlite_alert *alert)
{
    char rule[ALERT_TEXT_CAP];
    char key[ALERT_TEXT_CAP];
    char title[ALERT_TEXT_CAP];
    (void)snprintf(out, cap, "| %s | %s | %s | %s | %s | %lld | %s |", when,
                   SAFE(alert->rule, rule), alert->state, alert->severity, SAFE(alert->key, key),
                   (long long)alert->value, SAFE(alert->title, title));
}

/* A section's title; false, after saying that `what` is missing, without its table. */
static bool write_section(FILE *out, const char *title, bool has_table, const char *what)
{
    (void)fprintf(out, "\n## %s\n\n", title);
    if (!has_table) {
        (void)fprintf(out,
                      "The database keeps no %s (no [state] path, or a gateway that never "
                      "kept it there).\n",
                      what);
    }
    return has_table;
}

static void write_alerts(const struct incident *inc, FILE *out)
{
    if (!write_section(out, "Alerts", inc->has_alert_table, "alert history")) {
        return;
    }
    (void)fprintf(out,
                  "%" PRIu64 " alert messages in the span, %" PRIu64 " of them opening an "
                  "incident (alerts.csv):\n\n",
                  inc->alerts, inc->alerts_firing);
    (void)fprintf(out, "| time (UTC) | rule | state | severity | key | value | title |\n"
                       "|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < inc->alert_row_count; i++) {
        (void)fprintf(out, "%s\n", inc->alert_rows[i]);
    }
    if (inc->alerts > inc->alert_row_count) {
        (void)fprintf(out, "\n%llu more in alerts.csv.\n",
                      (unsigned long long)(inc->alerts - inc->alert_row_count));
    }
}

const char *incident_config_note(struct incident *inc, int64_t time_ms, const char *path,
                                 const char *sha256)
{
    const char *how = time_ms < inc->since_ms                 ? "in force"
                      : inc->config_last[0] == '\0'           ? "first known"
                      : strcmp(inc->config_last, sha256) != 0 ? "changed"
                                                              : "unchanged";
    if (time_ms >= inc->since_ms) {
        inc->config_loads++;
        inc->config_changes += strcmp(how, "changed") == 0;
    }
    (void)snprintf(inc->config_last, sizeof(inc->config_last), "%s", sha256);
    if (inc->config_row_count < INCIDENT_CONFIG_ROWS) {
        char when[32];
        char hash[FILEHASH_HEX_CAP * 3];
        char file[sizeof(inc->config_rows[0])];
        incident_format_ms(time_ms, when, sizeof(when));
        (void)snprintf(inc->config_rows[inc->config_row_count++], sizeof(inc->config_rows[0]),
                       "| %s | %s | `%.64s` | %.80s |", when, how, SAFE(sha256, hash),
                       SAFE(path, file));
    }
    return how;
}

static void write_config(const struct incident *inc, FILE *out)
{
    if (!write_section(out, "Configuration changes", inc->has_config_table,
                       "configuration history")) {
        return;
    }
    (void)fprintf(out,
                  "%" PRIu64 " loads of the configuration (starts and reloads) in the span, "
                  "%" PRIu64 " of them with a changed file (config-history.csv):\n\n",
                  inc->config_loads, inc->config_changes);
    (void)fprintf(out, "| time (UTC) | load | SHA-256 | file |\n|---|---|---|---|\n");
    for (size_t i = 0; i < inc->config_row_count; i++) {
        (void)fprintf(out, "%s\n", inc->config_rows[i]);
    }
    if (inc->until_ms == INT64_MAX && inc->config_last[0] != '\0' &&
        strcmp(inc->config_last, inc->config_sha256) != 0) {
        (void)fprintf(out,
                      "\n**The file now (SHA-256 `%s`) is not the one the gateway loaded "
                      "last**: it was edited after the last start or reload.\n",
                      inc->config_sha256[0] != '\0' ? inc->config_sha256 : "unreadable");
    }
}

void incident_write_summary(const struct incident *inc, FILE *out)
{
    write_head(inc, out);
    write_entry_point(inc, out);
    write_calls(inc, out);
    write_sources(inc, out);
    write_blocked(inc, out);
    write_alerts(inc, out);
    write_config(inc, out);
    (void)fprintf(out, "\n## Files\n\n- calls.csv, calls.json: the call records in scope\n"
                       "- security-events.log: the security log's lines in scope\n"
                       "- bans.csv: the bans in force during the span\n"
                       "- alerts.csv: the alert messages of the span\n"
                       "- config.sha256: the configuration's hash now\n"
                       "- config-history.csv: the configuration's loads, from the one in force "
                       "at the span's start\n"
                       "- carrier-notice.txt: the text for the carrier's fraud desk\n"
                       "- SHA256SUMS: the hashes of these files (`sha256sum -c SHA256SUMS`)\n");
}

/* ---- carrier notice -------------------------------------------------------------------- */

static void write_trunk(const struct cfg *cfg, const char *name, FILE *out)
{
    char text[256];
    const struct cfg_trunk *trunk = cfg_trunk_find(cfg, sv_from_cstr(name));
    if (trunk == NULL) {
        (void)fprintf(out, "  Trunk:          %s\n", SAFE(name, text));
        return;
    }
    (void)fprintf(out, "  Trunk:          %s\n", SAFE(trunk->name, text));
    (void)fprintf(out, "  Account/user:   %s\n",
                  trunk->username != NULL ? SAFE(trunk->username, text) : "(none: by address)");
    (void)fprintf(out, "  SIP domain:     %s\n", trunk->domain != NULL ? trunk->domain : "");
    (void)fprintf(out, "  Your server:    %s port %u\n", trunk->provider.host,
                  (unsigned)trunk->provider.port);
}

static void write_trunks(const struct incident *inc, FILE *out)
{
    if (inc->trunk != NULL) {
        write_trunk(inc->cfg, inc->trunk, out);
        return;
    }
    size_t written = 0;
    for (size_t i = 0; i < inc->trunks.count; i++) {
        if (inc->trunks.items[i].key[0] != '\0') {
            write_trunk(inc->cfg, inc->trunks.items[i].key, out);
            written++;
        }
    }
    if (written == 0) {
        (void)fprintf(out, "  Trunk:          (no call in the span left through a trunk)\n");
    }
}

void incident_write_notice(const struct incident *inc, FILE *out)
{
    char since[32];
    char until[32];
    char minutes[32];
    char cost[MONEY_FORMAT_CAP];
    incident_format_ms(inc->since_ms, since, sizeof(since));
    format_minutes(inc->billsec, minutes, sizeof(minutes));
    (void)fprintf(out,
                  "Subject: suspected toll fraud on our SIP trunk: please block and review\n\n"
                  "To the fraud desk,\n\n"
                  "we detected suspected toll fraud on our SIP trunk with you. Please block the\n"
                  "destinations below for our account, review the calls, and hold the charges\n"
                  "for these calls while we investigate. Our details:\n\n");
    write_trunks(inc, out);
    (void)fprintf(out, "  Time span:      %s UTC to %s%s\n", since,
                  span_end(inc, until, sizeof(until)), inc->until_ms == INT64_MAX ? "" : " UTC");
    (void)fprintf(
        out, "  Calls:          %" PRIu64 " (%" PRIu64 " answered), %s minutes, cost %s\n\n",
        inc->calls, inc->answered, minutes, money_format(inc->cost_micro, cost, sizeof(cost)));
    (void)fprintf(out, "Destinations called (number, country, calls, answered, seconds):\n");
    for (size_t i = 0; i < inc->destinations.count; i++) {
        const struct incident_tally_item *item = &inc->destinations.items[i];
        char key[INCIDENT_KEY_CAP * 3];
        char note[INCIDENT_KEY_CAP * 3];
        (void)fprintf(out, "  %-20s %-3s %6" PRIu64 " %6" PRIu64 " %8lld\n", SAFE(item->key, key),
                      SAFE(item->note, note), item->count, item->answered,
                      (long long)item->billsec);
    }
    (void)fprintf(out, "\nCall records (the first %zu of %" PRIu64 "; times UTC):\n",
                  inc->excerpt_count, inc->calls);
    (void)fprintf(out, "  %-19s  %-16s  %-18s  %-3s  %-10s  %8s  %s\n", "start", "caller id",
                  "dialled", "cc", "result", "billsec", "cost");
    for (size_t i = 0; i < inc->excerpt_count; i++) {
        char line[sizeof(inc->excerpt[0]) * 3];
        (void)fprintf(out, "  %s\n", SAFE(inc->excerpt[i], line));
    }
    (void)fprintf(out, "\nThe complete call records are attached (calls.csv).\n\n"
                       "Contact: <name, phone, e-mail>\n");
}
