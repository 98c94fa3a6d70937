/*
 * The admin API's requests (docs/admin-api.md), read from what the network gives: the
 * method and path, the query arguments of a GET and the JSON body of a POST. Everything is
 * checked here, before anything acts on it: an unknown path is 404, a known path with the
 * wrong method 405, an unknown query argument or body field, a value of the wrong type or
 * size, bad JSON or a body over API_BODY_MAX bytes 400 (413 for the size), each with a
 * message for the client. The parsed request owns copies of every value (no view into
 * the input). Pure: any thread; fuzzed by fuzz/fuzz_apireq.c.
 */
#ifndef SW_OBS_APIREQ_H
#define SW_OBS_APIREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define API_BODY_MAX      4096u /* bytes of a POST body */
#define API_NAME_CAP      64    /* an account, trunk or call id, NUL included */
#define API_REASON_CAP    160
#define API_ERROR_CAP     128
#define API_CDR_LIMIT     100u /* call records of one answer unless `limit` says */
#define API_CDR_LIMIT_MAX 1000u

enum api_route {
    API_STATUS,          /* GET  /api/v1/status */
    API_CALLS,           /* GET  /api/v1/calls[?account=&trunk=] */
    API_BANS,            /* GET  /api/v1/bans */
    API_TRUNKS,          /* GET  /api/v1/trunks */
    API_ACCOUNTS,        /* GET  /api/v1/accounts */
    API_ALERTS,          /* GET  /api/v1/alerts */
    API_EVENTS,          /* GET  /api/v1/events[?limit=] */
    API_CDRS,            /* GET  /api/v1/cdrs?since=&until=&account=&trunk=&limit= */
    API_BAN_ADD,         /* POST /api/v1/bans/add {"ip", "seconds"?, "forever"?} */
    API_BAN_REMOVE,      /* POST /api/v1/bans/remove {"ip"} */
    API_CALL_KILL,       /* POST /api/v1/calls/kill {"id" | "account" | "trunk"} */
    API_ACCOUNT_DISABLE, /* POST /api/v1/accounts/disable {"account", "reason"?} */
    API_ACCOUNT_ENABLE,  /* POST /api/v1/accounts/enable {"account"} */
    API_TRUNK_ISOLATE,   /* POST /api/v1/trunks/isolate {"trunk", "reason"?} */
    API_TRUNK_RESTORE,   /* POST /api/v1/trunks/restore {"trunk"} */
    API_ROUTE_COUNT
};

struct api_request {
    enum api_route route;
    /* Query arguments (GET) and body fields (POST); "" = not given. */
    char account[API_NAME_CAP];
    char trunk[API_NAME_CAP];
    char id[API_NAME_CAP];
    char ip[API_NAME_CAP];
    char reason[API_REASON_CAP];
    int64_t since_ms; /* 0 = not given */
    int64_t until_ms; /* 0 = not given */
    uint32_t limit;   /* 0 = not given */
    uint32_t seconds; /* ban add: 0 = the configured ban time */
    bool is_forever;  /* ban add: no end */
};

/*
 * Finds the route of `method` and `path` (without the query) and prepares `req` for it.
 * Returns 0, -ENOENT (no such path: 404) or -EPERM (the path takes the other method: 405).
 */
int api_request_route(const char *method, const char *path, struct api_request *req);

/* True when the route acts (POST). */
bool api_route_is_action(enum api_route route);

/*
 * One query argument of a GET route: since, until (times as cdr_parse_time reads them),
 * account, trunk, limit. Returns 0 or -EINVAL with a message in `error`
 * (API_ERROR_CAP bytes).
 */
int api_request_query(struct api_request *req, const char *key, const char *value, char *error);

/*
 * The JSON body of a POST route: an object with the route's fields only, each of its type
 * (strings without control characters, within their sizes; "seconds" a whole number of at
 * most a year's seconds; "forever" a boolean). Returns 0, -EINVAL (bad JSON or fields:
 * 400) or -E2BIG (over API_BODY_MAX: 413), with a message in `error`.
 */
int api_request_body(struct api_request *req, const char *body, size_t len, char *error);

/* After the query or body: what the route requires (the name of an action, a kill's one
 * selector, since <= until). Returns 0 or -EINVAL with a message in `error`. */
int api_request_check(const struct api_request *req, char *error);

#endif
