#include "gateway/gateway_notify.h"

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-daemon.h>

#include "base/err.h"
#include "base/log.h"

void gw_notify(enum gw_notify_state state, unsigned workers)
{
    int rc = 0;
    switch (state) {
    case GW_NOTIFY_READY:
        rc = sd_notifyf(0, "READY=1\nSTATUS=serving with %u workers", workers);
        break;
    case GW_NOTIFY_RELOADING:
        rc = sd_notify(0, "RELOADING=1\nSTATUS=reloading");
        break;
    case GW_NOTIFY_STOPPING:
        rc = sd_notify(0, "STOPPING=1\nSTATUS=stopping");
        break;
    }
    if (rc < 0) {
        log_warn(NULL, "systemd: notify failed: %s", sw_strerror(rc));
    }
}

void gw_notify_watchdog(void)
{
    static bool is_checked;
    static bool is_enabled;
    if (!is_checked) {
        uint64_t usec = 0;
        is_enabled = sd_watchdog_enabled(0, &usec) > 0;
        is_checked = true;
        if (is_enabled) {
            log_notice(NULL, "systemd: watchdog every %llu ms", (unsigned long long)(usec / 1000));
        }
    }
    if (is_enabled) {
        (void)sd_notify(0, "WATCHDOG=1"); /* a lost ping shows as a watchdog restart */
    }
}
