#include "state/redis_link.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/assert.h"
#include "base/err.h"
#include "base/log.h"

#define LINK_DEFAULT_PORT    6379
#define LINK_DEFAULT_TIMEOUT 1000u

bool redis_link_is_name(const char *s, bool allow_colon)
{
    size_t len = strlen(s);
    if (len == 0 || len > REDIS_LINK_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.' || (c == ':' && allow_colon);
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool redis_link_init(struct redis_link *link, const char *host, uint16_t port, unsigned timeout_ms,
                     const char *who, _Atomic uint64_t *errors)
{
    const char *name = host != NULL ? host : "127.0.0.1";
    if (strlen(name) >= sizeof(link->host)) {
        return false;
    }
    (void)snprintf(link->host, sizeof(link->host), "%s", name);
    link->port = port != 0 ? port : LINK_DEFAULT_PORT;
    unsigned ms = timeout_ms != 0 ? timeout_ms : LINK_DEFAULT_TIMEOUT;
    link->timeout.tv_sec = ms / 1000;
    link->timeout.tv_usec = (long)(ms % 1000) * 1000;
    link->who = who;
    link->errors = errors;
    return true;
}

bool redis_link_set_login(struct redis_link *link, const char *user, const char *password)
{
    const char *u = user != NULL ? user : "";
    const char *p = password != NULL ? password : "";
    if (strlen(u) >= sizeof(link->user) || strlen(p) >= sizeof(link->password)) {
        return false;
    }
    (void)snprintf(link->user, sizeof(link->user), "%s", u);
    (void)snprintf(link->password, sizeof(link->password), "%s", p);
    return true;
}

void redis_link_fini(struct redis_link *link)
{
    /* Through a volatile pointer: a plain memset before free may be optimized away. */
    volatile char *p = link->password;
    for (size_t i = 0; i < sizeof(link->password); i++) {
        p[i] = '\0';
    }
}

int redis_link_read_password(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        return -errno;
    }
    bool is_read = fgets(out, (int)cap, f) != NULL;
    (void)fclose(f);
    size_t len = is_read ? strcspn(out, "\r\n") : 0;
    bool is_whole = is_read && (out[len] != '\0' || len + 1 < cap);
    if (is_read) {
        out[len] = '\0';
    }
    return len > 0 && is_whole ? 0 : -SW_EBADARG;
}

void redis_link_error(const struct redis_link *link, const char *what, const redisContext *c,
                      bool *is_logged)
{
    if (link->errors != NULL) {
        atomic_fetch_add_explicit(link->errors, 1, memory_order_relaxed);
    }
    if (!*is_logged) {
        log_warn(NULL, "%s: %s %s:%d: %s", link->who, what, link->host, link->port,
                 c != NULL && c->errstr[0] != '\0' ? c->errstr : "failed");
        *is_logged = true;
    }
}

redisContext *redis_link_connect(const struct redis_link *link, bool *is_logged)
{
    redisContext *c = redisConnectWithTimeout(link->host, link->port, link->timeout);
    if (c == NULL || c->err != 0 || redisSetTimeout(c, link->timeout) != REDIS_OK) {
        redis_link_error(link, "cannot connect to", c, is_logged);
        if (c != NULL) {
            redisFree(c);
        }
        return NULL;
    }
    if (link->password[0] == '\0') {
        return c;
    }
    const char *login[] = { "AUTH", link->user, link->password };
    int argc = 3;
    if (link->user[0] == '\0') {
        login[1] = link->password; /* the default user: AUTH password */
        argc = 2;
    }
    if (!redis_link_command(c, argc, login)) {
        /* Wrong user or password: as unreachable, logged once a streak; never the secret. */
        redis_link_error(link, "login refused by", c, is_logged);
        redisFree(c);
        return NULL;
    }
    return c;
}

bool redis_link_command(redisContext *c, int argc, const char **argv)
{
    size_t lens[8];
    SW_ASSERT(argc <= 8);
    for (int i = 0; i < argc; i++) {
        lens[i] = strlen(argv[i]);
    }
    redisReply *reply = redisCommandArgv(c, argc, argv, lens);
    bool is_ok = reply != NULL && reply->type != REDIS_REPLY_ERROR;
    if (reply != NULL) {
        freeReplyObject(reply);
    }
    return is_ok;
}

/* The integers of `reply` into out; false unless it holds exactly out_count of them. */
static bool reply_integers(const redisReply *reply, long long *out, size_t out_count)
{
    if (reply->type == REDIS_REPLY_INTEGER && out_count == 1) {
        out[0] = reply->integer;
        return true;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != out_count) {
        return false;
    }
    for (size_t i = 0; i < out_count; i++) {
        if (reply->element[i]->type != REDIS_REPLY_INTEGER) {
            return false;
        }
        out[i] = reply->element[i]->integer;
    }
    return true;
}

redisReply *redis_link_eval_reply(redisContext *c, const char *script, int argc, const char **argv)
{
    const char *words[15] = { "EVAL", script, "1" };
    size_t lens[15];
    SW_ASSERT(argc >= 1 && argc <= 12);
    for (int i = 0; i < argc; i++) {
        words[3 + i] = argv[i];
    }
    for (int i = 0; i < argc + 3; i++) {
        lens[i] = strlen(words[i]);
    }
    redisReply *reply = redisCommandArgv(c, argc + 3, words, lens);
    if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
        freeReplyObject(reply);
        return NULL;
    }
    return reply;
}

bool redis_link_eval(redisContext *c, const char *script, int argc, const char **argv,
                     long long *out, size_t out_count)
{
    redisReply *reply = redis_link_eval_reply(c, script, argc, argv);
    bool is_ok = reply != NULL && reply_integers(reply, out, out_count);
    if (reply != NULL) {
        freeReplyObject(reply);
    }
    return is_ok;
}

bool redis_link_pause(const atomic_bool *is_stopping, unsigned ms)
{
    for (unsigned slept = 0; slept < ms; slept += 50) {
        if (atomic_load(is_stopping)) {
            return false;
        }
        struct timespec step = { .tv_sec = 0, .tv_nsec = 50 * 1000000L };
        (void)nanosleep(&step, NULL);
    }
    return !atomic_load(is_stopping);
}

unsigned redis_link_backoff(unsigned ms)
{
    return ms * 2 > REDIS_LINK_BACKOFF_MAX_MS ? REDIS_LINK_BACKOFF_MAX_MS : ms * 2;
}
