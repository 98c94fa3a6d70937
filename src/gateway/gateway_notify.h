/*
 * Private to src/gateway: the service manager's protocol (sd_notify(3), libsystemd) for
 * dist/sipwarden.service (Type=notify): READY once the workers serve, RELOADING/READY
 * around a SIGHUP reload, STOPPING at a stop, and a watchdog ping from the main loop
 * (WatchdogSec=: a main thread stuck for that long gets the daemon restarted). Every
 * call is a no-op when the daemon was not started by systemd (no NOTIFY_SOCKET).
 * Main thread only.
 */
#ifndef SW_GATEWAY_GATEWAY_NOTIFY_H
#define SW_GATEWAY_GATEWAY_NOTIFY_H

enum gw_notify_state {
    GW_NOTIFY_READY,
    GW_NOTIFY_RELOADING,
    GW_NOTIFY_STOPPING,
};

/* Tells the service manager the state; `workers` goes into the status line. */
void gw_notify(enum gw_notify_state state, unsigned workers);

/* Pings the watchdog when the unit has one; cheap enough for every loop turn. */
void gw_notify_watchdog(void);

#endif
