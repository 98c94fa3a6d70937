#include "stir/passport.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "base/err.h"
#include "stir/b64url.h"

/* Printable ASCII that needs no JSON escape and cannot break out of a header parameter. */
static bool is_safe_text(struct sv s, size_t max)
{
    if (s.ptr == NULL || s.len == 0 || s.len >= max) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>') {
            return false;
        }
    }
    return true;
}

bool stir_passport_x5u_is_valid(struct sv url)
{
    return is_safe_text(url, STIR_X5U_MAX) && sv_starts_with_nocase(url, SV("https://")) &&
           url.len > 8;
}

int stir_passport_init_shaken(struct stir_passport *out, const struct stir_shaken_spec *spec)
{
    struct sv x5u = spec->x5u;
    struct sv origid = spec->origid;
    memset(out, 0, sizeof(*out));
    if (!stir_passport_x5u_is_valid(x5u) || !is_safe_text(origid, STIR_ORIGID_MAX) ||
        spec->attest == STIR_ATTEST_NONE || spec->orig->len == 0 || spec->dest->len == 0 ||
        spec->iat <= 0) {
        return -SW_EBADARG;
    }
    memcpy(out->alg, "ES256", sizeof("ES256"));
    memcpy(out->typ, "passport", sizeof("passport"));
    memcpy(out->ppt, "shaken", sizeof("shaken"));
    memcpy(out->x5u, x5u.ptr, x5u.len);
    out->attest = spec->attest;
    out->orig = *spec->orig;
    out->dest[0] = *spec->dest;
    out->dest_count = 1;
    out->iat = spec->iat;
    memcpy(out->origid, origid.ptr, origid.len);
    return 0;
}

/* Serializes `root` canonically into `out` and releases it. */
static long dump_canonical(json_t *root, char *out, size_t cap)
{
    if (root == NULL) {
        return -ENOMEM;
    }
    size_t need = json_dumpb(root, NULL, 0, JSON_SORT_KEYS | JSON_COMPACT);
    if (need == 0) {
        json_decref(root);
        return -ENOMEM;
    }
    if (need + 1 > cap) {
        json_decref(root);
        return -SW_ETOOBIG;
    }
    size_t len = json_dumpb(root, out, cap, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(root);
    if (len != need) {
        return -ENOMEM;
    }
    out[len] = '\0';
    return (long)len;
}

long stir_passport_header_json(const struct stir_passport *pp, char *out, size_t cap)
{
    json_t *root = json_pack("{s:s, s:s, s:s}", "alg", pp->alg, "typ", pp->typ, "x5u", pp->x5u);
    if (root != NULL && pp->ppt[0] != '\0' &&
        json_object_set_new(root, "ppt", json_string(pp->ppt)) != 0) {
        json_decref(root);
        return -ENOMEM;
    }
    return dump_canonical(root, out, cap);
}

/* {"tn":[...]} of the dest numbers. */
static json_t *dest_object(const struct stir_passport *pp)
{
    json_t *list = json_array();
    for (size_t i = 0; list != NULL && i < pp->dest_count; i++) {
        if (json_array_append_new(list, json_stringn(pp->dest[i].digits, pp->dest[i].len)) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list == NULL ? NULL : json_pack("{s:o}", "tn", list);
}

long stir_passport_claims_json(const struct stir_passport *pp, char *out, size_t cap)
{
    json_t *dest = dest_object(pp);
    if (dest == NULL) {
        return -ENOMEM;
    }
    /* "o" steals the reference to dest, also when json_pack fails. */
    json_t *root = json_pack("{s:o, s:I, s:{s:s%}}", "dest", dest, "iat", (json_int_t)pp->iat,
                             "orig", "tn", pp->orig.digits, (size_t)pp->orig.len);
    if (root == NULL) {
        return -ENOMEM;
    }
    if (pp->attest != STIR_ATTEST_NONE &&
        json_object_set_new(root, "attest", json_string(stir_attest_text(pp->attest))) != 0) {
        json_decref(root);
        return -ENOMEM;
    }
    if (pp->origid[0] != '\0' &&
        json_object_set_new(root, "origid", json_string(pp->origid)) != 0) {
        json_decref(root);
        return -ENOMEM;
    }
    return dump_canonical(root, out, cap);
}

/* Appends BASE64URL(json) to out at *len. */
static int append_b64(const char *json, size_t json_len, char *out, size_t cap, size_t *len)
{
    long n = stir_b64url_encode(json, json_len, out + *len, cap - *len);
    if (n < 0) {
        return (int)n;
    }
    *len += (size_t)n;
    return 0;
}

long stir_passport_signing_input(const struct stir_passport *pp, char *out, size_t cap)
{
    char json[STIR_PASSPORT_JSON_MAX];
    size_t len = 0;
    long n = stir_passport_header_json(pp, json, sizeof(json));
    if (n < 0) {
        return n;
    }
    int rc = append_b64(json, (size_t)n, out, cap, &len);
    if (rc != 0) {
        return rc;
    }
    if (len + 1 >= cap) {
        return -SW_ETOOBIG;
    }
    out[len++] = '.';
    n = stir_passport_claims_json(pp, json, sizeof(json));
    if (n < 0) {
        return n;
    }
    rc = append_b64(json, (size_t)n, out, cap, &len);
    return rc != 0 ? rc : (long)len;
}

/* Copies a JSON string member into `out` (capacity cap); false when absent or not fitting. */
static bool copy_string(json_t *obj, const char *key, char *out, size_t cap)
{
    json_t *value = json_object_get(obj, key);
    if (!json_is_string(value)) {
        return false;
    }
    size_t len = json_string_length(value);
    const char *text = json_string_value(value);
    /* An embedded NUL would make the C string differ from the JSON value. */
    if (len >= cap || memchr(text, '\0', len) != NULL) {
        return false;
    }
    memcpy(out, text, len);
    out[len] = '\0';
    return true;
}

static json_t *load_object(struct sv json)
{
    json_error_t error;
    if (json.ptr == NULL || json.len > STIR_PASSPORT_JSON_MAX) {
        return NULL;
    }
    json_t *root = json_loadb(json.ptr, json.len, JSON_REJECT_DUPLICATES, &error);
    if (root != NULL && !json_is_object(root)) {
        json_decref(root);
        return NULL;
    }
    return root;
}

enum stir_reason stir_passport_decode_header(struct sv json, struct stir_passport *pp)
{
    json_t *root = load_object(json);
    if (root == NULL) {
        return STIR_BAD_JSON;
    }
    enum stir_reason reason = STIR_OK;
    if (json_object_get(root, "crit") != NULL) {
        reason = STIR_BAD_CRIT;
    } else if (!copy_string(root, "alg", pp->alg, sizeof(pp->alg))) {
        reason = STIR_BAD_ALG;
    } else if (!copy_string(root, "typ", pp->typ, sizeof(pp->typ))) {
        reason = STIR_BAD_TYP;
    } else if (!copy_string(root, "x5u", pp->x5u, sizeof(pp->x5u))) {
        reason = STIR_BAD_X5U;
    } else if (json_object_get(root, "ppt") != NULL &&
               !copy_string(root, "ppt", pp->ppt, sizeof(pp->ppt))) {
        reason = STIR_BAD_PPT;
    }
    json_decref(root);
    return reason;
}

/* A "tn" value: 1..15 ASCII digits (RFC 8224 §8.3 canonical form, no '+'). */
static bool tn_from_json(json_t *value, struct stir_tn *out)
{
    if (!json_is_string(value)) {
        return false;
    }
    size_t len = json_string_length(value);
    const char *text = json_string_value(value);
    if (len == 0 || len > STIR_TN_MAX_DIGITS) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return false;
        }
    }
    memset(out, 0, sizeof(*out));
    memcpy(out->digits, text, len);
    out->len = (uint8_t)len;
    return true;
}

static bool decode_dest(json_t *dest, struct stir_passport *pp)
{
    json_t *tns = json_object_get(dest, "tn");
    json_t *uris = json_object_get(dest, "uri");
    if (!json_is_object(dest) || (tns == NULL && uris == NULL)) {
        return false;
    }
    if (tns != NULL) {
        size_t count = json_array_size(tns);
        if (!json_is_array(tns) || count == 0 || count > STIR_PASSPORT_DEST_MAX) {
            return false;
        }
        for (size_t i = 0; i < count; i++) {
            if (!tn_from_json(json_array_get(tns, i), &pp->dest[i])) {
                return false;
            }
        }
        pp->dest_count = count;
    }
    if (uris != NULL) {
        size_t count = json_array_size(uris);
        if (!json_is_array(uris) || count == 0) {
            return false;
        }
        for (size_t i = 0; i < count; i++) {
            if (!json_is_string(json_array_get(uris, i))) {
                return false;
            }
        }
        pp->dest_uri_count = count;
    }
    return true;
}

static bool decode_optional_claims(json_t *root, struct stir_passport *pp)
{
    json_t *attest = json_object_get(root, "attest");
    if (attest != NULL) {
        if (!json_is_string(attest) ||
            !stir_attest_parse(sv_make(json_string_value(attest), json_string_length(attest)),
                               &pp->attest)) {
            return false;
        }
    }
    if (json_object_get(root, "origid") != NULL &&
        !copy_string(root, "origid", pp->origid, sizeof(pp->origid))) {
        return false;
    }
    return true;
}

enum stir_reason stir_passport_decode_claims(struct sv json, struct stir_passport *pp)
{
    json_t *root = load_object(json);
    if (root == NULL) {
        return STIR_BAD_JSON;
    }
    bool is_ok = true;
    json_t *iat = json_object_get(root, "iat");
    json_t *orig = json_object_get(root, "orig");
    if (!json_is_integer(iat) || json_integer_value(iat) <= 0) {
        is_ok = false;
    } else {
        pp->iat = (int64_t)json_integer_value(iat);
    }
    if (is_ok && (!json_is_object(orig) || !tn_from_json(json_object_get(orig, "tn"), &pp->orig))) {
        is_ok = false;
    }
    if (is_ok && !decode_dest(json_object_get(root, "dest"), pp)) {
        is_ok = false;
    }
    if (is_ok && !decode_optional_claims(root, pp)) {
        is_ok = false;
    }
    json_decref(root);
    return is_ok ? STIR_OK : STIR_BAD_CLAIMS;
}
