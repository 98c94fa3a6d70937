#include "tools/audit_secret.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <zxcvbn.h>

#include "base/assert.h"

#define WORD_CAP 64

static unsigned class_of(unsigned char c)
{
    if (c >= 'a' && c <= 'z') {
        return AUDIT_CLASS_LOWER;
    }
    if (c >= 'A' && c <= 'Z') {
        return AUDIT_CLASS_UPPER;
    }
    if (c >= '0' && c <= '9') {
        return AUDIT_CLASS_DIGIT;
    }
    return AUDIT_CLASS_OTHER;
}

static unsigned popcount4(unsigned bits)
{
    return (bits & 1u) + ((bits >> 1) & 1u) + ((bits >> 2) & 1u) + ((bits >> 3) & 1u);
}

/* libzxcvbn's estimate of the first AUDIT_SECRET_MAX_ESTIMATE bytes of `secret`. */
static double estimate_bits(struct sv secret, const struct sv *words, size_t word_count)
{
    char copy[AUDIT_SECRET_MAX_ESTIMATE + 1];
    char word_bufs[AUDIT_SECRET_MAX_WORDS][WORD_CAP];
    const char *dict[AUDIT_SECRET_MAX_WORDS + 1];
    size_t dict_count = 0;
    for (size_t i = 0; i < word_count && i < AUDIT_SECRET_MAX_WORDS; i++) {
        if (words[i].len > 0 && sv_copy_cstr(words[i], word_bufs[dict_count], WORD_CAP)) {
            dict[dict_count] = word_bufs[dict_count];
            dict_count++;
        }
    }
    dict[dict_count] = NULL;
    size_t len = secret.len < AUDIT_SECRET_MAX_ESTIMATE ? secret.len : AUDIT_SECRET_MAX_ESTIMATE;
    struct sv head = sv_slice(secret, 0, len);
    if (!sv_copy_cstr(head, copy, sizeof(copy))) {
        return 0.0;
    }
    /* zxcvbn stops at a NUL: a secret with one is estimated up to it, which errs low. */
    double bits = ZxcvbnMatch(copy, dict, NULL);
    OPENSSL_cleanse(copy, sizeof(copy));
    return bits;
}

void audit_secret_score(struct sv secret, const struct sv *words, size_t word_count,
                        struct audit_secret_score *out)
{
    SW_ASSERT(out != NULL);
    unsigned classes = 0;
    for (size_t i = 0; i < secret.len; i++) {
        classes |= class_of((unsigned char)secret.ptr[i]);
    }
    out->length = secret.len;
    out->classes = classes;
    out->class_count = popcount4(classes);
    out->bits = secret.len == 0 ? 0.0 : estimate_bits(secret, words, word_count);
    out->is_long_enough = secret.len >= AUDIT_SECRET_MIN_LENGTH;
    out->has_classes = out->class_count >= AUDIT_SECRET_MIN_CLASSES;
    out->is_hard_to_guess = out->bits >= AUDIT_SECRET_MIN_BITS;
    out->is_ok = out->is_long_enough && out->has_classes && out->is_hard_to_guess;
}

void audit_secret_describe(const struct audit_secret_score *score, char *buf, size_t cap)
{
    SW_ASSERT(cap > 0);
    int used =
        snprintf(buf, cap, "%s: %zu characters, %u of 4 character classes, %.0f bits",
                 score->is_ok ? "strong" : "weak", score->length, score->class_count, score->bits);
    size_t at = used < 0 ? 0 : (size_t)used;
    if (score->is_ok || at >= cap) {
        return;
    }
    const char *sep = " (";
    if (!score->is_long_enough) {
        at += (size_t)snprintf(buf + at, cap - at, "%sat least %d characters needed", sep,
                               AUDIT_SECRET_MIN_LENGTH);
        sep = "; ";
    }
    if (!score->has_classes && at < cap) {
        at += (size_t)snprintf(buf + at, cap - at, "%sat least %d classes needed", sep,
                               AUDIT_SECRET_MIN_CLASSES);
        sep = "; ";
    }
    if (!score->is_hard_to_guess && at < cap) {
        at += (size_t)snprintf(buf + at, cap - at, "%sguessable: at least %.0f bits needed", sep,
                               AUDIT_SECRET_MIN_BITS);
    }
    if (at < cap) {
        (void)snprintf(buf + at, cap - at, ")");
    }
}
