#include "number/e164.h"

#include <string.h>

#define RAW_MAX_DIGITS 32 /* digits kept while scanning: prefixes + 15, with room to spare */

/* The digits of a dialled string once the separators are gone. */
struct raw_digits {
    char buf[RAW_MAX_DIGITS];
    size_t len;
    bool has_plus;
};

const char *e164_status_text(enum e164_status status)
{
    switch (status) {
    case E164_OK:
        return "ok";
    case E164_EMPTY:
        return "no digits";
    case E164_NOT_A_NUMBER:
        return "not a number";
    case E164_SERVICE_CODE:
        return "service code (* or #)";
    case E164_TOO_LONG:
        return "more than 15 digits";
    case E164_TOO_SHORT:
        return "too few digits";
    case E164_UNKNOWN_CODE:
        return "unassigned country calling code";
    case E164_NO_COUNTRY:
        return "national number without a home country";
    }
    return "unknown status";
}

int e164_status_sip(enum e164_status status)
{
    switch (status) {
    case E164_EMPTY:
    case E164_TOO_SHORT:
    case E164_NO_COUNTRY:
        return 484;
    case E164_OK:
        return 200;
    default:
        return 404;
    }
}

struct sv e164_digits(const struct e164_number *number)
{
    return sv_make(number->digits, number->len);
}

/* RFC 3966 §3: visual-separator = "-" / "." / "(" / ")". */
static bool is_visual_separator(char c)
{
    return c == '-' || c == '.' || c == '(' || c == ')';
}

/* Strips "tel:" and the URI parameters; keeps the number part. */
static struct sv number_part(struct sv in)
{
    if (sv_starts_with_nocase(in, SV("tel:"))) {
        in = sv_slice(in, 4, in.len - 4);
    }
    long semi = sv_find_char(in, ';');
    if (semi >= 0) {
        in.len = (size_t)semi;
    }
    return in;
}

static enum e164_status scan_digits(struct sv in, struct raw_digits *raw)
{
    raw->len = 0;
    raw->has_plus = in.len > 0 && in.ptr[0] == '+';
    bool is_service = false;
    bool is_long = false;
    for (size_t i = raw->has_plus ? 1 : 0; i < in.len; i++) {
        char c = in.ptr[i];
        if (c >= '0' && c <= '9') {
            if (raw->len == RAW_MAX_DIGITS) {
                is_long = true;
                continue;
            }
            raw->buf[raw->len++] = c;
        } else if (c == '*' || c == '#') {
            is_service = true;
        } else if (!is_visual_separator(c)) {
            return E164_NOT_A_NUMBER;
        }
    }
    if (is_service) {
        return E164_SERVICE_CODE;
    }
    if (raw->len == 0) {
        return E164_EMPTY;
    }
    return is_long ? E164_TOO_LONG : E164_OK;
}

static enum e164_status finish(struct e164_number *out, struct sv code, struct sv national)
{
    if (code.len + national.len > E164_MAX_DIGITS) {
        return E164_TOO_LONG;
    }
    if (national.len < 2) {
        return E164_TOO_SHORT;
    }
    memcpy(out->digits, code.ptr, code.len);
    memcpy(out->digits + code.len, national.ptr, national.len);
    out->len = (uint8_t)(code.len + national.len);
    out->code_len = (uint8_t)code.len;
    out->digits[out->len] = '\0';
    return E164_OK;
}

static enum e164_status international(struct e164_number *out, struct sv digits)
{
    size_t code_len = numplan_code_len(digits);
    if (code_len == 0) {
        return digits.len > E164_MAX_DIGITS ? E164_TOO_LONG : E164_UNKNOWN_CODE;
    }
    return finish(out, sv_slice(digits, 0, code_len),
                  sv_slice(digits, code_len, digits.len - code_len));
}

/* Without a home territory, the two international prefixes of the brief: 00 and 011. */
static size_t default_intl_prefix_len(struct sv digits)
{
    if (sv_starts_with(digits, SV("011")) && digits.len > 3 && digits.ptr[3] != '0') {
        return 3;
    }
    if (sv_starts_with(digits, SV("00")) && digits.len > 2 && digits.ptr[2] != '0') {
        return 2;
    }
    return 0;
}

static enum e164_status from_digits(struct e164_number *out, const struct raw_digits *raw,
                                    const struct numplan_territory *home)
{
    struct sv digits = sv_make(raw->buf, raw->len);
    if (raw->has_plus) {
        return international(out, digits);
    }
    size_t intl =
        home != NULL ? numplan_intl_prefix_len(home, digits) : default_intl_prefix_len(digits);
    if (intl > 0) {
        return international(out, sv_slice(digits, intl, digits.len - intl));
    }
    if (home == NULL) {
        return E164_NO_COUNTRY;
    }
    struct sv trunk = sv_from_cstr(home->national_prefix);
    if (trunk.len > 0 && sv_starts_with(digits, trunk)) {
        digits = sv_slice(digits, trunk.len, digits.len - trunk.len);
    }
    out->was_national = true;
    return finish(out, sv_from_cstr(home->calling_code), digits);
}

enum e164_status e164_normalize(struct sv in, const struct numplan_territory *home,
                                struct e164_number *out)
{
    memset(out, 0, sizeof(*out));
    if (in.ptr == NULL) {
        return E164_EMPTY;
    }
    if (in.len > E164_MAX_INPUT) {
        return E164_TOO_LONG;
    }
    struct raw_digits raw;
    enum e164_status status = scan_digits(number_part(in), &raw);
    if (status == E164_OK) {
        status = from_digits(out, &raw, home);
    }
    if (status != E164_OK) {
        memset(out, 0, sizeof(*out));
    }
    return status;
}
