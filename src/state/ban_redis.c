#include "state/ban_redis.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"
#include "base/log.h"
#include "base/time.h"
#include "base/workq.h"
#include "state/redis_link.h"

#define RDS_DEFAULT_HISTORY (30u * 86400u)
#define RDS_DEFAULT_QUEUE   4096u
#define RDS_TEXT_MAX        (64 + BAN_REASON_CAP + 2 * REDIS_LINK_NAME_MAX)
#define RDS_POLL_MS         200
#define RDS_SCAN_COUNT      "500"
#define RDS_SCAN_MAX_ROUNDS 100000

struct rds_op {
    enum ban_change change;
    struct ban_entry entry;
};

struct ban_redis {
    struct redis_link link;
    char prefix[REDIS_LINK_NAME_MAX + 1];
    char node[REDIS_LINK_NAME_MAX + 1];
    char channel[REDIS_LINK_NAME_MAX + 8];
    uint32_t history_s;
    struct ban_store *store;
    struct workq *queue; /* of struct rds_op; its thread, started by load, is the writer */
    atomic_bool is_resync_wanted;
    atomic_bool is_stopping;
    redisContext *conn; /* the writer's */
    unsigned backoff_ms;
    bool is_logged;
    pthread_t subscriber;
    bool is_subscriber_started;
    _Atomic uint64_t written;
    _Atomic uint64_t received;
    _Atomic uint64_t dropped;
    _Atomic uint64_t reconnects;
    _Atomic uint64_t errors;
};

static int configure(struct ban_redis *r, const struct ban_redis_config *cfg)
{
    const char *host = cfg->host;
    const char *prefix = cfg->prefix != NULL ? cfg->prefix : "sipwarden:";
    char node[REDIS_LINK_NAME_MAX + 1];
    if (cfg->node_id != NULL) {
        (void)snprintf(node, sizeof(node), "%s", cfg->node_id);
    } else {
        char name[48] = "node";
        if (gethostname(name, sizeof(name)) != 0) {
            (void)snprintf(name, sizeof(name), "node");
        }
        name[sizeof(name) - 1] = '\0';
        (void)snprintf(node, sizeof(node), "%s:%ld", name, (long)getpid());
    }
    if (!redis_link_init(&r->link, host, cfg->port, cfg->timeout_ms, "ban_redis", &r->errors) ||
        !redis_link_set_login(&r->link, cfg->user, cfg->password) ||
        !redis_link_is_name(prefix, true) || !redis_link_is_name(node, true)) {
        return -SW_EBADARG;
    }
    (void)snprintf(r->prefix, sizeof(r->prefix), "%s", prefix);
    (void)snprintf(r->node, sizeof(r->node), "%s", node);
    (void)snprintf(r->channel, sizeof(r->channel), "%sbans", prefix);
    r->history_s = cfg->history_s != 0 ? cfg->history_s : RDS_DEFAULT_HISTORY;
    return 0;
}

static void writer_run(void *ctx, void *items, size_t count);

int ban_redis_open(const struct ban_redis_config *cfg, struct ban_redis **out)
{
    if (cfg->queue_cap > (1u << 20)) {
        return -SW_EBADARG;
    }
    struct ban_redis *r = sw_calloc(1, sizeof(*r));
    if (r == NULL) {
        return -ENOMEM;
    }
    int err = configure(r, cfg);
    struct workq_config queue = {
        .item_size = sizeof(struct rds_op),
        .capacity = cfg->queue_cap != 0 ? cfg->queue_cap : RDS_DEFAULT_QUEUE,
        .is_drained_on_stop = true,
        .run = writer_run,
        .ctx = r,
    };
    if (err == 0) {
        err = workq_new(&queue, &r->queue);
    }
    r->backoff_ms = REDIS_LINK_BACKOFF_MIN_MS;
    if (err != 0) {
        redis_link_fini(&r->link);
        sw_free(r);
        return err;
    }
    *out = r;
    return 0;
}

static int format_add(const struct ban_redis *r, const struct ban_entry *e, char *out, size_t cap)
{
    char ip[SW_ADDR_STRLEN];
    sw_ip_format(&e->ip, ip, sizeof(ip));
    return snprintf(out, cap, "v1 add %s %s %lld %lld %u %s %s", r->node, ip, (long long)e->start_s,
                    (long long)e->end_s, e->offence, ban_source_name(e->source), e->reason);
}

/* Takes the next space-separated token from `cur`. */
static bool next_token(struct sv *cur, struct sv *token)
{
    return sv_take_until(cur, ' ', token) && token->len > 0;
}

static bool parse_i64(struct sv s, int64_t *out)
{
    uint64_t v;
    if (!sv_to_u64(s, &v) || v > (uint64_t)INT64_MAX) {
        return false;
    }
    *out = (int64_t)v;
    return true;
}

/* Parses a key value or message; *change is ADD or DEL; `node` gets the sender. */
static bool parse_text(struct sv text, enum ban_change *change, struct sv *node,
                       struct ban_entry *e)
{
    struct sv cur = text;
    struct sv version;
    struct sv op;
    struct sv ip;
    memset(e, 0, sizeof(*e));
    if (!next_token(&cur, &version) || !sv_eq(version, SV("v1")) || !next_token(&cur, &op) ||
        !next_token(&cur, node)) {
        return false;
    }
    bool has_rest = sv_take_until(&cur, ' ', &ip);
    if (!sw_ip_parse(ip, &e->ip)) {
        return false;
    }
    if (sv_eq(op, SV("del"))) {
        *change = BAN_CHANGE_DEL;
        return true;
    }
    struct sv start;
    struct sv end;
    struct sv offence;
    struct sv source;
    uint32_t n;
    if (!sv_eq(op, SV("add")) || !has_rest || !next_token(&cur, &start) ||
        !next_token(&cur, &end) || !next_token(&cur, &offence) || !parse_i64(start, &e->start_s) ||
        !parse_i64(end, &e->end_s) || !sv_to_u32(offence, &n)) {
        return false;
    }
    (void)sv_take_until(&cur, ' ', &source);
    e->offence = n;
    e->source = sv_eq(source, SV("manual")) ? BAN_SOURCE_MANUAL : BAN_SOURCE_AUTO;
    size_t len = cur.len < sizeof(e->reason) - 1 ? cur.len : sizeof(e->reason) - 1;
    if (len > 0) {
        memcpy(e->reason, cur.ptr, len);
    }
    *change = BAN_CHANGE_ADD;
    return true;
}

/*
 * Applies a key value or message from Redis. Messages we published ourselves are
 * skipped; keys are applied whoever wrote them (a node that restarts with the same id
 * gets its bans back).
 */
static void apply_text(struct ban_redis *r, struct sv text, bool is_message)
{
    enum ban_change change;
    struct sv node;
    struct ban_entry entry;
    if (!parse_text(text, &change, &node, &entry)) {
        atomic_fetch_add_explicit(&r->errors, 1, memory_order_relaxed);
        return;
    }
    if (is_message && sv_eq(node, sv_from_cstr(r->node))) {
        return;
    }
    int err = ban_store_apply(r->store, change, &entry, sw_wall_s(), r);
    if (err == 0 || err == -SW_ENOTFOUND) {
        atomic_fetch_add_explicit(&r->received, 1, memory_order_relaxed);
    }
}

static bool write_change(struct ban_redis *r, redisContext *c, const struct rds_op *op)
{
    char key[REDIS_LINK_NAME_MAX + 8 + SW_ADDR_STRLEN];
    char ip[SW_ADDR_STRLEN];
    char text[RDS_TEXT_MAX];
    sw_ip_format(&op->entry.ip, ip, sizeof(ip));
    (void)snprintf(key, sizeof(key), "%sban:%s", r->prefix, ip);
    if (op->change == BAN_CHANGE_DEL) {
        (void)snprintf(text, sizeof(text), "v1 del %s %s", r->node, ip);
        const char *del[] = { "DEL", key };
        const char *pub[] = { "PUBLISH", r->channel, text };
        return redis_link_command(c, 2, del) && redis_link_command(c, 3, pub);
    }
    (void)format_add(r, &op->entry, text, sizeof(text));
    int64_t now = sw_wall_s();
    bool is_forever = op->entry.end_s == BAN_FOREVER;
    int64_t ttl = is_forever ? 0 : op->entry.end_s + (int64_t)r->history_s - now;
    if (!is_forever && ttl <= 0) {
        return true; /* already forgotten everywhere */
    }
    char ttl_text[24];
    (void)snprintf(ttl_text, sizeof(ttl_text), "%lld", (long long)ttl);
    const char *set[] = { "SET", key, text, "EX", ttl_text };
    const char *pub[] = { "PUBLISH", r->channel, text };
    return redis_link_command(c, is_forever ? 3 : 5, set) && redis_link_command(c, 3, pub);
}

/* Re-sends every active ban after the queue dropped changes. */
static bool resync(struct ban_redis *r, redisContext *c)
{
    size_t cap = ban_store_capacity(r->store);
    struct ban_entry *entries = sw_calloc(cap, sizeof(*entries));
    if (entries == NULL) {
        return false;
    }
    size_t count = ban_store_list(r->store, sw_wall_s(), entries, cap);
    count = count < cap ? count : cap;
    bool is_ok = true;
    for (size_t i = 0; i < count && is_ok; i++) {
        struct rds_op op = { .change = BAN_CHANGE_ADD, .entry = entries[i] };
        is_ok = write_change(r, c, &op);
    }
    sw_free(entries);
    return is_ok;
}

/*
 * Redis was lost, and may come back empty (restarted without persistence): once it
 * answers, the writer writes every active ban again, not only the queued changes.
 */
static void want_resync(struct ban_redis *r)
{
    atomic_store(&r->is_resync_wanted, true);
    workq_kick(r->queue);
}

/* One attempt at the resync or at `op`, connecting first if needed. False when it failed. */
static bool write_once(struct ban_redis *r, const struct rds_op *op, bool is_resync)
{
    bool is_stopping = atomic_load(&r->is_stopping);
    if (r->conn == NULL && !is_stopping &&
        (r->conn = redis_link_connect(&r->link, &r->is_logged)) == NULL) {
        (void)redis_link_pause(&r->is_stopping, r->backoff_ms);
        r->backoff_ms = redis_link_backoff(r->backoff_ms);
        return false;
    }
    bool is_ok = r->conn != NULL && (is_resync ? resync(r, r->conn) : write_change(r, r->conn, op));
    if (!is_ok && !is_stopping) {
        redis_link_error(&r->link, "write to", r->conn, &r->is_logged);
        redisFree(r->conn);
        r->conn = NULL;
        want_resync(r);
        atomic_fetch_add_explicit(&r->reconnects, 1, memory_order_relaxed);
    }
    if (!is_ok) {
        return false;
    }
    if (r->is_logged) {
        log_notice(NULL, "ban_redis: %s:%d reachable again", r->link.host, r->link.port);
    }
    r->is_logged = false;
    r->backoff_ms = REDIS_LINK_BACKOFF_MIN_MS;
    atomic_fetch_add_explicit(&r->written, 1, memory_order_relaxed);
    return true;
}

/*
 * The writer: a wanted resync first, then the change, each retried until Redis takes it.
 * When stopping, what is queued is written if Redis answers, without retries (SQLite and
 * the table keep it).
 */
static void writer_run(void *ctx, void *items, size_t count)
{
    struct ban_redis *r = ctx;
    const struct rds_op *op = count > 0 ? items : NULL;
    for (;;) {
        bool is_resync = atomic_load(&r->is_resync_wanted);
        if (!is_resync && op == NULL) {
            return;
        }
        if (!write_once(r, op, is_resync)) {
            if (atomic_load(&r->is_stopping)) {
                return;
            }
        } else if (is_resync) {
            atomic_store(&r->is_resync_wanted, false);
        } else {
            op = NULL;
        }
    }
}

/* Reads every shared ban (SCAN + GET) into the store. False on a connection error. */
static bool scan_all(struct ban_redis *r, redisContext *c)
{
    char match[REDIS_LINK_NAME_MAX + 8];
    (void)snprintf(match, sizeof(match), "%sban:*", r->prefix);
    char cursor[32] = "0";
    for (int round = 0; round < RDS_SCAN_MAX_ROUNDS; round++) {
        const char *argv[] = { "SCAN", cursor, "MATCH", match, "COUNT", RDS_SCAN_COUNT };
        size_t lens[6];
        for (int i = 0; i < 6; i++) {
            lens[i] = strlen(argv[i]);
        }
        redisReply *reply = redisCommandArgv(c, 6, argv, lens);
        if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
            reply->element[0]->type != REDIS_REPLY_STRING) {
            if (reply != NULL) {
                freeReplyObject(reply);
            }
            return false;
        }
        (void)snprintf(cursor, sizeof(cursor), "%s", reply->element[0]->str);
        const redisReply *keys = reply->element[1];
        for (size_t k = 0; k < keys->elements; k++) {
            redisReply *value =
                redisCommand(c, "GET %b", keys->element[k]->str, (size_t)keys->element[k]->len);
            if (value != NULL && value->type == REDIS_REPLY_STRING) {
                apply_text(r, sv_make(value->str, (size_t)value->len), false);
            }
            if (value != NULL) {
                freeReplyObject(value);
            }
        }
        freeReplyObject(reply);
        if (strcmp(cursor, "0") == 0) {
            return true;
        }
    }
    return true;
}

static void handle_message(struct ban_redis *r, const redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
        reply->element[0]->type != REDIS_REPLY_STRING ||
        strcmp(reply->element[0]->str, "message") != 0 ||
        reply->element[2]->type != REDIS_REPLY_STRING) {
        return;
    }
    apply_text(r, sv_make(reply->element[2]->str, (size_t)reply->element[2]->len), true);
}

/* Reads messages until an error or the stop; the socket is polled so stop is seen. */
static void read_messages(struct ban_redis *r, redisContext *c)
{
    while (!atomic_load(&r->is_stopping)) {
        void *reply = NULL;
        if (redisGetReplyFromReader(c, &reply) != REDIS_OK) {
            return;
        }
        if (reply != NULL) {
            handle_message(r, reply);
            freeReplyObject(reply);
            continue;
        }
        struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
        int n = poll(&pfd, 1, RDS_POLL_MS);
        if (n == -1 && errno != EINTR) {
            return;
        }
        if (n > 0 && redisBufferRead(c) != REDIS_OK) {
            return;
        }
    }
}

/* Subscribes on `sub`, then catches up through a second connection. */
static bool subscribe_and_catch_up(struct ban_redis *r, redisContext *sub, bool *is_logged)
{
    const char *argv[] = { "SUBSCRIBE", r->channel };
    if (!redis_link_command(sub, 2, argv)) {
        return false;
    }
    redisContext *c = redis_link_connect(&r->link, is_logged);
    if (c == NULL) {
        return false;
    }
    bool is_ok = scan_all(r, c);
    redisFree(c);
    return is_ok;
}

static void *subscriber_main(void *arg)
{
    struct ban_redis *r = arg;
    unsigned backoff = REDIS_LINK_BACKOFF_MIN_MS;
    bool is_logged = false;
    bool is_first = true;
    while (!atomic_load(&r->is_stopping)) {
        redisContext *sub = redis_link_connect(&r->link, &is_logged);
        if (sub != NULL && subscribe_and_catch_up(r, sub, &is_logged)) {
            if (!is_first) {
                atomic_fetch_add_explicit(&r->reconnects, 1, memory_order_relaxed);
            }
            is_first = false;
            is_logged = false;
            backoff = REDIS_LINK_BACKOFF_MIN_MS;
            read_messages(r, sub);
            if (!atomic_load(&r->is_stopping)) {
                redis_link_error(&r->link, "lost the subscription to", sub, &is_logged);
                want_resync(r);
            }
        }
        if (sub != NULL) {
            redisFree(sub);
        }
        (void)redis_link_pause(&r->is_stopping, backoff);
        backoff = redis_link_backoff(backoff);
    }
    return NULL;
}

static int redis_load(void *backend, struct ban_store *store, int64_t now_s)
{
    (void)now_s;
    struct ban_redis *r = backend;
    r->store = store;
    bool is_logged = false;
    redisContext *c = redis_link_connect(&r->link, &is_logged);
    if (c != NULL) {
        if (!scan_all(r, c)) {
            redis_link_error(&r->link, "cannot read the shared bans from", c, &is_logged);
        }
        redisFree(c);
    }
    int err = workq_start(r->queue);
    if (err != 0) {
        return err;
    }
    err = pthread_create(&r->subscriber, NULL, subscriber_main, r);
    if (err != 0) {
        return -err;
    }
    r->is_subscriber_started = true;
    return 0;
}

static void redis_publish(void *backend, enum ban_change change, const struct ban_entry *entry)
{
    struct ban_redis *r = backend;
    if (change == BAN_CHANGE_EXPIRE) {
        return; /* keys expire by their TTL */
    }
    struct rds_op op = { .change = change, .entry = *entry };
    if (!workq_push(r->queue, &op)) {
        atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
        want_resync(r);
    }
}

static void redis_close(void *backend)
{
    struct ban_redis *r = backend;
    if (r == NULL) {
        return;
    }
    atomic_store(&r->is_stopping, true);
    workq_free(r->queue); /* the writer writes what is queued if Redis answers */
    r->queue = NULL;
    if (r->is_subscriber_started) {
        int err = pthread_join(r->subscriber, NULL);
        SW_ASSERT(err == 0);
    }
    if (r->conn != NULL) {
        redisFree(r->conn);
    }
    redis_link_fini(&r->link);
    sw_free(r);
}

const struct ban_store_ops ban_redis_ops = {
    .name = "redis",
    .load = redis_load,
    .publish = redis_publish,
    .close = redis_close,
};

void ban_redis_stats_get(struct ban_redis *r, struct ban_redis_stats *out)
{
    out->written = atomic_load_explicit(&r->written, memory_order_relaxed);
    out->received = atomic_load_explicit(&r->received, memory_order_relaxed);
    out->dropped = atomic_load_explicit(&r->dropped, memory_order_relaxed);
    out->reconnects = atomic_load_explicit(&r->reconnects, memory_order_relaxed);
    out->errors = atomic_load_explicit(&r->errors, memory_order_relaxed);
}
