#include "obs/alert_sink.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"
#include "base/log.h"
#include "base/time.h"
#include "base/workq.h"
#include "obs/seclog.h"
#include "obs/spawn.h"

#define SINK_BACKOFF_FIRST_MS 1000u
#define SINK_BACKOFF_MAX_MS   60000u
#define SINK_STOP_WAIT_MS     5000u

struct sink {
    struct alert_sinks *owner;
    char *name;
    enum cfg_sink_kind kind;
    enum cfg_sink_template template_name;
    char *command;
    char *url;
    char *ca_file;
    char *sendmail;
    char *to;
    char *from;
    unsigned timeout_ms;
    unsigned retries;
    struct workq *queue;           /* of struct alert: the oldest gives way, drained on stop */
    struct alert_sink_stats stats; /* under the owner's lock */
};

struct alert_sinks {
    pthread_mutex_t lock; /* the sinks' stats */
    bool is_started;      /* between alert_sinks_start and alert_sinks_stop */
    struct sink *items;
    size_t count;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    /* A failure shows up as failing webhook attempts, which are logged. */
    (void)curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- formatting ---------------------------------------------------------------------- */

/* Text an attacker may have chosen (an account name) made printable ASCII. */
static void clean_text(const char *text, char *out, size_t cap)
{
    struct sw_buf buf;
    sw_buf_init(&buf, out, cap);
    seclog_neutralize(sv_from_cstr(text), &buf);
    size_t end = buf.is_overflow ? 0 : buf.len;
    out[end < cap ? end : cap - 1] = '\0';
}

static void format_time(uint64_t wall_us, char *out, size_t cap)
{
    time_t secs = (time_t)(wall_us / 1000000u);
    struct tm tm;
    if (gmtime_r(&secs, &tm) == NULL || strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        out[0] = '\0';
        return;
    }
    size_t len = strlen(out);
    (void)snprintf(out + len, cap - len, ".%03uZ", (unsigned)(wall_us / 1000u % 1000u));
}

/* Severity and state in capitals, for subject lines. */
static const char *severity_upper(enum cfg_alert_severity severity)
{
    static const char *const names[] = { "INFO", "MEDIUM", "HIGH", "CRITICAL" };
    return (size_t)severity < sizeof(names) / sizeof(names[0]) ? names[severity] : "UNKNOWN";
}

static const char *state_upper(enum alert_state state)
{
    static const char *const names[] = { "FIRING", "UPDATE", "RESOLVED", "TEST" };
    return (size_t)state < sizeof(names) / sizeof(names[0]) ? names[state] : "UNKNOWN";
}

void alert_format_line(const struct alert *alert, struct sw_buf *out)
{
    char title[ALERT_TITLE_CAP * 3];
    char detail[ALERT_DETAIL_CAP * 3];
    clean_text(alert->title, title, sizeof(title));
    clean_text(alert->detail, detail, sizeof(detail));
    sw_buf_fmt(out, "[%s] %s %s: %s (rule %s, incident %llu)", severity_upper(alert->severity),
               state_upper(alert->state), title, detail, alert->rule,
               (unsigned long long)alert->incident);
}

static json_t *alert_to_json(const struct alert *alert)
{
    char when[40];
    char key[ALERT_KEY_CAP * 3];
    char title[ALERT_TITLE_CAP * 3];
    char detail[ALERT_DETAIL_CAP * 3];
    format_time(alert->wall_us, when, sizeof(when));
    clean_text(alert->key, key, sizeof(key));
    clean_text(alert->title, title, sizeof(title));
    clean_text(alert->detail, detail, sizeof(detail));
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:I, s:s}", "source",
        "sipwarden", "rule", alert->rule, "title", title, "state", alert_state_name(alert->state),
        "severity", alert_severity_name(alert->severity), "metric",
        alert_metric_name(alert->metric), "key", key, "value", (json_int_t)alert->value,
        "threshold", (json_int_t)alert->threshold, "window_s", (json_int_t)alert->window_s,
        "incident", (json_int_t)alert->incident, "time", when, "cause_us",
        (json_int_t)alert->cause_us, "detail", detail); /* last: receivers may match the order */
}

void alert_format_json(const struct alert *alert, enum cfg_sink_template template_name,
                       struct sw_buf *out)
{
    json_t *body = NULL;
    if (template_name == CFG_TEMPLATE_SLACK) {
        char line[ALERT_TEXT_MAX];
        struct sw_buf text;
        sw_buf_init(&text, line, sizeof(line) - 1);
        alert_format_line(alert, &text);
        line[text.is_overflow ? 0 : text.len] = '\0';
        body = json_pack("{s:s}", "text", line);
    } else {
        body = alert_to_json(alert);
    }
    char *dumped = body != NULL ? json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(body);
    if (dumped == NULL) {
        out->is_overflow = true; /* out of memory: nothing sensible to send */
        return;
    }
    sw_buf_str(out, dumped);
    free(dumped); /* jansson's allocator */
}

void alert_format_mail(const struct alert *alert, const char *from, const char *to,
                       struct sw_buf *out)
{
    char subject[ALERT_TEXT_MAX / 2];
    struct sw_buf line;
    sw_buf_init(&line, subject, sizeof(subject) - 1);
    alert_format_line(alert, &line);
    subject[line.is_overflow ? 0 : line.len] = '\0';
    char when[40];
    format_time(alert->wall_us, when, sizeof(when));
    sw_buf_fmt(out,
               "From: %s\nTo: %s\nSubject: sipwarden: %s\nContent-Type: text/plain; "
               "charset=us-ascii\nAuto-Submitted: auto-generated\n\n",
               from, to, subject);
    sw_buf_fmt(out,
               "%s\n\nrule: %s\nstate: %s\nseverity: %s\nmetric: %s\nvalue: %lld\n"
               "threshold: %u\nwindow: %u s\nincident: %llu\ntime: %s\n",
               subject, alert->rule, alert_state_name(alert->state),
               alert_severity_name(alert->severity), alert_metric_name(alert->metric),
               (long long)alert->value, alert->threshold, alert->window_s,
               (unsigned long long)alert->incident, when);
}

/* ---- one attempt per kind ------------------------------------------------------------ */

/* libcurl's write callback type fixes `char *ptr`. */
static size_t discard_body(char *ptr, size_t size, size_t count, void *ctx) /* NOLINT */
{
    (void)ptr;
    (void)ctx;
    return size * count;
}

static int post_webhook(const struct sink *s, struct sv body)
{
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        return -ENOMEM;
    }
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    CURLcode rc = curl_easy_setopt(curl, CURLOPT_URL, s->url);
    rc |= curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    rc |= curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    rc |= curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    rc |= curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
    rc |= curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    rc |= curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.ptr);
    rc |= curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)body.len);
    rc |= curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
    rc |= curl_easy_setopt(curl, CURLOPT_USERAGENT, "sipwarden-alert");
    if (s->ca_file != NULL) {
        rc |= curl_easy_setopt(curl, CURLOPT_CAINFO, s->ca_file);
    }
    long status = 0;
    if (rc == CURLE_OK) {
        rc = curl_easy_perform(curl);
    }
    if (rc == CURLE_OK) {
        (void)curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    } else {
        log_warn(NULL, "alert: sink %s: %s", s->name, curl_easy_strerror(rc));
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (rc == CURLE_OK && (status < 200 || status > 299)) {
        log_warn(NULL, "alert: sink %s: the receiver answered %ld", s->name, status);
    }
    return rc == CURLE_OK && status >= 200 && status <= 299 ? 0 : -SW_EIO;
}

static int syslog_priority(enum cfg_alert_severity severity)
{
    switch (severity) {
    case CFG_SEVERITY_CRITICAL:
        return LOG_CRIT;
    case CFG_SEVERITY_HIGH:
        return LOG_ERR;
    case CFG_SEVERITY_MEDIUM:
        return LOG_WARNING;
    case CFG_SEVERITY_INFO:
        return LOG_INFO;
    }
    return LOG_WARNING;
}

static int attempt(const struct sink *s, const struct alert *alert)
{
    char storage[ALERT_TEXT_MAX];
    struct sw_buf buf;
    sw_buf_init(&buf, storage, sizeof(storage) - 1);
    switch (s->kind) {
    case CFG_SINK_SYSLOG:
        alert_format_line(alert, &buf);
        storage[buf.is_overflow ? 0 : buf.len] = '\0';
        syslog(LOG_DAEMON | syslog_priority(alert->severity), "alert: %s", storage);
        return 0;
    case CFG_SINK_COMMAND: {
        alert_format_json(alert, CFG_TEMPLATE_GENERIC, &buf);
        sw_buf_char(&buf, '\n');
        const char *argv[] = { s->command, NULL };
        return buf.is_overflow
                   ? -SW_ETOOBIG
                   : obs_spawn_run(argv, false, sw_buf_view(&buf), s->timeout_ms, "alert");
    }
    case CFG_SINK_WEBHOOK:
        alert_format_json(alert, s->template_name, &buf);
        storage[buf.is_overflow ? 0 : buf.len] = '\0';
        return buf.is_overflow ? -SW_ETOOBIG : post_webhook(s, sw_buf_view(&buf));
    case CFG_SINK_SENDMAIL: {
        alert_format_mail(alert, s->from, s->to, &buf);
        const char *argv[] = { s->sendmail, "-i", "--", s->to, NULL };
        return buf.is_overflow
                   ? -SW_ETOOBIG
                   : obs_spawn_run(argv, false, sw_buf_view(&buf), s->timeout_ms, "alert");
    }
    }
    return -SW_EBADARG;
}

/* ---- the threads --------------------------------------------------------------------- */

static void count_one(struct alert_sinks *all, uint64_t *counter)
{
    pthread_mutex_lock(&all->lock);
    (*counter)++;
    pthread_mutex_unlock(&all->lock);
}

/* Tries one alert with its retries; a stop cuts the pause between them short. */
static void deliver_one(struct sink *s, const struct alert *alert)
{
    struct alert_sinks *all = s->owner;
    unsigned backoff_ms = SINK_BACKOFF_FIRST_MS;
    for (unsigned tries = 0;; tries++) {
        int rc = attempt(s, alert);
        if (rc == 0) {
            count_one(all, &s->stats.delivered);
            return;
        }
        count_one(all, &s->stats.failed_attempts);
        log_warn(NULL, "alert: sink %s: delivery of incident %llu failed (%s), attempt %u of %u",
                 s->name, (unsigned long long)alert->incident, sw_strerror(rc), tries + 1,
                 s->retries + 1);
        if (tries >= s->retries || workq_pause(s->queue, backoff_ms)) {
            count_one(all, &s->stats.given_up);
            log_err(NULL, "alert: sink %s: gave up incident %llu (%s %s)", s->name,
                    (unsigned long long)alert->incident, alert->rule,
                    alert_state_name(alert->state));
            return;
        }
        backoff_ms = backoff_ms * 2 > SINK_BACKOFF_MAX_MS ? SINK_BACKOFF_MAX_MS : backoff_ms * 2;
    }
}

/* A sink's thread: one alert at a time, in order. */
static void sink_run(void *ctx, void *items, size_t count)
{
    const struct alert *alerts = items;
    for (size_t i = 0; i < count; i++) {
        deliver_one(ctx, &alerts[i]);
    }
}

/* ---- building ------------------------------------------------------------------------ */

static char *dup_or_null(const char *text, bool *is_ok)
{
    if (text == NULL) {
        return NULL;
    }
    char *copy = sw_strdup(text);
    *is_ok = *is_ok && copy != NULL;
    return copy;
}

static int sink_init(struct sink *s, struct alert_sinks *owner, const struct cfg_sink *c,
                     size_t cap)
{
    bool is_ok = true;
    s->owner = owner;
    s->kind = c->kind;
    s->template_name = c->template_name;
    s->name = dup_or_null(c->name, &is_ok);
    s->command = dup_or_null(c->command, &is_ok);
    s->url = dup_or_null(c->url, &is_ok);
    s->ca_file = dup_or_null(c->ca_file, &is_ok);
    s->sendmail = dup_or_null(c->sendmail, &is_ok);
    s->to = dup_or_null(c->to, &is_ok);
    s->from = dup_or_null(c->from != NULL ? c->from : "sipwarden", &is_ok);
    s->timeout_ms = c->timeout * 1000u;
    s->retries = c->retries;
    struct workq_config queue = {
        .item_size = sizeof(struct alert),
        .capacity = cap,
        .is_drained_on_stop = true,
        .is_oldest_dropped = true,
        .run = sink_run,
        .ctx = s,
    };
    return is_ok ? workq_new(&queue, &s->queue) : -ENOMEM;
}

static void sink_fini(struct sink *s)
{
    workq_free(s->queue); /* first: a started queue delivers what waits */
    s->queue = NULL;
    char **fields[] = {
        &s->name, &s->command, &s->url, &s->ca_file, &s->sendmail, &s->to, &s->from
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        sw_free(*fields[i]);
        *fields[i] = NULL;
    }
}

int alert_sinks_new(const struct cfg *cfg, struct alert_sinks **out)
{
    SW_ASSERT(pthread_once(&curl_once, curl_init_once) == 0);
    struct alert_sinks *all = sw_calloc(1, sizeof(*all));
    if (all == NULL) {
        return -ENOMEM;
    }
    (void)pthread_mutex_init(&all->lock, NULL); /* defaults: cannot fail */
    size_t count =
        cfg->alert_sink_count < ALERT_SINKS_MAX ? cfg->alert_sink_count : ALERT_SINKS_MAX;
    all->items = sw_calloc(count != 0 ? count : 1, sizeof(*all->items));
    int rc = all->items != NULL ? 0 : -ENOMEM;
    for (size_t i = 0; i < count && rc == 0; i++) {
        all->count = i + 1;
        rc = sink_init(&all->items[i], all, &cfg->alert_sinks[i], cfg->alerts.queue_size);
    }
    if (rc != 0) {
        alert_sinks_free(all);
        return rc;
    }
    *out = all;
    return 0;
}

int alert_sinks_start(struct alert_sinks *sinks)
{
    sinks->is_started = true;
    for (size_t i = 0; i < sinks->count; i++) {
        int rc = workq_start(sinks->items[i].queue);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* The sinks with a queue: a failed alert_sinks_new leaves none from the failing one on. */
static size_t queue_count(const struct alert_sinks *sinks)
{
    size_t count = 0;
    while (sinks->items != NULL && count < sinks->count && sinks->items[count].queue != NULL) {
        count++;
    }
    return count;
}

void alert_sinks_stop(struct alert_sinks *sinks)
{
    (void)alert_sinks_flush(sinks, SINK_STOP_WAIT_MS);
    /* All at once: one sink's retries do not hold up the others' stop. */
    size_t count = queue_count(sinks);
    for (size_t i = 0; i < count; i++) {
        workq_stop_begin(sinks->items[i].queue);
    }
    for (size_t i = 0; i < count; i++) {
        workq_stop(sinks->items[i].queue);
    }
    sinks->is_started = false;
}

void alert_sinks_free(struct alert_sinks *sinks)
{
    if (sinks == NULL) {
        return;
    }
    alert_sinks_stop(sinks);
    for (size_t i = 0; sinks->items != NULL && i < sinks->count; i++) {
        sink_fini(&sinks->items[i]);
    }
    sw_free(sinks->items);
    sinks->items = NULL;
    pthread_mutex_destroy(&sinks->lock);
    sw_free(sinks);
}

size_t alert_sinks_count(const struct alert_sinks *sinks)
{
    return sinks->count;
}

long alert_sinks_find(const struct alert_sinks *sinks, const char *name)
{
    for (size_t i = 0; i < sinks->count; i++) {
        if (strcmp(sinks->items[i].name, name) == 0) {
            return (long)i;
        }
    }
    return -1;
}

const char *alert_sinks_name(const struct alert_sinks *sinks, size_t index)
{
    SW_ASSERT(index < sinks->count);
    return sinks->items[index].name;
}

void alert_sinks_push(struct alert_sinks *sinks, size_t index, const struct alert *alert)
{
    SW_ASSERT(index < sinks->count);
    struct sink *s = &sinks->items[index];
    if (!workq_push(s->queue, alert)) {
        count_one(sinks, &s->stats.dropped); /* the oldest gave way, or stopped */
    }
}

void alert_sinks_deliver(void *ctx, const struct alert *alert)
{
    struct alert_sinks *sinks = ctx;
    for (size_t i = 0; i < sinks->count && i < 64; i++) {
        if ((alert->sink_mask & ((uint64_t)1 << i)) != 0) {
            alert_sinks_push(sinks, i, alert);
        }
    }
}

bool alert_sinks_flush(struct alert_sinks *sinks, unsigned timeout_ms)
{
    uint64_t deadline_ms = sw_mono_ms() + timeout_ms;
    bool is_idle = true;
    size_t count = queue_count(sinks);
    for (size_t i = 0; i < count && is_idle; i++) {
        /* Without threads nothing changes: only look (a wait of 0). */
        uint64_t now_ms = sw_mono_ms();
        unsigned left_ms =
            sinks->is_started && now_ms < deadline_ms ? (unsigned)(deadline_ms - now_ms) : 0;
        is_idle = workq_wait_idle(sinks->items[i].queue, left_ms);
    }
    return is_idle;
}

void alert_sinks_stats(struct alert_sinks *sinks, size_t index, struct alert_sink_stats *out)
{
    SW_ASSERT(index < sinks->count);
    pthread_mutex_lock(&sinks->lock);
    *out = sinks->items[index].stats;
    pthread_mutex_unlock(&sinks->lock);
}
