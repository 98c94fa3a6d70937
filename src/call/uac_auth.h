/*
 * Client side of digest authentication (RFC 3261 §22.2, RFC 7616, RFC 8760): the gateway
 * answers a provider's 401/407 with the trunk's credentials. Pure functions; any thread.
 * Secrets are only read, never logged or copied beyond the stack.
 */
#ifndef SW_CALL_UAC_AUTH_H
#define SW_CALL_UAC_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/sv.h"

struct sip_msg;

/* Credentials of one trunk; any of secret / ha1_md5 / ha1_sha256 may be NULL. */
struct uac_credentials {
    const char *username;
    const char *secret;     /* plain secret: any algorithm, any realm */
    const char *ha1_md5;    /* HA1 for the provider's realm, MD5 */
    const char *ha1_sha256; /* HA1 for the provider's realm, SHA-256 */
};

/*
 * An owned copy of credentials, for what outlives the configuration that named them (a
 * call in progress, a registration): a reload may free the configuration at any time.
 * Wiped by uac_credentials_copy_wipe.
 */
struct uac_credentials_copy {
    char username[128];
    char secret[128];
    char ha1_md5[40];
    char ha1_sha256[72];
    struct uac_credentials view; /* points into the arrays above */
    bool is_set;
};

/* Copies `src` (NULL = none) into `dst`; false when a field does not fit (dst is then
 * empty). */
bool uac_credentials_copy_set(struct uac_credentials_copy *dst, const struct uac_credentials *src);

/* The copy as credentials, or NULL when it holds none. */
const struct uac_credentials *uac_credentials_copy_get(const struct uac_credentials_copy *copy);

/* Forgets the copy, wiping the secrets. */
void uac_credentials_copy_wipe(struct uac_credentials_copy *copy);

/*
 * Appends the "Authorization: ..." (401) or "Proxy-Authorization: ..." (407) line that
 * answers the strongest challenge in `challenge` we hold credentials for, for a request
 * with `method` and Request-URI `uri`. Returns false when no challenge can be answered
 * (unknown scheme or algorithm, missing credentials, qop without "auth").
 */
bool uac_auth_answer(const struct uac_credentials *creds, struct sip_msg *challenge,
                     struct sv method, struct sv uri, struct sw_buf *out);

/*
 * uac_auth_answer() for a request that may answer one challenge only (a second 401/407
 * means the credentials are wrong: asking again would loop): false when `response` is no
 * 401/407, when there are no credentials or when *is_tried; otherwise sets *is_tried.
 */
bool uac_auth_answer_once(const struct uac_credentials *creds, bool *is_tried,
                          struct sip_msg *response, struct sv method, struct sv uri,
                          struct sw_buf *out);

#endif
