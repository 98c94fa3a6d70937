#include "stir/owned.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"

/* Numbers of one length compared as integers: 15 digits fit in 50 bits. */
struct owned_range {
    uint8_t len;
    uint64_t lo;
    uint64_t hi;
};

struct owned_prefix {
    uint8_t len;
    char digits[STIR_TN_MAX_DIGITS];
};

struct stir_owned {
    struct owned_range *ranges;
    size_t range_count;
    size_t range_cap;
    struct owned_prefix *prefixes;
    size_t prefix_count;
    size_t prefix_cap;
    bool is_sealed;
};

struct stir_owned *stir_owned_new(void)
{
    return sw_calloc(1, sizeof(struct stir_owned));
}

void stir_owned_free(struct stir_owned *set)
{
    if (set == NULL) {
        return;
    }
    sw_free(set->ranges);
    sw_free(set->prefixes);
    sw_free(set);
}

/* Grows an array of `*cap` elements of `size` bytes so one more fits. */
static int grow(void **array, size_t count, size_t *cap, size_t size)
{
    if (count < *cap) {
        return 0;
    }
    size_t new_cap = *cap == 0 ? 16 : *cap * 2;
    void *bigger = sw_realloc(*array, new_cap * size);
    if (bigger == NULL) {
        return -ENOMEM;
    }
    *array = bigger;
    *cap = new_cap;
    return 0;
}

static uint64_t tn_value(const char *digits, size_t len)
{
    uint64_t value = 0;
    for (size_t i = 0; i < len; i++) {
        value = value * 10U + (uint64_t)(digits[i] - '0');
    }
    return value;
}

static int add_range(struct stir_owned *set, const struct stir_tn *lo, const struct stir_tn *hi)
{
    if (lo->len != hi->len) {
        return -SW_EBADARG;
    }
    uint64_t lo_value = tn_value(lo->digits, lo->len);
    uint64_t hi_value = tn_value(hi->digits, hi->len);
    if (lo_value > hi_value) {
        return -SW_EBADARG;
    }
    void *array = set->ranges;
    int rc = grow(&array, set->range_count, &set->range_cap, sizeof(struct owned_range));
    set->ranges = array;
    if (rc != 0) {
        return rc;
    }
    set->ranges[set->range_count++] = (struct owned_range){
        .len = lo->len,
        .lo = lo_value,
        .hi = hi_value,
    };
    return 0;
}

/* "+<digits>*": the digits must start with a country code (a prefix of E.164 numbers). */
static int add_prefix(struct stir_owned *set, struct sv entry)
{
    struct sv digits = sv_slice(entry, 1, entry.len - 2);
    if (entry.ptr[0] != '+' || digits.len == 0 || digits.len > STIR_TN_MAX_DIGITS) {
        return -SW_EBADARG;
    }
    for (size_t i = 0; i < digits.len; i++) {
        if (digits.ptr[i] < '0' || digits.ptr[i] > '9') {
            return -SW_EBADARG;
        }
    }
    if (!stir_tn_has_country_code(digits, NULL)) {
        return -SW_EBADARG;
    }
    void *array = set->prefixes;
    int rc = grow(&array, set->prefix_count, &set->prefix_cap, sizeof(struct owned_prefix));
    set->prefixes = array;
    if (rc != 0) {
        return rc;
    }
    struct owned_prefix *prefix = &set->prefixes[set->prefix_count++];
    memset(prefix, 0, sizeof(*prefix));
    prefix->len = (uint8_t)digits.len;
    memcpy(prefix->digits, digits.ptr, digits.len);
    return 0;
}

/* Finds "-+" that separates the two ends of a range; -1 when the entry is no range. */
static long range_separator(struct sv entry)
{
    for (size_t i = 1; i + 1 < entry.len; i++) {
        if (entry.ptr[i] == '-' && entry.ptr[i + 1] == '+') {
            return (long)i;
        }
    }
    return -1;
}

int stir_owned_add(struct stir_owned *set, struct sv entry, struct sv country_code)
{
    SW_ASSERT(set != NULL);
    entry = sv_trim(entry);
    if (set->is_sealed || entry.ptr == NULL || entry.len < 2) {
        return -SW_EBADARG;
    }
    if (entry.ptr[entry.len - 1] == '*') {
        return add_prefix(set, entry);
    }
    struct stir_tn lo;
    struct stir_tn hi;
    long sep = range_separator(entry);
    if (sep > 0) {
        struct sv first = sv_slice(entry, 0, (size_t)sep);
        struct sv last = sv_slice(entry, (size_t)sep + 1, entry.len);
        if (first.ptr[0] != '+' || stir_tn_normalize(first, SV_NULL, &lo) != 0 ||
            stir_tn_normalize(last, SV_NULL, &hi) != 0) {
            return -SW_EBADARG;
        }
        return add_range(set, &lo, &hi);
    }
    if (stir_tn_normalize(entry, country_code, &lo) != 0) {
        return -SW_EBADARG;
    }
    return add_range(set, &lo, &lo);
}

static int compare_range(const void *a, const void *b)
{
    const struct owned_range *x = a;
    const struct owned_range *y = b;
    if (x->len != y->len) {
        return x->len < y->len ? -1 : 1;
    }
    return (x->lo > y->lo) - (x->lo < y->lo);
}

static int compare_prefix(const void *a, const void *b)
{
    const struct owned_prefix *x = a;
    const struct owned_prefix *y = b;
    if (x->len != y->len) {
        return x->len < y->len ? -1 : 1;
    }
    return memcmp(x->digits, y->digits, x->len);
}

/* Merges overlapping or adjacent ranges of one length, so a lookup checks one range. */
static void merge_ranges(struct stir_owned *set)
{
    size_t out = 0;
    for (size_t i = 0; i < set->range_count; i++) {
        struct owned_range *cur = &set->ranges[i];
        struct owned_range *last = out > 0 ? &set->ranges[out - 1] : NULL;
        if (last != NULL && last->len == cur->len && cur->lo <= last->hi + 1) {
            if (cur->hi > last->hi) {
                last->hi = cur->hi;
            }
            continue;
        }
        set->ranges[out++] = *cur;
    }
    set->range_count = out;
}

static void dedup_prefixes(struct stir_owned *set)
{
    size_t out = 0;
    for (size_t i = 0; i < set->prefix_count; i++) {
        if (out > 0 && compare_prefix(&set->prefixes[out - 1], &set->prefixes[i]) == 0) {
            continue;
        }
        set->prefixes[out++] = set->prefixes[i];
    }
    set->prefix_count = out;
}

int stir_owned_seal(struct stir_owned *set)
{
    SW_ASSERT(set != NULL);
    if (set->range_count > 0) {
        qsort(set->ranges, set->range_count, sizeof(struct owned_range), compare_range);
        merge_ranges(set);
    }
    if (set->prefix_count > 0) {
        qsort(set->prefixes, set->prefix_count, sizeof(struct owned_prefix), compare_prefix);
        dedup_prefixes(set);
    }
    set->is_sealed = true;
    return 0;
}

/* The last range whose (len, lo) is <= (len, value), or NULL. */
static const struct owned_range *range_floor(const struct stir_owned *set, uint8_t len,
                                             uint64_t value)
{
    size_t lo = 0;
    size_t hi = set->range_count;
    struct owned_range key = { .len = len, .lo = value, .hi = value };
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (compare_range(&set->ranges[mid], &key) <= 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo == 0 ? NULL : &set->ranges[lo - 1];
}

static bool prefixes_cover(const struct stir_owned *set, const struct stir_tn *tn)
{
    struct owned_prefix key;
    memset(&key, 0, sizeof(key));
    for (uint8_t k = 1; k <= tn->len && set->prefix_count > 0; k++) {
        key.len = k;
        memcpy(key.digits, tn->digits, k);
        if (bsearch(&key, set->prefixes, set->prefix_count, sizeof(key), compare_prefix) != NULL) {
            return true;
        }
    }
    return false;
}

bool stir_owned_contains(const struct stir_owned *set, const struct stir_tn *tn)
{
    if (set == NULL || !set->is_sealed || tn->len == 0) {
        return false;
    }
    uint64_t value = tn_value(tn->digits, tn->len);
    const struct owned_range *range = range_floor(set, tn->len, value);
    if (range != NULL && range->len == tn->len && value <= range->hi) {
        return true;
    }
    return prefixes_cover(set, tn);
}

size_t stir_owned_range_count(const struct stir_owned *set)
{
    return set->range_count;
}

size_t stir_owned_prefix_count(const struct stir_owned *set)
{
    return set->prefix_count;
}
