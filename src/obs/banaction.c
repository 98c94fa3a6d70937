#include "obs/banaction.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/log.h"
#include "base/time.h"
#include "base/workq.h"
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
    struct workq *queue; /* of struct ba_op, drained on stop */
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
    workq_free(a->queue); /* first: it runs what is queued */
    a->queue = NULL;
    sw_free(a->nft_path);
    sw_free(a->nft_family);
    sw_free(a->nft_table);
    sw_free(a->nft_set_v4);
    sw_free(a->nft_set_v6);
    sw_free(a->command);
}

static void action_run(void *ctx, void *items, size_t count);

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
    struct workq_config queue = {
        .item_size = sizeof(struct ba_op),
        .capacity = cfg->queue_cap != 0 ? cfg->queue_cap : BA_DEFAULT_QUEUE,
        .is_drained_on_stop = true,
        .run = action_run,
        .ctx = a,
    };
    int err = is_ok ? workq_new(&queue, &a->queue) : -ENOMEM;
    return err != 0 ? err : workq_start(a->queue);
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
    if (err != 0) {
        action_free_fields(a);
        sw_free(a);
        return err;
    }
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

static void action_run(void *ctx, void *items, size_t count)
{
    const struct ba_op *ops = items;
    for (size_t i = 0; i < count; i++) {
        perform(ctx, &ops[i]);
    }
}

static void action_publish(void *backend, enum ban_change change, const struct ban_entry *entry)
{
    struct banaction *a = backend;
    struct ba_op op = { .change = change, .entry = *entry };
    if (!workq_push(a->queue, &op)) {
        atomic_fetch_add_explicit(&a->dropped, 1, memory_order_relaxed);
    }
}

void banaction_free(struct banaction *action)
{
    if (action == NULL) {
        return;
    }
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
    return workq_wait_idle(action->queue, timeout_ms);
}
