#include "obs/alert_log.h"

#include <pthread.h>
#include <string.h>

#include "base/alloc.h"
#include "obs/recent.h"

struct alert_log {
    pthread_mutex_t lock;
    struct alert open[ALERT_LOG_OPEN]; /* in order of opening */
    size_t open_count;
    struct recent *recent;
};

struct alert_log *alert_log_new(void)
{
    struct alert_log *log = sw_calloc(1, sizeof(*log));
    if (log == NULL || (log->recent = recent_new(sizeof(struct alert), ALERT_LOG_RECENT)) == NULL) {
        sw_free(log);
        return NULL;
    }
    (void)pthread_mutex_init(&log->lock, NULL); /* defaults: cannot fail */
    return log;
}

void alert_log_free(struct alert_log *log)
{
    if (log == NULL) {
        return;
    }
    recent_free(log->recent);
    pthread_mutex_destroy(&log->lock);
    sw_free(log);
}

/* The open incident of the alert's rule and key, or NULL. Caller holds the lock. */
static size_t find_open(const struct alert_log *log, const struct alert *alert)
{
    for (size_t i = 0; i < log->open_count; i++) {
        if (strcmp(log->open[i].rule, alert->rule) == 0 &&
            strcmp(log->open[i].key, alert->key) == 0) {
            return i;
        }
    }
    return log->open_count;
}

static void remove_open(struct alert_log *log, size_t index)
{
    memmove(&log->open[index], &log->open[index + 1],
            (log->open_count - index - 1) * sizeof(log->open[0]));
    log->open_count--;
}

void alert_log_note(struct alert_log *log, const struct alert *alert)
{
    recent_push(log->recent, alert);
    if (alert->state == ALERT_TEST) {
        return;
    }
    pthread_mutex_lock(&log->lock);
    size_t i = find_open(log, alert);
    if (alert->state == ALERT_RESOLVED) {
        if (i < log->open_count) {
            remove_open(log, i);
        }
    } else if (i < log->open_count) {
        log->open[i] = *alert;
    } else {
        if (log->open_count == ALERT_LOG_OPEN) {
            remove_open(log, 0); /* the oldest goes: the table stays bounded */
        }
        log->open[log->open_count++] = *alert;
    }
    pthread_mutex_unlock(&log->lock);
}

size_t alert_log_open(struct alert_log *log, struct alert *out, size_t cap)
{
    pthread_mutex_lock(&log->lock);
    size_t count = log->open_count;
    if (out != NULL) {
        memcpy(out, log->open, (count < cap ? count : cap) * sizeof(*out));
    }
    pthread_mutex_unlock(&log->lock);
    return count;
}

size_t alert_log_recent(struct alert_log *log, struct alert *out, size_t cap)
{
    return recent_copy(log->recent, out, cap);
}
