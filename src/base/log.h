/*
 * Operational logging (not the security log, which is obs/seclog). One line per call,
 * written with a single write(2) so lines from several threads never interleave.
 * A peer's misbehaviour is logged at info at most; err is for our own failures.
 * Thread-safe; log_set_level/log_set_fd are meant for start-up.
 */
#ifndef SW_BASE_LOG_H
#define SW_BASE_LOG_H

#include "base/sv.h"

enum log_level {
    LOG_LEVEL_ERR,
    LOG_LEVEL_WARN,
    LOG_LEVEL_NOTICE,
    LOG_LEVEL_INFO,
    LOG_LEVEL_DEBUG,
};

/* What a line is about: prefixes "w<worker> <src> <call-id>: " where present. */
struct log_ctx {
    int worker;        /* -1 = not a worker thread */
    const char *src;   /* "ip:port" or NULL */
    struct sv call_id; /* absent = none */
};

/* Lines above `level` are discarded. Default: notice. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parses "err|warn|notice|info|debug"; false when unknown. */
bool log_level_parse(struct sv name, enum log_level *out);

/* Destination file descriptor (default 2, stderr). The caller keeps it open. */
void log_set_fd(int fd);

/* Writes one line at `level`; `ctx` may be NULL. */
void log_write(enum log_level level, const struct log_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_err(ctx, ...)    log_write(LOG_LEVEL_ERR, ctx, __VA_ARGS__)
#define log_warn(ctx, ...)   log_write(LOG_LEVEL_WARN, ctx, __VA_ARGS__)
#define log_notice(ctx, ...) log_write(LOG_LEVEL_NOTICE, ctx, __VA_ARGS__)
#define log_info(ctx, ...)   log_write(LOG_LEVEL_INFO, ctx, __VA_ARGS__)
#define log_debug(ctx, ...)                               \
    do {                                                  \
        if (log_get_level() >= LOG_LEVEL_DEBUG) {         \
            log_write(LOG_LEVEL_DEBUG, ctx, __VA_ARGS__); \
        }                                                 \
    } while (0)

#endif
