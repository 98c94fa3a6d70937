/*
 * Error codes. A function that can fail returns 0, -errno, or -SW_E…; one X-macro list
 * generates the enum and sw_strerror() (libuv's way). Thread-safe.
 */
#ifndef SW_BASE_ERR_H
#define SW_BASE_ERR_H

/* Codes start above any errno value so that -errno and -SW_E… never collide. */
#define SW_ERR_MAP(X)                                 \
    X(SW_EBADMSG, "malformed SIP message")            \
    X(SW_EBADURI, "malformed URI")                    \
    X(SW_ETOOBIG, "message too large")                \
    X(SW_EINCOMPLETE, "message incomplete")           \
    X(SW_EBADVERSION, "unsupported SIP version")      \
    X(SW_ENOMEM_ARENA, "per-message arena exhausted") \
    X(SW_EFULL, "table full")                         \
    X(SW_ENOTFOUND, "not found")                      \
    X(SW_ECONFIG, "invalid configuration")            \
    X(SW_EPERM_FILE, "file permissions too open")     \
    X(SW_ETLS, "TLS failure")                         \
    X(SW_EAUTH, "authentication failed")              \
    X(SW_ECRYPTO, "cryptographic failure")            \
    X(SW_EBADSDP, "malformed SDP")                    \
    X(SW_EIDENTITY, "identity verification failed")   \
    X(SW_EBADARG, "invalid argument")                 \
    X(SW_EIO, "input/output error")

enum sw_err {
    SW_ERR_BASE = 10000,

#define SW_ERR_ENUM(name, text) name,
    SW_ERR_MAP(SW_ERR_ENUM)
#undef SW_ERR_ENUM
        SW_ERR_END
};

/* A static description of `err` (negative or positive; SW_E… or errno). Never NULL. */
const char *sw_strerror(int err);

#endif
