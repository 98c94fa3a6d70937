#include "net/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/addr.h"
#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"
#include "net/stream.h"

#define DEFAULT_CIPHERS "HIGH:!aNULL:!MD5:!DSS"

struct net_tls_settings {
    SSL_CTX *server_ctx; /* NULL when no certificate was given */
    SSL_CTX *client_ctx;
};

/* The id that lets sessions resume on any worker of this process (client certificates). */
static const unsigned char session_id_context[] = "sipwarden";

static int tls_fail(char *errbuf, size_t errcap, const char *what, const char *file)
{
    char detail[256] = "";
    unsigned long code = ERR_peek_last_error();
    if (code != 0) {
        ERR_error_string_n(code, detail, sizeof(detail));
    }
    ERR_clear_error();
    (void)snprintf(errbuf, errcap, "%s%s%s%s%s", what, file != NULL ? " " : "",
                   file != NULL ? file : "", detail[0] != '\0' ? ": " : "", detail);
    return -SW_ETLS;
}

/*
 * Reads the private key through the descriptor whose mode was checked, so the file cannot
 * be swapped between the check and the read.
 */
static int load_private_key(SSL_CTX *ctx, const char *path, char *errbuf, size_t errcap)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        int rc = -errno;
        (void)snprintf(errbuf, errcap, "cannot open private key %s: %s", path, sw_strerror(rc));
        return rc;
    }
    struct stat st;
    if (fstat(fileno(file), &st) == -1) {
        int rc = -errno;
        (void)fclose(file);
        (void)snprintf(errbuf, errcap, "cannot stat private key %s", path);
        return rc;
    }
    if ((st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) != 0) {
        (void)fclose(file);
        (void)snprintf(errbuf, errcap,
                       "private key %s is accessible by group or others (mode %04o); run: chmod "
                       "600 %s",
                       path, (unsigned)(st.st_mode & 07777), path);
        return -SW_EPERM_FILE;
    }
    EVP_PKEY *key = PEM_read_PrivateKey(file, NULL, NULL, NULL);
    (void)fclose(file);
    if (key == NULL) {
        return tls_fail(errbuf, errcap, "cannot read private key", path);
    }
    const X509 *cert = SSL_CTX_get0_certificate(ctx);
    if (cert != NULL && X509_check_private_key(cert, key) != 1) {
        EVP_PKEY_free(key);
        ERR_clear_error();
        (void)snprintf(errbuf, errcap, "private key %s does not match the certificate", path);
        return -SW_ETLS;
    }
    int ok = SSL_CTX_use_PrivateKey(ctx, key);
    EVP_PKEY_free(key);
    if (ok != 1) {
        return tls_fail(errbuf, errcap, "cannot use private key", path);
    }
    return 0;
}

static int load_identity(SSL_CTX *ctx, const struct net_tls_options *o, char *errbuf, size_t errcap)
{
    if (SSL_CTX_use_certificate_chain_file(ctx, o->certificate) != 1) {
        return tls_fail(errbuf, errcap, "cannot load certificate chain", o->certificate);
    }
    if (o->private_key == NULL) {
        (void)snprintf(errbuf, errcap, "certificate %s given without a private key",
                       o->certificate);
        return -SW_ECONFIG;
    }
    return load_private_key(ctx, o->private_key, errbuf, errcap);
}

static int load_trust(SSL_CTX *ctx, const char *ca_file, char *errbuf, size_t errcap)
{
    if (ca_file == NULL) {
        if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
            return tls_fail(errbuf, errcap, "cannot load the system trust store", NULL);
        }
        return 0;
    }
    if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
        return tls_fail(errbuf, errcap, "cannot load CA file", ca_file);
    }
    return 0;
}

/* The settings both sides share: protocol floor, ciphers, no compression or renegotiation. */
static SSL_CTX *ctx_new(const SSL_METHOD *method, const struct net_tls_options *o, char *errbuf,
                        size_t errcap)
{
    SSL_CTX *ctx = SSL_CTX_new(method);
    if (ctx == NULL) {
        (void)tls_fail(errbuf, errcap, "cannot create a TLS context", NULL);
        return NULL;
    }
    int min_version = o->min_version != 0 ? o->min_version : TLS1_2_VERSION;
    const char *ciphers = o->ciphers != NULL ? o->ciphers : DEFAULT_CIPHERS;
    (void)SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                       SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* Writes resume from a send queue that may move and grow between attempts. */
    (void)SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_set_min_proto_version(ctx, min_version) != 1) {
        (void)tls_fail(errbuf, errcap, "cannot set the minimum TLS version", NULL);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
        (void)tls_fail(errbuf, errcap, "no usable cipher in", ciphers);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static int server_ctx_new(const struct net_tls_options *o, SSL_CTX **out, char *errbuf,
                          size_t errcap)
{
    SSL_CTX *ctx = ctx_new(TLS_server_method(), o, errbuf, errcap);
    if (ctx == NULL) {
        return -SW_ETLS;
    }
    int rc = load_identity(ctx, o, errbuf, errcap);
    if (rc == 0 && o->require_client_certificate) {
        rc = load_trust(ctx, o->ca_file, errbuf, errcap);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        if (rc == 0 && o->ca_file != NULL) {
            /* Tells clients which issuers we accept; a hint, so failure is not fatal. */
            STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->ca_file);
            if (names != NULL) {
                SSL_CTX_set_client_CA_list(ctx, names);
            }
            ERR_clear_error();
        }
    }
    if (rc == 0 && SSL_CTX_set_session_id_context(ctx, session_id_context,
                                                  sizeof(session_id_context) - 1) != 1) {
        rc = tls_fail(errbuf, errcap, "cannot set the session id context", NULL);
    }
    if (rc != 0) {
        SSL_CTX_free(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

static int client_ctx_new(const struct net_tls_options *o, SSL_CTX **out, char *errbuf,
                          size_t errcap)
{
    SSL_CTX *ctx = ctx_new(TLS_client_method(), o, errbuf, errcap);
    if (ctx == NULL) {
        return -SW_ETLS;
    }
    int rc = 0;
    /* The same certificate identifies us to providers that require client certificates. */
    if (o->certificate != NULL) {
        rc = load_identity(ctx, o, errbuf, errcap);
    }
    if (rc == 0 && !o->is_server_unverified) {
        rc = load_trust(ctx, o->ca_file, errbuf, errcap);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    if (rc != 0) {
        SSL_CTX_free(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

int net_tls_settings_new(const struct net_tls_options *options, struct net_tls_settings **out,
                         char *errbuf, size_t errcap)
{
    int min_version = options->min_version;
    if (min_version != 0 && min_version != TLS1_2_VERSION && min_version != TLS1_3_VERSION) {
        (void)snprintf(errbuf, errcap,
                       "minimum TLS version 0x%04x refused: only TLS 1.2 (0x0303) and 1.3 "
                       "(0x0304) are allowed",
                       (unsigned)min_version);
        return -SW_EBADARG;
    }
    if (options->require_client_certificate && options->ca_file == NULL) {
        /* The system store would admit any holder of a public CA's certificate. */
        (void)snprintf(errbuf, errcap,
                       "requiring client certificates needs a CA file naming the issuers to "
                       "trust");
        return -SW_ECONFIG;
    }
    struct net_tls_settings *s = sw_calloc(1, sizeof(*s));
    if (s == NULL) {
        (void)snprintf(errbuf, errcap, "out of memory");
        return -ENOMEM;
    }
    int rc = 0;
    if (options->certificate != NULL) {
        rc = server_ctx_new(options, &s->server_ctx, errbuf, errcap);
    }
    if (rc == 0) {
        rc = client_ctx_new(options, &s->client_ctx, errbuf, errcap);
    }
    if (rc != 0) {
        net_tls_settings_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void net_tls_settings_free(struct net_tls_settings *settings)
{
    if (settings == NULL) {
        return;
    }
    SSL_CTX_free(settings->server_ctx);
    SSL_CTX_free(settings->client_ctx);
    sw_free(settings);
}

bool net_tls_can_serve(const struct net_tls_settings *settings)
{
    return settings != NULL && settings->server_ctx != NULL;
}

SSL *net_tls_new_server(const struct net_tls_settings *settings, int fd)
{
    SW_ASSERT(net_tls_can_serve(settings));
    SSL *ssl = SSL_new(settings->server_ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        ERR_clear_error();
        return NULL;
    }
    SSL_set_accept_state(ssl);
    return ssl;
}

/* RFC 5922 §7.2 wants the SIP domain checked; for an IP literal only the IP can be. */
static bool set_peer_identity(SSL *ssl, const char *server_name,
                              const struct sockaddr_storage *addr)
{
    if (server_name != NULL) {
        struct sw_ip ip;
        if (sw_ip_parse(sv_from_cstr(server_name), &ip)) {
            return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_name) == 1;
        }
        /* SNI is for names only (RFC 6066 §3: literal IP addresses are not permitted).
           The macro takes a mutable pointer (OpenSSL copies it): give it a copy. */
        char name[256];
        if (!sv_copy_cstr(sv_from_cstr(server_name), name, sizeof(name))) {
            return false; /* longer than any DNS name (RFC 1035 §2.3.4) */
        }
        return SSL_set_tlsext_host_name(ssl, name) == 1 && SSL_set1_host(ssl, name) == 1;
    }
    char text[SW_ADDR_STRLEN];
    sw_sockaddr_format_ip(addr, text, sizeof(text));
    return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), text) == 1;
}

SSL *net_tls_new_client(const struct net_tls_settings *settings, int fd, const char *server_name,
                        const struct sockaddr_storage *addr)
{
    SW_ASSERT(settings != NULL && settings->client_ctx != NULL);
    SSL *ssl = SSL_new(settings->client_ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || !set_peer_identity(ssl, server_name, addr)) {
        SSL_free(ssl);
        ERR_clear_error();
        return NULL;
    }
    SSL_set_connect_state(ssl);
    return ssl;
}

void net_tls_free(SSL *ssl)
{
    SSL_free(ssl);
}

void net_tls_shutdown(SSL *ssl)
{
    if (ssl == NULL || !SSL_is_init_finished(ssl)) {
        return;
    }
    /* One non-blocking attempt: a peer that does not read gets no second chance. */
    ERR_clear_error();
    (void)SSL_shutdown(ssl);
    ERR_clear_error();
}

static enum net_tls_io outcome(SSL *ssl, int ret)
{
    switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ:
        return NET_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return NET_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
    case SSL_ERROR_SYSCALL: /* the socket failed or ended: nothing the peer said was wrong */
        return NET_TLS_CLOSED;
    default:
        /* OpenSSL 3 reports a bare EOF as a protocol error; it is a peer going away. */
        return ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING
                   ? NET_TLS_CLOSED
                   : NET_TLS_FAILED;
    }
}

enum net_tls_io net_tls_handshake(SSL *ssl)
{
    /* SSL_get_error() reads this thread's error queue: it must hold only this call's. */
    ERR_clear_error();
    int ret = SSL_do_handshake(ssl);
    return ret == 1 ? NET_TLS_DONE : outcome(ssl, ret);
}

enum net_tls_io net_tls_read(SSL *ssl, char *buf, size_t cap, size_t *len)
{
    ERR_clear_error();
    size_t n = 0;
    int ret = SSL_read_ex(ssl, buf, cap, &n);
    if (ret == 1) {
        *len = n;
        return NET_TLS_DONE;
    }
    return outcome(ssl, ret);
}

enum net_tls_io net_tls_write(SSL *ssl, const char *buf, size_t len, size_t *written)
{
    ERR_clear_error();
    size_t n = 0;
    int ret = SSL_write_ex(ssl, buf, len, &n);
    if (ret == 1) {
        *written = n;
        return NET_TLS_DONE;
    }
    return outcome(ssl, ret);
}

size_t net_tls_pending(SSL *ssl)
{
    int n = SSL_pending(ssl);
    return n > 0 ? (size_t)n : 0;
}

void net_tls_describe_failure(SSL *ssl, char *buf, size_t cap)
{
    long verify = SSL_get_verify_result(ssl);
    unsigned long code = ERR_peek_last_error();
    const char *reason = code != 0 ? ERR_reason_error_string(code) : NULL;
    if (verify != X509_V_OK) {
        (void)snprintf(buf, cap, "certificate verify failed: %s",
                       X509_verify_cert_error_string(verify));
    } else if (reason != NULL) {
        (void)snprintf(buf, cap, "%s", reason);
    } else {
        (void)snprintf(buf, cap, "connection lost during the handshake");
    }
    ERR_clear_error();
}
