/*
 * TLS for the stream transports, internal to src/net: per-connection OpenSSL objects made
 * from the shared struct net_tls_settings (stream.h), and non-blocking handshake, read and
 * write wrappers that turn OpenSSL's error queue into one outcome. An SSL object belongs to
 * the worker that owns its connection; the settings are read-only and shared.
 */
#ifndef SW_NET_TLS_H
#define SW_NET_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct ssl_st;
struct net_tls_settings;

/* What a non-blocking TLS operation did. */
enum net_tls_io {
    NET_TLS_DONE,       /* completed (read/write: *len bytes) */
    NET_TLS_WANT_READ,  /* retry when the socket is readable */
    NET_TLS_WANT_WRITE, /* retry when the socket is writable */
    NET_TLS_CLOSED,     /* the peer closed the session or the socket (EOF, reset) */
    NET_TLS_FAILED,     /* protocol, certificate or socket error: close the connection */
};

/* True when the settings hold a certificate, so TLS listeners may be opened. */
bool net_tls_can_serve(const struct net_tls_settings *settings);

/*
 * A server-side SSL on the accepted socket `fd`, or NULL when out of memory. The caller
 * frees it with net_tls_free().
 */
struct ssl_st *net_tls_new_server(const struct net_tls_settings *settings, int fd);

/*
 * A client-side SSL on the connecting socket `fd`. With verification on (the default),
 * the peer's certificate must match `server_name` (also sent as SNI) or, when it is NULL,
 * the IP of `addr`. NULL when out of memory or the name is unusable.
 */
struct ssl_st *net_tls_new_client(const struct net_tls_settings *settings, int fd,
                                  const char *server_name, const struct sockaddr_storage *addr);

/* Frees an SSL without sending close_notify (the socket may be gone); NULL is a no-op. */
void net_tls_free(struct ssl_st *ssl);

/* Sends close_notify, best effort and non-blocking, before the socket is closed. */
void net_tls_shutdown(struct ssl_st *ssl);

/* Advances the handshake. */
enum net_tls_io net_tls_handshake(struct ssl_st *ssl);

/* Reads up to `cap` decrypted bytes into `buf`; *len is set on NET_TLS_DONE. */
enum net_tls_io net_tls_read(struct ssl_st *ssl, char *buf, size_t cap, size_t *len);

/*
 * Writes up to `len` bytes (partial writes allowed); *written is set on NET_TLS_DONE. After
 * WANT_*, retry with the same bytes first; the buffer may have moved and grown.
 */
enum net_tls_io net_tls_write(struct ssl_st *ssl, const char *buf, size_t len, size_t *written);

/* Bytes already decrypted and waiting inside `ssl`. */
size_t net_tls_pending(struct ssl_st *ssl);

/*
 * Describes the last failure on `ssl` for a log line ("certificate verify failed:
 * hostname mismatch", "unsupported protocol"...) into `buf`.
 */
void net_tls_describe_failure(struct ssl_st *ssl, char *buf, size_t cap);

#endif
