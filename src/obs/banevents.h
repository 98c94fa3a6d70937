/*
 * Ban events: turns ban store changes into BanAdded / BanRemoved security events on an
 * event queue, so that every ban, lift and end appears in the security log (and in the
 * metrics) with its reason, offence number, source and end.
 *
 * The ban store tells its backends from whatever thread made the change (a worker, the
 * housekeeping thread, the Redis subscriber), while an event queue producer slot has a
 * single writer: pushes into the slot given here are serialized by a mutex. Bans are
 * rare next to packets, so the mutex costs nothing that matters; the push itself never
 * blocks (telemetry).
 *
 * Event fields: remote = the address (port 0), detail = "offence=2 source=auto
 * end=2026-11-27T15:30:01Z reason=InvalidPassword=3" (end "never" for a ban without end),
 * module = "ban". BanRemoved detail starts with "lifted" or "ended".
 *
 * Use: banevents_new(), then ban_store_attach(store, &banevents_ops, be); the store
 * closes it. The queue must outlive the store.
 */
#ifndef SW_OBS_BANEVENTS_H
#define SW_OBS_BANEVENTS_H

#include "obs/evq.h"
#include "state/ban.h"

struct banevents;

/* The backend operations to attach. */
extern const struct ban_store_ops banevents_ops;

/* Pushes into `queue` as producer `producer`, which nothing else may use. 0 or -ENOMEM. */
int banevents_new(struct evq *queue, unsigned producer, struct banevents **out);

/* Fills `event` for a change (pure; exposed for tests). */
void banevents_fill(enum ban_change change, const struct ban_entry *entry, struct sw_event *event);

#endif
