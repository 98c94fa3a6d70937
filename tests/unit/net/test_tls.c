/*
 * TLS stream transport: settings checks (key file mode, version floor), inbound handshakes
 * with certificates generated here (EC P-256, self-signed), TLS 1.1 refusal, client
 * certificates, outbound verification of the server name and IP, and peers that send
 * garbage or nothing while another client is served.
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "support/unit.h"
#include "unit/net/fixture.h"

#define OPTIONS_MSG                                        \
    "OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\n"                 \
    "Via: SIP/2.0/TLS 127.0.0.1:5071;branch=z9hG4bK-1\r\n" \
    "Max-Forwards: 70\r\n"                                 \
    "From: <sip:probe@127.0.0.1>;tag=1\r\n"                \
    "To: <sip:gw@127.0.0.1>\r\n"                           \
    "Call-ID: t1@127.0.0.1\r\n"                            \
    "CSeq: 1 OPTIONS\r\n"                                  \
    "Content-Length: 0\r\n"                                \
    "\r\n"

struct pki {
    char dir[64];
    char server_cert[128];
    char server_key[128];
    char client_cert[128];
    char client_key[128];
    char open_cert[128];
    char open_key[128]; /* mode 0644 */
};

static struct pki pki;

static bool write_key(const char *path, EVP_PKEY *key, mode_t mode)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        return false;
    }
    bool ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
    ok = fclose(f) == 0 && ok;
    return ok && chmod(path, mode) == 0;
}

static bool add_san(X509 *x, const char *san)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
    if (ext == NULL) {
        return false;
    }
    bool ok = X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

/* A self-signed EC P-256 certificate for `cn` with `san`, valid for an hour. */
static bool make_cert(const char *cn, const char *san, const char *cert_path, const char *key_path)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    bool ok = key != NULL && x != NULL;
    ok = ok && X509_set_version(x, 2) == 1;
    static long serial = 1; /* distinct per certificate; one thread creates them */
    ok = ok && ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) == 1;
    ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), -60) != NULL;
    ok = ok && X509_gmtime_adj(X509_getm_notAfter(x), 3600) != NULL;
    ok = ok && X509_set_pubkey(x, key) == 1;
    X509_NAME *name = ok ? X509_get_subject_name(x) : NULL;
    ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1,
                                          -1, 0) == 1;
    ok = ok && X509_set_issuer_name(x, name) == 1;
    ok = ok && add_san(x, san);
    ok = ok && X509_sign(x, key, EVP_sha256()) > 0;
    FILE *f = ok ? fopen(cert_path, "wb") : NULL;
    ok = f != NULL && PEM_write_X509(f, x) == 1;
    if (f != NULL) {
        ok = fclose(f) == 0 && ok;
    }
    ok = ok && write_key(key_path, key, 0600);
    X509_free(x);
    EVP_PKEY_free(key);
    return ok;
}

static int pki_setup(void **state)
{
    (void)state;
    (void)snprintf(pki.dir, sizeof(pki.dir), "/tmp/sw-tls-XXXXXX");
    if (mkdtemp(pki.dir) == NULL) {
        return -1;
    }
    (void)snprintf(pki.server_cert, sizeof(pki.server_cert), "%s/server.pem", pki.dir);
    (void)snprintf(pki.server_key, sizeof(pki.server_key), "%s/server.key", pki.dir);
    (void)snprintf(pki.client_cert, sizeof(pki.client_cert), "%s/client.pem", pki.dir);
    (void)snprintf(pki.client_key, sizeof(pki.client_key), "%s/client.key", pki.dir);
    (void)snprintf(pki.open_cert, sizeof(pki.open_cert), "%s/open.pem", pki.dir);
    (void)snprintf(pki.open_key, sizeof(pki.open_key), "%s/open.key", pki.dir);
    if (!make_cert("localhost", "DNS:localhost,IP:127.0.0.1,IP:::1", pki.server_cert,
                   pki.server_key) ||
        !make_cert("client.example", "DNS:client.example", pki.client_cert, pki.client_key) ||
        !make_cert("localhost", "DNS:localhost", pki.open_cert, pki.open_key)) {
        return -1;
    }
    return chmod(pki.open_key, 0644) == 0 ? 0 : -1;
}

static int pki_teardown(void **state)
{
    (void)state;
    const char *files[] = { pki.server_cert, pki.server_key, pki.client_cert,
                            pki.client_key,  pki.open_cert,  pki.open_key };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        (void)unlink(files[i]);
    }
    (void)rmdir(pki.dir);
    return 0;
}

static struct net_tls_settings *settings_with(bool require_client_cert, bool is_unverified)
{
    struct net_tls_options o = {
        .certificate = pki.server_cert,
        .private_key = pki.server_key,
        .ca_file = require_client_cert ? pki.client_cert : pki.server_cert,
        .require_client_certificate = require_client_cert,
        .is_server_unverified = is_unverified,
    };
    struct net_tls_settings *s = NULL;
    char errbuf[256] = "";
    int rc = net_tls_settings_new(&o, &s, errbuf, sizeof(errbuf));
    if (rc != 0) {
        print_error("net_tls_settings_new: %s\n", errbuf);
        return NULL;
    }
    return s;
}

static struct net_tls_settings *settings_new(bool require_client_cert)
{
    return settings_with(require_client_cert, false);
}

/* One worker with a TLS listener on 127.0.0.1. */
static void start_tls(struct fx *fx, const struct net_tls_settings *tls,
                      struct net_settings settings)
{
    struct net_listener l = fx_listener(SW_TRANSPORT_TLS, "127.0.0.1");
    settings.tls = tls;
    settings.worker_count = 1;
    assert_int_equal(fx_start(fx, &l, 1, &settings), 0);
}

/* A blocking client context trusting the server certificate. */
static SSL_CTX *client_ctx_new(int max_version, bool with_cert)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(ctx);
    assert_int_equal(SSL_CTX_load_verify_locations(ctx, pki.server_cert, NULL), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (max_version != 0) {
        /* Allow the old version on our side, so only the server can refuse it. */
        SSL_CTX_set_security_level(ctx, 0);
        assert_int_equal(SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION), 1);
        assert_int_equal(SSL_CTX_set_max_proto_version(ctx, max_version), 1);
        assert_int_equal(SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0"), 1);
    }
    if (with_cert) {
        assert_int_equal(SSL_CTX_use_certificate_chain_file(ctx, pki.client_cert), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, pki.client_key, SSL_FILETYPE_PEM), 1);
    }
    return ctx;
}

struct tls_client {
    int fd;
    SSL *ssl;
    int handshake_rc;
};

static struct tls_client tls_connect(SSL_CTX *ctx, const struct sockaddr_storage *addr)
{
    struct tls_client c = { .fd = fx_connect(addr) };
    assert_true(c.fd >= 0);
    c.ssl = SSL_new(ctx);
    assert_non_null(c.ssl);
    assert_int_equal(SSL_set_fd(c.ssl, c.fd), 1);
    assert_int_equal(SSL_set1_host(c.ssl, "localhost"), 1);
    char sni[] = "localhost"; /* the macro wants a mutable pointer */
    (void)SSL_set_tlsext_host_name(c.ssl, sni);
    c.handshake_rc = SSL_connect(c.ssl);
    ERR_clear_error();
    return c;
}

static void tls_client_close(struct tls_client *c)
{
    SSL_free(c->ssl);
    c->ssl = NULL;
    (void)close(c->fd);
}

static void test_settings_refuse_readable_key(void **state)
{
    (void)state;
    struct net_tls_options o = { .certificate = pki.open_cert, .private_key = pki.open_key };
    struct net_tls_settings *s = NULL;
    char errbuf[512] = "";
    assert_int_equal(net_tls_settings_new(&o, &s, errbuf, sizeof(errbuf)), -SW_EPERM_FILE);
    assert_null(s);
    assert_non_null(strstr(errbuf, pki.open_key));
    assert_non_null(strstr(errbuf, "chmod 600"));
    assert_non_null(strstr(errbuf, "0644"));
}

static void test_settings_refuse_old_versions(void **state)
{
    (void)state;
    const int versions[] = { TLS1_1_VERSION, TLS1_VERSION, SSL3_VERSION, 0x0305 };
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        struct net_tls_options o = { .certificate = pki.server_cert,
                                     .private_key = pki.server_key,
                                     .min_version = versions[i] };
        struct net_tls_settings *s = NULL;
        char errbuf[256] = "";
        assert_int_equal(net_tls_settings_new(&o, &s, errbuf, sizeof(errbuf)), -SW_EBADARG);
        assert_null(s);
    }
    struct net_tls_options o = { .certificate = pki.server_cert,
                                 .private_key = pki.server_key,
                                 .min_version = TLS1_3_VERSION };
    struct net_tls_settings *s = NULL;
    char errbuf[256] = "";
    assert_int_equal(net_tls_settings_new(&o, &s, errbuf, sizeof(errbuf)), 0);
    net_tls_settings_free(s);
}

static void test_settings_errors_name_the_file(void **state)
{
    (void)state;
    struct net_tls_options o = { .certificate = "/nonexistent/cert.pem",
                                 .private_key = pki.server_key };
    struct net_tls_settings *s = NULL;
    char errbuf[512] = "";
    assert_int_equal(net_tls_settings_new(&o, &s, errbuf, sizeof(errbuf)), -SW_ETLS);
    assert_non_null(strstr(errbuf, "/nonexistent/cert.pem"));
    o = (struct net_tls_options){ .certificate = pki.server_cert, .private_key = pki.client_key };
    assert_int_equal(net_tls_settings_new(&o, &s, errbuf, sizeof(errbuf)), -SW_ETLS);
    assert_non_null(strstr(errbuf, "does not match"));
}

static void test_settings_client_certificates_need_ca_file(void **state)
{
    (void)state;
    struct net_tls_options o = { .certificate = pki.server_cert,
                                 .private_key = pki.server_key,
                                 .require_client_certificate = true };
    struct net_tls_settings *s = NULL;
    char errbuf[256] = "";
    assert_int_equal(net_tls_settings_new(&o, &s, errbuf, sizeof(errbuf)), -SW_ECONFIG);
    assert_null(s);
    assert_non_null(strstr(errbuf, "CA file"));
}

static void test_tls_listener_needs_certificate(void **state)
{
    (void)state;
    struct fx fx;
    struct net_listener l = fx_listener(SW_TRANSPORT_TLS, "127.0.0.1");
    assert_int_equal(fx_start(&fx, &l, 1, &(struct net_settings){ .worker_count = 1 }),
                     -EPROTONOSUPPORT);
    fx_stop(&fx);
}

static void test_inbound_handshake_message_and_reply(void **state)
{
    (void)state;
    struct net_tls_settings *tls = settings_new(false);
    assert_non_null(tls);
    struct fx fx;
    start_tls(&fx, tls, (struct net_settings){ 0 });
    SSL_CTX *ctx = client_ctx_new(0, false);
    struct tls_client c = tls_connect(ctx, fx_addr(&fx, 0));
    assert_int_equal(c.handshake_rc, 1);
    assert_int_equal(SSL_write(c.ssl, OPTIONS_MSG, (int)strlen(OPTIONS_MSG)),
                     (int)strlen(OPTIONS_MSG));
    assert_int_equal(fx_wait_msgs(&fx, 1, FX_WAIT_MS), 1);
    struct fx_msg m = fx_msg_at(&fx, 0);
    assert_int_equal(m.transport, SW_TRANSPORT_TLS);
    assert_int_equal(m.len, strlen(OPTIONS_MSG));
    assert_memory_equal(m.data, OPTIONS_MSG, m.len);
    /* The reply travels back on the same connection. */
    struct net_dest dst = { .transport = SW_TRANSPORT_TLS, .addr = m.src, .conn_id = m.conn_id };
    assert_int_equal(fx_send_from(&fx, 0, &dst, "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"), 0);
    char buf[128];
    int n = SSL_read(c.ssl, buf, sizeof(buf));
    assert_int_equal(n, 37);
    assert_memory_equal(buf, "SIP/2.0 200 OK\r\n", 16);
    /* Keep-alive over TLS. */
    assert_int_equal(SSL_write(c.ssl, "\r\n\r\n", 4), 4);
    assert_int_equal(SSL_read(c.ssl, buf, sizeof(buf)), 2);
    tls_client_close(&c);
    SSL_CTX_free(ctx);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
    net_tls_settings_free(tls);
}

static void test_tls11_client_refused(void **state)
{
    (void)state;
    struct net_tls_settings *tls = settings_new(false);
    assert_non_null(tls);
    struct fx fx;
    start_tls(&fx, tls, (struct net_settings){ 0 });
    SSL_CTX *ctx = client_ctx_new(TLS1_1_VERSION, false);
    struct tls_client c = tls_connect(ctx, fx_addr(&fx, 0));
    assert_true(c.handshake_rc <= 0);
    assert_int_equal(fx_wait_errors(&fx, 1, FX_WAIT_MS), 1);
    assert_int_equal(fx_error_at(&fx, 0), -SW_ETLS);
    tls_client_close(&c);
    SSL_CTX_free(ctx);
    /* The same client allowed TLS 1.2 gets in. */
    ctx = client_ctx_new(TLS1_2_VERSION, false);
    c = tls_connect(ctx, fx_addr(&fx, 0));
    assert_int_equal(c.handshake_rc, 1);
    assert_string_equal(SSL_get_version(c.ssl), "TLSv1.2");
    tls_client_close(&c);
    SSL_CTX_free(ctx);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
    net_tls_settings_free(tls);
}

/* Under TLS 1.3 the client learns of a refused certificate only on its first read. */
static bool client_is_refused(struct tls_client *c)
{
    if (c->handshake_rc != 1) {
        return true;
    }
    (void)SSL_write(c->ssl, OPTIONS_MSG, (int)strlen(OPTIONS_MSG));
    char buf[16];
    int n = SSL_read(c->ssl, buf, sizeof(buf));
    ERR_clear_error();
    return n <= 0;
}

static void test_client_certificate_required(void **state)
{
    (void)state;
    struct net_tls_settings *tls = settings_new(true);
    assert_non_null(tls);
    struct fx fx;
    start_tls(&fx, tls, (struct net_settings){ 0 });
    SSL_CTX *anonymous = client_ctx_new(0, false);
    struct tls_client c = tls_connect(anonymous, fx_addr(&fx, 0));
    assert_true(client_is_refused(&c));
    tls_client_close(&c);
    assert_int_equal(fx_wait_errors(&fx, 1, FX_WAIT_MS), 1);
    assert_int_equal(fx_error_at(&fx, 0), -SW_ETLS);
    assert_int_equal(fx_wait_msgs(&fx, 1, 50), 0);

    SSL_CTX *known = client_ctx_new(0, true);
    c = tls_connect(known, fx_addr(&fx, 0));
    assert_int_equal(c.handshake_rc, 1);
    assert_int_equal(SSL_write(c.ssl, OPTIONS_MSG, (int)strlen(OPTIONS_MSG)),
                     (int)strlen(OPTIONS_MSG));
    assert_int_equal(fx_wait_msgs(&fx, 1, FX_WAIT_MS), 1);
    tls_client_close(&c);
    SSL_CTX_free(anonymous);
    SSL_CTX_free(known);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
    net_tls_settings_free(tls);
}

static void test_garbage_and_silent_peers_do_not_block(void **state)
{
    (void)state;
    struct net_tls_settings *tls = settings_new(false);
    assert_non_null(tls);
    struct fx fx;
    start_tls(&fx, tls, (struct net_settings){ 0 });
    /* A silent peer, a peer stuck inside a record header, and one speaking plain SIP. */
    int silent = fx_connect(fx_addr(&fx, 0));
    int stuck = fx_connect(fx_addr(&fx, 0));
    int garbage = fx_connect(fx_addr(&fx, 0));
    assert_true(silent >= 0 && stuck >= 0 && garbage >= 0);
    assert_true(fx_send_all(stuck, "\x16\x03\x01\x40", 4));
    assert_true(fx_send_all(garbage, OPTIONS_MSG, strlen(OPTIONS_MSG)));
    /* Meanwhile a real client is served by the same (single) worker. */
    SSL_CTX *ctx = client_ctx_new(0, false);
    struct tls_client c = tls_connect(ctx, fx_addr(&fx, 0));
    assert_int_equal(c.handshake_rc, 1);
    assert_int_equal(SSL_write(c.ssl, OPTIONS_MSG, (int)strlen(OPTIONS_MSG)),
                     (int)strlen(OPTIONS_MSG));
    assert_int_equal(fx_wait_msgs(&fx, 1, FX_WAIT_MS), 1);
    assert_true(fx_wait_closed(garbage));
    assert_true(fx_wait_errors(&fx, 1, FX_WAIT_MS) >= 1);
    assert_int_equal(fx_error_at(&fx, 0), -SW_ETLS);
    tls_client_close(&c);
    SSL_CTX_free(ctx);
    (void)close(silent);
    (void)close(stuck);
    (void)close(garbage);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
    net_tls_settings_free(tls);
}

static void test_handshake_timeout(void **state)
{
    (void)state;
    struct net_tls_settings *tls = settings_new(false);
    assert_non_null(tls);
    struct fx fx;
    start_tls(&fx, tls, (struct net_settings){ .handshake_timeout_ms = 200 });
    int silent = fx_connect(fx_addr(&fx, 0));
    assert_true(silent >= 0);
    assert_true(fx_wait_closed(silent));
    assert_int_equal(fx_wait_errors(&fx, 1, FX_WAIT_MS), 1);
    assert_int_equal(fx_error_at(&fx, 0), -ETIMEDOUT);
    (void)close(silent);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
    net_tls_settings_free(tls);
}

/* A one-connection TLS server on a thread: accepts, handshakes, reads what arrives. */
struct tls_server {
    int lfd;
    struct sockaddr_storage addr;
    SSL_CTX *ctx;
    pthread_t thread;
    int accept_rc;
    char buf[2048];
    size_t len;
    size_t want; /* bytes to read before closing */
};

static void *tls_server_run(void *arg)
{
    struct tls_server *s = arg;
    s->accept_rc = -1;
    int fd = fx_accept(s->lfd);
    if (fd < 0) {
        return NULL;
    }
    SSL *ssl = SSL_new(s->ctx);
    if (ssl != NULL && SSL_set_fd(ssl, fd) == 1) {
        s->accept_rc = SSL_accept(ssl);
        /* Bounded by the buffer and the socket's 2 s receive timeout. */
        while (s->accept_rc == 1 && s->len < s->want) {
            int n = SSL_read(ssl, s->buf + s->len, (int)(sizeof(s->buf) - s->len));
            if (n <= 0) {
                break;
            }
            s->len += (size_t)n;
        }
    }
    ERR_clear_error();
    SSL_free(ssl);
    (void)close(fd);
    return NULL;
}

static void tls_server_start(struct tls_server *s, size_t want)
{
    memset(s, 0, sizeof(*s));
    s->want = want;
    s->lfd = fx_listen("127.0.0.1", &s->addr);
    assert_true(s->lfd >= 0);
    s->ctx = SSL_CTX_new(TLS_server_method());
    assert_non_null(s->ctx);
    assert_int_equal(SSL_CTX_use_certificate_chain_file(s->ctx, pki.server_cert), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey_file(s->ctx, pki.server_key, SSL_FILETYPE_PEM), 1);
    assert_int_equal(pthread_create(&s->thread, NULL, tls_server_run, s), 0);
}

static void tls_server_join(struct tls_server *s)
{
    assert_int_equal(pthread_join(s->thread, NULL), 0);
    SSL_CTX_free(s->ctx);
    (void)close(s->lfd);
}

static void outbound_case(const char *server_name, bool is_unverified, bool is_accepted)
{
    struct net_tls_settings *tls = settings_with(false, is_unverified);
    assert_non_null(tls);
    struct fx fx;
    start_tls(&fx, tls, (struct net_settings){ 0 });
    struct tls_server server;
    tls_server_start(&server, 2 * strlen(OPTIONS_MSG));
    struct net_dest dst = {
        .transport = SW_TRANSPORT_TLS,
        .addr = server.addr,
        .tls_server_name = server_name,
    };
    /* The second send reuses the connection (the server accepts only one). */
    assert_int_equal(fx_send_from(&fx, 0, &dst, OPTIONS_MSG), 0);
    assert_int_equal(fx_send_from(&fx, 0, &dst, OPTIONS_MSG), 0);
    tls_server_join(&server);
    if (is_accepted) {
        assert_int_equal(server.accept_rc, 1);
        assert_int_equal(server.len, 2 * strlen(OPTIONS_MSG));
        assert_memory_equal(server.buf, OPTIONS_MSG OPTIONS_MSG, server.len);
    } else {
        assert_int_not_equal(server.accept_rc, 1);
        assert_int_equal(server.len, 0);
    }
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
    net_tls_settings_free(tls);
}

static void test_outbound_verifies_host_name(void **state)
{
    (void)state;
    outbound_case("localhost", false, true);
}

static void test_outbound_rejects_wrong_host_name(void **state)
{
    (void)state;
    outbound_case("wrong.example", false, false);
}

static void test_outbound_verifies_ip_without_name(void **state)
{
    (void)state;
    outbound_case(NULL, false, true);
}

static void test_outbound_unverified_accepts_any_name(void **state)
{
    (void)state;
    outbound_case("wrong.example", true, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings_refuse_readable_key),
        cmocka_unit_test(test_settings_refuse_old_versions),
        cmocka_unit_test(test_settings_errors_name_the_file),
        cmocka_unit_test(test_settings_client_certificates_need_ca_file),
        cmocka_unit_test(test_tls_listener_needs_certificate),
        cmocka_unit_test(test_inbound_handshake_message_and_reply),
        cmocka_unit_test(test_tls11_client_refused),
        cmocka_unit_test(test_client_certificate_required),
        cmocka_unit_test(test_garbage_and_silent_peers_do_not_block),
        cmocka_unit_test(test_handshake_timeout),
        cmocka_unit_test(test_outbound_verifies_host_name),
        cmocka_unit_test(test_outbound_rejects_wrong_host_name),
        cmocka_unit_test(test_outbound_verifies_ip_without_name),
        cmocka_unit_test(test_outbound_unverified_accepts_any_name),
    };
    return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
