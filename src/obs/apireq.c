#include "obs/apireq.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/sv.h"
#include "obs/cdr.h"

#define API_SECONDS_MAX (366u * 86400u)

enum field_type {
    FIELD_NAME, /* a name: 1..API_NAME_CAP-1 bytes, printable, no blank */
    FIELD_TEXT, /* free text: printable, may be empty */
    FIELD_UINT, /* 0..API_SECONDS_MAX */
    FIELD_BOOL,
};

/* Field bits of a route (which body fields or query arguments it takes). */
enum {
    F_ACCOUNT = 1u << 0,
    F_TRUNK = 1u << 1,
    F_ID = 1u << 2,
    F_IP = 1u << 3,
    F_REASON = 1u << 4,
    F_SECONDS = 1u << 5,
    F_FOREVER = 1u << 6,
    F_SINCE = 1u << 7,
    F_UNTIL = 1u << 8,
    F_LIMIT = 1u << 9,
};

struct field {
    const char *name;
    unsigned bit;
    enum field_type type;
    size_t offset;
    size_t cap;
};

static const struct field fields[] = {
    { "account", F_ACCOUNT, FIELD_NAME, offsetof(struct api_request, account), API_NAME_CAP },
    { "trunk", F_TRUNK, FIELD_NAME, offsetof(struct api_request, trunk), API_NAME_CAP },
    { "id", F_ID, FIELD_NAME, offsetof(struct api_request, id), API_NAME_CAP },
    { "ip", F_IP, FIELD_NAME, offsetof(struct api_request, ip), API_NAME_CAP },
    { "reason", F_REASON, FIELD_TEXT, offsetof(struct api_request, reason), API_REASON_CAP },
    { "seconds", F_SECONDS, FIELD_UINT, offsetof(struct api_request, seconds), 0 },
    { "forever", F_FOREVER, FIELD_BOOL, offsetof(struct api_request, is_forever), 0 },
};

struct route_desc {
    const char *path;
    bool is_post;
    unsigned fields;   /* body fields (POST) or query arguments (GET) it takes */
    unsigned required; /* of those, the ones it needs */
};

static const struct route_desc routes[API_ROUTE_COUNT] = {
    [API_STATUS] = { "/api/v1/status", false, 0, 0 },
    [API_CALLS] = { "/api/v1/calls", false, F_ACCOUNT | F_TRUNK, 0 },
    [API_BANS] = { "/api/v1/bans", false, 0, 0 },
    [API_TRUNKS] = { "/api/v1/trunks", false, 0, 0 },
    [API_ACCOUNTS] = { "/api/v1/accounts", false, 0, 0 },
    [API_ALERTS] = { "/api/v1/alerts", false, F_LIMIT, 0 },
    [API_EVENTS] = { "/api/v1/events", false, F_LIMIT, 0 },
    [API_CDRS] = { "/api/v1/cdrs", false, F_SINCE | F_UNTIL | F_ACCOUNT | F_TRUNK | F_LIMIT, 0 },
    [API_BAN_ADD] = { "/api/v1/bans/add", true, F_IP | F_SECONDS | F_FOREVER, F_IP },
    [API_BAN_REMOVE] = { "/api/v1/bans/remove", true, F_IP, F_IP },
    [API_CALL_KILL] = { "/api/v1/calls/kill", true, F_ID | F_ACCOUNT | F_TRUNK, 0 },
    [API_ACCOUNT_DISABLE] = { "/api/v1/accounts/disable", true, F_ACCOUNT | F_REASON, F_ACCOUNT },
    [API_ACCOUNT_ENABLE] = { "/api/v1/accounts/enable", true, F_ACCOUNT, F_ACCOUNT },
    [API_TRUNK_ISOLATE] = { "/api/v1/trunks/isolate", true, F_TRUNK | F_REASON, F_TRUNK },
    [API_TRUNK_RESTORE] = { "/api/v1/trunks/restore", true, F_TRUNK, F_TRUNK },
};

static int fail(char *error, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *error, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is just above. */
    (void)vsnprintf(error, API_ERROR_CAP, fmt, ap);
    va_end(ap);
    /* The text may quote the request (jansson's parse errors do): it goes into answers and
     * logs, so no control character from the client survives in it. */
    for (char *c = error; *c != '\0'; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            *c = '?';
        }
    }
    return code;
}

int api_request_route(const char *method, const char *path, struct api_request *req)
{
    memset(req, 0, sizeof(*req));
    bool is_post = strcmp(method, "POST") == 0;
    bool is_get = strcmp(method, "GET") == 0;
    for (size_t i = 0; i < API_ROUTE_COUNT; i++) {
        if (strcmp(routes[i].path, path) != 0) {
            continue;
        }
        req->route = (enum api_route)i;
        return (routes[i].is_post && is_post) || (!routes[i].is_post && is_get) ? 0 : -EPERM;
    }
    return -ENOENT;
}

bool api_route_is_action(enum api_route route)
{
    return route < API_ROUTE_COUNT && routes[route].is_post;
}

/* Printable ASCII or UTF-8 bytes only; a name also has no blank. */
static bool text_fits(const char *text, size_t len, const struct field *f)
{
    if (len >= f->cap || (f->type == FIELD_NAME && len == 0)) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c == 0x7f || (f->type == FIELD_NAME && c == ' ')) {
            return false;
        }
    }
    return true;
}

static const struct field *field_find(const char *name)
{
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (strcmp(fields[i].name, name) == 0) {
            return &fields[i];
        }
    }
    return NULL;
}

static int set_text(struct api_request *req, const struct field *f, const char *text, size_t len,
                    char *error)
{
    if (!text_fits(text, len, f)) {
        return fail(error, -EINVAL, "%s: empty, too long or with control characters", f->name);
    }
    char *dst = (char *)req + f->offset;
    memcpy(dst, text, len);
    dst[len] = '\0';
    return 0;
}

static int set_json(struct api_request *req, const struct field *f, json_t *value, char *error)
{
    switch (f->type) {
    case FIELD_NAME:
    case FIELD_TEXT:
        if (!json_is_string(value)) {
            return fail(error, -EINVAL, "%s: a string is expected", f->name);
        }
        return set_text(req, f, json_string_value(value), json_string_length(value), error);
    case FIELD_UINT:
        if (!json_is_integer(value) || json_integer_value(value) < 0 ||
            json_integer_value(value) > (json_int_t)API_SECONDS_MAX) {
            return fail(error, -EINVAL, "%s: a whole number of seconds up to a year", f->name);
        }
        req->seconds = (uint32_t)json_integer_value(value);
        return 0;
    case FIELD_BOOL:
        if (!json_is_boolean(value)) {
            return fail(error, -EINVAL, "%s: true or false is expected", f->name);
        }
        req->is_forever = json_is_true(value);
        return 0;
    }
    return fail(error, -EINVAL, "%s: unexpected field", f->name);
}

int api_request_body(struct api_request *req, const char *body, size_t len, char *error)
{
    if (len > API_BODY_MAX) {
        return fail(error, -E2BIG, "the body is over %u bytes", API_BODY_MAX);
    }
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        return fail(error, -EINVAL, "bad JSON: %.80s", jerr.text);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return fail(error, -EINVAL, "the body is not a JSON object");
    }
    const char *key = NULL;
    json_t *value = NULL;
    int rc = 0;
    json_object_foreach(root, key, value)
    {
        const struct field *f = field_find(key);
        if (f == NULL || (routes[req->route].fields & f->bit) == 0) {
            rc = fail(error, -EINVAL, "unknown field: %.64s", key);
            break;
        }
        rc = set_json(req, f, value, error);
        if (rc != 0) {
            break;
        }
    }
    json_decref(root);
    return rc;
}

static int set_number(const char *key, const char *value, uint32_t max, uint32_t *out, char *error)
{
    uint32_t n = 0;
    if (!sv_to_u32(sv_from_cstr(value), &n) || n == 0 || n > max) {
        return fail(error, -EINVAL, "%s: a number from 1 to the maximum is expected", key);
    }
    *out = n;
    return 0;
}

int api_request_query(struct api_request *req, const char *key, const char *value, char *error)
{
    unsigned allowed = routes[req->route].fields;
    const char *v = value != NULL ? value : "";
    if (strcmp(key, "since") == 0 && (allowed & F_SINCE) != 0) {
        return cdr_parse_time(v, &req->since_ms) ? 0 : fail(error, -EINVAL, "since: not a time");
    }
    if (strcmp(key, "until") == 0 && (allowed & F_UNTIL) != 0) {
        return cdr_parse_time(v, &req->until_ms) ? 0 : fail(error, -EINVAL, "until: not a time");
    }
    if (strcmp(key, "limit") == 0 && (allowed & F_LIMIT) != 0) {
        return set_number(key, v, API_CDR_LIMIT_MAX, &req->limit, error);
    }
    const struct field *f = field_find(key);
    if (f == NULL || f->type != FIELD_NAME || (allowed & f->bit) == 0) {
        return fail(error, -EINVAL, "unknown argument: %.64s", key);
    }
    return set_text(req, f, v, strlen(v), error);
}

static bool is_given(const struct api_request *req, unsigned bit)
{
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (fields[i].bit == bit && fields[i].type == FIELD_NAME) {
            return ((const char *)req + fields[i].offset)[0] != '\0';
        }
    }
    return false;
}

int api_request_check(const struct api_request *req, char *error)
{
    unsigned required = routes[req->route].required;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if ((required & fields[i].bit) != 0 && !is_given(req, fields[i].bit)) {
            return fail(error, -EINVAL, "%s is required", fields[i].name);
        }
    }
    if (req->route == API_CALL_KILL &&
        (int)is_given(req, F_ID) + (int)is_given(req, F_ACCOUNT) + (int)is_given(req, F_TRUNK) !=
            1) {
        return fail(error, -EINVAL, "exactly one of id, account and trunk is required");
    }
    if (req->route == API_BAN_ADD && req->is_forever && req->seconds != 0) {
        return fail(error, -EINVAL, "seconds and forever exclude each other");
    }
    if (req->since_ms != 0 && req->until_ms != 0 && req->until_ms < req->since_ms) {
        return fail(error, -EINVAL, "until is before since");
    }
    return 0;
}
