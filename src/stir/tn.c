#include "stir/tn.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

/*
 * The assigned country calling codes: every distinct calling_code of
 * testdata/e164/country-codes.tsv (libphonenumber, 254 territories); the unit test
 * compares this table with that file. Sorted for bsearch. ITU codes are prefix-free,
 * and none starts with 0, so the value alone identifies a code.
 */
static const uint16_t country_codes[] = {
    1,   7,   20,  27,  30,  31,  32,  33,  34,  36,  39,  40,  41,  43,  44,  45,  46,  47,
    48,  49,  51,  52,  53,  54,  55,  56,  57,  58,  60,  61,  62,  63,  64,  65,  66,  81,
    82,  84,  86,  90,  91,  92,  93,  94,  95,  98,  211, 212, 213, 216, 218, 220, 221, 222,
    223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239, 240,
    241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253, 254, 255, 256, 257, 258,
    260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 290, 291, 297, 298, 299, 350, 351, 352,
    353, 354, 355, 356, 357, 358, 359, 370, 371, 372, 373, 374, 375, 376, 377, 378, 380, 381,
    382, 383, 385, 386, 387, 389, 420, 421, 423, 500, 501, 502, 503, 504, 505, 506, 507, 508,
    509, 590, 591, 592, 593, 594, 595, 596, 597, 598, 599, 670, 672, 673, 674, 675, 676, 677,
    678, 679, 680, 681, 682, 683, 685, 686, 687, 688, 689, 690, 691, 692, 800, 808, 850, 852,
    853, 855, 856, 870, 878, 880, 881, 882, 883, 886, 888, 960, 961, 962, 963, 964, 965, 966,
    967, 968, 970, 971, 972, 973, 974, 975, 976, 977, 979, 992, 993, 994, 995, 996, 998
};

#define COUNTRY_CODE_COUNT (sizeof(country_codes) / sizeof(country_codes[0]))

static int compare_u16(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a;
    uint16_t y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

bool stir_tn_has_country_code(struct sv digits, size_t *cc_len)
{
    uint16_t value = 0;
    for (size_t k = 0; k < 3 && k < digits.len; k++) {
        char c = digits.ptr[k];
        if (c < '0' || c > '9' || (k == 0 && c == '0')) {
            return false;
        }
        value = (uint16_t)(value * 10U + (uint16_t)(c - '0'));
        if (bsearch(&value, country_codes, COUNTRY_CODE_COUNT, sizeof(country_codes[0]),
                    compare_u16) != NULL) {
            if (cc_len != NULL) {
                *cc_len = k + 1;
            }
            return true;
        }
    }
    return false;
}

static bool is_visual_separator(char c)
{
    return c == '-' || c == '.' || c == '(' || c == ')' || c == ' ';
}

/*
 * Copies the digits of `in` into `buf` (capacity `cap`), dropping visual separators and
 * noting a leading '+'. Any other character, a '+' after the first position or more
 * digits than fit is a failure.
 */
static bool collect_digits(struct sv in, char *buf, size_t cap, size_t *len, bool *is_global)
{
    *len = 0;
    *is_global = false;
    bool seen_digit = false;
    for (size_t i = 0; i < in.len; i++) {
        char c = in.ptr[i];
        if (c == '+' && !seen_digit && !*is_global) {
            *is_global = true;
            continue;
        }
        if (is_visual_separator(c)) {
            continue;
        }
        if (c < '0' || c > '9' || *len + 1 >= cap) {
            return false;
        }
        buf[(*len)++] = c;
        seen_digit = true;
    }
    buf[*len] = '\0';
    return seen_digit;
}

/* Italy and San Marino dial the leading 0 as part of the national number. */
static bool keeps_leading_zero(struct sv cc)
{
    return sv_eq(cc, SV("39")) || sv_eq(cc, SV("378"));
}

/*
 * Turns a national number into international digits (without '+') in `out`, or
 * returns false when it has no unambiguous meaning for country `cc`.
 */
static bool national_to_e164(const char *digits, size_t len, struct sv cc, struct stir_tn *out)
{
    const char *number = digits;
    size_t number_len = len;
    if (sv_eq(cc, SV("1"))) {
        /* NANP: NXX area codes never start with 0 or 1; 1 + 10 digits is toll dialling. */
        if (len == 11 && digits[0] == '1') {
            number = digits + 1;
            number_len = 10;
        }
        if (number_len != 10 || number[0] < '2') {
            return false;
        }
    } else if (!keeps_leading_zero(cc)) {
        if (len < 2 || digits[0] != '0' || digits[1] == '0') {
            return false;
        }
        number = digits + 1;
        number_len = len - 1;
    }
    if (cc.len + number_len > STIR_TN_MAX_DIGITS) {
        return false;
    }
    memcpy(out->digits, cc.ptr, cc.len);
    memcpy(out->digits + cc.len, number, number_len);
    out->len = (uint8_t)(cc.len + number_len);
    out->digits[out->len] = '\0';
    return true;
}

/* Strips an international dialling prefix (00, or 011 in the NANP); false if none. */
static bool strip_international_prefix(const char **digits, size_t *len, struct sv cc)
{
    struct sv prefix = sv_eq(cc, SV("1")) ? SV("011") : SV("00");
    if (*len <= prefix.len || memcmp(*digits, prefix.ptr, prefix.len) != 0) {
        return false;
    }
    *digits += prefix.len;
    *len -= prefix.len;
    return true;
}

static bool is_country_code_setting(struct sv cc)
{
    size_t cc_len = 0;
    return cc.ptr != NULL && cc.len >= 1 && cc.len <= 3 && stir_tn_has_country_code(cc, &cc_len) &&
           cc_len == cc.len;
}

int stir_tn_normalize(struct sv in, struct sv country_code, struct stir_tn *out)
{
    memset(out, 0, sizeof(*out));
    if (in.ptr == NULL || in.len > STIR_TN_MAX_INPUT) {
        return -SW_EBADARG;
    }
    char buf[STIR_TN_MAX_INPUT + 1];
    size_t len = 0;
    bool is_global = false;
    if (!collect_digits(in, buf, sizeof(buf), &len, &is_global)) {
        return -SW_EBADARG;
    }
    const char *digits = buf;
    bool has_cc = is_country_code_setting(country_code);
    if (!is_global && has_cc && strip_international_prefix(&digits, &len, country_code)) {
        is_global = true;
    }
    if (is_global) {
        if (len > STIR_TN_MAX_DIGITS) {
            return -SW_EBADARG;
        }
        memcpy(out->digits, digits, len);
        out->len = (uint8_t)len;
    } else if (!has_cc || !national_to_e164(digits, len, country_code, out)) {
        memset(out, 0, sizeof(*out));
        return -SW_EBADARG;
    }
    if (out->len < STIR_TN_MIN_DIGITS || !stir_tn_has_country_code(stir_tn_sv(out), NULL)) {
        memset(out, 0, sizeof(*out));
        return -SW_EBADARG;
    }
    return 0;
}

/* The user part of a sip/sips URI after its scheme (`rest`), or false without '@'. */
static bool sip_user_part(struct sv rest, struct sv *user)
{
    long at = sv_find_char(rest, '@');
    if (at < 0) {
        return false;
    }
    *user = sv_slice(rest, 0, (size_t)at);
    return true;
}

/* The number part of a URI: user part of sip/sips, number of tel, without parameters. */
static bool uri_number(struct sv uri, struct sv *number)
{
    uri = sv_trim(uri);
    if (uri.len >= 2 && uri.ptr[0] == '<' && uri.ptr[uri.len - 1] == '>') {
        uri = sv_slice(uri, 1, uri.len - 2);
    }
    struct sv rest = SV_NULL;
    if (sv_starts_with_nocase(uri, SV("tel:"))) {
        rest = sv_slice(uri, 4, uri.len);
    } else if (sv_starts_with_nocase(uri, SV("sip:"))) {
        if (!sip_user_part(sv_slice(uri, 4, uri.len), &rest)) {
            return false;
        }
    } else if (sv_starts_with_nocase(uri, SV("sips:"))) {
        if (!sip_user_part(sv_slice(uri, 5, uri.len), &rest)) {
            return false;
        }
    } else {
        return false;
    }
    /* RFC 3966 §3 / RFC 3261 §19.1.6: parameters follow the number after ';'. */
    long semi = sv_find_char(rest, ';');
    if (semi >= 0) {
        rest.len = (size_t)semi;
    }
    *number = rest;
    return rest.len > 0;
}

int stir_tn_from_uri(struct sv uri, struct sv country_code, struct stir_tn *out)
{
    struct sv number = SV_NULL;
    if (uri.ptr == NULL || !uri_number(uri, &number)) {
        memset(out, 0, sizeof(*out));
        return -SW_EBADARG;
    }
    return stir_tn_normalize(number, country_code, out);
}

bool stir_tn_eq(const struct stir_tn *a, const struct stir_tn *b)
{
    return a->len == b->len && memcmp(a->digits, b->digits, a->len) == 0;
}

struct sv stir_tn_sv(const struct stir_tn *tn)
{
    return sv_make(tn->digits, tn->len);
}
