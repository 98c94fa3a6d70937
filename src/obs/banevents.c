#include "obs/banevents.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"

struct banevents {
    struct evq *queue;
    unsigned producer;
    pthread_mutex_t lock;
};

int banevents_new(struct evq *queue, unsigned producer, struct banevents **out)
{
    struct banevents *be = sw_calloc(1, sizeof(*be));
    if (be == NULL) {
        return -ENOMEM;
    }
    if (pthread_mutex_init(&be->lock, NULL) != 0) {
        sw_free(be);
        return -ENOMEM;
    }
    be->queue = queue;
    be->producer = producer;
    *out = be;
    return 0;
}

/* The address as a socket address with port 0 (the event's remote). */
static void remote_of(const struct sw_ip *ip, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    if (sw_ip_is_v4(ip)) {
        struct sockaddr_in *sin = (struct sockaddr_in *)out;
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, ip->bytes + 12, 4);
        return;
    }
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
    sin6->sin6_family = AF_INET6;
    memcpy(&sin6->sin6_addr, ip->bytes, 16);
}

static void format_end(int64_t end_s, char *out, size_t cap)
{
    struct tm tm;
    time_t t = (time_t)end_s;
    if (end_s == BAN_FOREVER || gmtime_r(&t, &tm) == NULL ||
        strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        (void)snprintf(out, cap, "never");
    }
}

void banevents_fill(enum ban_change change, const struct ban_entry *entry, struct sw_event *event)
{
    sw_event_init(event, change == BAN_CHANGE_ADD ? EV_BAN_ADDED : EV_BAN_REMOVED);
    remote_of(&entry->ip, &event->remote);
    char end[32];
    format_end(entry->end_s, end, sizeof(end));
    const char *what =
        change == BAN_CHANGE_ADD ? "" : (change == BAN_CHANGE_DEL ? "lifted " : "ended ");
    (void)snprintf(event->detail, sizeof(event->detail), "%soffence=%u source=%s end=%s reason=%s",
                   what, entry->offence, ban_source_name(entry->source), end, entry->reason);
    (void)snprintf(event->module, sizeof(event->module), "ban");
}

static void banevents_publish(void *backend, enum ban_change change, const struct ban_entry *entry)
{
    struct banevents *be = backend;
    struct sw_event event;
    banevents_fill(change, entry, &event);
    pthread_mutex_lock(&be->lock);
    evq_push(be->queue, be->producer, &event);
    pthread_mutex_unlock(&be->lock);
}

static void banevents_close(void *backend)
{
    struct banevents *be = backend;
    if (be == NULL) {
        return;
    }
    pthread_mutex_destroy(&be->lock);
    sw_free(be);
}

const struct ban_store_ops banevents_ops = {
    .name = "banevents",
    .publish = banevents_publish,
    .close = banevents_close,
};
