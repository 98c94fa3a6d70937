/*
 * Parsing of one configuration value, per key type (keys.def TYPE). The typed parsers
 * are pure; cfg_value_set() and cfg_value_free() allocate and free the field's memory
 * with base/alloc.h. A reason (`why`) is always a static string that never contains the
 * value, so that a secret cannot leak into a message. Thread-safe.
 */
#ifndef SW_CONFIG_VALUE_H
#define SW_CONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"
#include "config/config.h"
#include "config/keys.h"

/* "yes", "no", "true", "false", "on", "off", "1", "0", in any case. */
bool cfg_value_bool(struct sv text, bool *out);

/* A decimal number in [min, max]. */
bool cfg_value_uint(struct sv text, uint32_t min, uint32_t max, uint32_t *out, const char **why);

/* Seconds: "300", "300s", "5m", "2h", "1d", within [min, max]. */
bool cfg_value_duration(struct sv text, uint32_t min, uint32_t max, uint32_t *out,
                        const char **why);

/* The position of `text` in the "a|b|c" list `words` (ASCII case-insensitive). */
bool cfg_value_enum(struct sv text, const char *words, unsigned int *out);

/* An IPv4 or IPv6 literal (brackets allowed) or a DNS name of letters, digits, hyphens. */
bool cfg_value_host(struct sv text, const char **why);

/* A SIP user part (RFC 3261 §25.1 user: unreserved, escaped and user-unreserved). */
bool cfg_value_user(struct sv text, const char **why);

/* A telephone number: an optional "+" and 1 to 15 digits. */
bool cfg_value_number(struct sv text, const char **why);

/* Exactly `digits` hexadecimal digits. */
bool cfg_value_hex(struct sv text, size_t digits, const char **why);

/*
 * "transport:host[:port]", transport udp, tcp or tls (any case); an IPv6 host in
 * brackets. The port defaults to 5060, 5061 for tls.
 */
bool cfg_value_endpoint(struct sv text, struct cfg_endpoint *out, const char **why);

/* "host[:port]" (an IPv6 host in brackets); transport TCP. */
bool cfg_value_hostport(struct sv text, uint16_t default_port, struct cfg_endpoint *out,
                        const char **why);

/* "+E.164", "+first-+last" (same length, first <= last) or "+prefix*". */
bool cfg_value_number_pattern(struct sv text, struct cfg_number_pattern *out, const char **why);

/* "YYYY-MM-DD" (2000..2199, a real day) as the Unix time of 00:00 UTC. */
bool cfg_value_date(struct sv text, int64_t *out, const char **why);

/* "MD5", "SHA-256" or "SHA-512-256" (any case). */
bool cfg_value_algorithm(struct sv text, enum cfg_digest_algorithm *out);

/*
 * Sets the field of `desc` inside `base` (the section struct) from `text`. With
 * `is_append`, a list value is added to the list already there; otherwise the old value
 * is freed and replaced. Returns 0, -ENOMEM, or -SW_ECONFIG with a sentence in `msg`
 * (the value is quoted in it unless the type is secret). On failure the field is
 * unchanged.
 */
int cfg_value_set(const struct cfg_key_desc *desc, void *base, struct sv text, bool is_append,
                  char *msg, size_t cap);

/* Frees what the field of `desc` in `base` owns (wiping secrets) and zeroes it. */
void cfg_value_free(const struct cfg_key_desc *desc, void *base);

/* Overwrites and frees a NUL-terminated secret; NULL is a no-op. */
void cfg_secret_free(char *secret);

#endif
