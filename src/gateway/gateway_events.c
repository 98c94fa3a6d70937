/*
 * Events go to the operational log at info level for now.
 * TODO(#3): route them through obs/ (security log, ban store, metrics) once it lands.
 */
#include "base/addr.h"
#include "base/log.h"
#include "gateway/gateway_int.h"

static void log_event(void *ctx, const struct sw_event *event)
{
    (void)ctx;
    char remote[SW_ADDR_STRLEN];
    sw_sockaddr_format(&event->remote, remote, sizeof(remote));
    log_info(NULL, "event %s remote=%s session=%.64s detail=%.128s",
             sw_event_kind_name(event->kind), remote, event->session, event->detail);
}

void gw_events_init(struct gateway *gw)
{
    gw->events.emit = log_event;
    gw->events.ctx = gw;
}
