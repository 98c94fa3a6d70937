/*
 * Private to src/gateway: the admin API's answers (gateway_api.c; the routes and their
 * parsing are obs/apireq.h, the document docs/admin-api.md). The admin server
 * (gateway_admin.c) authenticates the client, parses the request and hands it here.
 * Admin server's thread only (it holds the generation reader slot GW_READER_ADMIN).
 */
#ifndef SW_GATEWAY_GATEWAY_API_H
#define SW_GATEWAY_GATEWAY_API_H

#include <sys/socket.h>

#include "obs/apireq.h"

struct gateway;

/* An answer: the HTTP status and a JSON body (NUL-terminated, owned: gw_api_reply_free). */
struct gw_api_reply {
    unsigned status;
    char *body; /* NULL only when out of memory (then status is 500) */
};

/* Notes the start time that status reports (gateway start, main thread). */
void gw_api_started(void);

/* Answers `req` from the client at `client`. */
void gw_api_handle(struct gateway *gw, const struct api_request *req,
                   const struct sockaddr_storage *client, struct gw_api_reply *out);

/* An error answer: {"error": message}. */
void gw_api_error(struct gw_api_reply *out, unsigned status, const char *message);

void gw_api_reply_free(struct gw_api_reply *reply);

#endif
