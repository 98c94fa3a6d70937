/*
 * Connections per source address, shared by every worker of a group: a fixed array of
 * atomic counters indexed by a keyed hash of the source (its IPv6 prefix, see
 * sw_ip_aggregate), so that one address cannot hold every connection slot (#9 item 10).
 * No lock and no allocation after srccap_new. Two sources whose keys share a counter
 * share its budget; with at least four counters per connection slot and a hash keyed at
 * start, an attacker can neither aim at a victim's counter nor fill many of them.
 *
 * Thread-safe: any worker may acquire and release.
 */
#ifndef SW_NET_SRCCAP_H
#define SW_NET_SRCCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct srccap;

/*
 * A table for about `max_connections` connections in all, keying IPv6 sources by their
 * first `v6_prefix_len` bits (0 or 128 = the full address). NULL when out of memory.
 */
struct srccap *srccap_new(size_t max_connections, unsigned v6_prefix_len);

/* NULL is a no-op. */
void srccap_free(struct srccap *cap);

/*
 * Counts one more connection from `src` unless it already holds `max_per_source`
 * (0 = no limit). Returns true and *counter (for srccap_release), or false: refuse it.
 */
bool srccap_acquire(struct srccap *cap, const struct sockaddr_storage *src, uint32_t max_per_source,
                    size_t *counter);

/* Ends what srccap_acquire counted under `counter`. */
void srccap_release(struct srccap *cap, size_t counter);

/* Connections counted now for `src` (tests and logs). */
uint32_t srccap_count(const struct srccap *cap, const struct sockaddr_storage *src);

#endif
