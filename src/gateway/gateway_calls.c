/*
 * The operator's call commands over the control socket (gateway_obs.h): `calls list` and
 * `calls kill`. Each worker owns its calls, so the control thread posts one task to every
 * worker and waits for their answers. The request is shared and counted: a worker that
 * answers after the control thread gave up still finds it alive.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/log.h"
#include "call/b2bua.h"
#include "gateway/gateway_int.h"
#include "gateway/gateway_obs.h"

#define CALLS_LIST_MAX 4096
#define CALLS_WAIT_S   3
#define CALLS_WORD_CAP 64

struct calls_request {
    pthread_mutex_t lock;
    pthread_cond_t done;
    unsigned refs;    /* the control thread + each worker task still to run */
    unsigned pending; /* worker tasks still to run */
    bool is_kill;
    char id[CALLS_WORD_CAP];
    char account[CALLS_WORD_CAP];
    char trunk[CALLS_WORD_CAP];
    struct b2bua_call_filter filter;
    struct call_record *records; /* CALLS_LIST_MAX, for a list */
    size_t count;                /* records copied */
    size_t total;                /* calls matched (listed or ended) */
};

static void request_unref(struct calls_request *req)
{
    pthread_mutex_lock(&req->lock);
    bool is_last = --req->refs == 0;
    pthread_mutex_unlock(&req->lock);
    if (!is_last) {
        return;
    }
    pthread_cond_destroy(&req->done);
    pthread_mutex_destroy(&req->lock);
    sw_free(req->records);
    sw_free(req);
}

/* In each worker: list or end its matching calls, add them to the request. */
static void calls_task(struct worker *worker, void *arg)
{
    struct calls_request *req = arg;
    const struct gw_worker *state = worker_app_state(worker);
    struct call_record *mine = NULL;
    size_t matched = 0;
    if (state != NULL && state->b2bua != NULL && req->is_kill) {
        matched = b2bua_calls_kill(state->b2bua, &req->filter);
    } else if (state != NULL && state->b2bua != NULL) {
        /* Copy under our own buffer first: the lock is not held across the scan. */
        mine = sw_calloc(CALLS_LIST_MAX, sizeof(*mine));
        matched =
            mine != NULL ? b2bua_calls_list(state->b2bua, &req->filter, mine, CALLS_LIST_MAX) : 0;
    }
    pthread_mutex_lock(&req->lock);
    size_t copied = matched < CALLS_LIST_MAX ? matched : CALLS_LIST_MAX;
    for (size_t i = 0; mine != NULL && i < copied && req->count < CALLS_LIST_MAX; i++) {
        req->records[req->count++] = mine[i];
    }
    req->total += matched;
    req->pending--;
    pthread_cond_broadcast(&req->done);
    pthread_mutex_unlock(&req->lock);
    sw_free(mine);
    request_unref(req);
}

/* A word of the reply: never empty, no blanks or control bytes. */
static void reply_word(const char *text, char *out, size_t cap)
{
    size_t len = 0;
    for (const char *c = text; *c != '\0' && len + 1 < cap; c++) {
        out[len] = *c;
        if ((unsigned char)*c <= ' ' || *c == 0x7f) {
            out[len] = '?';
        }
        len++;
    }
    if (len == 0 && cap > 1) {
        out[len++] = '-';
    }
    out[len] = '\0';
}

static void format_call(const struct call_record *rec, char *out, size_t cap)
{
    char words[5][CALLS_WORD_CAP];
    reply_word(rec->policy.account, words[0], sizeof(words[0]));
    reply_word(rec->policy.trunk, words[1], sizeof(words[1]));
    reply_word(rec->src_addr, words[2], sizeof(words[2]));
    reply_word(rec->cid_received, words[3], sizeof(words[3]));
    reply_word(rec->dialled, words[4], sizeof(words[4]));
    (void)snprintf(out, cap, "call %s %s %s %s %s %s %s %llu %llu\n", rec->uniqueid,
                   rec->answer_us != 0 ? "answered" : "ringing", words[0], words[1], words[2],
                   words[3], words[4], (unsigned long long)(rec->setup_us / 1000000u),
                   (unsigned long long)(rec->answer_us / 1000000u));
}

/* Parses "list|kill [id ID | account A | trunk T]"; false when malformed. */
static bool parse_request(const char *line, struct calls_request *req)
{
    char verb[8] = "";
    char key[16] = "";
    char value[CALLS_WORD_CAP] = "";
    char extra[2] = "";
    int words = sscanf(line, "%7s %15s %63s %1s", verb, key, value, extra);
    req->is_kill = strcmp(verb, "kill") == 0;
    if ((!req->is_kill && strcmp(verb, "list") != 0) || words == 4 || words == 2) {
        return false;
    }
    if (words == 1) {
        return !req->is_kill; /* kill always names what it ends */
    }
    char *field = strcmp(key, "id") == 0        ? req->id
                  : strcmp(key, "account") == 0 ? req->account
                  : strcmp(key, "trunk") == 0   ? req->trunk
                                                : NULL;
    if (field == NULL || (!req->is_kill && field == req->id)) {
        return false;
    }
    (void)snprintf(field, CALLS_WORD_CAP, "%s", value);
    req->filter.id = req->id[0] != '\0' ? req->id : NULL;
    req->filter.account = req->account[0] != '\0' ? req->account : NULL;
    req->filter.trunk = req->trunk[0] != '\0' ? req->trunk : NULL;
    return true;
}

static struct calls_request *request_new(void)
{
    struct calls_request *req = sw_calloc(1, sizeof(*req));
    if (req == NULL) {
        return NULL;
    }
    req->records = sw_calloc(CALLS_LIST_MAX, sizeof(*req->records));
    if (req->records == NULL) {
        sw_free(req);
        return NULL;
    }
    (void)pthread_mutex_init(&req->lock, NULL); /* defaults: cannot fail */
    (void)pthread_cond_init(&req->done, NULL);
    req->refs = 1;
    return req;
}

/* Posts the task to every worker and waits for them (at most CALLS_WAIT_S); under no lock. */
static bool run_on_workers(struct gateway *gw, struct calls_request *req)
{
    unsigned count = net_group_worker_count(gw->net);
    bool is_posted = true;
    for (unsigned i = 0; i < count; i++) {
        pthread_mutex_lock(&req->lock);
        req->refs++;
        req->pending++;
        pthread_mutex_unlock(&req->lock);
        if (worker_post(net_group_worker(gw->net, i), calls_task, req) != 0) {
            pthread_mutex_lock(&req->lock);
            req->refs--;
            req->pending--;
            pthread_mutex_unlock(&req->lock);
            is_posted = false;
        }
    }
    struct timespec until;
    (void)clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += CALLS_WAIT_S;
    pthread_mutex_lock(&req->lock);
    int rc = 0;
    while (req->pending > 0 && rc == 0) {
        rc = pthread_cond_timedwait(&req->done, &req->lock, &until);
    }
    bool is_done = req->pending == 0;
    pthread_mutex_unlock(&req->lock);
    return is_posted && is_done;
}

static void write_reply(struct calls_request *req, bool is_complete, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; !req->is_kill && i < req->count; i++) {
        char line[512];
        format_call(&req->records[i], line, sizeof(line));
        if (len + strlen(line) + 64 >= cap) {
            break;
        }
        memcpy(out + len, line, strlen(line) + 1);
        len += strlen(line);
    }
    if (!req->is_kill && req->total > req->count) {
        len += (size_t)snprintf(out + len, cap - len, "more %zu\n", req->total - req->count);
    }
    if (!is_complete) {
        (void)snprintf(out + len, cap - len, "error: a worker did not answer in time\n");
    } else if (req->is_kill && req->total == 0) {
        (void)snprintf(out + len, cap - len, "error: no such call\n");
    } else if (req->is_kill) {
        (void)snprintf(out + len, cap - len, "killed %zu\nok\n", req->total);
    } else {
        (void)snprintf(out + len, cap - len, "ok\n");
    }
}

/* The workers may read the filter after gw_calls_run returned: the request keeps copies. */
static const char *copy_word(const char *word, char *out, size_t cap)
{
    if (word == NULL) {
        return NULL;
    }
    (void)snprintf(out, cap, "%s", word);
    return out;
}

static void request_set_filter(struct calls_request *req, const struct b2bua_call_filter *filter)
{
    req->filter.id = copy_word(filter->id, req->id, sizeof(req->id));
    req->filter.account = copy_word(filter->account, req->account, sizeof(req->account));
    req->filter.trunk = copy_word(filter->trunk, req->trunk, sizeof(req->trunk));
}

bool gw_calls_run(struct gateway *gw, const struct b2bua_call_filter *filter, bool is_kill,
                  struct gw_calls_list *out)
{
    out->count = 0;
    out->total = 0;
    struct calls_request *req = request_new();
    if (req == NULL) {
        return false;
    }
    req->is_kill = is_kill;
    request_set_filter(req, filter);
    bool is_complete = run_on_workers(gw, req);
    pthread_mutex_lock(&req->lock); /* a late worker may still add to it */
    for (size_t i = 0; out->records != NULL && i < req->count && i < out->cap; i++) {
        out->records[i] = req->records[i];
        out->count = i + 1;
    }
    out->total = req->total;
    pthread_mutex_unlock(&req->lock);
    request_unref(req);
    return is_complete;
}

void gw_calls_handle(struct gateway *gw, const char *line, char *out, size_t cap)
{
    struct calls_request *req = request_new();
    if (req == NULL) {
        (void)snprintf(out, cap, "error: out of memory\n");
        return;
    }
    if (!parse_request(line, req)) {
        (void)snprintf(out, cap,
                       "error: unknown request (calls list [account A | trunk T] | "
                       "calls kill id ID | account A | trunk T)\n");
        request_unref(req);
        return;
    }
    bool is_complete = run_on_workers(gw, req);
    pthread_mutex_lock(&req->lock); /* a late worker may still add to it */
    write_reply(req, is_complete, out, cap);
    pthread_mutex_unlock(&req->lock);
    if (req->is_kill && req->total > 0) {
        log_notice(NULL, "control: the operator ended %zu call(s) (%s)", req->total, line);
    }
    request_unref(req);
}
