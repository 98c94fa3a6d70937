/*
 * Stream transports (TCP and TLS) of one worker: listening sockets, accepted and outbound
 * connections, framing of SIP messages on a byte stream (Content-Length required), and
 * TLS. A stream set belongs to one worker and is used only in its thread.
 * Connection ids carry the owning worker's index in their low 8 bits, so that any worker
 * can route a send to the owner.
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
struct net_tls_settings;
struct stream_set;

/* TLS settings shared read-only by all workers (built once by net_tls_settings_new). */
struct net_tls_settings;

/* The worker index that owns connection `conn_id`. */
unsigned stream_conn_owner(uint64_t conn_id);

/*
 * Opens the TCP/TLS listeners among `listeners` for this worker (SO_REUSEPORT). A listener
 * with port 0 (tests) is bound to an ephemeral port and its address is written back into
 * `listeners`, so the next worker binds the same port. Skips UDP listeners. Returns 0 and
 * *out, or -errno/-SW_E… .
 */
int stream_set_new(struct worker *worker, struct loop *loop, struct net_listener *listeners,
                   size_t listener_count, size_t max_connections,
                   const struct net_tls_settings *tls, struct stream_set **out);

/* Closes every socket and connection; NULL is a no-op. */
void stream_set_free(struct stream_set *set);

/*
 * Sends on an existing connection (dst->conn_id, if owned here and open) or on a
 * connection to dst->addr (reused, or connected now; data queued until connected).
 * Returns 0 or -errno/-SW_E… .
 */
int stream_send(struct stream_set *set, const struct net_dest *dst, struct sv data);

/*
 * TLS configuration, read-only after creation and shared by every worker. Returns 0 and
 * *out, or -SW_ETLS/-SW_EPERM_FILE/-errno with a message in errbuf naming the file.
 */
struct net_tls_options {
    const char *certificate; /* PEM chain; NULL = no TLS listener possible */
    const char *private_key; /* PEM; refused when readable by group or others */
    const char *ca_file;     /* trust anchors for verifying peers; NULL = system default */
    const char *ciphers;     /* OpenSSL cipher list for TLS 1.2 */
    int min_version;         /* TLS1_2_VERSION or TLS1_3_VERSION; lower is refused */
    bool require_client_certificate;
    bool verify_server; /* outbound: verify the provider's certificate and host name */
};

int net_tls_settings_new(const struct net_tls_options *options, struct net_tls_settings **out,
                         char *errbuf, size_t errcap);
void net_tls_settings_free(struct net_tls_settings *settings);

#endif
