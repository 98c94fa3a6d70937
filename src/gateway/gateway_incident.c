#include "gateway/gateway_incident.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/event.h"
#include "base/log.h"
#include "base/time.h"
#include "call/b2bua.h"
#include "call/registrar.h"
#include "config/config.h"
#include "gateway/gateway_int.h"
#include "gateway/gateway_obs.h"
#include "state/isolation.h"

const char *gw_incident_action_name(enum gw_incident_action action)
{
    static const char *const names[] = { "disable", "enable", "isolate", "restore" };
    return names[action];
}

static bool is_account_action(enum gw_incident_action action)
{
    return action == GW_ACCOUNT_DISABLE || action == GW_ACCOUNT_ENABLE;
}

static bool is_hold_action(enum gw_incident_action action)
{
    return action == GW_ACCOUNT_DISABLE || action == GW_TRUNK_ISOLATE;
}

/* Is `name` an account (or trunk) of the current configuration? */
static bool is_configured(struct gateway *gw, const struct gw_incident_request *req)
{
    struct gw_gen *gen = gw_gen_enter(gw, req->reader);
    struct sv name = sv_from_cstr(req->name);
    bool is_known = is_account_action(req->action) ? cfg_account_find(gen->cfg, name) != NULL
                                                   : cfg_trunk_find(gen->cfg, name) != NULL;
    gw_gen_leave(gw, req->reader);
    return is_known;
}

static void emit_action(struct gateway *gw, const struct gw_incident_request *req,
                        const struct gw_incident_result *res)
{
    const char *kind = is_account_action(req->action) ? "account" : "trunk";
    struct sw_event ev;
    sw_event_init(&ev, EV_POLICY_HIT);
    if (req->from != NULL) {
        ev.remote = *req->from;
    }
    SW_EVENT_SET(&ev, module, SV("incident"));
    if (is_account_action(req->action)) {
        SW_EVENT_SET(&ev, account, sv_from_cstr(req->name));
    }
    char ended[64] = "";
    if (is_hold_action(req->action)) {
        (void)snprintf(ended, sizeof(ended), ": %zu call(s) ended%s", res->calls_ended,
                       res->had_binding ? ", registration removed" : "");
    }
    (void)snprintf(ev.detail, sizeof(ev.detail), "%s %s %s by %s%s%s%s", kind, req->name,
                   gw_incident_action_name(req->action), req->by, ended,
                   req->reason != NULL && req->reason[0] != '\0' ? ": " : "",
                   req->reason != NULL ? req->reason : "");
    sw_event_emit(&gw->events, &ev);
    log_notice(NULL, "incident: %s", ev.detail);
}

static int hold(struct gateway *gw, const struct gw_incident_request *req,
                struct gw_incident_result *out)
{
    bool is_account = is_account_action(req->action);
    enum isolation_kind kind = is_account ? ISOLATION_ACCOUNT : ISOLATION_TRUNK;
    struct sv name = sv_from_cstr(req->name);
    switch (isolation_set(kind, name, req->by, req->reason, sw_wall_s())) {
    case ISOLATION_FULL:
        return -ENOSPC;
    case ISOLATION_ADDED:
        out->is_changed = true;
        break;
    case ISOLATION_EXISTS:
        break; /* still end what runs: a call may have slipped in before */
    }
    /* New calls are refused from here on; then the ones in progress end. */
    struct b2bua_call_filter filter = { .account = is_account ? req->name : NULL,
                                        .trunk = is_account ? NULL : req->name };
    struct gw_calls_list ended = { .records = NULL };
    out->is_complete = gw_calls_run(gw, &filter, true, &ended);
    out->calls_ended = ended.total;
    if (is_account) {
        struct registrar_binding binding;
        out->had_binding = registrar_lookup(name, sw_wall_s(), &binding);
        registrar_remove(name);
    }
    return 0;
}

int gw_incident_run(struct gateway *gw, const struct gw_incident_request *req,
                    struct gw_incident_result *out)
{
    *out = (struct gw_incident_result){ .is_complete = true };
    size_t len = req->name != NULL ? strlen(req->name) : 0;
    if (len == 0 || len >= ISOLATION_NAME_CAP) {
        return -EINVAL;
    }
    bool is_known = is_configured(gw, req);
    enum isolation_kind kind = is_account_action(req->action) ? ISOLATION_ACCOUNT : ISOLATION_TRUNK;
    int rc = 0;
    if (is_hold_action(req->action) && !is_known) {
        return -ENOENT;
    }
    if (is_hold_action(req->action)) {
        rc = hold(gw, req, out);
    } else {
        out->is_changed = isolation_clear(kind, sv_from_cstr(req->name));
        rc = out->is_changed || is_known ? 0 : -ENOENT;
    }
    if (rc == 0 && out->is_changed) {
        emit_action(gw, req, out);
    }
    return rc;
}

/* ---- the control socket ------------------------------------------------------------ */

static bool parse_line(const char *line, struct gw_incident_request *req, char *name, size_t cap,
                       const char **reason)
{
    static const struct {
        const char *words;
        enum gw_incident_action action;
    } verbs[] = {
        { "account disable ", GW_ACCOUNT_DISABLE },
        { "account enable ", GW_ACCOUNT_ENABLE },
        { "trunk isolate ", GW_TRUNK_ISOLATE },
        { "trunk restore ", GW_TRUNK_RESTORE },
    };

    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        size_t n = strlen(verbs[i].words);
        if (strncmp(line, verbs[i].words, n) != 0) {
            continue;
        }
        const char *rest = line + n;
        size_t word = strcspn(rest, " \t");
        if (word == 0 || word >= cap) {
            return false;
        }
        memcpy(name, rest, word);
        name[word] = '\0';
        rest += word + strspn(rest + word, " \t");
        *reason = rest;
        req->action = verbs[i].action;
        return true;
    }
    return false;
}

void gw_incident_handle(struct gateway *gw, const char *line, char *out, size_t cap)
{
    struct gw_incident_request req = { .by = "operator (control socket)",
                                       .reader = GW_READER_CONTROL };
    char name[ISOLATION_NAME_CAP];
    if (!parse_line(line, &req, name, sizeof(name), &req.reason)) {
        (void)snprintf(out, cap,
                       "error: unknown request (account disable|enable NAME [REASON] | trunk "
                       "isolate|restore NAME [REASON])\n");
        return;
    }
    req.name = name;
    struct gw_incident_result res;
    int rc = gw_incident_run(gw, &req, &res);
    if (rc == -ENOENT) {
        (void)snprintf(out, cap, "error: no %s named %s\n",
                       is_account_action(req.action) ? "account" : "trunk", name);
    } else if (rc != 0) {
        (void)snprintf(out, cap, "error: %s\n",
                       rc == -ENOSPC ? "the incident table is full" : sw_strerror(rc));
    } else if (!res.is_complete) {
        (void)snprintf(out, cap, "ended %zu\nerror: a worker did not answer in time\n",
                       res.calls_ended);
    } else {
        (void)snprintf(out, cap, "ended %zu\n%sok\n", res.calls_ended,
                       res.is_changed ? "" : "unchanged\n");
    }
}
