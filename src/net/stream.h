/*
 * Stream transports (TCP and TLS) of one worker: listening sockets, accepted and outbound
 * connections, framing of SIP messages on a byte stream (Content-Length required), and
 * TLS. A stream set belongs to one worker and is used only in its thread.
 * Connection ids carry the owning worker's index in their low 8 bits, so that any worker
 * can route a send to the owner.
 *
 * Behaviour (limits from struct net_settings):
 * - Every complete message goes to worker_deliver(); RFC 5626 "\r\n\r\n" pings are
 *   answered with "\r\n" and a lone "\r\n" is swallowed, never delivered.
 * - A framing error (no Content-Length, over 65,535 bytes, not SIP), a failed inbound TLS
 *   handshake, a handshake or message not finished in time close the connection and are
 *   reported through worker_report_stream_error(). Idle connections close silently.
 * - Memory per connection: a receive buffer of at most 65,536 bytes (grown on demand,
 *   released when empty) and a send queue bounded per connection and per worker.
 * - max_connections counts accepted and outbound connections: accepts beyond it are
 *   closed at once; an outbound connect beyond it closes the least recently active one.
 * - An accept beyond its source's cap (worker_source_admit: per address or IPv6 prefix,
 *   over all workers) is closed at once, and an accepted connection that sends nothing
 *   within first_byte_timeout_ms of its start (TLS: of its handshake) closes silently.
 * - Everything is non-blocking; OpenSSL's WANT_READ/WANT_WRITE go through epoll.
 * - stream_set_new() sets SIGPIPE to ignored when it is at its default, because OpenSSL
 *   writes with write(2).
 */
#ifndef SW_NET_STREAM_H
#define SW_NET_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"

struct worker;
struct loop;
struct net_listener;
struct net_dest;
struct net_settings;
struct net_tls_settings;
struct stream_set;

/* TLS settings shared read-only by all workers (built once by net_tls_settings_new). */
struct net_tls_settings;

/* The worker index that owns connection `conn_id`. */
unsigned stream_conn_owner(uint64_t conn_id);

/*
 * Opens the TCP/TLS listeners among `listeners` for this worker (SO_REUSEPORT). A listener
 * with port 0 (tests) is bound to an ephemeral port and its address is written back into
 * `listeners`, so the next worker binds the same port. Skips UDP listeners. `listeners`
 * must outlive the set. Limits and timeouts come from `settings` (0 = defaults, see
 * struct net_settings). Returns 0 and *out, or -errno/-SW_E… (-EPROTONOSUPPORT for a TLS
 * listener without TLS settings holding a certificate).
 */
int stream_set_new(struct worker *worker, struct loop *loop, struct net_listener *listeners,
                   size_t listener_count, const struct net_settings *settings,
                   struct stream_set **out);

/* Closes every socket and connection; NULL is a no-op. */
void stream_set_free(struct stream_set *set);

/*
 * Sends on an existing connection (dst->conn_id, if owned here and open) or on a
 * connection to dst->addr (reused, or connected now; data queued until connected).
 * Returns 0 or -errno/-SW_E… .
 */
int stream_send(struct stream_set *set, const struct net_dest *dst, struct sv data);

/* Open connections of this set (accepted, outbound, in handshake). */
size_t stream_set_connection_count(const struct stream_set *set);

/*
 * TLS configuration, read-only after creation and shared by every worker. Returns 0 and
 * *out, or -SW_ETLS/-SW_EPERM_FILE/-SW_EBADARG/-SW_ECONFIG/-errno with a message in errbuf naming
 * the file. Call from the main thread before the workers start.
 */
struct net_tls_options {
    const char *certificate; /* PEM chain; NULL = no TLS listener possible */
    const char *private_key; /* PEM; refused when readable by group or others */
    const char *ca_file;     /* trust anchors for verifying peers; NULL = system default
                                for servers, refused with require_client_certificate */
    const char *ciphers;     /* OpenSSL cipher list for TLS 1.2; NULL = HIGH:!aNULL:!MD5:!DSS */
    int min_version;         /* 0 (= 1.2), TLS1_2_VERSION or TLS1_3_VERSION; others refused */
    bool require_client_certificate;
    /* Outbound: accept any server certificate and name. Off (verify) when zero-initialized,
       so forgetting the field is safe; meant for tests and lab setups only. */
    bool is_server_unverified;
};

int net_tls_settings_new(const struct net_tls_options *options, struct net_tls_settings **out,
                         char *errbuf, size_t errcap);
void net_tls_settings_free(struct net_tls_settings *settings);

#endif
