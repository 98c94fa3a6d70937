/*
 * Client side of digest authentication (RFC 3261 §22.2, RFC 7616, RFC 8760): the gateway
 * answers a provider's 401/407 with the trunk's credentials. Pure functions; any thread.
 * Secrets are only read, never logged or copied beyond the stack.
 */
#ifndef SW_CALL_UAC_AUTH_H
#define SW_CALL_UAC_AUTH_H

#include <stdbool.h>

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
