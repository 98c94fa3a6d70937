#include "obs/banaction.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"
#include "base/log.h"
#include "base/time.h"
#include "obs/spawn.h"

#define BA_DEFAULT_TIMEOUT_MS 5000u
#define BA_DEFAULT_QUEUE      1024u
#define BA_NAME_MAX           64

struct ba_op {
    enum ban_change change;
    struct ban_entry entry;
};

struct banaction {
    char *nft_path;
    char *nft_family;
    char *nft_table;
    char *nft_set_v4;
    char *nft_set_v6;
    char *command;
    unsigned timeout_ms;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct ba_op *queue;
    size_t queue_cap;
    size_t queue_head;
    size_t queue_len;
    bool is_busy; /* the thread is running an action */
    bool is_stopping;
    pthread_t thread;
    bool is_thread_started;
    _Atomic uint64_t spawned;
    _Atomic uint64_t failed;
    _Atomic uint64_t dropped;
};

static bool is_valid_name(const char *name)
{
    size_t len = name != NULL ? strlen(name) : 0;
    if (len == 0 || len > BA_NAME_MAX) {
        return false;
    }
    bool is_alpha0 = (name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z');
    if (!is_alpha0) {
        return false;
    }
    for (size_t i = 1; i < len; i++) {
        char c = name[i];
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static bool is_valid_family(const char *family)
{
    static const char *const families[] = { "ip", "ip6", "inet", "arp", "bridge", "netdev" };
    for (size_t i = 0; family != NULL && i < sizeof(families) / sizeof(families[0]); i++) {
        if (strcmp(family, families[i]) == 0) {
            return true;
        }
    }
    return false;
}

static bool is_set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* The reason a configuration is refused, or NULL when it is fine. */
static const char *config_problem(const struct banaction_config *cfg)
{
    if (is_set(cfg->nft_path)) {
        if (!is_valid_family(cfg->nft_family)) {
            return "nft family must be ip, ip6, inet, arp, bridge or netdev";
        }
        if (!is_valid_name(cfg->nft_table)) {
            return "nft table name must match [A-Za-z][A-Za-z0-9_]{0,63}";
        }
        if ((is_set(cfg->nft_set_v4) && !is_valid_name(cfg->nft_set_v4)) ||
            (is_set(cfg->nft_set_v6) && !is_valid_name(cfg->nft_set_v6)) ||
            (!is_set(cfg->nft_set_v4) && !is_set(cfg->nft_set_v6))) {
            return "nft set names must match [A-Za-z][A-Za-z0-9_]{0,63}, at least one given";
        }
        bool is_bare = strchr(cfg->nft_path, '/') == NULL;
        if (!is_bare && cfg->nft_path[0] != '/') {
            return "nft path must be absolute or a bare name looked up on PATH";
        }
    }
    if (is_set(cfg->command) && (cfg->command[0] != '/' || access(cfg->command, X_OK) != 0)) {
        return "command must be the absolute path of an executable";
    }
    return NULL;
}

static char *dup_opt(const char *s, bool *is_ok)
{
    if (!is_set(s)) {
        return NULL;
    }
    char *copy = sw_strdup(s);
    *is_ok = *is_ok && copy != NULL;
    return copy;
}

static void action_free_fields(struct banaction *a)
{
    sw_free(a->nft_path);
    sw_free(a->nft_family);
    sw_free(a->nft_table);
    sw_free(a->nft_set_v4);
    sw_free(a->nft_set_v6);
    sw_free(a->command);
    sw_free(a->queue);
    a->queue = NULL;
}

static void *action_main(void *arg);

static int action_init(struct banaction *a, const struct banaction_config *cfg)
{
    bool is_ok = true;
    if (is_set(cfg->nft_path)) {
        a->nft_path = dup_opt(cfg->nft_path, &is_ok);
        a->nft_family = dup_opt(cfg->nft_family, &is_ok);
        a->nft_table = dup_opt(cfg->nft_table, &is_ok);
        a->nft_set_v4 = dup_opt(cfg->nft_set_v4, &is_ok);
        a->nft_set_v6 = dup_opt(cfg->nft_set_v6, &is_ok);
    }
    a->command = dup_opt(cfg->command, &is_ok);
    a->timeout_ms = cfg->timeout_ms != 0 ? cfg->timeout_ms : BA_DEFAULT_TIMEOUT_MS;
    a->queue_cap = cfg->queue_cap != 0 ? cfg->queue_cap : BA_DEFAULT_QUEUE;
    a->queue = sw_calloc(a->queue_cap, sizeof(*a->queue));
    return is_ok && a->queue != NULL ? 0 : -ENOMEM;
}

int banaction_new(const struct banaction_config *cfg, struct banaction **out)
{
    const char *problem = config_problem(cfg);
    if (problem != NULL || cfg->queue_cap > (1u << 20)) {
        log_err(NULL, "banaction: %s", problem != NULL ? problem : "queue too large");
        return -SW_EBADARG;
    }
    struct banaction *a = sw_calloc(1, sizeof(*a));
    if (a == NULL) {
        return -ENOMEM;
    }
    int err = action_init(a, cfg);
    if (err == 0 && pthread_mutex_init(&a->lock, NULL) != 0) {
        err = -ENOMEM;
    }
    if (err == 0 && pthread_cond_init(&a->wake, NULL) != 0) {
        pthread_mutex_destroy(&a->lock);
        err = -ENOMEM;
    }
    if (err != 0) {
        action_free_fields(a);
        sw_free(a);
        return err;
    }
    err = pthread_create(&a->thread, NULL, action_main, a);
    if (err != 0) {
        pthread_cond_destroy(&a->wake);
        pthread_mutex_destroy(&a->lock);
        action_free_fields(a);
        sw_free(a);
        return -err;
    }
    a->is_thread_started = true;
    *out = a;
    return 0;
}

size_t banaction_nft_argv(const struct banaction *action, enum ban_change change,
                          const struct ban_entry *entry, int64_t now_s, struct banaction_argv *out)
{
    if (action->nft_path == NULL) {
        return 0;
    }
    const char *set = sw_ip_is_v4(&entry->ip) ? action->nft_set_v4 : action->nft_set_v6;
    bool is_add = change == BAN_CHANGE_ADD;
    if (set == NULL || (is_add && entry->end_s <= now_s)) {
        return 0;
    }
    char ip[SW_ADDR_STRLEN];
    sw_ip_format(&entry->ip, ip, sizeof(ip));
    /* A deletion, or a ban without end, carries no timeout. */
    int n = is_add && entry->end_s != BAN_FOREVER
                ? snprintf(out->element, sizeof(out->element), "{ %s timeout %llds }", ip,
                           (long long)(entry->end_s - now_s))
                : snprintf(out->element, sizeof(out->element), "{ %s }", ip);
    if (n < 0 || (size_t)n >= sizeof(out->element)) {
        return 0;
    }
    size_t argc = 0;
    out->argv[argc++] = action->nft_path;
    out->argv[argc++] = is_add ? "add" : "delete";
    out->argv[argc++] = "element";
    out->argv[argc++] = action->nft_family;
    out->argv[argc++] = action->nft_table;
    out->argv[argc++] = set;
    out->argv[argc++] = out->element;
    out->argv[argc] = NULL;
    return argc;
}

static void run(struct banaction *a, const char *const *argv, bool use_path)
{
    int rc = obs_spawn_run(argv, use_path, SV_NULL, a->timeout_ms, "banaction");
    bool is_started = rc == 0 || rc == -SW_EIO || rc == -ETIMEDOUT;
    if (!is_started) {
        atomic_fetch_add_explicit(&a->failed, 1, memory_order_relaxed);
        return; /* not started (logged) */
    }
    atomic_fetch_add_explicit(&a->spawned, 1, memory_order_relaxed);
    if (rc != 0) {
        log_info(NULL, "banaction: %s %s failed", argv[0], argv[1]);
        atomic_fetch_add_explicit(&a->failed, 1, memory_order_relaxed);
    }
}

static void perform(struct banaction *a, const struct ba_op *op)
{
    int64_t now = sw_wall_s();
    struct banaction_argv nft;
    if (banaction_nft_argv(a, op->change, &op->entry, now, &nft) > 0) {
        run(a, nft.argv, strchr(a->nft_path, '/') == NULL);
    }
    if (a->command == NULL || (op->change == BAN_CHANGE_ADD && op->entry.end_s <= now)) {
        return;
    }
    char ip[SW_ADDR_STRLEN];
    char seconds[24];
    sw_ip_format(&op->entry.ip, ip, sizeof(ip));
    long long remaining = op->change != BAN_CHANGE_ADD || op->entry.end_s == BAN_FOREVER
                              ? 0
                              : (long long)(op->entry.end_s - now);
    (void)snprintf(seconds, sizeof(seconds), "%lld", remaining);
    const char *cmd_argv[] = { a->command, op->change == BAN_CHANGE_ADD ? "ban" : "unban", ip,
                               seconds, NULL };
    run(a, cmd_argv, false);
}

static void *action_main(void *arg)
{
    struct banaction *a = arg;
    pthread_mutex_lock(&a->lock);
    for (;;) {
        while (a->queue_len == 0 && !a->is_stopping) {
            pthread_cond_wait(&a->wake, &a->lock);
        }
        if (a->queue_len == 0) {
            break;
        }
        struct ba_op op = a->queue[a->queue_head];
        a->queue_head = (a->queue_head + 1) % a->queue_cap;
        a->queue_len--;
        a->is_busy = true;
        pthread_mutex_unlock(&a->lock);
        perform(a, &op);
        pthread_mutex_lock(&a->lock);
        a->is_busy = false;
        pthread_cond_broadcast(&a->wake);
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

static void action_publish(void *backend, enum ban_change change, const struct ban_entry *entry)
{
    struct banaction *a = backend;
    pthread_mutex_lock(&a->lock);
    if (a->queue_len == a->queue_cap) {
        atomic_fetch_add_explicit(&a->dropped, 1, memory_order_relaxed);
    } else {
        size_t tail = (a->queue_head + a->queue_len) % a->queue_cap;
        a->queue[tail] = (struct ba_op){ .change = change, .entry = *entry };
        a->queue_len++;
        pthread_cond_broadcast(&a->wake);
    }
    pthread_mutex_unlock(&a->lock);
}

void banaction_free(struct banaction *action)
{
    if (action == NULL) {
        return;
    }
    if (action->is_thread_started) {
        pthread_mutex_lock(&action->lock);
        action->is_stopping = true;
        pthread_cond_broadcast(&action->wake);
        pthread_mutex_unlock(&action->lock);
        int err = pthread_join(action->thread, NULL);
        SW_ASSERT(err == 0);
    }
    pthread_cond_destroy(&action->wake);
    pthread_mutex_destroy(&action->lock);
    action_free_fields(action);
    sw_free(action);
}

static void action_close(void *backend)
{
    banaction_free(backend);
}

const struct ban_store_ops banaction_ops = {
    .name = "banaction",
    .publish = action_publish,
    .close = action_close,
};

void banaction_stats_get(struct banaction *action, struct banaction_stats *out)
{
    out->spawned = atomic_load_explicit(&action->spawned, memory_order_relaxed);
    out->failed = atomic_load_explicit(&action->failed, memory_order_relaxed);
    out->dropped = atomic_load_explicit(&action->dropped, memory_order_relaxed);
}

bool banaction_wait_idle(struct banaction *action, unsigned timeout_ms)
{
    struct timespec until;
    (void)clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&action->lock);
    bool is_idle = true;
    while (action->queue_len > 0 || action->is_busy) {
        if (pthread_cond_timedwait(&action->wake, &action->lock, &until) != 0) {
            is_idle = false;
            break;
        }
    }
    pthread_mutex_unlock(&action->lock);
    return is_idle;
}
