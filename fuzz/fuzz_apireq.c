/*
 * fuzz_apireq: the admin API's request reading (obs/apireq.h) on one request written as
 * "METHOD PATH[?QUERY]\n" then the body. The query is split at '&' and '=' as the HTTP
 * server does. A request that passes every check must hold only terminated values within
 * their sizes, the names its route needs, and no control character in any of them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "obs/apireq.h"

/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *text, size_t cap)
{
    size_t len = strnlen(text, cap);
    if (len == cap) {
        abort();
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)text[i] < 0x20) {
            abort();
        }
    }
}

/* Feeds each "key=value" of `query` (written over); false at the first refusal. */
static bool read_query(struct api_request *req, char *query, char *error)
{
    char *save = NULL;
    for (char *arg = strtok_r(query, "&", &save); arg != NULL; arg = strtok_r(NULL, "&", &save)) {
        char *value = strchr(arg, '=');
        if (value != NULL) {
            *value++ = '\0';
        }
        if (api_request_query(req, arg, value, error) != 0) {
            return false;
        }
    }
    return true;
}

/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (size_t)2 * API_BODY_MAX) {
        return 0;
    }
    char line[512];
    const uint8_t *nl = memchr(data, '\n', size);
    size_t line_len = nl != NULL ? (size_t)(nl - data) : size;
    if (line_len >= sizeof(line) || memchr(data, '\0', line_len) != NULL) {
        return 0;
    }
    memcpy(line, data, line_len);
    line[line_len] = '\0';
    const char *body = nl != NULL ? (const char *)nl + 1 : "";
    size_t body_len = nl != NULL ? size - line_len - 1 : 0;
    char *path = strchr(line, ' ');
    if (path == NULL) {
        return 0;
    }
    *path++ = '\0';
    char *query = strchr(path, '?');
    if (query != NULL) {
        *query++ = '\0';
    }
    struct api_request req;
    char error[API_ERROR_CAP];
    if (api_request_route(line, path, &req) != 0) {
        return 0;
    }
    bool is_read = api_route_is_action(req.route)
                       ? api_request_body(&req, body, body_len, error) == 0
                       : query == NULL || read_query(&req, query, error);
    if (!is_read || api_request_check(&req, error) != 0) {
        check_text(error, API_ERROR_CAP);
        return 0;
    }
    check_text(req.account, sizeof(req.account));
    check_text(req.trunk, sizeof(req.trunk));
    check_text(req.id, sizeof(req.id));
    check_text(req.ip, sizeof(req.ip));
    check_text(req.reason, sizeof(req.reason));
    bool needs_name = req.route == API_ACCOUNT_DISABLE || req.route == API_ACCOUNT_ENABLE;
    if ((needs_name && req.account[0] == '\0') || (req.is_forever && req.seconds != 0)) {
        abort();
    }
    return 0;
}
