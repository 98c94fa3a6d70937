/*
 * Name resolution with a time limit, for the certificate fetchers: getaddrinfo() has
 * none of its own (the resolver's retries can take tens of seconds), and a fetcher thread
 * stuck in it would hold every call waiting for that certificate past the fetch timeout.
 * The lookup runs on a short-lived detached thread; the caller waits at most `timeout_ms`
 * and, when it gives up, the thread cleans up after itself whenever the lookup ends. At
 * most STIR_RESOLVE_MAX_PENDING lookups may be outstanding at once (a resolver that hangs
 * cannot pile up threads): beyond that a lookup fails at once. Any thread.
 */
#ifndef SW_STIR_RESOLVE_H
#define SW_STIR_RESOLVE_H

#include <netdb.h>
#include <stdint.h>

#define STIR_RESOLVE_MAX_PENDING 8

/* The lookup function; getaddrinfo's shape (tests pass a slow one). */
typedef int stir_resolve_fn(const char *host, const char *service, const struct addrinfo *hints,
                            struct addrinfo **out);

/*
 * getaddrinfo(host, service, hints) through `lookup` (NULL = getaddrinfo), waiting at most
 * `timeout_ms`. Returns 0 with *out to free with freeaddrinfo(), a getaddrinfo error
 * (EAI_*), or EAI_AGAIN when the time ran out or too many lookups are outstanding.
 */
int stir_resolve(stir_resolve_fn *lookup, const char *host, const char *service,
                 const struct addrinfo *hints, uint32_t timeout_ms, struct addrinfo **out);

#endif
