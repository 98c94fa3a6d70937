#include "stir/tnauth.h"

#include <string.h>

#include "base/err.h"

/* RFC 8226's TNAuthList OID, 1.3.6.1.5.5.7.1.26 (id-pe-TNAuthList). */
static const char tnauth_oid[] = "1.3.6.1.5.5.7.1.26";

#define DER_SEQUENCE  0x30
#define DER_INTEGER   0x02
#define DER_IA5STRING 0x16
#define DER_CONTEXT_0 0xa0 /* constructed, context-specific [0] (explicit tagging) */

/* A DER element: its tag and a view of its content. */
struct der {
    unsigned char tag;
    const unsigned char *ptr;
    size_t len;
};

/* Reads one element from *cur (of *left bytes) and moves past it; false if malformed.
 * Definite lengths only, at most 4 length bytes (DER). */
static bool der_next(const unsigned char **cur, size_t *left, struct der *out)
{
    if (*left < 2) {
        return false;
    }
    const unsigned char *p = *cur;
    size_t rest = *left - 2;
    out->tag = p[0];
    size_t len = p[1];
    p += 2;
    if (len & 0x80u) {
        size_t bytes = len & 0x7fu;
        if (bytes == 0 || bytes > 4 || bytes > rest) {
            return false;
        }
        len = 0;
        for (size_t i = 0; i < bytes; i++) {
            len = (len << 8) | p[i];
        }
        p += bytes;
        rest -= bytes;
    }
    if (len > rest) {
        return false;
    }
    out->ptr = p;
    out->len = len;
    *cur = p + len;
    *left = rest - len;
    return true;
}

/* A TelephoneNumber: IA5String of 1 to 15 digits. */
static bool read_number(const struct der *e, struct stir_tnauth_entry *out)
{
    if (e->tag != DER_IA5STRING || e->len == 0 || e->len > STIR_TN_MAX_DIGITS) {
        return false;
    }
    for (size_t i = 0; i < e->len; i++) {
        if (e->ptr[i] < '0' || e->ptr[i] > '9') {
            return false;
        }
    }
    memcpy(out->digits, e->ptr, e->len);
    out->digits[e->len] = '\0';
    out->len = (uint8_t)e->len;
    return true;
}

/* TelephoneNumberRange ::= SEQUENCE { start TelephoneNumber, count INTEGER (2..MAX) }. */
static bool read_range(const struct der *e, struct stir_tnauth_entry *out)
{
    const unsigned char *cur = e->ptr;
    size_t left = e->len;
    struct der start;
    struct der count;
    if (e->tag != DER_SEQUENCE) {
        return false;
    }
    if (!der_next(&cur, &left, &start) || !der_next(&cur, &left, &count) || left != 0 ||
        !read_number(&start, out) || count.tag != DER_INTEGER || count.len == 0 || count.len > 8 ||
        (count.ptr[0] & 0x80u) != 0) {
        return false;
    }
    uint64_t value = 0;
    for (size_t i = 0; i < count.len; i++) {
        value = (value << 8) | count.ptr[i];
    }
    out->count = value;
    return value >= 2;
}

/* TNEntry ::= CHOICE { spc [0] ..., range [1] ..., one [2] ... }, explicitly tagged. */
static bool read_entry(const struct der *e, struct stir_tnauth_entry *out)
{
    const unsigned char *cur = e->ptr;
    size_t left = e->len;
    struct der inner;
    if ((e->tag & 0xe0u) != DER_CONTEXT_0 || !der_next(&cur, &left, &inner) || left != 0) {
        return false;
    }
    memset(out, 0, sizeof(*out));
    switch (e->tag & 0x1fu) {
    case 0:
        out->kind = STIR_TNAUTH_SPC;
        /* ServiceProviderCode ::= IA5String: only its form is checked. */
        return inner.tag == DER_IA5STRING && inner.len > 0;
    case 1:
        out->kind = STIR_TNAUTH_RANGE;
        return read_range(&inner, out);
    case 2:
        out->kind = STIR_TNAUTH_ONE;
        out->count = 1;
        return read_number(&inner, out);
    default:
        return false;
    }
}

int stir_tnauth_parse(const unsigned char *der, size_t len, struct stir_tnauth *out)
{
    memset(out, 0, sizeof(*out));
    const unsigned char *cur = der;
    size_t left = len;
    struct der list;
    if (!der_next(&cur, &left, &list) || left != 0 || list.tag != DER_SEQUENCE) {
        return -SW_EBADARG;
    }
    cur = list.ptr;
    left = list.len;
    while (left > 0) {
        struct der entry;
        if (out->count == STIR_TNAUTH_MAX || !der_next(&cur, &left, &entry) ||
            !read_entry(&entry, &out->entries[out->count])) {
            memset(out, 0, sizeof(*out));
            return -SW_EBADARG;
        }
        out->count++;
    }
    out->is_present = out->count > 0;
    return out->count > 0 ? 0 : -SW_EBADARG;
}

int stir_tnauth_from_cert(X509 *cert, struct stir_tnauth *out)
{
    memset(out, 0, sizeof(*out));
    ASN1_OBJECT *oid = OBJ_txt2obj(tnauth_oid, 1);
    if (oid == NULL) {
        return -SW_EBADARG;
    }
    int at = X509_get_ext_by_OBJ(cert, oid, -1);
    ASN1_OBJECT_free(oid);
    if (at < 0) {
        return 0;
    }
    X509_EXTENSION *ext = X509_get_ext(cert, at);
    const ASN1_OCTET_STRING *value = ext != NULL ? X509_EXTENSION_get_data(ext) : NULL;
    if (value == NULL) {
        return -SW_EBADARG;
    }
    return stir_tnauth_parse(ASN1_STRING_get0_data(value), (size_t)ASN1_STRING_length(value), out);
}

/* The value of a number of at most 15 digits. */
static uint64_t digits_value(const char *digits, size_t len)
{
    uint64_t value = 0;
    for (size_t i = 0; i < len; i++) {
        value = value * 10u + (uint64_t)(digits[i] - '0');
    }
    return value;
}

static bool entry_covers(const struct stir_tnauth_entry *e, const struct stir_tn *tn)
{
    if (e->kind == STIR_TNAUTH_SPC || e->len != tn->len) {
        return false;
    }
    uint64_t first = digits_value(e->digits, e->len);
    uint64_t value = digits_value(tn->digits, tn->len);
    return value >= first && value - first < e->count;
}

bool stir_tnauth_covers(const struct stir_tnauth *list, const struct stir_tn *tn)
{
    bool has_numbers = false;
    for (size_t i = 0; i < list->count; i++) {
        if (list->entries[i].kind == STIR_TNAUTH_SPC) {
            continue;
        }
        has_numbers = true;
        if (entry_covers(&list->entries[i], tn)) {
            return true;
        }
    }
    return !has_numbers;
}
