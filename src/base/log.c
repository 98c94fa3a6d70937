#include "base/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static atomic_int current_level = LOG_LEVEL_NOTICE;
static atomic_int log_fd = 2;

static const char *const level_names[] = { "err", "warn", "notice", "info", "debug" };

void log_set_level(enum log_level level)
{
    atomic_store(&current_level, (int)level);
}

enum log_level log_get_level(void)
{
    return (enum log_level)atomic_load(&current_level);
}

bool log_level_parse(struct sv name, enum log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (sv_eq_nocase(name, sv_from_cstr(level_names[i]))) {
            *out = (enum log_level)i;
            return true;
        }
    }
    return false;
}

void log_set_fd(int fd)
{
    atomic_store(&log_fd, fd);
}

static size_t append(size_t cap, size_t len, int written)
{
    if (written < 0) {
        return len;
    }
    size_t next = len + (size_t)written;
    return next >= cap ? cap - 1 : next;
}

void log_write(enum log_level level, const struct log_ctx *ctx, const char *fmt, ...)
{
    if ((int)level > atomic_load(&current_level)) {
        return;
    }
    char line[2048];
    size_t len = 0;
    struct timespec now;
    struct tm tm;
    (void)clock_gettime(CLOCK_REALTIME, &now); /* cannot fail with a valid clock id */
    (void)gmtime_r(&now.tv_sec, &tm);          /* a time_t from the clock always converts */
    len = append(sizeof(line), len,
                 snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: ",
                          tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                          tm.tm_sec, now.tv_nsec / 1000000, level_names[level]));
    if (ctx != NULL) {
        if (ctx->worker >= 0) {
            len = append(sizeof(line), len,
                         snprintf(line + len, sizeof(line) - len, "w%d ", ctx->worker));
        }
        if (ctx->src != NULL) {
            len = append(sizeof(line), len,
                         snprintf(line + len, sizeof(line) - len, "%s ", ctx->src));
        }
        if (ctx->call_id.ptr != NULL) {
            len = append(sizeof(line), len,
                         snprintf(line + len, sizeof(line) - len, "[" SV_FMT "] ",
                                  SV_ARG(sv_slice(ctx->call_id, 0, 128))));
        }
    }
    va_list ap;
    va_start(ap, fmt);
    /* va_start() ran above; the analyzer reports a false positive on the next line. */
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    int written = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
    len = append(sizeof(line), len, written);
    va_end(ap);
    line[len++] = '\n';
    /* A lost log line must not stop the gateway; there is nowhere to report it. */
    (void)!write(atomic_load(&log_fd), line, len);
}
