/*
 * The TN Authorization List of an STI certificate (RFC 8226 §9, OID 1.3.6.1.5.5.7.1.26):
 * which telephone numbers the certificate's holder may sign for. Entries are a service
 * provider code (SPC, what SHAKEN certificates carry: ATIS-1000080), a single number, or a
 * range (a first number and a count). A bounded DER reader (the certificate comes from
 * the network) and the coverage test the verifier applies to orig.tn. Pure; any thread.
 */
#ifndef SW_STIR_TNAUTH_H
#define SW_STIR_TNAUTH_H

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stir/tn.h"

/* At most this many entries are kept from one list; a longer one is refused. */
#define STIR_TNAUTH_MAX 16

enum stir_tnauth_kind {
    STIR_TNAUTH_SPC,   /* [0] ServiceProviderCode */
    STIR_TNAUTH_RANGE, /* [1] TelephoneNumberRange: start, count */
    STIR_TNAUTH_ONE,   /* [2] TelephoneNumber */
};

struct stir_tnauth_entry {
    enum stir_tnauth_kind kind;
    char digits[STIR_TN_MAX_DIGITS + 1]; /* the number or the range's start; "" for an SPC */
    uint8_t len;
    uint64_t count; /* a range's count (>= 2); 1 for one number; 0 for an SPC */
};

struct stir_tnauth {
    bool is_present; /* the certificate carries the extension */
    size_t count;
    struct stir_tnauth_entry entries[STIR_TNAUTH_MAX];
};

/*
 * Reads a DER TNAuthorizationList (SEQUENCE SIZE (1..MAX) OF TNEntry, explicit context
 * tags) of `len` bytes into `out`. Returns 0, or -SW_EBADARG for anything malformed,
 * empty, longer than STIR_TNAUTH_MAX entries, or with a number that is not 1 to 15
 * digits.
 */
int stir_tnauth_parse(const unsigned char *der, size_t len, struct stir_tnauth *out);

/*
 * The list of `cert` (out->is_present false when it has none). Returns 0, or -SW_EBADARG
 * when the extension is present but malformed.
 */
int stir_tnauth_from_cert(X509 *cert, struct stir_tnauth *out);

/*
 * Does the list allow signing for `tn`? True when a number or range entry contains it.
 * A list of SPC entries only (the SHAKEN profile) names no numbers: the STI-PA vouched
 * for the provider, so every number passes. A list with number entries restricts the
 * holder to them (SPC entries beside them do not widen it).
 */
bool stir_tnauth_covers(const struct stir_tnauth *list, const struct stir_tn *tn);

#endif
