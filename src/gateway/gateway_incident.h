/*
 * Private to src/gateway: the incident commands of issue #12, isolate and restore, one
 * step each, shared by the control socket (`sipwarden account disable|enable A`,
 * `sipwarden trunk isolate|restore T`) and the admin API.
 *
 * Disable/isolate: the name is held in the incident state (state/isolation.h: persisted,
 * it survives a restart until restored), so new calls get 403 (gateway_msg.c, and the
 * auth stage for the account's own requests); the calls in progress of that account or
 * trunk end with BYE on both legs (CANCEL while ringing) at once; an account's
 * registration is removed. Enable/restore lets the name go. Each action is logged and
 * emitted as a PolicyHit security event (module "incident"), which the alert engine
 * counts under its policy_blocks metric.
 *
 * Threads: the control thread and the admin server's thread (never a worker: it waits
 * for them), each with its own generation reader slot.
 */
#ifndef SW_GATEWAY_GATEWAY_INCIDENT_H
#define SW_GATEWAY_GATEWAY_INCIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct gateway;

enum gw_incident_action {
    GW_ACCOUNT_DISABLE,
    GW_ACCOUNT_ENABLE,
    GW_TRUNK_ISOLATE,
    GW_TRUNK_RESTORE,
};

struct gw_incident_request {
    enum gw_incident_action action;
    const char *name;
    const char *by;                      /* who asks: "operator (control socket)" */
    const char *reason;                  /* free text, or NULL */
    const struct sockaddr_storage *from; /* the client's address (admin API), or NULL */
    unsigned reader;                     /* GW_READER_CONTROL or GW_READER_ADMIN */
};

struct gw_incident_result {
    bool is_changed;  /* the state changed (false: it already was so) */
    bool is_complete; /* every worker answered in time */
    size_t calls_ended;
    bool had_binding; /* an account's registration was removed */
};

/*
 * Runs one action. Returns 0; -ENOENT when the name is neither configured nor held;
 * -ENOSPC when the incident table is full; -EINVAL for an empty or too long name.
 */
int gw_incident_run(struct gateway *gw, const struct gw_incident_request *req,
                    struct gw_incident_result *out);

/*
 * The control socket's "account disable|enable NAME [REASON...]" and "trunk
 * isolate|restore NAME [REASON...]" lines: the answer ("ended <n>", "ok" or "error: ...")
 * in `out` (cap bytes).
 */
void gw_incident_handle(struct gateway *gw, const char *line, char *out, size_t cap);

/* "disable", "enable", "isolate", "restore". */
const char *gw_incident_action_name(enum gw_incident_action action);

#endif
