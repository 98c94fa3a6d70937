/*
 * Strength of a shared secret (SIP digest password), as `sipwarden audit` and
 * `sipwarden passwd check` judge it. Three rules, all required:
 *
 *   - at least AUDIT_SECRET_MIN_LENGTH (16) characters;
 *   - at least AUDIT_SECRET_MIN_CLASSES (3) of the four classes lower-case, upper-case,
 *     digit, other (a 16+ character random secret from a provider portal that forbids
 *     symbols still passes; a word with a digit appended does not);
 *   - at least AUDIT_SECRET_MIN_BITS (64) bits by libzxcvbn's estimate. Why 64: a digest
 *     response sniffed from clear-text SIP can be attacked offline; at 10^10 MD5 guesses per
 *     second (one GPU) 2^63 expected guesses take about 29 years, while a human-made
 *     pattern that passes the first two rules ("Summer2023!Summer") scores under 30 bits.
 *     A random secret from `sipwarden passwd gen` (24 characters) scores above 120 bits.
 *
 * zxcvbn also gets the user name, realm and section name as words to penalise. Only the
 * first AUDIT_SECRET_MAX_ESTIMATE bytes are estimated (its cost grows quickly with length;
 * a longer secret is long enough by construction). Thread-safe; the secret is copied only
 * to a local buffer that is wiped before returning.
 */
#ifndef SW_TOOLS_AUDIT_SECRET_H
#define SW_TOOLS_AUDIT_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "base/sv.h"

#define AUDIT_SECRET_MIN_LENGTH   16
#define AUDIT_SECRET_MIN_CLASSES  3
#define AUDIT_SECRET_MIN_BITS     64.0
#define AUDIT_SECRET_MAX_ESTIMATE 128
#define AUDIT_SECRET_MAX_WORDS    4

enum audit_secret_class {
    AUDIT_CLASS_LOWER = 1u << 0,
    AUDIT_CLASS_UPPER = 1u << 1,
    AUDIT_CLASS_DIGIT = 1u << 2,
    AUDIT_CLASS_OTHER = 1u << 3,
};

struct audit_secret_score {
    double bits;      /* libzxcvbn's entropy estimate */
    size_t length;    /* in bytes */
    unsigned classes; /* enum audit_secret_class bits */
    unsigned class_count;
    bool is_long_enough;
    bool has_classes;
    bool is_hard_to_guess; /* bits >= AUDIT_SECRET_MIN_BITS */
    bool is_ok;            /* all three */
};

/*
 * Scores `secret`. `words` (up to AUDIT_SECRET_MAX_WORDS, absent or empty ones skipped)
 * are user-specific words zxcvbn treats as known to the attacker.
 */
void audit_secret_score(struct sv secret, const struct sv *words, size_t word_count,
                        struct audit_secret_score *out);

/*
 * Writes what is wrong with a score that is not ok ("8 characters (16 needed); ...") or
 * "strong" into `buf` of `cap` bytes (always NUL-terminated).
 */
void audit_secret_describe(const struct audit_secret_score *score, char *buf, size_t cap);

#endif
