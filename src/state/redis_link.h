/*
 * What every Redis client of sipwarden shares (state/ban_redis.h, state/cluster.h): where
 * the server is, connecting with a timeout, one command by argv, and the backoff sleep
 * that still notices a stop. hiredis 0.14 contexts are blocking, so only the backends'
 * own threads call these; a worker never does.
 */
#ifndef SW_STATE_REDIS_LINK_H
#define SW_STATE_REDIS_LINK_H

#include <hiredis/hiredis.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

#define REDIS_LINK_BACKOFF_MIN_MS 100u
#define REDIS_LINK_BACKOFF_MAX_MS 5000u
#define REDIS_LINK_NAME_MAX       64
#define REDIS_LINK_SECRET_CAP     256

struct redis_link {
    char host[256];
    int port;
    struct timeval timeout;
    const char *who;                      /* log prefix, e.g. "ban_redis" */
    _Atomic uint64_t *errors;             /* counted on every failure; may be NULL */
    char user[REDIS_LINK_NAME_MAX + 1];   /* "" = the default user */
    char password[REDIS_LINK_SECRET_CAP]; /* "" = no AUTH */
};

/*
 * Fills `link` from host (NULL = "127.0.0.1"), port (0 = 6379) and timeout_ms (0 = 1000).
 * Returns false when the host name is too long.
 */
bool redis_link_init(struct redis_link *link, const char *host, uint16_t port, unsigned timeout_ms,
                     const char *who, _Atomic uint64_t *errors);

/*
 * True when `s` may be a key prefix or node name: 1 to REDIS_LINK_NAME_MAX bytes of
 * [A-Za-z0-9_.-], and ':' when `allow_colon`.
 */
bool redis_link_is_name(const char *s, bool allow_colon);

/*
 * Sets the login sent on every connection (AUTH [user] password, Redis 6 ACLs): user NULL
 * = the default user, password NULL = no login. False when one is too long.
 */
bool redis_link_set_login(struct redis_link *link, const char *user, const char *password);

/* Wipes the password from memory (before the link's owner is freed). */
void redis_link_fini(struct redis_link *link);

/*
 * Reads a password file: its first line, without the line end, into `out` (cap bytes).
 * Returns 0, -errno, or -SW_EBADARG when the line is empty or does not fit.
 */
int redis_link_read_password(const char *path, char *out, size_t cap);

/* Counts an error; logs the first of a streak only (`*is_logged` tracks the streak). */
void redis_link_error(const struct redis_link *link, const char *what, const redisContext *c,
                      bool *is_logged);

/*
 * A connection with the command timeout set and the login done, or NULL (counted,
 * logged once a streak).
 */
redisContext *redis_link_connect(const struct redis_link *link, bool *is_logged);

/* Runs one command of at most 8 words; true when Redis answered without an error reply. */
bool redis_link_command(redisContext *c, int argc, const char **argv);

/*
 * Runs EVAL `script` with one key, argv[0] (then argc - 1 arguments; argc at most 12).
 * True when Redis answered with an integer or an array of `out_count` integers, which go
 * to `out` in order; false on a connection or command error or another reply.
 */
bool redis_link_eval(redisContext *c, const char *script, int argc, const char **argv,
                     long long *out, size_t out_count);

/*
 * Runs EVAL `script` like redis_link_eval and returns Redis's reply for the caller to
 * read and free (freeReplyObject); NULL on a connection error or an error reply.
 */
redisReply *redis_link_eval_reply(redisContext *c, const char *script, int argc, const char **argv);

/* Sleeps `ms` in 50 ms steps; false when `is_stopping` became true meanwhile. */
bool redis_link_pause(const atomic_bool *is_stopping, unsigned ms);

/* The next backoff: doubled, at most REDIS_LINK_BACKOFF_MAX_MS. */
unsigned redis_link_backoff(unsigned ms);

#endif
