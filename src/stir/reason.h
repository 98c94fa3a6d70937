/*
 * Outcomes of a STIR verification and what each means on the wire: the RFC 8224 response
 * a rejecting policy sends (§6.2.2, §13) and the verstat value (ATIS-1000074, 3GPP TS
 * 24.229) a tagging policy puts on the P-Asserted-Identity. One X-macro list generates
 * the enum and the tables, so a reason cannot lose its mapping. Pure; thread-safe.
 */
#ifndef SW_STIR_REASON_H
#define SW_STIR_REASON_H

enum stir_verstat {
    STIR_VERSTAT_PASSED, /* TN-Validation-Passed */
    STIR_VERSTAT_FAILED, /* TN-Validation-Failed */
    STIR_VERSTAT_NONE,   /* No-TN-Validation */
};

/*
 * X(name, text, sip_code, verstat). 403 "Stale Date" is RFC 8224 §6.2.1's answer to an
 * iat outside the window; 428/436/437/438 are those of §6.2.2. An internal failure
 * (out of memory) verifies nothing: No-TN-Validation, 500.
 */
#define STIR_REASON_MAP(X)                                                                       \
    X(STIR_OK, "valid", 200, STIR_VERSTAT_PASSED)                                                \
    X(STIR_NO_IDENTITY, "no Identity header", 428, STIR_VERSTAT_NONE)                            \
    X(STIR_BAD_SYNTAX, "malformed Identity header", 438, STIR_VERSTAT_FAILED)                    \
    X(STIR_BAD_ENCODING, "bad base64url in the PASSporT", 438, STIR_VERSTAT_FAILED)              \
    X(STIR_BAD_JSON, "PASSporT header or claims are not a valid JSON object", 438,               \
      STIR_VERSTAT_FAILED)                                                                       \
    X(STIR_BAD_ALG, "alg is not ES256", 437, STIR_VERSTAT_FAILED)                                \
    X(STIR_BAD_TYP, "typ is not passport", 438, STIR_VERSTAT_FAILED)                             \
    X(STIR_BAD_PPT, "ppt is not shaken", 438, STIR_VERSTAT_FAILED)                               \
    X(STIR_BAD_CRIT, "unsupported critical header extension", 438, STIR_VERSTAT_FAILED)          \
    X(STIR_PARAM_MISMATCH, "Identity alg/ppt parameter differs from the PASSporT header", 438,   \
      STIR_VERSTAT_FAILED)                                                                       \
    X(STIR_BAD_X5U, "x5u is not an acceptable https URL", 436, STIR_VERSTAT_FAILED)              \
    X(STIR_X5U_MISMATCH, "info parameter differs from x5u", 436, STIR_VERSTAT_FAILED)            \
    X(STIR_BAD_CLAIMS, "a required claim is missing or malformed", 438, STIR_VERSTAT_FAILED)     \
    X(STIR_STALE, "iat outside the allowed window", 403, STIR_VERSTAT_FAILED)                    \
    X(STIR_ORIG_MISMATCH, "orig.tn does not match the calling number", 438, STIR_VERSTAT_FAILED) \
    X(STIR_DEST_MISMATCH, "dest.tn does not match the called number", 438, STIR_VERSTAT_FAILED)  \
    X(STIR_COMPACT_UNSUPPORTED, "compact form cannot be rebuilt for this PASSporT", 438,         \
      STIR_VERSTAT_FAILED)                                                                       \
    X(STIR_CERT_FETCH, "certificate could not be fetched from x5u", 436, STIR_VERSTAT_FAILED)    \
    X(STIR_CERT_BAD, "certificate unreadable or its key is not EC P-256", 437,                   \
      STIR_VERSTAT_FAILED)                                                                       \
    X(STIR_CERT_UNTRUSTED, "certificate chain does not lead to a trust anchor", 437,             \
      STIR_VERSTAT_FAILED)                                                                       \
    X(STIR_CERT_EXPIRED, "certificate expired or not yet valid", 437, STIR_VERSTAT_FAILED)       \
    X(STIR_CERT_NO_TNAUTH, "certificate has no TNAuthList (RFC 8226)", 437, STIR_VERSTAT_FAILED) \
    X(STIR_TN_UNAUTHORIZED, "the certificate's TNAuthList does not cover orig.tn", 438,          \
      STIR_VERSTAT_FAILED)                                                                       \
    X(STIR_BAD_SIGNATURE, "signature does not verify", 438, STIR_VERSTAT_FAILED)                 \
    X(STIR_INTERNAL, "internal error", 500, STIR_VERSTAT_NONE)

enum stir_reason {

#define STIR_REASON_ENUM(name, text, code, verstat) name,
    STIR_REASON_MAP(STIR_REASON_ENUM)
#undef STIR_REASON_ENUM
        STIR_REASON_COUNT
};

/* A static description ("signature does not verify"); never NULL. */
const char *stir_reason_text(enum stir_reason reason);

/* The enum name without its prefix ("BAD_SIGNATURE"), for events and metrics. */
const char *stir_reason_name(enum stir_reason reason);

/* The RFC 8224 response code of a failure (200 for STIR_OK). */
int stir_reason_sip_code(enum stir_reason reason);

/* The reason phrase of that code ("Invalid Identity Header"). */
const char *stir_reason_sip_phrase(enum stir_reason reason);

/* The verstat of the outcome. */
enum stir_verstat stir_reason_verstat(enum stir_reason reason);

/* "TN-Validation-Passed", "TN-Validation-Failed" or "No-TN-Validation". */
const char *stir_verstat_text(enum stir_verstat verstat);

#endif
