#include "number/numplan.h"

#include <string.h>

#include "base/assert.h"
#include "number/numplan_data.h"

static const char *const numclass_names[NUMCLASS_COUNT] = {
    [NUMCLASS_UNKNOWN] = "unknown",
    [NUMCLASS_FIXED] = "fixed",
    [NUMCLASS_MOBILE] = "mobile",
    [NUMCLASS_TOLL_FREE] = "toll-free",
    [NUMCLASS_PREMIUM_RATE] = "premium-rate",
    [NUMCLASS_SHARED_COST] = "shared-cost",
    [NUMCLASS_VOIP] = "voip",
    [NUMCLASS_PERSONAL] = "personal",
    [NUMCLASS_PAGER] = "pager",
    [NUMCLASS_UAN] = "uan",
    [NUMCLASS_VOICEMAIL] = "voicemail",
    [NUMCLASS_FIXED_OR_MOBILE] = "fixed-or-mobile",
};

/*
 * When several class patterns match, the most specific (and dearest) class is reported,
 * in libphonenumber's order (PhoneNumberUtil.getNumberTypeHelper); fixed and mobile
 * together give NUMCLASS_FIXED_OR_MOBILE.
 */
static const enum numclass class_priority[] = {
    NUMCLASS_PREMIUM_RATE, NUMCLASS_TOLL_FREE, NUMCLASS_SHARED_COST, NUMCLASS_VOIP,
    NUMCLASS_PERSONAL,     NUMCLASS_PAGER,     NUMCLASS_UAN,         NUMCLASS_VOICEMAIL,
};

const char *numclass_name(enum numclass numclass)
{
    if ((unsigned)numclass >= NUMCLASS_COUNT) {
        return "unknown";
    }
    return numclass_names[numclass];
}

static bool ascii_eq_nocase(const char *a, struct sv b)
{
    size_t i = 0;
    for (; i < b.len; i++) {
        char x = a[i];
        char y = b.ptr[i];
        if (x == '\0') {
            return false;
        }
        if (y >= 'a' && y <= 'z') {
            y = (char)(y - 'a' + 'A');
        }
        if (x != y) {
            return false;
        }
    }
    return a[i] == '\0';
}

const struct numplan_territory *numplan_territory_by_iso(struct sv iso)
{
    if (iso.ptr == NULL || iso.len == 0 || iso.len > 3) {
        return NULL;
    }
    for (size_t i = 0; i < NUMPLAN_TERRITORY_COUNT; i++) {
        if (ascii_eq_nocase(numplan_territories[i].iso, iso)) {
            return &numplan_territories[i];
        }
    }
    return NULL;
}

/* Index + 1 of the first territory of the code made of the first `len` digits, or 0. */
static unsigned code_slot(struct sv digits, size_t len)
{
    static const unsigned base[4] = { 0, 0, 10, 110 };
    unsigned value = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)digits.ptr[i];
        if (c < '0' || c > '9') {
            return 0;
        }
        value = value * 10 + (unsigned)(c - '0');
    }
    return numplan_code_first[base[len] + value];
}

size_t numplan_code_len(struct sv digits)
{
    for (size_t len = 1; len <= 3 && len <= digits.len; len++) {
        if (code_slot(digits, len) != 0) {
            return len;
        }
    }
    return 0;
}

const struct numplan_territory *numplan_territory_by_code(struct sv code)
{
    if (code.ptr == NULL || code.len == 0 || code.len > 3 || numplan_code_len(code) != code.len) {
        return NULL;
    }
    return &numplan_territories[code_slot(code, code.len) - 1];
}

/* Runs the DFA from `start` over the digits; the accept mask where it ends (0: dead). */
static uint16_t dfa_match(unsigned start, struct sv digits)
{
    unsigned state = start;
    for (size_t i = 0; i < digits.len && state != 0; i++) {
        unsigned digit = (unsigned)((unsigned char)digits.ptr[i] - '0');
        if (digit > 9) {
            return 0;
        }
        state = numplan_trans[state][digit];
    }
    return numplan_accept[state];
}

/* True when a prefix of `digits` is accepted by the prefix DFA at `start`. */
static bool dfa_prefix(unsigned start, struct sv digits)
{
    unsigned state = start;
    for (size_t i = 0; state != 0; i++) {
        if (numplan_accept[state] != 0) {
            return true;
        }
        if (i == digits.len) {
            return false;
        }
        unsigned digit = (unsigned)((unsigned char)digits.ptr[i] - '0');
        if (digit > 9) {
            return false;
        }
        state = numplan_trans[state][digit];
    }
    return false;
}

size_t numplan_intl_prefix_len(const struct numplan_territory *territory, struct sv digits)
{
    SW_ASSERT(territory != NULL);
    unsigned state = territory->intl_start;
    size_t best = 0;
    for (size_t i = 0; i < digits.len && state != 0; i++) {
        unsigned digit = (unsigned)((unsigned char)digits.ptr[i] - '0');
        if (digit > 9) {
            break;
        }
        state = numplan_trans[state][digit];
        if (numplan_accept[state] != 0 && i + 1 < digits.len && digits.ptr[i + 1] != '0') {
            best = i + 1;
        }
    }
    return best;
}

static enum numclass class_of_mask(uint16_t mask)
{
    for (size_t i = 0; i < sizeof(class_priority) / sizeof(class_priority[0]); i++) {
        if (mask & (1u << class_priority[i])) {
            return class_priority[i];
        }
    }
    bool is_fixed = (mask & (1u << NUMCLASS_FIXED)) != 0;
    bool is_mobile = (mask & (1u << NUMCLASS_MOBILE)) != 0;
    if (is_fixed && is_mobile) {
        return NUMCLASS_FIXED_OR_MOBILE;
    }
    return is_fixed ? NUMCLASS_FIXED : is_mobile ? NUMCLASS_MOBILE : NUMCLASS_UNKNOWN;
}

static void set_result(struct numplan_class *out, const struct numplan_territory *t, uint16_t mask)
{
    out->territory = t;
    out->mask = mask;
    out->numclass = class_of_mask(mask);
}

void numplan_classify(struct sv digits, struct numplan_class *out)
{
    out->territory = NULL;
    out->numclass = NUMCLASS_UNKNOWN;
    out->mask = 0;
    size_t code_len = numplan_code_len(digits);
    if (code_len == 0 || digits.len > E164_MAX_DIGITS) {
        return;
    }
    unsigned first = code_slot(digits, code_len) - 1;
    const char *code = numplan_territories[first].calling_code;
    struct sv national = sv_slice(digits, code_len, digits.len - code_len);
    /* Territories sharing a code are adjacent, the main one first (gen_numplan.py). */
    size_t end = first;
    while (end < NUMPLAN_TERRITORY_COUNT &&
           strcmp(numplan_territories[end].calling_code, code) == 0) {
        end++;
    }
    const struct numplan_territory *selected = &numplan_territories[first];
    bool is_selected = false;
    for (size_t i = first; i < end; i++) {
        const struct numplan_territory *t = &numplan_territories[i];
        if (t->leading_start != 0 && dfa_prefix(t->leading_start, national)) {
            uint16_t mask = dfa_match(t->class_start, national);
            if (mask != 0) {
                set_result(out, t, mask);
                return;
            }
            if (!is_selected) {
                selected = t; /* its country, even when no class pattern matches */
                is_selected = true;
            }
        }
    }
    for (size_t i = first; i < end; i++) {
        const struct numplan_territory *t = &numplan_territories[i];
        uint16_t mask = t->has_classes ? dfa_match(t->class_start, national) : 0;
        if (mask != 0) {
            set_result(out, t, mask);
            return;
        }
    }
    set_result(out, selected, 0);
}

size_t numplan_highrisk_count(void)
{
    return NUMPLAN_HIGHRISK_COUNT;
}

const struct numplan_highrisk *numplan_highrisk_row(size_t i)
{
    SW_ASSERT(i < NUMPLAN_HIGHRISK_COUNT);
    return &numplan_highrisk[i];
}
